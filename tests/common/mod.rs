//! Shared set-up for the HTTP integration tests: the real server on 127.0.0.1:0 with a fresh
//! database (SQLite in a temporary folder, or a new PostgreSQL database per test when
//! `SWITCHBOARD_TEST_POSTGRES_URL` is set), the demo store and the shipped model.
#![allow(dead_code, unused_macros)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use switchboard::chat::{CustomerClaims, IdentityKeys};
use switchboard::classifier::{ClassifierOptions, Encoder};
use switchboard::config::{DEMO_IDENTITY_KEYS, DEMO_STORE_API_SECRET, Secret, StoreProfile};
use switchboard::startup::{Application, ServerConfig, load_encoder};
use switchboard::store::Store;

pub const POSTGRES_ENV: &str = "SWITCHBOARD_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The server's settings for a database URL: demo mode, the demo secrets, the shipped model.
pub fn server_config(database_url: &str) -> ServerConfig {
    ServerConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        database_url: database_url.to_string(),
        demo: true,
        models: root().join("models"),
        intents: root().join("intents"),
        classifier: ClassifierOptions { sessions: 2, intra_threads: 1, ..Default::default() },
        identity_keys: IdentityKeys::parse(DEMO_IDENTITY_KEYS).expect("the demo keys parse"),
        store_api_secret: Some(Secret::new(DEMO_STORE_API_SECRET)),
        profile: StoreProfile::default(),
        web_dir: root().join("web"),
        public_url: None,
        allowed_origins: Vec::new(),
        auto_assign_cap: None,
        gate: Default::default(),
        assume_resolved_after: switchboard::chat::DEFAULT_ASSUME_RESOLVED_AFTER,
        trusted_proxies: Default::default(),
        // Tests drive many shoppers from one address; the limits have tests of their own.
        shopper_limits: switchboard::domain::network::ShopperLimits::off(),
        connections: Default::default(),
        request_deadline: Duration::from_secs(5),
        db_acquire_timeout: Duration::from_secs(3),
        retention_days: None,
        shopify_webhook_secret: None,
        woocommerce_webhook_secret: None,
        events: None,
    }
}

/// The shipped encoder, loaded once per test binary and shared by its servers (each serves
/// the live model of its own database).
pub fn encoder() -> Arc<Encoder> {
    static ENCODER: OnceLock<Arc<Encoder>> = OnceLock::new();
    ENCODER
        .get_or_init(|| load_encoder(&server_config("sqlite://unused.db")).expect("the shipped encoder loads"))
        .clone()
}

/// A fresh PostgreSQL database next to the one `SWITCHBOARD_TEST_POSTGRES_URL` names:
/// (admin URL, database name, URL of the new database). `None` when the variable is unset.
pub async fn fresh_postgres_database() -> Option<(String, String, String)> {
    let Ok(admin) = std::env::var(POSTGRES_ENV) else {
        eprintln!("skipped: {POSTGRES_ENV} is not set, so this PostgreSQL test did not run");
        return None;
    };
    let name = format!("sb_{}", switchboard::util::random_hex(8));
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={admin} does not connect: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("CREATE DATABASE");
    let _ = conn.close().await;
    let mut url = reqwest::Url::parse(&admin).expect("a URL");
    url.set_path(&format!("/{name}"));
    Some((admin, name, url.to_string()))
}

/// Drops a test database (best effort), from a thread of its own so it works from `Drop`.
pub fn drop_postgres_database(admin: String, name: String) {
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async move {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                let _ = conn.close().await;
            }
        });
    })
    .join();
}

/// A database for one test: a SQLite file in a temporary folder or a new PostgreSQL database.
pub struct TestDb {
    pub url: String,
    pub engine: Engine,
    dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// `None` only for PostgreSQL when `SWITCHBOARD_TEST_POSTGRES_URL` is unset.
    pub async fn new(engine: Engine) -> Option<Self> {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some(Self { url, engine, dir: Some(dir), postgres: None })
            }
            Engine::Postgres => {
                let (admin, name, url) = fresh_postgres_database().await?;
                Some(Self { url, engine, dir: None, postgres: Some((admin, name)) })
            }
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(|d| d.path())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            drop_postgres_database(admin, name);
        }
    }
}

/// A running server and a handle on its database.
pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    // Dropped last: the database outlives the server.
    pub db: TestDb,
}

/// Starts the real server on 127.0.0.1:0 with a fresh database, the demo store and the
/// shipped model. `None` only for PostgreSQL when `SWITCHBOARD_TEST_POSTGRES_URL` is unset.
pub async fn spawn_app(engine: Engine) -> Option<TestApp> {
    spawn_app_with(engine, |_| {}).await
}

/// [`spawn_app`] with settings changed by `adjust`.
pub async fn spawn_app_with(engine: Engine, adjust: impl FnOnce(&mut ServerConfig)) -> Option<TestApp> {
    let db = TestDb::new(engine).await?;
    let mut config = server_config(&db.url);
    adjust(&mut config);
    let app = Application::build(&config, Some(encoder())).await.expect("the server starts");
    let addr = app.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run(async move {
            let _ = stop_rx.await;
        })
        .await
        .expect("the server runs");
    });
    let store = Store::connect(&db.url).await.expect("the test's store handle");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("a client");
    Some(TestApp { base: format!("http://{addr}"), store, client, stop: Some(stop_tx), server: Some(server), db })
}

/// (Use with `#[macro_use] mod common;`.)
/// Runs a scenario `async fn NAME(app: &TestApp)` as two tests, `NAME::on_sqlite` and
/// `NAME::on_postgres`; the PostgreSQL one returns early (saying so) only when
/// `SWITCHBOARD_TEST_POSTGRES_URL` is unset.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    let app = crate::common::spawn_app(crate::common::Engine::Sqlite)
                        .await
                        .expect("SQLite always runs");
                    super::$name(&app).await;
                    app.shutdown().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    let Some(app) =
                        crate::common::spawn_app(crate::common::Engine::Postgres).await
                    else {
                        return;
                    };
                    super::$name(&app).await;
                    app.shutdown().await;
                }
            }
        )*
    };
}

/// A started conversation.
#[derive(Debug, Clone)]
pub struct Conv {
    pub id: String,
    pub token: String,
    pub started: Value,
}

/// A customer token for `customer_id`, signed with the demo key.
pub fn customer_token(customer_id: &str) -> String {
    let keys = IdentityKeys::parse(DEMO_IDENTITY_KEYS).expect("the demo keys parse");
    keys.sign(&CustomerClaims {
        customer_id: customer_id.to_string(),
        email: String::new(),
        exp: chrono::Utc::now().timestamp() + 3600,
        kid: keys.current_kid().expect("a key").to_string(),
    })
    .expect("signs")
}

pub fn new_cmid() -> String {
    format!("cmid-{}", switchboard::util::random_hex(12))
}

/// A response: status, raw body text and the body as JSON (Null when it is not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub raw: String,
    pub json: Value,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let raw = response.text().await.expect("a body");
        let json = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Self { status, headers, raw, json }
    }

    pub fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.raw);
        self.json
    }

    /// The texts of the bot's replies (sender "bot").
    pub fn bot_texts(&self) -> Vec<String> {
        bot_texts(&self.json)
    }
}

/// The texts of the bot's replies in a turn result.
pub fn bot_texts(turn: &Value) -> Vec<String> {
    turn["replies"]
        .as_array()
        .unwrap_or_else(|| panic!("no replies in {turn}"))
        .iter()
        .filter(|m| m["sender"] == "bot")
        .map(|m| m["text"].as_str().expect("text").to_string())
        .collect()
}

/// All bot reply texts joined, for `contains` checks.
pub fn bot_text(turn: &Value) -> String {
    bot_texts(turn).join("\n")
}

/// The quick-reply values offered in a turn's replies.
pub fn quick_values(turn: &Value) -> Vec<String> {
    turn["replies"]
        .as_array()
        .expect("replies")
        .iter()
        .flat_map(|m| m["quick_replies"].as_array().cloned().unwrap_or_default())
        .map(|q| q["value"].as_str().expect("value").to_string())
        .collect()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server and closes the pools; the database is dropped with `self.db`.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
        self.store.close().await;
    }

    pub async fn start(&self, customer_token: Option<&str>) -> Conv {
        let body = match customer_token {
            Some(t) => json!({"customer_token": t}),
            None => json!({}),
        };
        let r =
            Reply::from(self.client.post(self.url("/api/v1/conversations")).json(&body).send().await.expect("start"))
                .await;
        assert_eq!(r.status, StatusCode::CREATED, "start: {}", r.raw);
        Conv {
            id: r.json["conversation_id"].as_str().expect("id").to_string(),
            token: r.json["conversation_token"].as_str().expect("token").to_string(),
            started: r.json,
        }
    }

    /// A signed-in shopper's conversation (customer token for `customer_id`).
    pub async fn start_signed_in(&self, customer_id: &str) -> Conv {
        let conv = self.start(Some(&customer_token(customer_id))).await;
        assert_eq!(conv.started["verified"], true, "{}", conv.started);
        conv
    }

    /// POSTs a JSON body with the conversation's bearer token.
    pub async fn post(&self, conv: &Conv, path: &str, body: &Value) -> Reply {
        Reply::from(
            self.client
                .post(self.url(&format!("/api/v1/conversations/{}{path}", conv.id)))
                .bearer_auth(&conv.token)
                .json(body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// Sends raw bytes as a body, with optional bearer token and content type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.client.post(self.url(path)).body(body);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, ct);
        }
        Reply::from(request.send().await.expect("request")).await
    }

    pub async fn send_with(
        &self,
        conv: &Conv,
        text: &str,
        quick_reply: Option<&str>,
        client_message_id: &str,
    ) -> Reply {
        let mut body = json!({"text": text, "client_message_id": client_message_id});
        if let Some(q) = quick_reply {
            body["quick_reply"] = json!(q);
        }
        self.post(conv, "/messages", &body).await
    }

    /// Sends a message with a new client_message_id; expects 200.
    pub async fn send(&self, conv: &Conv, text: &str) -> Value {
        self.send_with(conv, text, None, &new_cmid()).await.ok()
    }

    /// Clicks a quick reply (with the button's label as text); expects 200.
    pub async fn click(&self, conv: &Conv, label: &str, value: &str) -> Value {
        self.send_with(conv, label, Some(value), &new_cmid()).await.ok()
    }

    pub async fn verify(&self, conv: &Conv, order_number: &str, email: &str) -> Reply {
        self.post(conv, "/verify", &json!({"order_number": order_number, "email": email})).await
    }

    pub async fn handoff(&self, conv: &Conv) -> Value {
        self.post(conv, "/handoff", &json!({})).await.ok()
    }

    pub async fn messages(&self, conv: &Conv, after: i64) -> Value {
        Reply::from(
            self.client
                .get(self.url(&format!("/api/v1/conversations/{}/messages?after={after}", conv.id)))
                .bearer_auth(&conv.token)
                .send()
                .await
                .expect("request"),
        )
        .await
        .ok()
    }

    /// POST /api/v1/classify (open in demo mode).
    pub async fn classify(&self, text: &str) -> Value {
        Reply::from(
            self.client.post(self.url("/api/v1/classify")).json(&json!({"text": text})).send().await.expect("request"),
        )
        .await
        .ok()
    }

    /// The conversation as stored.
    pub async fn stored_conversation(&self, conv: &Conv) -> switchboard::domain::conversation::Conversation {
        self.store.conversation(&conv.id).await.expect("store").expect("the conversation is stored")
    }

    /// Every stored message of a conversation (notes included).
    pub async fn stored_messages(&self, conv: &Conv) -> Vec<switchboard::domain::conversation::Message> {
        self.store.messages_after(&conv.id, 0, true).await.expect("store")
    }

    pub async fn write_counts(&self) -> Vec<(String, i64)> {
        self.store.write_counts().await.expect("counts")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A path under the crate root, for fixtures.
pub fn fixture(path: &str) -> PathBuf {
    root().join(path)
}
