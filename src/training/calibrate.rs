//! Choosing decision thresholds from held-out predictions (cross-validation or a validation
//! file): a global confidence threshold and margin, then one threshold per intent, so that
//! automatic answers reach a target precision; then, if held-out out-of-scope rows are still
//! answered too often, a floor under every threshold until enough of them are turned away.
//!
//! "Enough" is judged by the Wilson lower bound of the share turned away, not the share
//! itself: a hundred held-out out-of-scope rows that are all a little easier than real traffic
//! would otherwise let through more than promised. With few rows the bound asks for a clear
//! margin (96 of 100 for 90 %); with many it asks for little more than the target.

use std::collections::BTreeMap;

use super::metrics::thresholded;
use crate::domain::triage::Thresholds;

/// One held-out prediction: the true class (`None` = out of scope) and class probabilities.
#[derive(Debug, Clone)]
pub struct Scored {
    pub truth: Option<usize>,
    pub probabilities: Vec<f32>,
}

/// Top-1 class, its confidence and the gap to top-2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Top {
    pub class: usize,
    pub confidence: f32,
    pub margin: f32,
}

impl Scored {
    pub fn top(&self) -> Top {
        let (mut best, mut first, mut second) = (0, f32::NEG_INFINITY, f32::NEG_INFINITY);
        for (i, &p) in self.probabilities.iter().enumerate() {
            if p > first {
                second = first;
                first = p;
                best = i;
            } else if p > second {
                second = p;
            }
        }
        let second = if second.is_finite() { second } else { 0.0 };
        Top { class: best, confidence: first, margin: first - second }
    }
}

/// Settings of the search.
#[derive(Debug, Clone, Copy)]
pub struct CalibrationConfig {
    pub target_precision: f32,
    /// No threshold goes below this. Confidences are scaled by familiarity (see
    /// `classifier::neighbours`), so the right thresholds can lie well under one half.
    pub min_threshold: f32,
    /// An intent needs this many held-out answers for a threshold of its own (at 95 %, fewer
    /// than 40 cannot tell one mistake from two, so the estimate would be noise).
    pub min_support: usize,
    /// Share of out-of-scope messages that must not be answered: the Wilson lower bound of
    /// the held-out share (with `oos_recall_z`) must reach it, when there are at least
    /// `min_support` held-out out-of-scope rows.
    pub min_oos_recall: f32,
    /// Standard normal quantile of the bound on out-of-scope recall (1.96: 95 % two-sided;
    /// 0: the held-out share itself).
    pub oos_recall_z: f32,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        Self { target_precision: 0.97, min_threshold: 0.1, min_support: 40, min_oos_recall: 0.9, oos_recall_z: 1.96 }
    }
}

/// Lower end of the Wilson score interval for `successes` out of `trials` at normal quantile
/// `z`: a share that the true rate is unlikely to fall below, which stays inside 0..1 and
/// behaves at 0 and 100 % where the normal approximation does not.
pub fn wilson_lower_bound(successes: usize, trials: usize, z: f32) -> f32 {
    if trials == 0 {
        return 0.0;
    }
    let (n, z) = (trials as f64, f64::from(z));
    let p = successes as f64 / n;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let spread = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - spread) / (1.0 + z2 / n)) as f32
}

const MARGINS: [f32; 11] = [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3];
const MAX_THRESHOLD: f32 = 0.99;

fn threshold_grid(min: f32) -> impl Iterator<Item = f32> {
    let start = (min * 100.0).round() as u32;
    (start..=99).map(|t| t as f32 / 100.0)
}

/// Picks thresholds. `oos` is the out-of-scope class, if the model has one: predicting it is
/// never an automatic answer.
pub fn calibrate(rows: &[Scored], labels: &[String], oos: Option<usize>, config: &CalibrationConfig) -> Thresholds {
    let tops: Vec<(Top, Option<usize>)> = rows.iter().map(|r| (r.top(), r.truth)).collect();
    let candidates = tops.iter().filter(|(t, _)| Some(t.class) != oos);
    let count = |t: f32, m: f32| {
        let (mut answered, mut correct) = (0usize, 0usize);
        for (top, truth) in candidates.clone() {
            if top.confidence >= t && top.margin >= m {
                answered += 1;
                correct += usize::from(Some(top.class) == *truth);
            }
        }
        (answered, correct)
    };
    let reaches =
        |answered: usize, correct: usize| answered > 0 && correct as f32 >= config.target_precision * answered as f32;
    // Most correct answers at the target precision; on a tie, the lowest threshold and margin.
    let mut best: Option<(usize, f32, f32)> = None;
    for &m in &MARGINS {
        for t in threshold_grid(config.min_threshold) {
            let (answered, correct) = count(t, m);
            if reaches(answered, correct) && best.is_none_or(|(c, _, _)| correct > c) {
                best = Some((correct, t, m));
            }
        }
    }
    let (global, margin) = best.map_or((MAX_THRESHOLD, MARGINS[0]), |(_, t, m)| (t, m));

    let mut per_intent = BTreeMap::new();
    for (class, label) in labels.iter().enumerate() {
        if Some(class) == oos {
            continue;
        }
        let predicted: Vec<&(Top, Option<usize>)> =
            tops.iter().filter(|(t, _)| t.class == class && t.margin >= margin).collect();
        if predicted.len() < config.min_support {
            continue;
        }
        let threshold = threshold_grid(config.min_threshold)
            .find(|&t| {
                let answered: Vec<_> = predicted.iter().filter(|(top, _)| top.confidence >= t).collect();
                let correct = answered.iter().filter(|(_, truth)| *truth == Some(class)).count();
                answered.len() >= config.min_support && reaches(answered.len(), correct)
            })
            .unwrap_or(MAX_THRESHOLD);
        per_intent.insert(label.clone(), threshold);
    }
    let thresholds = Thresholds { global, margin, per_intent, target_precision: config.target_precision };
    raise_for_oos_recall(rows, labels, oos, thresholds, config)
}

/// Lifts every threshold to a common floor, lowest first, until out-of-scope rows are
/// rejected at `config.min_oos_recall`, by the lower bound (or the floor reaches the highest threshold, when the
/// model cannot tell them apart and answers nothing on its own).
fn raise_for_oos_recall(
    rows: &[Scored],
    labels: &[String],
    oos: Option<usize>,
    thresholds: Thresholds,
    config: &CalibrationConfig,
) -> Thresholds {
    let oos_rows: Vec<&Scored> = rows.iter().filter(|r| r.truth.is_none() || r.truth == oos).collect();
    if oos_rows.len() < config.min_support {
        return thresholds;
    }
    let recall = |t: &Thresholds| {
        let rejected = oos_rows.iter().filter(|r| thresholded(r, labels, oos, t).is_none()).count();
        wilson_lower_bound(rejected, oos_rows.len(), config.oos_recall_z)
    };
    let floored = |floor: f32| Thresholds {
        global: thresholds.global.max(floor),
        per_intent: thresholds.per_intent.iter().map(|(k, &v)| (k.clone(), v.max(floor))).collect(),
        ..thresholds.clone()
    };
    if recall(&thresholds) >= config.min_oos_recall {
        return thresholds;
    }
    let lowest = thresholds.per_intent.values().copied().fold(thresholds.global, f32::min);
    threshold_grid(lowest).map(floored).find(|t| recall(t) >= config.min_oos_recall).unwrap_or_else(|| {
        tracing::warn!(
            target_recall = config.min_oos_recall,
            "no threshold turns away enough out-of-scope examples; every threshold is set to the maximum"
        );
        floored(MAX_THRESHOLD)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(truth: Option<usize>, p: &[f32]) -> Scored {
        Scored { truth, probabilities: p.to_vec() }
    }

    fn labels() -> Vec<String> {
        vec!["a".into(), "b".into(), "oos".into()]
    }

    #[test]
    fn top_reports_class_confidence_and_margin() {
        let t = row(None, &[0.2, 0.5, 0.3]).top();
        assert_eq!(t.class, 1);
        assert!((t.margin - 0.2).abs() < 1e-6);
    }

    #[test]
    fn global_threshold_is_the_lowest_that_reaches_the_target() {
        // Class a: right at 0.9, 0.8, 0.7, 0.6; wrong at 0.5. Precision 1.0 needs t > 0.5.
        let rows = vec![
            row(Some(0), &[0.9, 0.1, 0.0]),
            row(Some(0), &[0.8, 0.2, 0.0]),
            row(Some(0), &[0.7, 0.3, 0.0]),
            row(Some(0), &[0.6, 0.4, 0.0]),
            row(Some(1), &[0.5, 0.3, 0.2]),
        ];
        let config = CalibrationConfig {
            target_precision: 1.0,
            min_threshold: 0.0,
            min_support: 1,
            min_oos_recall: 0.0,
            oos_recall_z: 0.0,
        };
        let t = calibrate(&rows, &labels(), Some(2), &config);
        assert_eq!(t.global, 0.51);
        assert_eq!(t.margin, 0.0);
        assert_eq!(t.per_intent["a"], 0.51);
    }

    #[test]
    fn out_of_scope_predictions_are_not_answers() {
        // Every a/b prediction is right; the wrong one predicts oos, which is a rejection.
        let rows = vec![row(Some(0), &[0.9, 0.1, 0.0]), row(Some(1), &[0.1, 0.2, 0.7])];
        let config = CalibrationConfig {
            target_precision: 1.0,
            min_threshold: 0.3,
            min_support: 1,
            min_oos_recall: 0.0,
            oos_recall_z: 0.0,
        };
        let t = calibrate(&rows, &labels(), Some(2), &config);
        assert_eq!(t.global, 0.3);
    }

    #[test]
    fn unreachable_target_gives_the_highest_threshold() {
        let rows = vec![row(Some(1), &[0.995, 0.005, 0.0])];
        let config = CalibrationConfig {
            target_precision: 0.9,
            min_threshold: 0.3,
            min_support: 1,
            min_oos_recall: 0.0,
            oos_recall_z: 0.0,
        };
        let t = calibrate(&rows, &labels(), None, &config);
        assert_eq!(t.global, MAX_THRESHOLD);
        assert_eq!(t.per_intent["a"], MAX_THRESHOLD);
    }

    #[test]
    fn an_intent_with_too_few_answers_uses_the_global_threshold() {
        let rows = vec![row(Some(0), &[0.9, 0.1, 0.0])];
        let config = CalibrationConfig {
            target_precision: 0.9,
            min_threshold: 0.3,
            min_support: 2,
            min_oos_recall: 0.0,
            oos_recall_z: 0.0,
        };
        let t = calibrate(&rows, &labels(), None, &config);
        assert!(!t.per_intent.contains_key("a"));
    }

    #[test]
    fn thresholds_rise_until_enough_out_of_scope_rows_are_turned_away() {
        // a is right at 0.9 and 0.8; three out-of-scope rows look like a at 0.6, 0.5, 0.45.
        // Precision 0.5 alone allows 0.46 (answers 0.6 and 0.5 wrongly); turning every
        // out-of-scope row away needs a floor just above 0.6.
        let rows = vec![
            row(Some(0), &[0.9, 0.1, 0.0]),
            row(Some(0), &[0.8, 0.1, 0.1]),
            row(None, &[0.6, 0.2, 0.2]),
            row(None, &[0.5, 0.25, 0.25]),
            row(None, &[0.45, 0.3, 0.25]),
        ];
        let base = CalibrationConfig {
            target_precision: 0.5,
            min_threshold: 0.0,
            min_support: 1,
            min_oos_recall: 0.0,
            oos_recall_z: 0.0,
        };
        let t = calibrate(&rows, &labels(), Some(2), &base);
        assert_eq!((t.global, t.per_intent["a"]), (0.46, 0.46));
        let t = calibrate(&rows, &labels(), Some(2), &CalibrationConfig { min_oos_recall: 1.0, ..base });
        assert_eq!((t.global, t.per_intent["a"]), (0.61, 0.61));
        let figures = super::super::metrics::compute(&rows, &labels(), Some(2), &t);
        assert_eq!(figures.oos_recall, Some(1.0));
        assert_eq!(figures.in_scope_accuracy, 1.0);
    }

    #[test]
    fn the_floor_rises_from_the_lowest_threshold_and_only_when_needed() {
        let labels = labels();
        let config = CalibrationConfig {
            min_support: 1,
            min_oos_recall: 1.0,
            oos_recall_z: 0.0,
            ..CalibrationConfig::default()
        };
        let start = Thresholds {
            global: 0.5,
            margin: 0.0,
            per_intent: BTreeMap::from([("a".to_string(), 0.4)]),
            target_precision: 0.95,
        };
        // Every out-of-scope row is already turned away: nothing moves.
        let rows = vec![row(Some(0), &[0.9, 0.1, 0.0]), row(None, &[0.1, 0.2, 0.7])];
        assert_eq!(raise_for_oos_recall(&rows, &labels, Some(2), start.clone(), &config), start);
        // One looks like a at 0.45: a's threshold rises just above it; the global one stays.
        let rows = vec![row(Some(0), &[0.9, 0.1, 0.0]), row(None, &[0.45, 0.3, 0.25])];
        let raised = raise_for_oos_recall(&rows, &labels, Some(2), start, &config);
        assert_eq!((raised.global, raised.per_intent["a"]), (0.5, 0.46));
    }

    #[test]
    fn the_wilson_bound_matches_hand_computed_values() {
        // 96 of 100 at z = 1.96: (0.96 + 0.019208 - 1.96 * sqrt(0.000384 + 0.00009604)) / 1.038416
        // = (0.979208 - 0.042943) / 1.038416 = 0.901628.
        assert!((wilson_lower_bound(96, 100, 1.96) - 0.901_628).abs() < 1e-5);
        // 95 of 100 falls short of 90 %: 0.88825 (so 100 rows need 96 turned away).
        assert!((wilson_lower_bound(95, 100, 1.96) - 0.888_25).abs() < 1e-4);
        // z = 0 is the share itself; no trials, no evidence.
        assert_eq!(wilson_lower_bound(9, 10, 0.0), 0.9);
        assert_eq!(wilson_lower_bound(0, 0, 1.96), 0.0);
        // 420 of 450 (93.3 %) reaches 90 % by the bound: 0.9064; 415 of 450 (92.2 %) does not: 0.8937.
        assert!(wilson_lower_bound(420, 450, 1.96) > 0.9 && wilson_lower_bound(415, 450, 1.96) < 0.9);
    }

    #[test]
    fn the_floor_rises_until_the_bound_not_the_share_reaches_the_target() {
        // 20 out-of-scope rows look like a at 0.305, 0.315, ..., 0.495; a is right at 0.9.
        let labels = labels();
        let mut rows = vec![row(Some(0), &[0.9, 0.1, 0.0])];
        rows.extend((0..20).map(|i| {
            let p = 0.305 + 0.01 * i as f32;
            row(None, &[p, 0.5 * (1.0 - p), 0.5 * (1.0 - p)])
        }));
        let start = Thresholds { global: 0.3, margin: 0.0, per_intent: BTreeMap::new(), target_precision: 0.95 };
        let config = CalibrationConfig { min_support: 1, min_oos_recall: 0.5, ..CalibrationConfig::default() };
        // The share alone: 10 of 20 turned away at a floor of 0.40.
        let share = raise_for_oos_recall(
            &rows,
            &labels,
            Some(2),
            start.clone(),
            &CalibrationConfig { oos_recall_z: 0.0, ..config },
        );
        assert_eq!(share.global, 0.4);
        // The bound: 14 of 20 gives 0.4810, 15 of 20 gives 0.5313, so a floor of 0.45.
        let bound = raise_for_oos_recall(&rows, &labels, Some(2), start, &config);
        assert_eq!(bound.global, 0.45);
    }
}
