//! The store's order data and how its states read to a shopper.

use serde::{Deserialize, Serialize};

use super::catalogue::ProductDetails;

/// An order's state. One table maps each to the wording shoppers see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    AwaitingPayment,
    Ordered,
    Paid,
    Packed,
    Shipped,
    InTransit,
    OutForDelivery,
    Delivered,
    DeliveryFailed,
    Cancelled,
    Refunded,
    PartiallyRefunded,
}

/// (status, stored name, what it means for the shopper: the end of "Order #1042 (placed …): …").
const STATUS_TABLE: [(OrderStatus, &str, &str); 12] = [
    (
        OrderStatus::AwaitingPayment,
        "awaiting_payment",
        "we're waiting for your payment, and it ships once that's done.",
    ),
    (OrderStatus::Ordered, "ordered", "we've received it and will start preparing it soon."),
    (OrderStatus::Paid, "paid", "it's paid and we're preparing it."),
    (OrderStatus::Packed, "packed", "it's packed and ready to ship."),
    (OrderStatus::Shipped, "shipped", "it has shipped."),
    (OrderStatus::InTransit, "in_transit", "it's on its way."),
    (OrderStatus::OutForDelivery, "out_for_delivery", "it's out for delivery today."),
    (OrderStatus::Delivered, "delivered", "it has been delivered."),
    (
        OrderStatus::DeliveryFailed,
        "delivery_failed",
        "the carrier tried to deliver it but couldn't. They usually try again or leave a note saying where to collect it.",
    ),
    (OrderStatus::Cancelled, "cancelled", "it was cancelled."),
    (OrderStatus::Refunded, "refunded", "it has been refunded."),
    (OrderStatus::PartiallyRefunded, "partially_refunded", "part of it has been refunded."),
];

impl OrderStatus {
    pub const ALL: [OrderStatus; 12] = [
        OrderStatus::AwaitingPayment,
        OrderStatus::Ordered,
        OrderStatus::Paid,
        OrderStatus::Packed,
        OrderStatus::Shipped,
        OrderStatus::InTransit,
        OrderStatus::OutForDelivery,
        OrderStatus::Delivered,
        OrderStatus::DeliveryFailed,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
        OrderStatus::PartiallyRefunded,
    ];

    fn row(self) -> &'static (OrderStatus, &'static str, &'static str) {
        STATUS_TABLE.iter().find(|(s, _, _)| *s == self).unwrap_or(&STATUS_TABLE[0])
    }

    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// What the status means for the shopper, as the end of a sentence about the order.
    pub fn customer_facing(self) -> &'static str {
        self.row().2
    }

    pub fn parse(name: &str) -> Option<OrderStatus> {
        STATUS_TABLE.iter().find(|(_, n, _)| *n == name).map(|(s, _, _)| *s)
    }

    /// Not yet handed to a carrier: can still be cancelled or re-addressed by the store.
    pub fn before_shipping(self) -> bool {
        matches!(self, OrderStatus::AwaitingPayment | OrderStatus::Ordered | OrderStatus::Paid | OrderStatus::Packed)
    }

    /// With a carrier now.
    pub fn in_delivery(self) -> bool {
        matches!(
            self,
            OrderStatus::Shipped | OrderStatus::InTransit | OrderStatus::OutForDelivery | OrderStatus::DeliveryFailed
        )
    }

    /// Where a parcel's carrier status ("in_transit", "delivered", ...) puts its order.
    pub fn of_shipment(status: &str) -> OrderStatus {
        match status {
            "delivered" => OrderStatus::Delivered,
            "out_for_delivery" => OrderStatus::OutForDelivery,
            "in_transit" => OrderStatus::InTransit,
            "failure" | "attempted_delivery" | "delivery_failed" => OrderStatus::DeliveryFailed,
            _ => OrderStatus::Shipped,
        }
    }

    /// Still on its way to the shopper (not delivered, cancelled or refunded).
    pub fn is_open(self) -> bool {
        self.before_shipping() || self.in_delivery()
    }
}

named_enum! {
    pub enum Availability {
        InStock = "in_stock",
        OutOfStock = "out_of_stock",
        Discontinued = "discontinued",
    }
}

named_enum! {
    /// The e-commerce platform a store runs on, when its data comes from the platform's own
    /// webhooks or exports rather than the store API.
    pub enum Platform {
        Shopify = "shopify",
        WooCommerce = "woocommerce",
    }
}

/// Where a product variant lives on the store's platform: the product it belongs to there,
/// and the id a cart link names it by (Shopify's variant id; WooCommerce's product id, or the
/// variation id of a variable product).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub platform: Platform,
    pub product_id: String,
    pub variant_id: String,
}

/// An order's own id on its platform, which its fulfillments and refunds refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub platform: Platform,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub name: String,
    /// When the store last changed it (see [`updated_at`]).
    #[serde(default, with = "updated_at", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub sku: String,
    /// The variant's full name, as order lines show it ("Trail Runners, EU 42").
    pub name: String,
    pub price_cents: i64,
    pub currency: String,
    pub availability: Availability,
    /// The product this variant belongs to ("Trail Runners"); its variants share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    /// When an out-of-stock variant is expected back (Unix ms), if the store knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restock_at: Option<i64>,
    #[serde(default, skip_serializing_if = "ProductDetails::is_empty")]
    pub details: ProductDetails,
    /// When the store last changed it (see [`updated_at`]).
    #[serde(default, with = "updated_at", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// Set for products from a platform's webhooks or exports.
    #[serde(skip)]
    pub listing: Option<Listing>,
}

impl Product {
    /// The name shoppers know the product by: its product name, else the variant's name.
    pub fn product_name(&self) -> &str {
        self.product.as_deref().map(str::trim).filter(|p| !p.is_empty()).unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderItem {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    pub carrier: String,
    pub tracking_number: String,
    pub tracking_url: String,
    pub status: String,
    pub shipped_at: Option<i64>,
    pub estimated_delivery: Option<i64>,
    pub delivered_at: Option<i64>,
    /// Its id on the platform (a Shopify fulfillment's), so an update replaces it.
    #[serde(skip)]
    pub platform_id: Option<String>,
}

named_enum! {
    pub enum RefundStatus {
        Requested = "requested",
        Processing = "processing",
        Completed = "completed",
        Rejected = "rejected",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    pub amount_cents: i64,
    pub status: RefundStatus,
    #[serde(default)]
    pub reason: String,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub number: String,
    pub customer_id: Option<String>,
    pub email: String,
    pub status: OrderStatus,
    pub placed_at: i64,
    pub total_cents: i64,
    pub currency: String,
    #[serde(default)]
    pub shipping_address: String,
    pub estimated_delivery: Option<i64>,
    pub delivered_at: Option<i64>,
    #[serde(default)]
    pub source_order_number: Option<String>,
    #[serde(default)]
    pub checkout_url: Option<String>,
    #[serde(default)]
    pub items: Vec<OrderItem>,
    #[serde(default)]
    pub shipments: Vec<Shipment>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
    /// When the store last changed it (see [`updated_at`]).
    #[serde(default, with = "updated_at", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    /// Set for orders from a platform's webhooks or exports.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// How many items of a batch were written, and how many were skipped because the stored copy
/// was changed later than theirs (an update that arrived out of order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upserted {
    pub upserted: usize,
    pub stale: usize,
}

impl Upserted {
    pub fn count(&mut self, written: bool) {
        if written {
            self.upserted += 1;
        } else {
            self.stale += 1;
        }
    }
}

/// `updated_at` travels as an RFC 3339 time (`2025-03-01T12:00:00Z`, any offset) and is kept
/// as Unix milliseconds, the unit of every other time here. It orders the store's changes: an
/// item older than the stored copy is not written. The store API requires it; an import file
/// may leave it out, and the import's own time stands in.
pub mod updated_at {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn parse(text: &str) -> Option<i64> {
        chrono::DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.timestamp_millis())
    }

    pub fn format(ms: i64) -> String {
        chrono::DateTime::from_timestamp_millis(ms)
            .map_or_else(String::new, |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }

    pub fn serialize<S: Serializer>(value: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(ms) => s.serialize_str(&format(*ms)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "updated_at {text:?} is not an RFC 3339 time; write it like 2025-03-01T12:00:00Z"
                ))
            }),
        }
    }
}

/// Formats minor units as money, e.g. `EUR 12.50`.
pub fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.abs();
    let symbol = match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        _ => "",
    };
    if symbol.is_empty() {
        format!("{sign}{} {}.{:02}", currency, c / 100, c % 100)
    } else {
        format!("{sign}{symbol}{}.{:02}", c / 100, c % 100)
    }
}

/// A date (from Unix milliseconds) as shoppers read it, e.g. `Tue 3 Mar`.
pub fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(String::new, |d| d.format("%a %-d %b").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_one_wording_and_round_trips() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.name()), Some(s));
            assert!(!s.customer_facing().is_empty());
        }
    }

    #[test]
    fn updated_at_reads_rfc_3339_with_any_offset_as_milliseconds() {
        assert_eq!(updated_at::parse("2025-03-01T12:00:00Z"), Some(1_740_830_400_000));
        assert_eq!(updated_at::parse("2025-03-01T13:00:00.250+01:00"), Some(1_740_830_400_250));
        assert_eq!(updated_at::parse("1740830400"), None);
        assert_eq!(updated_at::format(1_740_830_400_250), "2025-03-01T12:00:00.250Z");
    }

    #[test]
    fn an_item_with_a_badly_written_updated_at_is_refused_and_says_how_to_write_it() {
        let json = r#"{"id": "c1", "email": "a@example.com", "name": "A", "updated_at": "yesterday"}"#;
        let e = serde_json::from_str::<Customer>(json).unwrap_err().to_string();
        assert!(e.contains("2025-03-01T12:00:00Z"), "{e}");
        let c: Customer = serde_json::from_str(r#"{"id": "c1", "email": "a@example.com", "name": "A"}"#).unwrap();
        assert_eq!(c.updated_at, None);
    }

    #[test]
    fn money_is_formatted_with_symbol() {
        assert_eq!(money(1250, "EUR"), "€12.50");
        assert_eq!(money(5, "CHF"), "CHF 0.05");
    }
}
