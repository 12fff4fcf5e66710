//! The HTTP side: routers per area. The only module that names axum.

mod admin;
mod agent;
mod agent_stream;
mod error;
mod ops;
pub mod sessions;
mod shopper;
mod store_api;
mod stream;
mod web;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::{ApiError, ApiJson};

use crate::chat::ChatService;
use crate::config::Secret;

/// The largest request body any endpoint accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub chat: Arc<ChatService>,
    pub agents: Arc<crate::agents::AgentService>,
    /// The console's public origin (e.g. `https://support.example.com`), also allowed as Origin.
    pub public_origin: Option<String>,
    /// Demo mode opens the classify endpoint to everyone.
    pub demo: bool,
    pub store_api_secret: Option<Secret>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Flips to true when the server starts shutting down.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Folder with the widget, the demo storefront and the console.
    pub web_dir: std::path::PathBuf,
}

/// The whole application router. Agent and admin routes get the session layer.
pub fn router(state: AppState, sessions: tower_sessions::SessionManagerLayer<sessions::AgentSessionStore>) -> Router {
    let agent_routes = Router::new().merge(agent::router()).merge(admin::router()).layer(sessions);
    Router::new()
        .merge(agent_routes)
        .merge(ops::router())
        .merge(shopper::router())
        .merge(store_api::router())
        .merge(web::router(&state.web_dir))
        .with_state(state)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
