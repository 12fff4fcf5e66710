//! Guest verification over real HTTP: asked to verify, verified by order number + email
//! (trimmed, any case), nothing revealed on a mismatch and the same words as for a missing
//! order, and hand-off past the limits per conversation, per order number and per IP.

#[macro_use]
mod common;

use common::{Conv, Reply, TestApp, bot_text, bot_texts, quick_values};
use reqwest::StatusCode;
use serde_json::json;
use switchboard::demo::{DEMO_GUEST_EMAIL, DEMO_GUEST_ORDER};
use switchboard::domain::orders::Order;

on_both_engines!(
    guest_is_asked_to_verify_then_gets_the_answer,
    guest_verifies_in_the_chat,
    wrong_email_reveals_nothing_and_reads_like_a_missing_order,
    three_failures_in_a_conversation_hand_off,
    failures_per_order_number_are_limited,
    failures_per_ip_are_limited,
);

async fn guest_order(app: &TestApp) -> Order {
    let order = app.store.order(DEMO_GUEST_ORDER).await.unwrap().expect("the demo guest order");
    assert_eq!(order.customer_id, None);
    assert_eq!(order.email, DEMO_GUEST_EMAIL);
    assert!(!order.shipments.is_empty());
    order
}

/// Strings that only someone who may see the order should ever get.
fn secrets(order: &Order) -> Vec<String> {
    let mut out = vec![order.shipping_address.clone(), order.email.clone()];
    for s in &order.shipments {
        out.extend([s.carrier.clone(), s.tracking_number.clone(), s.tracking_url.clone()]);
    }
    for i in &order.items {
        out.push(i.name.clone());
    }
    out
}

fn assert_reveals_nothing(what: &str, raw: &str, order: &Order) {
    for secret in secrets(order) {
        assert!(!raw.contains(&secret), "{what}: reveals {secret:?} of order {}: {raw}", order.number);
    }
}

/// A guest conversation where the bot has just asked for the order number and email.
async fn asked_to_verify(app: &TestApp, order: &Order) -> Conv {
    let conv = app.start(None).await;
    assert_eq!(conv.started["verified"], false);
    let turn = app.send(&conv, "where is my parcel").await;
    assert_eq!(turn["triage"]["intents"][0]["intent"], "order_status");
    assert_eq!(turn["state"], "bot");
    assert_eq!(turn["verified"], false);
    let text = bot_text(&turn).to_lowercase();
    assert!(text.contains("order number") && text.contains("email"), "asks for order number and email: {text}");
    assert!(quick_values(&turn).contains(&"verify_form".to_string()), "offers the form: {turn}");
    assert_reveals_nothing("the request to verify", &turn.to_string(), order);
    conv
}

async fn guest_is_asked_to_verify_then_gets_the_answer(app: &TestApp) {
    let order = guest_order(app).await;
    let conv = asked_to_verify(app, &order).await;
    let r = app.verify(&conv, DEMO_GUEST_ORDER, " SAM.Guest@example.com ").await.ok();
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(r["state"], "bot");
    let text = bot_text(&r);
    assert!(text.contains(&format!("#{}", order.number)), "{text}");
    assert!(text.contains(order.status.customer_facing()), "status {:?}: {text}", order.status.customer_facing());
    for s in &order.shipments {
        assert!(text.contains(&s.carrier) && text.contains(&s.tracking_url), "{text}");
    }
    let stored = app.stored_conversation(&conv).await;
    let identity = stored.identity.expect("verified");
    assert_eq!(identity.via.name(), "guest");
    assert_eq!(identity.order.as_deref(), Some(DEMO_GUEST_ORDER));

    // Verified now: later questions are answered from the order data straight away.
    let turn = app.send(&conv, "where is my order").await;
    assert!(bot_text(&turn).contains(&order.shipments[0].tracking_url), "{turn}");
    // But never another shopper's order.
    let turn = app.send(&conv, "where is order #10001").await;
    let alex = app.store.order("10001").await.unwrap().unwrap();
    assert_reveals_nothing("a verified guest asking for 10001", &turn.to_string(), &alex);
}

async fn guest_verifies_in_the_chat(app: &TestApp) {
    let order = guest_order(app).await;
    let conv = asked_to_verify(app, &order).await;
    // The number first, then the email: asked for what is missing.
    let turn = app.send(&conv, "it's order #10004").await;
    assert_eq!(turn["verified"], false);
    assert!(bot_text(&turn).contains("email"), "{turn}");
    assert_reveals_nothing("half the details", &turn.to_string(), &order);
    let turn = app.send(&conv, "Sam.Guest@Example.com").await;
    assert_eq!(turn["verified"], true, "{turn}");
    let text = bot_text(&turn);
    assert!(text.contains(&order.shipments[0].tracking_url), "{text}");
}

async fn wrong_email_reveals_nothing_and_reads_like_a_missing_order(app: &TestApp) {
    let order = guest_order(app).await;
    assert!(app.store.order("99999").await.unwrap().is_none());
    // Through the form.
    let mut outcomes: Vec<Reply> = Vec::new();
    for number in [DEMO_GUEST_ORDER, "99999"] {
        let conv = asked_to_verify(app, &order).await;
        let r = app.verify(&conv, number, "someone.else@example.com").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
        assert_eq!(r.json["verified"], false);
        assert_eq!(r.json["state"], "bot");
        assert_reveals_nothing("a wrong email", &r.raw, &order);
        // Nothing later either.
        let later = app.messages(&conv, 0).await.to_string();
        assert_reveals_nothing("the transcript after a wrong email", &later, &order);
        assert!(app.stored_conversation(&conv).await.identity.is_none());
        outcomes.push(r);
    }
    assert_eq!(
        bot_texts(&outcomes[0].json),
        bot_texts(&outcomes[1].json),
        "a wrong email reads exactly like a missing order"
    );
    assert_eq!(quick_values(&outcomes[0].json), quick_values(&outcomes[1].json));
    assert_eq!(outcomes[0].json["state"], outcomes[1].json["state"]);
    assert!(!bot_texts(&outcomes[0].json).is_empty());

    // Through the chat.
    let mut texts = Vec::new();
    for number in [DEMO_GUEST_ORDER, "99999"] {
        let conv = asked_to_verify(app, &order).await;
        let turn =
            app.send_with(&conv, &format!("order {number}, email nobody@example.com"), None, &common::new_cmid()).await;
        assert_eq!(turn.status, StatusCode::OK, "{}", turn.raw);
        assert_eq!(turn.json["verified"], false);
        assert_reveals_nothing("a wrong email in the chat", &turn.raw, &order);
        texts.push((bot_texts(&turn.json), quick_values(&turn.json)));
    }
    assert_eq!(texts[0], texts[1]);
    assert_eq!(texts[0].0, bot_texts(&outcomes[0].json));
}

async fn three_failures_in_a_conversation_hand_off(app: &TestApp) {
    let order = guest_order(app).await;
    let conv = asked_to_verify(app, &order).await;
    for attempt in 1..=3 {
        let r = app.verify(&conv, "99998", "nobody@example.com").await.ok();
        assert_eq!(r["verified"], false);
        if attempt < 3 {
            assert_eq!(r["state"], "bot", "attempt {attempt}: {r}");
        } else {
            assert_eq!(r["state"], "queued", "attempt {attempt}: {r}");
            assert!(
                r["replies"].as_array().unwrap().iter().any(|m| m["sender"] == "event"
                    && m["event"] == json!({"type": "state", "state": "queued", "reason": "verification_failed"})),
                "{r}"
            );
        }
    }
    let stored = app.stored_conversation(&conv).await;
    assert_eq!(stored.handoff.as_ref().map(|h| h.reason.name()), Some("verification_failed"));
    assert!(stored.identity.is_none());
    let queued_at = stored.handoff.as_ref().map(|h| h.queued_at).expect("queued");

    // With a person now: the right details do not unlock anything, and the bot stays silent.
    let r = app.verify(&conv, DEMO_GUEST_ORDER, DEMO_GUEST_EMAIL).await;
    assert!(r.status.is_success() || r.status.is_client_error(), "{}", r.raw);
    assert_reveals_nothing("a verification after the limit", &r.raw, &order);
    if r.status.is_success() {
        assert_eq!(r.json["verified"], false, "{}", r.raw);
        assert_eq!(r.json["state"], "queued");
        assert!(bot_texts(&r.json).is_empty(), "the bot stays silent: {}", r.raw);
    }
    let turn = app.send(&conv, "where is my parcel").await;
    assert_eq!(turn["replies"], serde_json::json!([]), "{turn}");
    let stored = app.stored_conversation(&conv).await;
    assert_eq!(stored.state.name(), "queued");
    assert_eq!(stored.handoff.as_ref().map(|h| h.reason.name()), Some("verification_failed"));
    assert_eq!(stored.handoff.as_ref().map(|h| h.queued_at), Some(queued_at), "still the same place in the queue");
    assert!(stored.identity.is_none());
}

async fn failures_per_order_number_are_limited(app: &TestApp) {
    let order = guest_order(app).await;
    // Five wrong guesses at one order number, from five conversations.
    for _ in 0..5 {
        let conv = asked_to_verify(app, &order).await;
        let r = app.verify(&conv, DEMO_GUEST_ORDER, "guess@example.com").await.ok();
        assert_eq!(r["verified"], false);
        assert_eq!(r["state"], "bot");
    }
    // Now even the right email gets no data: the order number is locked for the hour.
    let conv = asked_to_verify(app, &order).await;
    let r = app.verify(&conv, DEMO_GUEST_ORDER, DEMO_GUEST_EMAIL).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.json["verified"], false, "{}", r.raw);
    assert_eq!(r.json["state"], "queued");
    assert_reveals_nothing("a verification past the order limit", &r.raw, &order);
    let stored = app.stored_conversation(&conv).await;
    assert_eq!(stored.handoff.as_ref().map(|h| h.reason.name()), Some("verification_failed"));
    assert!(stored.identity.is_none());
}

async fn failures_per_ip_are_limited(app: &TestApp) {
    let order = guest_order(app).await;
    // Ten wrong guesses at different order numbers, two per conversation.
    for round in 0..5 {
        let conv = asked_to_verify(app, &order).await;
        for k in 0..2 {
            let number = format!("{}", 10100 + round * 2 + k);
            let r = app.verify(&conv, &number, "guess@example.com").await.ok();
            assert_eq!(r["verified"], false);
        }
    }
    let conv = asked_to_verify(app, &order).await;
    let r = app.verify(&conv, DEMO_GUEST_ORDER, DEMO_GUEST_EMAIL).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.json["verified"], false, "{}", r.raw);
    assert_eq!(r.json["state"], "queued");
    assert_reveals_nothing("a verification past the IP limit", &r.raw, &order);
}
