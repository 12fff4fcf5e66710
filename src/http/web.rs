//! The static web surfaces: the demo storefront at `/`, the widget script, and the agent
//! console, each with a Content-Security-Policy (no inline script, no plugins, no framing).
//! Files carry an ETag, so a browser that has one asks again cheaply (304); the widget's
//! files, loaded by every storefront page view, may be reused for five minutes unasked.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
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
        .layer(from_fn(|request, next| cached(request, next, WIDGET_CACHE)))
}

/// Storefront pages load the widget on every view: reuse it for five minutes, then revalidate.
const WIDGET_CACHE: &str = "public, max-age=300";
/// Pages are revalidated on every load (a 304 when unchanged), so an upgrade shows at once.
const PAGE_CACHE: &str = "no-cache";

/// Gives a file an ETag made of its size and modification time, answers a matching
/// `If-None-Match` with 304, and sets how long it may be cached.
async fn cached(request: Request, next: Next, cache_control: &'static str) -> Response {
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let mut response = next.run(request).await;
    if response.status() == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    }
    if response.status() != StatusCode::OK {
        return response;
    }
    let Some(etag) = etag(response.headers()) else { return response };
    if if_none_match.as_ref().and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::CACHE_CONTROL, header::CONTENT_SECURITY_POLICY] {
            if let Some(value) = response.headers().get(&name) {
                not_modified.headers_mut().insert(name, value.clone());
            }
        }
        response = not_modified;
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    response
}

fn etag(headers: &HeaderMap) -> Option<String> {
    let modified = headers.get(header::LAST_MODIFIED)?.to_str().ok()?;
    let length = headers.get(header::CONTENT_LENGTH)?.to_str().ok()?;
    Some(format!("W/\"{length}-{}\"", &crate::util::sha256_hex(modified.as_bytes())[..16]))
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
        .layer(from_fn(|request, next| cached(request, next, PAGE_CACHE)))
}
