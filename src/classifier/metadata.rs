//! The head's metadata file (`head.json`): labels, thresholds, metrics and provenance.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ClassifierError;
pub use super::features::LexicalConfig;
pub use super::neighbours::NeighbourConfig;
use crate::domain::triage::Thresholds;

pub const HEAD_FILE: &str = "head.onnx";
pub const METADATA_FILE: &str = "head.json";

/// Everything about a trained head except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadMetadata {
    /// `YYYYMMDD-HHMMSS-<first 8 hex of the training-data hash>`.
    pub version: String,
    pub created_at: String,
    /// Class labels in the head's output order.
    pub labels: Vec<String>,
    pub embedding_dim: usize,
    pub lexical: LexicalConfig,
    pub neighbours: NeighbourConfig,
    pub thresholds: Thresholds,
    /// Cross-validated figures measured when the head was trained.
    pub metrics: BTreeMap<String, f64>,
    /// SHA-256 over the sorted (intent, example) pairs the head was trained on.
    pub training_data_hash: String,
    pub training_examples: usize,
    /// SHA-256 of the encoder file the head was trained with.
    pub encoder_sha256: String,
    /// SHA-256 of the `neighbours.bin` written with the head.
    pub neighbours_sha256: String,
    /// The confidence and intent mix of the head's held-out predictions on its training data:
    /// what drift in live traffic is measured against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<crate::domain::insights::TrafficReference>,
}

impl HeadMetadata {
    pub fn read(path: &Path) -> Result<Self, ClassifierError> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ClassifierError::MissingFile { path: path.into() },
            _ => ClassifierError::BadMetadata { path: path.into(), reason: e.to_string() },
        })?;
        let meta: HeadMetadata = serde_json::from_str(&text)
            .map_err(|e| ClassifierError::BadMetadata { path: path.into(), reason: e.to_string() })?;
        meta.check().map_err(|reason| ClassifierError::BadMetadata { path: path.into(), reason })?;
        Ok(meta)
    }

    /// Checks the figures a head cannot work without.
    pub fn check(&self) -> Result<(), String> {
        if self.labels.len() < 2 {
            return Err(format!("a head needs at least 2 labels, found {}", self.labels.len()));
        }
        if self.lexical.dim == 0 || self.embedding_dim == 0 {
            return Err("embedding_dim and lexical.dim must be positive".into());
        }
        let n = &self.neighbours;
        if !(0.0..=1.0).contains(&n.mix)
            || n.temperature <= 0.0
            || n.familiarity_power < 0.0
            || n.distance_weight < 0.0
            || !(0.0..=1.0).contains(&n.distance_shrinkage)
        {
            return Err("neighbours: mix and distance_shrinkage must lie between 0 and 1, temperature above 0, familiarity_power and distance_weight 0 or more".into());
        }
        let t = &self.thresholds;
        if !(0.0..=1.0).contains(&t.global) || !(0.0..=1.0).contains(&t.margin) {
            return Err("thresholds must lie between 0 and 1".into());
        }
        Ok(())
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_atomically(path, format!("{text}\n").as_bytes())
    }
}

/// Writes to a temporary file beside `path`, then renames it, so a reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
