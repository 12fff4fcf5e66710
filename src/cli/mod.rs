//! The command line: one file per subcommand.

mod agent;
mod classify;
mod customer;
mod eval;
mod import;
mod intents;
mod models;
mod prune;
mod report;
mod serve;
mod token;
mod train;

use clap::{Parser, Subcommand};

use crate::config::ModelPaths;

#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about = "Self-hosted customer-service triage chatbot for online stores")]
pub struct Cli {
    /// More detailed logs.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Log lines as text, or as one JSON object per line (for log collectors).
    #[arg(long, env = "SWITCHBOARD_LOG_FORMAT", value_enum, default_value_t = crate::telemetry::LogFormat::Text, global = true)]
    pub log_format: crate::telemetry::LogFormat,
    #[command(flatten)]
    pub paths: ModelPaths,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(Box<serve::ServeArgs>),
    /// Train a candidate model from intents/ and the approved examples (or, with --export, a head into a folder).
    Train(train::TrainArgs),
    /// Model versions: list, promote, roll back, shadow.
    Models(models::ModelsArgs),
    /// Outcomes and drift for a time window: the figures of the console's Insights page.
    Report(report::ReportArgs),
    /// Work on the intents/ folder.
    Intents(intents::IntentsArgs),
    /// Measure the classifier on a benchmark, on intents/ (k-fold), or the shipped model.
    Eval(eval::EvalArgs),
    /// Classify one message and show the triage decision.
    Classify(classify::ClassifyArgs),
    /// Manage agent accounts.
    Agent(agent::AgentArgs),
    /// Import customers, products and orders from a JSON-lines file.
    Import(import::ImportArgs),
    /// Customers' personal data: forget a customer.
    Customer(customer::CustomerArgs),
    /// Delete conversations older than a number of days, and expired records (once; `serve
    /// --retention-days` does it every hour).
    Prune(prune::PruneArgs),
    /// Print a signed customer token for testing.
    Token(token::TokenArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(&cli.paths, *args),
        Command::Train(args) => train::run(&cli.paths, args),
        Command::Models(args) => models::run(&cli.paths, args),
        Command::Report(args) => report::run(args),
        Command::Intents(args) => intents::run(&cli.paths, args),
        Command::Eval(args) => eval::run(&cli.paths, args),
        Command::Classify(args) => classify::run(&cli.paths, args),
        Command::Import(args) => import::run(args),
        Command::Agent(args) => agent::run(args),
        Command::Customer(args) => customer::run(args),
        Command::Prune(args) => prune::run(args),
        Command::Token(args) => token::run(args),
    }
}
