//! Labelled texts: from `intents/` or from JSON-lines benchmark files.

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use crate::domain::intent::{BENCHMARK_OUT_OF_SCOPE, IntentDefinition, OUT_OF_SCOPE};
use crate::util::sha256_hex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub text: String,
    /// The intent; out-of-scope rows use [`OUT_OF_SCOPE`].
    pub intent: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("cannot read {file}: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{line}: {reason}")]
    Row { file: String, line: usize, reason: String },
    #[error("{file}: no rows")]
    Empty { file: String },
}

#[derive(Deserialize)]
struct Row {
    text: String,
    intent: String,
}

/// Reads `{"text","intent"}` JSON lines; `oos` becomes [`OUT_OF_SCOPE`]. Extra keys are ignored.
pub fn read_jsonl(path: &Path) -> Result<Vec<Example>, DatasetError> {
    let file = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| DatasetError::Read { file: file.clone(), reason: e.to_string() })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| DatasetError::Row { file: file.clone(), line: i + 1, reason: e.to_string() })?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(&line).map_err(|e| DatasetError::Row {
            file: file.clone(),
            line: i + 1,
            reason: format!("expected {{\"text\": ..., \"intent\": ...}}: {e}"),
        })?;
        if row.text.trim().is_empty() || row.intent.trim().is_empty() {
            return Err(DatasetError::Row { file: file.clone(), line: i + 1, reason: "empty text or intent".into() });
        }
        let intent = if row.intent == BENCHMARK_OUT_OF_SCOPE { OUT_OF_SCOPE.to_string() } else { row.intent };
        out.push(Example { text: row.text, intent });
    }
    if out.is_empty() {
        return Err(DatasetError::Empty { file });
    }
    Ok(out)
}

/// Every example of every intent definition.
pub fn from_intents(defs: &[IntentDefinition]) -> Vec<Example> {
    defs.iter()
        .flat_map(|d| d.examples.iter().map(|t| Example { text: t.clone(), intent: d.intent.name.clone() }))
        .collect()
}

/// Share of examples, in thousandths, that no model version trains on: the regression set
/// the gate judges candidates on.
pub const REGRESSION_PERMILLE: u64 = 150;

/// Whether an example belongs to the regression set. A function of the text alone, so the
/// set stays the same from run to run and an example never changes side.
pub fn in_regression_set(text: &str) -> bool {
    let digest = sha256_hex(crate::domain::text::normalise(text).as_bytes());
    u64::from_str_radix(&digest[..8], 16).unwrap_or(0) % 1000 < REGRESSION_PERMILLE
}

/// What a model learns from and is judged on: `intents/` plus the approved examples.
#[derive(Debug, Clone, Default)]
pub struct TrainingData {
    pub train: Vec<Example>,
    /// The regression set: the same slice of the data for every version.
    pub regression: Vec<Example>,
    /// Approved examples used, and those left out (a text already in the data, or an
    /// intent `intents/` no longer has).
    pub approved_used: usize,
    pub approved_skipped: usize,
}

/// `intents/` plus approved examples (text, intent), without repeats of a text, split into
/// training rows and the regression set.
pub fn training_data(defs: &[IntentDefinition], approved: &[(String, String)]) -> TrainingData {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut data = TrainingData::default();
    let mut add = |e: Example, data: &mut TrainingData| -> bool {
        if !seen.insert(crate::domain::text::normalise(&e.text)) {
            return false;
        }
        if in_regression_set(&e.text) {
            data.regression.push(e)
        } else {
            data.train.push(e)
        }
        true
    };
    for e in from_intents(defs) {
        add(e, &mut data);
    }
    let known: BTreeSet<&str> = defs.iter().map(|d| d.intent.name.as_str()).collect();
    for (text, intent) in approved {
        let used =
            known.contains(intent.as_str()) && add(Example { text: text.clone(), intent: intent.clone() }, &mut data);
        if used { data.approved_used += 1 } else { data.approved_skipped += 1 }
    }
    data
}

/// Sorted distinct labels.
pub fn labels_of(examples: &[Example]) -> Vec<String> {
    examples.iter().map(|e| e.intent.clone()).collect::<BTreeSet<_>>().into_iter().collect()
}

/// SHA-256 over the sorted (intent, text) pairs: the same data in any order hashes the same.
pub fn data_hash(examples: &[Example]) -> String {
    let mut rows: Vec<String> = examples.iter().map(|e| format!("{}\t{}", e.intent, e.text)).collect();
    rows.sort();
    sha256_hex(rows.join("\n").as_bytes())
}

/// Assigns each example to one of `k` folds, stratified by intent and deterministic. Copies
/// of one text share a fold, so a held-out row never meets its twin among the training rows
/// (benchmark files hold a few duplicates).
pub fn stratified_folds(examples: &[Example], k: usize) -> Vec<usize> {
    let mut next_by_label: HashMap<&str, usize> = HashMap::new();
    let mut fold_of_text: HashMap<String, usize> = HashMap::new();
    let mut order: Vec<usize> = (0..examples.len()).collect();
    // A fixed shuffle so folds do not follow file order.
    order.sort_by_key(|&i| crate::util::sha256_hex(examples[i].text.as_bytes()));
    let mut folds = vec![0; examples.len()];
    for i in order {
        let text = examples[i].text.trim().to_lowercase();
        folds[i] = *fold_of_text.entry(text).or_insert_with(|| {
            let next = next_by_label.entry(examples[i].intent.as_str()).or_insert(0);
            *next += 1;
            (*next - 1) % k
        });
    }
    folds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, intent: &str) -> Example {
        Example { text: text.into(), intent: intent.into() }
    }

    #[test]
    fn oos_rows_become_out_of_scope_and_extra_keys_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        std::fs::write(
            &p,
            "{\"text\":\"hi\",\"intent\":\"greet\"}\n\n{\"text\":\"x\",\"intent\":\"oos\",\"oos_type\":\"a\"}\n",
        )
        .unwrap();
        let rows = read_jsonl(&p).unwrap();
        assert_eq!(rows, vec![ex("hi", "greet"), ex("x", OUT_OF_SCOPE)]);
    }

    #[test]
    fn a_bad_row_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        std::fs::write(&p, "{\"text\":\"hi\",\"intent\":\"greet\"}\n{\"text\":1}\n").unwrap();
        let e = read_jsonl(&p).unwrap_err().to_string();
        assert!(e.contains("t.jsonl:2:"), "{e}");
    }

    #[test]
    fn data_hash_ignores_order() {
        let a = vec![ex("a", "x"), ex("b", "y")];
        let b = vec![ex("b", "y"), ex("a", "x")];
        assert_eq!(data_hash(&a), data_hash(&b));
        assert_ne!(data_hash(&a), data_hash(&[ex("a", "y"), ex("b", "x")]));
    }

    #[test]
    fn copies_of_a_text_share_a_fold() {
        let mut data: Vec<Example> = (0..20).map(|i| ex(&format!("t{i}"), "a")).collect();
        data.extend([ex("where is my order", "a"), ex("Where is my order ", "a"), ex("where is my order", "b")]);
        let folds = stratified_folds(&data, 5);
        assert_eq!(folds[20], folds[21]);
        assert_eq!(folds[20], folds[22]);
    }

    #[test]
    fn the_regression_set_is_a_stable_slice_of_about_the_promised_share() {
        let texts: Vec<String> = (0..4000).map(|i| format!("message number {i}")).collect();
        let share = texts.iter().filter(|t| in_regression_set(t)).count() as f64 / texts.len() as f64;
        assert!((share - REGRESSION_PERMILLE as f64 / 1000.0).abs() < 0.02, "{share}");
        // Spacing, case and punctuation do not move a text to the other side.
        for t in texts.iter().take(200) {
            assert_eq!(in_regression_set(t), in_regression_set(&format!("  {}!", t.to_uppercase())));
        }
    }

    #[test]
    fn approved_examples_join_intents_once_and_unknown_intents_are_left_out() {
        use crate::domain::intent::{Action, Intent};
        let def = IntentDefinition {
            intent: Intent::bare("order_status", Action::OrderStatus, false),
            examples: vec!["where is my order".into()],
        };
        let approved = vec![
            ("Where is my order?".to_string(), "order_status".to_string()),
            ("wheres my parcel mate".to_string(), "order_status".to_string()),
            ("book a flight".to_string(), "travel".to_string()),
        ];
        let data = training_data(&[def], &approved);
        assert_eq!((data.approved_used, data.approved_skipped), (1, 2));
        assert_eq!(data.train.len() + data.regression.len(), 2);
    }

    #[test]
    fn folds_are_stratified() {
        let data: Vec<Example> = (0..10).map(|i| ex(&format!("t{i}"), if i < 6 { "a" } else { "b" })).collect();
        let folds = stratified_folds(&data, 2);
        let a_in_0 = (0..6).filter(|&i| folds[i] == 0).count();
        let b_in_0 = (6..10).filter(|&i| folds[i] == 0).count();
        assert_eq!((a_in_0, b_in_0), (3, 2));
    }
}
