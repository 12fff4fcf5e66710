//! Graceful shutdown, on SQLite and PostgreSQL: once the stop signal fires `/readyz` answers
//! 503, open shopper and agent streams are told to `reconnect` and closed, a request in flight
//! finishes, and every acknowledged message is in the database afterwards.

#[path = "common/agents.rs"]
mod agents_support;
mod common;

use std::time::{Duration, Instant};

use agents_support::{AgentClient, reply_of, shopper_events};
use common::{Conv, Engine, TestDb, encoder, server_config};
use reqwest::StatusCode;
use serde_json::json;
use switchboard::demo::{DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD};
use switchboard::startup::Application;
use switchboard::store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_on_sqlite() {
    graceful_shutdown(TestDb::new(Engine::Sqlite).await.expect("SQLite always runs")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_on_postgres() {
    let Some(db) = TestDb::new(Engine::Postgres).await else { return };
    graceful_shutdown(db).await;
}

/// A fresh client (no pooled connection), so each request opens a new connection.
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(30)).build().expect("a client")
}

async fn readyz(base: &str) -> Option<StatusCode> {
    fresh_client().get(format!("{base}/readyz")).send().await.ok().map(|r| r.status())
}

async fn graceful_shutdown(db: TestDb) {
    const DRAIN: Duration = Duration::from_millis(1500);
    let app = Application::build(&server_config(&db.url), Some(encoder()))
        .await
        .expect("the server starts")
        .with_drain_period(DRAIN);
    let base = format!("http://{}", app.local_addr());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run(async move {
            let _ = stop_rx.await;
        })
        .await
    });
    let http = fresh_client();
    assert_eq!(readyz(&base).await, Some(StatusCode::OK));

    // A shopper with an open stream, and an agent with an open stream.
    let r = reply_of(http.post(format!("{base}/api/v1/conversations")).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.raw);
    let conv = Conv {
        id: r.json["conversation_id"].as_str().unwrap().into(),
        token: r.json["conversation_token"].as_str().unwrap().into(),
        started: r.json.clone(),
    };
    let mut shopper = shopper_events(&base, &conv, None).await;
    let agent = AgentClient::logged_in(&base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let mut agent_stream = agent.events_ready().await;
    let send = |text: &'static str, cmid: &'static str| {
        http.post(format!("{base}/api/v1/conversations/{}/messages", conv.id))
            .bearer_auth(&conv.token)
            .json(&json!({"text": text, "client_message_id": cmid}))
            .send()
    };

    // Acknowledged just before the stop signal.
    let acked = reply_of(send("where is my order", "before-stop").await.unwrap()).await;
    assert_eq!(acked.status, StatusCode::OK, "{}", acked.raw);
    let acked_id = acked.json["message"]["id"].as_str().unwrap().to_string();
    // In flight across the stop signal: its body arrives slowly, after the signal.
    let body = "{\"text\": \"do you ship to Canada?\", \"client_message_id\": \"in-flight\"}";
    let (first, rest) = body.split_at(20);
    let (first, rest) = (first.to_string(), rest.to_string());
    let slow_body = futures::stream::unfold(0, move |step| {
        let (first, rest) = (first.clone(), rest.clone());
        async move {
            match step {
                0 => Some((Ok::<_, std::io::Error>(first), 1)),
                1 => {
                    tokio::time::sleep(Duration::from_millis(2000)).await;
                    Some((Ok(rest), 2))
                }
                _ => None,
            }
        }
    });
    let in_flight = tokio::spawn(
        fresh_client()
            .post(format!("{base}/api/v1/conversations/{}/messages", conv.id))
            .bearer_auth(&conv.token)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(slow_body))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopped_at = Instant::now();
    stop_tx.send(()).expect("the server is running");

    // Not ready any more, while still answering.
    let mut saw_503 = None;
    while stopped_at.elapsed() < DRAIN {
        if readyz(&base).await == Some(StatusCode::SERVICE_UNAVAILABLE) {
            saw_503 = Some(stopped_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let saw_503 = saw_503.expect("/readyz answered 503 after the stop signal");
    // The streams are told to reconnect, then closed.
    let (reconnect, skipped) = shopper.wait_for(Duration::from_secs(2), |e| e.event == "reconnect").await;
    assert!(reconnect.is_some(), "the shopper stream was not told to reconnect; saw {skipped:?}");
    let (reconnect, skipped) = agent_stream.wait_for(Duration::from_secs(2), |e| e.event == "reconnect").await;
    assert!(reconnect.is_some(), "the agent stream was not told to reconnect; saw {skipped:?}");
    assert!(shopper.ends_within(Duration::from_secs(5)).await.is_some(), "the shopper stream closes");
    assert!(agent_stream.ends_within(Duration::from_secs(5)).await.is_some(), "the agent stream closes");
    // The request in flight finishes.
    let finished = reply_of(in_flight.await.unwrap().expect("the in-flight request is answered")).await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.raw);
    let in_flight_id = finished.json["message"]["id"].as_str().unwrap().to_string();

    let result = tokio::time::timeout(Duration::from_secs(15), server).await.expect("the server stops within 15 s");
    result.expect("the server task").expect("the server stops cleanly");
    println!("shutdown: /readyz 503 after {saw_503:?}; stopped after {:?}", stopped_at.elapsed());
    assert!(readyz(&base).await.is_none(), "no longer accepting connections");

    // Everything acknowledged is in the database.
    let store = Store::connect(&db.url).await.expect("the database");
    let stored = store.messages_after(&conv.id, 0, true).await.expect("messages");
    let ids: Vec<&str> = stored.iter().map(|m| m.id.as_str()).collect();
    assert!(ids.contains(&acked_id.as_str()), "the message acknowledged before the stop is stored");
    assert!(ids.contains(&in_flight_id.as_str()), "the message acknowledged during the drain is stored");
    store.close().await;
}
