//! `switchboard serve`: the HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use crate::classifier::{ClassifierOptions, OnnxClassifier};
use crate::config::ModelPaths;
use crate::domain::intent::IntentCatalog;
use crate::http::{AppState, router};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Seed and serve the demo store, with fixed demo secrets.
    #[arg(long)]
    pub demo: bool,
    /// Encoder sessions that may run at once.
    #[arg(long, env = "SWITCHBOARD_CLASSIFIER_SESSIONS", default_value_t = 2)]
    pub classifier_sessions: usize,
    /// Threads per encoder session.
    #[arg(long, env = "SWITCHBOARD_CLASSIFIER_THREADS", default_value_t = 1)]
    pub classifier_threads: usize,
}

pub fn run(paths: &ModelPaths, args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(serve(paths, args))
}

async fn serve(paths: &ModelPaths, args: ServeArgs) -> anyhow::Result<()> {
    let state = build_state(paths, &args)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("Switchboard is listening on http://{addr}");
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

pub fn build_state(paths: &ModelPaths, args: &ServeArgs) -> anyhow::Result<AppState> {
    let defs = crate::intents::load_dir(&paths.intents)?;
    let rules = crate::intents::load_rules(&paths.intents)?;
    let catalog = IntentCatalog::new(defs.into_iter().map(|d| d.intent).collect());
    let options = ClassifierOptions { sessions: args.classifier_sessions, intra_threads: args.classifier_threads };
    let classifier = OnnxClassifier::load(&paths.models, options)?;
    Ok(AppState { classifier: Arc::new(classifier), catalog: Arc::new(catalog), rules: Arc::new(rules), demo: args.demo })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("shutting down");
}
