//! Shopify's and WooCommerce's own webhooks: orders, fulfillments, refunds, customers and
//! products as the platforms send them, verified by the platform's signature (a base64
//! HMAC-SHA256 of the raw body, compared in constant time) and applied once per delivery id.
//!
//! Answers: 200 applied (or a duplicate, changing nothing); 202 a topic Switchboard does not
//! read (counted, ignored); 401 a missing or wrong signature; 422 a payload that does not read,
//! naming the field. Nothing is written unless the answer is 200.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::{ApiError, AppState};
use crate::config::Secret;
use crate::domain::orders::Platform;
use crate::domain::validation::validate_delivery_id;
use crate::platforms::{MappingError, StoreChanges, shopify, woocommerce};

/// Platforms send whole orders: more than the shopper API's bodies.
pub const MAX_WEBHOOK_BYTES: usize = 2 * 1024 * 1024;

/// The webhook secrets and what payloads leave out.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    pub shopify_secret: Option<Secret>,
    pub woocommerce_secret: Option<Secret>,
    /// The store's currency: product payloads carry none.
    pub currency: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/integrations/shopify/webhooks", post(shopify_webhook))
        .route("/api/v1/integrations/woocommerce/webhooks", post(woocommerce_webhook))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
}

/// The platform's headers for one delivery.
struct Headers {
    signature: &'static str,
    delivery: &'static str,
    topic: &'static str,
    secret_env: &'static str,
}

const SHOPIFY: Headers = Headers {
    signature: "X-Shopify-Hmac-Sha256",
    delivery: "X-Shopify-Webhook-Id",
    topic: "X-Shopify-Topic",
    secret_env: "SWITCHBOARD_SHOPIFY_WEBHOOK_SECRET",
};

const WOOCOMMERCE: Headers = Headers {
    signature: "X-WC-Webhook-Signature",
    delivery: "X-WC-Webhook-Delivery-ID",
    topic: "X-WC-Webhook-Topic",
    secret_env: "SWITCHBOARD_WOOCOMMERCE_WEBHOOK_SECRET",
};

async fn shopify_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(super::error::body_error)?;
    let secret = state.webhooks.shopify_secret.as_ref();
    let delivery = verified(Platform::Shopify, &SHOPIFY, secret, &headers, &body)?;
    let topic_name = header(&headers, SHOPIFY.topic)?;
    let Some(topic) = shopify::Topic::parse(topic_name) else {
        return Ok(ignored(Platform::Shopify, topic_name));
    };
    let received = crate::store::now_ms();
    let changes = shopify::webhook(topic, &body, &state.webhooks.currency, received)
        .map_err(|e| invalid(Platform::Shopify, e))?;
    apply(&state, Platform::Shopify, &delivery, topic_name, &changes).await
}

async fn woocommerce_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(super::error::body_error)?;
    // When a webhook is created, WooCommerce checks the address with an unsigned form post
    // `webhook_id=N`: it gets a 200, and nothing is written.
    if is_ping(&body) {
        count(Platform::WooCommerce, "ping");
        return Ok((StatusCode::OK, Json(json!({"ping": true}))).into_response());
    }
    let secret = state.webhooks.woocommerce_secret.as_ref();
    let delivery = verified(Platform::WooCommerce, &WOOCOMMERCE, secret, &headers, &body)?;
    let topic_name = header(&headers, WOOCOMMERCE.topic)?;
    let Some(topic) = woocommerce::Topic::parse(topic_name) else {
        return Ok(ignored(Platform::WooCommerce, topic_name));
    };
    let received = crate::store::now_ms();
    let changes = woocommerce::webhook(topic, &body, &state.webhooks.currency, received)
        .map_err(|e| invalid(Platform::WooCommerce, e))?;
    apply(&state, Platform::WooCommerce, &delivery, topic_name, &changes).await
}

/// `webhook_id=<digits>` and nothing else.
fn is_ping(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .ok()
        .and_then(|b| b.trim().strip_prefix("webhook_id="))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks the signature over the raw body, then returns the delivery id (prefixed with the
/// platform, so two platforms' ids never meet).
fn verified(
    platform: Platform,
    names: &Headers,
    secret: Option<&Secret>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, ApiError> {
    let refuse = |message: String| {
        count(platform, "unauthorized");
        ApiError::unauthorized(&message)
    };
    let Some(secret) = secret else {
        return Err(refuse(format!(
            "{platform} webhooks are not set up here: set {} (or {}_FILE) to the webhook secret",
            names.secret_env, names.secret_env
        )));
    };
    let given = headers
        .get(names.signature)
        .ok_or_else(|| refuse(format!("missing {} header", names.signature)))?
        .to_str()
        .ok()
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v.trim()).ok())
        .ok_or_else(|| refuse(format!("{} is not base64", names.signature)))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| {
        refuse(format!(
            "wrong {}: it must be the base64 HMAC-SHA256 of the body with {}",
            names.signature, names.secret_env
        ))
    })?;
    let delivery = header(headers, names.delivery)?;
    validate_delivery_id(delivery).map_err(|m| {
        let m = m.replace("X-Switchboard-Delivery-Id", names.delivery);
        ApiError::bad_request("invalid_delivery_id", m)
    })?;
    Ok(format!("{platform}:{delivery}"))
}

fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, ApiError> {
    headers
        .get(name)
        .ok_or_else(|| ApiError::bad_request("missing_header", format!("missing {name} header")))?
        .to_str()
        .map(str::trim)
        .map_err(|_| ApiError::bad_request("invalid_header", format!("{name} must be printable ASCII")))
}

fn ignored(platform: Platform, topic: &str) -> Response {
    count(platform, "ignored");
    tracing::info!(%platform, topic, "webhook topic not read here; ignored");
    (StatusCode::ACCEPTED, Json(json!({"ignored": true, "topic": topic}))).into_response()
}

fn invalid(platform: Platform, e: MappingError) -> ApiError {
    count(platform, "invalid");
    ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, "invalid_payload", format!("{platform} payload: {e}"))
}

async fn apply(
    state: &AppState,
    platform: Platform,
    delivery: &str,
    topic: &str,
    changes: &StoreChanges,
) -> Result<Response, ApiError> {
    let route = format!("{platform}/{topic}");
    let applied = state.store_data.apply_delivery(delivery, &route, changes).await.inspect_err(|e| {
        if matches!(e, crate::integration::IntegrationError::Invalid { .. }) {
            count(platform, "invalid");
        }
    })?;
    count(platform, if applied.duplicate { "duplicate" } else { "applied" });
    Ok((StatusCode::OK, Json(applied)).into_response())
}

/// `switchboard_webhooks_total{platform, result}`.
fn count(platform: Platform, result: &'static str) {
    metrics::counter!("switchboard_webhooks_total", "platform" => platform.name(), "result" => result).increment(1);
}
