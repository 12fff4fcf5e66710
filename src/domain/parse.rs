//! Finding an order number, an email address or a yes / no in what a shopper typed.

use std::sync::LazyLock;

use regex::Regex;

static ORDER_EXPLICIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:#\s*|\border\s*(?:no\.?|nr\.?|num(?:ber)?|id)?\s*[:#]?\s*|\bnumber\s*[:#]?\s*)([A-Z]{0,4}-?\d{3,12})\b").expect("valid regex")
});
static ORDER_BARE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(\d{4,12})\b").expect("valid regex"));
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}\b").expect("valid regex"));

/// The order number in a message, in any common form: `#1042`, `order 1042`, `order no. 1042`,
/// or a bare number of four or more digits that is not a year or part of a date.
pub fn order_number(text: &str) -> Option<String> {
    if let Some(c) = ORDER_EXPLICIT.captures(text) {
        return Some(normalise_order_number(&c[1]));
    }
    ORDER_BARE
        .captures_iter(text)
        .map(|c| c.get(1).expect("group 1"))
        .find(|m| {
            let v = m.as_str();
            let looks_like_year = v.len() == 4 && (v.starts_with("19") || v.starts_with("20"));
            let in_date = text[..m.start()].ends_with(['/', '.', '-']) || text[m.end()..].starts_with(['/', '.', '-']);
            !looks_like_year && !in_date
        })
        .map(|m| normalise_order_number(m.as_str()))
}

/// Upper-cases and strips `#` and spaces, so `#1042`, ` 1042` and `1042` are the same order.
pub fn normalise_order_number(raw: &str) -> String {
    raw.trim().trim_start_matches('#').trim().to_uppercase()
}

/// The first email address in a message, trimmed and lower-cased.
pub fn email(text: &str) -> Option<String> {
    EMAIL.find(text).map(|m| normalise_email(m.as_str()))
}

pub fn normalise_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A duration written as a whole number and a unit: `500ms`, `2s`, `30m`, `12h` or `7d`.
pub fn duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 =
        number.parse().map_err(|_| format!("{text:?} is not a duration: write a number and a unit, like 30m or 2s"))?;
    let millis = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => return Err(format!("unknown unit {other:?} in {text:?}: use ms, s, m, h or d")),
    };
    n.checked_mul(millis).map(std::time::Duration::from_millis).ok_or_else(|| format!("{text:?} is too long"))
}

/// A clear yes or no, for confirmations typed instead of clicked.
pub fn yes_or_no(text: &str) -> Option<bool> {
    let t = super::text::normalise(text);
    const YES: [&str; 14] = [
        "yes",
        "y",
        "yes please",
        "yep",
        "yeah",
        "sure",
        "ok",
        "okay",
        "confirm",
        "go ahead",
        "do it",
        "yes do it",
        "please do",
        "correct",
    ];
    const NO: [&str; 10] =
        ["no", "n", "nope", "no thanks", "no thank you", "cancel", "dont", "stop", "never mind", "not now"];
    if YES.contains(&t.as_str()) {
        Some(true)
    } else if NO.contains(&t.as_str()) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_numbers_in_every_common_form() {
        for text in
            ["where is #1042", "order 1042 pls", "Order no. 1042?", "order number: 1042", "it's 1042", "ORDER #1042"]
        {
            assert_eq!(order_number(text).as_deref(), Some("1042"), "{text}");
        }
        assert_eq!(order_number("my order A-10482 is late").as_deref(), Some("A-10482"));
    }

    #[test]
    fn years_dates_and_small_numbers_are_not_order_numbers() {
        assert_eq!(order_number("ordered in 2024"), None);
        assert_eq!(order_number("since 12/10/2025"), None);
        assert_eq!(order_number("I bought 3 shirts"), None);
    }

    #[test]
    fn email_is_found_anywhere_and_lower_cased() {
        assert_eq!(email("it's  Jane.Doe+shop@Example.COM thanks").as_deref(), Some("jane.doe+shop@example.com"));
        assert_eq!(email("no address here"), None);
    }

    #[test]
    fn yes_and_no() {
        assert_eq!(yes_or_no("Yes please!"), Some(true));
        assert_eq!(yes_or_no("nope"), Some(false));
        assert_eq!(yes_or_no("yes but change the size"), None);
    }

    #[test]
    fn durations_need_a_number_and_a_unit() {
        use std::time::Duration;
        assert_eq!(duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(duration("30").unwrap_err().contains("unknown unit"));
        assert!(duration("m").is_err() && duration("-2s").is_err() && duration("2 weeks").is_err());
    }
}
