//! The trained head: `head.onnx` (embedding + lexical features -> probabilities), the
//! training examples' embeddings it consults with their Mahalanobis distance model
//! (`neighbours.bin`), and its metadata.

use std::path::Path;
use std::sync::Arc;

use ort::session::Session;
use ort::value::TensorRef;

use super::ClassifierError;
use super::features::{densify_into, lexical_features};
use super::metadata::{HEAD_FILE, HeadMetadata, METADATA_FILE};
use super::neighbours::{NEIGHBOURS_FILE, Neighbours, blend};
use super::pool::SessionPool;
use super::runtime::init_runtime;

pub const INPUT_EMBEDDING: &str = "embedding";
pub const INPUT_LEXICAL: &str = "lexical";
pub const OUTPUT_PROBABILITIES: &str = "probabilities";

pub struct Head {
    pool: SessionPool,
    neighbours: Neighbours,
    metadata: Arc<HeadMetadata>,
    /// The out-of-scope class, if the head has one.
    oos: Option<usize>,
}

impl Head {
    /// Loads `head.onnx`, `neighbours.bin` and `head.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ClassifierError> {
        let metadata = HeadMetadata::read(&dir.join(METADATA_FILE))?;
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ClassifierError::MissingFile { path: path.clone() },
                _ => ClassifierError::BadModel { path: path.clone(), reason: e.to_string() },
            })
        };
        let (head_onnx, neighbours) = (read(HEAD_FILE)?, read(NEIGHBOURS_FILE)?);
        Self::from_artefacts(&head_onnx, &neighbours, metadata).map_err(|(file, reason)| ClassifierError::BadModel {
            path: dir.join(file),
            reason: format!("{reason}; restore the models folder from git or re-create it with `make model`"),
        })
    }

    /// A head from its artefacts (as training writes them and the store keeps them), checked
    /// against each other. An error names the artefact at fault.
    pub fn from_artefacts(
        head_onnx: &[u8],
        neighbours_bytes: &[u8],
        metadata: HeadMetadata,
    ) -> Result<Self, (&'static str, String)> {
        metadata.check().map_err(|reason| (METADATA_FILE, reason))?;
        let neighbours = Neighbours::from_bytes(neighbours_bytes).map_err(|reason| (NEIGHBOURS_FILE, reason))?;
        let head = Self::from_bytes(head_onnx, neighbours, metadata).map_err(|reason| (HEAD_FILE, reason))?;
        let (n, meta) = (&head.neighbours, &head.metadata);
        if n.dim() != meta.embedding_dim || n.class_count() != meta.labels.len() {
            return Err((
                NEIGHBOURS_FILE,
                format!(
                    "it holds {}-dimensional examples of {} classes, but the head expects {} and {}",
                    n.dim(),
                    n.class_count(),
                    meta.embedding_dim,
                    meta.labels.len()
                ),
            ));
        }
        if meta.neighbours.uses_distance() && n.distance().is_none() {
            return Err((
                NEIGHBOURS_FILE,
                "head.json asks for the Mahalanobis distance but the file has no distance section".into(),
            ));
        }
        let neighbours_sha256 = crate::util::sha256_hex(neighbours_bytes);
        if neighbours_sha256 != meta.neighbours_sha256 {
            return Err((
                NEIGHBOURS_FILE,
                format!(
                    "it is not the file this head was trained with (SHA-256 {}…, head.json names {}…)",
                    &neighbours_sha256[..12],
                    meta.neighbours_sha256.get(..12).unwrap_or(&meta.neighbours_sha256)
                ),
            ));
        }
        Ok(head)
    }

    fn from_bytes(bytes: &[u8], neighbours: Neighbours, metadata: HeadMetadata) -> Result<Self, String> {
        let env = init_runtime(None).map_err(|e| e.to_string())?;
        let session = Session::builder(env)
            .map_err(|e| e.to_string())?
            .with_intra_threads(1)
            .map_err(|e| e.to_string())?
            .commit_from_memory(bytes)
            .map_err(|e| e.to_string())?;
        let oos = crate::domain::intent::out_of_scope_index(&metadata.labels);
        let head = Self { pool: SessionPool::new(vec![session]), neighbours, metadata: Arc::new(metadata), oos };
        let probe = head.predict(&[vec![0.0; head.metadata.embedding_dim]], &["probe"]).map_err(|e| e.to_string())?;
        if probe.first().map(Vec::len) != Some(head.metadata.labels.len()) {
            return Err(format!(
                "the head outputs {} classes but its metadata lists {} labels",
                probe.first().map_or(0, Vec::len),
                head.metadata.labels.len()
            ));
        }
        Ok(head)
    }

    /// The metadata, shared: a message classified by this head keeps naming its version and
    /// thresholds even after another head is swapped in.
    pub fn shared_metadata(&self) -> Arc<HeadMetadata> {
        self.metadata.clone()
    }

    pub fn metadata(&self) -> &HeadMetadata {
        &self.metadata
    }

    pub fn predict_one(&self, embedding: &[f32], text: &str) -> Result<Vec<f32>, ClassifierError> {
        Ok(self.predict(&[embedding.to_vec()], &[text])?.pop().unwrap_or_default())
    }

    /// Class confidences for each (embedding, text) pair: the head's probabilities with the
    /// nearest examples' vote mixed in, scaled by familiarity (see [`super::neighbours`]).
    pub fn predict(&self, embeddings: &[Vec<f32>], texts: &[&str]) -> Result<Vec<Vec<f32>>, ClassifierError> {
        let n = embeddings.len();
        let (e_dim, l_dim) = (self.metadata.embedding_dim, self.metadata.lexical.dim);
        let mut dense_embeddings = Vec::with_capacity(n * e_dim);
        for e in embeddings {
            if e.len() != e_dim {
                return Err(ClassifierError::Inference(format!("embedding has {} values, expected {e_dim}", e.len())));
            }
            dense_embeddings.extend_from_slice(e);
        }
        let mut lexical = vec![0.0f32; n * l_dim];
        for (row, text) in lexical.chunks_mut(l_dim).zip(texts) {
            densify_into(&lexical_features(text, &self.metadata.lexical), row);
        }
        let inference = |e: ort::Error| ClassifierError::Inference(e.to_string());
        let emb = TensorRef::from_array_view(([n, e_dim], dense_embeddings.as_slice())).map_err(inference)?;
        let lex = TensorRef::from_array_view(([n, l_dim], lexical.as_slice())).map_err(inference)?;
        let mut session = self.pool.get();
        let outputs = session.run(ort::inputs![INPUT_EMBEDDING => emb, INPUT_LEXICAL => lex]).map_err(inference)?;
        let (_, data) = outputs[OUTPUT_PROBABILITIES].try_extract_tensor::<f32>().map_err(inference)?;
        let classes = data.len().checked_div(n).unwrap_or(0);
        let mut confidences: Vec<Vec<f32>> = data.chunks(classes.max(1)).map(<[f32]>::to_vec).collect();
        if classes == self.neighbours.class_count() {
            let similarity = self.neighbours.class_similarity(embeddings);
            let distance = self.neighbours.relative_distances(embeddings);
            for ((p, s), d) in confidences.iter_mut().zip(similarity).zip(distance) {
                blend(p, &s, d, self.oos, &self.metadata.neighbours);
            }
        }
        Ok(confidences)
    }
}
