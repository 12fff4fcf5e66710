//! The store's own data coming in through the store API: customers, products and orders
//! (with items, shipments and refunds), and requests to forget a customer. A batch is checked
//! whole before anything is written, then written in one transaction: all or nothing. Each
//! request names its delivery; the delivery id is recorded in that same transaction, so a copy
//! of a delivery (a retry, a replay) is answered as before and changes nothing.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::audit::Actor;
use crate::domain::orders::{Customer, Order, Product, Upserted};
use crate::domain::privacy::Forgotten;
use crate::domain::validation::{require_updated_at, validate_customer, validate_order, validate_product};
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

fn check_all<T>(items: &[T], validate: impl Fn(&T) -> Result<(), String>) -> Result<(), IntegrationError> {
    for (index, item) in items.iter().enumerate() {
        validate(item).map_err(|reason| IntegrationError::Invalid { index, reason })?;
    }
    Ok(())
}
