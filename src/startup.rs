//! Building and running the server: split so tests start the real app on port 0.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use anyhow::Context;

use crate::chat::{ChatService, EventHub, IdentityKeys};
use crate::classifier::{ClassifierOptions, IntentClassifier, OnnxClassifier};
use crate::config::{Secret, StoreProfile};
use crate::domain::intent::IntentCatalog;
use crate::http::{AppState, router};
use crate::store::Store;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    pub demo: bool,
    pub models: std::path::PathBuf,
    pub intents: std::path::PathBuf,
    pub classifier: ClassifierOptions,
    pub identity_keys: IdentityKeys,
    pub store_api_secret: Option<Secret>,
    pub profile: StoreProfile,
}

pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
}

static METRICS: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> = OnceLock::new();

fn metrics_handle() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    METRICS
        .get_or_init(|| {
            metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .ok()
        })
        .clone()
}

/// Loads the model (the slow part of start-up), for sharing between servers in tests.
pub fn load_classifier(config: &ServerConfig) -> anyhow::Result<Arc<dyn IntentClassifier>> {
    Ok(Arc::new(OnnxClassifier::load(
        &config.models,
        config.classifier,
    )?))
}

impl Application {
    /// Connects the database (migrating it), seeds the demo store in demo mode, loads the
    /// model unless one is given, and binds the listener.
    pub async fn build(
        config: &ServerConfig,
        classifier: Option<Arc<dyn IntentClassifier>>,
    ) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url)
            .await
            .with_context(|| format!("opening the database {}", redact(&config.database_url)))?;
        if config.demo && crate::demo::seed(&store).await? {
            tracing::info!("demo store seeded");
        }
        let defs = crate::intents::load_dir(&config.intents)?;
        let rules = crate::intents::load_rules(&config.intents)?;
        let catalog = IntentCatalog::new(defs.into_iter().map(|d| d.intent).collect());
        let classifier = match classifier {
            Some(c) => c,
            None => load_classifier(config)?,
        };
        let ip_key = Secret::new(
            config
                .store_api_secret
                .as_ref()
                .map_or("switchboard-ip", |s| s.expose())
                .to_string()
                + ":ip",
        );
        let chat = ChatService::new(
            store,
            classifier,
            Arc::new(catalog),
            Arc::new(rules),
            config.identity_keys.clone(),
            config.profile.clone(),
            EventHub::new(),
            ip_key,
        );
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let state = AppState {
            chat: Arc::new(chat),
            demo: config.demo,
            store_api_secret: config.store_api_secret.clone(),
            metrics: metrics_handle(),
            shutdown: shutdown_rx,
        };
        Ok(Self {
            listener,
            state,
            shutdown,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `stop` resolves; then readiness turns 503, streams are told to reconnect,
    /// in-flight requests finish and the database pool closes.
    pub async fn run(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            shutdown,
        } = self;
        let store = state.chat.store().clone();
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        let signal = async move {
            stop.await;
            tracing::info!("shutting down: draining requests and streams");
            let _ = shutdown.send(true);
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await?;
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
