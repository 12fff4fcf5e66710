//! The frozen sentence encoder: tokenizer + `encoder.onnx` -> embeddings.
//!
//! An embedding here is the model's sentence embedding (the last layer, mean-pooled and
//! L2-normalised) followed by the same of the second-to-last layer: the pair classifies
//! intents better than the last layer alone.

use std::path::Path;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::pool::SessionPool;
use super::runtime::init_runtime;
use super::{BatchPolicy, ClassifierError, ClassifierOptions, ENCODER_FILE, TOKENIZER_FILE};

/// Longest input in tokens; longer messages are truncated.
const MAX_TOKENS: usize = 128;
/// The graph's outputs, concatenated in this order.
const OUTPUTS: [&str; 2] = ["sentence_embedding", "penultimate_embedding"];

pub struct Encoder {
    /// Pads a batch to its longest member.
    batch_tokenizer: Tokenizer,
    /// No padding at all, for single messages.
    single_tokenizer: Tokenizer,
    pool: SessionPool,
    batch: BatchPolicy,
    dim: usize,
    sha256: String,
}

impl Encoder {
    pub fn load(dir: &Path, options: ClassifierOptions) -> Result<Self, ClassifierError> {
        let env = init_runtime(None)?;
        let model_path = dir.join(ENCODER_FILE);
        let tokenizer_path = dir.join(TOKENIZER_FILE);
        for path in [&model_path, &tokenizer_path] {
            if !path.is_file() {
                return Err(ClassifierError::MissingFile { path: path.clone() });
            }
        }
        let bytes = std::fs::read(&model_path)
            .map_err(|e| ClassifierError::BadModel { path: model_path.clone(), reason: e.to_string() })?;
        let bad_model =
            |e: &dyn std::fmt::Display| ClassifierError::BadModel { path: model_path.clone(), reason: e.to_string() };
        let sessions = (0..options.sessions.max(1))
            .map(|_| build_session(env, &bytes, options.intra_threads).map_err(|e| bad_model(&e)))
            .collect::<Result<Vec<_>, _>>()?;
        check_signature(&sessions[0]).map_err(|e| bad_model(&e))?;
        let (single_tokenizer, batch_tokenizer) = load_tokenizers(&tokenizer_path)?;
        let mut encoder = Self {
            batch_tokenizer,
            single_tokenizer,
            pool: SessionPool::new(sessions),
            batch: options.batch,
            dim: 0,
            sha256: crate::util::sha256_hex(&bytes),
        };
        encoder.dim = encoder.embed_one("hello").map_err(|e| bad_model(&e))?.len();
        Ok(encoder)
    }

    /// Encoder sessions that can run at once.
    pub fn sessions(&self) -> usize {
        self.pool.size()
    }

    /// How the server groups messages into runs of this encoder.
    pub fn batch_policy(&self) -> BatchPolicy {
        self.batch
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The embedding of one message, with no padding.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, ClassifierError> {
        let encoding = self
            .single_tokenizer
            .encode(text, true)
            .map_err(|e| ClassifierError::Inference(format!("tokenizer: {e}")))?;
        let ids: Vec<i64> = encoding.get_ids().iter().map(|&i| i64::from(i)).collect();
        let mask: Vec<i64> = encoding.get_attention_mask().iter().map(|&m| i64::from(m)).collect();
        let mut rows = self.run(1, ids.len(), &ids, &mask)?;
        Ok(rows.pop().unwrap_or_default())
    }

    /// Embeddings of a batch, padded to its longest member. Callers that embed many texts
    /// should group them by length first so padding does not waste the encoder.
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ClassifierError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .batch_tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| ClassifierError::Inference(format!("tokenizer: {e}")))?;
        let len = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(texts.len() * len);
        let mut mask = Vec::with_capacity(texts.len() * len);
        for e in &encodings {
            ids.extend(e.get_ids().iter().map(|&i| i64::from(i)));
            mask.extend(e.get_attention_mask().iter().map(|&m| i64::from(m)));
        }
        self.run(texts.len(), len, &ids, &mask)
    }

    /// Token count of a text (for length bucketing).
    pub fn token_count(&self, text: &str) -> usize {
        self.single_tokenizer.encode(text, true).map(|e| e.get_ids().len()).unwrap_or(MAX_TOKENS)
    }

    fn run(&self, batch: usize, len: usize, ids: &[i64], mask: &[i64]) -> Result<Vec<Vec<f32>>, ClassifierError> {
        let inference = |e: ort::Error| ClassifierError::Inference(e.to_string());
        let ids = TensorRef::from_array_view(([batch, len], ids)).map_err(inference)?;
        let mask = TensorRef::from_array_view(([batch, len], mask)).map_err(inference)?;
        let mut session = self.pool.get();
        let outputs = session.run(ort::inputs!["input_ids" => ids, "attention_mask" => mask]).map_err(inference)?;
        let mut rows = vec![Vec::new(); batch];
        for name in OUTPUTS {
            let (shape, data) = outputs[name].try_extract_tensor::<f32>().map_err(inference)?;
            let dim = shape.get(1).copied().unwrap_or(0) as usize;
            if dim == 0 || data.len() != batch * dim {
                return Err(ClassifierError::Inference(format!("unexpected encoder output shape {shape:?} of {name}")));
            }
            for (row, values) in rows.iter_mut().zip(data.chunks(dim)) {
                row.extend_from_slice(values);
            }
        }
        Ok(rows)
    }
}

fn build_session(env: &ort::environment::Environment, bytes: &[u8], intra_threads: usize) -> ort::Result<Session> {
    Session::builder(env)?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .with_intra_threads(intra_threads.max(1))?
        .with_inter_threads(1)?
        .commit_from_memory(bytes)
}

fn check_signature(session: &Session) -> Result<(), String> {
    let inputs: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
    let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
    if inputs != ["input_ids", "attention_mask"] || !OUTPUTS.iter().all(|o| outputs.contains(o)) {
        return Err(format!(
            "not a Switchboard encoder: inputs {inputs:?}, outputs {outputs:?}; expected inputs [\"input_ids\", \"attention_mask\"] and outputs {OUTPUTS:?}. Re-create it with `make encoder`"
        ));
    }
    Ok(())
}

/// The same tokenizer twice: without padding for single messages, and padding to the longest
/// member for batches (the file ships with fixed padding to 128 tokens).
fn load_tokenizers(path: &Path) -> Result<(Tokenizer, Tokenizer), ClassifierError> {
    let bad = |reason: String| ClassifierError::BadTokenizer { path: path.to_path_buf(), reason };
    let mut single = Tokenizer::from_file(path).map_err(|e| bad(e.to_string()))?;
    if single.get_vocab_size(true) < 1000 {
        return Err(bad(format!("vocabulary of {} tokens is too small for this encoder", single.get_vocab_size(true))));
    }
    if single.token_to_id("[CLS]").is_none() || single.token_to_id("[SEP]").is_none() {
        return Err(bad("not a BERT word-piece tokenizer: [CLS] / [SEP] missing".into()));
    }
    single
        .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
        .map_err(|e| bad(e.to_string()))?;
    single.with_padding(None);
    let mut batch = single.clone();
    batch.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));
    Ok((single, batch))
}
