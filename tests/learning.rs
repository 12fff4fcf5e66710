//! The learning loop from outside, on SQLite and PostgreSQL, as an admin would use it: agents
//! label shopper messages (one example per message, personal data masked), admins review them,
//! a retrain runs as a job with progress, the gate judges the candidate against the live model,
//! promotion swaps the model without a restart, roll-back brings the old answers back, a
//! candidate can run in shadow first, and mislabelled examples are refused by the gate.

#[macro_use]
mod common;
#[path = "common/agents.rs"]
mod agents_support;

use std::time::{Duration, Instant};

use agents_support::{AgentClient, queued_conversation};
use common::{Engine, TestApp, TestDb, server_config};
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::demo::{DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD};
use switchboard::domain::model::{ModelMetrics, ModelStatus};
use switchboard::store::NewModel;

on_both_engines!(
    labels_are_one_example_per_message_masked_and_reviewed,
    a_resolution_mark_becomes_a_pending_example,
    a_retrain_learns_new_phrasing_is_promoted_and_rolled_back_without_a_restart,
    mislabelled_examples_are_refused_by_the_gate,
    learning_routes_are_for_admins_only,
    a_version_that_does_not_load_is_refused_and_the_live_model_stays,
);

/// Dutch ways of asking where an order is: phrasing the shipped model has never seen.
const DUTCH_ORDER_STATUS: [&str; 32] = [
    "waar is mijn bestelling",
    "waar blijft mijn pakket",
    "wanneer komt mijn bestelling aan",
    "is mijn pakket al verzonden",
    "ik wacht nog steeds op mijn bestelling",
    "hoe lang duurt het nog voor mijn pakket er is",
    "mijn bestelling is nog niet binnen",
    "kunt u zien waar mijn pakket is",
    "wat is de status van mijn bestelling",
    "is mijn order al onderweg",
    "ik heb mijn pakket nog niet ontvangen, waar is het",
    "wanneer wordt mijn bestelling bezorgd",
    "heeft de bezorger mijn pakket al",
    "mijn bestelling van vorige week, waar blijft die",
    "hoe staat het met mijn bestelling",
    "wordt mijn pakket vandaag geleverd",
    "ik wil weten waar mijn pakket is",
    "kun je mijn bestelling traceren",
    "waar is mijn zending",
    "mijn zending is nog niet aangekomen",
    "wanneer kan ik mijn bestelling verwachten",
    "is mijn bestelling al verstuurd",
    "heb je een track en trace voor mijn pakket",
    "waar zit mijn pakketje",
    "mijn pakketje is er nog steeds niet",
    "hoe lang moet ik nog wachten op mijn order",
    "komt mijn bestelling morgen",
    "staat mijn pakket al klaar voor verzending",
    "wat is de levertijd van mijn bestelling",
    "kan je nakijken waar mijn bestelling blijft",
    "waar blijft mijn order nou",
    "is mijn pakket al bij de post",
];

/// Held out from the labels: the promoted model must answer these.
const DUTCH_UNSEEN: [&str; 3] =
    ["waar blijft mijn bestelling toch", "is mijn pakketje al onderweg naar mij", "wanneer komt mijn pakket"];

async fn admin(app: &TestApp) -> AgentClient {
    AgentClient::logged_in(&app.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await
}

/// Each text as a shopper message of a new conversation; their message ids.
async fn shopper_messages(app: &TestApp, texts: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for text in texts {
        let conv = app.start(None).await;
        let turn = app.send(&conv, text).await;
        ids.push(turn["message"]["id"].as_str().expect("a message id").to_string());
    }
    ids
}

async fn examples(admin: &AgentClient, status: &str) -> Vec<Value> {
    let r = admin.get(&format!("/api/v1/admin/training-examples?status={status}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    r.json["training_examples"].as_array().unwrap().clone()
}

/// Labels each message with `intent` and approves them all in one bulk review.
async fn label_and_approve(app: &TestApp, texts: &[&str], intent: &str) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    for id in shopper_messages(app, texts).await {
        assert_eq!(agent.label(&id, intent).await.status, StatusCode::CREATED);
    }
    let admin = admin(app).await;
    let ids: Vec<Value> = examples(&admin, "pending").await.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids.len(), texts.len());
    let r = admin.post("/api/v1/admin/training-examples/review", &json!({"ids": ids, "status": "approved"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.json["reviewed"], texts.len());
}

/// Starts a retrain and follows its job to the end: the finished job and the progress seen.
async fn retrain(admin: &AgentClient) -> (Value, Vec<f64>) {
    let r = admin.post("/api/v1/admin/models/retrain", &json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.raw);
    let job_id = r.json["job_id"].as_str().expect("a job id").to_string();
    let second = admin.post("/api/v1/admin/models/retrain", &json!({})).await;
    assert_eq!(second.status, StatusCode::CONFLICT, "one retrain at a time: {}", second.raw);
    let active = admin.get("/api/v1/admin/jobs?active=true").await.ok();
    assert_eq!(active["jobs"][0]["id"], job_id.as_str(), "the running job can be found: {active}");
    assert!(second.json["error"]["message"].as_str().unwrap().contains(&job_id), "{}", second.raw);
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let job = admin.get(&format!("/api/v1/admin/jobs/{job_id}")).await.ok();
        seen.push(job["progress"].as_f64().expect("progress"));
        if job["state"] == "succeeded" || job["state"] == "failed" {
            return (job, seen);
        }
        assert!(started.elapsed() < Duration::from_secs(240), "the retrain takes too long: {job}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn model(admin: &AgentClient, version: &str) -> Value {
    let list = admin.get("/api/v1/admin/models").await.ok();
    list["models"].as_array().unwrap().iter().find(|m| m["version"] == version).cloned().expect("the version is listed")
}

async fn labels_are_one_example_per_message_masked_and_reviewed(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let texts = [
        "send it to 221B Baker Street, London NW1 6XE, I'm Kévin kévin.dupré@exämple.fr",
        "my card 4111 1111 1111 1111 was charged twice for #10042",
    ];
    let ids = shopper_messages(app, &texts).await;
    assert_eq!(agent.label(&ids[0], "change_shipping_address").await.status, StatusCode::CREATED);
    assert_eq!(agent.label(&ids[0], "order_status").await.status, StatusCode::CREATED, "labelling again");
    assert_eq!(agent.label(&ids[1], "payment_issue").await.status, StatusCode::CREATED);
    let unknown = agent.label(&ids[1], "no_such_intent").await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.raw);

    let admin = admin(app).await;
    let pending = examples(&admin, "pending").await;
    assert_eq!(pending.len(), 2, "one example per message: {pending:?}");
    let counts = admin.get("/api/v1/admin/training-examples?status=approved").await.ok()["counts"].clone();
    assert_eq!(counts, json!({"pending": 2, "approved": 0, "rejected": 0}));
    let first = pending.iter().find(|e| e["message_id"] == ids[0].as_str()).unwrap();
    assert_eq!(first["intent"], "order_status", "labelling again changes it");
    assert_eq!(first["text"], "send it to [address], London [postcode], I'm Kévin [email]");
    let second = pending.iter().find(|e| e["message_id"] == ids[1].as_str()).unwrap();
    assert_eq!(second["text"], "my card [card] was charged twice for [order]");

    // Approve one, move the other to another intent, then reject it.
    let (a, b) = (first["id"].clone(), second["id"].clone());
    let r = admin.post("/api/v1/admin/training-examples/review", &json!({"ids": [a], "status": "approved"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let r =
        admin.post("/api/v1/admin/training-examples/review", &json!({"ids": [b], "intent": "refund_request"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let moved = examples(&admin, "pending").await;
    assert_eq!((moved.len(), &moved[0]["intent"]), (1, &json!("refund_request")));
    let r = admin.post(&format!("/api/v1/admin/training-examples/{}/reject", b.as_str().unwrap()), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(examples(&admin, "approved").await.len(), 1);
    assert_eq!(examples(&admin, "rejected").await.len(), 1);

    // A bulk review is all or nothing: an unknown id changes nothing.
    let r =
        admin.post("/api/v1/admin/training-examples/review", &json!({"ids": [a, "nope"], "status": "rejected"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.raw);
    assert_eq!(examples(&admin, "approved").await.len(), 1);
    let r = admin.post("/api/v1/admin/training-examples/review", &json!({"ids": [a], "intent": "nope"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.raw);
    let r = admin.post("/api/v1/admin/training-examples/review", &json!({"ids": [], "status": "approved"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
}

async fn a_resolution_mark_becomes_a_pending_example(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    // Handed off by the button, with no message: nothing to learn from.
    let (silent, _) = queued_conversation(app, None).await;
    assert_eq!(agent.claim(&silent.id).await.status, StatusCode::OK);
    let path = format!("/api/v1/agent/conversations/{}/resolve", silent.id);
    let r = agent.post(&path, &json!({"bot_could_have_answered": "contact_info"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.raw);

    let conv = app.start(None).await;
    let question = "what is your phone number? I'd rather talk to someone";
    app.send(&conv, question).await;
    app.handoff(&conv).await;
    assert_eq!(agent.claim(&conv.id).await.status, StatusCode::OK);
    let path = format!("/api/v1/agent/conversations/{}/resolve", conv.id);
    let unknown = agent.post(&path, &json!({"bot_could_have_answered": "no_such_intent"})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.raw);
    let r = agent.post(&path, &json!({"bot_could_have_answered": "contact_info"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let admin = admin(app).await;
    let pending = examples(&admin, "pending").await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!((&pending[0]["source"], &pending[0]["intent"]), (&json!("resolution"), &json!("contact_info")));
    assert_eq!((&pending[0]["conversation_id"], &pending[0]["text"]), (&json!(conv.id), &json!(question)));
    // The console shows the label on the message.
    let view = admin.view(&conv.id).await.ok();
    let labelled = view["messages"].as_array().unwrap().iter().find(|m| m["text"] == question).unwrap().clone();
    assert_eq!(labelled["label"], json!({"intent": "contact_info", "status": "pending", "source": "resolution"}));
}

async fn a_retrain_learns_new_phrasing_is_promoted_and_rolled_back_without_a_restart(app: &TestApp) {
    let live = app.classify(DUTCH_UNSEEN[0]).await;
    let shipped = live["model_version"].as_str().unwrap().to_string();
    assert_ne!(live["intents"][0]["intent"], "order_status", "the shipped model does not know Dutch: {live}");

    label_and_approve(app, &DUTCH_ORDER_STATUS, "order_status").await;
    let admin = admin(app).await;
    let (job, progress) = retrain(&admin).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1] + 1e-9), "progress only rises: {progress:?}");
    assert!(progress.iter().any(|p| *p > 0.0 && *p < 1.0), "progress is shown along the way: {progress:?}");
    assert_eq!(job["progress"], 1.0);
    let version = job["model_version"].as_str().expect("the candidate's version").to_string();
    let candidate = model(&admin, &version).await;
    assert_eq!(candidate["status"], "candidate", "{candidate}");
    assert_eq!(candidate["gate"]["passed"], true, "{candidate}");
    assert_eq!(candidate["gate"]["live_version"], shipped.as_str());
    assert!(candidate["metrics"]["macro_f1"].as_f64().unwrap() > 0.8, "{candidate}");
    let report = admin.get(&format!("/api/v1/admin/models/{version}/report")).await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.raw.contains(&format!("candidate {version}")) && report.raw.contains(&format!("live {shipped}")));

    // In shadow first: it classifies live messages beside the live model and answers no one.
    let r = admin.post(&format!("/api/v1/admin/models/{version}/shadow"), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let conv = app.start(None).await;
    let turn = app.send(&conv, DUTCH_UNSEEN[1]).await;
    assert_eq!(turn["triage"]["model_version"], shipped.as_str(), "the live model answered: {turn}");
    let shadow = admin.get(&format!("/api/v1/admin/models/{version}/shadow")).await.ok();
    assert_eq!(shadow["compared"], 1, "{shadow}");
    assert_eq!(shadow["differences"][0]["shadow"]["intent"], "order_status", "{shadow}");
    assert_eq!(shadow["differences"][0]["live_version"], shipped.as_str());
    let r = admin.delete(&format!("/api/v1/admin/models/{version}/shadow")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);

    // Promoted: the same server answers the new phrasing with the new version, no restart.
    let r = admin.post(&format!("/api/v1/admin/models/{version}/promote"), &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!((&r.json["status"], &r.json["previous_live"]), (&json!("live"), &json!(shipped)));
    for text in DUTCH_UNSEEN {
        let now = app.classify(text).await;
        assert_eq!(now["model_version"], version.as_str(), "{now}");
        assert_eq!(now["intents"][0]["intent"], "order_status", "{text}: {now}");
    }
    let turn = app.send(&app.start(None).await, DUTCH_UNSEEN[2]).await;
    assert_eq!(turn["triage"]["model_version"], version.as_str(), "a shopper's message uses it too");
    assert_eq!(model(&admin, &shipped).await["status"], "retired");

    // Rolled back: the old answers return.
    let r = admin.post("/api/v1/admin/models/rollback", &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.json["version"], shipped.as_str());
    let back = app.classify(DUTCH_UNSEEN[0]).await;
    assert_eq!(back["model_version"], shipped.as_str());
    assert_eq!(back["intents"][0]["intent"], live["intents"][0]["intent"]);
    let audit = app.store.models().await.unwrap();
    assert_eq!(audit.iter().filter(|m| m.status.name() == "live").count(), 1, "one live model");

    let unknown = admin.post("/api/v1/admin/models/no-such-version/promote", &json!({})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.raw);
}

async fn mislabelled_examples_are_refused_by_the_gate(app: &TestApp) {
    // Plain "where is my order" questions, deliberately labelled as refund questions.
    let wrong = [
        "where is my parcel it has been ages",
        "when will my order get here",
        "has my package been shipped yet",
        "can you track my delivery please",
        "my order still hasn't arrived where is it",
        "is my parcel out for delivery today",
        "what's the status of my order",
        "where is my stuff i ordered last week",
        "when does my package arrive",
        "still waiting for my delivery, any news",
        "can you tell me where my order is",
        "has my order left the warehouse",
        "tracking shows nothing, where is my parcel",
        "how long until my order arrives",
        "is my delivery on its way",
        "where's my package at",
        "i need an update on my order delivery",
        "when is my order being delivered",
        "did you send my parcel yet",
        "my package is late where is it",
        "any idea when my order will come",
        "can i get the tracking for my order",
        "order not here yet, where is it",
        "has the courier picked up my parcel",
        "when should i expect my delivery",
        "where is my order right now",
        "is my order shipped or not",
        "what day will my parcel come",
        "i want to know where my package is",
        "check where my order is please",
        "where is my delivery",
        "parcel status please",
        "how is my order coming along",
        "is my package still in transit",
        "when will the courier bring my order",
        "where has my order got to",
        "my order is taking forever where is it",
        "did my parcel ship",
        "update on my shipment please",
        "where is the order i placed",
    ];
    label_and_approve(app, &wrong, "refund_status").await;
    let admin = admin(app).await;
    let (job, _) = retrain(&admin).await;
    assert_eq!(job["state"], "succeeded", "the job ends; the gate decides: {job}");
    let version = job["model_version"].as_str().unwrap().to_string();
    let candidate = model(&admin, &version).await;
    assert_eq!(candidate["status"], "rejected", "{candidate}");
    assert_eq!(candidate["gate"]["passed"], false);
    let reasons: Vec<String> =
        candidate["gate"]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
    assert!(reasons.iter().any(|r| r.starts_with("order_status: recall fell")), "{reasons:?}");

    // Promoting it needs an explicit override with a reason, which is audited.
    let refused = admin.post(&format!("/api/v1/admin/models/{version}/promote"), &json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.raw);
    assert!(refused.json["error"]["message"].as_str().unwrap().contains("order_status"), "{}", refused.raw);
    let no_reason = admin.post(&format!("/api/v1/admin/models/{version}/promote"), &json!({"override": true})).await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST, "{}", no_reason.raw);
    let body = json!({"override": true, "reason": "testing the override"});
    let r = admin.post(&format!("/api/v1/admin/models/{version}/promote"), &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(app.classify("where is my order").await["model_version"], version.as_str());
}

async fn learning_routes_are_for_admins_only(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let anonymous = AgentClient::new(&app.base);
    let gets = ["/api/v1/admin/models", "/api/v1/admin/jobs/x", "/api/v1/admin/training-examples"];
    let posts = [
        "/api/v1/admin/models/retrain",
        "/api/v1/admin/models/rollback",
        "/api/v1/admin/models/v/promote",
        "/api/v1/admin/models/v/shadow",
        "/api/v1/admin/training-examples/review",
    ];
    for path in gets {
        assert_eq!(anonymous.get(path).await.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(agent.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    for path in posts {
        let body = json!({"ids": ["x"], "status": "approved"});
        let body = if path.ends_with("review") { body } else { json!({}) };
        assert_eq!(anonymous.post(path, &body).await.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(agent.post(path, &body).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let admin = admin(app).await;
    assert_eq!(admin.get("/api/v1/admin/jobs/no-such-job").await.status, StatusCode::NOT_FOUND);
    let rollback = admin.post("/api/v1/admin/models/rollback", &json!({})).await;
    assert_eq!(rollback.status, StatusCode::CONFLICT, "nothing to roll back to: {}", rollback.raw);
    let models = admin.get("/api/v1/admin/models").await.ok();
    let only = &models["models"][0];
    assert_eq!((&only["number"], &only["status"]), (&json!(1), &json!("live")), "the shipped model is version 1");
}

async fn a_version_that_does_not_load_is_refused_and_the_live_model_stays(app: &TestApp) {
    let admin = admin(app).await;
    let live = app.classify("where is my order").await["model_version"].as_str().unwrap().to_string();
    // A copy of the live model whose nearest examples were cut in half.
    let mut artefacts = app.store.model_artefacts(&live).await.unwrap().unwrap();
    artefacts.neighbours.truncate(artefacts.neighbours.len() / 2);
    let broken = NewModel {
        version: "broken-1",
        status: ModelStatus::Candidate,
        examples: 1,
        metrics: &ModelMetrics::default(),
        gate: None,
        artefacts: &artefacts,
        report_html: None,
    };
    let mut tx = app.store.begin().await.unwrap();
    assert!(tx.insert_model(&broken).await.unwrap());
    tx.commit().await.unwrap();
    let r = admin.post("/api/v1/admin/models/broken-1/promote", &json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.raw);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("neighbours.bin"), "{}", r.raw);
    let shadow = admin.post("/api/v1/admin/models/broken-1/shadow", &json!({})).await;
    assert_eq!(shadow.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", shadow.raw);
    assert_eq!(app.classify("where is my order").await["model_version"], live.as_str(), "the live model stays");
    assert_eq!(model(&admin, &live).await["status"], "live");
}

/// A retraining job left running by a server that stopped is marked failed at the next start.
#[tokio::test]
async fn a_job_of_a_stopped_server_is_failed_at_the_next_start() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let Some(db) = TestDb::new(engine).await else { continue };
        // The schema, then a job that has not reported for an hour.
        switchboard::store::Store::connect(&db.url).await.unwrap().close().await;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
        sqlx::query(
            "INSERT INTO jobs (id, kind, state, stage, progress, requested_by, instance_id, created_at, updated_at)
             VALUES ('stale', 'retrain', 'running', 'embedding', 0.3, 'cli', 'gone', $1, $1)",
        )
        .bind(hour_ago)
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let stale = "stale";
        let app = switchboard::startup::Application::build(&server_config(&db.url), Some(common::encoder()))
            .await
            .expect("the server starts");
        let store = switchboard::store::Store::connect(&db.url).await.unwrap();
        let job = store.job(stale).await.unwrap().unwrap();
        assert_eq!(job.state.name(), "failed", "{engine:?}: {job:?}");
        assert!(job.error.unwrap().contains("stopped"));
        drop(app);
        store.close().await;
    }
}

/// After an upgrade ships a new model in `models/`, a database that already has a live model
/// gets the new one as a candidate to promote; the live one stays.
#[tokio::test]
async fn a_newly_shipped_model_joins_as_a_candidate() {
    let db = TestDb::new(Engine::Sqlite).await.expect("SQLite always runs");
    let first =
        switchboard::startup::Application::build(&server_config(&db.url), Some(common::encoder())).await.unwrap();
    drop(first);
    let shipped = tempfile::tempdir().unwrap();
    for file in ["head.onnx", "neighbours.bin", "head.json", "encoder.onnx", "tokenizer.json"] {
        std::fs::copy(common::root().join("models").join(file), shipped.path().join(file)).unwrap();
    }
    let meta_path = shipped.path().join("head.json");
    let mut meta: Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["version"] = json!("20270101-000000-upgrade");
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let mut config = server_config(&db.url);
    config.models = shipped.path().to_path_buf();
    let upgraded = switchboard::startup::Application::build(&config, Some(common::encoder())).await.unwrap();
    drop(upgraded);
    let store = switchboard::store::Store::connect(&db.url).await.unwrap();
    let models = store.models().await.unwrap();
    let statuses: Vec<(i64, &str)> = models.iter().map(|m| (m.number, m.status.name())).collect();
    assert_eq!(statuses, vec![(2, "candidate"), (1, "live")]);
    assert_eq!(models[0].version, "20270101-000000-upgrade");
    store.close().await;
}
