//! Building and running the server: split so tests start the real app on port 0.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use anyhow::Context;

use crate::chat::{ChatService, EventHub, IdentityKeys};
use crate::classifier::{ClassifierOptions, Encoder};
use crate::config::{Secret, StoreProfile};
use crate::domain::intent::IntentCatalog;
use crate::domain::network::{ShopperLimits, TrustedProxies};
use crate::http::{AppState, ConnectionSettings, Limits, WebhookSettings};
use crate::integration::StoreData;
use crate::learning::{ModelService, RetrainSettings, Retrainer};
use crate::store::{Engine, SessionStore, Store};
use crate::util::AddressKey;

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
    /// Folder with the web surfaces (widget, demo storefront, console).
    pub web_dir: std::path::PathBuf,
    /// The public URL agents open (e.g. `https://support.example.com`); https makes the
    /// session cookie `Secure` and `__Host-` prefixed.
    pub public_url: Option<String>,
    /// Storefront origins whose pages may call the shopper API and load the widget.
    pub allowed_origins: Vec<String>,
    /// Auto-assignment of queued conversations to online agents, with at most this many
    /// assigned conversations per agent (`None`: off, agents claim).
    pub auto_assign_cap: Option<usize>,
    /// The tolerances of the gate that judges retrained candidates.
    pub gate: crate::training::gate::GateSettings,
    /// The silence after the bot's answer after which the conversation counts as resolved by
    /// the bot (and, after a message with no answer, as abandoned).
    pub assume_resolved_after: std::time::Duration,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` name the client (none: the TCP peer is).
    pub trusted_proxies: TrustedProxies,
    /// Request rates and open streams one client may use of the shopper API.
    pub shopper_limits: ShopperLimits,
    /// Open connections, their timeouts, and the grace period at shutdown.
    pub connections: ConnectionSettings,
    /// The longest any request may take before it is answered 503.
    pub request_deadline: std::time::Duration,
    /// The longest a request waits for a database connection before it is answered 503.
    pub db_acquire_timeout: std::time::Duration,
    /// Conversations idle for this many days are deleted (`None`: kept). Expired idempotency
    /// records and store delivery ids are pruned either way.
    pub retention_days: Option<u32>,
    /// Shopify's and WooCommerce's webhook secrets (`None`: that platform's webhooks are refused).
    pub shopify_webhook_secret: Option<Secret>,
    pub woocommerce_webhook_secret: Option<Secret>,
    /// Signed events for the store's own systems (`None`: none are sent).
    pub events: Option<crate::outbox::EventSettings>,
}

pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    store: Store,
    sessions: SessionStore,
    secure_cookies: bool,
    shutdown: tokio::sync::watch::Sender<bool>,
    /// How long to keep serving (with `/readyz` at 503) after the stop signal, so a load
    /// balancer sees the instance leave before it stops accepting connections.
    drain: std::time::Duration,
    auto_assign_cap: Option<usize>,
    assume_resolved_after: std::time::Duration,
    connections: ConnectionSettings,
    retention_days: Option<u32>,
    events: Option<crate::outbox::EventSettings>,
}

/// How often quiet clients' rate-limit state is dropped.
const LIMITS_UPKEEP: std::time::Duration = std::time::Duration::from_secs(60);

static METRICS: OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> = OnceLock::new();

/// Latency buckets (seconds) of the classify and reply histograms.
const LATENCY_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Queue-wait buckets (seconds): from 10 s to a day.
const QUEUE_WAIT_BUCKETS: [f64; 11] = [10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 86400.0];
/// How often the recorder drains histogram samples into their buckets when nobody scrapes.
const METRICS_UPKEEP: std::time::Duration = std::time::Duration::from_secs(5);

/// The process's Prometheus recorder: histograms with explicit buckets, which add up across
/// instances (summaries do not).
fn metrics_handle() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    METRICS
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("switchboard_queue_wait_seconds".into()),
                        &QUEUE_WAIT_BUCKETS,
                    )
                })
                .and_then(|b| b.install_recorder())
                .map_err(|e| tracing::warn!(error = %e, "no Prometheus metrics: the recorder did not install"))
                .ok()
        })
        .clone()
}

/// Loads the encoder (the slow part of start-up), for sharing between servers in tests.
pub fn load_encoder(config: &ServerConfig) -> anyhow::Result<Arc<Encoder>> {
    Ok(Arc::new(Encoder::load(&config.models, config.classifier)?))
}

impl Application {
    /// Connects the database (migrating it), seeds the demo store in demo mode, loads the
    /// encoder unless one is given and the database's live model, and binds the listener.
    pub async fn build(config: &ServerConfig, encoder: Option<Arc<Encoder>>) -> anyhow::Result<Self> {
        let store = Store::connect_with(&config.database_url, config.db_acquire_timeout)
            .await
            .with_context(|| format!("opening the database {}", redact(&config.database_url)))?;
        if config.demo && crate::demo::seed(&store).await? {
            tracing::info!("demo store seeded");
        }
        let defs = crate::intents::load_dir(&config.intents)?;
        let rules = crate::intents::load_rules(&config.intents)?;
        let catalog = IntentCatalog::new(defs.into_iter().map(|d| d.intent).collect());
        let encoder = match encoder {
            Some(e) => e,
            None => load_encoder(config)?,
        };
        let models = Arc::new(
            ModelService::start(store.clone(), encoder, &config.models).await.context("loading the live model")?,
        );
        let retrainer = Arc::new(Retrainer::new(
            store.clone(),
            models.clone(),
            config.models.clone(),
            config.intents.clone(),
            RetrainSettings { gate: config.gate, ..RetrainSettings::default() },
        ));
        let abandoned = retrainer.fail_abandoned().await?;
        if abandoned > 0 {
            tracing::warn!(jobs = abandoned, "marked failed the jobs of servers that stopped while running them");
        }
        let address_key = AddressKey::new(Secret::new(
            config.store_api_secret.as_ref().map_or("switchboard-ip", |s| s.expose()).to_string() + ":ip",
        ));
        let catalog = Arc::new(catalog);
        let events = EventHub::new();
        let agents =
            crate::agents::AgentService::new(store.clone(), events.clone(), catalog.clone(), address_key.clone());
        let store_data = StoreData::new(store.clone());
        store.set_event_endpoints(config.events.as_ref().map(|e| e.endpoints.clone()).unwrap_or_default());
        let sessions = store.session_store().await.context("setting up agent sessions")?;
        let chat = ChatService::new(
            store.clone(),
            models.classifier(),
            catalog,
            Arc::new(rules),
            config.identity_keys.clone(),
            config.profile.clone(),
            events,
            address_key,
        );
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let public_origin = config.public_url.as_deref().map(|u| u.trim_end_matches('/').to_string());
        let secure_cookies = public_origin.as_deref().is_some_and(|u| u.starts_with("https://"));
        let state = AppState {
            chat: Arc::new(chat),
            agents: Arc::new(agents),
            store_data: Arc::new(store_data),
            models,
            retrainer,
            store: store.clone(),
            public_origin,
            demo: config.demo,
            store_api_secret: config.store_api_secret.clone(),
            webhooks: Arc::new(WebhookSettings {
                shopify_secret: config.shopify_webhook_secret.clone(),
                woocommerce_secret: config.woocommerce_webhook_secret.clone(),
                currency: config.profile.currency.clone(),
            }),
            metrics: metrics_handle(),
            shutdown: shutdown_rx,
            web_dir: config.web_dir.clone(),
            allowed_origins: config.allowed_origins.clone(),
            limits: Arc::new(Limits::new(
                config.trusted_proxies.clone(),
                config.shopper_limits,
                config.request_deadline,
            )),
        };
        let connections = ConnectionSettings {
            max_connections: crate::http::fit_connections(config.connections.max_connections),
            ..config.connections
        };
        Ok(Self {
            listener,
            state,
            store,
            shutdown,
            sessions,
            secure_cookies,
            drain: std::time::Duration::ZERO,
            auto_assign_cap: config.auto_assign_cap,
            assume_resolved_after: config.assume_resolved_after,
            connections,
            retention_days: config.retention_days,
            events: config.events.clone(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Keeps serving for `period` after the stop signal, with `/readyz` answering 503 and
    /// streams told to reconnect, before new connections are refused (default: none).
    #[must_use]
    pub fn with_drain_period(mut self, period: std::time::Duration) -> Self {
        self.drain = period;
        self
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `stop` resolves; then readiness turns 503, streams are told to reconnect,
    /// in-flight requests finish and the database pool closes.
    pub async fn run(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            store,
            shutdown,
            sessions,
            secure_cookies,
            drain,
            auto_assign_cap,
            assume_resolved_after,
            connections,
            retention_days,
            events,
        } = self;
        let cleanup = sessions.spawn_cleanup(std::time::Duration::from_secs(600));
        // Only PostgreSQL is shared by several instances; on SQLite this instance is the truth.
        let shared = store.engine() == Engine::Postgres;
        let listener_task = shared.then(|| {
            tokio::spawn(crate::chat::listen_postgres(
                store.clone(),
                state.chat.events().clone(),
                state.models.clone(),
                state.shutdown.clone(),
            ))
        });
        let presence_task = shared.then(|| {
            tokio::spawn(crate::chat::sync_presence(store.clone(), state.chat.events().clone(), state.shutdown.clone()))
        });
        let models_task =
            tokio::spawn(crate::learning::keep_serving_latest(state.models.clone(), state.shutdown.clone()));
        let upkeep_task = state.metrics.clone().map(|handle| {
            let shutdown = state.shutdown.clone();
            tokio::spawn(async move {
                crate::util::every(METRICS_UPKEEP, shutdown, || {
                    handle.run_upkeep();
                    std::future::ready(())
                })
                .await;
            })
        });
        let limits = state.limits.clone();
        let limits_task = tokio::spawn(crate::util::every(LIMITS_UPKEEP, state.shutdown.clone(), move || {
            limits.forget_quiet_clients();
            std::future::ready(())
        }));
        let outcomes_task = tokio::spawn(crate::chat::settle_outcomes(
            state.chat.clone(),
            assume_resolved_after,
            state.shutdown.clone(),
        ));
        let retention_task =
            tokio::spawn(crate::privacy::enforce_retention(store.clone(), retention_days, state.shutdown.clone()));
        let events_task = events.map(|settings| {
            tokio::spawn(crate::outbox::deliver_events(store.clone(), settings, state.shutdown.clone()))
        });
        let assign_task = auto_assign_cap
            .map(|cap| tokio::spawn(crate::agents::run_auto_assign(state.agents.clone(), cap, state.shutdown.clone())));
        let signal = async move {
            stop.await;
            tracing::info!("shutting down: draining requests and streams");
            let _ = shutdown.send(true);
            // Not ready any more, but still serving for the drain period.
            if !drain.is_zero() {
                tokio::time::sleep(drain).await;
            }
        };
        crate::http::serve(listener, state, sessions, secure_cookies, connections, signal).await?;
        limits_task.abort();
        cleanup.abort();
        models_task.abort();
        if let Some(task) = upkeep_task {
            task.abort();
        }
        outcomes_task.abort();
        retention_task.abort();
        if let Some(task) = events_task {
            task.abort();
        }
        if let Some(task) = assign_task {
            task.abort();
        }
        if let Some(task) = listener_task {
            task.abort();
        }
        // It saw the stop signal; let it remove this instance's row before the pool closes.
        if let Some(task) = presence_task
            && tokio::time::timeout(std::time::Duration::from_secs(5), task).await.is_err()
        {
            tracing::warn!("the presence task did not stop in time");
        }
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
