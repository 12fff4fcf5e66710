//! The store integration API: the platform pushes customers, products and orders (with items,
//! shipments and refunds). Bodies are signed: `X-Switchboard-Signature: sha256=<hex HMAC-SHA256
//! of the raw body>` with the store API secret.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::Sha256;

use super::{ApiError, AppState};
use crate::domain::orders::{Customer, Order, Product};

pub const SIGNATURE_HEADER: &str = "x-switchboard-signature";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/store/customers", post(customers))
        .route("/api/v1/store/products", post(products))
        .route("/api/v1/store/orders", post(orders))
}

/// Checks the body's signature in constant time.
fn check_signature(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let secret = state.store_api_secret.as_ref().ok_or_else(ApiError::forbidden)?;
    let unauthorized = || {
        ApiError::unauthorized("missing or wrong X-Switchboard-Signature (sha256=<hex HMAC-SHA256 of the raw body>)")
    };
    let given = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
        .and_then(|v| hex::decode(v.trim()).ok())
        .ok_or_else(unauthorized)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| unauthorized())
}

/// One object or an array of them.
fn parse_many<T: DeserializeOwned>(body: &[u8]) -> Result<Vec<T>, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?;
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v).map_err(|e| {
                ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields", format!("item {i}: {e}"))
            })
        })
        .collect()
}

#[derive(Serialize)]
struct Upserted {
    upserted: usize,
}

async fn customers(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Upserted>, ApiError> {
    let items: Vec<Customer> = signed_items(&state, &headers, body)?;
    Ok(Json(Upserted { upserted: state.store_data.upsert_customers(&items).await? }))
}

async fn products(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Upserted>, ApiError> {
    let items: Vec<Product> = signed_items(&state, &headers, body)?;
    Ok(Json(Upserted { upserted: state.store_data.upsert_products(&items).await? }))
}

async fn orders(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Upserted>, ApiError> {
    let items: Vec<Order> = signed_items(&state, &headers, body)?;
    Ok(Json(Upserted { upserted: state.store_data.upsert_orders(&items).await? }))
}

/// The items of a signed body (one object or an array of them).
fn signed_items<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Vec<T>, ApiError> {
    let body = body.map_err(super::error::body_error)?;
    check_signature(state, headers, &body)?;
    parse_many(&body)
}
