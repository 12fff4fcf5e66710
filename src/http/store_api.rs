//! The store integration API: the platform pushes customers, products and orders (with items,
//! shipments and refunds), and asks to forget a customer. Every request is signed:
//! `X-Switchboard-Timestamp` (Unix seconds), `X-Switchboard-Delivery-Id` (one id per delivery,
//! the same for its retries) and `X-Switchboard-Signature: sha256=<hex HMAC-SHA256>` of
//! `TIMESTAMP.DELIVERY_ID.BODY` with the store API secret. The timestamp bounds how long a
//! captured request could be replayed; the delivery id makes a replay inside that time (or a
//! retry) change nothing.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::Sha256;

use super::{ApiError, AppState};
use crate::domain::orders::{Customer, Order, Product, Upserted};
use crate::domain::privacy::Forgotten;
use crate::domain::validation::{signed_timestamp, validate_delivery_id};
use crate::integration::Delivered;

pub const TIMESTAMP_HEADER: &str = "X-Switchboard-Timestamp";
pub const DELIVERY_HEADER: &str = "X-Switchboard-Delivery-Id";
pub const SIGNATURE_HEADER: &str = "X-Switchboard-Signature";

/// How to sign, for the messages of refused requests.
const SCHEME: &str = "sign each request with X-Switchboard-Timestamp (Unix seconds), X-Switchboard-Delivery-Id (one id per delivery) and X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of TIMESTAMP.DELIVERY_ID.BODY with the store API secret>";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/store/customers", post(customers))
        .route("/api/v1/store/products", post(products))
        .route("/api/v1/store/orders", post(orders))
        .route("/api/v1/store/customers/{id}/forget", post(forget))
}

type Answer<T> = Result<Json<Delivered<T>>, ApiError>;

async fn customers(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Upserted> {
    let signed = verify(&state, &headers, body)?;
    let items: Vec<Customer> = parse_many(&signed.body)?;
    Ok(Json(state.store_data.upsert_customers(&signed.delivery, &items).await?))
}

async fn products(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Upserted> {
    let signed = verify(&state, &headers, body)?;
    let items: Vec<Product> = parse_many(&signed.body)?;
    Ok(Json(state.store_data.upsert_products(&signed.delivery, &items).await?))
}

async fn orders(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Upserted> {
    let signed = verify(&state, &headers, body)?;
    let items: Vec<Order> = parse_many(&signed.body)?;
    Ok(Json(state.store_data.upsert_orders(&signed.delivery, &items).await?))
}

/// Erases a customer's personal data; the body is empty or `{}`.
async fn forget(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<Forgotten> {
    let Path(id) = id.map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))?;
    let signed = verify(&state, &headers, body)?;
    let empty = signed.body.iter().all(u8::is_ascii_whitespace)
        || serde_json::from_slice::<serde_json::Map<String, Value>>(&signed.body).is_ok_and(|m| m.is_empty());
    if !empty {
        return Err(ApiError::bad_request(
            "invalid_body",
            "forgetting a customer takes no fields: send an empty body or {}",
        ));
    }
    Ok(Json(state.store_data.forget_customer(&signed.delivery, &id).await?))
}

/// A request whose signature checked out.
struct Signed {
    delivery: String,
    body: Bytes,
}

/// Checks the headers, the timestamp's window and the signature (in constant time).
fn verify(state: &AppState, headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Signed, ApiError> {
    let body = body.map_err(super::error::body_error)?;
    let secret = state.store_api_secret.as_ref().ok_or_else(ApiError::forbidden)?;
    let timestamp = header(headers, TIMESTAMP_HEADER)?;
    let delivery = header(headers, DELIVERY_HEADER)?;
    let signature = header(headers, SIGNATURE_HEADER)?;
    signed_timestamp(timestamp, chrono::Utc::now().timestamp()).map_err(|m| ApiError::unauthorized(&m))?;
    validate_delivery_id(delivery).map_err(|m| ApiError::bad_request("invalid_delivery_id", m))?;
    let wrong = || ApiError::unauthorized(&format!("wrong X-Switchboard-Signature: {SCHEME}"));
    let given = signature.strip_prefix("sha256=").and_then(|v| hex::decode(v.trim()).ok()).ok_or_else(wrong)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
    for part in [timestamp.as_bytes(), b".", delivery.as_bytes(), b".", &body] {
        mac.update(part);
    }
    mac.verify_slice(&given).map_err(|_| wrong())?;
    Ok(Signed { delivery: delivery.to_string(), body })
}

/// A signing header's value; 401 naming it when it is missing.
fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, ApiError> {
    let value = headers.get(name).ok_or_else(|| ApiError::unauthorized(&format!("missing {name} header: {SCHEME}")))?;
    value.to_str().map_err(|_| ApiError::bad_request("invalid_header", format!("{name} must be printable ASCII")))
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
