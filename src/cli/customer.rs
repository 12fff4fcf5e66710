//! `switchboard customer forget ID`: erase a customer's personal data (the store API's
//! `POST /api/v1/store/customers/{id}/forget` does the same for the platform).

use clap::{Args, Subcommand};

use crate::domain::audit::Actor;
use crate::privacy::forget_customer;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct CustomerArgs {
    /// Database URL.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://data/switchboard.db", global = true)]
    pub database: String,
    #[command(subcommand)]
    pub command: CustomerCommand,
}

#[derive(Debug, Subcommand)]
pub enum CustomerCommand {
    /// Erase a customer's personal data: their conversations' messages are redacted, their
    /// orders anonymised (numbers, amounts and items stay), their name and email cleared.
    /// Running it again is harmless.
    Forget {
        /// The customer's id, as the store knows it.
        id: String,
    },
}

pub fn run(args: CustomerArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = Store::connect(&args.database).await?;
        match args.command {
            CustomerCommand::Forget { id } => {
                let f = forget_customer(&store, &Actor::Cli, &id).await?;
                println!(
                    "forgot customer {}: {} conversations ({} messages redacted), {} orders anonymised, {} training examples and {} verification attempts deleted",
                    f.customer,
                    f.conversations,
                    f.messages_redacted,
                    f.orders_anonymised,
                    f.training_examples_deleted,
                    f.verification_attempts_deleted
                );
                if f.exported_examples > 0 {
                    println!(
                        "{} of those training examples had been written into intents/ files: remove them there too",
                        f.exported_examples
                    );
                }
            }
        }
        store.close().await;
        Ok(())
    })
}
