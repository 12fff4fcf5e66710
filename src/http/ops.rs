//! Operations: health, readiness, Prometheus metrics, and the demo store's identities.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/api/v1/demo/identity", get(demo_identity))
}

/// An open event stream, counted in `switchboard_open_streams{kind}` while it lives.
pub(super) struct OpenStream(&'static str);

impl OpenStream {
    pub fn new(kind: &'static str) -> Self {
        metrics::gauge!("switchboard_open_streams", "kind" => kind).increment(1.0);
        Self(kind)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!("switchboard_open_streams", "kind" => self.0).decrement(1.0);
    }
}

/// `switchboard_model_info{version}` is 1 for the live model and 0 for the one it replaced.
fn record_live_model(version: &str) {
    static LAST: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
    let mut last = LAST.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if *last != version {
        if !last.is_empty() {
            metrics::gauge!("switchboard_model_info", "version" => last.clone()).set(0.0);
        }
        *last = version.to_string();
    }
    metrics::gauge!("switchboard_model_info", "version" => version.to_string()).set(1.0);
}

/// The demo store's identities, for the demo storefront's sign-in switch.
#[derive(Serialize)]
struct DemoIdentity {
    customer_token: String,
    customer_name: &'static str,
    guest_order_number: &'static str,
    guest_email: &'static str,
}

/// Demo mode only: the demo shopper's customer token and the demo guest's order + email.
async fn demo_identity(State(state): State<AppState>) -> Result<Json<DemoIdentity>, ApiError> {
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
    Ok(Json(DemoIdentity {
        customer_token: token,
        customer_name: crate::demo::DEMO_CUSTOMER_NAME,
        guest_order_number: crate::demo::DEMO_GUEST_ORDER,
        guest_email: crate::demo::DEMO_GUEST_EMAIL,
    }))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    database: &'static str,
    model: String,
}

/// How long readiness waits for the database before saying 503.
const READINESS_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Ready when the database answers (within a second), the model is loaded, and we are not
/// shutting down.
async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    if *state.shutdown.borrow() {
        return Err(ApiError::unavailable());
    }
    if let Err(e) = state.chat.ready(READINESS_LIMIT).await {
        tracing::warn!(error = %e, "readiness: database unavailable");
        return Err(ApiError::unavailable());
    }
    Ok(Json(Readiness { status: "ready", database: "ok", model: state.chat.model_version().to_string() }))
}
async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    record_live_model(&state.chat.model_version());
    let body = state.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
