//! Shopify's REST JSON (what its webhooks deliver, and its Admin API's pages): orders with
//! their fulfillments and refunds, customers, and products with their variants.
//!
//! An order's number is its `name` without the `#` (what the shopper sees on the
//! confirmation); its status comes from cancellation, the financial status and the
//! fulfillments' shipment status. A variant without a SKU is known as `shopify-<variant id>`,
//! the same in orders and in the catalogue.

use serde::Deserialize;

use super::{
    ListedVariants, MappingError, OrderPart, StoreChanges, id, money, one_line, optional_id, parse, present,
    required_time, sku, time,
};
use crate::domain::orders::{
    Availability, Customer, Listing, Order, OrderItem, OrderStatus, Origin, Platform, Product, Refund, RefundStatus,
    Shipment,
};

/// The webhook topics Switchboard reads (the `X-Shopify-Topic` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Order,
    Fulfillment,
    Refund,
    Customer,
    Product,
    ProductDelete,
}

impl Topic {
    pub fn parse(name: &str) -> Option<Topic> {
        Some(match name.trim() {
            "orders/create"
            | "orders/updated"
            | "orders/cancelled"
            | "orders/fulfilled"
            | "orders/paid"
            | "orders/partially_fulfilled"
            | "orders/edited" => Topic::Order,
            "fulfillments/create" | "fulfillments/update" => Topic::Fulfillment,
            "refunds/create" => Topic::Refund,
            "customers/create" | "customers/update" => Topic::Customer,
            "products/create" | "products/update" => Topic::Product,
            "products/delete" => Topic::ProductDelete,
            _ => return None,
        })
    }
}

/// What a webhook delivery of `topic` changes. `currency` is the store's (product payloads
/// carry none); `received_at` dates a product deletion, which carries no time either.
pub fn webhook(topic: Topic, body: &[u8], currency: &str, received_at: i64) -> Result<StoreChanges, MappingError> {
    let mut changes = StoreChanges::default();
    match topic {
        Topic::Order => add_order(&mut changes, parse(body)?)?,
        Topic::Fulfillment => {
            let f: ShopifyFulfillment = parse(body)?;
            let order_id = f.order_id.clone().ok_or_else(|| MappingError::new("order_id", "is required"))?;
            let at = required_time("updated_at", f.updated_at.as_deref().unwrap_or(&f.created_at))?;
            // A cancelled or failed fulfillment takes its shipment off the order.
            let part = shipment(&f)?;
            changes.shipments.push(OrderPart { platform: Platform::Shopify, order_id, key: f.id.clone(), part, at });
        }
        Topic::Refund => {
            let r: ShopifyRefund = parse(body)?;
            let order_id = r.order_id.clone().ok_or_else(|| MappingError::new("order_id", "is required"))?;
            if let Some(refund) = refund(&r)? {
                let at = required_time("created_at", r.processed_at.as_deref().unwrap_or(&r.created_at))?;
                changes.refunds.push(OrderPart { platform: Platform::Shopify, order_id, key: r.id, part: refund, at });
            }
        }
        Topic::Customer => changes.customers.push(customer(&parse(body)?)?),
        Topic::Product => add_product(&mut changes, &parse(body)?, currency)?,
        Topic::ProductDelete => {
            let deleted: super::Deleted = parse(body)?;
            changes.listings.push(ListedVariants {
                platform: Platform::Shopify,
                product_id: deleted.id,
                variant_ids: Vec::new(),
                at: received_at,
            });
        }
    }
    Ok(changes)
}

/// A page of the Admin REST API: `{"orders": [...]}`, `{"products": [...]}` or
/// `{"customers": [...]}` (or a single `{"order": {...}}` and so on).
pub fn page(body: &[u8], currency: &str) -> Result<StoreChanges, MappingError> {
    let page: Page = parse(body)?;
    let mut changes = StoreChanges::default();
    for (i, o) in page.orders.into_iter().chain(page.order).enumerate() {
        add_order(&mut changes, o).map_err(|e| MappingError::new(format!("orders[{i}].{}", e.field), e.reason))?;
    }
    for (i, p) in page.products.iter().chain(page.product.as_ref()).enumerate() {
        add_product(&mut changes, p, currency)
            .map_err(|e| MappingError::new(format!("products[{i}].{}", e.field), e.reason))?;
    }
    for (i, c) in page.customers.iter().chain(page.customer.as_ref()).enumerate() {
        changes
            .customers
            .push(customer(c).map_err(|e| MappingError::new(format!("customers[{i}].{}", e.field), e.reason))?);
    }
    if changes.is_empty() {
        return Err(MappingError::new(
            "body",
            "expected Shopify's {\"orders\": [...]}, {\"products\": [...]} or {\"customers\": [...]}",
        ));
    }
    Ok(changes)
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    orders: Vec<ShopifyOrder>,
    order: Option<ShopifyOrder>,
    #[serde(default)]
    products: Vec<ShopifyProduct>,
    product: Option<ShopifyProduct>,
    #[serde(default)]
    customers: Vec<ShopifyCustomer>,
    customer: Option<ShopifyCustomer>,
}

#[derive(Deserialize)]
struct ShopifyOrder {
    #[serde(deserialize_with = "id")]
    id: String,
    name: String,
    email: Option<String>,
    contact_email: Option<String>,
    created_at: String,
    updated_at: Option<String>,
    processed_at: Option<String>,
    cancelled_at: Option<String>,
    financial_status: Option<String>,
    fulfillment_status: Option<String>,
    currency: String,
    #[serde(deserialize_with = "money")]
    total_price: i64,
    customer: Option<ShopifyCustomer>,
    shipping_address: Option<Address>,
    line_items: Vec<LineItem>,
    #[serde(default)]
    fulfillments: Vec<ShopifyFulfillment>,
    #[serde(default)]
    refunds: Vec<ShopifyRefund>,
}

#[derive(Deserialize)]
struct Address {
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    zip: Option<String>,
    country: Option<String>,
}

#[derive(Deserialize)]
struct LineItem {
    #[serde(deserialize_with = "id")]
    id: String,
    #[serde(default, deserialize_with = "optional_id")]
    variant_id: Option<String>,
    sku: Option<String>,
    name: Option<String>,
    title: String,
    quantity: i64,
    #[serde(deserialize_with = "money")]
    price: i64,
}

#[derive(Deserialize)]
struct ShopifyFulfillment {
    #[serde(deserialize_with = "id")]
    id: String,
    #[serde(default, deserialize_with = "optional_id")]
    order_id: Option<String>,
    status: Option<String>,
    created_at: String,
    updated_at: Option<String>,
    tracking_company: Option<String>,
    tracking_number: Option<String>,
    #[serde(default)]
    tracking_numbers: Vec<String>,
    tracking_url: Option<String>,
    #[serde(default)]
    tracking_urls: Vec<String>,
    shipment_status: Option<String>,
}

#[derive(Deserialize)]
struct ShopifyRefund {
    #[serde(deserialize_with = "id")]
    id: String,
    #[serde(default, deserialize_with = "optional_id")]
    order_id: Option<String>,
    created_at: String,
    processed_at: Option<String>,
    note: Option<String>,
    #[serde(default)]
    transactions: Vec<Transaction>,
}

#[derive(Deserialize)]
struct Transaction {
    #[serde(deserialize_with = "money")]
    amount: i64,
    kind: String,
    status: Option<String>,
}

#[derive(Deserialize)]
struct ShopifyCustomer {
    #[serde(deserialize_with = "id")]
    id: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct ShopifyProduct {
    #[serde(deserialize_with = "id")]
    id: String,
    title: String,
    status: Option<String>,
    updated_at: String,
    #[serde(default)]
    variants: Vec<Variant>,
    #[serde(default)]
    options: Vec<ProductOption>,
}

#[derive(Deserialize)]
struct Variant {
    #[serde(deserialize_with = "id")]
    id: String,
    title: String,
    #[serde(deserialize_with = "money")]
    price: i64,
    sku: Option<String>,
    option1: Option<String>,
    option2: Option<String>,
    option3: Option<String>,
    inventory_quantity: Option<i64>,
    inventory_policy: Option<String>,
    inventory_management: Option<String>,
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct ProductOption {
    name: String,
    position: Option<usize>,
}

fn add_order(changes: &mut StoreChanges, o: ShopifyOrder) -> Result<(), MappingError> {
    let number = o.name.trim().trim_start_matches('#').replace(char::is_whitespace, "");
    if number.is_empty() {
        return Err(MappingError::new("name", "the order's name (such as #1001) is required"));
    }
    let customer = o.customer.as_ref().map(customer).transpose().map_err(|e| nested("customer", e))?;
    let email = present(o.email.as_deref())
        .or(present(o.contact_email.as_deref()))
        .or(customer.as_ref().map(|c| c.email.as_str()).filter(|e| !e.is_empty()))
        .unwrap_or("")
        .to_lowercase();
    let mut items = Vec::with_capacity(o.line_items.len());
    for (i, l) in o.line_items.iter().enumerate() {
        if l.quantity <= 0 {
            return Err(MappingError::new(format!("line_items[{i}].quantity"), "must be positive"));
        }
        items.push(OrderItem {
            sku: sku(Platform::Shopify, l.sku.as_deref(), l.variant_id.as_deref(), &l.id),
            name: present(l.name.as_deref()).unwrap_or(&l.title).to_string(),
            quantity: l.quantity,
            unit_price_cents: l.price,
        });
    }
    let mut shipments = Vec::new();
    for (i, f) in o.fulfillments.iter().enumerate() {
        if let Some(s) = shipment(f).map_err(|e| nested(&format!("fulfillments[{i}]"), e))? {
            shipments.push(s);
        }
    }
    let mut refunds = Vec::new();
    for (i, r) in o.refunds.iter().enumerate() {
        if let Some(r) = refund(r).map_err(|e| nested(&format!("refunds[{i}]"), e))? {
            refunds.push(r);
        }
    }
    let status = order_status(&o, &shipments);
    let delivered_at =
        (status == OrderStatus::Delivered).then(|| shipments.iter().filter_map(|s| s.delivered_at).max()).flatten();
    let placed = o.processed_at.as_deref().unwrap_or(&o.created_at);
    let order = Order {
        number,
        customer_id: customer.as_ref().map(|c| c.id.clone()),
        email,
        status,
        placed_at: required_time("processed_at", placed)?,
        total_cents: o.total_price,
        currency: o.currency.trim().to_uppercase(),
        shipping_address: o.shipping_address.as_ref().map(address).unwrap_or_default(),
        estimated_delivery: None,
        delivered_at,
        source_order_number: None,
        checkout_url: None,
        items,
        shipments,
        refunds,
        updated_at: Some(required_time("updated_at", o.updated_at.as_deref().unwrap_or(&o.created_at))?),
        origin: Some(Origin { platform: Platform::Shopify, id: o.id }),
    };
    changes.customers.extend(customer);
    changes.orders.push(order);
    Ok(())
}

fn nested(prefix: &str, e: MappingError) -> MappingError {
    MappingError::new(format!("{prefix}.{}", e.field), e.reason)
}

fn address(a: &Address) -> String {
    one_line(&[&a.address1, &a.address2, &a.city, &a.zip, &a.country])
}

/// Cancelled or refunded first; then how far the parcels got; then the payment.
fn order_status(o: &ShopifyOrder, shipments: &[Shipment]) -> OrderStatus {
    let financial = o.financial_status.as_deref().unwrap_or("");
    if o.cancelled_at.is_some() || financial == "voided" {
        return OrderStatus::Cancelled;
    }
    if financial == "refunded" {
        return OrderStatus::Refunded;
    }
    if let Some(latest) = shipments.last() {
        return OrderStatus::of_shipment(&latest.status);
    }
    match (o.fulfillment_status.as_deref(), financial) {
        (Some("fulfilled" | "partial"), _) => OrderStatus::Shipped,
        (_, "partially_refunded") => OrderStatus::PartiallyRefunded,
        (_, "paid") => OrderStatus::Paid,
        (_, "pending" | "partially_paid") => OrderStatus::AwaitingPayment,
        _ => OrderStatus::Ordered,
    }
}

/// A fulfillment as a shipment; none for a cancelled or failed one.
fn shipment(f: &ShopifyFulfillment) -> Result<Option<Shipment>, MappingError> {
    if matches!(f.status.as_deref(), Some("cancelled" | "failure" | "error")) {
        return Ok(None);
    }
    let shipped_at = required_time("created_at", &f.created_at)?;
    let status = present(f.shipment_status.as_deref()).or(present(f.status.as_deref())).unwrap_or("shipped");
    let delivered_at =
        if status == "delivered" { Some(f.updated_at.as_deref().and_then(time).unwrap_or(shipped_at)) } else { None };
    let first = |one: &Option<String>, many: &[String]| {
        present(one.as_deref()).or_else(|| many.iter().find_map(|t| present(Some(t)))).unwrap_or("").to_string()
    };
    Ok(Some(Shipment {
        carrier: present(f.tracking_company.as_deref()).unwrap_or("the carrier").to_string(),
        tracking_number: first(&f.tracking_number, &f.tracking_numbers),
        tracking_url: first(&f.tracking_url, &f.tracking_urls),
        status: status.to_string(),
        shipped_at: Some(shipped_at),
        estimated_delivery: None,
        delivered_at,
        platform_id: Some(f.id.clone()),
    }))
}

/// A refund with the money it moves; none when it moves none (a restock only).
fn refund(r: &ShopifyRefund) -> Result<Option<Refund>, MappingError> {
    let refunds: Vec<&Transaction> = r.transactions.iter().filter(|t| t.kind == "refund").collect();
    let succeeded: i64 = refunds.iter().filter(|t| t.status.as_deref() == Some("success")).map(|t| t.amount).sum();
    let pending: i64 = refunds.iter().filter(|t| t.status.as_deref() == Some("pending")).map(|t| t.amount).sum();
    let failed =
        !refunds.is_empty() && refunds.iter().all(|t| matches!(t.status.as_deref(), Some("failure" | "error")));
    let created_at = required_time("created_at", &r.created_at)?;
    let (amount, status) = if succeeded > 0 {
        (succeeded, RefundStatus::Completed)
    } else if pending > 0 {
        (pending, RefundStatus::Processing)
    } else if failed {
        (refunds.iter().map(|t| t.amount).sum(), RefundStatus::Rejected)
    } else {
        return Ok(None);
    };
    if amount <= 0 {
        return Ok(None);
    }
    Ok(Some(Refund {
        amount_cents: amount,
        status,
        reason: present(r.note.as_deref()).unwrap_or("").to_string(),
        created_at,
        completed_at: (status == RefundStatus::Completed)
            .then(|| r.processed_at.as_deref().and_then(time).unwrap_or(created_at)),
    }))
}

fn customer(c: &ShopifyCustomer) -> Result<Customer, MappingError> {
    let updated = ("updated_at", c.updated_at.as_deref());
    super::customer(&c.id, c.email.as_deref(), c.first_name.as_deref(), c.last_name.as_deref(), updated)
}

fn add_product(changes: &mut StoreChanges, p: &ShopifyProduct, currency: &str) -> Result<(), MappingError> {
    let at = required_time("updated_at", &p.updated_at)?;
    let for_sale = matches!(p.status.as_deref(), None | Some("active"));
    let option = |names: &[&str]| {
        p.options
            .iter()
            .enumerate()
            .find(|(_, o)| names.contains(&o.name.trim().to_lowercase().as_str()))
            .map(|(i, o)| o.position.unwrap_or(i + 1))
    };
    let (size, colour) = (option(&["size"]), option(&["color", "colour"]));
    let mut listed =
        ListedVariants { platform: Platform::Shopify, product_id: p.id.clone(), variant_ids: Vec::new(), at };
    for v in &p.variants {
        let value = |position: Option<usize>| {
            match position {
                Some(1) => present(v.option1.as_deref()),
                Some(2) => present(v.option2.as_deref()),
                Some(3) => present(v.option3.as_deref()),
                _ => None,
            }
            .map(str::to_string)
        };
        let tracked_out = v.inventory_management.as_deref() == Some("shopify")
            && v.inventory_policy.as_deref() != Some("continue")
            && v.inventory_quantity.is_some_and(|q| q <= 0);
        let availability = match (for_sale, tracked_out) {
            (false, _) => Availability::Discontinued,
            (true, true) => Availability::OutOfStock,
            (true, false) => Availability::InStock,
        };
        let variant_at = v.updated_at.as_deref().and_then(time).unwrap_or(at).max(at);
        let plain = v.title.trim().is_empty() || v.title == "Default Title";
        changes.products.push(Product {
            sku: sku(Platform::Shopify, v.sku.as_deref(), Some(&v.id), &v.id),
            name: if plain { p.title.clone() } else { format!("{} - {}", p.title, v.title) },
            price_cents: v.price,
            currency: currency.to_string(),
            availability,
            product: Some(p.title.clone()),
            size: value(size),
            colour: value(colour),
            restock_at: None,
            details: Default::default(),
            updated_at: Some(variant_at),
            listing: Some(Listing { platform: Platform::Shopify, product_id: p.id.clone(), variant_id: v.id.clone() }),
        });
        listed.variant_ids.push(v.id.clone());
    }
    changes.listings.push(listed);
    Ok(())
}
