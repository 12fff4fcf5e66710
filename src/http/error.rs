//! One error type for every handler: JSON `{error: {code, message}}` with the right status.
//! 4xx say what was wrong; 5xx say nothing internal (the cause is logged once, here).

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::agents::AgentError;
use crate::chat::ChatError;
use crate::integration::IntegrationError;
use crate::learning::LearningError;

#[derive(Debug)]
pub enum ApiError {
    /// A client error with its status, a stable code and a message saying what to fix.
    Client { status: StatusCode, code: &'static str, message: String },
    /// Something failed on our side; the cause is logged, never sent.
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Client { status, code, message: message.into() }
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

    pub fn unavailable() -> Self {
        Self::client(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the service is not ready; try again shortly")
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
        let (code, message) = match self {
            ApiError::Client { code, message, .. } => (code, message),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                ("internal", "something went wrong on our side; please try again".to_string())
            }
        };
        (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
    }
}

impl From<crate::classifier::ClassifierError> for ApiError {
    fn from(e: crate::classifier::ClassifierError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        match e {
            ChatError::NotFound => ApiError::not_found(),
            ChatError::Invalid(code, message) => ApiError::bad_request(code, message),
            ChatError::Conflict(code, message) => ApiError::client(StatusCode::CONFLICT, code, message),
            ChatError::Store(e) => ApiError::Internal(e.to_string()),
            ChatError::Classifier(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<AgentError> for ApiError {
    fn from(e: AgentError) -> Self {
        let message = e.to_string();
        match e {
            AgentError::InvalidCredentials => ApiError::unauthorized("wrong email or password"),
            AgentError::RateLimited => ApiError::client(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message),
            AgentError::NotFound(_) => ApiError::client(StatusCode::NOT_FOUND, "not_found", message),
            AgentError::Forbidden(code, _) => ApiError::client(StatusCode::FORBIDDEN, code, message),
            AgentError::Conflict(code, _) => ApiError::client(StatusCode::CONFLICT, code, message),
            AgentError::Invalid(code, _) => ApiError::bad_request(code, message),
            AgentError::Unprocessable(code, _) => ApiError::client(StatusCode::UNPROCESSABLE_ENTITY, code, message),
            AgentError::Store(e) => ApiError::Internal(e.to_string()),
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
            LearningError::Store(e) => ApiError::Internal(e.to_string()),
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
            IntegrationError::Store(e) => ApiError::Internal(e.to_string()),
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
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "body_too_large" } else { "invalid_body" };
    ApiError::client(status, code, rejection.body_text())
}
