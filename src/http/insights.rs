//! The outcomes report for admins: `GET /api/v1/admin/metrics?from=..&to=..&by=day|intent|model_version`.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::agent::SignedIn;
use super::{ApiError, AppState};
use crate::domain::insights::{GroupBy, Report, Window};
use crate::store::now_ms;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/admin/metrics", get(metrics))
}

#[derive(Deserialize)]
struct MetricsQuery {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
}

async fn metrics(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    query: Result<Query<MetricsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    if !agent.is_admin {
        return Err(ApiError::forbidden_with("admin_only", "only admins can read the outcomes report"));
    }
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let invalid = |e: crate::domain::insights::QueryError| ApiError::bad_request("invalid_query", e.0);
    let window = Window::parse(q.from.as_deref(), q.to.as_deref(), now_ms()).map_err(invalid)?;
    let by = q.by.as_deref().filter(|b| !b.is_empty()).map(GroupBy::parse_query).transpose().map_err(invalid)?;
    Ok(Json(crate::insights::report(&state.store, window, by).await?))
}
