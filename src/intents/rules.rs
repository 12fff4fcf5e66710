//! Sensitive-phrase rules: phrases that hand a conversation to a person whatever the model says.

use std::path::Path;

use serde::Deserialize;

use super::IntentsError;
use crate::domain::intent::{IntentCatalog, Priority};
use crate::domain::text::normalise;
use crate::domain::triage::{Decision, History, Ranking, Thresholds, decide};

/// The rules file inside the intents folder.
pub const RULES_FILE: &str = "_sensitive_phrases.yaml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    category: String,
    #[serde(default)]
    priority: Option<String>,
    phrases: Vec<String>,
}

#[derive(Debug, Clone)]
struct Rule {
    category: String,
    priority: Priority,
    /// Normalised phrases, each padded with spaces so a match is on whole words.
    phrases: Vec<String>,
}

/// A matched rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveMatch<'a> {
    pub category: &'a str,
    pub priority: Priority,
}

#[derive(Debug, Clone, Default)]
pub struct SensitiveRules {
    rules: Vec<Rule>,
}

impl SensitiveRules {
    /// The first rule any of whose phrases appears in `text` as whole words.
    pub fn find(&self, text: &str) -> Option<SensitiveMatch<'_>> {
        let padded = format!(" {} ", normalise(text));
        self.rules
            .iter()
            .find(|r| r.phrases.iter().any(|p| padded.contains(p.as_str())))
            .map(|r| SensitiveMatch { category: &r.category, priority: r.priority })
    }

    /// What triage does with `text` as the first message of a conversation, with the
    /// sensitive phrase it found: what `classify`, `/api/v1/classify` and `eval --predictions`
    /// report.
    pub fn first_message(
        &self,
        text: &str,
        ranking: &Ranking,
        thresholds: &Thresholds,
        catalog: &IntentCatalog,
    ) -> (Decision, Option<SensitiveMatch<'_>>) {
        let phrase = self.find(text);
        let decision = decide(ranking, phrase.as_ref().map(|m| m.category), thresholds, catalog, History::default());
        (decision, phrase)
    }

    pub fn len(&self) -> usize {
        self.rules.iter().map(|r| r.phrases.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn parse(file: &Path, text: &str) -> Result<Self, IntentsError> {
        let err = |line: Option<usize>, reason: String| IntentsError { file: file.to_path_buf(), line, reason };
        let raw: RulesFile = serde_yaml_ng::from_str(text)
            .map_err(|e| err(e.location().map(|l| l.line()), format!("not a valid rules file: {e}")))?;
        let mut rules = Vec::with_capacity(raw.rules.len());
        for rule in raw.rules {
            let priority = match rule.priority.as_deref() {
                None => Priority::High,
                Some(p) => Priority::parse(p)
                    .ok_or_else(|| err(None, format!("unknown priority `{p}` in {}", rule.category)))?,
            };
            let mut phrases = Vec::with_capacity(rule.phrases.len());
            for phrase in &rule.phrases {
                let norm = normalise(phrase);
                if norm.is_empty() {
                    return Err(err(None, format!("empty phrase in {}", rule.category)));
                }
                phrases.push(format!(" {norm} "));
            }
            rules.push(Rule { category: rule.category, priority, phrases });
        }
        Ok(Self { rules })
    }
}

/// Loads `intents/_sensitive_phrases.yaml`.
pub fn load_rules(intents_dir: &Path) -> Result<SensitiveRules, IntentsError> {
    let file = intents_dir.join(RULES_FILE);
    let text = std::fs::read_to_string(&file).map_err(|e| IntentsError {
        file: file.clone(),
        line: None,
        reason: format!("cannot read the sensitive-phrase rules: {e}"),
    })?;
    SensitiveRules::parse(&file, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> SensitiveRules {
        let text = "rules:\n  - category: legal_threat\n    phrases: [\"sue you\", \"lawyer\"]\n  - category: chargeback\n    priority: urgent\n    phrases: [\"chargeback\"]\n";
        SensitiveRules::parse(Path::new("r.yaml"), text).unwrap()
    }

    #[test]
    fn phrase_matches_whole_words_ignoring_case_and_punctuation() {
        let r = rules();
        assert_eq!(r.find("I will SUE   you!").unwrap().category, "legal_threat");
        assert_eq!(r.find("filing a chargeback.").unwrap().priority, Priority::Urgent);
        assert!(r.find("my lawyers").is_none());
        assert!(r.find("issue your invoice").is_none());
    }
}
