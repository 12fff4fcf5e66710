//! Operations: health, readiness, Prometheus metrics and the classifier endpoint.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, ApiJson, AppState};
use crate::domain::triage::{History, decide};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/api/v1/classify", post(classify))
        .route("/api/v1/demo/identity", get(demo_identity))
}

/// Demo mode only: the demo shopper's customer token and the demo guest's order + email,
/// for the demo storefront's sign-in switch.
async fn demo_identity(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if !state.demo {
        return Err(ApiError::client(StatusCode::NOT_FOUND, "not_found", "only in demo mode"));
    }
    let keys = state.chat.identity_keys();
    let claims = crate::chat::CustomerClaims {
        customer_id: crate::demo::DEMO_CUSTOMER_ID.into(),
        email: crate::demo::DEMO_CUSTOMER_EMAIL.into(),
        exp: chrono::Utc::now().timestamp() + 24 * 3600,
        kid: keys.current_kid().unwrap_or_default().into(),
    };
    let token = keys.sign(&claims).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({
        "customer_token": token,
        "customer_name": crate::demo::DEMO_CUSTOMER_NAME,
        "guest_order_number": crate::demo::DEMO_GUEST_ORDER,
        "guest_email": crate::demo::DEMO_GUEST_EMAIL,
    })))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers, the model is loaded, and we are not shutting down.
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if *state.shutdown.borrow() {
        return Err(ApiError::unavailable());
    }
    if let Err(e) = state.chat.store().ping().await {
        tracing::warn!(error = %e, "readiness: database unavailable");
        return Err(ApiError::unavailable());
    }
    let model = state.chat.classifier().metadata().version.clone();
    Ok(Json(json!({"status": "ready", "database": "ok", "model": model})))
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    let body = state.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifyRequest {
    text: String,
}

async fn classify(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ClassifyRequest>,
) -> Result<Json<Value>, ApiError> {
    if !state.demo {
        // Admin sessions arrive with the agent console; until then only demo mode opens it.
        return Err(ApiError::forbidden());
    }
    crate::domain::text::validate_message(&request.text)
        .map_err(|e| ApiError::bad_request("invalid_message", e.to_string()))?;
    let started = std::time::Instant::now();
    let text = request.text;
    let ranking = state.chat.classify(&text).await?;
    metrics::histogram!("switchboard_classify_seconds").record(started.elapsed().as_secs_f64());
    let phrase = state.chat.rules().find(&text);
    let metadata = state.chat.classifier().metadata();
    let decision = decide(
        &ranking,
        phrase.as_ref().map(|m| m.category),
        &metadata.thresholds,
        state.chat.catalog(),
        History::default(),
    );
    Ok(Json(json!({
        "intents": ranking.top_n(5),
        "decision": decision.kind(),
        "reason": decision.reason(),
        "sensitive_phrase": phrase.as_ref().map(|m| m.category),
        "model_version": metadata.version,
    })))
}
