//! The shopper API. The conversation token travels in `Authorization: Bearer`, never in a URL;
//! an unknown id and someone else's id answer alike.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::error::optional_json;
use super::limits::ClientAddress;
use super::{ApiError, ApiJson, AppState};
use crate::chat::{MessageInput, Started, Transcript, TurnResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/conversations", post(start))
        .route("/api/v1/conversations/{id}/messages", post(send).get(read))
        .route("/api/v1/conversations/{id}/events", get(super::stream::shopper_events))
        .route("/api/v1/conversations/{id}/verify", post(verify))
        .route("/api/v1/conversations/{id}/handoff", post(handoff))
        .route("/api/v1/conversations/{id}/rating", post(rate))
}

/// The bearer token of a shopper request.
pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("send the conversation token as `Authorization: Bearer TOKEN`"))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StartRequest {
    customer_token: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    // An empty body starts an anonymous conversation.
    let request: StartRequest = optional_json(body)?.unwrap_or_default();
    if request.customer_token.as_ref().is_some_and(|t| t.len() > 4096) {
        return Err(ApiError::bad_request("invalid_customer_token", "customer_token is too long"));
    }
    let started = state.chat.start(request.customer_token.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(started)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    text: String,
    client_message_id: String,
    #[serde(default)]
    quick_reply: Option<String>,
}

async fn send(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
    ApiJson(request): ApiJson<SendRequest>,
) -> Result<Json<TurnResult>, ApiError> {
    let token = bearer(&headers)?;
    let started = std::time::Instant::now();
    let input = MessageInput {
        text: request.text,
        client_message_id: request.client_message_id,
        quick_reply: request.quick_reply,
    };
    let result = state.chat.send(&id, token, input, client.0).await?;
    let decision = result.triage.as_ref().map_or("none", |t| t.decision.name());
    let intent = result.triage.as_ref().and_then(|t| t.intents.first()).map_or_else(String::new, |s| s.intent.clone());
    metrics::counter!("switchboard_messages_total", "decision" => decision, "intent" => intent).increment(1);
    metrics::histogram!("switchboard_reply_seconds").record(started.elapsed().as_secs_f64());
    Ok(Json(result))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct After {
    #[serde(default)]
    after: i64,
}

async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<After>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Transcript>, ApiError> {
    let token = bearer(&headers)?;
    let Query(after) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(state.chat.transcript(&id, token, after.after).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyRequest {
    order_number: String,
    email: String,
}

async fn verify(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
    ApiJson(request): ApiJson<VerifyRequest>,
) -> Result<Json<TurnResult>, ApiError> {
    let token = bearer(&headers)?;
    let result = state.chat.verify(&id, token, &request.order_number, &request.email, client.0).await?;
    Ok(Json(result))
}

async fn handoff(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<TurnResult>, ApiError> {
    let token = bearer(&headers)?;
    Ok(Json(state.chat.request_handoff(&id, token).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingRequest {
    score: i64,
    #[serde(default)]
    comment: Option<String>,
}

async fn rate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RatingRequest>,
) -> Result<Json<TurnResult>, ApiError> {
    let token = bearer(&headers)?;
    let comment = request.comment.as_deref().filter(|c| !c.trim().is_empty());
    Ok(Json(state.chat.rate(&id, token, request.score, comment).await?))
}
