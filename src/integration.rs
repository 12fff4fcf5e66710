//! The store's own data coming in through the store API: customers, products and orders
//! (with items, shipments and refunds), and requests to forget a customer. A batch is checked
//! whole before anything is written, then written in one transaction: all or nothing. Each
//! request names its delivery; the delivery id is recorded in that same transaction, so a copy
//! of a delivery (a retry, a replay) is answered as before and changes nothing.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::audit::Actor;
use crate::domain::orders::{Customer, Order, OrderStatus, Product, Refund, RefundStatus, Shipment, Upserted};
use crate::domain::privacy::Forgotten;
use crate::domain::validation::{require_updated_at, validate_customer, validate_order, validate_product};
use crate::platforms::{OrderPart, StoreChanges};
use crate::privacy::{PrivacyError, forget_in};
use crate::store::{Store, StoreError, Tx};

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    /// An item of the batch is invalid; `index` counts from 0.
    #[error("item {index}: {reason}")]
    Invalid { index: usize, reason: String },
    #[error("order {order}: customer {customer} does not exist; push it first")]
    UnknownCustomer { order: String, customer: String },
    #[error("there is no customer with id {0:?}")]
    NoSuchCustomer(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for IntegrationError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownCustomer { order, customer } => IntegrationError::UnknownCustomer { order, customer },
            other => IntegrationError::Store(other),
        }
    }
}

impl From<PrivacyError> for IntegrationError {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::UnknownCustomer(id) => IntegrationError::NoSuchCustomer(id),
            PrivacyError::Store(e) => e.into(),
        }
    }
}

/// An answer to a delivery: what it did, and whether it had been applied before (then what
/// it did the first time, and nothing now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivered<T> {
    #[serde(flatten)]
    pub result: T,
    pub duplicate: bool,
}

/// What a platform's delivery (or import) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Applied {
    /// Customers, products and orders written (fulfillments and refunds count with their order).
    pub upserted: usize,
    /// Items not written because the stored copy was changed later.
    pub stale: usize,
    /// Variants marked no longer sold because the platform stopped listing them.
    pub discontinued: usize,
    /// Fulfillments and refunds of orders not stored yet (the order's own delivery carries them).
    pub unknown_orders: usize,
}

pub struct StoreData {
    store: Store,
}

impl StoreData {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Inserts or updates customers, unless the stored copy is newer.
    pub async fn upsert_customers(
        &self,
        delivery: &str,
        customers: &[Customer],
    ) -> Result<Delivered<Upserted>, IntegrationError> {
        check_all(customers, |c| validate_customer(c).and(require_updated_at(c.updated_at)))?;
        self.import(delivery, "customers", &[], customers, &[]).await
    }

    pub async fn upsert_products(
        &self,
        delivery: &str,
        products: &[Product],
    ) -> Result<Delivered<Upserted>, IntegrationError> {
        check_all(products, |p| validate_product(p).and(require_updated_at(p.updated_at)))?;
        self.import(delivery, "products", products, &[], &[]).await
    }

    /// Inserts or replaces orders; an order's customer must already be stored.
    pub async fn upsert_orders(
        &self,
        delivery: &str,
        orders: &[Order],
    ) -> Result<Delivered<Upserted>, IntegrationError> {
        check_all(orders, |o| validate_order(o).and(require_updated_at(o.updated_at)))?;
        self.import(delivery, "orders", &[], &[], orders).await
    }

    async fn import(
        &self,
        delivery: &str,
        route: &str,
        products: &[Product],
        customers: &[Customer],
        orders: &[Order],
    ) -> Result<Delivered<Upserted>, IntegrationError> {
        let Some(mut tx) = self.store.begin_delivery(delivery, route).await? else {
            return self.duplicate(delivery).await;
        };
        let upserted = tx.import(products, customers, orders).await?;
        settle(tx, delivery, upserted).await
    }

    /// Applies what a platform's webhook delivery changes, once per delivery id.
    pub async fn apply_delivery(
        &self,
        delivery: &str,
        route: &str,
        changes: &StoreChanges,
    ) -> Result<Delivered<Applied>, IntegrationError> {
        check_changes(changes)?;
        let Some(mut tx) = self.store.begin_delivery(delivery, route).await? else {
            return self.duplicate(delivery).await;
        };
        let applied = apply_in(&mut tx, changes, |_| {}).await?;
        settle(tx, delivery, applied).await
    }

    /// Applies a platform's export (a first import), all or nothing; `progress` hears how many
    /// items are written so far.
    pub async fn import_changes(
        &self,
        changes: &StoreChanges,
        progress: impl Fn(usize),
    ) -> Result<Applied, IntegrationError> {
        check_changes(changes)?;
        let mut tx = self.store.begin().await?;
        let applied = apply_in(&mut tx, changes, progress).await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// Erases a customer's personal data (see [`crate::privacy`]).
    pub async fn forget_customer(&self, delivery: &str, id: &str) -> Result<Delivered<Forgotten>, IntegrationError> {
        let Some(mut tx) = self.store.begin_delivery(delivery, "forget").await? else {
            return self.duplicate(delivery).await;
        };
        let forgotten = forget_in(&mut tx, &Actor::StoreApi, id).await?;
        settle(tx, delivery, forgotten).await
    }

    /// The answer of a delivery applied before.
    async fn duplicate<T: DeserializeOwned + Default>(&self, delivery: &str) -> Result<Delivered<T>, IntegrationError> {
        // The answer of a delivery recorded by another route does not fit this one's: nothing
        // was done now either way.
        let result = self
            .store
            .delivery_response(delivery)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default();
        Ok(Delivered { result, duplicate: true })
    }
}

/// Records the delivery's answer and commits its writes with it.
async fn settle<T: Serialize>(mut tx: Tx, delivery: &str, result: T) -> Result<Delivered<T>, IntegrationError> {
    let json = serde_json::to_string(&result).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.settle_delivery(delivery, &json).await?;
    tx.commit().await?;
    Ok(Delivered { result, duplicate: false })
}

/// Every customer, product and order of `changes` is valid, or nothing is written.
fn check_changes(changes: &StoreChanges) -> Result<(), IntegrationError> {
    check_all(&changes.customers, validate_customer)?;
    check_all(&changes.products, validate_product)?;
    check_all(&changes.orders, validate_order)
}

/// Writes products first (and the platform's listings), then customers, then orders, then
/// the parts of orders that came on their own.
async fn apply_in(tx: &mut Tx, changes: &StoreChanges, progress: impl Fn(usize)) -> Result<Applied, IntegrationError> {
    let mut applied = Applied::default();
    let mut done = 0;
    let mut written = |upserted: Upserted| {
        applied.upserted += upserted.upserted;
        applied.stale += upserted.stale;
        done += 1;
        progress(done);
    };
    for p in &changes.products {
        written(tx.import(std::slice::from_ref(p), &[], &[]).await?);
    }
    for c in &changes.customers {
        written(tx.import(&[], std::slice::from_ref(c), &[]).await?);
    }
    for o in &changes.orders {
        written(tx.import(&[], &[], std::slice::from_ref(o)).await?);
    }
    for listed in &changes.listings {
        applied.discontinued += tx.apply_listing(listed).await?;
    }
    let mut count = |written: Option<bool>| match written {
        Some(true) => applied.upserted += 1,
        Some(false) => applied.stale += 1,
        None => applied.unknown_orders += 1,
    };
    for part in &changes.shipments {
        count(tx.apply_order_part(part, false, add_shipment).await?);
    }
    for part in &changes.refunds {
        count(tx.apply_order_part(part, true, add_refund).await?);
    }
    Ok(applied)
}

/// A parcel joins its order (replacing the one with the same platform id) or, cancelled, leaves
/// it. Unless the order was cancelled or refunded, its status follows its latest parcel (back
/// to paid when none is left).
fn add_shipment(order: &mut Order, part: &OrderPart<Option<Shipment>>) {
    let same = |s: &Shipment| s.platform_id.as_deref() == Some(part.key.as_str());
    order.shipments.retain(|s| !same(s));
    if let Some(shipment) = &part.part {
        order.shipments.push(shipment.clone());
    }
    if order.status.is_open() || order.status == OrderStatus::PartiallyRefunded {
        match order.shipments.last() {
            Some(latest) => {
                order.status = OrderStatus::of_shipment(&latest.status);
                order.delivered_at = (order.status == OrderStatus::Delivered).then_some(latest.delivered_at).flatten();
            }
            None if order.status.in_delivery() => order.status = OrderStatus::Paid,
            None => {}
        }
    }
}

/// A refund joins its order once; a full refund makes the order refunded, a partial one
/// before shipping partly refunded.
fn add_refund(order: &mut Order, part: &OrderPart<Refund>) {
    let refund = &part.part;
    let known =
        order.refunds.iter().any(|r| r.amount_cents == refund.amount_cents && r.created_at == refund.created_at);
    if !known {
        order.refunds.push(refund.clone());
    }
    let refunded: i64 =
        order.refunds.iter().filter(|r| r.status == RefundStatus::Completed).map(|r| r.amount_cents).sum();
    if refunded >= order.total_cents && order.status != OrderStatus::Cancelled {
        order.status = OrderStatus::Refunded;
    } else if refunded > 0 && order.status.before_shipping() {
        order.status = OrderStatus::PartiallyRefunded;
    }
}

fn check_all<T>(items: &[T], validate: impl Fn(&T) -> Result<(), String>) -> Result<(), IntegrationError> {
    for (index, item) in items.iter().enumerate() {
        validate(item).map_err(|reason| IntegrationError::Invalid { index, reason })?;
    }
    Ok(())
}
