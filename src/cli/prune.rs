//! `switchboard prune --older-than-days N`: the retention task of `serve --retention-days`, run
//! once (for cron, or for servers that run without it).

use clap::Args;

use crate::store::Store;

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete conversations (with their messages and hand-offs) whose last activity is older
    /// than this many days.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub older_than_days: u32,
    /// Database URL.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://data/switchboard.db")]
    pub database: String,
}

pub fn run(args: PruneArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = Store::connect(&args.database).await?;
        let p = crate::privacy::apply_retention(&store, Some(args.older_than_days)).await?;
        println!(
            "deleted {} conversations ({} messages), {} training examples, {} verification attempts, {} idempotency records, {} store delivery ids",
            p.conversations,
            p.messages,
            p.training_examples,
            p.verification_attempts,
            p.idempotency_records,
            p.store_deliveries
        );
        store.close().await;
        Ok(())
    })
}
