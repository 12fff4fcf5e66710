//! Operations: health, readiness and the classifier endpoint.

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::domain::triage::{History, decide};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/classify", post(classify))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"status": "ready", "model": state.classifier.metadata().version}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifyRequest {
    text: String,
}

async fn classify(
    State(state): State<AppState>,
    body: Result<Json<ClassifyRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    if !state.demo {
        // Admin sessions arrive with the agent console; until then only demo mode opens it.
        return Err(ApiError::Forbidden);
    }
    let Json(request) = body.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    crate::domain::text::validate_message(&request.text)
        .map_err(|e| ApiError::bad_request("invalid_message", e.to_string()))?;
    let classifier = state.classifier.clone();
    let text = request.text;
    let span = tracing::Span::current();
    let (ranking, text) = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        (classifier.rank(&text), text)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let ranking = ranking?;
    let phrase = state.rules.find(&text);
    let metadata = state.classifier.metadata();
    let decision = decide(&ranking, phrase.as_ref().map(|m| m.category), &metadata.thresholds, &state.catalog, History::default());
    Ok(Json(json!({
        "intents": ranking.top_n(5),
        "decision": decision.kind(),
        "reason": decision.reason(),
        "model_version": metadata.version,
    })))
}
