//! The training examples nearest to a message, beside the head's probabilities.
//!
//! Two things come from them. A vote: each class's closest example (cosine similarity of the
//! embeddings), turned into a distribution and mixed into the head's probabilities, which helps
//! where an intent has a few unusual phrasings. And familiarity: how close the message is to
//! any in-scope example at all. Every confidence is multiplied by it, so a message unlike
//! anything the model was taught is not answered with confidence, even when the head happens
//! to lean towards one intent. The ranking order is the mixed one; familiarity only lowers it.
//!
//! The examples' embeddings are stored beside the head (`neighbours.bin`, float16), so the
//! same code runs at training, in evaluation and at serving.

use std::path::Path;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::ClassifierError;

pub const NEIGHBOURS_FILE: &str = "neighbours.bin";
const MAGIC: &[u8; 8] = b"SWBNBRS1";
/// Messages compared at once by one matrix product (bounds the similarity matrix in memory).
const CHUNK: usize = 256;
/// Below this many messages, one dot product per example is faster than a matrix product,
/// which would first copy all the examples into its own layout.
const MIN_BATCH_FOR_PRODUCT: usize = 16;

/// How neighbours change the head's probabilities; stored in the model's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NeighbourConfig {
    /// Weight of the nearest-example vote in the mixed distribution (0 = the head alone).
    pub mix: f32,
    /// Softmax temperature over the classes' nearest similarities.
    pub temperature: f32,
    /// Familiarity is the nearest in-scope similarity raised to this power (0 = off).
    pub familiarity_power: f32,
}

impl Default for NeighbourConfig {
    fn default() -> Self {
        Self { mix: 0.2, temperature: 0.05, familiarity_power: 2.0 }
    }
}

/// Labelled, unit-length example embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    /// `[examples, dim]`, row-major.
    examples: Array2<f32>,
    classes: Vec<u16>,
    class_count: usize,
}

impl Neighbours {
    /// Example embeddings (any length; they are normalised) and their class indexes.
    pub fn new<'a>(
        embeddings: impl ExactSizeIterator<Item = &'a [f32]>,
        classes: &[usize],
        class_count: usize,
    ) -> Self {
        assert_eq!(embeddings.len(), classes.len(), "one class per example");
        assert!(class_count <= usize::from(u16::MAX), "too many classes");
        let mut rows = Vec::new();
        let mut dim = 0;
        for e in embeddings {
            dim = e.len();
            rows.extend(unit(e));
        }
        Self {
            examples: Array2::from_shape_vec((classes.len(), dim), rows).expect("rows of equal length"),
            classes: classes.iter().map(|&c| c as u16).collect(),
            class_count,
        }
    }

    pub fn dim(&self) -> usize {
        self.examples.ncols()
    }

    pub fn class_count(&self) -> usize {
        self.class_count
    }

    /// For each embedding, every class's highest cosine similarity to one of its examples
    /// (-1 for a class without examples).
    pub fn class_similarity(&self, embeddings: &[impl AsRef<[f32]>]) -> Vec<Vec<f32>> {
        let mut out = Vec::with_capacity(embeddings.len());
        let mut keep_best = |similarities: &mut dyn Iterator<Item = f32>| {
            let mut best = vec![-1.0f32; self.class_count];
            for (s, &c) in similarities.zip(&self.classes) {
                let b = &mut best[usize::from(c)];
                *b = b.max(s);
            }
            out.push(best);
        };
        if embeddings.len() < MIN_BATCH_FOR_PRODUCT {
            for e in embeddings {
                let query: Vec<f32> = unit(e.as_ref()).collect();
                keep_best(&mut self.examples.rows().into_iter().map(|row| dot(&query, row.as_slice().unwrap_or(&[]))));
            }
            return out;
        }
        for chunk in embeddings.chunks(CHUNK) {
            let rows: Vec<f32> = chunk.iter().flat_map(|e| unit(e.as_ref())).collect();
            let queries =
                ArrayView2::from_shape((chunk.len(), self.dim()), &rows).expect("embeddings of the model's size");
            let similarity = queries.dot(&self.examples.t());
            for row in similarity.rows() {
                keep_best(&mut row.iter().copied());
            }
        }
        out
    }

    /// Writes the examples as float16 (half the size; similarities move by about 1e-3).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let (n, dim) = self.examples.dim();
        let mut bytes = Vec::with_capacity(20 + 2 * n + 2 * dim * n);
        bytes.extend_from_slice(MAGIC);
        for v in [dim, n, self.class_count] {
            bytes.extend_from_slice(&(v as u32).to_le_bytes());
        }
        self.classes.iter().for_each(|c| bytes.extend_from_slice(&c.to_le_bytes()));
        for example in self.examples.rows() {
            example.iter().for_each(|&v| bytes.extend_from_slice(&half::f16::from_f32(v).to_le_bytes()));
        }
        super::write_atomically(path, &bytes)
    }

    pub fn read(path: &Path) -> Result<Self, ClassifierError> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ClassifierError::MissingFile { path: path.into() },
            _ => ClassifierError::BadModel { path: path.into(), reason: e.to_string() },
        })?;
        Self::from_bytes(&bytes).map_err(|reason| ClassifierError::BadModel { path: path.into(), reason })
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let header = bytes.get(..20).ok_or("too short for a neighbours file")?;
        if &header[..8] != MAGIC {
            return Err("not a Switchboard neighbours file (wrong magic bytes); re-create it with `make model`".into());
        }
        let field = |i: usize| u32::from_le_bytes(header[8 + 4 * i..12 + 4 * i].try_into().expect("4 bytes")) as usize;
        let (dim, n, class_count) = (field(0), field(1), field(2));
        let expected = 20 + 2 * n + 2 * dim * n;
        if bytes.len() != expected || dim == 0 {
            return Err(format!("{} bytes, expected {expected} for {n} examples of {dim} values", bytes.len()));
        }
        let classes: Vec<u16> =
            bytes[20..20 + 2 * n].chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
        if let Some(c) = classes.iter().find(|&&c| usize::from(c) >= class_count) {
            return Err(format!("an example of class {c}, but there are only {class_count} classes"));
        }
        let values: Vec<f32> =
            bytes[20 + 2 * n..].chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err("an example embedding holds a value that is not a finite number".into());
        }
        let examples = Array2::from_shape_vec((n, dim), values).map_err(|e| e.to_string())?;
        Ok(Self { examples, classes, class_count })
    }
}

/// A dot product written so the compiler vectorises it (eight independent sums).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8.remainder().iter().zip(b8.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            sums[i] += x[i] * y[i];
        }
    }
    sums.iter().sum::<f32>() + tail
}

fn unit(v: &[f32]) -> impl Iterator<Item = f32> + '_ {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
    v.iter().map(move |x| x * scale)
}

/// Mixes the nearest-example vote into `probabilities` and scales everything by familiarity
/// (see the module documentation). `similarity` is one row of [`Neighbours::class_similarity`];
/// `oos` is the out-of-scope class, which does not count towards familiarity.
pub fn blend(probabilities: &mut [f32], similarity: &[f32], oos: Option<usize>, config: &NeighbourConfig) {
    if config.mix > 0.0 {
        let mut vote: Vec<f32> = similarity.iter().map(|s| s / config.temperature).collect();
        crate::util::softmax_in_place(&mut vote);
        for (p, v) in probabilities.iter_mut().zip(vote) {
            *p = (1.0 - config.mix) * *p + config.mix * v;
        }
    }
    if config.familiarity_power > 0.0 {
        let nearest = similarity
            .iter()
            .enumerate()
            .filter(|(c, _)| Some(*c) != oos)
            .map(|(_, &s)| s)
            .fold(f32::NEG_INFINITY, f32::max);
        let familiarity = nearest.clamp(0.0, 1.0).powf(config.familiarity_power);
        probabilities.iter_mut().for_each(|p| *p *= familiarity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_classes() -> Neighbours {
        let examples = [vec![1.0, 0.0, 0.0], vec![0.0, 2.0, 0.0], vec![0.6, 0.8, 0.0]];
        Neighbours::new(examples.iter().map(Vec::as_slice), &[0, 1, 1], 3)
    }

    #[test]
    fn each_class_gets_its_closest_example() {
        let s = two_classes().class_similarity(&[vec![0.0, 0.0, 5.0], vec![3.0, 4.0, 0.0]]);
        // Orthogonal to everything; class 2 has no examples.
        assert_eq!(s[0], vec![0.0, 0.0, -1.0]);
        // (0.6, 0.8) against (1,0,0) -> 0.6; against (0.6, 0.8, 0) -> 1.0.
        assert!((s[1][0] - 0.6).abs() < 1e-6 && (s[1][1] - 1.0).abs() < 1e-6, "{:?}", s[1]);
    }

    #[test]
    fn one_message_and_a_batch_get_the_same_similarities() {
        let n = two_classes();
        let batch: Vec<Vec<f32>> = (0..40).map(|i| vec![i as f32, (40 - i) as f32, 1.0]).collect();
        let together = n.class_similarity(&batch);
        for (e, expected) in batch.iter().zip(&together) {
            let alone = &n.class_similarity(std::slice::from_ref(e))[0];
            for (a, b) in alone.iter().zip(expected) {
                assert!((a - b).abs() < 1e-5, "{alone:?} vs {expected:?}");
            }
        }
    }

    #[test]
    fn blending_mixes_the_vote_and_scales_by_familiarity() {
        let config = NeighbourConfig { mix: 0.5, temperature: 1.0, familiarity_power: 2.0 };
        let mut p = vec![1.0, 0.0];
        blend(&mut p, &[0.5, 0.5], None, &config);
        // Vote (0.5, 0.5), mixed: (0.75, 0.25); familiarity 0.5^2 = 0.25.
        assert!((p[0] - 0.1875).abs() < 1e-6 && (p[1] - 0.0625).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn out_of_scope_examples_do_not_make_a_message_familiar() {
        let config = NeighbourConfig { mix: 0.0, temperature: 1.0, familiarity_power: 1.0 };
        let mut p = vec![0.2, 0.8];
        blend(&mut p, &[0.3, 0.9], Some(1), &config);
        assert!((p[0] - 0.06).abs() < 1e-6 && (p[1] - 0.24).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn a_round_trip_through_the_file_keeps_similarities_within_float16() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(NEIGHBOURS_FILE);
        let n = two_classes();
        n.write(&path).unwrap();
        let back = Neighbours::read(&path).unwrap();
        let q = [vec![0.3, 0.5, 0.1]];
        for (a, b) in n.class_similarity(&q)[0].iter().zip(&back.class_similarity(&q)[0]) {
            assert!((a - b).abs() < 2e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn a_truncated_or_foreign_file_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(NEIGHBOURS_FILE);
        two_classes().write(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(Neighbours::read(&path), Err(ClassifierError::BadModel { .. })));
        std::fs::write(&path, b"{\"not\": \"neighbours\"} and more bytes").unwrap();
        let Err(ClassifierError::BadModel { reason, .. }) = Neighbours::read(&path) else { panic!("accepted") };
        assert!(reason.contains("magic"), "{reason}");
    }
}
