//! The intent classifier: tokenizer -> encoder.onnx -> head.onnx -> ranked intents.
//! The only module that names `ort` or `tokenizers`.

mod encoder;
#[cfg(test)]
pub mod fake;
pub mod features;
pub mod head;
pub mod mahalanobis;
mod metadata;
pub mod neighbours;
mod pool;
mod runtime;
mod workers;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

pub use encoder::Encoder;
pub use head::Head;
pub use metadata::{HEAD_FILE, HeadMetadata, LexicalConfig, METADATA_FILE, NeighbourConfig, write_atomically};
pub use neighbours::{NEIGHBOURS_FILE, Neighbours};
pub use runtime::{FETCH_COMMAND, ORT_LIBRARY_NAME, init_runtime};
pub use workers::{BatchPolicy, RankWorkers, Ranked};

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
    /// How the server groups messages that arrive together into one encoder run.
    pub batch: BatchPolicy,
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        Self { sessions: 1, intra_threads: 2, batch: BatchPolicy::default() }
    }
}

/// What the classifier made of a message, and the model that made it: a message classified
/// while another model is swapped in keeps the version and thresholds it was ranked with.
#[derive(Debug, Clone)]
pub struct Classified {
    pub ranking: Ranking,
    pub model: Arc<HeadMetadata>,
    /// The ranking of the candidate in shadow, if one is.
    pub shadow: Option<(Ranking, Arc<HeadMetadata>)>,
}

/// Anything that ranks intents for a message: the ONNX model in production, and the seam
/// the chat service is written against.
pub trait IntentClassifier: Send + Sync {
    fn classify(&self, text: &str) -> Result<Classified, ClassifierError>;
    /// Several messages at once, one result per text in order. A message's result does not
    /// depend on the others in its batch.
    fn classify_batch(&self, texts: &[&str]) -> Vec<Result<Classified, ClassifierError>> {
        texts.iter().map(|text| self.classify(text)).collect()
    }
    /// How callers should group messages for [`Self::classify_batch`].
    fn batch_policy(&self) -> BatchPolicy {
        BatchPolicy::SINGLE
    }
    /// The live model's metadata.
    fn live(&self) -> Arc<HeadMetadata>;
    /// How many rankings can usefully run at once (the encoder's sessions).
    fn concurrency(&self) -> usize {
        1
    }
}

/// The heads serving now: the live one and, optionally, a candidate in shadow.
struct Serving {
    live: Arc<Head>,
    shadow: Option<Arc<Head>>,
}

/// The frozen encoder plus the live head (and a shadow), swapped atomically: a message in
/// flight finishes on the heads it started with.
pub struct OnnxClassifier {
    encoder: Arc<Encoder>,
    serving: ArcSwap<Serving>,
}

impl OnnxClassifier {
    /// Loads `encoder.onnx`, `tokenizer.json`, `head.onnx`, `neighbours.bin` and `head.json` from `dir`.
    pub fn load(dir: &Path, options: ClassifierOptions) -> Result<Self, ClassifierError> {
        let encoder = Arc::new(Encoder::load(dir, options)?);
        let head = Head::load(dir)?;
        Self::new(encoder, head)
            .map_err(|reason| ClassifierError::BadMetadata { path: dir.join(METADATA_FILE), reason })
    }

    /// The encoder with `live` as the live head, if they fit together.
    pub fn new(encoder: Arc<Encoder>, live: Head) -> Result<Self, String> {
        check_fits(&encoder, &live)?;
        Ok(Self { encoder, serving: ArcSwap::from_pointee(Serving { live: Arc::new(live), shadow: None }) })
    }

    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    pub fn shared_encoder(&self) -> Arc<Encoder> {
        self.encoder.clone()
    }

    /// The live model's ranking of one message (what tools and benchmarks need).
    pub fn rank(&self, text: &str) -> Result<Ranking, ClassifierError> {
        Ok(self.classify(text)?.ranking)
    }

    /// The live model's metadata.
    pub fn metadata(&self) -> Arc<HeadMetadata> {
        self.live()
    }

    /// The live head.
    pub fn head(&self) -> Arc<Head> {
        self.serving.load().live.clone()
    }

    pub fn shadow(&self) -> Option<Arc<Head>> {
        self.serving.load().shadow.clone()
    }

    /// From the next message on, `live` answers and `shadow` (if any) is consulted alongside.
    pub fn serve(&self, live: Arc<Head>, shadow: Option<Arc<Head>>) -> Result<(), String> {
        check_fits(&self.encoder, &live)?;
        if let Some(s) = &shadow {
            check_fits(&self.encoder, s)?;
        }
        self.serving.store(Arc::new(Serving { live, shadow }));
        Ok(())
    }
}

/// A head trained on another encoder's embeddings cannot read this one's.
fn check_fits(encoder: &Encoder, head: &Head) -> Result<(), String> {
    let meta = head.metadata();
    if meta.embedding_dim != encoder.dim() {
        return Err(format!(
            "model {} expects {}-dimensional embeddings but the encoder makes {}",
            meta.version,
            meta.embedding_dim,
            encoder.dim()
        ));
    }
    if !meta.encoder_sha256.is_empty() && meta.encoder_sha256 != encoder.sha256() {
        return Err(format!(
            "model {} was trained with another encoder (SHA-256 {}…, this one is {}…)",
            meta.version,
            meta.encoder_sha256.get(..12).unwrap_or(&meta.encoder_sha256),
            &encoder.sha256()[..12]
        ));
    }
    Ok(())
}

impl IntentClassifier for OnnxClassifier {
    fn classify(&self, text: &str) -> Result<Classified, ClassifierError> {
        self.classify_batch(&[text]).pop().unwrap_or_else(|| Err(ClassifierError::Inference("no result".into())))
    }

    /// One encoder run for the whole batch (padded to its longest message), then one head run
    /// per serving head.
    fn classify_batch(&self, texts: &[&str]) -> Vec<Result<Classified, ClassifierError>> {
        let serving = self.serving.load_full();
        let all_failed =
            |e: ClassifierError| texts.iter().map(|_| Err(ClassifierError::Inference(e.to_string()))).collect();
        let embeddings = match texts {
            [one] => self.encoder.embed_one(one).map(|e| vec![e]),
            _ => self.encoder.embed_batch(texts),
        };
        let embeddings = match embeddings {
            Ok(e) => e,
            Err(e) => return all_failed(e),
        };
        let rank = |head: &Head| -> Result<Vec<Ranking>, ClassifierError> {
            let labels = &head.metadata().labels;
            Ok(head.predict(&embeddings, texts)?.iter().map(|p| ranking_from(labels, p)).collect())
        };
        let live = match rank(&serving.live) {
            Ok(r) => r,
            Err(e) => return all_failed(e),
        };
        // The shadow never fails a live message.
        let shadow = serving.shadow.as_ref().and_then(|h| rank(h).ok().map(|r| (r, h.shared_metadata())));
        let model = serving.live.shared_metadata();
        live.into_iter()
            .enumerate()
            .map(|(i, ranking)| {
                let shadow = shadow.as_ref().and_then(|(r, m)| r.get(i).map(|r| (r.clone(), m.clone())));
                Ok(Classified { ranking, model: model.clone(), shadow })
            })
            .collect()
    }

    fn batch_policy(&self) -> BatchPolicy {
        self.encoder.batch_policy()
    }

    fn live(&self) -> Arc<HeadMetadata> {
        self.serving.load().live.shared_metadata()
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
