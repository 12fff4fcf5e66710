//! PostgreSQL only: two instances on one database. A retrain started on A is followed from B;
//! a promotion on A is served by B within seconds, and a roll-back on B by A, while shoppers
//! keep writing to both: no message fails, and each is answered by the old model or the new.
//! Prints the time from promotion to the other instance serving it.

#[path = "common/agents.rs"]
mod agents_support;
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use agents_support::{AgentClient, reply_of};
use common::{Engine, TestDb, encoder, new_cmid, server_config};
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::demo::{DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD};
use switchboard::startup::Application;

/// A server on 127.0.0.1:0 over `database_url`, stopped when the sender is dropped.
async fn instance(database_url: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let app = Application::build(&server_config(database_url), Some(encoder())).await.expect("the server starts");
    let base = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run(async move {
            let _ = stopped.await;
        })
        .await
        .expect("the server runs");
    });
    (base, stop)
}

async fn classify(client: &reqwest::Client, base: &str, text: &str) -> Value {
    let r = client.post(format!("{base}/api/v1/classify")).json(&json!({"text": text})).send().await.expect("classify");
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

/// Waits until `base` classifies with `version`; how long that took.
async fn served_within(client: &reqwest::Client, base: &str, version: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if classify(client, base, "where is my order").await["model_version"] == version {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{base} did not serve {version} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A shopper writing to `base` until `stop`: (messages answered, model versions seen, failures).
async fn shopper_load(base: String, stop: Arc<AtomicBool>) -> (usize, Vec<String>, Vec<String>) {
    let client = reqwest::Client::new();
    let (mut answered, mut versions, mut failures) = (0, Vec::new(), Vec::new());
    let start = |client: &reqwest::Client| client.post(format!("{base}/api/v1/conversations")).json(&json!({})).send();
    let conv: Value = start(&client).await.expect("start").json().await.expect("json");
    let (id, token) = (conv["conversation_id"].as_str().unwrap(), conv["conversation_token"].as_str().unwrap());
    let texts = ["hello", "where is my order", "do you ship to France", "thanks"];
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let body = json!({"text": texts[i % texts.len()], "client_message_id": new_cmid()});
        i += 1;
        let response = client
            .post(format!("{base}/api/v1/conversations/{id}/messages"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await;
        match response {
            Ok(r) if r.status() == StatusCode::OK => {
                let turn: Value = r.json().await.unwrap_or_default();
                let version = turn["triage"]["model_version"].as_str().unwrap_or("").to_string();
                if !versions.contains(&version) {
                    versions.push(version);
                }
                answered += 1;
            }
            Ok(r) => failures.push(format!("{}: {}", r.status(), r.text().await.unwrap_or_default())),
            Err(e) => failures.push(e.to_string()),
        }
    }
    (answered, versions, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_reaches_every_instance_while_shoppers_write_and_nothing_fails() {
    let Some(db) = TestDb::new(Engine::Postgres).await else { return };
    let (a, _stop_a) = instance(&db.url).await;
    let (b, _stop_b) = instance(&db.url).await;
    let client = reqwest::Client::new();
    let shipped = classify(&client, &b, "where is my order").await["model_version"].as_str().unwrap().to_string();

    // Agents on A label a new phrasing; an admin approves it and starts a retrain on A.
    let agent = AgentClient::logged_in(&a, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let admin_a = AgentClient::logged_in(&a, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    let admin_b = AgentClient::logged_in(&b, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    let texts = [
        "hoi, waar is mijn bestelling",
        "waar blijft mijn pakket nou",
        "is mijn pakket al verzonden",
        "wanneer wordt mijn bestelling geleverd",
        "mijn bestelling is er nog niet",
        "hoe staat het met mijn pakketje",
    ];
    for text in texts {
        let conv: Value = client
            .post(format!("{a}/api/v1/conversations"))
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let r = reply_of(
            client
                .post(format!("{a}/api/v1/conversations/{}/messages", conv["conversation_id"].as_str().unwrap()))
                .bearer_auth(conv["conversation_token"].as_str().unwrap())
                .json(&json!({"text": text, "client_message_id": new_cmid()}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            agent.label(r.json["message"]["id"].as_str().unwrap(), "order_status").await.status,
            StatusCode::CREATED
        );
    }
    let pending = admin_a.get("/api/v1/admin/training-examples").await.ok();
    let ids: Vec<Value> = pending["training_examples"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect();
    let r = admin_a.post("/api/v1/admin/training-examples/review", &json!({"ids": ids, "status": "approved"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let job_id =
        admin_a.post("/api/v1/admin/models/retrain", &json!({})).await.json["job_id"].as_str().unwrap().to_string();
    let refused = admin_b.post("/api/v1/admin/models/retrain", &json!({})).await;
    assert_eq!(
        refused.status,
        StatusCode::CONFLICT,
        "one retrain per database, whichever instance asks: {}",
        refused.raw
    );
    // Followed from B.
    let started = Instant::now();
    let job = loop {
        let job = admin_b.get(&format!("/api/v1/admin/jobs/{job_id}")).await.ok();
        if job["state"] == "succeeded" || job["state"] == "failed" {
            break job;
        }
        assert!(started.elapsed() < Duration::from_secs(240), "{job}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(job["state"], "succeeded", "{job}");
    let version = job["model_version"].as_str().unwrap().to_string();

    // Shoppers write to both instances while A promotes and B rolls back.
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|i| tokio::spawn(shopper_load(if i % 2 == 0 { a.clone() } else { b.clone() }, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = admin_a.post(&format!("/api/v1/admin/models/{version}/promote"), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let to_b = served_within(&client, &b, &version, Duration::from_secs(5)).await;
    assert_eq!(classify(&client, &a, "where is my order").await["model_version"], version.as_str());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = admin_b.post("/api/v1/admin/models/rollback", &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let to_a = served_within(&client, &a, &shipped, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut answered, mut failures, mut versions) = (0, Vec::new(), Vec::new());
    for task in load {
        let (n, v, f) = task.await.unwrap();
        answered += n;
        failures.extend(f);
        versions.extend(v);
    }
    assert!(failures.is_empty(), "messages failed during the swaps: {failures:?}");
    assert!(versions.iter().all(|v| *v == shipped || *v == version), "{versions:?}");
    assert!(answered > 20, "the shoppers kept writing: {answered}");
    eprintln!(
        "promotion on A served by B after {:.0} ms; roll-back on B served by A after {:.0} ms; {answered} messages during the swaps, 0 failed",
        to_b.as_secs_f64() * 1000.0,
        to_a.as_secs_f64() * 1000.0
    );
}
