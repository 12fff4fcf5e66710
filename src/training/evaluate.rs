//! `switchboard eval`: the same code measured on public benchmarks, on `intents/` by k-fold,
//! or the shipped model as it is.

use std::time::Instant;

use serde::Serialize;

use super::calibrate::{Scored, calibrate};
use super::dataset::Example;
use super::embed::embed_all;
use super::metrics::{Figures, compute};
use super::progress::Progress;
use super::softmax::SoftmaxHead;
use super::train::{LabelSet, TrainOptions, cross_validate, featurize, fit_rows, neighbours_of, predict_rows};
use crate::classifier::{ClassifierError, Encoder, Head, OnnxClassifier, ranking_from};
use crate::domain::intent::{BENCHMARK_OUT_OF_SCOPE, IntentCatalog, OUT_OF_SCOPE};
use crate::domain::model::JobStage;
use crate::domain::triage::{DecisionKind, Thresholds};
use crate::intents::SensitiveRules;

/// One test row's outcome, as written by `--predictions`.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    pub text: String,
    pub intent: String,
    pub predicted: String,
    pub confidence: f32,
    pub decision: String,
}

/// What an evaluation measured.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    #[serde(flatten)]
    pub figures: Figures,
    pub embed_per_sec: f64,
    pub train_seconds: f64,
    pub total_seconds: f64,
    pub thresholds: Thresholds,
    pub model_version: Option<String>,
    #[serde(flatten)]
    pub automation: Automation,
    #[serde(skip)]
    pub labels: Vec<String>,
    #[serde(skip)]
    pub held_out: Vec<Scored>,
    #[serde(skip)]
    pub rows: Vec<RowResult>,
}

/// What the triage policy did with the test rows: the figures a store cares about on its own
/// logs, since a wrong automatic answer costs more than a hand-off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Automation {
    /// Rows the bot answered automatically (decision `answer`).
    pub automated_rows: usize,
    /// Out-of-scope rows (or rows of intents the model does not know) answered automatically
    /// as some intent, as a share of out-of-scope rows.
    pub false_automation: Option<f64>,
    /// Automatic answers whose intent was the right one.
    pub automated_precision: Option<f64>,
}

impl Automation {
    fn of(rows: &[RowResult], labels: &[String]) -> Self {
        let foreign = |r: &RowResult| {
            r.intent == OUT_OF_SCOPE || r.intent == BENCHMARK_OUT_OF_SCOPE || !labels.contains(&r.intent)
        };
        let automated: Vec<&RowResult> =
            rows.iter().filter(|r| r.decision == DecisionKind::Answer.name() && r.predicted != OUT_OF_SCOPE).collect();
        let oos_rows = rows.iter().filter(|r| foreign(r)).count();
        let falsely = automated.iter().filter(|r| foreign(r)).count();
        let right = automated.iter().filter(|r| r.predicted == r.intent).count();
        let share = |n: usize, d: usize| (d > 0).then(|| n as f64 / d as f64);
        Self {
            automated_rows: automated.len(),
            false_automation: share(falsely, oos_rows),
            automated_precision: share(right, automated.len()),
        }
    }
}

/// How triage decisions are made for `--predictions` (the catalog and rules of `intents/`).
pub struct Policy<'a> {
    pub catalog: &'a IntentCatalog,
    pub rules: &'a SensitiveRules,
}

fn row_results(
    examples: &[Example],
    held_out: &[Scored],
    labels: &[String],
    thresholds: &Thresholds,
    policy: Option<&Policy<'_>>,
) -> Vec<RowResult> {
    let empty_catalog = IntentCatalog::default();
    let empty_rules = SensitiveRules::default();
    let (catalog, rules) = policy.map_or((&empty_catalog, &empty_rules), |p| (p.catalog, p.rules));
    examples
        .iter()
        .zip(held_out)
        .map(|(e, s)| {
            let ranking = ranking_from(labels, &s.probabilities);
            let top = ranking.top().cloned();
            let (decision, _) = rules.first_message(&e.text, &ranking, thresholds, catalog);
            RowResult {
                text: e.text.clone(),
                intent: e.intent.clone(),
                predicted: top.as_ref().map_or_else(|| OUT_OF_SCOPE.to_string(), |t| t.intent.clone()),
                confidence: top.map_or(0.0, |t| t.confidence),
                decision: decision.kind().to_string(),
            }
        })
        .collect()
}

/// Trains on `train`, calibrates on `val` (or cross-validation of `train`), reports on `test`.
/// With `val`, thresholds come from a head trained on `train` alone and measured on `val`;
/// the head that is tested then learns from `train` and `val` together, as `train` does with
/// cross-validation before its final fit.
pub fn benchmark(
    encoder: &Encoder,
    train: &[Example],
    val: Option<&[Example]>,
    test: &[Example],
    options: &TrainOptions,
    progress: &Progress<'_>,
) -> Result<Evaluation, ClassifierError> {
    let started = Instant::now();
    let val = val.unwrap_or_default();
    let labelled = [train, val].concat();
    let set = LabelSet::of(&labelled);
    let all_texts: Vec<&str> = labelled.iter().chain(test).map(|e| e.text.as_str()).collect();
    let features = featurize(encoder, &all_texts, options, progress)?;
    let fit_started = Instant::now();
    let classes: Vec<usize> = labelled.iter().map(|e| set.index(&e.intent).unwrap_or(0)).collect();
    let fit = |rows: usize| {
        let rows: Vec<usize> = (0..rows).collect();
        let bar = progress.bar(options.head.epochs as u64, JobStage::Fitting);
        let head = fit_rows(&features, &classes, &rows, &set, options, || bar.inc());
        bar.finish();
        head
    };
    // Rows `offset..` scored by a head fitted on (and consulting the examples of) rows `..known`.
    let predict = |head: &SoftmaxHead, known: usize, offset: usize, rows: &[Example]| -> Vec<Scored> {
        let reference: Vec<usize> = (0..known).collect();
        let neighbours = neighbours_of(&features, &classes, &reference, &set, &options.neighbours);
        let scored: Vec<usize> = (offset..offset + rows.len()).collect();
        let probabilities = predict_rows(head, &neighbours, &features, &scored, &set, options);
        rows.iter()
            .zip(probabilities)
            .map(|(e, probabilities)| Scored { truth: set.truth(&e.intent), probabilities })
            .collect()
    };
    let (calibration_rows, head) = if val.is_empty() {
        (cross_validate(&features, train, &set, options, progress), fit(train.len()))
    } else {
        (predict(&fit(train.len()), train.len(), train.len(), val), fit(labelled.len()))
    };
    let train_seconds = fit_started.elapsed().as_secs_f64();
    let thresholds = calibrate(&calibration_rows, &set.labels, set.oos, &options.calibration);
    let held_out = predict(&head, labelled.len(), labelled.len(), test);
    let figures = compute(&held_out, &set.labels, set.oos, &thresholds);
    let rows = row_results(test, &held_out, &set.labels, &thresholds, None);
    Ok(Evaluation {
        figures,
        embed_per_sec: features.embed_per_sec,
        train_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
        thresholds,
        model_version: None,
        automation: Automation::of(&rows, &set.labels),
        labels: set.labels,
        held_out,
        rows,
    })
}

/// k-fold cross-validation over labelled examples (the project's intents). Thresholds are
/// calibrated on the same out-of-fold predictions they are measured on, as `train` does.
pub fn cross_validation(
    encoder: &Encoder,
    examples: &[Example],
    options: &TrainOptions,
    policy: &Policy<'_>,
    progress: &Progress<'_>,
) -> Result<Evaluation, ClassifierError> {
    let started = Instant::now();
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let features = featurize(encoder, &texts, options, progress)?;
    let fit_started = Instant::now();
    let set = LabelSet::of(examples);
    let held_out = cross_validate(&features, examples, &set, options, progress);
    let train_seconds = fit_started.elapsed().as_secs_f64();
    let thresholds = calibrate(&held_out, &set.labels, set.oos, &options.calibration);
    let figures = compute(&held_out, &set.labels, set.oos, &thresholds);
    let rows = row_results(examples, &held_out, &set.labels, &thresholds, Some(policy));
    Ok(Evaluation {
        figures,
        embed_per_sec: features.embed_per_sec,
        train_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
        thresholds,
        model_version: None,
        automation: Automation::of(&rows, &set.labels),
        labels: set.labels,
        held_out,
        rows,
    })
}

/// The shipped model as it is, on a test file. Test intents the model does not know count
/// as out of scope.
pub fn shipped(
    classifier: &OnnxClassifier,
    test: &[Example],
    policy: &Policy<'_>,
    options: &TrainOptions,
    progress: &Progress<'_>,
) -> Result<Evaluation, ClassifierError> {
    let started = Instant::now();
    let texts: Vec<&str> = test.iter().map(|e| e.text.as_str()).collect();
    let embedded = embed_all(classifier.encoder(), &texts, options.workers, progress)?;
    let mut eval = on_embedded(&classifier.head(), test, &embedded.vectors, Some(policy))?;
    eval.embed_per_sec = embedded.per_second;
    eval.total_seconds = started.elapsed().as_secs_f64();
    Ok(eval)
}

/// A trained head on examples already embedded, at its own thresholds.
pub fn on_embedded(
    head: &Head,
    examples: &[Example],
    embeddings: &[Vec<f32>],
    policy: Option<&Policy<'_>>,
) -> Result<Evaluation, ClassifierError> {
    let started = Instant::now();
    let meta = head.metadata();
    let set = LabelSet::from_labels(meta.labels.clone());
    let mut held_out = Vec::with_capacity(examples.len());
    for (rows, vectors) in examples.chunks(64).zip(embeddings.chunks(64)) {
        let texts: Vec<&str> = rows.iter().map(|e| e.text.as_str()).collect();
        for (e, p) in rows.iter().zip(head.predict(vectors, &texts)?) {
            held_out.push(Scored { truth: set.truth(&e.intent), probabilities: p });
        }
    }
    let thresholds = meta.thresholds.clone();
    let figures = compute(&held_out, &set.labels, set.oos, &thresholds);
    let rows = row_results(examples, &held_out, &set.labels, &thresholds, policy);
    Ok(Evaluation {
        figures,
        embed_per_sec: 0.0,
        train_seconds: 0.0,
        total_seconds: started.elapsed().as_secs_f64(),
        thresholds,
        model_version: Some(meta.version.clone()),
        automation: Automation::of(&rows, &set.labels),
        labels: set.labels,
        held_out,
        rows,
    })
}
