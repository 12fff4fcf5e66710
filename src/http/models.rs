//! Admin endpoints of the learning loop: retrain (a background job), follow the job, list the
//! model versions with the gate's verdicts, read a candidate's report beside the live model's,
//! promote, roll back, and run a candidate in shadow.

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::agent::{Acting, SignedIn};
use super::error::optional_json;
use super::{ApiError, AppState};
use crate::domain::agent::Agent;
use crate::domain::audit::Actor;
use crate::domain::model::{Job, JobStage, JobState, ModelSummary, ShadowReport};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/models", get(list))
        .route("/api/v1/admin/models/retrain", post(retrain))
        .route("/api/v1/admin/models/rollback", post(rollback))
        .route("/api/v1/admin/models/{version}/promote", post(promote))
        .route("/api/v1/admin/models/{version}/report", get(report))
        .route("/api/v1/admin/models/{version}/shadow", get(shadow_report).post(start_shadow).delete(stop_shadow))
        .route("/api/v1/admin/jobs", get(jobs))
        .route("/api/v1/admin/jobs/{id}", get(job))
}

/// The audit log's name for an admin; others are refused.
fn admin(agent: &Agent) -> Result<Actor, ApiError> {
    if agent.is_admin {
        Ok(Actor::Agent(agent.id.clone()))
    } else {
        Err(ApiError::forbidden_with("admin_only", "only admins can do this"))
    }
}

#[derive(Serialize)]
struct Models {
    models: Vec<ModelSummary>,
}

async fn list(State(state): State<AppState>, SignedIn(agent): SignedIn) -> Result<Json<Models>, ApiError> {
    admin(&agent)?;
    Ok(Json(Models { models: state.models.list().await? }))
}

#[derive(Serialize)]
struct JobStarted {
    job_id: String,
    state: JobState,
    stage: JobStage,
    progress: f64,
}

async fn retrain(
    State(state): State<AppState>,
    Acting(agent): Acting,
) -> Result<(StatusCode, Json<JobStarted>), ApiError> {
    let job = state.retrainer.start(admin(&agent)?).await?;
    let started = JobStarted { job_id: job.id, state: job.state, stage: job.stage, progress: job.progress };
    Ok((StatusCode::ACCEPTED, Json(started)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    #[serde(default)]
    active: bool,
}

#[derive(Serialize)]
struct Jobs {
    jobs: Vec<Job>,
}

/// The latest jobs; `?active=true` for the one running, if any (started anywhere).
async fn jobs(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    query: Result<axum::extract::Query<JobsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Jobs>, ApiError> {
    admin(&agent)?;
    let axum::extract::Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    Ok(Json(Jobs { jobs: state.retrainer.jobs(q.active).await? }))
}

async fn job(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    admin(&agent)?;
    Ok(Json(state.retrainer.job(&id).await?))
}

/// Promoting a candidate the gate rejected needs an explicit override with a reason.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromoteRequest {
    #[serde(rename = "override", default)]
    override_gate: bool,
    #[serde(default)]
    reason: Option<String>,
}

async fn promote(
    State(state): State<AppState>,
    Acting(agent): Acting,
    Path(version): Path<String>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<Json<ModelSummary>, ApiError> {
    let by = admin(&agent)?;
    let request: Option<PromoteRequest> = optional_json(body)?;
    let override_reason = match request {
        Some(PromoteRequest { override_gate: true, reason }) => {
            let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty() && r.len() <= 500);
            Some(reason.ok_or_else(|| {
                ApiError::bad_request("invalid_reason", "an override needs a reason of 1 to 500 characters")
            })?)
        }
        _ => None,
    };
    Ok(Json(state.models.promote(&by, &version, override_reason.as_deref()).await?))
}

async fn rollback(State(state): State<AppState>, Acting(agent): Acting) -> Result<Json<ModelSummary>, ApiError> {
    Ok(Json(state.models.rollback(&admin(&agent)?).await?))
}

/// A candidate's report on the regression set beside the live model's: a self-contained page
/// with no scripts.
async fn report(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Path(version): Path<String>,
) -> Result<Response, ApiError> {
    admin(&agent)?;
    let html = state.models.report(&version).await?;
    let mut response = html.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
        ),
    );
    Ok(response)
}

async fn shadow_report(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Path(version): Path<String>,
) -> Result<Json<ShadowReport>, ApiError> {
    admin(&agent)?;
    Ok(Json(state.models.shadow_report(&version).await?))
}

#[derive(Serialize)]
struct Shadow {
    shadow: Option<String>,
}

async fn start_shadow(
    State(state): State<AppState>,
    Acting(agent): Acting,
    Path(version): Path<String>,
) -> Result<Json<Shadow>, ApiError> {
    state.models.set_shadow(&admin(&agent)?, Some(&version)).await?;
    Ok(Json(Shadow { shadow: Some(version) }))
}

async fn stop_shadow(
    State(state): State<AppState>,
    Acting(agent): Acting,
    Path(version): Path<String>,
) -> Result<Json<Shadow>, ApiError> {
    let by = admin(&agent)?;
    let shadowing = state.models.list().await?.into_iter().any(|m| m.shadow && m.version == version);
    if !shadowing {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "not_in_shadow",
            format!("model {version} is not in shadow"),
        ));
    }
    state.models.set_shadow(&by, None).await?;
    Ok(Json(Shadow { shadow: None }))
}
