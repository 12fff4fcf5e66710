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
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::Sha256;

use super::{ApiError, AppState};
use crate::domain::orders::{Customer, Order, Product};
use crate::domain::validation::{validate_customer, validate_order, validate_product};

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

fn check_all<T>(items: &[T], validate: impl Fn(&T) -> Result<(), String>) -> Result<(), ApiError> {
    for (i, item) in items.iter().enumerate() {
        validate(item).map_err(|e| {
            ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields", format!("item {i}: {e}"))
        })?;
    }
    Ok(())
}

async fn customers(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(super::shopper::body_error)?;
    check_signature(&state, &headers, &body)?;
    let items: Vec<Customer> = parse_many(&body)?;
    check_all(&items, validate_customer)?;
    for c in &items {
        state.chat.store().upsert_customer(c).await?;
    }
    Ok(Json(json!({"upserted": items.len()})))
}

async fn products(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(super::shopper::body_error)?;
    check_signature(&state, &headers, &body)?;
    let items: Vec<Product> = parse_many(&body)?;
    check_all(&items, validate_product)?;
    for p in &items {
        state.chat.store().upsert_product(p).await?;
    }
    Ok(Json(json!({"upserted": items.len()})))
}

async fn orders(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(super::shopper::body_error)?;
    check_signature(&state, &headers, &body)?;
    let items: Vec<Order> = parse_many(&body)?;
    check_all(&items, validate_order)?;
    for o in &items {
        if let Some(customer) = &o.customer_id
            && state.chat.store().customer(customer).await?.is_none()
        {
            return Err(ApiError::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_customer",
                format!("order {}: customer {customer} does not exist; push it first", o.number),
            ));
        }
    }
    state.chat.store().upsert_orders(&items).await?;
    Ok(Json(json!({"upserted": items.len()})))
}
