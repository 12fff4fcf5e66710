//! `switchboard serve`: the HTTP server (with `--demo`, the demo store and fixed demo secrets).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use clap::builder::TypedValueParser;

use crate::chat::{CustomerClaims, IdentityKeys};
use crate::classifier::{BatchPolicy, ClassifierOptions};
use crate::config::{DEMO_IDENTITY_KEYS, DEMO_STORE_API_SECRET, FileSettings, ModelPaths, Secret, secret_from_env};
use crate::domain::network::{Rate, ShopperLimits, TrustedProxies};
use crate::http::ConnectionSettings;
use crate::startup::{Application, ServerConfig};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Database URL: sqlite://PATH (default) or postgres://...
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL")]
    pub database: Option<String>,
    /// Seed and serve the demo store, with fixed, printed demo secrets.
    #[arg(long)]
    pub demo: bool,
    /// Settings file (TOML): [store] profile and allowed_origins.
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// The URL agents use to reach the console (https makes session cookies Secure).
    #[arg(long, env = "SWITCHBOARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Folder with the widget, the demo storefront and the agent console.
    #[arg(long, env = "SWITCHBOARD_WEB", default_value = "web")]
    pub web: PathBuf,
    /// Encoder sessions that may run at once.
    #[arg(long, env = "SWITCHBOARD_CLASSIFIER_SESSIONS", default_value_t = 2)]
    pub classifier_sessions: usize,
    /// Threads per encoder session.
    #[arg(long, env = "SWITCHBOARD_CLASSIFIER_THREADS", default_value_t = 1)]
    pub classifier_threads: usize,
    /// Most messages the encoder ranks in one run; messages that arrive together share a run.
    /// 1 (the default) ranks every message alone: the shipped int8 encoder scales activations
    /// per run, so inside a batch a message's confidences depend on its batch-mates.
    #[arg(long, env = "SWITCHBOARD_CLASSIFIER_BATCH_SIZE", default_value_t = BatchPolicy::default().max_size, value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
    pub classifier_batch_size: usize,
    /// How long a batch that already holds several messages waits for more (a lone message
    /// never waits), like 1ms.
    #[arg(long, env = "SWITCHBOARD_CLASSIFIER_BATCH_WAIT", default_value = "1ms", value_parser = crate::domain::parse::duration)]
    pub classifier_batch_wait: Duration,
    /// Assign queued conversations to online agents in turn, at most N each (off by default:
    /// agents claim from the queue).
    #[arg(long, env = "SWITCHBOARD_AUTO_ASSIGN_CAP", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub auto_assign_cap: Option<u16>,
    /// How long after the bot's answer, with no reply and no hand-off, the conversation counts
    /// as resolved by the bot: a number and a unit, like 30m or 2s.
    #[arg(long, env = "SWITCHBOARD_ASSUME_RESOLVED_AFTER", default_value = "30m", value_parser = crate::domain::parse::duration)]
    pub assume_resolved_after: std::time::Duration,
    #[command(flatten)]
    pub protection: ProtectionArgs,
    /// Delete conversations (with their messages and hand-offs) whose last activity is older
    /// than N days, hourly (off by default: conversations are kept).
    #[arg(long, env = "SWITCHBOARD_RETENTION_DAYS", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub retention_days: Option<u32>,
    /// Endpoints (comma-separated https URLs, or http to a loopback address) that receive
    /// signed events: conversation.handed_off, conversation.resolved, reorder.link_created,
    /// rating.created. Signed with SWITCHBOARD_EVENT_SECRET (or _FILE).
    #[arg(long, env = "SWITCHBOARD_EVENT_ENDPOINTS", value_name = "URL,...", default_value = "")]
    pub event_endpoints: String,
    /// The wait after an event's first failed delivery; it doubles after each further failure,
    /// up to an hour.
    #[arg(long, env = "SWITCHBOARD_EVENT_FIRST_RETRY", default_value = "2s", value_parser = crate::domain::parse::duration)]
    pub event_first_retry: Duration,
}

/// Limits that keep one client, a slow one or a flood, from hurting the others.
#[derive(Debug, Args)]
pub struct ProtectionArgs {
    /// Proxies (CIDR ranges or addresses, comma-separated) whose X-Forwarded-For or Forwarded
    /// header names the client; off by default: the TCP peer is the client.
    #[arg(long, env = "SWITCHBOARD_TRUSTED_PROXIES", value_name = "CIDR,...", default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// Shopper API requests per client address: N/s, N/min, or off.
    #[arg(long, env = "SWITCHBOARD_RATE_LIMIT_PER_ADDRESS", default_value = "30/s")]
    pub rate_limit_per_address: Rate,
    /// New conversations per client address.
    #[arg(long, env = "SWITCHBOARD_RATE_LIMIT_NEW_CONVERSATIONS", default_value = "30/min")]
    pub rate_limit_new_conversations: Rate,
    /// Shopper API requests per conversation.
    #[arg(long, env = "SWITCHBOARD_RATE_LIMIT_PER_CONVERSATION", default_value = "5/s")]
    pub rate_limit_per_conversation: Rate,
    /// Open event streams per conversation.
    #[arg(long, env = "SWITCHBOARD_MAX_STREAMS_PER_CONVERSATION", default_value_t = 4)]
    pub max_streams_per_conversation: usize,
    /// Open event streams per client address.
    #[arg(long, env = "SWITCHBOARD_MAX_STREAMS_PER_ADDRESS", default_value_t = 200)]
    pub max_streams_per_address: usize,
    /// Open connections at most; more are refused with 503 (the open-file limit is raised to
    /// fit, where the system allows).
    #[arg(long, env = "SWITCHBOARD_MAX_CONNECTIONS", default_value_t = 16_384)]
    pub max_connections: usize,
    /// Time a client has to send a request's headers; also how long an idle keep-alive
    /// connection is kept.
    #[arg(long, env = "SWITCHBOARD_HEADER_TIMEOUT", default_value = "10s", value_parser = crate::domain::parse::duration)]
    pub header_timeout: Duration,
    /// Time a client has to send a request's body.
    #[arg(long, env = "SWITCHBOARD_BODY_TIMEOUT", default_value = "4s", value_parser = crate::domain::parse::duration)]
    pub body_timeout: Duration,
    /// How long a read or write may make no progress before the connection is closed.
    #[arg(long, env = "SWITCHBOARD_STALL_TIMEOUT", default_value = "60s", value_parser = crate::domain::parse::duration)]
    pub stall_timeout: Duration,
    /// The longest a request may take before it is answered 503 (retry-safe).
    #[arg(long, env = "SWITCHBOARD_REQUEST_DEADLINE", default_value = "5s", value_parser = crate::domain::parse::duration)]
    pub request_deadline: Duration,
    /// How long a request waits for a database connection before it is answered 503.
    #[arg(long, env = "SWITCHBOARD_DB_ACQUIRE_TIMEOUT", default_value = "3s", value_parser = crate::domain::parse::duration)]
    pub db_acquire_timeout: Duration,
    /// After SIGTERM (readiness turns 503 at once), how long requests and streams may take to
    /// finish before the server exits.
    #[arg(long, env = "SWITCHBOARD_SHUTDOWN_GRACE", default_value = "10s", value_parser = crate::domain::parse::duration)]
    pub shutdown_grace: Duration,
}

impl ProtectionArgs {
    fn shopper_limits(&self) -> ShopperLimits {
        ShopperLimits {
            per_address: self.rate_limit_per_address,
            new_conversations: self.rate_limit_new_conversations,
            per_conversation: self.rate_limit_per_conversation,
            streams_per_conversation: self.max_streams_per_conversation,
            streams_per_address: self.max_streams_per_address,
        }
    }

    fn connections(&self) -> ConnectionSettings {
        ConnectionSettings {
            max_connections: self.max_connections,
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            stall_timeout: self.stall_timeout,
            shutdown_grace: self.shutdown_grace,
        }
    }
}

pub fn run(paths: &ModelPaths, args: ServeArgs) -> anyhow::Result<()> {
    let config = server_config(paths, &args)?;
    if config.classifier.batch.max_size > 1 {
        tracing::warn!(
            batch_size = config.classifier.batch.max_size,
            "messages are ranked in batches: with an encoder that scales activations per run, as the shipped int8 one does, a message's confidences depend on the others in its batch"
        );
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let stop = shutdown_signal();
        let app = Application::build(&config, None).await?;
        let addr = app.local_addr();
        if config.demo {
            print_demo_banner(addr, &config.identity_keys);
        } else {
            println!("Switchboard is listening on http://{addr}");
        }
        app.run(stop).await
    })
}

fn server_config(paths: &ModelPaths, args: &ServeArgs) -> anyhow::Result<ServerConfig> {
    let file = FileSettings::read_or_default(args.config.as_deref())?;
    let identity_spec = secret_from_env("SWITCHBOARD_IDENTITY_KEYS")?;
    let store_secret = secret_from_env("SWITCHBOARD_STORE_API_SECRET")?;
    let (identity_keys, store_api_secret) = if args.demo {
        let keys = identity_spec.unwrap_or_else(|| Secret::new(DEMO_IDENTITY_KEYS));
        let secret = store_secret.unwrap_or_else(|| Secret::new(DEMO_STORE_API_SECRET));
        (IdentityKeys::parse(keys.expose()).map_err(anyhow::Error::msg)?, secret)
    } else {
        let keys = identity_spec.context("SWITCHBOARD_IDENTITY_KEYS is not set: give the customer-token keys as kid:secret[,kid:secret] (secrets of 16+ characters)")?;
        let secret = store_secret.context(
            "SWITCHBOARD_STORE_API_SECRET is not set: give the secret the store signs its API requests with",
        )?;
        let keys = IdentityKeys::parse(keys.expose()).map_err(|e| anyhow::anyhow!("SWITCHBOARD_IDENTITY_KEYS: {e}"))?;
        anyhow::ensure!(
            !keys.contains_secret(DEMO_IDENTITY_KEYS.split_once(':').map_or("", |p| p.1))
                && secret.expose() != DEMO_STORE_API_SECRET,
            "the demo secrets are public: set your own SWITCHBOARD_IDENTITY_KEYS and SWITCHBOARD_STORE_API_SECRET (or run with --demo)"
        );
        anyhow::ensure!(secret.expose().len() >= 16, "SWITCHBOARD_STORE_API_SECRET must be at least 16 characters");
        (keys, secret)
    };
    let allowed_origins = allowed_origins(&file);
    let events =
        crate::outbox::EventSettings::new(&args.event_endpoints, secret_from_env("SWITCHBOARD_EVENT_SECRET")?)?
            .map(|e| crate::outbox::EventSettings { first_retry: args.event_first_retry, ..e });
    let default_db = if args.demo { "sqlite://data/demo.db" } else { "sqlite://data/switchboard.db" };
    Ok(ServerConfig {
        listen: args.listen,
        database_url: args.database.clone().unwrap_or_else(|| default_db.to_string()),
        demo: args.demo,
        models: paths.models.clone(),
        intents: paths.intents.clone(),
        classifier: ClassifierOptions {
            sessions: args.classifier_sessions,
            intra_threads: args.classifier_threads,
            batch: BatchPolicy { max_size: args.classifier_batch_size, max_wait: args.classifier_batch_wait },
        },
        identity_keys,
        store_api_secret: Some(store_api_secret),
        profile: file.store,
        web_dir: args.web.clone(),
        public_url: args.public_url.clone(),
        allowed_origins,
        auto_assign_cap: args.auto_assign_cap.map(usize::from),
        gate: file.gate,
        assume_resolved_after: args.assume_resolved_after,
        trusted_proxies: args.protection.trusted_proxies.clone(),
        shopper_limits: args.protection.shopper_limits(),
        connections: args.protection.connections(),
        request_deadline: args.protection.request_deadline,
        db_acquire_timeout: args.protection.db_acquire_timeout,
        retention_days: args.retention_days,
        shopify_webhook_secret: secret_from_env("SWITCHBOARD_SHOPIFY_WEBHOOK_SECRET")?,
        woocommerce_webhook_secret: secret_from_env("SWITCHBOARD_WOOCOMMERCE_WEBHOOK_SECRET")?,
        events,
    })
}

/// Storefront origins from the settings file plus `SWITCHBOARD_ALLOWED_ORIGINS` (comma-separated).
fn allowed_origins(file: &FileSettings) -> Vec<String> {
    let mut origins = file.allowed_origins.clone();
    if let Ok(env) = std::env::var("SWITCHBOARD_ALLOWED_ORIGINS") {
        origins.extend(env.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_string));
    }
    origins
}

fn print_demo_banner(addr: SocketAddr, keys: &IdentityKeys) {
    let claims = CustomerClaims {
        customer_id: crate::demo::DEMO_CUSTOMER_ID.into(),
        email: crate::demo::DEMO_CUSTOMER_EMAIL.into(),
        exp: chrono::Utc::now().timestamp() + 30 * 24 * 3600,
        kid: keys.current_kid().unwrap_or("demo").into(),
    };
    let token = keys.sign(&claims).unwrap_or_default();
    println!("Switchboard demo store: http://{addr}/");
    println!("  signed-in demo shopper (Alex Morgan, {}), customer token:\n    {token}", crate::demo::DEMO_CUSTOMER_ID);
    println!("  guest shopper: order {} with email {}", crate::demo::DEMO_GUEST_ORDER, crate::demo::DEMO_GUEST_EMAIL);
    println!(
        "  try: curl -s -X POST http://{addr}/api/v1/classify -H 'content-type: application/json' -d '{{\"text\":\"where is my order\"}}'"
    );
    println!(
        "  agent console: http://{addr}/console  log in as {} or {} (admin), password {}",
        crate::demo::DEMO_AGENT_EMAIL,
        crate::demo::DEMO_ADMIN_EMAIL,
        crate::demo::DEMO_AGENT_PASSWORD
    );
    println!("  store API secret (demo only): {DEMO_STORE_API_SECRET}");
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed at once, before the banner says
/// the server is up, so a stop signal sent right after it drains instead of killing.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
            match s {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! { () = wait(interrupt) => {}, () = wait(terminate) => {} }
    }
}
