//! One error type for every handler: JSON `{error: {code, message}}` with the right status.
//! 4xx say what was wrong; 5xx say nothing internal (the cause is logged once, here).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("the service is not ready")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest { code, message: message.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, message) = match &self {
            ApiError::BadRequest { code, message } => (*code, message.clone()),
            ApiError::NotFound => ("not_found", "no such resource".to_string()),
            ApiError::Forbidden => ("forbidden", "you may not do this".to_string()),
            ApiError::Unavailable => ("unavailable", "the service is not ready; try again shortly".to_string()),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                ("internal", "something went wrong on our side".to_string())
            }
        };
        (self.status(), Json(json!({"error": {"code": code, "message": message}}))).into_response()
    }
}

impl From<crate::classifier::ClassifierError> for ApiError {
    fn from(e: crate::classifier::ClassifierError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
