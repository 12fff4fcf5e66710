//! One error type for every handler: JSON `{error: {code, message}}` with the right status.
//! 4xx say what was wrong; 5xx say nothing internal (the cause is logged once, here).

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::agents::AgentError;
use crate::chat::ChatError;
use crate::integration::IntegrationError;
use crate::learning::LearningError;

const UNAVAILABLE: &str = "the service is briefly unavailable; try again in a few seconds";
/// Seconds a client is asked to wait before retrying after a 503.
const UNAVAILABLE_RETRY_AFTER: u64 = 2;

#[derive(Debug)]
pub enum ApiError {
    /// A client error with its status, a stable code and a message saying what to fix.
    Client { status: StatusCode, code: &'static str, message: String, retry_after: Option<u64> },
    /// Something failed on our side; the cause is logged, never sent.
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Client { status, code, message: message.into(), retry_after: None }
    }

    /// Too many requests: try again after `retry_after` seconds.
    pub fn rate_limited(code: &'static str, message: impl Into<String>, retry_after: u64) -> Self {
        ApiError::Client {
            status: StatusCode::TOO_MANY_REQUESTS,
            code,
            message: message.into(),
            retry_after: Some(retry_after.max(1)),
        }
    }

    pub fn not_found() -> Self {
        Self::client(StatusCode::NOT_FOUND, "not_found", "no such conversation")
    }

    pub fn forbidden() -> Self {
        Self::client(StatusCode::FORBIDDEN, "forbidden", "you may not do this")
    }

    pub fn forbidden_with(code: &'static str, message: &str) -> Self {
        Self::client(StatusCode::FORBIDDEN, code, message)
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// The service can't answer right now (the database is down or busy, or the server is
    /// stopping): try again in a few seconds.
    pub fn unavailable() -> Self {
        ApiError::Client {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: UNAVAILABLE.into(),
            retry_after: Some(UNAVAILABLE_RETRY_AFTER),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Client { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (code, message, retry_after) = match self {
            ApiError::Client { code, message, retry_after, .. } => (code, message, retry_after),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                ("internal", "something went wrong on our side; please try again".to_string(), None)
            }
        };
        let mut response = (status, Json(json!({"error": {"code": code, "message": message}}))).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<crate::classifier::ClassifierError> for ApiError {
    fn from(e: crate::classifier::ClassifierError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable; answering 503");
            ApiError::unavailable()
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        match e {
            ChatError::NotFound => ApiError::not_found(),
            ChatError::Invalid(code, message) => ApiError::bad_request(code, message),
            ChatError::Conflict(code, message) => ApiError::client(StatusCode::CONFLICT, code, message),
            ChatError::Store(e) => e.into(),
            ChatError::Classifier(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<AgentError> for ApiError {
    fn from(e: AgentError) -> Self {
        let message = e.to_string();
        match e {
            AgentError::InvalidCredentials => ApiError::unauthorized("wrong email or password"),
            AgentError::RateLimited { retry_after_secs } => {
                ApiError::rate_limited("rate_limited", message, retry_after_secs)
            }
            AgentError::Locked => ApiError::client(StatusCode::FORBIDDEN, "account_locked", message),
            AgentError::NotFound(_) => ApiError::client(StatusCode::NOT_FOUND, "not_found", message),
            AgentError::Forbidden(code, _) => ApiError::client(StatusCode::FORBIDDEN, code, message),
            AgentError::Conflict(code, _) => ApiError::client(StatusCode::CONFLICT, code, message),
            AgentError::Invalid(code, _) => ApiError::bad_request(code, message),
            AgentError::Unprocessable(code, _) => ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, code, message),
            AgentError::Store(e) => e.into(),
        }
    }
}

impl From<LearningError> for ApiError {
    fn from(e: LearningError) -> Self {
        let message = e.to_string();
        match e {
            LearningError::NotFound(_) => ApiError::client(StatusCode::NOT_FOUND, "not_found", message),
            LearningError::Conflict(code, _) => ApiError::client(StatusCode::CONFLICT, code, message),
            LearningError::Invalid(code, _) => ApiError::bad_request(code, message),
            LearningError::Unloadable(_) => ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, "unloadable", message),
            LearningError::Store(e) => e.into(),
        }
    }
}

impl From<IntegrationError> for ApiError {
    fn from(e: IntegrationError) -> Self {
        let message = e.to_string();
        match e {
            IntegrationError::Invalid { .. } => {
                ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields", message)
            }
            IntegrationError::UnknownCustomer { .. } => {
                ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, "unknown_customer", message)
            }
            IntegrationError::NoSuchCustomer(_) => ApiError::client(StatusCode::NOT_FOUND, "not_found", message),
            IntegrationError::Store(e) => e.into(),
        }
    }
}

/// `Json<T>` whose rejections (malformed JSON, unknown fields, wrong types, invalid UTF-8,
/// oversize bodies, wrong content type) are JSON errors with the right 4xx status.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) if body_timed_out(&rejection) => Err(body_timeout()),
            Err(rejection) => {
                let status = rejection.status();
                let code = match status {
                    StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                    StatusCode::UNPROCESSABLE_ENTITY => "invalid_fields",
                    _ => "invalid_json",
                };
                Err(ApiError::client(status, code, rejection.body_text()))
            }
        }
    }
}

/// A JSON body that may be left out (empty or blank): `None` then.
pub fn optional_json<T: serde::de::DeserializeOwned>(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Option<T>, ApiError> {
    let body = body.map_err(body_error)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&body).map(Some).map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))
}

/// A raw body's rejection (too large, unreadable) as a JSON error with its status.
pub fn body_error(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    if body_timed_out(&rejection) {
        return body_timeout();
    }
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "body_too_large" } else { "invalid_body" };
    ApiError::client(status, code, rejection.body_text())
}

/// Whether reading the body failed because it did not arrive within the body timeout.
fn body_timed_out(rejection: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(rejection), |e| e.source()).any(|e| e.is::<tower_http::timeout::TimeoutError>())
}

fn body_timeout() -> ApiError {
    ApiError::client(StatusCode::REQUEST_TIMEOUT, "timeout", "the request body did not arrive in time")
}

/// Every error response is JSON `{"error": {"code", "message"}}`, including those that axum and
/// tower-http write themselves (unknown routes, 405 with its `Allow`, 413, 415, 408, path and
/// query rejections as plain text): their text becomes the message, their headers stay.
/// An empty 500 comes only from a layer whose storage failed (the session store), so it is
/// answered as 503, to be retried.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let (status, code, message) = match status {
        StatusCode::INTERNAL_SERVER_ERROR if text.is_empty() => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable", UNAVAILABLE.to_string())
        }
        _ => {
            let (code, default) = describe(status);
            let message = if text.is_empty() || status.is_server_error() { default.to_string() } else { text };
            (status, code, message)
        }
    };
    if status == StatusCode::SERVICE_UNAVAILABLE && !parts.headers.contains_key(header::RETRY_AFTER) {
        parts.headers.insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER));
    }
    parts.status = status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = json!({"error": {"code": code, "message": message}}).to_string();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// The code and a default message for an error status that came without a JSON body.
fn describe(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => ("bad_request", "the request is malformed"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "sign in or send the right credentials"),
        StatusCode::FORBIDDEN => ("forbidden", "you may not do this"),
        StatusCode::NOT_FOUND => ("not_found", "there is nothing at this address"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "this method is not allowed here; see the Allow header")
        }
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long to arrive"),
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "send the body as application/json"),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid_fields", "the request's fields are not valid"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; slow down"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ("headers_too_large", "the request's headers are too large"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", UNAVAILABLE),
        s if s.is_server_error() => ("internal", "something went wrong on our side; please try again"),
        _ => ("bad_request", "the request was refused"),
    }
}
