//! The HTTP side: routers per area. The only module that names axum.

mod error;
mod ops;
mod shopper;
mod store_api;
mod stream;

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
    /// Demo mode opens the classify endpoint to everyone.
    pub demo: bool,
    pub store_api_secret: Option<Secret>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Flips to true when the server starts shutting down.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ops::router())
        .merge(shopper::router())
        .merge(store_api::router())
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
