//! The intent classifier: tokenizer -> encoder.onnx -> head.onnx -> ranked intents.
//! The only module that names `ort` or `tokenizers`.

mod encoder;
#[cfg(test)]
pub mod fake;
pub mod features;
pub mod head;
mod metadata;
pub mod neighbours;
mod pool;
mod runtime;
mod workers;

use std::path::{Path, PathBuf};

pub use encoder::Encoder;
pub use head::Head;
pub use metadata::{HEAD_FILE, HeadMetadata, LexicalConfig, METADATA_FILE, NeighbourConfig, write_atomically};
pub use neighbours::{NEIGHBOURS_FILE, Neighbours};
pub use runtime::{FETCH_COMMAND, ORT_LIBRARY_NAME, init_runtime};
pub use workers::RankWorkers;

use crate::domain::triage::{IntentScore, Ranking};

/// The encoder's files inside the models folder.
pub const ENCODER_FILE: &str = "encoder.onnx";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    #[error(
        "the ONNX Runtime library was not found ({looked}). Fetch it with `{FETCH_COMMAND}`, or point ORT_DYLIB_PATH / SWITCHBOARD_ORT_LIBRARY at libonnxruntime.so.1.31.1"
    )]
    RuntimeMissing { looked: String },
    #[error(
        "the ONNX Runtime library at {path} could not be loaded: {reason}. Fetch a fresh copy with `{FETCH_COMMAND}`"
    )]
    RuntimeLoad { path: PathBuf, reason: String },
    #[error("model file {path} is missing. Restore it with `git checkout -- {path}` or re-create it with `make model`")]
    MissingFile { path: PathBuf },
    #[error("model file {path} could not be loaded: {reason}")]
    BadModel { path: PathBuf, reason: String },
    #[error("the tokenizer {path} could not be loaded: {reason}")]
    BadTokenizer { path: PathBuf, reason: String },
    #[error("the model metadata {path} is invalid: {reason}")]
    BadMetadata { path: PathBuf, reason: String },
    #[error("inference failed: {0}")]
    Inference(String),
}

/// Options for loading the model.
#[derive(Debug, Clone, Copy)]
pub struct ClassifierOptions {
    /// Encoder sessions that may run at once.
    pub sessions: usize,
    /// Threads each session uses for one run.
    pub intra_threads: usize,
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        Self { sessions: 1, intra_threads: 2 }
    }
}

/// Anything that ranks intents for a message: the ONNX model in production, and the seam
/// the chat service is written against.
pub trait IntentClassifier: Send + Sync {
    fn rank(&self, text: &str) -> Result<Ranking, ClassifierError>;
    fn metadata(&self) -> &HeadMetadata;
    /// How many rankings can usefully run at once (the encoder's sessions).
    fn concurrency(&self) -> usize {
        1
    }
}

/// The shipped model: the frozen encoder plus a trained head.
pub struct OnnxClassifier {
    encoder: Encoder,
    head: Head,
}

impl OnnxClassifier {
    /// Loads `encoder.onnx`, `tokenizer.json`, `head.onnx`, `neighbours.bin` and `head.json` from `dir`.
    pub fn load(dir: &Path, options: ClassifierOptions) -> Result<Self, ClassifierError> {
        let encoder = Encoder::load(dir, options)?;
        let head = Head::load(dir)?;
        if head.metadata().embedding_dim != encoder.dim() {
            return Err(ClassifierError::BadMetadata {
                path: dir.join(METADATA_FILE),
                reason: format!(
                    "the head expects {}-dimensional embeddings but the encoder makes {}",
                    head.metadata().embedding_dim,
                    encoder.dim()
                ),
            });
        }
        Ok(Self { encoder, head })
    }

    pub fn from_parts(encoder: Encoder, head: Head) -> Self {
        Self { encoder, head }
    }

    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    pub fn head(&self) -> &Head {
        &self.head
    }
}

impl IntentClassifier for OnnxClassifier {
    fn rank(&self, text: &str) -> Result<Ranking, ClassifierError> {
        let embedding = self.encoder.embed_one(text)?;
        let probabilities = self.head.predict_one(&embedding, text)?;
        Ok(ranking_from(&self.head.metadata().labels, &probabilities))
    }

    fn metadata(&self) -> &HeadMetadata {
        self.head.metadata()
    }

    fn concurrency(&self) -> usize {
        self.encoder.sessions()
    }
}

/// Sorts labelled probabilities into a ranking, highest first.
pub fn ranking_from(labels: &[String], probabilities: &[f32]) -> Ranking {
    let mut scores: Vec<IntentScore> = labels
        .iter()
        .zip(probabilities)
        .map(|(intent, &confidence)| IntentScore { intent: intent.clone(), confidence })
        .collect();
    scores.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    Ranking { scores }
}
