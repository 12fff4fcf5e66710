//! Admin endpoints: agents (list, add, disable), training examples (list, approve, reject), and
//! the classifier (open to anyone in demo mode).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::agent::{Acting, ActingWith, SignedIn, current_agent};
use super::{ApiError, ApiJson, AppState};
use crate::agents::password;
use crate::domain::agent::Agent;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/agents", get(list_agents).post(add_agent))
        .route("/api/v1/admin/agents/{id}/disable", post(disable_agent))
        .route("/api/v1/admin/training-examples", get(list_examples))
        .route("/api/v1/admin/training-examples/{id}/approve", post(approve))
        .route("/api/v1/admin/training-examples/{id}/reject", post(reject))
        .route("/api/v1/classify", post(classify))
}

fn require_admin(agent: Agent) -> Result<Agent, ApiError> {
    if agent.is_admin { Ok(agent) } else { Err(ApiError::forbidden_with("admin_only", "only admins can do this")) }
}

async fn list_agents(State(state): State<AppState>, SignedIn(agent): SignedIn) -> Result<Json<Value>, ApiError> {
    require_admin(agent)?;
    Ok(Json(json!({"agents": state.agents.store().agents().await?})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddAgent {
    email: String,
    name: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    admin: bool,
}

async fn add_agent(
    State(state): State<AppState>,
    ActingWith(admin, request): ActingWith<AddAgent>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let admin = require_admin(admin)?;
    if crate::domain::parse::email(&request.email).as_deref() != Some(request.email.trim().to_lowercase().as_str()) {
        return Err(ApiError::bad_request("invalid_email", "email is not an email address"));
    }
    if request.name.trim().is_empty() || request.name.len() > 100 {
        return Err(ApiError::bad_request("invalid_name", "name must be 1 to 100 characters"));
    }
    let generated = request.password.is_none();
    let password = request.password.unwrap_or_else(password::generate);
    let hash = password::hash(&password).map_err(|e| ApiError::bad_request("invalid_password", e.to_string()))?;
    let agent =
        state.agents.store().create_agent(&request.email, &request.name, &hash, request.admin).await.map_err(|e| {
            match e {
                crate::store::StoreError::Invalid(m) => ApiError::client(StatusCode::CONFLICT, "exists", m),
                other => other.into(),
            }
        })?;
    let mut tx = state.agents.store().begin().await?;
    tx.audit(&format!("agent:{}", admin.id), "agent_add", None, json!({"agent": agent.id})).await?;
    tx.commit().await?;
    let shown = generated.then_some(password);
    Ok((StatusCode::CREATED, Json(json!({"agent": agent, "password": shown}))))
}

async fn disable_agent(
    State(state): State<AppState>,
    Acting(admin): Acting,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let admin = require_admin(admin)?;
    let agent = state
        .agents
        .store()
        .disable_agent(&id)
        .await?
        .ok_or_else(|| ApiError::client(StatusCode::NOT_FOUND, "not_found", "no such agent"))?;
    let mut tx = state.agents.store().begin().await?;
    tx.audit(&format!("agent:{}", admin.id), "agent_disable", None, json!({"agent": agent.id})).await?;
    tx.commit().await?;
    Ok(Json(json!({"agent": agent})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusQuery {
    #[serde(default = "pending")]
    status: String,
}

fn pending() -> String {
    "pending".into()
}

async fn list_examples(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Query(q): Query<StatusQuery>,
) -> Result<Json<Value>, ApiError> {
    require_admin(agent)?;
    if !matches!(q.status.as_str(), "pending" | "approved" | "rejected") {
        return Err(ApiError::bad_request("invalid_status", "status must be pending, approved or rejected"));
    }
    Ok(Json(json!({"training_examples": state.agents.store().training_examples(&q.status).await?})))
}

async fn review(state: AppState, admin: Agent, id: String, status: &str) -> Result<Json<Value>, ApiError> {
    let admin = require_admin(admin)?;
    if !state.agents.store().review_training_example(&id, status, &admin.id).await? {
        return Err(ApiError::client(StatusCode::CONFLICT, "not_pending", "no pending training example with this id"));
    }
    Ok(Json(json!({"id": id, "status": status})))
}

async fn approve(
    State(state): State<AppState>,
    Acting(admin): Acting,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    review(state, admin, id, "approved").await
}

async fn reject(
    State(state): State<AppState>,
    Acting(admin): Acting,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    review(state, admin, id, "rejected").await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifyRequest {
    text: String,
}

/// Ranked intents and the triage decision for a fresh conversation. Admins only (it reads,
/// so a session is enough), except in demo mode.
async fn classify(
    State(state): State<AppState>,
    session: Session,
    ApiJson(request): ApiJson<ClassifyRequest>,
) -> Result<Json<Value>, ApiError> {
    if !state.demo {
        require_admin(current_agent(&state, &session).await?.0)?;
    }
    crate::domain::text::validate_message(&request.text)
        .map_err(|e| ApiError::bad_request("invalid_message", e.to_string()))?;
    let started = std::time::Instant::now();
    let text = request.text;
    let ranking = state.chat.classify(&text).await?;
    metrics::histogram!("switchboard_classify_seconds").record(started.elapsed().as_secs_f64());
    let metadata = state.chat.classifier().metadata();
    let (decision, phrase) =
        state.chat.rules().first_message(&text, &ranking, &metadata.thresholds, state.chat.catalog());
    Ok(Json(json!({
        "intents": ranking.top_n(5),
        "decision": decision.kind(),
        "reason": decision.reason(),
        "sensitive_phrase": phrase.as_ref().map(|m| m.category),
        "model_version": metadata.version,
    })))
}
