//! Model versions, the gate's verdict on a candidate, and background jobs (retraining).

use serde::{Deserialize, Serialize};

named_enum! {
    /// Where a model version stands. Exactly one is live; promoting another retires it.
    pub enum ModelStatus {
        /// Classifying every message.
        Live = "live",
        /// Trained and passed the gate; can be promoted.
        Candidate = "candidate",
        /// Trained but failed the gate; promotable only with an explicit override.
        Rejected = "rejected",
        /// Was live before.
        Retired = "retired",
    }
}

/// Figures of a model on the regression set (examples no version is trained on).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    pub macro_f1: f64,
    /// Out-of-scope examples turned away.
    pub oos_recall: f64,
    /// Precision of the answers given automatically at the model's calibrated thresholds.
    pub answer_precision: f64,
    /// Share of examples answered automatically.
    pub coverage: f64,
}

/// Whether a candidate may replace the live model, and if not, why, in words.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GateVerdict {
    pub passed: bool,
    pub reasons: Vec<String>,
    /// The live model it was compared with, and that model's figures on the same examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_metrics: Option<ModelMetrics>,
}

/// A model version as the admin sees it (its artefacts stay in the store).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    pub version: String,
    /// 1 for a database's first model (the one shipped in `models/`), then 2, 3...
    pub number: i64,
    pub status: ModelStatus,
    /// Classifying live messages alongside the live model, without answering anyone.
    pub shadow: bool,
    pub created_at: i64,
    /// Training examples it learned from.
    pub examples: i64,
    pub metrics: ModelMetrics,
    pub gate: Option<GateVerdict>,
    pub promoted_at: Option<i64>,
    /// The live version this one replaced when promoted: where a roll-back from it goes.
    pub previous_live: Option<String>,
}

named_enum! {
    pub enum JobState {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

named_enum! {
    /// The step a retraining job is at.
    pub enum JobStage {
        Queued = "queued",
        Loading = "loading",
        Embedding = "embedding",
        Validating = "validating",
        Fitting = "fitting",
        Gating = "gating",
        Saving = "saving",
        Done = "done",
    }
}

/// A background job as its requester follows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: String,
    pub state: JobState,
    pub stage: JobStage,
    /// From 0 to 1.
    pub progress: f64,
    /// The candidate it made, once saved.
    pub model_version: Option<String>,
    pub error: Option<String>,
    /// What the requester should know about the data (e.g. no approved examples yet).
    pub notes: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl JobState {
    pub fn is_active(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

named_enum! {
    /// How a training example came about.
    pub enum ExampleSource {
        /// An agent labelled a shopper message.
        Label = "label",
        /// An agent resolving a hand-off marked "the bot could have answered this".
        Resolution = "resolution",
    }
}

/// What one model made of a message: its top intent and the decision it would take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guess {
    pub intent: String,
    pub confidence: f32,
    pub decision: crate::domain::triage::DecisionKind,
}

/// A live message as the live model and the candidate in shadow saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowComparison {
    pub message_id: String,
    pub conversation_id: String,
    pub text: String,
    pub created_at: i64,
    pub live_version: String,
    pub live: Guess,
    pub shadow: Guess,
}

impl ShadowComparison {
    /// The same top intent and the same decision.
    pub fn agrees(&self) -> bool {
        self.live.intent == self.shadow.intent && self.live.decision == self.shadow.decision
    }
}

/// How a candidate in shadow compares with the live model on live traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowReport {
    pub version: String,
    pub compared: i64,
    pub agreed: i64,
    /// `agreed / compared`, or null before any message.
    pub agreement: Option<f64>,
    /// The latest messages where the two differ, newest first.
    pub differences: Vec<ShadowComparison>,
}
