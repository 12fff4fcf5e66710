//! `switchboard intents export`: approved examples written into the `intents/` files, for
//! stores that keep them in git (each marked `# from review`, none repeated).

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::ModelPaths;
use crate::intents::export::{Reviewed, append_reviewed};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct IntentsArgs {
    /// Database URL.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://data/switchboard.db", global = true)]
    pub database: String,
    #[command(subcommand)]
    pub command: IntentsCommand,
}

#[derive(Debug, Subcommand)]
pub enum IntentsCommand {
    /// Write the approved examples not yet exported into the intent files.
    Export,
}

pub fn run(paths: &ModelPaths, args: IntentsArgs) -> anyhow::Result<()> {
    let IntentsCommand::Export = args.command;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = Store::connect(&args.database)
            .await
            .with_context(|| format!("opening the database {}", crate::startup::redact(&args.database)))?;
        let examples: Vec<Reviewed> = store
            .unexported_examples()
            .await?
            .into_iter()
            .map(|e| Reviewed { id: e.id, text: e.text, intent: e.intent })
            .collect();
        let out = append_reviewed(&paths.intents, &examples)?;
        let mut done = out.written.clone();
        done.extend(out.already_there.iter().cloned());
        let mut tx = store.begin().await?;
        tx.mark_exported(&done).await?;
        tx.commit().await?;
        println!(
            "{} examples written into {}, {} already there, {} of intents it has no file for",
            out.written.len(),
            paths.intents.display(),
            out.already_there.len(),
            out.no_intent.len()
        );
        Ok(())
    })
}
