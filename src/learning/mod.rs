//! The learning loop: approved examples and `intents/` train a candidate in the background;
//! the gate compares it with the live model on the regression set; versions live in the
//! database; promotion and roll-back swap the model on every instance without a restart; a
//! candidate can run in shadow first.

mod pipeline;
mod registry;
mod retrain;

pub use pipeline::{Candidate, RetrainSettings, retrain};
pub use registry::ModelService;
pub use retrain::{RETRAIN_JOB, Retrainer};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LearningError {
    #[error("{0}")]
    NotFound(String),
    /// Refused for the state things are in: a stable code and what to do.
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("{1}")]
    Invalid(&'static str, String),
    /// A version whose artefacts do not load; what serves is unchanged.
    #[error("{0}")]
    Unloadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often each instance checks which versions the database says should serve, so a change
/// it was not told of (a command-line promotion, a missed notice) is served within this.
pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Checks the serving versions every [`CHECK_EVERY`] until `shutdown` turns true.
pub async fn keep_serving_latest(models: std::sync::Arc<ModelService>, shutdown: tokio::sync::watch::Receiver<bool>) {
    crate::util::every(CHECK_EVERY, shutdown, || async {
        if let Err(e) = models.reload().await {
            tracing::error!(error = %e, "cannot serve the models the database names; keeping the current ones");
        }
    })
    .await;
}
