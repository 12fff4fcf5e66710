//! Agent log-in, sessions and request checks, on SQLite and PostgreSQL: log-in and log-out,
//! wrong password and unknown email answered alike, the session id rotated on log-in, old
//! cookies refused, disabled agents refused at once (and their streams ended), CSRF and
//! Origin checks, and the password policy of `switchboard agent add`.

#[macro_use]
mod common;
#[path = "common/agents.rs"]
mod agents_support;

use std::time::{Duration, Instant};

use agents_support::{
    AgentClient, STRONG_PASSWORD, cli_agent_add, cli_agent_disable, create_agent, queued_conversation,
};
use common::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use switchboard::demo::{DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD};

on_both_engines!(
    login_logout_and_wrong_credentials,
    session_id_is_rotated_on_login,
    logout_ends_the_open_stream,
    disabled_agent_is_refused_at_once_and_its_stream_ends,
    csrf_header_and_origin_are_required,
    cli_agent_add_enforces_the_password_policy,
);

async fn login_logout_and_wrong_credentials(app: &TestApp) {
    let agent = AgentClient::for_app(app);
    // Not logged in: refused.
    assert_eq!(agent.get("/api/v1/agent/me").await.status, StatusCode::UNAUTHORIZED);

    let r = agent.login_full(DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    assert_eq!(r.reply.status, StatusCode::OK, "{}", r.reply.raw);
    assert_eq!(r.reply.json["agent"]["email"], DEMO_AGENT_EMAIL);
    assert!(r.reply.json["csrf_token"].as_str().is_some_and(|t| t.len() >= 32), "{}", r.reply.raw);
    assert!(!r.reply.raw.contains("password_hash") && !r.reply.raw.contains("argon2"), "{}", r.reply.raw);
    // The cookie: plain name over http, HttpOnly, SameSite=Strict, Path=/, not Secure.
    let cookie =
        r.set_cookies.iter().find(|c| c.starts_with("switchboard_session=")).expect("a session cookie").to_lowercase();
    assert!(cookie.contains("httponly"), "{cookie}");
    assert!(cookie.contains("samesite=strict"), "{cookie}");
    assert!(cookie.contains("path=/"), "{cookie}");
    assert!(!cookie.contains("secure"), "{cookie}");
    let me = agent.get("/api/v1/agent/me").await.ok();
    assert_eq!(me["agent"]["email"], DEMO_AGENT_EMAIL);

    // Log-out ends the session: the old cookie is refused afterwards.
    let session = agent.cookie().expect("a cookie");
    let out = agent.logout().await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.raw);
    assert_eq!(agent.cookie(), None, "log-out clears the cookie");
    agent.set_cookie_value(Some(session));
    let after = agent.get("/api/v1/agent/me").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "the logged-out cookie is refused: {}", after.raw);
    assert!(after.json["agent"].is_null(), "{}", after.raw);

    // Wrong password and unknown email: same status, same body, similar time.
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..3 {
        let c = AgentClient::for_app(app);
        let t = Instant::now();
        let w = c.login(DEMO_AGENT_EMAIL, "not-the-password").await;
        wrong.push(t.elapsed());
        let t = Instant::now();
        let u = c.login(&format!("nobody{i}@example.com"), "not-the-password").await;
        unknown.push(t.elapsed());
        assert_eq!(w.status, StatusCode::UNAUTHORIZED, "{}", w.raw);
        assert_eq!(u.status, w.status);
        assert_eq!(u.raw, w.raw, "an unknown email gets the same answer as a wrong password");
        assert_eq!(c.cookie(), None, "a failed log-in sets no session");
    }
    let avg = |v: &[Duration]| v.iter().sum::<Duration>() / v.len() as u32;
    let (w, u) = (avg(&wrong), avg(&unknown));
    println!("login failure time: wrong password {w:?}, unknown email {u:?}");
    assert!(u * 3 >= w && w * 3 >= u, "unknown email ({u:?}) and wrong password ({w:?}) should cost about the same");
    // Emails are case-insensitive.
    let c = AgentClient::for_app(app);
    assert_eq!(c.login(&DEMO_AGENT_EMAIL.to_uppercase(), DEMO_AGENT_PASSWORD).await.status, StatusCode::OK);
}

async fn session_id_is_rotated_on_login(app: &TestApp) {
    let agent = AgentClient::for_app(app);
    assert_eq!(agent.login(DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await.status, StatusCode::OK);
    let a = agent.cookie().expect("cookie A");
    assert_eq!(agent.get("/api/v1/agent/me").await.status, StatusCode::OK);
    // Log in again from the same client (sending cookie A): a new id.
    assert_eq!(agent.login(DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await.status, StatusCode::OK);
    let b = agent.cookie().expect("cookie B");
    assert_ne!(a, b, "the session id changes on log-in");
    assert_eq!(agent.get("/api/v1/agent/me").await.status, StatusCode::OK, "cookie B works");
    agent.set_cookie_value(Some(a.clone()));
    let old = agent.get("/api/v1/agent/me").await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "cookie A no longer works: {}", old.raw);
    // A made-up session id is refused too.
    agent.set_cookie_value(Some("AAAAAAAAAAAAAAAAAAAAAA".into()));
    assert_eq!(agent.get("/api/v1/agent/me").await.status, StatusCode::UNAUTHORIZED);
    agent.set_cookie_value(Some(b));
    assert_eq!(agent.get("/api/v1/agent/me").await.status, StatusCode::OK);
}

async fn logout_ends_the_open_stream(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let mut stream = agent.events_ready().await;
    assert_eq!(agent.get("/api/v1/agent/me").await.ok()["online_agents"], 1);
    let t = Instant::now();
    assert_eq!(agent.logout().await.status, StatusCode::NO_CONTENT);
    let seen = stream
        .ends_within(Duration::from_secs(6))
        .await
        .expect("the logged-out session's stream closes within seconds");
    println!("stream ended {:?} after log-out", t.elapsed());
    assert!(seen.iter().any(|e| e.event == "logged_out"), "{seen:?}");
    // A new log-in rotates the id: a stream opened with the old id ends too.
    let a = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let mut old_stream = a.events_ready().await;
    assert_eq!(a.login(DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await.status, StatusCode::OK);
    let seen = old_stream.ends_within(Duration::from_secs(6)).await.expect("the old session's stream closes");
    assert!(seen.iter().any(|e| e.event == "logged_out"), "{seen:?}");
    // The new session's stream stays open.
    let mut new_stream = a.events_ready().await;
    assert!(new_stream.ends_within(Duration::from_secs(3)).await.is_none(), "a valid session's stream stays open");
}

async fn disabled_agent_is_refused_at_once_and_its_stream_ends(app: &TestApp) {
    let admin = AgentClient::logged_in(&app.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    let (conv, _) = queued_conversation(app, None).await;

    // 1. Disabled with the CLI while logged in and streaming.
    let cli_agent = create_agent(&app.store, "cli.disabled@example.com", "Cli Disabled", false).await;
    let a = AgentClient::logged_in(&app.base, &cli_agent.email, STRONG_PASSWORD).await;
    let mut stream = a.events_ready().await;
    assert_eq!(a.view(&conv.id).await.status, StatusCode::OK);
    let (ok, out, err) = cli_agent_disable(&app.db.url, &cli_agent.email);
    assert!(ok, "agent disable failed:\n{out}\n{err}");
    let t = Instant::now();
    let me = a.get("/api/v1/agent/me").await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "refused on the very next request: {}", me.raw);
    assert_eq!(a.claim(&conv.id).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.view(&conv.id).await.status, StatusCode::UNAUTHORIZED);
    let seen =
        stream.ends_within(Duration::from_secs(6)).await.expect("the disabled agent's stream closes within seconds");
    println!(
        "CLI-disabled agent's stream ended after {:?}; events: {:?}",
        t.elapsed(),
        seen.iter().map(|e| &e.event).collect::<Vec<_>>()
    );
    assert!(seen.iter().any(|e| e.event == "logged_out"), "told it is logged out: {seen:?}");
    // It can no longer log in, and gets the same answer as a wrong password.
    let again = AgentClient::for_app(app);
    let r = again.login(&cli_agent.email, STRONG_PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.raw);
    assert_eq!(again.events().await.status, StatusCode::UNAUTHORIZED);

    // 2. Disabled by an admin through the API.
    let api_agent = create_agent(&app.store, "api.disabled@example.com", "Api Disabled", false).await;
    let b = AgentClient::logged_in(&app.base, &api_agent.email, STRONG_PASSWORD).await;
    let mut stream = b.events_ready().await;
    // An agent cannot disable anyone.
    let refused = b.post(&format!("/api/v1/admin/agents/{}/disable", cli_agent.id), &json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.raw);
    let d = admin.post(&format!("/api/v1/admin/agents/{}/disable", api_agent.id), &json!({})).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.raw);
    assert_eq!(d.json["agent"]["disabled"], true);
    let t = Instant::now();
    assert_eq!(b.get("/api/v1/agent/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(b.get("/api/v1/agent/conversations?state=queued").await.status, StatusCode::UNAUTHORIZED);
    let seen =
        stream.ends_within(Duration::from_secs(6)).await.expect("the disabled agent's stream closes within seconds");
    println!("API-disabled agent's stream ended after {:?}", t.elapsed());
    assert!(seen.iter().any(|e| e.event == "logged_out"), "{seen:?}");
    let list = admin.get("/api/v1/admin/agents").await.ok();
    let listed = list["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|x| x["id"] == api_agent.id.as_str())
        .expect("listed")
        .clone();
    assert_eq!(listed["disabled"], true);
    // The admin's own session is unaffected.
    assert_eq!(admin.get("/api/v1/agent/me").await.status, StatusCode::OK);
}

async fn csrf_header_and_origin_are_required(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let csrf = agent.csrf().expect("a CSRF token");
    let own = agent.origin.clone();
    let (conv, _) = queued_conversation(app, None).await;
    let claim = format!("/api/v1/agent/conversations/{}/claim", conv.id);

    let cases: [(&str, Option<&str>, Option<&str>); 5] = [
        ("no CSRF header", None, Some(&own)),
        ("wrong CSRF header", Some("0123456789abcdef0123456789abcdef"), Some(&own)),
        ("empty CSRF header", Some(""), Some(&own)),
        ("foreign Origin", Some(&csrf), Some("https://evil.example")),
        ("no Origin", Some(&csrf), None),
    ];
    for (what, c, o) in cases {
        let r = agent.post_with(&claim, &json!({}), c, o).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.raw);
        assert!(r.json["error"]["code"].is_string(), "{what}: JSON error: {}", r.raw);
    }
    // Nothing changed.
    assert_eq!(app.stored_conversation(&conv).await.assigned_agent, None);
    assert_eq!(
        agent.post_with("/api/v1/agent/logout", &json!({}), None, Some(&own)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(agent.get("/api/v1/agent/me").await.status, StatusCode::OK, "a refused log-out leaves the session");
    // Another agent's CSRF token does not work with this session.
    let other = AgentClient::logged_in(&app.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    let theirs = other.csrf().expect("token");
    assert_ne!(theirs, csrf);
    assert_eq!(agent.post_with(&claim, &json!({}), Some(&theirs), Some(&own)).await.status, StatusCode::FORBIDDEN);
    // Log-in from a foreign origin is refused too.
    let c = AgentClient::for_app(app);
    let r = c
        .client
        .post(c.url("/api/v1/agent/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"email": DEMO_AGENT_EMAIL, "password": DEMO_AGENT_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With both: accepted.
    let ok = agent.post_with(&claim, &json!({}), Some(&csrf), Some(&own)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.raw);
}

async fn cli_agent_add_enforces_the_password_policy(app: &TestApp) {
    let url = app.db.url.clone();
    let refused =
        [("password123", "common"), ("Password1", "common"), ("switchboard", "common"), ("short1", "at least 8")];
    for (password, why) in refused {
        let (ok, out, err) = tokio::task::spawn_blocking({
            let url = url.clone();
            let password = password.to_string();
            move || cli_agent_add(&url, "weak@example.com", "Weak", &password)
        })
        .await
        .unwrap();
        assert!(!ok, "`{password}` must be refused:\n{out}\n{err}");
        assert!(err.contains(why), "`{password}`: says why ({why}): {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(
        app.store.agents().await.unwrap().iter().all(|a| a.email != "weak@example.com"),
        "a refused password creates no account"
    );
    // A good password: added, and it logs in.
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        cli_agent_add(&url, "new.agent@example.com", "New Agent", "quiet orange lantern")
    })
    .await
    .unwrap();
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("new.agent@example.com"), "{out}");
    assert!(!out.contains("quiet orange lantern"), "a typed password is not echoed: {out}");
    let c = AgentClient::for_app(app);
    assert_eq!(c.login("new.agent@example.com", "quiet orange lantern").await.status, StatusCode::OK);
    let stored: String = sqlx::query_scalar::<_, String>("SELECT password_hash FROM agents WHERE email = $1")
        .bind("new.agent@example.com")
        .fetch_one(&admin_pool(app).await)
        .await
        .expect("the hash");
    assert!(stored.starts_with("$argon2id$"), "argon2id: {stored}");
    // The same email again is refused.
    let url = app.db.url.clone();
    let (ok, _, err) = tokio::task::spawn_blocking(move || {
        cli_agent_add(&url, "new.agent@example.com", "Twice", "another long passphrase")
    })
    .await
    .unwrap();
    assert!(!ok && err.contains("already exists"), "{err}");
}

/// A plain sqlx pool on the test database, for reading columns the store does not expose.
async fn admin_pool(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&app.db.url).await.expect("a pool")
}
