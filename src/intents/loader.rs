//! Loads and checks the intent files. Every error names the file, the line and the reason.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::intent::{Action, Intent, IntentDefinition, Priority};
use crate::domain::text::normalise;

/// A problem in one intent file.
#[derive(Debug, thiserror::Error)]
pub struct IntentsError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for IntentsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntentFile {
    name: String,
    label: String,
    #[serde(default)]
    description: String,
    action: String,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    small_talk: bool,
    priority: Option<String>,
    threshold: Option<f32>,
    #[serde(default)]
    responses: Vec<String>,
    #[serde(default)]
    examples: Vec<String>,
}

/// Loads every `*.yaml` file of `dir` except those whose name starts with `_`, sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<IntentDefinition>, IntentsError> {
    let entries = std::fs::read_dir(dir).map_err(|e| IntentsError {
        file: dir.to_path_buf(),
        line: None,
        reason: format!("cannot read the intents folder: {e}"),
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('_')))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(IntentsError {
            file: dir.to_path_buf(),
            line: None,
            reason: "no intent files (*.yaml) found".into(),
        });
    }
    let mut intents: Vec<IntentDefinition> = Vec::with_capacity(files.len());
    let mut seen_names: HashMap<String, PathBuf> = HashMap::new();
    let mut seen_examples: HashMap<String, (PathBuf, String)> = HashMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| IntentsError {
            file: file.clone(),
            line: None,
            reason: format!("cannot read: {e}"),
        })?;
        let def = parse_intent(&file, &text)?;
        if let Some(first) = seen_names.insert(def.intent.name.clone(), file.clone()) {
            return Err(IntentsError {
                line: line_of(&text, "name:"),
                reason: format!("duplicate intent `{}`, already defined in {}", def.intent.name, first.display()),
                file,
            });
        }
        for example in &def.examples {
            let key = example_key(example);
            if let Some((other_file, other_intent)) = seen_examples.get(&key) {
                return Err(IntentsError {
                    line: line_of(&text, example),
                    reason: format!(
                        "duplicate example {example:?}: also an example of `{other_intent}` in {}",
                        other_file.display()
                    ),
                    file,
                });
            }
            seen_examples.insert(key, (file.clone(), def.intent.name.clone()));
        }
        intents.push(def);
    }
    Ok(intents)
}

/// Parses and checks one intent file's text.
pub fn parse_intent(file: &Path, text: &str) -> Result<IntentDefinition, IntentsError> {
    let err = |line: Option<usize>, reason: String| IntentsError { file: file.to_path_buf(), line, reason };
    let raw: IntentFile = serde_yaml_ng::from_str(text)
        .map_err(|e| err(e.location().map(|l| l.line()), format!("not a valid intent file: {e}")))?;
    if raw.name.is_empty() || !raw.name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(err(
            line_of(text, "name:"),
            format!("intent name {:?} must be lower-case letters and underscores", raw.name),
        ));
    }
    let action = Action::parse(&raw.action).ok_or_else(|| {
        let known: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        err(line_of(text, "action:"), format!("unknown action `{}`; expected one of {}", raw.action, known.join(", ")))
    })?;
    let priority = match raw.priority.as_deref() {
        None => Priority::Normal,
        Some(p) => Priority::parse(p).ok_or_else(|| {
            err(line_of(text, "priority:"), format!("unknown priority `{p}`; expected low, normal, high or urgent"))
        })?,
    };
    if let Some(t) = raw.threshold
        && !(0.0..=1.0).contains(&t)
    {
        return Err(err(line_of(text, "threshold:"), format!("threshold {t} must be between 0 and 1")));
    }
    if raw.examples.is_empty() {
        return Err(err(line_of(text, "examples:"), "the intent has no examples".into()));
    }
    let mut seen: HashMap<String, &str> = HashMap::new();
    for example in &raw.examples {
        if example.trim().is_empty() {
            return Err(err(line_of(text, example), "an example is empty".into()));
        }
        let key = example_key(example);
        if let Some(first) = seen.insert(key, example) {
            return Err(err(
                nth_line_of(text, example, usize::from(first == example.as_str())),
                format!("duplicate example {example:?} (same words as {first:?})"),
            ));
        }
    }
    if action == Action::Answer && raw.responses.is_empty() {
        return Err(err(line_of(text, "action:"), "an `answer` intent needs at least one response template".into()));
    }
    Ok(IntentDefinition {
        intent: Intent {
            name: raw.name,
            label: raw.label,
            description: raw.description,
            action,
            sensitive: raw.sensitive,
            small_talk: raw.small_talk,
            priority,
            threshold: raw.threshold,
            responses: raw.responses,
        },
        examples: raw.examples,
    })
}

/// What makes two examples the same: their words, or the text itself when it has none (emoji).
pub(super) fn example_key(example: &str) -> String {
    let key = normalise(example);
    if key.is_empty() { example.trim().to_lowercase() } else { key }
}

/// The 1-based line of the first occurrence of `needle`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    nth_line_of(text, needle, 0)
}

/// The 1-based line of the `n`-th (0-based) occurrence of `needle`, or of the first.
fn nth_line_of(text: &str, needle: &str, n: usize) -> Option<usize> {
    let mut hits = text.lines().enumerate().filter(|(_, l)| l.contains(needle));
    let first = hits.next();
    let chosen = if n == 0 { first } else { hits.nth(n - 1).or(first) };
    chosen.map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str =
        "name: greeting\nlabel: Hello\naction: answer\nresponses:\n  - Hi!\nexamples:\n  - hello\n  - hi there\n";

    fn parse(text: &str) -> Result<IntentDefinition, IntentsError> {
        parse_intent(Path::new("intents/x.yaml"), text)
    }

    #[test]
    fn a_good_file_parses() {
        let def = parse(GOOD).unwrap();
        assert_eq!(def.intent.name, "greeting");
        assert_eq!(def.examples.len(), 2);
    }

    #[test]
    fn unknown_action_names_the_line() {
        let e = parse(&GOOD.replace("action: answer", "action: dance")).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.reason.contains("unknown action `dance`"), "{e}");
        assert!(e.to_string().starts_with("intents/x.yaml:3: "), "{e}");
    }

    #[test]
    fn duplicate_example_names_the_second_line() {
        let e = parse(&format!("{GOOD}  - Hello!\n")).unwrap_err();
        assert_eq!(e.line, Some(9));
        assert!(e.reason.contains("duplicate example"), "{e}");
    }

    #[test]
    fn empty_examples_are_refused() {
        let text = "name: greeting\nlabel: Hello\naction: answer\nresponses: [Hi]\nexamples: []\n";
        let e = parse(text).unwrap_err();
        assert_eq!(e.line, Some(5));
        assert!(e.reason.contains("no examples"));
    }

    #[test]
    fn bad_yaml_reports_a_line() {
        let e = parse("name: greeting\nlabel: [unclosed\n").unwrap_err();
        assert!(e.line.is_some(), "{e}");
        assert!(e.reason.contains("not a valid intent file"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = parse(&format!("{GOOD}colour: blue\n")).unwrap_err();
        assert!(e.reason.contains("colour"), "{e}");
    }

    #[test]
    fn duplicate_intent_across_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), GOOD).unwrap();
        std::fs::write(dir.path().join("b.yaml"), GOOD.replace("hi there", "hey")).unwrap();
        let e = load_dir(dir.path()).unwrap_err();
        assert!(e.file.ends_with("b.yaml"));
        assert!(e.reason.contains("duplicate intent `greeting`"), "{e}");
    }

    #[test]
    fn the_same_example_in_two_intents_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), GOOD).unwrap();
        let other = GOOD.replace("greeting", "thanks").replace("hi there", "thank you");
        std::fs::write(dir.path().join("b.yaml"), other).unwrap();
        let e = load_dir(dir.path()).unwrap_err();
        assert_eq!(e.line, Some(7));
        assert!(e.reason.contains("also an example of `greeting`"), "{e}");
    }
}
