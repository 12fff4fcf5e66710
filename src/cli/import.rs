//! `switchboard import FILE`: customers, products and orders from JSON lines. Every row is
//! checked first; any bad row is reported by line and nothing is imported. A row may leave out
//! `updated_at` (the store API requires it): the import's time stands in, so a row that
//! already has a later `updated_at` is kept and counted as older.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

use crate::domain::orders::{Customer, Order, Product};
use crate::domain::validation::{validate_customer, validate_order, validate_product};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// JSON lines, one object each: {"type":"customer"|"product"|"order", ...fields}.
    pub file: PathBuf,
    /// Database URL.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://data/switchboard.db")]
    pub database: String,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Row {
    Customer(Customer),
    Product(Product),
    Order(Box<Order>),
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let (mut customers, mut products, mut orders) = (Vec::new(), Vec::new(), Vec::new());
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", args.file.display(), i + 1);
        match serde_json::from_str::<Row>(line) {
            Err(e) => errors.push(format!("{at}: {e}")),
            Ok(Row::Customer(c)) => match validate_customer(&c) {
                Ok(()) => customers.push(c),
                Err(e) => errors.push(format!("{at}: customer: {e}")),
            },
            Ok(Row::Product(p)) => match validate_product(&p) {
                Ok(()) => products.push(p),
                Err(e) => errors.push(format!("{at}: product: {e}")),
            },
            Ok(Row::Order(o)) => match validate_order(&o) {
                Ok(()) => orders.push(*o),
                Err(e) => errors.push(format!("{at}: order {}: {e}", o.number)),
            },
        }
    }
    if !errors.is_empty() {
        for e in errors.iter().take(50) {
            eprintln!("{e}");
        }
        anyhow::bail!("{} bad rows; nothing was imported", errors.len());
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = Store::connect(&args.database).await?;
        // One transaction: a failure (such as an order's unknown customer) imports nothing.
        let upserted = store
            .import(&products, &customers, &orders)
            .await
            .map_err(|e| anyhow::anyhow!("{e}; nothing was imported"))?;
        println!("imported {} customers, {} products, {} orders", customers.len(), products.len(), orders.len());
        if upserted.stale > 0 {
            println!("{} of them were not written: the database has a later updated_at for them", upserted.stale);
        }
        Ok(())
    })
}
