//! Country names in shoppers' words ("the states", "holland", "deutschland"), so that a
//! question about delivery abroad can be answered for the country it names.

use super::text::normalise;

/// Each country's name as replies write it, then other names shoppers use (lower case).
const COUNTRIES: &[(&str, &[&str])] = &[
    ("United Kingdom", &["uk", "u k", "great britain", "britain", "england", "scotland", "wales", "northern ireland"]),
    ("Ireland", &["eire", "republic of ireland"]),
    ("United States", &["usa", "u s a", "the us", "the u s", "america", "the states", "united states of america"]),
    ("Canada", &[]),
    ("Mexico", &[]),
    ("Brazil", &["brasil"]),
    ("Argentina", &[]),
    ("Chile", &[]),
    ("Colombia", &[]),
    ("Peru", &[]),
    ("France", &[]),
    ("Germany", &["deutschland"]),
    ("Netherlands", &["holland", "the netherlands"]),
    ("Belgium", &[]),
    ("Luxembourg", &[]),
    ("Spain", &["espana", "españa"]),
    ("Portugal", &[]),
    ("Italy", &["italia"]),
    ("Switzerland", &["swiss"]),
    ("Austria", &[]),
    ("Denmark", &[]),
    ("Sweden", &[]),
    ("Norway", &[]),
    ("Finland", &[]),
    ("Iceland", &[]),
    ("Poland", &[]),
    ("Czech Republic", &["czechia"]),
    ("Slovakia", &[]),
    ("Hungary", &[]),
    ("Romania", &[]),
    ("Bulgaria", &[]),
    ("Greece", &[]),
    ("Cyprus", &[]),
    ("Malta", &[]),
    ("Croatia", &[]),
    ("Slovenia", &[]),
    ("Serbia", &[]),
    ("Estonia", &[]),
    ("Latvia", &[]),
    ("Lithuania", &[]),
    ("Ukraine", &[]),
    ("Turkey", &["turkiye", "türkiye"]),
    ("Israel", &[]),
    ("United Arab Emirates", &["uae", "dubai", "abu dhabi", "emirates"]),
    ("Saudi Arabia", &[]),
    ("Qatar", &[]),
    ("Egypt", &[]),
    ("Morocco", &[]),
    ("Nigeria", &[]),
    ("Kenya", &[]),
    ("South Africa", &[]),
    ("India", &[]),
    ("Pakistan", &[]),
    ("China", &[]),
    ("Hong Kong", &[]),
    ("Taiwan", &[]),
    ("Japan", &[]),
    ("South Korea", &["korea"]),
    ("Singapore", &[]),
    ("Malaysia", &[]),
    ("Thailand", &[]),
    ("Vietnam", &["viet nam"]),
    ("Indonesia", &[]),
    ("Philippines", &[]),
    ("Australia", &["oz"]),
    ("New Zealand", &["nz"]),
];

/// The first country a text names, as replies write it.
pub fn named_in(text: &str) -> Option<&'static str> {
    let padded = format!(" {} ", normalise(text));
    let position = |name: &str| padded.find(&format!(" {} ", normalise(name)));
    COUNTRIES
        .iter()
        .filter_map(|(name, others)| {
            std::iter::once(*name).chain(others.iter().copied()).filter_map(position).min().map(|at| (at, *name))
        })
        .min_by_key(|(at, _)| *at)
        .map(|(_, name)| name)
}

/// A store's own spelling of a country ("UK", "USA") as replies write it, if known.
pub fn canonical(name: &str) -> Option<&'static str> {
    let wanted = normalise(name);
    COUNTRIES
        .iter()
        .find(|(n, others)| normalise(n) == wanted || others.iter().any(|o| normalise(o) == wanted))
        .map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_found_by_any_of_their_names() {
        assert_eq!(named_in("do you ship to canada?"), Some("Canada"));
        assert_eq!(named_in("shipping to the states how much"), Some("United States"));
        assert_eq!(named_in("can u send to holland"), Some("Netherlands"));
        assert_eq!(named_in("customs charges for new zealand?"), Some("New Zealand"));
        assert_eq!(named_in("from germany, do you deliver to austria"), Some("Germany"), "the first named");
        assert_eq!(named_in("send it to us please"), None, "a pronoun is not a country");
        assert_eq!(named_in("how long does delivery take"), None);
    }

    #[test]
    fn a_stores_spelling_is_understood() {
        assert_eq!(canonical("UK"), Some("United Kingdom"));
        assert_eq!(canonical("USA"), Some("United States"));
        assert_eq!(canonical("Atlantis"), None);
    }
}
