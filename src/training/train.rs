//! Fitting a head on labelled texts: features, cross-validated calibration, the final fit,
//! and the ONNX + metadata that `switchboard train` writes.

use std::path::Path;
use std::time::Instant;

use super::calibrate::{CalibrationConfig, Scored, calibrate};
use super::dataset::{Example, data_hash, labels_of, stratified_folds};
use super::embed::embed_all;
use super::metrics::{Figures, compute};
use super::onnx_export::head_to_onnx;
use super::progress::Progress;
use super::softmax::{HeadConfig, Input, SoftmaxHead, fit};
use crate::classifier::features::{LexicalConfig, SparseVector, lexical_features};
use crate::classifier::mahalanobis::Mahalanobis;
use crate::classifier::neighbours::blend;
use crate::classifier::{
    ClassifierError, Encoder, HEAD_FILE, HeadMetadata, METADATA_FILE, NEIGHBOURS_FILE, NeighbourConfig, Neighbours,
};
use crate::domain::insights::TrafficReference;
use crate::domain::intent::{OUT_OF_SCOPE, out_of_scope_index};
use crate::domain::model::JobStage;
use crate::domain::triage::Thresholds;

/// Everything that shapes a training run.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    pub head: HeadConfig,
    pub lexical: LexicalConfig,
    pub neighbours: NeighbourConfig,
    pub calibration: CalibrationConfig,
    pub folds: usize,
    /// Threads for embedding and cross-validation.
    pub workers: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            head: HeadConfig::default(),
            lexical: LexicalConfig::default(),
            neighbours: NeighbourConfig::default(),
            calibration: CalibrationConfig::default(),
            folds: 5,
            workers: 2,
        }
    }
}

/// The head's inputs for a set of texts.
pub struct Features {
    pub embeddings: Vec<Vec<f32>>,
    pub lexical: Vec<SparseVector>,
    pub embed_per_sec: f64,
}

impl Features {
    pub fn input(&self, i: usize) -> Input<'_> {
        Input { dense: &self.embeddings[i], sparse: &self.lexical[i] }
    }
}

pub fn featurize(
    encoder: &Encoder,
    texts: &[&str],
    options: &TrainOptions,
    progress: &Progress<'_>,
) -> Result<Features, ClassifierError> {
    let embedded = embed_all(encoder, texts, options.workers, progress)?;
    let lexical = texts.iter().map(|t| lexical_features(t, &options.lexical)).collect();
    Ok(Features { embeddings: embedded.vectors, lexical, embed_per_sec: embedded.per_second })
}

/// Labels in head order, and the index of the out-of-scope class if there is one.
pub struct LabelSet {
    pub labels: Vec<String>,
    pub oos: Option<usize>,
}

impl LabelSet {
    pub fn of(examples: &[Example]) -> Self {
        Self::from_labels(labels_of(examples))
    }

    /// Labels already in head order (a trained model's).
    pub fn from_labels(labels: Vec<String>) -> Self {
        Self { oos: out_of_scope_index(&labels), labels }
    }

    pub fn index(&self, intent: &str) -> Option<usize> {
        self.labels.binary_search_by(|l| l.as_str().cmp(intent)).ok()
    }

    /// The true class of an example; unknown intents and out-of-scope rows are `None`
    /// unless the model has an out-of-scope class.
    pub fn truth(&self, intent: &str) -> Option<usize> {
        if intent == OUT_OF_SCOPE { self.oos } else { self.index(intent) }
    }
}

/// Fits a head on rows `rows` of `features`.
pub fn fit_rows(
    features: &Features,
    classes: &[usize],
    rows: &[usize],
    set: &LabelSet,
    options: &TrainOptions,
    on_epoch: impl FnMut(),
) -> SoftmaxHead {
    let inputs: Vec<Input> = rows.iter().map(|&i| features.input(i)).collect();
    let labels: Vec<usize> = rows.iter().map(|&i| classes[i]).collect();
    fit(&inputs, &labels, set.labels.len(), set.oos, options.lexical.dim, &options.head, on_epoch)
}

/// The examples of rows `rows`, for the nearest-example vote and familiarity, with the
/// Mahalanobis distance model fitted on them when `config` uses it.
pub fn neighbours_of(
    features: &Features,
    classes: &[usize],
    rows: &[usize],
    set: &LabelSet,
    config: &NeighbourConfig,
) -> Neighbours {
    let row_classes: Vec<usize> = rows.iter().map(|&i| classes[i]).collect();
    let embeddings = || rows.iter().map(|&i| features.embeddings[i].as_slice());
    let distance = config
        .uses_distance()
        .then(|| Mahalanobis::fit(embeddings(), &row_classes, set.oos, config.distance_shrinkage))
        .flatten();
    Neighbours::new(embeddings(), &row_classes, set.labels.len()).with_distance(distance)
}

/// Confidences for rows `rows` of `features` as serving computes them: the head's
/// probabilities blended with the nearest of `neighbours`.
pub fn predict_rows(
    head: &SoftmaxHead,
    neighbours: &Neighbours,
    features: &Features,
    rows: &[usize],
    set: &LabelSet,
    options: &TrainOptions,
) -> Vec<Vec<f32>> {
    let embeddings: Vec<&[f32]> = rows.iter().map(|&i| features.embeddings[i].as_slice()).collect();
    let distances = neighbours.relative_distances(&embeddings);
    rows.iter()
        .zip(neighbours.class_similarity(&embeddings))
        .zip(distances)
        .map(|((&i, similarity), distance)| {
            let mut p = head.predict(features.input(i));
            blend(&mut p, &similarity, distance, set.oos, &options.neighbours);
            p
        })
        .collect()
}

/// Out-of-fold predictions for every example by k-fold cross-validation.
pub fn cross_validate(
    features: &Features,
    examples: &[Example],
    set: &LabelSet,
    options: &TrainOptions,
    progress: &Progress<'_>,
) -> Vec<Scored> {
    let k = options.folds.max(2);
    let folds = stratified_folds(examples, k);
    let classes: Vec<usize> = examples.iter().map(|e| set.index(&e.intent).unwrap_or(0)).collect();
    let bar = progress.bar((k * options.head.epochs) as u64, JobStage::Validating);
    let mut probabilities: Vec<Vec<f32>> = vec![Vec::new(); examples.len()];
    let fold_ids: Vec<usize> = (0..k).collect();
    let per_worker = k.div_ceil(options.workers.max(1));
    let results: Vec<Vec<(usize, Vec<f32>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = fold_ids
            .chunks(per_worker)
            .map(|chunk| {
                let (folds, classes, bar) = (&folds, &classes, &bar);
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for &fold in chunk {
                        let train: Vec<usize> = (0..examples.len()).filter(|&i| folds[i] != fold).collect();
                        let head = fit_rows(features, classes, &train, set, options, || bar.inc());
                        let neighbours = neighbours_of(features, classes, &train, set, &options.neighbours);
                        let held: Vec<usize> = (0..examples.len()).filter(|&i| folds[i] == fold).collect();
                        let predicted = predict_rows(&head, &neighbours, features, &held, set, options);
                        out.extend(held.into_iter().zip(predicted));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    bar.finish();
    for (i, p) in results.into_iter().flatten() {
        probabilities[i] = p;
    }
    examples
        .iter()
        .zip(probabilities)
        .map(|(e, probabilities)| Scored { truth: set.truth(&e.intent), probabilities })
        .collect()
}

/// A trained head with its calibration and cross-validated figures.
pub struct TrainedHead {
    pub head: SoftmaxHead,
    pub neighbours: Neighbours,
    pub labels: LabelSet,
    pub thresholds: Thresholds,
    pub held_out: Vec<Scored>,
    pub figures: Figures,
    pub embed_per_sec: f64,
    pub train_seconds: f64,
}

/// Cross-validates (for thresholds and figures), then fits the final head on everything.
pub fn train(
    encoder: &Encoder,
    examples: &[Example],
    options: &TrainOptions,
    progress: &Progress<'_>,
) -> Result<TrainedHead, ClassifierError> {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let features = featurize(encoder, &texts, options, progress)?;
    let started = Instant::now();
    let set = LabelSet::of(examples);
    let held_out = cross_validate(&features, examples, &set, options, progress);
    let thresholds = calibrate(&held_out, &set.labels, set.oos, &options.calibration);
    let figures = compute(&held_out, &set.labels, set.oos, &thresholds);
    let classes: Vec<usize> = examples.iter().map(|e| set.index(&e.intent).unwrap_or(0)).collect();
    let all: Vec<usize> = (0..examples.len()).collect();
    let bar = progress.bar(options.head.epochs as u64, JobStage::Fitting);
    let head = fit_rows(&features, &classes, &all, &set, options, || bar.inc());
    bar.finish();
    let neighbours = neighbours_of(&features, &classes, &all, &set, &options.neighbours);
    Ok(TrainedHead {
        head,
        neighbours,
        labels: set,
        thresholds,
        held_out,
        figures,
        embed_per_sec: features.embed_per_sec,
        train_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The metadata for a freshly trained head.
pub fn metadata_for(
    trained: &TrainedHead,
    examples: &[Example],
    encoder: &Encoder,
    lexical: LexicalConfig,
    neighbours: NeighbourConfig,
) -> HeadMetadata {
    let now = chrono::Utc::now();
    let hash = data_hash(examples);
    let f = &trained.figures;
    let mut metrics = std::collections::BTreeMap::new();
    metrics.insert("cv_accuracy".to_string(), f.accuracy);
    metrics.insert("cv_macro_f1".to_string(), f.macro_f1);
    metrics.insert("cv_in_scope_accuracy".to_string(), f.in_scope_accuracy);
    metrics.insert("cv_coverage_at_target_precision".to_string(), f.coverage_at_target_precision);
    metrics.insert("cv_answer_precision".to_string(), f.answer_precision);
    if let Some(r) = f.oos_recall {
        metrics.insert("cv_oos_recall".to_string(), r);
    }
    HeadMetadata {
        version: format!("{}-{}", now.format("%Y%m%d-%H%M%S"), &hash[..8]),
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        labels: trained.labels.labels.clone(),
        embedding_dim: trained.head.dense_dim,
        lexical,
        neighbours,
        thresholds: trained.thresholds.clone(),
        metrics,
        training_data_hash: hash,
        training_examples: examples.len(),
        encoder_sha256: encoder.sha256().to_string(),
        neighbours_sha256: crate::util::sha256_hex(&trained.neighbours.to_bytes()),
        reference: Some(reference(trained)),
    }
}

/// The held-out predictions' top intents and confidences, to measure live traffic against.
fn reference(trained: &TrainedHead) -> TrafficReference {
    let labels = &trained.labels.labels;
    TrafficReference::of(trained.held_out.iter().map(|row| {
        let top = row.top();
        (labels.get(top.class).map_or("", String::as_str), f64::from(top.confidence))
    }))
}

/// ONNX bytes for a head, with its labels and version in the model's metadata.
pub fn onnx_bytes(head: &SoftmaxHead, metadata: &HeadMetadata) -> Vec<u8> {
    head_to_onnx(head, &[("labels", metadata.labels.join(",")), ("version", metadata.version.clone())])
}

/// Writes `head.onnx`, `neighbours.bin` and `head.json` into `dir` (each atomically, the
/// metadata last; the encoder is untouched).
pub fn write_head(dir: &Path, trained: &TrainedHead, metadata: &HeadMetadata) -> std::io::Result<()> {
    crate::classifier::write_atomically(&dir.join(HEAD_FILE), &onnx_bytes(&trained.head, metadata))?;
    trained.neighbours.write(&dir.join(NEIGHBOURS_FILE))?;
    metadata.write(&dir.join(METADATA_FILE))
}
