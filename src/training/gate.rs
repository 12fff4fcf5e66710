//! The gate between a candidate model and the live one. Both are measured on the same
//! regression set, which no version trains on; the candidate fails on a real regression, not
//! on noise: macro-F1 falling by more than a tolerance, an intent losing more examples than
//! its tolerance, out-of-scope recall falling, automatic answers that are surely less precise
//! than the target, or McNemar's test finding the candidate significantly worse overall.

use super::calibrate::Scored;
use super::metrics::{Figures, compute, thresholded};
use crate::domain::intent::OUT_OF_SCOPE;
use crate::domain::model::{GateVerdict, ModelMetrics};
use crate::domain::triage::Thresholds;

/// The tolerances (the settings file's `[gate]` table). The defaults let a retrain on
/// unchanged data pass whatever its seed (see the README for the measurement) and catch a few
/// dozen mislabelled examples.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateSettings {
    /// Largest fall in macro-F1 that is still noise.
    pub max_macro_f1_drop: f64,
    /// An intent may lose this many correctly classified examples...
    pub recall_drop_examples: usize,
    /// ...or this share of its examples, whichever is more.
    pub recall_drop_share: f64,
    /// Largest fall in out-of-scope recall that is still noise.
    pub max_oos_recall_drop: f64,
    /// Significance level of McNemar's test (one-sided: is the candidate worse?).
    pub mcnemar_alpha: f64,
}

impl GateSettings {
    /// Refuses values that make no sense, naming the setting.
    pub fn check(&self) -> Result<(), String> {
        let shares = [
            ("max_macro_f1_drop", self.max_macro_f1_drop),
            ("recall_drop_share", self.recall_drop_share),
            ("max_oos_recall_drop", self.max_oos_recall_drop),
            ("mcnemar_alpha", self.mcnemar_alpha),
        ];
        match shares.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            Some((name, v)) => Err(format!("gate.{name} must be between 0 and 1, got {v}")),
            None => Ok(()),
        }
    }
}

impl Default for GateSettings {
    fn default() -> Self {
        Self {
            max_macro_f1_drop: 0.02,
            recall_drop_examples: 2,
            recall_drop_share: 0.1,
            max_oos_recall_drop: 0.05,
            mcnemar_alpha: 0.05,
        }
    }
}

/// One model's predictions on the regression set.
pub struct Measured<'a> {
    /// The model's labels; `rows[i].truth` indexes them.
    pub labels: &'a [String],
    pub rows: &'a [Scored],
    pub thresholds: &'a Thresholds,
}

impl Measured<'_> {
    fn oos(&self) -> Option<usize> {
        crate::domain::intent::out_of_scope_index(self.labels)
    }

    fn figures(&self, keep: &[bool]) -> Figures {
        let rows: Vec<Scored> = self.rows.iter().zip(keep).filter(|(_, k)| **k).map(|(r, _)| r.clone()).collect();
        compute(&rows, self.labels, self.oos(), self.thresholds)
    }

    /// Right on row `i`: an out-of-scope row turned away, any other row's intent ranked first.
    fn right(&self, i: usize, truth: &str) -> bool {
        let row = &self.rows[i];
        if truth == OUT_OF_SCOPE {
            thresholded(row, self.labels, self.oos(), self.thresholds).is_none()
        } else {
            self.labels[row.top().class] == truth
        }
    }
}

/// A model's figures on the regression set.
pub fn metrics(model: &Measured<'_>) -> ModelMetrics {
    let f = model.figures(&vec![true; model.rows.len()]);
    ModelMetrics {
        macro_f1: f.macro_f1,
        oos_recall: f.oos_recall.unwrap_or(0.0),
        answer_precision: f.answer_precision,
        coverage: f.coverage_at_target_precision,
    }
}

/// Judges `candidate` against `live` on the same rows, whose true intents are `truths`.
/// Rows of an intent one of the models does not know are left out of the comparison.
pub fn judge(truths: &[String], live: &Measured<'_>, candidate: &Measured<'_>, settings: &GateSettings) -> GateVerdict {
    let known = |m: &Measured<'_>, t: &str| t == OUT_OF_SCOPE || m.labels.iter().any(|l| l == t);
    let keep: Vec<bool> = truths.iter().map(|t| known(live, t) && known(candidate, t)).collect();
    let (before, after) = (live.figures(&keep), candidate.figures(&keep));
    let mut reasons = Vec::new();

    if before.macro_f1 - after.macro_f1 > settings.max_macro_f1_drop {
        reasons.push(format!(
            "macro-F1 fell from {:.3} to {:.3}, more than the {:.3} allowed",
            before.macro_f1, after.macro_f1, settings.max_macro_f1_drop
        ));
    }
    for (intent, was) in &before.per_intent {
        let Some(now) = after.per_intent.get(intent) else { continue };
        let right = |f: &super::metrics::IntentFigures| (f.recall * f.support as f64).round() as usize;
        let (right_before, right_after) = (right(was), right(now));
        let allowed =
            settings.recall_drop_examples.max((settings.recall_drop_share * was.support as f64).ceil() as usize);
        if right_before > right_after + allowed {
            reasons.push(format!(
                "{intent}: recall fell from {:.0} % to {:.0} % ({right_before} of {n} right, now {right_after}; {lost} examples lost, {allowed} allowed)",
                was.recall * 100.0,
                now.recall * 100.0,
                n = was.support,
                lost = right_before - right_after,
            ));
        }
    }
    if let (Some(was), Some(now)) = (before.oos_recall, after.oos_recall)
        && was - now > settings.max_oos_recall_drop
    {
        reasons.push(format!(
            "out-of-scope recall fell from {:.0} % to {:.0} %, more than the {:.0} points allowed",
            was * 100.0,
            now * 100.0,
            settings.max_oos_recall_drop * 100.0
        ));
    }
    let answered = (after.coverage_at_target_precision * after.test_rows as f64).round() as usize;
    let target = f64::from(candidate.thresholds.target_precision);
    let best_case = wilson_upper(after.answer_precision, answered, 1.645);
    if answered > 0 && best_case < target {
        reasons.push(format!(
            "automatic answers are {:.1} % precise at the calibrated thresholds (at most {:.1} % with 95 % confidence), under the {:.0} % target",
            after.answer_precision * 100.0,
            best_case * 100.0,
            target * 100.0
        ));
    }
    let (mut lost, mut gained) = (0, 0);
    for (i, truth) in truths.iter().enumerate().filter(|(i, _)| keep[*i]) {
        match (live.right(i, truth), candidate.right(i, truth)) {
            (true, false) => lost += 1,
            (false, true) => gained += 1,
            _ => {}
        }
    }
    let p = mcnemar_worse(lost, gained);
    if p < settings.mcnemar_alpha {
        reasons.push(format!(
            "McNemar's test: the candidate is wrong on {lost} examples the live model gets right and right on {gained} it gets wrong (p = {p:.4}, below {})",
            settings.mcnemar_alpha
        ));
    }
    GateVerdict { passed: reasons.is_empty(), reasons, live_version: None, live_metrics: None }
}

/// The upper end of the one-sided Wilson interval for a proportion `p` of `n` (z for the
/// confidence, 1.645 for 95 %).
fn wilson_upper(p: f64, n: usize, z: f64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let n = n as f64;
    let z2 = z * z;
    ((p + z2 / (2.0 * n)) + z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt()) / (1.0 + z2 / n)
}

/// One-sided exact McNemar test: the probability of the candidate losing at least `lost` of
/// the `lost + gained` examples where the two disagree, were both equally good.
fn mcnemar_worse(lost: usize, gained: usize) -> f64 {
    let n = lost + gained;
    if n == 0 || lost <= gained {
        return 1.0;
    }
    // Sum of C(n, k) / 2^n for k >= lost, in log space so large n stays finite.
    let ln_choose = |k: usize| ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k);
    let half = (n as f64) * std::f64::consts::LN_2;
    (lost..=n).map(|k| (ln_choose(k) - half).exp()).sum::<f64>().min(1.0)
}

fn ln_factorial(n: usize) -> f64 {
    (2..=n).map(|k| (k as f64).ln()).sum()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn labels() -> Vec<String> {
        ["order_status", "out_of_scope", "refund_status"].iter().map(|s| s.to_string()).collect()
    }

    fn thresholds() -> Thresholds {
        Thresholds { global: 0.5, margin: 0.0, per_intent: BTreeMap::new(), target_precision: 0.95 }
    }

    /// A confident prediction of class `class` for a row whose truth is `truth`.
    fn row(truth: usize, class: usize) -> Scored {
        let mut probabilities = vec![0.05; 3];
        probabilities[class] = 0.9;
        Scored { truth: Some(truth), probabilities }
    }

    /// `n` rows of each class; the first `wrong[c]` of class c are predicted as order_status
    /// (or refund_status for order_status rows).
    fn rows(n: usize, wrong: [usize; 3]) -> (Vec<String>, Vec<Scored>) {
        let names = labels();
        let mut truths = Vec::new();
        let mut scored = Vec::new();
        for class in 0..3 {
            for i in 0..n {
                let predicted = if i < wrong[class] { if class == 0 { 2 } else { 0 } } else { class };
                truths.push(names[class].clone());
                scored.push(row(class, predicted));
            }
        }
        (truths, scored)
    }

    fn verdict(live_wrong: [usize; 3], candidate_wrong: [usize; 3]) -> GateVerdict {
        let (labels, thresholds) = (labels(), thresholds());
        let (truths, live_rows) = rows(40, live_wrong);
        let (_, candidate_rows) = rows(40, candidate_wrong);
        let live = Measured { labels: &labels, rows: &live_rows, thresholds: &thresholds };
        let candidate = Measured { labels: &labels, rows: &candidate_rows, thresholds: &thresholds };
        judge(&truths, &live, &candidate, &GateSettings::default())
    }

    #[test]
    fn the_same_predictions_pass() {
        let v = verdict([1, 1, 1], [1, 1, 1]);
        assert!(v.passed && v.reasons.is_empty(), "{v:?}");
    }

    #[test]
    fn one_flipped_example_of_an_intent_is_noise() {
        assert!(verdict([0, 0, 0], [0, 0, 1]).passed);
    }

    #[test]
    fn an_intent_losing_more_than_its_tolerance_fails_and_says_which() {
        let v = verdict([0, 0, 0], [0, 0, 6]);
        assert!(!v.passed);
        assert!(v.reasons.iter().any(|r| r.starts_with("refund_status: recall fell from 100 % to 85 %")), "{v:?}");
    }

    #[test]
    fn out_of_scope_turned_away_less_often_fails() {
        let v = verdict([0, 0, 0], [0, 5, 0]);
        assert!(v.reasons.iter().any(|r| r.starts_with("out-of-scope recall fell")), "{v:?}");
    }

    #[test]
    fn many_small_losses_fail_mcnemar_even_when_each_intent_is_within_tolerance() {
        let v = verdict([0, 0, 0], [3, 0, 3]);
        assert!(v.reasons.iter().any(|r| r.starts_with("McNemar")), "{v:?}");
        assert!(!v.reasons.iter().any(|r| r.contains("recall fell")), "{v:?}");
    }

    #[test]
    fn a_better_candidate_passes() {
        assert!(verdict([4, 4, 4], [0, 0, 0]).passed);
    }

    #[test]
    fn mcnemar_matches_the_binomial_tail() {
        // P(X >= 8 | n = 10, p = 1/2) = (45 + 10 + 1) / 1024.
        assert!((mcnemar_worse(8, 2) - 56.0 / 1024.0).abs() < 1e-12);
        assert_eq!(mcnemar_worse(2, 8), 1.0);
        assert!(mcnemar_worse(400, 300) < 1e-3);
    }

    #[test]
    fn wilson_upper_bound_is_above_the_estimate_and_tightens_with_more_examples() {
        let few = wilson_upper(0.9, 20, 1.645);
        let many = wilson_upper(0.9, 2000, 1.645);
        assert!(few > many && many > 0.9, "{few} {many}");
    }
}
