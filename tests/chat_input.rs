//! Bad input over real HTTP: each a JSON 4xx `{error: {code, message}}`, never a 5xx, and the
//! database unchanged. Someone else's conversation id answers exactly like an unknown one.

#[macro_use]
mod common;

use common::{Conv, Reply, TestApp, new_cmid};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_engines!(
    bad_messages_are_refused_and_store_nothing,
    foreign_ids_answer_exactly_like_unknown_ids,
    bad_verification_rating_and_start_requests_are_refused,
    the_longest_allowed_message_is_accepted,
);

const JSON: Option<&str> = Some("application/json");

#[track_caller]
fn assert_client_error(what: &str, r: &Reply, status: StatusCode) {
    assert_eq!(r.status, status, "{what}: {}", r.raw);
    assert!(r.status.is_client_error(), "{what}");
    let error = &r.json["error"];
    assert!(error["code"].as_str().is_some_and(|c| !c.is_empty()), "{what}: a JSON error with a code: {}", r.raw);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: a JSON error with a message: {}", r.raw);
    assert_eq!(r.json.as_object().map(|o| o.len()), Some(1), "{what}: only `error`: {}", r.raw);
}

fn messages_path(conv: &Conv) -> String {
    format!("/api/v1/conversations/{}/messages", conv.id)
}

async fn bad_messages_are_refused_and_store_nothing(app: &TestApp) {
    let conv = app.start(None).await;
    let before = app.write_counts().await;
    let path = messages_path(&conv);
    let token = Some(conv.token.as_str());
    let body = |v: Value| v.to_string().into_bytes();

    let oversize = body(json!({"text": "a".repeat(70 * 1024), "client_message_id": "x1"}));
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Option<&str>, Option<&str>, Vec<u8>, StatusCode)> = vec![
        ("a body over 64 KiB", token, JSON, oversize, StatusCode::PAYLOAD_TOO_LARGE),
        ("malformed JSON", token, JSON, br#"{"text": "hi", "client_message_id": "#.to_vec(), StatusCode::BAD_REQUEST),
        ("not JSON at all", token, JSON, b"hello".to_vec(), StatusCode::BAD_REQUEST),
        ("an empty body", token, JSON, Vec::new(), StatusCode::BAD_REQUEST),
        (
            "an unknown field",
            token,
            JSON,
            body(json!({"text": "hi", "client_message_id": "x2", "admin": true})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a wrong type",
            token,
            JSON,
            body(json!({"text": 42, "client_message_id": "x3"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("a missing field", token, JSON, body(json!({"text": "hi"})), StatusCode::UNPROCESSABLE_ENTITY),
        (
            "a NUL character",
            token,
            JSON,
            body(json!({"text": "hi\u{0}there", "client_message_id": "x5"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a control character (BEL)",
            token,
            JSON,
            body(json!({"text": "hi\u{7}there", "client_message_id": "x6"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a control character (ESC)",
            token,
            JSON,
            body(json!({"text": "\u{1b}[31mred", "client_message_id": "x7"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a C1 control character",
            token,
            JSON,
            body(json!({"text": "hi\u{85}", "client_message_id": "x8"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid UTF-8",
            token,
            JSON,
            b"{\"text\": \"caf\xe9 \xff\xfe\", \"client_message_id\": \"x9\"}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a lone surrogate escape",
            token,
            JSON,
            br#"{"text": "hi \ud800", "client_message_id": "x10"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "2001 characters",
            token,
            JSON,
            body(json!({"text": "é".repeat(2001), "client_message_id": "x11"})),
            StatusCode::BAD_REQUEST,
        ),
        ("an empty text", token, JSON, body(json!({"text": "", "client_message_id": "x12"})), StatusCode::BAD_REQUEST),
        (
            "a blank text",
            token,
            JSON,
            body(json!({"text": " \n\t ", "client_message_id": "x13"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "an empty client_message_id",
            token,
            JSON,
            body(json!({"text": "hi", "client_message_id": ""})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a quick reply the bot never offered",
            token,
            JSON,
            body(json!({"text": "hi", "client_message_id": "x14", "quick_reply": "intent:no_such_intent"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no Authorization header",
            None,
            JSON,
            body(json!({"text": "hi", "client_message_id": "x15"})),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "the wrong content type",
            token,
            Some("text/plain"),
            body(json!({"text": "hi", "client_message_id": "x16"})),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ];
    for (what, token, content_type, bytes, status) in cases {
        let r = app.post_raw(&path, token, content_type, bytes).await;
        assert_client_error(what, &r, status);
        assert_eq!(app.write_counts().await, before, "{what}: nothing is stored");
    }

    // Authorization that is not a bearer token, or the wrong token.
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token abc"] {
        let r = app
            .client
            .post(app.url(&path))
            .header("authorization", header)
            .json(&json!({"text": "hi", "client_message_id": new_cmid()}))
            .send()
            .await
            .unwrap();
        let r = reply(r).await;
        assert_client_error(header, &r, StatusCode::UNAUTHORIZED);
    }
    let r =
        app.post_raw(&path, Some("not-the-token"), JSON, body(json!({"text": "hi", "client_message_id": "x17"}))).await;
    assert_client_error("a wrong token", &r, StatusCode::NOT_FOUND);

    // Reading with a bad `after`, or without a token.
    let r = reply(app.client.get(app.url(&format!("{path}?after=abc"))).bearer_auth(&conv.token).send().await.unwrap())
        .await;
    assert_client_error("after=abc", &r, StatusCode::BAD_REQUEST);
    let r = reply(
        app.client
            .get(app.url(&format!("/api/v1/conversations/{}/events?after=abc", conv.id)))
            .bearer_auth(&conv.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_client_error("events after=abc", &r, StatusCode::BAD_REQUEST);
    let r = reply(app.client.get(app.url(&path)).send().await.unwrap()).await;
    assert_client_error("reading without a token", &r, StatusCode::UNAUTHORIZED);
    let r = reply(app.client.get(app.url(&format!("/api/v1/conversations/{}/events", conv.id))).send().await.unwrap())
        .await;
    assert_client_error("events without a token", &r, StatusCode::UNAUTHORIZED);

    assert_eq!(app.write_counts().await, before, "nothing was stored");
    // And the conversation still works.
    let ok = app.send(&conv, "hi").await;
    assert_eq!(ok["message"]["text"], "hi");
}

async fn reply(r: reqwest::Response) -> Reply {
    Reply::from(r).await
}

/// Every shopper endpoint, for a conversation id and a token.
async fn every_endpoint(app: &TestApp, id: &str, token: &str) -> Vec<(String, Reply)> {
    let base = format!("/api/v1/conversations/{id}");
    let mut out = Vec::new();
    for (suffix, body) in [
        ("/messages", json!({"text": "where is my order", "client_message_id": "same-id"})),
        ("/verify", json!({"order_number": "10004", "email": "sam.guest@example.com"})),
        ("/handoff", json!({})),
        ("/rating", json!({"score": 5})),
    ] {
        let r = reply(
            app.client.post(app.url(&format!("{base}{suffix}"))).bearer_auth(token).json(&body).send().await.unwrap(),
        )
        .await;
        out.push((format!("POST {suffix}"), r));
    }
    for suffix in ["/messages?after=0", "/events"] {
        let r =
            reply(app.client.get(app.url(&format!("{base}{suffix}"))).bearer_auth(token).send().await.unwrap()).await;
        out.push((format!("GET {suffix}"), r));
    }
    out
}

async fn foreign_ids_answer_exactly_like_unknown_ids(app: &TestApp) {
    let mine = app.start(None).await;
    let theirs = app.start(Some(&common::customer_token(switchboard::demo::DEMO_CUSTOMER_ID))).await;
    app.send(&theirs, "where is my order").await;
    let before = app.write_counts().await;
    let their_messages = app.stored_messages(&theirs).await;

    let unknown_id = switchboard::util::random_hex(16);
    let foreign = every_endpoint(app, &theirs.id, &mine.token).await;
    let unknown = every_endpoint(app, &unknown_id, &mine.token).await;
    let malformed = every_endpoint(app, "not-an-id", &mine.token).await;
    for (((what, f), (_, u)), (_, m)) in foreign.iter().zip(&unknown).zip(&malformed) {
        assert_client_error(what, f, StatusCode::NOT_FOUND);
        assert_eq!(f.status, u.status, "{what}");
        assert_eq!(f.raw, u.raw, "{what}: a foreign id reads exactly like an unknown one");
        assert_eq!(m.status, u.status, "{what}");
        assert_eq!(m.raw, u.raw, "{what}");
        assert!(!f.raw.contains("10001") && !f.raw.contains("Alex"), "{what}: {}", f.raw);
    }
    assert_eq!(app.write_counts().await, before, "nothing was stored");
    assert_eq!(app.stored_messages(&theirs).await, their_messages);
    let stored = app.stored_conversation(&theirs).await;
    assert_eq!(stored.state.name(), "bot", "no hand-off of someone else's chat");
    assert_eq!(stored.rating, None);
}

async fn bad_verification_rating_and_start_requests_are_refused(app: &TestApp) {
    let conv = app.start(None).await;
    let before = app.write_counts().await;
    let cases: Vec<(&str, &str, Value, StatusCode)> = vec![
        ("verify with empty fields", "/verify", json!({"order_number": "", "email": ""}), StatusCode::BAD_REQUEST),
        (
            "verify with a blank email",
            "/verify",
            json!({"order_number": "10004", "email": "   "}),
            StatusCode::BAD_REQUEST,
        ),
        ("verify without an email", "/verify", json!({"order_number": "10004"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            "verify with an overlong order number",
            "/verify",
            json!({"order_number": "1".repeat(500), "email": "a@example.com"}),
            StatusCode::BAD_REQUEST,
        ),
        ("rating 0", "/rating", json!({"score": 0}), StatusCode::BAD_REQUEST),
        ("rating 6", "/rating", json!({"score": 6}), StatusCode::BAD_REQUEST),
        ("rating -1", "/rating", json!({"score": -1}), StatusCode::BAD_REQUEST),
        ("rating as a string", "/rating", json!({"score": "5"}), StatusCode::UNPROCESSABLE_ENTITY),
        ("rating 4.5", "/rating", json!({"score": 4.5}), StatusCode::UNPROCESSABLE_ENTITY),
        ("a rating comment with a NUL", "/rating", json!({"score": 4, "comment": "ok\u{0}"}), StatusCode::BAD_REQUEST),
        (
            "a rating with an unknown field",
            "/rating",
            json!({"score": 4, "stars": 4}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (what, suffix, body, status) in cases {
        let r = app.post(&conv, suffix, &body).await;
        assert_client_error(what, &r, status);
        assert_eq!(app.write_counts().await, before, "{what}: nothing stored");
    }
    // Starting a conversation with a malformed body, an unknown field or a huge token.
    for (what, bytes) in [
        ("malformed JSON", b"{\"customer_token\": ".to_vec()),
        ("an unknown field", br#"{"customer_token": null, "admin": true}"#.to_vec()),
        ("a wrong type", br#"{"customer_token": 12}"#.to_vec()),
        ("a huge customer token", json!({"customer_token": "x".repeat(5000)}).to_string().into_bytes()),
        ("invalid UTF-8", b"{\"customer_token\": \"\xff\"}".to_vec()),
    ] {
        let r = app.post_raw("/api/v1/conversations", None, JSON, bytes).await;
        assert!(r.status.is_client_error(), "{what}: {}", r.raw);
        assert_client_error(what, &r, r.status);
    }
    let huge = json!({"customer_token": "x".repeat(70 * 1024)}).to_string().into_bytes();
    let r = app.post_raw("/api/v1/conversations", None, JSON, huge).await;
    assert_client_error("a start body over 64 KiB", &r, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.write_counts().await, before, "nothing stored");
    // A bad or expired customer token is no error: just an anonymous shopper.
    let anonymous = app.start(Some("garbage.token")).await;
    assert_eq!(anonymous.started["verified"], false);
}

async fn the_longest_allowed_message_is_accepted(app: &TestApp) {
    let conv = app.start(None).await;
    let text = "é".repeat(2000);
    let turn = app.send(&conv, &text).await;
    assert_eq!(turn["message"]["text"], text.as_str());
    // Tabs and newlines are fine.
    let turn = app.send(&conv, "hello\n\tthere\r\n").await;
    assert_eq!(turn["message"]["text"], "hello\n\tthere\r\n");
}
