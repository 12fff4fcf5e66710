//! WooCommerce's REST JSON (what its webhooks deliver, and its REST API's pages): orders,
//! products (simple ones, variable ones and their variations) and customers.
//!
//! WooCommerce's order statuses map to what the shopper is told: `pending`, `on-hold` and
//! `failed` wait for payment, `processing` is paid and being prepared, `completed` has shipped,
//! `cancelled` and `refunded` are what they say. A draft from the block checkout
//! (`checkout-draft`) or an order in the bin (`trash`) is not an order yet, or any more, and is
//! left out. Tracking numbers come from the Shipment Tracking extension's
//! `_wc_shipment_tracking_items`, when the store uses it.

use serde::Deserialize;
use serde_json::Value;

use super::{
    ListedVariants, MappingError, StoreChanges, full_name, id, money, one_line, parse, present, required_time, sku,
    time,
};
use crate::domain::orders::{
    Availability, Customer, Listing, Order, OrderItem, OrderStatus, Origin, Platform, Product, Refund, RefundStatus,
    Shipment,
};

/// The resources whose webhook topics Switchboard reads (`X-WC-Webhook-Topic`, such as
/// `order.updated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Order,
    Product,
    ProductDeleted,
    Customer,
}

impl Topic {
    pub fn parse(name: &str) -> Option<Topic> {
        Some(match name.trim() {
            "order.created" | "order.updated" | "order.restored" => Topic::Order,
            "product.created" | "product.updated" | "product.restored" => Topic::Product,
            "product.deleted" => Topic::ProductDeleted,
            "customer.created" | "customer.updated" => Topic::Customer,
            _ => return None,
        })
    }
}

/// What a webhook delivery of `topic` changes.
pub fn webhook(topic: Topic, body: &[u8], currency: &str, received_at: i64) -> Result<StoreChanges, MappingError> {
    let mut changes = StoreChanges::default();
    match topic {
        Topic::Order => add_order(&mut changes, parse(body)?)?,
        Topic::Product => add_product(&mut changes, &parse(body)?, currency)?,
        Topic::ProductDeleted => {
            let deleted: super::Deleted = parse(body)?;
            changes.listings.push(ListedVariants {
                platform: Platform::WooCommerce,
                product_id: deleted.id,
                variant_ids: Vec::new(),
                at: received_at,
            });
        }
        Topic::Customer => changes.customers.push(customer(&parse(body)?)?),
    }
    Ok(changes)
}

/// A page of the REST API (`GET /wp-json/wc/v3/orders`, `/products`, `/products/ID/variations`
/// or `/customers`): an array of one kind, told apart by its fields.
pub fn page(body: &[u8], currency: &str) -> Result<StoreChanges, MappingError> {
    let items: Vec<Value> = parse(body)?;
    let mut changes = StoreChanges::default();
    for (i, item) in items.iter().enumerate() {
        let text = serde_json::to_vec(item).unwrap_or_default();
        let result = if item.get("line_items").is_some() {
            parse(&text).and_then(|o| add_order(&mut changes, o))
        } else if item.get("price").is_some() || item.get("stock_status").is_some() {
            parse(&text).and_then(|p| add_product(&mut changes, &p, currency))
        } else if item.get("email").is_some() {
            parse(&text).and_then(|c| customer(&c)).map(|c| changes.customers.push(c))
        } else {
            Err(MappingError::new("body", "expected WooCommerce orders, products or customers"))
        };
        result.map_err(|e| MappingError::new(format!("[{i}].{}", e.field), e.reason))?;
    }
    if changes.is_empty() {
        return Err(MappingError::new(
            "body",
            "expected a page of WooCommerce orders, products or customers (a JSON array)",
        ));
    }
    Ok(changes)
}

#[derive(Deserialize)]
struct WcOrder {
    #[serde(deserialize_with = "id")]
    id: String,
    #[serde(default, deserialize_with = "super::optional_id")]
    number: Option<String>,
    status: String,
    currency: String,
    date_created_gmt: String,
    date_modified_gmt: Option<String>,
    #[serde(deserialize_with = "money")]
    total: i64,
    #[serde(default, deserialize_with = "super::optional_id")]
    customer_id: Option<String>,
    #[serde(default)]
    billing: Contact,
    #[serde(default)]
    shipping: Contact,
    line_items: Vec<LineItem>,
    #[serde(default)]
    refunds: Vec<WcRefund>,
    #[serde(default)]
    meta_data: Vec<Meta>,
}

#[derive(Deserialize, Default)]
struct Contact {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    address_1: Option<String>,
    address_2: Option<String>,
    city: Option<String>,
    postcode: Option<String>,
    country: Option<String>,
}

#[derive(Deserialize)]
struct LineItem {
    #[serde(deserialize_with = "id")]
    id: String,
    name: String,
    #[serde(default, deserialize_with = "super::optional_id")]
    product_id: Option<String>,
    #[serde(default, deserialize_with = "super::optional_id")]
    variation_id: Option<String>,
    quantity: i64,
    sku: Option<String>,
    #[serde(deserialize_with = "money")]
    price: i64,
}

#[derive(Deserialize)]
struct WcRefund {
    #[serde(deserialize_with = "money")]
    total: i64,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct Meta {
    key: String,
    value: Value,
}

/// One parcel as the Shipment Tracking extension records it.
#[derive(Deserialize)]
struct TrackingItem {
    tracking_id: Option<String>,
    tracking_provider: Option<String>,
    custom_tracking_provider: Option<String>,
    tracking_number: Option<String>,
    custom_tracking_link: Option<String>,
    date_shipped: Option<Value>,
}

#[derive(Deserialize)]
struct WcProduct {
    #[serde(deserialize_with = "id")]
    id: String,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "super::optional_id")]
    parent_id: Option<String>,
    status: Option<String>,
    sku: Option<String>,
    #[serde(default, deserialize_with = "money")]
    price: i64,
    stock_status: Option<String>,
    date_modified_gmt: String,
    #[serde(default)]
    attributes: Vec<Attribute>,
    #[serde(default)]
    variations: Vec<Value>,
    /// A variation from `/products/ID/variations` names its parent only here.
    #[serde(default, rename = "_links")]
    links: Value,
}

impl WcProduct {
    /// The parent product's id: `parent_id`, else the last segment of `_links.up[0].href`.
    fn parent(&self) -> Option<String> {
        self.parent_id.clone().or_else(|| {
            let href = self.links.get("up")?.get(0)?.get("href")?.as_str()?;
            let id = href.trim_end_matches('/').rsplit('/').next()?;
            (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_string())
        })
    }
}

#[derive(Deserialize)]
struct Attribute {
    name: String,
    /// A variation's value.
    option: Option<String>,
}

#[derive(Deserialize)]
struct WcCustomer {
    #[serde(deserialize_with = "id")]
    id: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    date_modified_gmt: Option<String>,
}

fn add_order(changes: &mut StoreChanges, o: WcOrder) -> Result<(), MappingError> {
    let Some(mut status) = order_status(&o.status) else {
        return Ok(());
    };
    let number = present(o.number.as_deref()).unwrap_or(&o.id).trim_start_matches('#').to_string();
    let email = present(o.billing.email.as_deref()).unwrap_or("").to_lowercase();
    let updated_at = required_time("date_modified_gmt", o.date_modified_gmt.as_deref().unwrap_or(&o.date_created_gmt))?;
    let mut items = Vec::with_capacity(o.line_items.len());
    for (i, l) in o.line_items.iter().enumerate() {
        if l.quantity <= 0 {
            return Err(MappingError::new(format!("line_items[{i}].quantity"), "must be positive"));
        }
        let listed = l.variation_id.as_deref().or(l.product_id.as_deref());
        items.push(OrderItem {
            sku: sku(Platform::WooCommerce, l.sku.as_deref(), listed, &l.id),
            name: l.name.clone(),
            quantity: l.quantity,
            unit_price_cents: l.price,
        });
    }
    let refunds: Vec<Refund> = o
        .refunds
        .iter()
        .filter(|r| r.total != 0)
        .map(|r| Refund {
            amount_cents: r.total.abs(),
            status: RefundStatus::Completed,
            reason: present(r.reason.as_deref()).unwrap_or("").to_string(),
            created_at: updated_at,
            completed_at: Some(updated_at),
        })
        .collect();
    if status == OrderStatus::Paid && !refunds.is_empty() {
        status = OrderStatus::PartiallyRefunded;
    }
    let shipments = o
        .meta_data
        .iter()
        .filter(|m| m.key == "_wc_shipment_tracking_items")
        .flat_map(|m| tracking(&m.value))
        .collect();
    // A registered customer's order carries their billing details, not the customer record:
    // it stands in (dated at the start of time) until the customer's own delivery comes.
    let billed = full_name(o.billing.first_name.as_deref(), o.billing.last_name.as_deref());
    let customer = o.customer_id.as_ref().map(|id| Customer {
        id: id.clone(),
        email: email.clone(),
        name: if billed.is_empty() { email.clone() } else { billed },
        updated_at: Some(1),
    });
    let s = &o.shipping;
    let shipping_address = one_line(&[&s.address_1, &s.address_2, &s.city, &s.postcode, &s.country]);
    changes.orders.push(Order {
        number,
        customer_id: o.customer_id.clone(),
        email,
        status,
        placed_at: required_time("date_created_gmt", &o.date_created_gmt)?,
        total_cents: o.total,
        currency: o.currency.trim().to_uppercase(),
        shipping_address,
        estimated_delivery: None,
        delivered_at: None,
        source_order_number: None,
        checkout_url: None,
        items,
        shipments,
        refunds,
        updated_at: Some(updated_at),
        origin: Some(Origin { platform: Platform::WooCommerce, id: o.id }),
    });
    changes.customers.extend(customer);
    Ok(())
}

/// None for an order that is not one (a checkout draft, or in the bin).
fn order_status(status: &str) -> Option<OrderStatus> {
    Some(match status {
        "checkout-draft" | "trash" => return None,
        "pending" | "on-hold" | "failed" => OrderStatus::AwaitingPayment,
        "processing" => OrderStatus::Paid,
        "completed" => OrderStatus::Shipped,
        "cancelled" => OrderStatus::Cancelled,
        "refunded" => OrderStatus::Refunded,
        // A store's own status (from an extension): placed, and nothing more is known.
        _ => OrderStatus::Ordered,
    })
}

fn tracking(value: &Value) -> Vec<Shipment> {
    let items: Vec<TrackingItem> = serde_json::from_value(value.clone()).unwrap_or_default();
    items
        .iter()
        .filter_map(|t| {
            let number = present(t.tracking_number.as_deref())?;
            let shipped_at = match &t.date_shipped {
                Some(Value::Number(n)) => n.as_i64().map(|s| s * 1000),
                Some(Value::String(s)) => s.parse::<i64>().ok().map(|s| s * 1000).or_else(|| time(s)),
                _ => None,
            };
            Some(Shipment {
                carrier: present(t.custom_tracking_provider.as_deref())
                    .or(present(t.tracking_provider.as_deref()))
                    .unwrap_or("the carrier")
                    .to_string(),
                tracking_number: number.to_string(),
                tracking_url: present(t.custom_tracking_link.as_deref()).unwrap_or("").to_string(),
                status: "shipped".into(),
                shipped_at,
                estimated_delivery: None,
                delivered_at: None,
                platform_id: t.tracking_id.clone(),
            })
        })
        .collect()
}

fn add_product(changes: &mut StoreChanges, p: &WcProduct, currency: &str) -> Result<(), MappingError> {
    let at = required_time("date_modified_gmt", &p.date_modified_gmt)?;
    let published = matches!(p.status.as_deref(), None | Some("publish"));
    let kind = p.kind.as_deref();
    if kind == Some("variable") {
        // The parent is not bought itself; its variations are. It lists which still exist.
        let variant_ids = if published {
            p.variations
                .iter()
                .filter_map(|v| match v {
                    Value::Number(n) => Some(n.to_string()),
                    Value::Object(o) => o.get("id").map(|id| id.to_string()),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        changes.listings.push(ListedVariants {
            platform: Platform::WooCommerce,
            product_id: p.id.clone(),
            variant_ids,
            at,
        });
        return Ok(());
    }
    let is_variation = kind == Some("variation") || (kind.is_none() && p.attributes.iter().any(|a| a.option.is_some()));
    let product_id = if is_variation { p.parent().unwrap_or_else(|| p.id.clone()) } else { p.id.clone() };
    let attribute = |names: &[&str]| {
        p.attributes
            .iter()
            .find(|a| names.contains(&a.name.trim().to_lowercase().as_str()))
            .and_then(|a| present(a.option.as_deref()))
            .map(str::to_string)
    };
    let (size, colour) = (attribute(&["size", "pa_size"]), attribute(&["color", "colour", "pa_color", "pa_colour"]));
    let options: Vec<&str> = p.attributes.iter().filter_map(|a| present(a.option.as_deref())).collect();
    let name = match present(p.name.as_deref()) {
        Some(name) => name.to_string(),
        None if !options.is_empty() => format!("Product {product_id} - {}", options.join(", ")),
        None => return Err(MappingError::new("name", "is required")),
    };
    // A variation's name is "Parent - Option"; the product its variants share is the parent's.
    let product = if is_variation { name.split(" - ").next().map(str::to_string) } else { Some(name.clone()) };
    let availability = match (published, p.stock_status.as_deref()) {
        (false, _) => Availability::Discontinued,
        (true, Some("outofstock")) => Availability::OutOfStock,
        (true, _) => Availability::InStock,
    };
    changes.products.push(Product {
        sku: sku(Platform::WooCommerce, p.sku.as_deref(), Some(&p.id), &p.id),
        name,
        price_cents: p.price,
        currency: currency.to_string(),
        availability,
        product,
        size,
        colour,
        restock_at: None,
        details: Default::default(),
        updated_at: Some(at),
        listing: Some(Listing { platform: Platform::WooCommerce, product_id, variant_id: p.id.clone() }),
    });
    Ok(())
}

fn customer(c: &WcCustomer) -> Result<Customer, MappingError> {
    let updated = ("date_modified_gmt", c.date_modified_gmt.as_deref());
    super::customer(&c.id, c.email.as_deref(), c.first_name.as_deref(), c.last_name.as_deref(), updated)
}
