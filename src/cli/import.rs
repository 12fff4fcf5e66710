//! `switchboard import FILE`: customers, products and orders from JSON lines. Every row is
//! checked first; any bad row is reported by line and nothing is imported. A row may leave out
//! `updated_at` (the store API requires it): the import's time stands in, so a row that
//! already has a later `updated_at` is kept and counted as older.
//!
//! `switchboard import --from shopify|woocommerce FILE...`: pages of the platform's REST API
//! (orders, products or customers), for a store's first import. All files are read and
//! checked first, then written in one transaction: all or nothing.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

use crate::domain::orders::{Customer, Order, Product};
use crate::domain::validation::{validate_customer, validate_order, validate_product};
use crate::platforms::{StoreChanges, shopify, woocommerce};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// JSON lines, one object each: {"type":"customer"|"product"|"order", ...fields}; with
    /// --from, pages of the platform's REST API (several files may be given).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Read the platform's own JSON: Shopify's {"orders": [...]} / {"products": [...]} /
    /// {"customers": [...]}, or WooCommerce's arrays of orders, products or customers.
    #[arg(long, value_parser = ["shopify", "woocommerce"])]
    pub from: Option<String>,
    /// The store's currency (three letters), for product prices, which platforms send without
    /// one; by default the settings file's `store.currency`, as the server uses.
    #[arg(long)]
    pub currency: Option<String>,
    /// The server's settings file (TOML), for the store's currency.
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://data/switchboard.db")]
    pub database: String,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Row {
    Customer(Customer),
    Product(Box<Product>),
    Order(Box<Order>),
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    match args.from.as_deref() {
        Some(platform) => import_platform(&args, platform),
        None => {
            anyhow::ensure!(
                args.files.len() == 1,
                "give one JSON-lines file (or --from shopify|woocommerce with pages)"
            );
            import_lines(&args, &args.files[0])
        }
    }
}

/// Reads every page, then writes them all in one transaction, with a progress bar.
fn import_platform(args: &ImportArgs, platform: &str) -> anyhow::Result<()> {
    let currency = match &args.currency {
        Some(c) => c.trim().to_uppercase(),
        None => crate::config::FileSettings::read_or_default(args.config.as_deref())?.store.currency,
    };
    crate::domain::validation::currency(&currency).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut changes = StoreChanges::default();
    for file in &args.files {
        let body = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let page = match platform {
            "shopify" => shopify::page(&body, &currency),
            _ => woocommerce::page(&body, &currency),
        };
        changes.extend(page.map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?);
    }
    let total = changes.customers.len() + changes.products.len() + changes.orders.len();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = Store::connect(&args.database).await?;
        let data = crate::integration::StoreData::new(store.clone());
        let bar = indicatif::ProgressBar::new(total as u64).with_message("importing (one transaction)");
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let applied = data.import_changes(&changes, |done| bar.set_position(done as u64)).await;
        bar.finish_and_clear();
        let applied = applied.map_err(|e| anyhow::anyhow!("{e}; nothing was imported"))?;
        println!(
            "imported from {platform}: {} customers, {} products, {} orders",
            changes.customers.len(),
            changes.products.len(),
            changes.orders.len()
        );
        if applied.stale > 0 {
            println!("{} of them were not written: the database has a later change for them", applied.stale);
        }
        if applied.discontinued > 0 {
            println!("{} variants the platform no longer lists are marked no longer sold", applied.discontinued);
        }
        store.close().await;
        Ok(())
    })
}

fn import_lines(args: &ImportArgs, file: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (mut customers, mut products, mut orders) = (Vec::new(), Vec::new(), Vec::new());
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", file.display(), i + 1);
        match serde_json::from_str::<Row>(line) {
            Err(e) => errors.push(format!("{at}: {e}")),
            Ok(Row::Customer(c)) => match validate_customer(&c) {
                Ok(()) => customers.push(c),
                Err(e) => errors.push(format!("{at}: customer: {e}")),
            },
            Ok(Row::Product(p)) => match validate_product(&p) {
                Ok(()) => products.push(*p),
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
