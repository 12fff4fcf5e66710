//! Writing reviewed examples into `intents/` for stores that keep it in git: each goes at the
//! end of its intent's `examples:` list, marked `# from review`; a text some intent already has
//! is skipped. The files are checked by loading them again; if that fails, they are restored.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::loader::{example_key, parse_intent};
use super::{IntentsError, load_dir};

/// The mark on every exported line.
pub const REVIEW_MARK: &str = "# from review";

/// An approved example to write.
#[derive(Debug, Clone)]
pub struct Reviewed {
    pub id: String,
    pub text: String,
    pub intent: String,
}

/// What happened to each example.
#[derive(Debug, Default)]
pub struct Exported {
    /// Written into an intent file.
    pub written: Vec<String>,
    /// Already there (some intent has the same words): nothing to write.
    pub already_there: Vec<String>,
    /// Its intent has no file in the folder.
    pub no_intent: Vec<String>,
}

pub fn append_reviewed(dir: &Path, examples: &[Reviewed]) -> Result<Exported, IntentsError> {
    let defs = load_dir(dir)?;
    let mut known: HashSet<String> = defs.iter().flat_map(|d| d.examples.iter().map(|e| example_key(e))).collect();
    let files = intent_files(dir)?;
    let mut outcome = Exported::default();
    let mut additions: BTreeMap<&PathBuf, Vec<&Reviewed>> = BTreeMap::new();
    for e in examples {
        match files.get(&e.intent) {
            None => outcome.no_intent.push(e.id.clone()),
            Some(_) if !known.insert(example_key(&e.text)) => outcome.already_there.push(e.id.clone()),
            Some(file) => {
                additions.entry(file).or_default().push(e);
                outcome.written.push(e.id.clone());
            }
        }
    }
    let mut originals = Vec::new();
    for (file, new) in &additions {
        let text = read(file)?;
        let lines: Vec<String> = new
            .iter()
            .map(|e| format!("  - {}  {REVIEW_MARK}", serde_json::to_string(&e.text).unwrap_or_default()))
            .collect();
        let updated = insert_examples(&text, &lines).ok_or_else(|| IntentsError {
            file: (*file).clone(),
            line: None,
            reason: "no `examples:` list".into(),
        })?;
        write(file, &updated)?;
        originals.push(((*file).clone(), text));
    }
    if let Err(e) = load_dir(dir) {
        for (file, text) in &originals {
            write(file, text)?;
        }
        return Err(e);
    }
    Ok(outcome)
}

/// Intent name -> its file.
fn intent_files(dir: &Path) -> Result<BTreeMap<String, PathBuf>, IntentsError> {
    let mut files = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| IntentsError {
        file: dir.to_path_buf(),
        line: None,
        reason: e.to_string(),
    })?;
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let is_intent = path.extension().is_some_and(|x| x == "yaml" || x == "yml")
            && !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('_'));
        if is_intent {
            let def = parse_intent(&path, &read(&path)?)?;
            files.insert(def.intent.name, path);
        }
    }
    Ok(files)
}

/// `text` with `lines` after the last item of its top-level `examples:` list.
fn insert_examples(text: &str, lines: &[String]) -> Option<String> {
    let all: Vec<&str> = text.lines().collect();
    let start = all.iter().position(|l| l.trim_end() == "examples:")?;
    let mut last_item = start;
    for (i, line) in all.iter().enumerate().skip(start + 1) {
        let trimmed = line.trim_start();
        if trimmed.starts_with("- ") && line.starts_with(' ') {
            last_item = i;
        } else if !trimmed.is_empty() && !trimmed.starts_with('#') {
            break;
        }
    }
    let mut out: Vec<String> = all[..=last_item].iter().map(|l| l.to_string()).collect();
    out.extend(lines.iter().cloned());
    out.extend(all[last_item + 1..].iter().map(|l| l.to_string()));
    Some(out.join("\n") + "\n")
}

fn read(path: &Path) -> Result<String, IntentsError> {
    std::fs::read_to_string(path).map_err(|e| IntentsError {
        file: path.to_path_buf(),
        line: None,
        reason: e.to_string(),
    })
}

fn write(path: &Path, text: &str) -> Result<(), IntentsError> {
    let tmp = path.with_extension("yaml.tmp");
    std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path)).map_err(|e| IntentsError {
        file: path.to_path_buf(),
        line: None,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("intents");
        for entry in std::fs::read_dir(&repo).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
        dir
    }

    fn reviewed(id: &str, text: &str, intent: &str) -> Reviewed {
        Reviewed { id: id.into(), text: text.into(), intent: intent.into() }
    }

    #[test]
    fn reviewed_examples_join_their_intent_marked_and_without_repeats() {
        let dir = folder();
        let before = load_dir(dir.path()).unwrap();
        let examples = [
            reviewed("a", "yo where my package at \"fam\"", "order_status"),
            reviewed("b", "Where is my order?", "order_status"),
            reviewed("c", "yo where my package at \"fam\"", "order_status"),
            reviewed("d", "book me a taxi", "taxi"),
        ];
        let out = append_reviewed(dir.path(), &examples).unwrap();
        assert_eq!(
            (out.written, out.already_there, out.no_intent),
            (vec!["a".into()], vec!["b".into(), "c".into()], vec!["d".into()])
        );
        let after = load_dir(dir.path()).unwrap();
        let order_status = |defs: &[crate::domain::intent::IntentDefinition]| {
            defs.iter().find(|d| d.intent.name == "order_status").unwrap().examples.clone()
        };
        let (was, now) = (order_status(&before), order_status(&after));
        assert_eq!(now.len(), was.len() + 1);
        assert_eq!(now.last().unwrap(), "yo where my package at \"fam\"");
        let text = std::fs::read_to_string(dir.path().join("order_status.yaml")).unwrap();
        assert!(text.contains(&format!("  - \"yo where my package at \\\"fam\\\"\"  {REVIEW_MARK}")), "{text}");
    }
}
