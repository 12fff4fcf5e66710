//! The training examples nearest to a message, beside the head's probabilities.
//!
//! Two things come from them. A vote: each class's closest example (cosine similarity of the
//! embeddings), turned into a distribution and mixed into the head's probabilities, which helps
//! where an intent has a few unusual phrasings. And familiarity: how close the message is to
//! any in-scope example at all. Every confidence is multiplied by it, so a message unlike
//! anything the model was taught is not answered with confidence, even when the head happens
//! to lean towards one intent. The ranking order is the mixed one; familiarity only lowers it.
//!
//! The examples' embeddings are stored beside the head (`neighbours.bin`, int8 with a scale
//! per example), so the same code runs at training, in evaluation and at serving.

use std::path::Path;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::ClassifierError;
use super::mahalanobis::Mahalanobis;

pub const NEIGHBOURS_FILE: &str = "neighbours.bin";
/// The examples alone (heads trained before the distance existed; still loaded).
const MAGIC: &[u8; 8] = b"SWBNBRS1";
/// The examples, then a [`Mahalanobis`] section.
const MAGIC_WITH_DISTANCE: &[u8; 8] = b"SWBNBRS2";
/// Messages compared at once by one matrix product (bounds the similarity matrix in memory).
const CHUNK: usize = 256;
/// Below this many messages, one dot product per example is faster than a matrix product,
/// which would first expand every example to float32 and copy it into its own layout.
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
    /// How much the Mahalanobis distance lowers familiarity: a message whose relative distance
    /// (see [`Mahalanobis::relative_distance`]) is `r` has it multiplied by
    /// `exp(-distance_weight * max(0, r - 1))`. 0 = off, as in heads trained before it.
    #[serde(default)]
    pub distance_weight: f32,
    /// Shrinkage of the distance's covariance towards the identity (0..1).
    #[serde(default)]
    pub distance_shrinkage: f32,
}

impl Default for NeighbourConfig {
    fn default() -> Self {
        Self { mix: 0.2, temperature: 0.05, familiarity_power: 2.0, distance_weight: 1.0, distance_shrinkage: 0.2 }
    }
}

impl NeighbourConfig {
    /// Whether heads trained with these settings need the distance model.
    pub fn uses_distance(&self) -> bool {
        self.distance_weight > 0.0
    }
}

/// Labelled, unit-length example embeddings, kept as int8 with one scale per example (a
/// quarter of the memory of float32).
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    dim: usize,
    /// `[examples * dim]`, row-major; example `i` is `scales[i] * quantized[i * dim..][..dim]`.
    quantized: Vec<i8>,
    scales: Vec<f32>,
    classes: Vec<u16>,
    class_count: usize,
    /// Distance to the in-scope intents' cloud, when the head was trained with one.
    distance: Option<Mahalanobis>,
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
        let (mut quantized, mut scales, mut dim) = (Vec::new(), Vec::new(), 0);
        for e in embeddings {
            dim = e.len();
            let values: Vec<f32> = unit(e).collect();
            let scale = values.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0;
            scales.push(scale);
            quantized.extend(values.iter().map(|v| if scale > 0.0 { (v / scale).round() as i8 } else { 0 }));
        }
        let classes = classes.iter().map(|&c| c as u16).collect();
        Self { dim, quantized, scales, classes, class_count, distance: None }
    }

    /// The same examples, with a distance model fitted on them (see [`Mahalanobis`]).
    pub fn with_distance(self, distance: Option<Mahalanobis>) -> Self {
        Self { distance, ..self }
    }

    pub fn distance(&self) -> Option<&Mahalanobis> {
        self.distance.as_ref()
    }

    /// Each embedding's relative Mahalanobis distance, if the examples carry the model.
    pub fn relative_distances(&self, embeddings: &[impl AsRef<[f32]>]) -> Vec<Option<f32>> {
        embeddings.iter().map(|e| self.distance.as_ref().map(|d| d.relative_distance(e.as_ref()))).collect()
    }

    /// The examples' rows: int8 values and their scale.
    fn rows(&self) -> impl Iterator<Item = (&[i8], f32)> {
        self.quantized.chunks_exact(self.dim.max(1)).zip(self.scales.iter().copied())
    }

    /// The examples as float32 `[examples, dim]`, for a matrix product over a batch.
    fn dequantised(&self) -> Array2<f32> {
        let values: Vec<f32> =
            self.rows().flat_map(|(row, scale)| row.iter().map(move |&q| f32::from(q) * scale)).collect();
        Array2::from_shape_vec((self.scales.len(), self.dim), values).expect("one scale per example")
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn class_count(&self) -> usize {
        self.class_count
    }

    /// For each embedding, every class's highest cosine similarity to one of its examples
    /// (-1 for a class without examples).
    ///
    /// # Panics
    /// If an embedding's length is not [`Self::dim`] (the head checks this first).
    pub fn class_similarity(&self, embeddings: &[impl AsRef<[f32]>]) -> Vec<Vec<f32>> {
        assert!(embeddings.iter().all(|e| e.as_ref().len() == self.dim), "embeddings of {} values expected", self.dim);
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
                keep_best(&mut self.rows().map(|(row, scale)| scale * dot_i8(&query, row)));
            }
            return out;
        }
        let examples = self.dequantised();
        for chunk in embeddings.chunks(CHUNK) {
            let rows: Vec<f32> = chunk.iter().flat_map(|e| unit(e.as_ref())).collect();
            let queries =
                ArrayView2::from_shape((chunk.len(), self.dim()), &rows).expect("embeddings of the model's size");
            let similarity = queries.dot(&examples.t());
            for row in similarity.rows() {
                keep_best(&mut row.iter().copied());
            }
        }
        out
    }

    /// The file's bytes: a header, the classes, the scales, the int8 values, then the
    /// distance model if there is one. Without one, the bytes are those of the first format,
    /// so a head retrained without the distance hashes as before.
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.scales.len();
        let mut bytes = Vec::with_capacity(20 + 6 * n + self.quantized.len());
        bytes.extend_from_slice(if self.distance.is_some() { MAGIC_WITH_DISTANCE } else { MAGIC });
        for v in [self.dim, n, self.class_count] {
            bytes.extend_from_slice(&(v as u32).to_le_bytes());
        }
        self.classes.iter().for_each(|c| bytes.extend_from_slice(&c.to_le_bytes()));
        self.scales.iter().for_each(|s| bytes.extend_from_slice(&s.to_le_bytes()));
        bytes.extend(self.quantized.iter().map(|&q| q as u8));
        if let Some(d) = &self.distance {
            bytes.extend(d.to_bytes());
        }
        bytes
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        super::write_atomically(path, &self.to_bytes())
    }

    /// The examples in `path`, and the file's SHA-256 (the head's metadata names the file it
    /// was trained with).
    pub fn read(path: &Path) -> Result<(Self, String), ClassifierError> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ClassifierError::MissingFile { path: path.into() },
            _ => ClassifierError::BadModel { path: path.into(), reason: e.to_string() },
        })?;
        let neighbours =
            Self::from_bytes(&bytes).map_err(|reason| ClassifierError::BadModel { path: path.into(), reason })?;
        Ok((neighbours, crate::util::sha256_hex(&bytes)))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let header = bytes.get(..20).ok_or("too short for a neighbours file")?;
        let with_distance = match &header[..8] {
            m if m == MAGIC => false,
            m if m == MAGIC_WITH_DISTANCE => true,
            _ => {
                return Err(
                    "not a Switchboard neighbours file (wrong magic bytes); re-create it with `make model`".into()
                );
            }
        };
        let field = |i: usize| u32::from_le_bytes(header[8 + 4 * i..12 + 4 * i].try_into().expect("4 bytes")) as usize;
        let (dim, n, class_count) = (field(0), field(1), field(2));
        if dim == 0 || n == 0 {
            return Err(format!("{n} examples of {dim} values: a trained head has at least one example"));
        }
        let expected = n.checked_mul(dim).and_then(|v| v.checked_add(20 + 6 * n));
        let (bytes, distance) = match expected {
            Some(end) if with_distance && end < bytes.len() => bytes.split_at(end),
            _ => (bytes, &[][..]),
        };
        if expected != Some(bytes.len()) {
            return Err(format!(
                "{} bytes, expected 20 + 6 x {n} + {n} x {dim} for {n} examples of {dim} values",
                bytes.len()
            ));
        }
        let (classes, rest) = bytes[20..].split_at(2 * n);
        let (scales, values) = rest.split_at(4 * n);
        let classes: Vec<u16> = classes.chunks_exact(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
        if let Some(c) = classes.iter().find(|&&c| usize::from(c) >= class_count) {
            return Err(format!("an example of class {c}, but there are only {class_count} classes"));
        }
        let scales: Vec<f32> =
            scales.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        if scales.iter().any(|s| !s.is_finite() || *s < 0.0) {
            return Err("an example's scale is not a finite, non-negative number".into());
        }
        let quantized = values.iter().map(|&b| b as i8).collect();
        let distance = with_distance.then(|| Mahalanobis::from_bytes(distance, class_count)).transpose()?;
        if distance.as_ref().is_some_and(|d| d.dim() != dim) {
            return Err("the distance section and the examples differ in size".into());
        }
        Ok(Self { dim, quantized, scales, classes, class_count, distance })
    }
}

/// `a · b`, compiled a second time for AVX2 and used where the processor has it (checked once
/// at run time): the same loop then runs 8 lanes wide instead of 4.
fn dot_i8(a: &[f32], b: &[i8]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *AVX2.get_or_init(|| is_x86_feature_detected!("avx2")) {
            // SAFETY: the processor supports AVX2, checked just above.
            return unsafe { dot_i8_avx2(a, b) };
        }
    }
    dot_i8_portable(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_i8_avx2(a: &[f32], b: &[i8]) -> f32 {
    dot_i8_portable(a, b)
}

/// Eight independent sums, so the loop vectorises.
#[inline(always)]
fn dot_i8_portable(a: &[f32], b: &[i8]) -> f32 {
    let mut sums = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8.remainder().iter().zip(b8.remainder()).map(|(x, &y)| x * f32::from(y)).sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            sums[i] += x[i] * f32::from(y[i]);
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// `a · b` for float32, dispatched like [`dot_i8`].
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *AVX2.get_or_init(|| is_x86_feature_detected!("avx2")) {
            // SAFETY: the processor supports AVX2, checked just above.
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_portable(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    dot_portable(a, b)
}

#[inline(always)]
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
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
/// `distance` the message's relative Mahalanobis distance, when the head has the model; `oos`
/// is the out-of-scope class, which does not count towards familiarity.
pub fn blend(
    probabilities: &mut [f32],
    similarity: &[f32],
    distance: Option<f32>,
    oos: Option<usize>,
    config: &NeighbourConfig,
) {
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
    if let Some(r) = distance.filter(|_| config.uses_distance()) {
        let familiarity = (-config.distance_weight * (r - 1.0).max(0.0)).exp();
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
        // (0.6, 0.8) against (1,0,0) -> 0.6; against (0.6, 0.8, 0) -> 1.0 (int8 storage: to 1e-2).
        assert!((s[1][0] - 0.6).abs() < 1e-2 && (s[1][1] - 1.0).abs() < 1e-2, "{:?}", s[1]);
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
        let config = NeighbourConfig { mix: 0.5, temperature: 1.0, familiarity_power: 2.0, ..off() };
        let mut p = vec![1.0, 0.0];
        blend(&mut p, &[0.5, 0.5], None, None, &config);
        // Vote (0.5, 0.5), mixed: (0.75, 0.25); familiarity 0.5^2 = 0.25.
        assert!((p[0] - 0.1875).abs() < 1e-6 && (p[1] - 0.0625).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn out_of_scope_examples_do_not_make_a_message_familiar() {
        let config = NeighbourConfig { mix: 0.0, temperature: 1.0, familiarity_power: 1.0, ..off() };
        let mut p = vec![0.2, 0.8];
        blend(&mut p, &[0.3, 0.9], None, Some(1), &config);
        assert!((p[0] - 0.06).abs() < 1e-6 && (p[1] - 0.24).abs() < 1e-6, "{p:?}");
    }

    fn off() -> NeighbourConfig {
        NeighbourConfig {
            mix: 0.0,
            temperature: 1.0,
            familiarity_power: 0.0,
            distance_weight: 0.0,
            distance_shrinkage: 0.0,
        }
    }

    #[test]
    fn a_message_farther_than_the_examples_is_less_familiar() {
        let config = NeighbourConfig { distance_weight: 0.5, ..off() };
        // Relative distance 3: exp(-0.5 * 2) = 0.367879.
        let mut p = vec![0.5, 0.5];
        blend(&mut p, &[0.9, 0.1], Some(3.0), None, &config);
        assert!((p[0] - 0.183_940).abs() < 1e-5, "{p:?}");
        // As typical as the examples, or closer: untouched.
        let mut p = vec![0.5, 0.5];
        blend(&mut p, &[0.9, 0.1], Some(0.7), None, &config);
        assert_eq!(p, vec![0.5, 0.5]);
        // A head without the model (an older one): untouched whatever the setting.
        blend(&mut p, &[0.9, 0.1], None, None, &config);
        assert_eq!(p, vec![0.5, 0.5]);
    }

    #[test]
    fn files_of_the_first_format_still_load_and_the_second_carries_the_distance() {
        let plain = two_classes();
        let bytes = plain.to_bytes();
        assert_eq!(&bytes[..8], b"SWBNBRS1");
        assert_eq!(Neighbours::from_bytes(&bytes).unwrap(), plain);
        let examples = [vec![1.0, 0.0, 0.0], vec![0.0, 2.0, 0.0], vec![0.6, 0.8, 0.0]];
        let distance = Mahalanobis::fit(examples.iter().map(Vec::as_slice), &[0, 1, 1], None, 0.5);
        let with = two_classes().with_distance(distance);
        let bytes = with.to_bytes();
        assert_eq!(&bytes[..8], b"SWBNBRS2");
        let back = Neighbours::from_bytes(&bytes).unwrap();
        assert_eq!(back, with);
        assert!(back.relative_distances(&[vec![0.0, 1.0, 0.0]])[0].is_some());
        // The second format without its section is refused.
        let mut cut = plain.to_bytes();
        cut[..8].copy_from_slice(b"SWBNBRS2");
        assert!(Neighbours::from_bytes(&cut).is_err());
    }

    #[test]
    fn a_round_trip_through_the_file_keeps_the_similarities() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(NEIGHBOURS_FILE);
        let n = two_classes();
        n.write(&path).unwrap();
        let (back, _) = Neighbours::read(&path).unwrap();
        let q = [vec![0.3, 0.5, 0.1]];
        for (a, b) in n.class_similarity(&q)[0].iter().zip(&back.class_similarity(&q)[0]) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
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
        // A header claiming 2^32 - 1 examples of 2^32 - 1 values is refused, not an overflow.
        let mut huge = b"SWBNBRS1".to_vec();
        huge.extend([0xff; 8]);
        huge.extend(3u32.to_le_bytes());
        let Err(ClassifierError::BadModel { reason, .. }) =
            Neighbours::from_bytes(&huge).map_err(|reason| ClassifierError::BadModel { path: path.clone(), reason })
        else {
            panic!("accepted")
        };
        assert!(reason.contains("bytes, expected"), "{reason}");
    }
}
