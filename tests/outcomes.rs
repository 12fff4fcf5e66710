//! Business outcomes from outside, on SQLite and PostgreSQL: conversations with known outcomes
//! are played through the public API against a server that assumes a resolution after 2 s of
//! silence, and every figure of `GET /api/v1/admin/metrics` is compared with the value worked
//! out by hand from what was played (times from the transcripts the API returns).

#[macro_use]
mod common;
#[path = "common/agents.rs"]
mod agents_support;

use std::time::Duration;

use agents_support::AgentClient;
use common::{Conv, Engine, TestApp, quick_values, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::demo::{DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD, DEMO_CUSTOMER_ID};

const ASSUME_AFTER: Duration = Duration::from_secs(2);

async fn app_on(engine: Engine) -> Option<TestApp> {
    spawn_app_with(engine, |c| c.assume_resolved_after = ASSUME_AFTER).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_match_the_conversations_played_on_sqlite() {
    let app = app_on(Engine::Sqlite).await.expect("SQLite always runs");
    figures_match_the_conversations_played(&app).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_match_the_conversations_played_on_postgres() {
    let Some(app) = app_on(Engine::Postgres).await else { return };
    figures_match_the_conversations_played(&app).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_refuses_bad_windows_and_non_admins() {
    let app = app_on(Engine::Sqlite).await.expect("SQLite always runs");
    let anonymous = app.client.get(app.url("/api/v1/admin/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let r = agent.get("/api/v1/admin/metrics").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.raw);
    let admin = AgentClient::logged_in(&app.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    for (query, says) in [
        ("from=2026-12-02&to=2026-12-01", "after"),
        ("from=2024-01-01&to=2026-12-01", "400 days"),
        ("from=last%20tuesday", "ISO-8601"),
        ("to=2026-13-01", "ISO-8601"),
        ("by=week", "day, intent or model_version"),
    ] {
        let r = admin.get(&format!("/api/v1/admin/metrics?{query}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.raw);
        assert_eq!(r.json["error"]["code"], "invalid_query", "{query}");
        let message = r.json["error"]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains(says), "{query}: {message}");
    }
    let r = admin.get("/api/v1/admin/metrics?from=2026-11-01T00:00:00Z&to=2026-11-08T00:00:00Z&by=day").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let days: Vec<&str> = r.json["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(days.len(), 7, "every day of the window, empty ones too: {days:?}");
    assert_eq!(r.json["conversations"], 0);
    assert_eq!(r.json["automation_rate"]["rate"], Value::Null, "no conversations, no rate");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ratings_need_an_answer_and_come_once() {
    let app = app_on(Engine::Sqlite).await.expect("SQLite always runs");
    let fresh = app.start(None).await;
    let r = app.post(&fresh, "/rating", &json!({"score": 1})).await;
    assert_eq!(
        (r.status, r.json["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("nothing_to_rate")),
        "{}",
        r.raw
    );

    let conv = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    let turn = app.send(&conv, "what is your return policy?").await;
    assert_eq!(turn["can_rate"], false, "not resolved yet: {turn}");
    let yes = app.click(&conv, "Yes", "feedback:yes").await;
    assert_eq!((yes["state"].clone(), yes["can_rate"].clone()), (json!("resolved"), json!(true)), "{yes}");
    assert_eq!(app.post(&conv, "/rating", &json!({"score": 5})).await.status, StatusCode::OK);
    let again = app.post(&conv, "/rating", &json!({"score": 1})).await;
    assert_eq!((again.status, again.json["error"]["code"].clone()), (StatusCode::CONFLICT, json!("already_rated")));
    let transcript = app.messages(&conv, 0).await;
    assert_eq!((transcript["rating"].clone(), transcript["can_rate"].clone()), (json!(5), json!(false)));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_metrics_are_counters_and_histograms_with_buckets() {
    let app = app_on(Engine::Sqlite).await.expect("SQLite always runs");
    let conv = app.start(None).await;
    let _stream = agents_support::shopper_events(&app.base, &conv, None).await;
    app.send(&conv, "I want to speak to a person").await;
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    assert_eq!(agent.claim(&conv.id).await.status, StatusCode::OK);
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let samples = parse_prometheus(&text);
    let value = |name: &str, labels: &[(&str, &str)]| {
        samples
            .iter()
            .find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
            .map(|(_, _, v)| *v)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{text}"))
    };
    assert!(value("switchboard_handoffs_total", &[("reason", "customer_requested")]) >= 1.0);
    assert!(value("switchboard_messages_total", &[("decision", "handoff"), ("intent", "talk_to_human")]) >= 1.0);
    for histogram in ["switchboard_reply_seconds", "switchboard_classify_seconds", "switchboard_queue_wait_seconds"] {
        assert!(value(&format!("{histogram}_count"), &[]) >= 1.0, "{histogram}");
        assert!(value(&format!("{histogram}_bucket"), &[("le", "+Inf")]) >= 1.0, "{histogram} has buckets");
    }
    assert!(text.contains("# TYPE switchboard_reply_seconds histogram"), "{text}");
    assert!(value("switchboard_open_streams", &[("kind", "shopper")]) >= 1.0);
    let live = app.classify("hello").await["model_version"].as_str().unwrap().to_string();
    assert_eq!(value("switchboard_model_info", &[("version", live.as_str())]), 1.0);
    app.shutdown().await;
}

/// Prometheus text format: (name, labels, value) per sample line.
fn parse_prometheus(text: &str) -> Vec<(String, std::collections::BTreeMap<String, String>, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number in {line}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let labels = rest.trim_end_matches('}');
                    let parsed = labels
                        .split("\",")
                        .filter(|p| !p.is_empty())
                        .map(|pair| {
                            let (k, v) = pair.split_once('=').unwrap_or_else(|| panic!("bad label in {line}"));
                            (k.to_string(), v.trim_matches('"').to_string())
                        })
                        .collect();
                    (name.to_string(), parsed)
                }
                None => (series.to_string(), Default::default()),
            };
            (name, labels, value)
        })
        .collect()
}

/// The messages of a conversation as the shopper reads them.
async fn transcript(app: &TestApp, conv: &Conv) -> Vec<Value> {
    app.messages(conv, 0).await["messages"].as_array().unwrap().clone()
}

fn created_at(m: &Value) -> i64 {
    m["created_at"].as_i64().unwrap()
}

/// When the shopper first wrote.
async fn first_shopper_at(app: &TestApp, conv: &Conv) -> i64 {
    transcript(app, conv).await.iter().find(|m| m["sender"] == "shopper").map(created_at).expect("a shopper message")
}

/// Waits until the sweeper gave the conversation an outcome.
async fn wait_for_outcome(app: &TestApp, conv: &Conv) -> switchboard::domain::outcome::Settled {
    for _ in 0..100 {
        if let Some(settled) = app.stored_conversation(conv).await.outcome {
            return settled;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no outcome after 10 s");
}

fn close(actual: &Value, expected: f64, what: &str) {
    let actual = actual.as_f64().unwrap_or_else(|| panic!("{what}: {actual} is not a number"));
    assert!((actual - expected).abs() < 0.06, "{what}: {actual} vs {expected} worked out by hand");
}

async fn figures_match_the_conversations_played(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let admin = AgentClient::logged_in(&app.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;

    // 1. Answered, and the shopper says it helped: resolved by the bot, confirmed; rated 5.
    let confirmed = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    let turn = app.send(&confirmed, "what is your return policy?").await;
    assert_eq!(turn["triage"]["decision"], "answer", "{turn}");
    assert!(common::bot_text(&turn).contains("Did that answer your question?"), "{turn}");
    assert_eq!(quick_values(&turn), ["feedback:yes", "handoff:not_answered"]);
    let yes = app.click(&confirmed, "Yes", "feedback:yes").await;
    assert_eq!(yes["state"], "resolved", "{yes}");
    let events: Vec<&Value> = yes["replies"].as_array().unwrap().iter().filter(|m| m["sender"] == "event").collect();
    assert_eq!(events[0]["event"], json!({"type": "outcome", "outcome": "bot_confirmed"}));
    let confirmed_resolution = (created_at(events[0]) - first_shopper_at(app, &confirmed).await) as f64 / 1000.0;
    assert_eq!(app.post(&confirmed, "/rating", &json!({"score": 5})).await.status, StatusCode::OK);

    // 2. Answered, then silence: resolved by the bot, assumed (at the answer's time); rated 4.
    let assumed = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    let turn = app.send(&assumed, "what payment methods do you accept?").await;
    assert_eq!(turn["triage"]["decision"], "answer", "{turn}");
    let answered_at = created_at(&turn["replies"][0]);

    // 3. Resolved by the bot, then the shopper writes again and asks for a person: a re-contact.
    let recontact = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    app.send(&recontact, "which payment methods do you accept?").await;
    app.click(&recontact, "Yes", "feedback:yes").await;
    let again = app.send(&recontact, "I want to speak to a person").await;
    assert_eq!(again["state"], "queued", "{again}");

    // 4. A sensitive topic: an agent claims it, replies 0.3 s after it was queued, resolves; rated 1.
    let sensitive = app.start(None).await;
    let turn = app.send(&sensitive, "this is the worst service ever, I'm furious about how I was treated").await;
    assert_eq!(turn["triage"]["reason"], "sensitive", "{turn}");
    let queued_sensitive = queued_at(&turn);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(agent.claim(&sensitive.id).await.status, StatusCode::OK);
    let reply = agent.reply(&sensitive.id, "I'm sorry to hear that; let me look into it.").await;
    let first_reply_sensitive =
        (reply.json["message"]["created_at"].as_i64().unwrap() - queued_sensitive) as f64 / 1000.0;
    let resolved = agent.post(&format!("/api/v1/agent/conversations/{}/resolve", sensitive.id), &json!({})).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.raw);
    let sensitive_resolution =
        (last_event_at(app, &sensitive).await - first_shopper_at(app, &sensitive).await) as f64 / 1000.0;
    assert_eq!(app.post(&sensitive, "/rating", &json!({"score": 1})).await.status, StatusCode::OK);

    // 5. Out of scope twice, the shopper takes the offer of a person; an agent replies after
    //    0.9 s and resolves it marking that the bot could have answered.
    let out_of_scope = app.start(None).await;
    app.send(&out_of_scope, "what's the weather like in Paris tomorrow?").await;
    let second = app.send(&out_of_scope, "can you recommend a good film to watch tonight?").await;
    assert_eq!(quick_values(&second), ["handoff:out_of_scope_twice"], "{second}");
    let turn = app.click(&out_of_scope, "Talk to a person", "handoff:out_of_scope_twice").await;
    assert_eq!(turn["state"], "queued", "{turn}");
    let queued_oos = queued_at(&turn);
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(agent.claim(&out_of_scope.id).await.status, StatusCode::OK);
    let reply = agent.reply(&out_of_scope.id, "Happy to help with that.").await;
    let first_reply_oos = (reply.json["message"]["created_at"].as_i64().unwrap() - queued_oos) as f64 / 1000.0;
    let resolved = agent
        .post(
            &format!("/api/v1/agent/conversations/{}/resolve", out_of_scope.id),
            &json!({"bot_could_have_answered": "delivery_options"}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.raw);
    let oos_resolution =
        (last_event_at(app, &out_of_scope).await - first_shopper_at(app, &out_of_scope).await) as f64 / 1000.0;

    // 6. Answered, but "No, I need a person": handed off, not answered. Left in the queue.
    let not_answered = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    app.send(&not_answered, "do you ship internationally?").await;
    let turn = app.click(&not_answered, "No, I need a person", "handoff:not_answered").await;
    assert_eq!((turn["state"].clone(), turn["triage"]["reason"].clone()), (json!("queued"), json!("not_answered")));

    // 7. Out of scope once, then silence: abandoned.
    let abandoned = app.start(None).await;
    app.send(&abandoned, "what's the capital of Australia?").await;

    // 8. A guest fails verification three times: handed off.
    let guest = app.start(None).await;
    app.send(&guest, "where is my order?").await;
    for _ in 0..3 {
        app.verify(&guest, "10004", "nobody@example.com").await;
    }
    assert_eq!(app.stored_conversation(&guest).await.state.name(), "queued");

    // 9. Opened and never written in: not a conversation in the figures.
    let _empty = app.start(None).await;

    let assumed_settled = wait_for_outcome(app, &assumed).await;
    assert_eq!(assumed_settled.outcome.name(), "bot_assumed");
    assert!((assumed_settled.at - answered_at).abs() < 100, "assumed at the time of the answer");
    let assumed_resolution = (answered_at - first_shopper_at(app, &assumed).await) as f64 / 1000.0;
    let transcript = app.messages(&assumed, 0).await;
    assert_eq!((transcript["state"].clone(), transcript["can_rate"].clone()), (json!("resolved"), json!(true)));
    assert_eq!(app.post(&assumed, "/rating", &json!({"score": 4})).await.status, StatusCode::OK);
    assert_eq!(wait_for_outcome(app, &abandoned).await.outcome.name(), "abandoned");
    assert_eq!(app.stored_conversation(&confirmed).await.outcome.map(|s| s.outcome.name()), Some("bot_confirmed"));
    assert!(app.stored_conversation(&recontact).await.recontacted);

    let r = admin.get("/api/v1/admin/metrics").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let m = r.json;
    assert_eq!(m["conversations"], 8, "{m}");
    assert_eq!(
        m["outcomes"],
        json!({"bot_confirmed": 1, "bot_assumed": 1, "agent_resolved": 2, "abandoned": 1, "open": 3}),
        "{m}"
    );
    assert_eq!(m["automation_rate"], json!({"rate": 0.25, "confirmed": 0.125, "assumed": 0.125}));
    assert_eq!(m["handoff_rate"], json!(5.0 / 8.0));
    assert_eq!(m["handoffs"], 5);
    let reasons = &m["handoffs_by_reason"];
    for reason in ["customer_requested", "sensitive", "out_of_scope_twice", "not_answered", "verification_failed"] {
        assert_eq!(reasons[reason], 1, "{reason}: {reasons}");
    }
    assert_eq!((reasons["low_confidence"].clone(), reasons["handler_error"].clone()), (json!(0), json!(0)));
    assert_eq!(m["could_have_answered"], json!({"handoffs": 1, "rate": 0.2}));
    let replies = &m["first_agent_reply_seconds"];
    assert_eq!(replies["count"], 2);
    close(&replies["median"], (first_reply_sensitive + first_reply_oos) / 2.0, "first reply median");
    close(&replies["p90"], first_reply_sensitive + 0.9 * (first_reply_oos - first_reply_sensitive), "first reply p90");
    let mut resolutions = [confirmed_resolution, assumed_resolution, sensitive_resolution, oos_resolution];
    resolutions.sort_by(f64::total_cmp);
    assert_eq!(m["resolution_seconds"]["count"], 4);
    close(&m["resolution_seconds"]["median"], (resolutions[1] + resolutions[2]) / 2.0, "resolution median");
    close(&m["resolution_seconds"]["p90"], resolutions[2] + 0.7 * (resolutions[3] - resolutions[2]), "resolution p90");
    assert_eq!(m["csat"]["ratings"], 3);
    assert_eq!(m["csat"]["rate"], json!(2.0 / 3.0));
    assert_eq!(m["csat"]["by_score"], json!([1, 0, 0, 1, 1]));
    assert_eq!(m["recontact_rate_24h"], json!(1.0 / 3.0), "one re-contact of three bot resolutions");

    // Per intent: volumes add up to the messages the model decided; fallbacks over volume.
    let intents = m["intents"].as_array().unwrap();
    let volume: u64 = intents.iter().map(|i| i["volume"].as_u64().unwrap()).sum();
    assert_eq!(json!(volume), m["messages"]);
    for i in intents {
        let rate = i["fallbacks"].as_f64().unwrap() / i["volume"].as_f64().unwrap();
        assert_eq!(i["fallback_rate"], json!(rate), "{i}");
    }
    let oos = intents.iter().find(|i| i["intent"] == "out_of_scope").expect("out_of_scope traffic");
    assert!(oos["volume"].as_u64().unwrap() >= 3, "{oos}");

    // Drift: the histogram holds every decided message; the reference comes with the model.
    let bins = m["drift"]["confidence_histogram"].as_array().unwrap();
    assert_eq!(bins.len(), 10);
    assert_eq!(json!(bins.iter().map(|b| b["messages"].as_u64().unwrap()).sum::<u64>()), m["messages"]);
    assert!(bins.iter().all(|b| b["reference"].is_number()), "{bins:?}");
    for psi in ["confidence", "intent_mix"] {
        let level = m["drift"][psi]["level"].as_str().unwrap_or_else(|| panic!("no {psi} PSI: {}", m["drift"]));
        assert!(["stable", "moderate", "drift"].contains(&level));
        assert!(m["drift"][psi]["psi"].as_f64().unwrap() >= 0.0);
    }

    // Broken down by model version: one version, the same figures.
    let by = admin.get("/api/v1/admin/metrics?by=model_version").await.json;
    let groups = by["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{by}");
    assert_eq!(groups[0]["conversations"], 8);
    assert_eq!(groups[0]["automation_rate"], m["automation_rate"]);
    let by_intent = admin.get("/api/v1/admin/metrics?by=intent").await.json;
    let total: u64 = by_intent["groups"].as_array().unwrap().iter().map(|g| g["conversations"].as_u64().unwrap()).sum();
    assert_eq!(total, 8, "each conversation in the group of its first message's intent");

    // The same figures from the command line.
    let output = agents_support::switchboard_bin()
        .args(["report", "--json", "--database", &app.db.url])
        .output()
        .expect("switchboard report runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let cli: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    for key in ["conversations", "outcomes", "automation_rate", "handoffs_by_reason", "csat", "recontact_rate_24h"] {
        assert_eq!(cli[key], m[key], "{key}");
    }
}

/// When a turn queued the conversation (the time of its hand-off event).
fn queued_at(turn: &Value) -> i64 {
    let event = turn["replies"].as_array().unwrap().iter().find(|m| m["sender"] == "event").expect("a hand-off event");
    created_at(event)
}

/// The time of the conversation's last event (its resolution).
async fn last_event_at(app: &TestApp, conv: &Conv) -> i64 {
    transcript(app, conv).await.iter().rev().find(|m| m["sender"] == "event").map(created_at).expect("an event")
}
