//! The store's own data coming in through the store API: customers, products and orders
//! (with items, shipments and refunds). A batch is checked whole before anything is written,
//! then written in one transaction: all or nothing.

use crate::domain::orders::{Customer, Order, Product};
use crate::domain::validation::{validate_customer, validate_order, validate_product};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    /// An item of the batch is invalid; `index` counts from 0.
    #[error("item {index}: {reason}")]
    Invalid { index: usize, reason: String },
    #[error("order {order}: customer {customer} does not exist; push it first")]
    UnknownCustomer { order: String, customer: String },
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

pub struct StoreData {
    store: Store,
}

impl StoreData {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Inserts or updates customers; returns how many.
    pub async fn upsert_customers(&self, customers: &[Customer]) -> Result<usize, IntegrationError> {
        check_all(customers, validate_customer)?;
        self.store.upsert_customers(customers).await?;
        Ok(customers.len())
    }

    pub async fn upsert_products(&self, products: &[Product]) -> Result<usize, IntegrationError> {
        check_all(products, validate_product)?;
        self.store.upsert_products(products).await?;
        Ok(products.len())
    }

    /// Inserts or replaces orders; an order's customer must already be stored.
    pub async fn upsert_orders(&self, orders: &[Order]) -> Result<usize, IntegrationError> {
        check_all(orders, validate_order)?;
        self.store.upsert_orders(orders).await?;
        Ok(orders.len())
    }
}

fn check_all<T>(items: &[T], validate: impl Fn(&T) -> Result<(), String>) -> Result<(), IntegrationError> {
    for (index, item) in items.iter().enumerate() {
        validate(item).map_err(|reason| IntegrationError::Invalid { index, reason })?;
    }
    Ok(())
}
