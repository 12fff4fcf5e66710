//! Lexical features beside the embedding: hashed word uni/bigrams and character n-grams.
//! The same function runs at training and at serving, so the head sees the same inputs.

use serde::{Deserialize, Serialize};

/// How lexical features are made; stored in the model's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LexicalConfig {
    /// Number of hash buckets (the head's lexical input width).
    pub dim: usize,
    /// Weight of the character n-gram block relative to the word block.
    pub char_weight: f32,
}

impl Default for LexicalConfig {
    fn default() -> Self {
        Self { dim: 1 << 14, char_weight: 0.5 }
    }
}

/// A sparse, L2-normalised feature vector: (bucket, value), buckets sorted and unique.
pub type SparseVector = Vec<(u32, f32)>;

/// The lexical features of one text.
pub fn lexical_features(text: &str, config: &LexicalConfig) -> SparseVector {
    let words = words(text);
    let mut counts: std::collections::HashMap<u32, f32> = std::collections::HashMap::new();
    let mut add = |key: &[&str], weight: f32| {
        let bucket = (fnv1a(key) % config.dim as u64) as u32;
        *counts.entry(bucket).or_default() += weight;
    };
    for (i, w) in words.iter().enumerate() {
        add(&["w", w], 1.0);
        if let Some(next) = words.get(i + 1) {
            add(&["b", w, next], 1.0);
        }
    }
    for w in &words {
        let padded: Vec<char> = format!("<{w}>").chars().collect();
        for n in 3..=5 {
            for gram in padded.windows(n) {
                let s: String = gram.iter().collect();
                add(&["c", &s], config.char_weight);
            }
        }
    }
    let mut features: SparseVector =
        counts.into_iter().map(|(b, c)| (b, if c > 1.0 { 1.0 + c.ln() } else { c })).collect();
    features.sort_unstable_by_key(|(b, _)| *b);
    let norm = features.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        features.iter_mut().for_each(|(_, v)| *v /= norm);
    }
    features
}

/// Lower-cased alphanumeric words; every run of digits becomes `0` so order numbers share a feature.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_digits = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_digit() {
            if !in_digits {
                cur.push('0');
            }
            in_digits = true;
        } else if c.is_alphanumeric() {
            cur.push(c);
            in_digits = false;
        } else if c != '\'' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            in_digits = false;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// FNV-1a over the parts with a separator: stable across platforms and releases.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0x1f)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// Writes a sparse vector into a zeroed dense row.
pub fn densify_into(features: &SparseVector, row: &mut [f32]) {
    for &(b, v) in features {
        row[b as usize] = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_unit_length_and_sorted() {
        let f = lexical_features("Where is my order #1042?", &LexicalConfig::default());
        let norm: f32 = f.iter().map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(f.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn order_numbers_share_features() {
        let c = LexicalConfig::default();
        assert_eq!(lexical_features("order 1042", &c), lexical_features("ORDER 99817", &c));
    }

    #[test]
    fn empty_text_has_no_features() {
        assert!(lexical_features("?!", &LexicalConfig::default()).is_empty());
    }

    #[test]
    fn hashing_is_stable() {
        // A changed hash would silently break every shipped head.
        assert_eq!(fnv1a(&["w", "order"]), 0x5701_b284_be0d_27b6);
    }
}
