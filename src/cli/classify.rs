//! `switchboard classify "TEXT"`: ranked intents and the triage decision for a fresh conversation.

use clap::Args;
use serde_json::json;

use crate::classifier::{ClassifierOptions, OnnxClassifier};
use crate::config::ModelPaths;
use crate::domain::intent::IntentCatalog;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// The message to classify.
    pub text: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// How many ranked intents to show.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
}

pub fn run(paths: &ModelPaths, args: ClassifyArgs) -> anyhow::Result<()> {
    crate::domain::text::validate_message(&args.text)?;
    let defs = crate::intents::load_dir(&paths.intents)?;
    let rules = crate::intents::load_rules(&paths.intents)?;
    let catalog = IntentCatalog::new(defs.into_iter().map(|d| d.intent).collect());
    let classifier = OnnxClassifier::load(&paths.models, ClassifierOptions::default())?;
    let ranking = classifier.rank(&args.text)?;
    let thresholds = &classifier.metadata().thresholds;
    let (decision, phrase) = rules.first_message(&args.text, &ranking, thresholds, &catalog);
    if args.json {
        let out = json!({
            "intents": ranking.top_n(args.top),
            "decision": decision.kind(),
            "reason": decision.reason(),
            "detail": decision,
            "sensitive_phrase": phrase.as_ref().map(|m| m.category),
            "model_version": classifier.metadata().version,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for s in ranking.top_n(args.top) {
        let threshold = thresholds.for_intent(&s.intent, &catalog);
        let bar = "█".repeat((s.confidence * 30.0).round() as usize);
        println!("{:<26} {:>6.1} %  {bar:<30} (threshold {:.2})", s.intent, s.confidence * 100.0, threshold);
    }
    if let Some(m) = &phrase {
        println!("sensitive phrase: {}", m.category);
    }
    println!("decision: {} ({})", decision.kind(), decision.reason());
    Ok(())
}
