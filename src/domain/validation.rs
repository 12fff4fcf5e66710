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

fn currency(value: &str) -> Result<(), String> {
    if value.len() == 3 && value.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!("currency {value:?} must be a three-letter code such as EUR"))
    }
}

pub fn validate_customer(c: &Customer) -> Result<(), String> {
    required("id", &c.id, 100)?;
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
    valid_email(&o.email)?;
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
        if !(s.tracking_url.starts_with("https://") || s.tracking_url.starts_with("http://")) {
            return Err(format!("shipments[{i}].tracking_url must be an http(s) link"));
        }
    }
    let refunded: i64 = o.refunds.iter().map(|r| r.amount_cents).sum();
    if o.refunds.iter().any(|r| r.amount_cents <= 0) || refunded > o.total_cents {
        return Err("refund amounts must be positive and not exceed the order total".into());
    }
    Ok(())
}
