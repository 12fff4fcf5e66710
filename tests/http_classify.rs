//! `POST /api/v1/classify` and `GET /healthz` over real HTTP, with the shipped model.

#[path = "common/agents.rs"]
mod agents_support;
mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::startup::Application;

/// Starts the real server (fresh SQLite database, shipped model) on a free loopback port, with
/// or without demo mode; it lives as long as the test's runtime.
async fn serve(demo: bool) -> String {
    serve_with_database(demo).await.0
}

/// [`serve`], also giving the database URL.
async fn serve_with_database(demo: bool) -> (String, String) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let database_url = format!("sqlite://{}/classify.db", dir.path().display());
    let mut config = common::server_config(&database_url);
    config.demo = demo;
    let app = Application::build(&config, Some(common::encoder())).await.expect("the server builds");
    let addr = app.local_addr();
    tokio::spawn(async move {
        let _dir = dir;
        app.run(std::future::pending()).await.expect("the server runs");
    });
    (format!("http://{addr}"), database_url)
}

async fn post_json(base: &str, body: &Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new().post(format!("{base}/api/v1/classify")).json(body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

async fn post_raw(base: &str, body: &'static str, content_type: Option<&str>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().post(format!("{base}/api/v1/classify")).body(body);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// A 4xx answer in the API's error shape; returns its code.
fn assert_client_error(status: StatusCode, body: &Value) -> String {
    assert!(status.is_client_error(), "status {status}, body {body}");
    let code = body["error"]["code"].as_str().unwrap_or_else(|| panic!("no error.code in {body}"));
    let message = body["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message in {body}"));
    assert!(!message.is_empty(), "{body}");
    code.to_string()
}

#[tokio::test]
async fn a_message_is_answered_with_ranked_intents_and_a_decision() {
    let base = serve(true).await;
    let (status, body) = post_json(&base, &json!({"text": "where is my order 1042?"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let intents = body["intents"].as_array().unwrap();
    assert_eq!(intents.len(), 5, "the top five intents: {body}");
    assert_eq!(intents[0]["intent"], "order_status", "{body}");
    let confidences: Vec<f64> = intents.iter().map(|i| i["confidence"].as_f64().unwrap()).collect();
    assert!(confidences.windows(2).all(|w| w[0] >= w[1]), "ranked, highest first: {confidences:?}");
    assert_eq!(body["decision"], "answer", "{body}");
    assert_eq!(body["reason"], "confident", "{body}");
    assert!(body["model_version"].is_string(), "{body}");
}

#[tokio::test]
async fn a_sensitive_message_is_handed_off() {
    let base = serve(true).await;
    let (status, body) = post_json(&base, &json!({"text": "I'm going to sue you"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["decision"].as_str(), body["reason"].as_str()), (Some("handoff"), Some("sensitive")), "{body}");
}

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let base = serve(true).await;
    let (status, body) = post_raw(&base, "{\"text\": \"where is", Some("application/json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(assert_client_error(status, &body), "invalid_json");
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_a_bad_request() {
    let base = serve(true).await;
    let (status, body) = post_raw(&base, "{\"text\": \"hello\"}", None).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(assert_client_error(status, &body), "unsupported_media_type");
}

#[tokio::test]
async fn an_unknown_field_is_a_bad_request() {
    let base = serve(true).await;
    let (status, body) = post_json(&base, &json!({"text": "hello", "shop": "acme"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(assert_client_error(status, &body), "invalid_fields");
    assert!(body["error"]["message"].as_str().unwrap().contains("shop"), "{body}");
}

#[tokio::test]
async fn a_text_of_the_wrong_type_is_a_bad_request() {
    let base = serve(true).await;
    let (status, body) = post_json(&base, &json!({"text": 42})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(assert_client_error(status, &body), "invalid_fields");
}

#[tokio::test]
async fn a_missing_text_is_a_bad_request() {
    let base = serve(true).await;
    let (status, body) = post_json(&base, &json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(assert_client_error(status, &body), "invalid_fields");
}

#[tokio::test]
async fn an_empty_text_is_a_bad_request() {
    let base = serve(true).await;
    for text in ["", "   \n\t "] {
        let (status, body) = post_json(&base, &json!({ "text": text })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(assert_client_error(status, &body), "invalid_message");
    }
}

#[tokio::test]
async fn a_text_of_2001_characters_is_a_bad_request_and_2000_is_fine() {
    let base = serve(true).await;
    let (status, body) = post_json(&base, &json!({ "text": "é".repeat(2001) })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(assert_client_error(status, &body), "invalid_message");
    assert!(body["error"]["message"].as_str().unwrap().contains("2000"), "{body}");
    let long = "where is my order? ".repeat(200).chars().take(2000).collect::<String>();
    let (status, body) = post_json(&base, &json!({ "text": long })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_text_with_a_nul_character_is_a_bad_request() {
    let base = serve(true).await;
    let (status, body) = post_json(&base, &json!({"text": "where is\u{0}my order"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(assert_client_error(status, &body), "invalid_message");
}

#[tokio::test]
async fn outside_demo_mode_classify_is_for_admins_only() {
    let (base, database_url) = serve_with_database(false).await;
    let (status, body) = post_json(&base, &json!({"text": "where is my order"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(assert_client_error(status, &body), "unauthorized");

    let store = switchboard::store::Store::connect(&database_url).await.expect("the database");
    agents_support::create_agent(&store, "agent@shop.example", "Agent", false).await;
    agents_support::create_agent(&store, "admin@shop.example", "Admin", true).await;
    let password = agents_support::STRONG_PASSWORD;
    let agent = agents_support::AgentClient::logged_in(&base, "agent@shop.example", password).await;
    let refused = agent.post("/api/v1/classify", &json!({"text": "where is my order"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.raw);
    assert_eq!(assert_client_error(refused.status, &refused.json), "admin_only");

    let admin = agents_support::AgentClient::logged_in(&base, "admin@shop.example", password).await;
    let answered = admin.post("/api/v1/classify", &json!({"text": "where is my order"})).await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.raw);
    assert_eq!(answered.json["intents"][0]["intent"], "order_status");
    assert_eq!(answered.json["decision"], "answer");
}

#[tokio::test]
async fn healthz_answers_ok() {
    let base = serve(false).await;
    let response = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn concurrent_requests_are_all_answered() {
    let base = serve(true).await;
    let texts = ["where is my order", "do you accept PayPal?", "thanks, bye", "I want to talk to a person"];
    let requests = (0..16).map(|i| {
        let base = base.clone();
        let text = texts[i % texts.len()];
        async move { post_json(&base, &json!({ "text": text })).await }
    });
    for (status, body) in futures::future::join_all(requests).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["decision"].is_string(), "{body}");
    }
}
