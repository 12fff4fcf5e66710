//! Admin endpoints: agents (list, add, disable, enable, unlock, reset a password), training examples (list, approve, reject,
//! change the intent, one or many), and the classifier (open to anyone in demo mode).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::agent::{Acting, ActingWith, SignedIn, current_agent};
use super::{ApiError, ApiJson, AppState};
use crate::agents::accounts::AccountChange;
use crate::agents::{NewAgent, Review};
use crate::chat::Classification;
use crate::domain::agent::{Agent, ExampleStatus, TrainingExample};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/agents", get(list_agents).post(add_agent))
        .route("/api/v1/admin/agents/{id}/disable", post(disable_agent))
        .route("/api/v1/admin/agents/{id}/enable", post(enable_agent))
        .route("/api/v1/admin/agents/{id}/unlock", post(unlock_agent))
        .route("/api/v1/admin/agents/{id}/reset-password", post(reset_password))
        .route("/api/v1/admin/training-examples", get(list_examples))
        .route("/api/v1/admin/training-examples/{id}/approve", post(approve))
        .route("/api/v1/admin/training-examples/{id}/reject", post(reject))
        .route("/api/v1/admin/training-examples/review", post(review_many))
        .route("/api/v1/classify", post(classify))
}

#[derive(Serialize)]
struct Agents {
    agents: Vec<Agent>,
}

async fn list_agents(State(state): State<AppState>, SignedIn(admin): SignedIn) -> Result<Json<Agents>, ApiError> {
    Ok(Json(Agents { agents: state.agents.agents(&admin).await? }))
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

#[derive(Serialize)]
struct AddedAgent {
    agent: Agent,
    /// The generated password, shown this once; `null` when the admin chose one.
    password: Option<String>,
}

async fn add_agent(
    State(state): State<AppState>,
    ActingWith(admin, request): ActingWith<AddAgent>,
) -> Result<(StatusCode, Json<AddedAgent>), ApiError> {
    let new = NewAgent { email: request.email, name: request.name, password: request.password, admin: request.admin };
    let (agent, password) = state.agents.add_agent(&admin, new).await?;
    Ok((StatusCode::CREATED, Json(AddedAgent { agent, password })))
}

#[derive(Serialize)]
struct OneAgent {
    agent: Agent,
}

async fn disable_agent(state: State<AppState>, admin: Acting, id: Path<String>) -> Result<Json<OneAgent>, ApiError> {
    change_agent(state, admin, id, AccountChange::Disable).await
}

async fn enable_agent(state: State<AppState>, admin: Acting, id: Path<String>) -> Result<Json<OneAgent>, ApiError> {
    change_agent(state, admin, id, AccountChange::Enable).await
}

async fn unlock_agent(state: State<AppState>, admin: Acting, id: Path<String>) -> Result<Json<OneAgent>, ApiError> {
    change_agent(state, admin, id, AccountChange::Unlock).await
}

async fn change_agent(
    State(state): State<AppState>,
    Acting(admin): Acting,
    Path(id): Path<String>,
    change: AccountChange,
) -> Result<Json<OneAgent>, ApiError> {
    Ok(Json(OneAgent { agent: state.agents.change_agent(&admin, &id, change).await? }))
}

#[derive(Serialize)]
struct NewPassword {
    agent: Agent,
    /// Shown this once: it is stored only as a hash.
    password: String,
}

/// A new generated password for an agent; its sessions end and its account is unlocked.
async fn reset_password(
    State(state): State<AppState>,
    Acting(admin): Acting,
    Path(id): Path<String>,
) -> Result<Json<NewPassword>, ApiError> {
    let (agent, password) = state.agents.reset_password(&admin, &id).await?;
    Ok(Json(NewPassword { agent, password }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusQuery {
    status: Option<String>,
}

#[derive(Serialize)]
struct Examples {
    training_examples: Vec<TrainingExample>,
    /// How many examples are in each review state.
    counts: std::collections::BTreeMap<ExampleStatus, i64>,
}

async fn list_examples(
    State(state): State<AppState>,
    SignedIn(admin): SignedIn,
    query: Result<Query<StatusQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Examples>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let status = match q.status.as_deref() {
        None => ExampleStatus::Pending,
        Some(name) => ExampleStatus::parse(name)
            .ok_or_else(|| ApiError::bad_request("invalid_status", "status must be pending, approved or rejected"))?,
    };
    let (training_examples, counts) = state.agents.training_examples(&admin, status).await?;
    Ok(Json(Examples { training_examples, counts }))
}

#[derive(Serialize)]
struct Reviewed {
    id: String,
    status: ExampleStatus,
}

async fn review(state: AppState, admin: Agent, id: String, status: ExampleStatus) -> Result<Json<Reviewed>, ApiError> {
    let review = Review { status: Some(status), intent: None };
    state.agents.review_examples(&admin, std::slice::from_ref(&id), &review).await?;
    Ok(Json(Reviewed { id, status }))
}

async fn approve(
    State(state): State<AppState>,
    Acting(admin): Acting,
    Path(id): Path<String>,
) -> Result<Json<Reviewed>, ApiError> {
    review(state, admin, id, ExampleStatus::Approved).await
}

async fn reject(
    State(state): State<AppState>,
    Acting(admin): Acting,
    Path(id): Path<String>,
) -> Result<Json<Reviewed>, ApiError> {
    review(state, admin, id, ExampleStatus::Rejected).await
}

/// Approve or reject (`status`) and/or move to another intent (`intent`) several examples at
/// once: all or none.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewMany {
    ids: Vec<String>,
    #[serde(default)]
    status: Option<ExampleStatus>,
    #[serde(default)]
    intent: Option<String>,
}

#[derive(Serialize)]
struct ReviewedMany {
    reviewed: usize,
}

async fn review_many(
    State(state): State<AppState>,
    ActingWith(admin, request): ActingWith<ReviewMany>,
) -> Result<Json<ReviewedMany>, ApiError> {
    let review = Review { status: request.status, intent: request.intent };
    Ok(Json(ReviewedMany { reviewed: state.agents.review_examples(&admin, &request.ids, &review).await? }))
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
) -> Result<Json<Classification>, ApiError> {
    if !state.demo {
        let (agent, _) = current_agent(&state, &session).await?;
        if !agent.is_admin {
            return Err(ApiError::forbidden_with("admin_only", "only admins can do this"));
        }
    }
    Ok(Json(state.chat.classify(&request.text).await?))
}
