//! Signed events for the store's own systems, over real HTTP to a real endpoint: an endpoint
//! that fails three times then recovers receives every event, each with an id that stays the
//! same across attempts and a signature over `TIMESTAMP.BODY`; every attempt is recorded; and an
//! endpoint that does not answer never holds up a chat.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use common::{Engine, TestApp, spawn_app_with};
use serde_json::{Value, json};
use switchboard::config::Secret;
use switchboard::demo::DEMO_CUSTOMER_ID;
use switchboard::domain::outbound::signature;
use switchboard::outbox::EventSettings;
use tokio::sync::{Mutex, Notify};

const SECRET: &str = "event-secret-for-the-tests";

/// What the endpoint received: (event id header, timestamp header, signature header, body).
type Received = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// An endpoint on 127.0.0.1 that answers 500 to the first `failures` requests of each event,
/// then 200; with `hold`, it holds every request until the test lets it go.
struct Endpoint {
    url: String,
    received: Received,
    release: Arc<Notify>,
}

async fn endpoint(failures: usize, hold: bool) -> Endpoint {
    let received: Received = Arc::default();
    let release = Arc::new(Notify::new());
    let (seen, gate) = (received.clone(), release.clone());
    let handler = move |headers: HeaderMap, body: String| {
        let (seen, gate) = (seen.clone(), gate.clone());
        async move {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let id = header("x-switchboard-event-id");
            let count = {
                let mut seen = seen.lock().await;
                seen.push((id.clone(), header("x-switchboard-timestamp"), header("x-switchboard-signature"), body));
                seen.iter().filter(|r| r.0 == id).count()
            };
            if hold {
                gate.notified().await;
            }
            if count <= failures { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
        }
    };
    let router = axum::Router::new().route("/events", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Endpoint { url, received, release }
}

async fn app(engine: Engine, endpoint: &Endpoint) -> Option<TestApp> {
    let settings = EventSettings {
        endpoints: vec![endpoint.url.clone()],
        secret: Secret::new(SECRET),
        first_retry: Duration::from_millis(200),
        timeout: Duration::from_secs(3),
    };
    spawn_app_with(engine, move |c| c.events = Some(settings)).await
}

/// Waits (up to 30 s) until `done` holds for what the endpoint received.
async fn until(endpoint: &Endpoint, what: &str, done: impl Fn(&[(String, String, String, String)]) -> bool) {
    for _ in 0..300 {
        if done(&endpoint.received.lock().await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: received {:#?}", endpoint.received.lock().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_endpoint_that_recovers_receives_every_event_once_recognisably_on_sqlite() {
    every_event_arrives(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_endpoint_that_recovers_receives_every_event_once_recognisably_on_postgres() {
    every_event_arrives(Engine::Postgres).await;
}

async fn every_event_arrives(engine: Engine) {
    let endpoint = endpoint(3, false).await;
    let Some(app) = app(engine, &endpoint).await else { return };

    // A hand-off, a resolution by the bot, a rating and a reorder link.
    let asks = app.start(None).await;
    app.handoff(&asks).await;
    let conv = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    app.send(&conv, "what is your return policy?").await;
    app.click(&conv, "Yes", "feedback:yes").await;
    assert_eq!(app.post(&conv, "/rating", &json!({"score": 4, "comment": "quick"})).await.status, StatusCode::OK);
    let reorder = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    app.send(&reorder, "order #10002 again please").await;
    app.click(&reorder, "Yes, make the cart", "confirm:yes").await;

    let kinds = ["conversation.handed_off", "conversation.resolved", "rating.created", "reorder.link_created"];
    let body = |r: &(String, String, String, String)| serde_json::from_str::<Value>(&r.3).unwrap();
    until(&endpoint, "every event delivered after three failures", |seen| {
        kinds.iter().all(|k| seen.iter().filter(|r| body(r)["type"] == *k).count() == 4)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = endpoint.received.lock().await.clone();
    assert_eq!(
        seen.len(),
        4 * kinds.len(),
        "each event four times (three failures, one success) and no more: {seen:#?}"
    );
    for (id, timestamp, signed, text) in &seen {
        let event: Value = serde_json::from_str(text).unwrap();
        assert_eq!(&event["id"], id.as_str(), "the header names the event in the body");
        let at: i64 = timestamp.parse().expect("a Unix time");
        assert!((at - chrono::Utc::now().timestamp()).abs() < 120);
        assert_eq!(signed, &signature(SECRET, at, text), "signed over TIMESTAMP.BODY");
    }
    // One id per event, the same on every attempt (the body too).
    for kind in kinds {
        let attempts: Vec<_> = seen.iter().filter(|r| body(r)["type"] == kind).collect();
        assert!(attempts.iter().all(|r| r.0 == attempts[0].0 && r.3 == attempts[0].3), "{kind}: {attempts:#?}");
    }
    let of = |kind: &str| seen.iter().map(body).find(|e| e["type"] == kind).unwrap_or_else(|| panic!("{kind}"));
    assert_eq!(of("conversation.handed_off")["data"]["conversation_id"], asks.id.as_str());
    assert_eq!(of("conversation.resolved")["data"]["outcome"], "bot_confirmed");
    let rating = of("rating.created");
    assert_eq!((rating["data"]["score"].clone(), rating["data"]["comment"].clone()), (json!(4), json!("quick")));
    let link = of("reorder.link_created");
    assert_eq!(link["data"]["source_order"], "10002");
    assert!(link["data"]["links"][0]["url"].as_str().unwrap().contains("/cart/"), "{link}");

    // The outbox recorded every attempt with its status.
    let deliveries = app.store.event_deliveries().await.unwrap();
    assert_eq!(deliveries.len(), kinds.len());
    for d in &deliveries {
        assert!(d.delivered && !d.gave_up, "{d:?}");
        let statuses: Vec<Option<u16>> = d.attempts.iter().map(|a| a.status).collect();
        assert_eq!(statuses, [Some(500), Some(500), Some(500), Some(200)], "{}", d.kind);
    }

    // Forgetting the signed-in customer takes their conversations' events (a rating's comment,
    // their id) out of the outbox; the guest's hand-off stays.
    let data = switchboard::integration::StoreData::new(app.store.clone());
    data.forget_customer("forget-events", DEMO_CUSTOMER_ID).await.unwrap();
    let left: Vec<String> = app.store.event_deliveries().await.unwrap().into_iter().map(|d| d.kind).collect();
    assert_eq!(left, ["conversation.handed_off"]);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_does_not_answer_never_holds_up_a_chat() {
    let endpoint = endpoint(0, true).await;
    let app = app(Engine::Sqlite, &endpoint).await.expect("SQLite always runs");
    let first = app.start(None).await;
    app.handoff(&first).await;
    until(&endpoint, "the hand-off is being sent", |seen| !seen.is_empty()).await;
    // The endpoint holds the request; chats go on meanwhile.
    for _ in 0..3 {
        let conv = app.start(None).await;
        app.handoff(&conv).await;
        let turn = app.send(&app.start(None).await, "what is your return policy?").await;
        assert!(!turn["replies"].as_array().unwrap().is_empty());
    }
    let outstanding = app.store.event_deliveries().await.unwrap().iter().filter(|d| !d.delivered).count();
    assert!(outstanding >= 3, "events wait in the outbox, not in the chat: {outstanding}");
    endpoint.release.notify_waiters();
    app.shutdown().await;
}
