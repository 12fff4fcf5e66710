//! Signing store API requests as the platform does: `X-Switchboard-Timestamp`,
//! `X-Switchboard-Delivery-Id` and `X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of
//! TIMESTAMP.DELIVERY_ID.BODY>` with the store API secret.
//!
//! Included from a test file with `#[path = "common/signing.rs"] mod signing;` next to
//! `mod common;` (it uses `crate::common`).
#![allow(dead_code)]

use hmac::{Hmac, Mac};
use serde_json::Value;
use switchboard::config::DEMO_STORE_API_SECRET;

use crate::common::{Reply, TestApp};

/// `sha256=<hex>` of `TIMESTAMP.DELIVERY_ID.BODY` with `secret`.
pub fn signature_with(secret: &[u8], timestamp: &str, delivery: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(format!("{timestamp}.{delivery}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The signature with the demo store API secret.
pub fn signature(timestamp: &str, delivery: &str, body: &[u8]) -> String {
    signature_with(DEMO_STORE_API_SECRET.as_bytes(), timestamp, delivery, body)
}

pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn new_delivery_id() -> String {
    format!("delivery-{}", switchboard::util::random_hex(12))
}

/// An RFC 3339 time `offset_ms` from now, for `updated_at`.
pub fn at(offset_ms: i64) -> String {
    let t = chrono::Utc::now() + chrono::Duration::milliseconds(offset_ms);
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A request's signing headers, each of which a test may leave out or change.
#[derive(Debug, Clone)]
pub struct Headers {
    pub timestamp: Option<String>,
    pub delivery: Option<String>,
    pub signature: Option<String>,
}

impl Headers {
    /// Correct headers for `body`, signed now with a new delivery id.
    pub fn signed(body: &[u8]) -> Self {
        Self::for_delivery(&new_delivery_id(), now_secs(), body)
    }

    pub fn for_delivery(delivery: &str, timestamp: i64, body: &[u8]) -> Self {
        let timestamp = timestamp.to_string();
        let signature = signature(&timestamp, delivery, body);
        Self { timestamp: Some(timestamp), delivery: Some(delivery.to_string()), signature: Some(signature) }
    }
}

/// POSTs raw bytes with the given signing headers.
pub async fn push_raw(app: &TestApp, path: &str, body: &[u8], headers: &Headers) -> Reply {
    let mut request = app.client.post(app.url(path)).header("content-type", "application/json").body(body.to_vec());
    for (name, value) in [
        ("X-Switchboard-Timestamp", &headers.timestamp),
        ("X-Switchboard-Delivery-Id", &headers.delivery),
        ("X-Switchboard-Signature", &headers.signature),
    ] {
        if let Some(v) = value {
            request = request.header(name, v);
        }
    }
    Reply::from(request.send().await.expect("request")).await
}

/// POSTs a JSON body, signed now with a new delivery id.
pub async fn push_signed(app: &TestApp, path: &str, body: &Value) -> Reply {
    let bytes = body.to_string().into_bytes();
    push_raw(app, path, &bytes, &Headers::signed(&bytes)).await
}

/// POSTs a JSON body as delivery `delivery`, signed at `timestamp`.
pub async fn push_delivery(app: &TestApp, path: &str, body: &Value, delivery: &str, timestamp: i64) -> Reply {
    let bytes = body.to_string().into_bytes();
    push_raw(app, path, &bytes, &Headers::for_delivery(delivery, timestamp, &bytes)).await
}
