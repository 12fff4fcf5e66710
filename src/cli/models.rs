//! `switchboard models list | promote V | rollback | shadow V | shadow --stop`: the model
//! versions in the database. A running server serves a change within seconds.

use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::classifier::{ClassifierOptions, Encoder};
use crate::config::ModelPaths;
use crate::domain::audit::Actor;
use crate::learning::ModelService;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Database URL.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://data/switchboard.db", global = true)]
    pub database: String,
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every version, newest first, with its figures on the regression set and the gate's verdict.
    List,
    /// Make a version live (a candidate the gate rejected only with --override).
    Promote {
        version: String,
        /// Why a rejected candidate should go live anyway (recorded in the audit log).
        #[arg(long, value_name = "REASON")]
        r#override: Option<String>,
    },
    /// Make the version the live one replaced live again.
    Rollback,
    /// Classify every live message with this version too, without answering anyone.
    Shadow {
        version: Option<String>,
        /// Stop the shadow.
        #[arg(long, conflicts_with = "version")]
        stop: bool,
    },
}

pub fn run(paths: &ModelPaths, args: ModelsArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = Store::connect(&args.database)
            .await
            .with_context(|| format!("opening the database {}", crate::startup::redact(&args.database)))?;
        let service = || async {
            let encoder = Arc::new(Encoder::load(&paths.models, ClassifierOptions::default())?);
            anyhow::Ok(ModelService::start(store.clone(), encoder, &paths.models).await?)
        };
        match args.command {
            ModelsCommand::List => {
                let models = service().await?.list().await?;
                println!(
                    "{:>3}  {:<26} {:<9} {:>8} {:>8} {:>9} {:>9}  gate",
                    "#", "version", "status", "examples", "macro-F1", "oos rec.", "answered"
                );
                for m in models {
                    let gate = match &m.gate {
                        None => "-".to_string(),
                        Some(g) if g.passed => "passed".to_string(),
                        Some(g) => format!("failed: {}", g.reasons.join("; ")),
                    };
                    let status = if m.shadow { format!("{}+shadow", m.status) } else { m.status.to_string() };
                    println!(
                        "{:>3}  {:<26} {:<9} {:>8} {:>8.3} {:>8.1}% {:>8.1}%  {gate}",
                        m.number,
                        m.version,
                        status,
                        m.examples,
                        m.metrics.macro_f1,
                        m.metrics.oos_recall * 100.0,
                        m.metrics.coverage * 100.0
                    );
                }
            }
            ModelsCommand::Promote { version, r#override } => {
                let m = service().await?.promote(&Actor::Cli, &version, r#override.as_deref()).await?;
                println!("model {} (#{}) is live", m.version, m.number);
            }
            ModelsCommand::Rollback => {
                let m = service().await?.rollback(&Actor::Cli).await?;
                println!("rolled back: model {} (#{}) is live again", m.version, m.number);
            }
            ModelsCommand::Shadow { version, stop } => {
                anyhow::ensure!(stop || version.is_some(), "name the version to shadow, or --stop");
                service().await?.set_shadow(&Actor::Cli, version.as_deref()).await?;
                match version {
                    Some(v) => println!("model {v} is in shadow: it classifies every live message, and answers no one"),
                    None => println!("no model is in shadow"),
                }
            }
        }
        Ok(())
    })
}
