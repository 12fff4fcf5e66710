//! The hand-off to a person, on SQLite and PostgreSQL: the agent's stream, claim, replies and
//! private notes reaching (or never reaching) the shopper, resolve and rating; writing to
//! someone else's conversation and reading shopper data without its token; the bot's silence
//! while a person has the conversation; one audit row per action; and what the shopper is told
//! with and without agents online.

#[macro_use]
mod common;
#[path = "common/agents.rs"]
mod agents_support;

use std::time::{Duration, Instant};

use agents_support::{AgentClient, STRONG_PASSWORD, create_agent, queued_conversation, reply_of, shopper_events};
use common::{TestApp, bot_text, bot_texts, customer_token};
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::demo::{DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD, DEMO_CUSTOMER_ID};

on_both_engines!(
    handoff_claim_reply_note_resolve_rate,
    writing_to_someone_elses_conversation_is_refused,
    agents_cannot_read_shopper_data_without_its_token,
    bot_is_silent_while_a_person_has_the_conversation,
    every_agent_action_leaves_one_audit_row,
    handoff_reply_depends_on_agents_online,
    other_agents_see_a_claimed_conversation_leave_the_queue,
);

/// The texts of message events on a shopper stream, with their seq.
fn message_events(events: &[agents_support::SseEvent]) -> Vec<(i64, String, String)> {
    events
        .iter()
        .filter(|e| e.event == "message")
        .map(|e| {
            let m = e.json();
            (
                m["seq"].as_i64().expect("seq"),
                m["sender"].as_str().unwrap_or("").to_string(),
                m["text"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

async fn handoff_claim_reply_note_resolve_rate(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let mut agent_stream = agent.events_ready().await;
    let conv = app.start(None).await;
    let mut shopper = shopper_events(&app.base, &conv, None).await;

    // The hand-off reaches the agent's stream within a second.
    let t = Instant::now();
    let turn = app.handoff(&conv).await;
    assert_eq!(turn["state"], "queued");
    let (event, skipped) = agent_stream
        .wait_for(Duration::from_secs(1), |e| {
            e.event == "conversation" && e.json()["conversation_id"] == conv.id.as_str()
        })
        .await;
    let event = event.unwrap_or_else(|| panic!("no hand-off on the agent stream within 1 s; saw {skipped:?}"));
    println!("hand-off -> agent stream: {:?}", t.elapsed());
    assert_eq!(event.json()["state"], "queued", "{event:?}");
    let queue = agent.get("/api/v1/agent/conversations?state=queued").await.ok();
    let entry = queue["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["conversation_id"] == conv.id.as_str())
        .expect("in the queue")
        .clone();
    assert_eq!(entry["reason"], "customer_requested", "{entry}");
    assert!(entry["waiting_ms"].as_i64().is_some(), "{entry}");

    // Claim, reply, note, reply.
    let claim = agent.claim(&conv.id).await;
    assert_eq!(claim.status, StatusCode::OK, "{}", claim.raw);
    let (assigned, _) = agent_stream
        .wait_for(Duration::from_secs(2), |e| {
            e.event == "conversation"
                && e.json()["conversation_id"] == conv.id.as_str()
                && e.json()["state"] == "assigned"
        })
        .await;
    assert!(assigned.is_some(), "the claim shows on the agent's stream");
    let note_text = "PRIVATE-NOTE: shopper sounded upset, check refund history";
    let replies =
        ["Hi, I'm Sam from the support team.", "I've looked at your account.", "Anything else I can help with?"];
    let mut latencies = Vec::new();
    for (i, text) in replies.iter().enumerate() {
        let t = Instant::now();
        let r = agent.reply(&conv.id, text).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
        assert_eq!(r.json["message"]["sender"], "agent");
        let seq = r.json["message"]["seq"].as_i64().unwrap();
        let (got, skipped) =
            shopper.wait_for(Duration::from_secs(1), |e| e.event == "message" && e.json()["seq"] == seq).await;
        let got =
            got.unwrap_or_else(|| panic!("reply {i} did not reach the shopper's stream within 1 s; saw {skipped:?}"));
        latencies.push(t.elapsed());
        assert_eq!(got.json()["text"], *text);
        assert_eq!(got.json()["sender"], "agent");
        assert!(skipped.iter().all(|e| !e.data.contains("PRIVATE-NOTE")), "{skipped:?}");
        if i == 0 {
            let n = agent.note(&conv.id, note_text).await;
            assert_eq!(n.status, StatusCode::OK, "{}", n.raw);
            assert_eq!(n.json["message"]["sender"], "note");
        }
    }
    println!("agent reply (POST) -> shopper stream: {latencies:?}");

    // The agent sees the note; the shopper's history does not.
    let view = agent.view(&conv.id).await.ok();
    let texts: Vec<&str> = view["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(texts.contains(&note_text), "{texts:?}");
    let history = app.messages(&conv, 0).await;
    let raw = history.to_string();
    assert!(!raw.contains("PRIVATE-NOTE"), "a note in the shopper's history: {raw}");
    assert!(history["messages"].as_array().unwrap().iter().all(|m| m["sender"] != "note"));
    let agent_texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender"] == "agent")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(agent_texts, replies, "replies in order in the history");
    let seqs: Vec<i64> = history["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // Resolve; the shopper's stream shows it; then the shopper rates.
    let r = agent.action(&conv.id, "resolve").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let (resolved, _) = shopper.wait_for(Duration::from_secs(1), |e| e.data.contains(r#""state":"resolved""#)).await;
    assert!(resolved.is_some(), "the state change reaches the shopper's stream");
    assert_eq!(app.messages(&conv, 0).await["state"], "resolved");
    let rating = app.post(&conv, "/rating", &json!({"score": 5, "comment": "quick and kind"})).await;
    assert_eq!(rating.status, StatusCode::OK, "{}", rating.raw);
    assert_eq!(agent.view(&conv.id).await.ok()["rating"], 5);
    // Everything the shopper's stream carried: in order, no note.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let all = shopper.drain();
    assert!(all.iter().all(|e| !e.data.contains("PRIVATE-NOTE") && !e.data.contains("\"sender\":\"note\"")), "{all:?}");
    let seqs: Vec<i64> = message_events(&all).iter().map(|m| m.0).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "stream out of order: {seqs:?}");
    // A resumed stream (Last-Event-ID 0) replays the history, still without the note.
    let mut replay = shopper_events(&app.base, &conv, Some(0)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let replayed = replay.drain();
    let replayed_agent: Vec<String> =
        message_events(&replayed).into_iter().filter(|m| m.1 == "agent").map(|m| m.2).collect();
    assert_eq!(replayed_agent, replies);
    assert!(replayed.iter().all(|e| !e.data.contains("PRIVATE-NOTE")), "{replayed:?}");
}

async fn writing_to_someone_elses_conversation_is_refused(app: &TestApp) {
    let owner = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let other_agent = create_agent(&app.store, "other@example.com", "Other", false).await;
    let other = AgentClient::logged_in(&app.base, &other_agent.email, STRONG_PASSWORD).await;
    let (conv, _) = queued_conversation(app, None).await;
    assert_eq!(owner.claim(&conv.id).await.status, StatusCode::OK);
    let before = app.stored_messages(&conv).await.len();

    for (what, r) in [
        ("reply", other.reply(&conv.id, "let me take over").await),
        ("note", other.note(&conv.id, "sneaky note").await),
        ("resolve", other.action(&conv.id, "resolve").await),
        ("release", other.action(&conv.id, "release").await),
        ("return-to-bot", other.action(&conv.id, "return-to-bot").await),
        (
            "reassign",
            other
                .post(
                    &format!("/api/v1/agent/conversations/{}/reassign", conv.id),
                    &json!({"agent_id": other_agent.id}),
                )
                .await,
        ),
    ] {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.raw);
    }
    let claim = other.claim(&conv.id).await;
    assert_eq!(claim.status, StatusCode::CONFLICT, "{}", claim.raw);
    // Reading it is refused too (assigned to someone else), with no transcript.
    let view = other.view(&conv.id).await;
    assert_eq!(view.status, StatusCode::FORBIDDEN, "{}", view.raw);
    assert!(view.json["messages"].is_null());
    let assigned = other.get("/api/v1/agent/conversations?state=assigned").await.ok();
    assert!(
        assigned["conversations"].as_array().unwrap().iter().all(|c| c["conversation_id"] != conv.id.as_str()),
        "{assigned}"
    );

    let stored = app.stored_conversation(&conv).await;
    assert_eq!(stored.assigned_agent.as_deref(), Some(owner.agent_id().as_str()));
    assert_eq!(stored.state.name(), "assigned");
    assert_eq!(app.stored_messages(&conv).await.len(), before, "nothing was written");
    let audit = app.store.audit_count(&conv.id).await.unwrap();
    assert!(
        audit.iter().all(|(actor, _)| actor != &format!("agent:{}", other_agent.id)),
        "refused attempts are not audited as actions: {audit:?}"
    );

    // An admin may reassign; then the former owner is the one refused.
    let admin = AgentClient::logged_in(&app.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    let r = admin
        .post(&format!("/api/v1/agent/conversations/{}/reassign", conv.id), &json!({"agent_id": other_agent.id}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(owner.reply(&conv.id, "still mine?").await.status, StatusCode::FORBIDDEN);
    assert_eq!(other.reply(&conv.id, "I have it now").await.status, StatusCode::OK);
}

async fn agents_cannot_read_shopper_data_without_its_token(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let victim = app.start(Some(&customer_token(DEMO_CUSTOMER_ID))).await;
    let secret_text = "my secret address is 12 Hidden Lane";
    app.send(&victim, secret_text).await;
    let (intruder_conv, _) = queued_conversation(app, None).await;
    let base = format!("/api/v1/conversations/{}", victim.id);

    // With the agent's session cookie but no bearer, or with another conversation's bearer.
    let cookie = agent.cookie().expect("a session");
    let bearers: [Option<&str>; 3] = [None, Some(intruder_conv.token.as_str()), Some("not-a-token")];
    for bearer in bearers {
        let get = |path: String| {
            let mut r = agent.client.get(agent.url(&path)).header("cookie", format!("switchboard_session={cookie}"));
            if let Some(b) = bearer {
                r = r.bearer_auth(b);
            }
            r
        };
        let post = |path: String, body: Value| {
            let mut r = agent
                .client
                .post(agent.url(&path))
                .header("cookie", format!("switchboard_session={cookie}"))
                .header("origin", &agent.origin)
                .header("x-csrf-token", agent.csrf().unwrap())
                .json(&body);
            if let Some(b) = bearer {
                r = r.bearer_auth(b);
            }
            r
        };
        let attempts = vec![
            ("GET messages", get(format!("{base}/messages?after=0"))),
            ("GET events", get(format!("{base}/events"))),
            ("POST messages", post(format!("{base}/messages"), json!({"text": "hi", "client_message_id": "x-1"}))),
            ("POST verify", post(format!("{base}/verify"), json!({"order_number": "10001", "email": "a@b.co"}))),
            ("POST handoff", post(format!("{base}/handoff"), json!({}))),
            ("POST rating", post(format!("{base}/rating"), json!({"score": 1}))),
        ];
        for (what, request) in attempts {
            let r = reply_of(request.send().await.expect("request")).await;
            assert!(
                r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::NOT_FOUND,
                "{what} with bearer {bearer:?}: {} {}",
                r.status,
                r.raw
            );
            assert!(
                !r.raw.contains("Hidden Lane") && !r.raw.contains("\"messages\""),
                "{what}: data leaked: {}",
                r.raw
            );
        }
    }
    // Nothing was changed by those attempts.
    let stored = app.stored_conversation(&victim).await;
    assert_eq!(stored.state.name(), "bot");
    assert_eq!(stored.rating, None);
    // The victim's own token still works.
    assert!(app.messages(&victim, 0).await.to_string().contains("Hidden Lane"));
}

async fn bot_is_silent_while_a_person_has_the_conversation(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let conv = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    // Sanity: the bot answers before the hand-off.
    assert!(!bot_texts(&app.send(&conv, "where is my order").await).is_empty());
    app.handoff(&conv).await;

    let queued = app.send(&conv, "where is my order").await;
    assert_eq!(queued["state"], "queued");
    assert_eq!(queued["replies"].as_array().unwrap().len(), 0, "the bot is silent while queued: {queued}");
    assert_eq!(agent.claim(&conv.id).await.status, StatusCode::OK);
    for text in ["where is my order", "hello? I want a refund", "talk to a person"] {
        let t = app.send(&conv, text).await;
        assert_eq!(t["state"], "assigned");
        assert_eq!(t["replies"].as_array().unwrap().len(), 0, "the bot is silent while assigned: {t}");
    }
    let handoff_again = app.handoff(&conv).await;
    assert_eq!(handoff_again["state"], "assigned", "a hand-off request does not re-queue an assigned conversation");
    assert!(bot_texts(&handoff_again).is_empty(), "{handoff_again}");

    let r = agent.action(&conv.id, "return-to-bot").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let back = app.send(&conv, "where is my order").await;
    assert_eq!(back["state"], "bot", "{back}");
    assert!(!bot_text(&back).is_empty(), "the bot speaks again after hand-back: {back}");
    let stored = app.stored_conversation(&conv).await;
    assert_eq!(stored.assigned_agent, None);
}

async fn every_agent_action_leaves_one_audit_row(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let actor = format!("agent:{}", agent.agent_id());
    let conv = app.start(None).await;
    let sent = app.send(&conv, "my parcel never arrived and I am really annoyed").await;
    let message_id = sent["message"]["id"].as_str().expect("message id").to_string();
    app.handoff(&conv).await;
    let rows = |audit: Vec<(String, String)>| -> Vec<String> {
        audit.into_iter().filter(|(a, _)| a == &actor).map(|(_, action)| action).collect()
    };
    assert!(rows(app.store.audit_count(&conv.id).await.unwrap()).is_empty());

    let mut expected: Vec<&str> = Vec::new();
    let steps: [(&str, &str); 7] = [
        ("claim", "claim"),
        ("reply", "reply"),
        ("note", "note"),
        ("label", "label"),
        ("release", "release"),
        ("claim", "claim"),
        ("return-to-bot", "return_to_bot"),
    ];
    for (step, action) in steps {
        let r = match step {
            "reply" => agent.reply(&conv.id, "Sorry about that, checking now.").await,
            "note" => agent.note(&conv.id, "courier says delivered").await,
            "label" => agent.label(&message_id, "complaint").await,
            other => agent.action(&conv.id, other).await,
        };
        assert!(r.status.is_success(), "{step}: {} {}", r.status, r.raw);
        expected.push(action);
        assert_eq!(rows(app.store.audit_count(&conv.id).await.unwrap()), expected, "after {step}");
    }
    // Hand it off again, claim and resolve.
    app.handoff(&conv).await;
    for (step, action) in [("claim", "claim"), ("resolve", "resolve")] {
        assert_eq!(agent.action(&conv.id, step).await.status, StatusCode::OK);
        expected.push(action);
        assert_eq!(rows(app.store.audit_count(&conv.id).await.unwrap()), expected, "after {step}");
    }
    // Refused actions add nothing.
    assert_eq!(agent.claim(&conv.id).await.status, StatusCode::CONFLICT);
    assert_eq!(agent.action(&conv.id, "release").await.status, StatusCode::CONFLICT);
    assert_eq!(rows(app.store.audit_count(&conv.id).await.unwrap()), expected);
    // The label is a pending training example naming the agent and the message.
    let admin = AgentClient::logged_in(&app.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    let examples = admin.get("/api/v1/admin/training-examples?status=pending").await.ok();
    let ex = examples["training_examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message_id"] == message_id.as_str())
        .expect("the example")
        .clone();
    assert_eq!(ex["intent"], "complaint");
    assert_eq!(ex["agent_id"], agent.agent_id().as_str());
}

async fn handoff_reply_depends_on_agents_online(app: &TestApp) {
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    assert_eq!(agent.get("/api/v1/agent/me").await.ok()["online_agents"], 0);
    // Nobody online, anonymous shopper: kept, answered by email, and asked for an address.
    let (_, turn) = queued_conversation(app, None).await;
    let text = bot_text(&turn);
    assert!(text.contains("kept this conversation") && text.contains("by email"), "{text}");
    assert!(text.contains("what email address"), "an anonymous shopper is asked for an email: {text}");
    // Nobody online, signed-in shopper: kept, by email, not asked.
    let (_, turn) = queued_conversation(app, Some(&customer_token(DEMO_CUSTOMER_ID))).await;
    let text = bot_text(&turn);
    assert!(text.contains("by email") && !text.contains("what email address"), "{text}");

    // An agent stream open: the expected wait.
    let stream = agent.events_ready().await;
    assert_eq!(agent.get("/api/v1/agent/me").await.ok()["online_agents"], 1);
    let (_, turn) = queued_conversation(app, None).await;
    let text = bot_text(&turn);
    assert!(text.contains("usual wait"), "{text}");
    assert!(!text.contains("by email"), "{text}");

    // Closed again: back to email.
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(5);
    while agent.get("/api/v1/agent/me").await.ok()["online_agents"] != 0 {
        assert!(Instant::now() < deadline, "the agent still counts as online 5 s after closing the stream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, turn) = queued_conversation(app, None).await;
    assert!(bot_text(&turn).contains("by email"), "{turn}");
}

async fn other_agents_see_a_claimed_conversation_leave_the_queue(app: &TestApp) {
    let winner = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let other_agent = create_agent(&app.store, "watcher@example.com", "Watcher", false).await;
    let watcher = AgentClient::logged_in(&app.base, &other_agent.email, STRONG_PASSWORD).await;
    // One conversation queued before the watcher's stream opens, one after.
    let (early, _) = queued_conversation(app, None).await;
    let mut stream = watcher.events_ready().await;
    let (late, _) = queued_conversation(app, None).await;
    let (queued, _) =
        stream.wait_for(Duration::from_secs(1), |e| e.json()["conversation_id"] == late.id.as_str()).await;
    assert_eq!(queued.expect("the hand-off").json()["state"], "queued");
    for conv in [&early, &late] {
        assert_eq!(winner.claim(&conv.id).await.status, StatusCode::OK);
        let (left, skipped) =
            stream.wait_for(Duration::from_secs(1), |e| e.json()["conversation_id"] == conv.id.as_str()).await;
        let left =
            left.unwrap_or_else(|| panic!("the watcher is not told the conversation left the queue; saw {skipped:?}"));
        let data = left.json();
        assert_eq!(data["state"], "assigned", "{data}");
        // Only the id and the state: nothing about someone else's conversation.
        assert!(data["assigned_agent"].is_null() && data["seq"].is_null(), "{data}");
    }
    // Later activity in the winner's conversations is not shown to the watcher.
    winner.reply(&late.id, "hello from the winner").await.ok();
    let (leak, _) =
        stream.wait_for(Duration::from_millis(500), |e| e.json()["conversation_id"] == late.id.as_str()).await;
    assert!(leak.is_none(), "{leak:?}");
}
