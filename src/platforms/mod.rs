//! Shopify's and WooCommerce's own JSON (their webhooks and their REST API's pages), mapped
//! onto the store's customers, products and orders. Pure: no I/O; the integration applies
//! what a payload changes in one transaction.

pub mod shopify;
pub mod woocommerce;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::domain::orders::{Customer, Order, Platform, Product, Refund, Shipment};

/// What one delivery, or one page of an export, changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreChanges {
    pub customers: Vec<Customer>,
    pub products: Vec<Product>,
    /// Products as the platform lists them now: any other stored variant of the product is no
    /// longer sold (a deleted product lists none).
    pub listings: Vec<ListedVariants>,
    pub orders: Vec<Order>,
    /// A fulfillment of an order already stored, by the order's platform id (`None`: it was
    /// cancelled, and its shipment leaves the order).
    pub shipments: Vec<OrderPart<Option<Shipment>>>,
    pub refunds: Vec<OrderPart<Refund>>,
}

impl StoreChanges {
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
            && self.products.is_empty()
            && self.listings.is_empty()
            && self.orders.is_empty()
            && self.shipments.is_empty()
            && self.refunds.is_empty()
    }

    /// Adds another page's changes.
    pub fn extend(&mut self, other: StoreChanges) {
        self.customers.extend(other.customers);
        self.products.extend(other.products);
        self.listings.extend(other.listings);
        self.orders.extend(other.orders);
        self.shipments.extend(other.shipments);
        self.refunds.extend(other.refunds);
    }
}

/// The variants a platform lists for one of its products, as of `at` (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedVariants {
    pub platform: Platform,
    pub product_id: String,
    pub variant_ids: Vec<String>,
    pub at: i64,
}

/// A part of an order that arrives on its own: the order's platform id, the part, and when
/// the platform changed it (Unix ms). `key` is the part's own id on the platform (a
/// fulfillment's, a refund's), so a repeat replaces rather than adds.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderPart<T> {
    pub platform: Platform,
    pub order_id: String,
    pub key: String,
    pub part: T,
    pub at: i64,
}

/// A deletion: the id and nothing else (a product body relabelled as a deletion is refused).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Deleted {
    #[serde(deserialize_with = "id")]
    id: String,
}

/// A payload that does not read as the platform's JSON: the field (a path such as
/// `line_items[0].price`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct MappingError {
    pub field: String,
    pub reason: String,
}

impl MappingError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// Reads `body` as `T`, naming the field that does not fit.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, MappingError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let reason = inner.to_string();
        // serde_json ends its messages with the position; the field says where.
        let reason = reason.split(" at line ").next().unwrap_or(&reason).to_string();
        let missing = reason.strip_prefix("missing field `").and_then(|r| r.split('`').next());
        let field = match (missing, field.as_str()) {
            (Some(name), ".") => name.to_string(),
            (Some(name), path) => format!("{path}.{name}"),
            (None, ".") => "body".to_string(),
            (None, _) => field,
        };
        MappingError::new(field, reason)
    })
}

/// An id the platform writes as a number (or, in some places, a string).
pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    match Id::deserialize(d)? {
        Id::Number(n) => Ok(n.to_string()),
        Id::Text(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        Id::Text(_) => Err(serde::de::Error::custom("an id is required")),
    }
}

/// A nullable id.
pub fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0).filter(|id| id != "0"))
}

/// A price the platform writes as a decimal string ("199.00") or number (21.99), in minor units.
pub fn money<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Amount {
        Number(f64),
        Text(String),
    }
    let cents = match Amount::deserialize(d)? {
        Amount::Number(n) => Some((n * 100.0).round() as i64),
        Amount::Text(t) if t.trim().is_empty() => Some(0),
        Amount::Text(t) => cents(&t),
    };
    cents.ok_or_else(|| serde::de::Error::custom("expected an amount such as \"19.99\""))
}

/// "19.99" → 1999; "-10.00" → -1000; "5" → 500.
pub fn cents(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut fraction = fraction.to_string();
    fraction.truncate(2);
    while fraction.len() < 2 {
        fraction.push('0');
    }
    let value = whole.checked_mul(100)?.checked_add(fraction.parse::<i64>().ok()?)?;
    Some(if negative { -value } else { value })
}

/// A time as the platforms write it, in Unix ms: RFC 3339 with an offset (Shopify), or
/// WooCommerce's `_gmt` fields, which are UTC without one ("2017-03-22T16:28:02").
pub fn time(text: &str) -> Option<i64> {
    let text = text.trim();
    crate::domain::orders::updated_at::parse(text).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc().timestamp_millis())
    })
}

/// A required time field, naming the field when it does not read.
pub fn required_time(field: &str, text: &str) -> Result<i64, MappingError> {
    time(text).ok_or_else(|| MappingError::new(field, format!("{text:?} is not a time such as 2025-03-01T12:00:00Z")))
}

/// The SKU an item is known by: its own, else `<platform>-<id>` of the variant or product, else
/// `<platform>-line-<id>` of the order line (the same in orders and in the catalogue).
fn sku(platform: Platform, sku: Option<&str>, id: Option<&str>, line_id: &str) -> String {
    match (present(sku), id) {
        (Some(sku), _) => sku.to_string(),
        (None, Some(id)) => format!("{platform}-{id}"),
        (None, None) => format!("{platform}-line-{line_id}"),
    }
}

/// An address on one line, from the parts there are.
fn one_line(parts: &[&Option<String>]) -> String {
    parts.iter().filter_map(|p| present(p.as_deref())).collect::<Vec<_>>().join(", ")
}

/// A customer as both platforms describe one: named by their email when they gave no name.
fn customer(
    id: &str,
    email: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
    updated: (&str, Option<&str>),
) -> Result<Customer, MappingError> {
    let email = present(email).unwrap_or("").to_lowercase();
    let name = full_name(first, last);
    let (field, updated_at) = updated;
    Ok(Customer {
        id: id.to_string(),
        name: if name.is_empty() { email.clone() } else { name },
        email,
        updated_at: updated_at.map(|t| required_time(field, t)).transpose()?,
    })
}

/// Text that is not just whitespace.
fn present(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// "Ada Lovelace", from whichever of the parts there are.
fn full_name(first: Option<&str>, last: Option<&str>) -> String {
    [present(first), present(last)].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_minor_units() {
        assert_eq!(cents("199.00"), Some(19900));
        assert_eq!(cents("19.9"), Some(1990));
        assert_eq!(cents("-10.00"), Some(-1000));
        assert_eq!(cents("5"), Some(500));
        assert_eq!(cents("0.125"), Some(12));
        assert_eq!(cents("abc"), None);
        assert_eq!(cents(""), None);
    }

    #[test]
    fn times_read_with_an_offset_or_as_utc_without_one() {
        assert_eq!(time("2025-03-01T13:00:00+01:00"), Some(1_740_830_400_000));
        assert_eq!(time("2025-03-01T12:00:00"), Some(1_740_830_400_000));
        assert_eq!(time("yesterday"), None);
    }

    #[test]
    fn a_payload_that_does_not_fit_names_the_field() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Line {
            #[serde(deserialize_with = "money")]
            price: i64,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Order {
            line_items: Vec<Line>,
        }
        let e = parse::<Order>(br#"{"line_items": [{"price": "1.00"}, {"price": "free"}]}"#).unwrap_err();
        assert_eq!(e.field, "line_items[1].price");
        let e = parse::<Order>(br#"{}"#).unwrap_err();
        assert_eq!(e.field, "line_items", "{e}");
        let e = parse::<Order>(br#"{"line_items": [{}]}"#).unwrap_err();
        assert_eq!(e.field, "line_items[0].price", "{e}");
    }
}
