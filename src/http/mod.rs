//! The HTTP side: routers per area. The only module that names axum.

mod error;
mod ops;

use std::sync::Arc;

use axum::Router;

pub use error::ApiError;

use crate::classifier::IntentClassifier;
use crate::domain::intent::IntentCatalog;
use crate::intents::SensitiveRules;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub classifier: Arc<dyn IntentClassifier>,
    pub catalog: Arc<IntentCatalog>,
    pub rules: Arc<SensitiveRules>,
    /// Demo mode opens the classify endpoint to everyone.
    pub demo: bool,
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    Router::new().merge(ops::router()).with_state(state).layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
}
