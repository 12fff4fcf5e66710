//! Reading `intents/`: one YAML file per intent, plus the sensitive-phrase rules.

pub mod export;
mod loader;
mod rules;

pub use loader::{IntentsError, load_dir, parse_intent};
pub use rules::{RULES_FILE, SensitiveRules, load_rules};
