//! The HTTP side: routers per area. The only module that names axum.

mod admin;
mod agent;
mod agent_stream;
mod error;
mod insights;
mod limits;
mod models;
mod ops;
mod server;
mod shopper;
mod store_api;
mod stream;
mod web;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware::{from_fn_with_state, map_response};
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::{ApiError, ApiJson};
pub use limits::Limits;
pub use server::{ConnectionSettings, fit_connections};
pub use webhooks::WebhookSettings;

use crate::agents::AgentService;
use crate::chat::ChatService;
use crate::config::Secret;
use crate::integration::StoreData;
use crate::learning::{ModelService, Retrainer};
use crate::store::SessionStore;

/// The largest request body any endpoint accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub chat: Arc<ChatService>,
    pub agents: Arc<AgentService>,
    pub store_data: Arc<StoreData>,
    pub models: Arc<ModelService>,
    pub retrainer: Arc<Retrainer>,
    /// The database, for reports.
    pub store: crate::store::Store,
    /// The console's public origin (e.g. `https://support.example.com`), also allowed as Origin.
    pub public_origin: Option<String>,
    /// Demo mode opens the classify endpoint to everyone.
    pub demo: bool,
    pub store_api_secret: Option<Secret>,
    /// Shopify's and WooCommerce's webhook secrets.
    pub webhooks: Arc<WebhookSettings>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Flips to true when the server starts shutting down.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Folder with the widget, the demo storefront and the console.
    pub web_dir: std::path::PathBuf,
    /// Storefront origins allowed to call the shopper API cross-origin.
    pub allowed_origins: Vec<String>,
    /// Client addresses, request rates, stream caps and the request deadline.
    pub limits: Arc<Limits>,
}

/// Cross-origin access for the widget on the store's own pages: only the configured origins,
/// no cookies (the widget authenticates with its conversation token).
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allowed: Vec<HeaderValue> =
        origins.iter().filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("last-event-id"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// Serves the application on `listener` until `stop` resolves, then lets in-flight requests
/// finish for the grace period. `secure_cookies` for a console served over https.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    sessions: SessionStore,
    secure_cookies: bool,
    connections: ConnectionSettings,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state, session_layer(sessions, secure_cookies), connections.body_timeout);
    server::serve(listener, app, connections, stop).await
}

/// Session cookies: `__Host-` prefixed and `Secure` over https (a plain name on http, which
/// browsers only allow for localhost-style set-ups), HttpOnly, SameSite=Strict, 2 h idle expiry.
fn session_layer(store: SessionStore, secure: bool) -> tower_sessions::SessionManagerLayer<SessionStore> {
    use tower_sessions::cookie::SameSite;
    use tower_sessions::cookie::time::Duration;
    let name = if secure { "__Host-switchboard_session" } else { "switchboard_session" };
    tower_sessions::SessionManagerLayer::new(store)
        .with_name(name)
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_expiry(tower_sessions::Expiry::OnInactivity(Duration::hours(2)))
}

/// The whole application router. Agent and admin routes get the session layer, the shopper
/// API its rate limits; every request gets the client address, a deadline and JSON errors.
fn router(
    state: AppState,
    sessions: tower_sessions::SessionManagerLayer<SessionStore>,
    body_timeout: std::time::Duration,
) -> Router {
    let agent_routes = Router::new()
        .merge(agent::router())
        .merge(admin::router())
        .merge(models::router())
        .merge(insights::router())
        .layer(sessions);
    let shopper_routes = shopper::router().route_layer(from_fn_with_state(state.clone(), limits::shopper_rates));
    let storefront_routes = Router::new()
        .merge(shopper_routes)
        .merge(web::widget_router(&state.web_dir))
        .layer(cors(&state.allowed_origins));
    // https deployments tell browsers to keep to https.
    let hsts = state.public_origin.as_deref().is_some_and(|o| o.starts_with("https://")).then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    Router::new()
        .merge(agent_routes)
        .merge(ops::router())
        .merge(storefront_routes)
        .merge(store_api::router())
        .merge(webhooks::router())
        .merge(web::router(&state.web_dir))
        .with_state(state.clone())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_timeout))
        .layer(from_fn_with_state(state.clone(), limits::deadline))
        .layer(from_fn_with_state(state, limits::client_address))
        .layer(map_response(error::json_errors))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(tower::util::option_layer(hsts))
        .layer(tower_http::compression::CompressionLayer::new())
}
