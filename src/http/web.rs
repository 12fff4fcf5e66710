//! The static web surfaces: the demo storefront at `/`, the widget script, and the agent
//! console, each with a Content-Security-Policy (no inline script, no plugins, no framing).

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use super::AppState;

const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The widget's modules and the helpers it shares with the console, loadable from storefront
/// pages (CORS applies).
pub fn widget_router(web_dir: &std::path::Path) -> Router<AppState> {
    Router::new()
        .nest_service("/widget", ServeDir::new(web_dir.join("widget")))
        .nest_service("/shared", ServeDir::new(web_dir.join("shared")))
}

/// Routes for the pages under `web_dir`.
pub fn router(web_dir: &std::path::Path) -> Router<AppState> {
    let csp = SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    Router::new()
        .route_service("/", ServeFile::new(web_dir.join("demo/index.html")))
        .nest_service("/demo", ServeDir::new(web_dir.join("demo")))
        .route_service("/console", ServeFile::new(web_dir.join("console/index.html")))
        .nest_service("/console/", ServeDir::new(web_dir.join("console")))
        .layer(csp)
}
