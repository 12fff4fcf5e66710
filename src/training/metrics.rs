//! Evaluation figures from held-out predictions and thresholds.

use std::collections::BTreeMap;

use serde::Serialize;

use super::calibrate::Scored;
use crate::domain::triage::Thresholds;

/// How one intent fared (top-1, no threshold).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentFigures {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
    /// Intents this one was mistaken for, most often first (at most three).
    pub confused_with: Vec<Confusion>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confusion {
    pub intent: String,
    pub count: usize,
}

/// The figures `switchboard eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Top-1 over in-scope rows, no threshold.
    pub accuracy: f64,
    /// In-scope rows answered with the right intent after thresholds; a rejection is wrong.
    pub in_scope_accuracy: f64,
    /// Macro-F1 over the classes, top-1, no threshold.
    pub macro_f1: f64,
    /// Out-of-scope rows rejected (predicted out of scope or below threshold).
    pub oos_recall: Option<f64>,
    /// Rejected rows that really were out of scope.
    pub oos_precision: Option<f64>,
    /// Share of all rows answered automatically with the calibrated thresholds.
    pub coverage_at_target_precision: f64,
    /// Precision of those automatic answers.
    pub answer_precision: f64,
    pub target_precision: f64,
    pub per_intent: BTreeMap<String, IntentFigures>,
    pub test_rows: usize,
    pub in_scope_rows: usize,
    pub oos_rows: usize,
}

/// The class a row gets after thresholds: `Some(class)` when answered, `None` when rejected.
pub fn thresholded(row: &Scored, labels: &[String], oos: Option<usize>, thresholds: &Thresholds) -> Option<usize> {
    let top = row.top();
    let threshold = thresholds.per_intent.get(&labels[top.class]).copied().unwrap_or(thresholds.global);
    (Some(top.class) != oos && top.confidence >= threshold && top.margin >= thresholds.margin).then_some(top.class)
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

pub fn compute(rows: &[Scored], labels: &[String], oos: Option<usize>, thresholds: &Thresholds) -> Figures {
    let in_scope: Vec<&Scored> = rows.iter().filter(|r| r.truth.is_some() && r.truth != oos).collect();
    let is_oos = |r: &Scored| r.truth.is_none() || r.truth == oos;
    let oos_rows = rows.len() - in_scope.len();

    let top1_right = in_scope.iter().filter(|r| Some(r.top().class) == r.truth).count();
    let after: Vec<Option<usize>> = rows.iter().map(|r| thresholded(r, labels, oos, thresholds)).collect();
    let in_scope_right = rows.iter().zip(&after).filter(|(r, a)| !is_oos(r) && **a == r.truth).count();
    let rejected_oos = rows.iter().zip(&after).filter(|(r, a)| is_oos(r) && a.is_none()).count();
    let rejected = after.iter().filter(|a| a.is_none()).count();
    let answered = rows.len() - rejected;
    let answered_right = rows.iter().zip(&after).filter(|(r, a)| a.is_some() && **a == r.truth).count();

    let per_intent = per_intent_figures(rows, labels, oos);
    let scored: Vec<&IntentFigures> = per_intent.values().filter(|f| f.support > 0).collect();
    let macro_f1 = scored.iter().map(|f| f.f1).sum::<f64>() / scored.len().max(1) as f64;

    Figures {
        accuracy: ratio(top1_right, in_scope.len()),
        in_scope_accuracy: ratio(in_scope_right, in_scope.len()),
        macro_f1,
        oos_recall: (oos_rows > 0).then(|| ratio(rejected_oos, oos_rows)),
        oos_precision: (oos_rows > 0).then(|| ratio(rejected_oos, rejected)),
        coverage_at_target_precision: ratio(answered, rows.len()),
        answer_precision: ratio(answered_right, answered),
        target_precision: f64::from(thresholds.target_precision),
        per_intent,
        test_rows: rows.len(),
        in_scope_rows: in_scope.len(),
        oos_rows,
    }
}

/// Per-class precision / recall / F1 of top-1 predictions. Rows whose truth the model does
/// not know (`None`) count against the predicted class's precision. An out-of-scope class
/// is reported under its own label.
fn per_intent_figures(rows: &[Scored], labels: &[String], oos: Option<usize>) -> BTreeMap<String, IntentFigures> {
    let n = labels.len();
    let mut tp = vec![0usize; n];
    let mut predicted = vec![0usize; n];
    let mut support = vec![0usize; n];
    let mut confusion: Vec<BTreeMap<usize, usize>> = vec![BTreeMap::new(); n];
    for r in rows {
        let top = r.top().class;
        predicted[top] += 1;
        let truth = r.truth.or(oos);
        if let Some(t) = truth {
            support[t] += 1;
            if t == top {
                tp[t] += 1;
            } else {
                *confusion[t].entry(top).or_default() += 1;
            }
        }
    }
    (0..n)
        .filter(|&c| support[c] > 0 || predicted[c] > 0)
        .map(|c| {
            let precision = ratio(tp[c], predicted[c]);
            let recall = ratio(tp[c], support[c]);
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            let mut confused: Vec<Confusion> =
                confusion[c].iter().map(|(&k, &count)| Confusion { intent: labels[k].clone(), count }).collect();
            confused.sort_by(|a, b| b.count.cmp(&a.count).then(a.intent.cmp(&b.intent)));
            confused.truncate(3);
            (labels[c].clone(), IntentFigures { precision, recall, f1, support: support[c], confused_with: confused })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(truth: Option<usize>, p: &[f32]) -> Scored {
        Scored { truth, probabilities: p.to_vec() }
    }

    fn thresholds(global: f32) -> Thresholds {
        Thresholds { global, margin: 0.0, per_intent: BTreeMap::new(), target_precision: 0.95 }
    }

    #[test]
    fn figures_match_a_hand_computed_case() {
        let labels: Vec<String> = vec!["a".into(), "b".into(), "oos".into()];
        let rows = vec![
            row(Some(0), &[0.9, 0.1, 0.0]), // a, right, answered
            row(Some(0), &[0.4, 0.3, 0.3]), // a, right top-1 but below 0.5: rejected
            row(Some(1), &[0.8, 0.2, 0.0]), // b mistaken for a, answered wrongly
            row(Some(1), &[0.1, 0.9, 0.0]), // b, right
            row(Some(2), &[0.1, 0.1, 0.8]), // oos, predicted oos: rejected
            row(None, &[0.2, 0.7, 0.1]),    // unknown intent, answered as b: wrong
        ];
        let f = compute(&rows, &labels, Some(2), &thresholds(0.5));
        // In-scope: 4 rows, top-1 right 3.
        assert_eq!(f.accuracy, 0.75);
        // After thresholds: rows 1 and 4 right.
        assert_eq!(f.in_scope_accuracy, 0.5);
        // Out of scope: 2 rows, 1 rejected; rejections: rows 2 and 5, one of them oos.
        assert_eq!(f.oos_recall, Some(0.5));
        assert_eq!(f.oos_precision, Some(0.5));
        // Answered: rows 1, 3, 4, 6 of 6; right: rows 1 and 4.
        assert!((f.coverage_at_target_precision - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(f.answer_precision, 0.5);
        // a: tp 2, predicted 3, support 2 -> p 2/3, r 1, f1 0.8.
        let a = &f.per_intent["a"];
        assert!((a.f1 - 0.8).abs() < 1e-12);
        // b: tp 1, predicted 2, support 2 -> p 0.5, r 0.5, f1 0.5; confused with a once.
        let b = &f.per_intent["b"];
        assert_eq!((b.precision, b.recall, b.f1), (0.5, 0.5, 0.5));
        assert_eq!(b.confused_with, vec![Confusion { intent: "a".into(), count: 1 }]);
        // oos: tp 1, predicted 1, support 2 -> p 1, r 0.5, f1 2/3.
        let macro_f1 = (0.8 + 0.5 + 2.0 / 3.0) / 3.0;
        assert!((f.macro_f1 - macro_f1).abs() < 1e-12);
    }
}
