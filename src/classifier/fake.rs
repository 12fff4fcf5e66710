//! A stand-in for the model in fast tests: each message gets the ranking of the first phrase
//! it contains, so the chat service's turn logic runs without ONNX Runtime.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Classified, ClassifierError, HeadMetadata, IntentClassifier, LexicalConfig, NeighbourConfig};
use crate::domain::triage::{IntentScore, Ranking, Thresholds};

pub struct FakeClassifier {
    rules: Vec<(String, Ranking)>,
    fallback: Ranking,
    metadata: Arc<HeadMetadata>,
}

fn ranking(scores: &[(&str, f32)]) -> Ranking {
    Ranking { scores: scores.iter().map(|(i, c)| IntentScore { intent: i.to_string(), confidence: *c }).collect() }
}

impl FakeClassifier {
    /// Unmatched messages are confidently out of scope.
    pub fn new(thresholds: Thresholds) -> Self {
        let metadata = HeadMetadata {
            version: "fake".into(),
            created_at: String::new(),
            labels: Vec::new(),
            embedding_dim: 0,
            lexical: LexicalConfig::default(),
            neighbours: NeighbourConfig::default(),
            thresholds,
            metrics: BTreeMap::new(),
            training_data_hash: String::new(),
            training_examples: 0,
            encoder_sha256: String::new(),
            neighbours_sha256: String::new(),
            reference: None,
        };
        Self { rules: Vec::new(), fallback: ranking(&[("out_of_scope", 0.9)]), metadata: Arc::new(metadata) }
    }

    /// Messages containing `phrase` (lower case) get `scores`, highest first.
    pub fn on(mut self, phrase: &str, scores: &[(&str, f32)]) -> Self {
        self.rules.push((phrase.to_lowercase(), ranking(scores)));
        self
    }
}

impl IntentClassifier for FakeClassifier {
    fn classify(&self, text: &str) -> Result<Classified, ClassifierError> {
        let text = text.to_lowercase();
        let found = self.rules.iter().find(|(phrase, _)| text.contains(phrase.as_str()));
        let ranking = found.map_or_else(|| self.fallback.clone(), |(_, r)| r.clone());
        Ok(Classified { ranking, model: self.metadata.clone(), shadow: None })
    }

    fn live(&self) -> Arc<HeadMetadata> {
        self.metadata.clone()
    }
}
