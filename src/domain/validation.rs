//! Checks on store data pushed by the platform or imported, before anything is written.

use super::catalogue::ProductAspect;
use super::orders::{Customer, Order, Product};
use super::parse::email;

fn required(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} is required"));
    }
    if value.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!("{field} contains control characters"));
    }
    Ok(())
}

fn valid_email(value: &str) -> Result<(), String> {
    required("email", value, 254)?;
    match email(value) {
        Some(found) if found == value.trim().to_lowercase() => Ok(()),
        _ => Err(format!("email {value:?} is not an email address")),
    }
}

pub fn currency(value: &str) -> Result<(), String> {
    if value.len() == 3 && value.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!("currency {value:?} must be a three-letter code such as EUR"))
    }
}

/// A customer known only by phone (a platform allows it) has no email.
pub fn validate_customer(c: &Customer) -> Result<(), String> {
    required("id", &c.id, 100)?;
    if c.email.is_empty() {
        return Ok(());
    }
    required("name", &c.name, 200)?;
    valid_email(&c.email)
}

pub fn validate_product(p: &Product) -> Result<(), String> {
    required("sku", &p.sku, 100)?;
    required("name", &p.name, 300)?;
    if p.price_cents < 0 {
        return Err("price_cents must not be negative".into());
    }
    for (field, value, max) in [("product", &p.product, 300), ("size", &p.size, 100), ("colour", &p.colour, 100)] {
        if let Some(v) = value {
            required(field, v, max)?;
        }
    }
    if p.restock_at.is_some_and(|at| at < 0) {
        return Err("restock_at must be a Unix time in milliseconds".into());
    }
    for aspect in ProductAspect::ALL {
        if let Some(text) = p.details.get(*aspect).filter(|t| t.chars().count() > 2000) {
            return Err(format!("details.{aspect} is {} characters long; the limit is 2000", text.chars().count()));
        }
    }
    currency(&p.currency)
}

pub fn validate_order(o: &Order) -> Result<(), String> {
    required("number", &o.number, 64)?;
    if o.number.starts_with('#') || o.number.contains(char::is_whitespace) {
        return Err(format!("order number {:?} must not contain spaces or start with #", o.number));
    }
    // A registered customer's order, or a platform's order (from a till, say), may come
    // without an email: it is found through the customer, never through an email address.
    if !(o.email.is_empty() && (o.customer_id.is_some() || o.origin.is_some())) {
        valid_email(&o.email)?;
    }
    currency(&o.currency)?;
    if o.total_cents < 0 {
        return Err("total_cents must not be negative".into());
    }
    if o.items.is_empty() {
        return Err("an order needs at least one item".into());
    }
    for (i, item) in o.items.iter().enumerate() {
        required(&format!("items[{i}].sku"), &item.sku, 100)?;
        required(&format!("items[{i}].name"), &item.name, 300)?;
        if item.quantity <= 0 || item.unit_price_cents < 0 {
            return Err(format!("items[{i}]: quantity must be positive and unit_price_cents not negative"));
        }
    }
    for (i, s) in o.shipments.iter().enumerate() {
        required(&format!("shipments[{i}].carrier"), &s.carrier, 100)?;
        // A parcel may have no tracking link (only a number, or nothing yet).
        if !(s.tracking_url.is_empty()
            || s.tracking_url.starts_with("https://")
            || s.tracking_url.starts_with("http://"))
        {
            return Err(format!("shipments[{i}].tracking_url must be an http(s) link"));
        }
    }
    let refunded: i64 = o.refunds.iter().map(|r| r.amount_cents).sum();
    if o.refunds.iter().any(|r| r.amount_cents <= 0) || refunded > o.total_cents {
        return Err("refund amounts must be positive and not exceed the order total".into());
    }
    Ok(())
}

/// The store API requires `updated_at` on every item: without it, an update that arrives late
/// could not be told from a newer one.
pub fn require_updated_at(updated_at: Option<i64>) -> Result<(), String> {
    match updated_at {
        Some(_) => Ok(()),
        None => Err("updated_at is required: when the store last changed this item, as an RFC 3339 time such as 2025-03-01T12:00:00Z".into()),
    }
}

/// How far (seconds, either way) a signed request's timestamp may be from the server's clock.
/// A captured request can be replayed only within this window; beyond it, its delivery id
/// has long been recorded.
pub const SIGNATURE_WINDOW_SECS: i64 = 5 * 60;

/// The Unix time (seconds) of a signed request, if it is within the window around `now`.
pub fn signed_timestamp(header: &str, now: i64) -> Result<i64, String> {
    let at: i64 = header
        .trim()
        .parse()
        .map_err(|_| format!("X-Switchboard-Timestamp {header:?} is not a Unix time in seconds (such as {now})"))?;
    let skew = at.saturating_sub(now);
    if skew.abs() > SIGNATURE_WINDOW_SECS {
        let (how, far) = if skew < 0 { ("old", -skew) } else { ("far in the future", skew) };
        return Err(format!(
            "X-Switchboard-Timestamp is {far} seconds {how}; it must be within {SIGNATURE_WINDOW_SECS} seconds of the server's clock ({now}). Sign each request when you send it, and check the sender's clock"
        ));
    }
    Ok(at)
}

/// A delivery id names one delivery, however often it is sent: 1 to 200 printable ASCII
/// characters, such as a UUID.
pub fn validate_delivery_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 200 || !id.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Err(
            "X-Switchboard-Delivery-Id must be 1 to 200 printable ASCII characters, the same for every retry of one delivery (a UUID, say)".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_740_830_400;

    #[test]
    fn a_timestamp_within_five_minutes_either_way_is_accepted() {
        assert_eq!(signed_timestamp("1740830400", NOW), Ok(NOW));
        assert!(signed_timestamp(&(NOW - 300).to_string(), NOW).is_ok());
        assert!(signed_timestamp(&(NOW + 300).to_string(), NOW).is_ok());
    }

    #[test]
    fn an_old_or_future_timestamp_is_refused_with_the_reason() {
        let old = signed_timestamp(&(NOW - 301).to_string(), NOW).unwrap_err();
        assert!(old.contains("301 seconds old"), "{old}");
        let future = signed_timestamp(&(NOW + 3600).to_string(), NOW).unwrap_err();
        assert!(future.contains("3600 seconds far in the future"), "{future}");
        assert!(signed_timestamp("2025-03-01T12:00:00Z", NOW).unwrap_err().contains("Unix time in seconds"));
        assert!(signed_timestamp("", NOW).is_err());
    }

    #[test]
    fn a_delivery_id_is_short_printable_ascii() {
        assert!(validate_delivery_id("3f0c2a9e-6d1b-4c1e-9a53-2a7d8c0e1f42").is_ok());
        assert!(validate_delivery_id("").is_err());
        assert!(validate_delivery_id(&"x".repeat(201)).is_err());
        assert!(validate_delivery_id("caf\u{e9}").is_err());
        assert!(validate_delivery_id("a\tb").is_err());
    }

    #[test]
    fn the_store_api_requires_updated_at() {
        assert!(require_updated_at(Some(0)).is_ok());
        assert!(require_updated_at(None).unwrap_err().contains("RFC 3339"));
    }
}
