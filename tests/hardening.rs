//! Production hardening through the real server: the client address behind trusted proxies,
//! rate limits and stream caps answered 429 with `Retry-After`, sign-in delays and the account
//! lock (kept in the database), admin unlock / enable / password reset, guest verification
//! limits that spare the real guest elsewhere, JSON for every error, 503 when SQLite is locked,
//! connection timeouts and the connection cap, security and caching headers.

#[path = "common/agents.rs"]
mod agents_support;
mod common;

use std::time::{Duration, Instant};

use agents_support::{AgentClient, reply_of};
use common::{Engine, TestApp, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use switchboard::demo::{DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD, DEMO_GUEST_EMAIL, DEMO_GUEST_ORDER};
use switchboard::domain::network::{Rate, ShopperLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_failures_slow_the_pair_not_the_agent_on_sqlite() {
    sign_in_failures_slow_the_pair_not_the_agent(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_failures_slow_the_pair_not_the_agent_on_postgres() {
    sign_in_failures_slow_the_pair_not_the_agent(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_failures_locks_until_an_admin_unlocks_on_sqlite() {
    a_flood_of_failures_locks_until_an_admin_unlocks(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_failures_locks_until_an_admin_unlocks_on_postgres() {
    a_flood_of_failures_locks_until_an_admin_unlocks(Engine::Postgres).await;
}

/// Runs SQL on the test's database directly (to set up what would take long through the API).
async fn execute(app: &TestApp, sql: &str) -> Vec<sqlx::any::AnyRow> {
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.expect("a direct connection");
    sqlx::query(sql).fetch_all(&mut conn).await.expect("the query runs")
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    use sqlx::Row;
    execute(app, "SELECT action FROM audit_log").await.iter().map(|r| r.get::<String, _>(0)).collect()
}

/// A server behind a trusted proxy on 127.0.0.1, so each test client can be a different
/// address through `X-Forwarded-For`.
async fn behind_proxy(engine: Engine, limits: ShopperLimits) -> Option<TestApp> {
    spawn_app_with(engine, |c| {
        c.trusted_proxies = "127.0.0.1/32".parse().unwrap();
        c.shopper_limits = limits;
    })
    .await
}

fn assert_json_error(r: &common::Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.raw);
    assert_eq!(r.json["error"]["code"], code, "{}", r.raw);
    assert!(r.json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.raw);
}

async fn start_from(app: &TestApp, address: &str) -> common::Reply {
    let response = app
        .client
        .post(app.url("/api/v1/conversations"))
        .header("x-forwarded-for", format!("203.0.113.250, {address}"))
        .json(&json!({}))
        .send()
        .await
        .expect("start");
    reply_of(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_conversations_are_limited_per_client_address_behind_a_trusted_proxy() {
    let limits = ShopperLimits { new_conversations: Rate::PerMinute(3), ..ShopperLimits::off() };
    let app = behind_proxy(Engine::Sqlite, limits).await.unwrap();
    for _ in 0..3 {
        assert_eq!(start_from(&app, "198.51.100.1").await.status, StatusCode::CREATED);
    }
    let refused = start_from(&app, "198.51.100.1").await;
    assert_json_error(&refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=21).contains(&retry_after), "one conversation every 20 s: {retry_after}");
    // The forged left-hand entry is not the client; another real address is not affected.
    assert_eq!(start_from(&app, "198.51.100.2").await.status, StatusCode::CREATED);
    app.shutdown().await;

    // Without a trusted proxy the header is ignored: every request is the peer's.
    let app = spawn_app_with(Engine::Sqlite, |c| c.shopper_limits = limits).await.unwrap();
    for _ in 0..3 {
        assert_eq!(start_from(&app, "198.51.100.1").await.status, StatusCode::CREATED);
    }
    assert_eq!(start_from(&app, "198.51.100.2").await.status, StatusCode::TOO_MANY_REQUESTS);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_limited_per_conversation_and_streams_are_capped() {
    let limits =
        ShopperLimits { per_conversation: Rate::PerMinute(4), streams_per_conversation: 1, ..ShopperLimits::off() };
    let app = behind_proxy(Engine::Sqlite, limits).await.unwrap();
    let conv = app.start(None).await;
    let stream = shopper_get(&app, &conv, "/events").await;
    assert_eq!(stream.status(), StatusCode::OK);
    let second = reply_of(shopper_get(&app, &conv, "/events").await).await;
    assert_json_error(&second, StatusCode::TOO_MANY_REQUESTS, "too_many_streams");
    assert!(second.headers.contains_key("retry-after"));
    drop(stream);
    // Two requests used so far; two more are allowed, the fifth is not.
    for _ in 0..2 {
        assert!(app.messages(&conv, 0).await["messages"].is_array());
    }
    let r = reply_of(shopper_get(&app, &conv, "/messages").await).await;
    assert_json_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Another conversation is not affected.
    let other = app.start(None).await;
    assert!(app.messages(&other, 0).await["messages"].is_array());
    app.shutdown().await;
}

/// A GET of one of the conversation's own paths, with its token.
async fn shopper_get(app: &TestApp, conv: &common::Conv, path: &str) -> reqwest::Response {
    let url = app.url(&format!("/api/v1/conversations/{}{path}", conv.id));
    app.client.get(url).bearer_auth(&conv.token).send().await.expect("a response")
}

async fn login_from(app: &TestApp, address: &str, email: &str, password: &str) -> common::Reply {
    let response = app
        .client
        .post(app.url("/api/v1/agent/login"))
        .header("origin", &app.base)
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login");
    reply_of(response).await
}

async fn sign_in_failures_slow_the_pair_not_the_agent(engine: Engine) {
    let Some(app) = behind_proxy(engine, ShopperLimits::off()).await else { return };
    // An attacker at one address gets five free guesses, then must wait, longer each time.
    for _ in 0..5 {
        let r = login_from(&app, "198.51.100.66", DEMO_AGENT_EMAIL, "guess").await;
        assert_json_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let r = login_from(&app, "198.51.100.66", DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    assert_json_error(&r, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(r.headers["retry-after"], "1");
    // The agent, from their own address, signs in at once.
    let r = login_from(&app, "198.51.100.7", DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    // After the delay the attacker's pair may try again (and is slowed twice as long after).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = login_from(&app, "198.51.100.66", DEMO_AGENT_EMAIL, "guess").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.raw);
    let r = login_from(&app, "198.51.100.66", DEMO_AGENT_EMAIL, "guess").await;
    assert_eq!(r.headers["retry-after"], "2", "{}", r.raw);
    app.shutdown().await;
}

async fn a_flood_of_failures_locks_until_an_admin_unlocks(engine: Engine) {
    let Some(app) = behind_proxy(engine, ShopperLimits::off()).await else { return };
    // 99 failures from 99 addresses (a botnet) within the hour; one more locks the account.
    let now = chrono::Utc::now().timestamp_millis();
    let rows: Vec<String> = (0..99).map(|i| format!("('{DEMO_AGENT_EMAIL}', 'botnet-{i}', {now})")).collect();
    execute(
        &app,
        &format!("INSERT INTO login_failures (account, address_hash, created_at) VALUES {}", rows.join(", ")),
    )
    .await;
    let r = login_from(&app, "198.51.100.99", DEMO_AGENT_EMAIL, "guess").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Locked: the right password is told so; a wrong one learns nothing new.
    let r = login_from(&app, "198.51.100.7", DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    assert_json_error(&r, StatusCode::FORBIDDEN, "account_locked");
    let r = login_from(&app, "198.51.100.8", DEMO_AGENT_EMAIL, "guess").await;
    assert_json_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    // Another account is not affected; its admin unlocks the agent.
    let admin = AgentClient::logged_in(&app.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    let agents = admin.get("/api/v1/admin/agents").await;
    let agent = agents.json["agents"].as_array().unwrap().iter().find(|a| a["email"] == DEMO_AGENT_EMAIL).unwrap();
    assert_eq!(agent["locked"], true, "{agent}");
    let id = agent["id"].as_str().unwrap();
    let r = admin.post(&format!("/api/v1/admin/agents/{id}/unlock"), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.json["agent"]["locked"], false);
    let r = login_from(&app, "198.51.100.7", DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let actions = audit_actions(&app).await;
    assert!(actions.iter().any(|a| a == "agent_locked"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "agent_unlock"), "{actions:?}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_enable_agents_and_reset_passwords_audited() {
    let app = common::spawn_app(Engine::Sqlite).await.unwrap();
    let admin = AgentClient::logged_in(&app.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let id = agent.agent_id();
    assert_eq!(admin.post(&format!("/api/v1/admin/agents/{id}/disable"), &json!({})).await.status, StatusCode::OK);
    assert_eq!(
        AgentClient::new(&app.base).login(DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = admin.post(&format!("/api/v1/admin/agents/{id}/enable"), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.json["agent"]["disabled"], false);
    assert_eq!(agent.get("/api/v1/agent/me").await.status, StatusCode::UNAUTHORIZED, "old sessions stay void");
    assert_eq!(AgentClient::new(&app.base).login(DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await.status, StatusCode::OK);

    // A reset shows the new password once; the old one and the old sessions stop working.
    let before = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let r = admin.post(&format!("/api/v1/admin/agents/{id}/reset-password"), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let password = r.json["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 16, "{password}");
    assert_eq!(before.get("/api/v1/agent/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        AgentClient::new(&app.base).login(DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(AgentClient::new(&app.base).login(DEMO_AGENT_EMAIL, &password).await.status, StatusCode::OK);
    // Only admins may.
    let r = agent_with_new_password(&app, &password)
        .await
        .post(&format!("/api/v1/admin/agents/{id}/enable"), &json!({}))
        .await;
    assert_json_error(&r, StatusCode::FORBIDDEN, "admin_only");
    let unknown = admin.post("/api/v1/admin/agents/nope/reset-password", &json!({})).await;
    assert_json_error(&unknown, StatusCode::NOT_FOUND, "not_found");
    let actions = audit_actions(&app).await;
    for action in ["agent_disable", "agent_enable", "agent_password_reset"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
    app.shutdown().await;
}

async fn agent_with_new_password(app: &TestApp, password: &str) -> AgentClient {
    AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, password).await
}

async fn guest_verify(app: &TestApp, address: &str, conv: &common::Conv, email: &str) -> Value {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/conversations/{}/verify", conv.id)))
        .bearer_auth(&conv.token)
        .header("x-forwarded-for", address)
        .json(&json!({"order_number": DEMO_GUEST_ORDER, "email": email}))
        .send()
        .await
        .unwrap();
    reply_of(response).await.json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_guessing_an_order_does_not_lock_out_the_real_guest() {
    let app = behind_proxy(Engine::Sqlite, ShopperLimits::off()).await.unwrap();
    for _ in 0..5 {
        let conv = app.start(None).await;
        app.send(&conv, "where is my order?").await;
        assert_eq!(guest_verify(&app, "198.51.100.66", &conv, "guess@example.com").await["verified"], false);
    }
    // The guesser's address is now refused even with the right details...
    let conv = app.start(None).await;
    app.send(&conv, "where is my order?").await;
    let r = guest_verify(&app, "198.51.100.66", &conv, DEMO_GUEST_EMAIL).await;
    assert_eq!(r["verified"], false, "{r}");
    // ...and the real guest, elsewhere, is verified.
    let conv = app.start(None).await;
    app.send(&conv, "where is my order?").await;
    let r = guest_verify(&app, "198.51.100.7", &conv, DEMO_GUEST_EMAIL).await;
    assert_eq!(r["verified"], true, "{r}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_json() {
    let app = common::spawn_app(Engine::Sqlite).await.unwrap();
    let send = |method: reqwest::Method, path: &str| app.client.request(method, app.url(path));
    let r = reply_of(send(reqwest::Method::GET, "/api/v1/nothing-here").send().await.unwrap()).await;
    assert_json_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = reply_of(send(reqwest::Method::DELETE, "/api/v1/conversations").send().await.unwrap()).await;
    assert_json_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(r.headers["allow"], "POST");
    let r = reply_of(
        send(reqwest::Method::GET, "/api/v1/conversations/%FF/messages").bearer_auth("x").send().await.unwrap(),
    )
    .await;
    assert_json_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    let conv = app.start(None).await;
    let r = reply_of(
        send(reqwest::Method::GET, &format!("/api/v1/conversations/{}/messages?x=1", conv.id))
            .bearer_auth(&conv.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_json_error(&r, StatusCode::BAD_REQUEST, "invalid_query");
    let r = reply_of(
        send(reqwest::Method::POST, &format!("/api/v1/conversations/{}/messages", conv.id))
            .bearer_auth(&conv.token)
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_json_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let r = reply_of(
        send(reqwest::Method::POST, "/api/v1/agent/login")
            .header("content-type", "application/json")
            .body(vec![b' '; 70 * 1024])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_json_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    // Every answer says where not to send the referrer, and what it is.
    assert_eq!(r.headers["referrer-policy"], "no-referrer");
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert!(!r.headers.contains_key("strict-transport-security"), "no HSTS over plain http");
    app.shutdown().await;

    let app =
        spawn_app_with(Engine::Sqlite, |c| c.public_url = Some("https://support.example.com".into())).await.unwrap();
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(r.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_database_answers_503_in_time_and_nothing_is_lost() {
    let app = spawn_app_with(Engine::Sqlite, |c| c.db_acquire_timeout = Duration::from_secs(1)).await.unwrap();
    let conv = app.start(None).await;
    let path = app.db.dir().unwrap().join("test.db");
    // Another process holds the write lock (a long backup, an import gone wrong).
    let mut lock = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut lock).await.unwrap();
    let started = Instant::now();
    let r = app.post(&conv, "/messages", &json!({"text": "where is my order", "client_message_id": "m1"})).await;
    let took = started.elapsed();
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.raw);
    assert_eq!(r.json["error"]["code"], "unavailable", "{}", r.raw);
    assert!(r.headers.contains_key("retry-after"));
    println!("answered 503 after {took:?} with the database locked");
    assert!(took < Duration::from_secs(6), "no request waits more than the deadline: {took:?}");
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    drop(lock);
    // The same message again, once the lock is gone: stored once.
    let r = app.post(&conv, "/messages", &json!({"text": "where is my order", "client_message_id": "m1"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let shopper = app.stored_messages(&conv).await.into_iter().filter(|m| m.text == "where is my order").count();
    assert_eq!(shopper, 1);
    app.shutdown().await;
}

/// Reads whatever the server sends until it closes the connection (or 10 s pass).
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    (String::from_utf8_lossy(&out).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_clients_are_let_go_and_extra_connections_refused() {
    let app = spawn_app_with(Engine::Sqlite, |c| {
        c.connections.header_timeout = Duration::from_secs(1);
        c.connections.body_timeout = Duration::from_secs(1);
        c.connections.max_connections = 4;
    })
    .await
    .unwrap();
    let addr = app.base.trim_start_matches("http://").to_string();
    // Silent: connects and says nothing.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Slow headers: a byte at a time, never finishing.
    let mut slow_head = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow_head.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // Slow body: the headers promise 100 bytes; 10 come.
    let mut slow_body = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow_body
        .write_all(b"POST /api/v1/conversations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"custome")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Three held, one left: a fourth gets in, a fifth is turned away with a JSON 503.
    let mut fourth = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut fifth = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (refused, _) = read_until_closed(&mut fifth).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.contains("\"code\":\"unavailable\"") && refused.to_lowercase().contains("retry-after"),
        "{refused}"
    );
    fourth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let (ok, _) = read_until_closed(&mut fourth).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "served while others are slow: {ok}");
    for (name, stream) in [("silent", &mut silent), ("slow headers", &mut slow_head), ("slow body", &mut slow_body)] {
        let (answer, waited) = read_until_closed(stream).await;
        println!("{name}: closed after {waited:?}: {:?}", answer.lines().next());
        assert!(waited < Duration::from_secs(5), "{name} held for {waited:?}");
        if name == "slow body" {
            assert!(answer.starts_with("HTTP/1.1 408"), "a timeout for the unfinished body: {answer}");
            assert!(answer.contains("\"code\":\"timeout\""), "as JSON: {answer}");
        }
    }
    // The slots are free again.
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_is_cached_revalidated_and_compressed() {
    let app = common::spawn_app(Engine::Sqlite).await.unwrap();
    let url = app.url("/widget/widget.js");
    let r = app.client.get(&url).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["cache-control"], "public, max-age=300");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let again = app.client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag.as_str());
    let page = app.client.get(app.url("/console")).send().await.unwrap();
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(page.headers().contains_key("etag"));
    app.shutdown().await;
}
