//! Masking personal data before a shopper's message becomes a training example: email
//! addresses (in any script), card and phone numbers, postal addresses and postcodes, order
//! numbers, and the names of customers the store knows. What remains keeps the phrasing.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};

fn regex(pattern: &str) -> Regex {
    RegexBuilder::new(pattern).case_insensitive(true).build().expect("a valid masking pattern")
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| regex(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)*\.\w{2,}"));
static CARD: LazyLock<Regex> = LazyLock::new(|| regex(r"\b(?:\d[ -]?){12,18}\d\b"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| regex(r"(?:\+|\b00)?\(?\d[\d ()./-]{6,}\d\b"));
/// Street suffixes in the languages stores here sell in.
const STREETS: &str = "street|st|road|rd|avenue|ave|lane|ln|drive|dr|way|close|court|ct|place|pl|boulevard|blvd|crescent|cres|terrace|square|sq|wharf|gardens|grove|hill|park|row|walk|mews|parade|strasse|straße|str|weg|gasse|platz|allee|rue|avenida|via|calle|plaza|laan|straat|gracht";
/// "Flat 3, 17 Canary Wharf Road", "221B Baker Street", "12 rue de la Paix", "Hauptstraße 5".
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    let flat = r"(?:\b(?:flat|apt|apartment|unit|suite|apartamento|wohnung)\.?\s*\w+,?\s*)?";
    let number = r"\b\d{1,5}[a-z]?,?\s+";
    let romance = r"(?:rue|avenue|av|chemin|allée|place|via|viale|piazza|calle|avenida|plaza)\s+(?:[\p{L}'-]+\s*){1,4}";
    let english = format!(r"(?:[\p{{L}}'.-]+\s+){{0,4}}(?:{STREETS})\b\.?");
    let german = format!(r"\b[\p{{L}}'-]+(?:{STREETS})\s+\d{{1,5}}[a-z]?\b");
    regex(&format!("{flat}(?:{number}(?:{romance}|{english})|{german})"))
});
/// UK, Canadian and Dutch postcodes (digit-only ones are caught as numbers below).
static POSTCODE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b(?:[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}|[a-z]\d[a-z]\s?\d[a-z]\d|\d{4}\s?[a-z]{2})\b"));
static ORDER: LazyLock<Regex> = LazyLock::new(|| regex(r"#?\b[a-z]{0,4}-?\d{3,12}\b"));

/// Masks `text`; `known_names` are the names of the store's customers the text may mention
/// (full names in any case; a surname in any case; a first name only when written with a
/// capital, so "I will" stays when a customer is called Will).
pub fn mask_personal_data(text: &str, known_names: &[String]) -> String {
    let text = EMAIL.replace_all(text, "[email]");
    let text = CARD.replace_all(&text, "[card]");
    let text = ADDRESS.replace_all(&text, "[address]");
    let text = POSTCODE.replace_all(&text, "[postcode]");
    let text = PHONE.replace_all(&text, "[phone]");
    let text = ORDER.replace_all(&text, "[order]").into_owned();
    mask_names(&text, known_names)
}

/// The words of `text` that may be part of a customer's name, for looking names up.
pub fn name_candidates(text: &str) -> Vec<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphabetic() && c != '\'' && c != '-')
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect();
    words.sort();
    words.dedup();
    words
}

fn mask_names(text: &str, known_names: &[String]) -> String {
    let mut out = text.to_string();
    let mut names: Vec<&String> = known_names.iter().filter(|n| !n.trim().is_empty()).collect();
    // Full names first, longest first, so "Alex Morgan" goes before "Alex".
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for name in &names {
        out = replace_words(&out, name.trim(), false);
    }
    for name in &names {
        let parts: Vec<&str> = name.split_whitespace().filter(|p| p.chars().count() >= 3).collect();
        if let Some((last, rest)) = parts.split_last() {
            if !rest.is_empty() {
                out = replace_words(&out, last, false);
            }
            for first in rest {
                out = replace_words(&out, first, true);
            }
            if rest.is_empty() {
                out = replace_words(&out, last, true);
            }
        }
    }
    out
}

/// Replaces whole-word occurrences of `word` (case-insensitive) with `[name]`; with
/// `capitalised`, only where the text writes it with a capital.
fn replace_words(text: &str, word: &str, capitalised: bool) -> String {
    let pattern = format!(r"(?i)\b{}\b", regex::escape(word));
    let Ok(re) = Regex::new(&pattern) else {
        return text.to_string();
    };
    re.replace_all(text, |c: &regex::Captures| {
        let found = &c[0];
        if capitalised && !found.chars().next().is_some_and(char::is_uppercase) {
            found.to_string()
        } else {
            "[name]".to_string()
        }
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(text: &str) -> String {
        mask_personal_data(text, &[])
    }

    #[test]
    fn emails_cards_phones_and_order_numbers_are_masked() {
        let masked = mask("I'm jo@x.com, card 4111 1111 1111 1111, call +44 20 7946 0000 about #10042");
        assert_eq!(masked, "I'm [email], card [card], call [phone] about [order]");
    }

    #[test]
    fn emails_in_any_script_are_masked_whole() {
        assert_eq!(mask("write to kévin.dupré@exämple.fr please"), "write to [email] please");
        assert_eq!(mask("Kéa@mail.com"), "[email]");
        assert_eq!(mask("почта иван@пример.рф"), "почта [email]");
    }

    #[test]
    fn postal_addresses_and_postcodes_are_masked() {
        assert_eq!(mask("send it to 221B Baker Street, London NW1 6XE"), "send it to [address], London [postcode]");
        assert_eq!(mask("Flat 3, 17 Canary Wharf Road"), "[address]");
        assert_eq!(mask("I moved to 12 rue de la Paix"), "I moved to [address]");
        assert_eq!(mask("new address Hauptstraße 5, 10115 Berlin"), "new address [address], [order] Berlin");
        assert_eq!(mask("postcode is m5v 2t6"), "postcode is [postcode]");
    }

    #[test]
    fn known_customer_names_are_masked_but_everyday_words_stay() {
        let names = vec!["Alex Morgan".to_string(), "Will Turner".to_string()];
        let masked = mask_personal_data("hi this is alex morgan, Morgan again. I will ask Will", &names);
        assert_eq!(masked, "hi this is [name], [name] again. I will ask [name]");
        assert_eq!(mask_personal_data("Hi, Alex here", &names), "Hi, [name] here");
    }

    #[test]
    fn phrasing_without_personal_data_is_left_alone() {
        for text in ["where is my order", "can I pay with PayPal?", "it arrived 3 days late", "size 42 please"] {
            assert_eq!(mask(text), text);
        }
    }

    #[test]
    fn name_candidates_are_the_longer_words_lower_cased() {
        assert_eq!(name_candidates("Hi, I'm Alex O'Neil-Smith!"), ["alex", "i'm", "o'neil-smith"]);
    }
}
