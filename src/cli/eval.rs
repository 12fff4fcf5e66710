//! `switchboard eval`: benchmark files, k-fold over intents/, or the shipped model.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::classifier::{ClassifierOptions, Encoder, OnnxClassifier};
use crate::config::ModelPaths;
use crate::domain::intent::IntentCatalog;
use crate::training::dataset::{from_intents, read_jsonl};
use crate::training::evaluate::{Evaluation, Policy, benchmark, cross_validation, shipped};
use crate::training::progress::Progress;
use crate::training::report::write_report;
use crate::training::train::TrainOptions;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// JSON-lines training file ({"text","intent"}, `oos` for out of scope).
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// JSON-lines test file. Without --train, the shipped model is measured on it.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// JSON-lines validation file: thresholds are calibrated on it, then the tested head learns from
    /// --train and --val together (default: thresholds by cross-validation of --train).
    #[arg(long)]
    pub val: Option<PathBuf>,
    /// k-fold cross-validation over the intents folder.
    #[arg(long = "intents", conflicts_with_all = ["train", "test", "val"])]
    pub kfold_intents: bool,
    /// Folds for cross-validation.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Precision automatic answers must reach.
    #[arg(long, default_value_t = TrainOptions::default().calibration.target_precision)]
    pub target_precision: f32,
    /// Share of out-of-scope messages the thresholds must turn away, judged by the Wilson
    /// lower bound of the held-out share (see --oos-recall-z).
    #[arg(long, default_value_t = TrainOptions::default().calibration.min_oos_recall)]
    pub min_oos_recall: f32,
    /// Normal quantile of that bound (1.96: 95 %; 0: the held-out share itself).
    #[arg(long, default_value_t = TrainOptions::default().calibration.oos_recall_z)]
    pub oos_recall_z: f32,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write an HTML report (confusion matrix, confidence histogram, coverage curve) here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write one JSON line per test row: text, intent, predicted, confidence, decision.
    #[arg(long)]
    pub predictions: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Head training epochs.
    #[arg(long, default_value_t = TrainOptions::default().head.epochs)]
    pub epochs: usize,
    /// Head learning rate.
    #[arg(long, default_value_t = TrainOptions::default().head.learning_rate)]
    pub learning_rate: f32,
    /// L2 penalty on the head's weights.
    #[arg(long, default_value_t = TrainOptions::default().head.l2_dense)]
    pub l2: f32,
    /// Weight of out-of-scope examples in the head's loss.
    #[arg(long, default_value_t = TrainOptions::default().head.oos_weight)]
    pub oos_weight: f32,
    /// Weight of the character n-gram features relative to the word features.
    #[arg(long, default_value_t = TrainOptions::default().lexical.char_weight)]
    pub char_weight: f32,
    /// Weight of the nearest-example vote mixed into the head's probabilities (0 = off).
    #[arg(long, default_value_t = TrainOptions::default().neighbours.mix)]
    pub neighbour_mix: f32,
    /// Power of familiarity (nearest in-scope similarity) that scales confidences (0 = off).
    #[arg(long, default_value_t = TrainOptions::default().neighbours.familiarity_power)]
    pub familiarity_power: f32,
    /// How much the Mahalanobis distance to the in-scope intents lowers confidence (0 = off).
    #[arg(long, default_value_t = TrainOptions::default().neighbours.distance_weight)]
    pub distance_weight: f32,
    /// Shrinkage of the distance's covariance towards the identity (0..1).
    #[arg(long, default_value_t = TrainOptions::default().neighbours.distance_shrinkage)]
    pub distance_shrinkage: f32,
}

pub fn run(paths: &ModelPaths, args: EvalArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.kfold_intents || args.test.is_some(),
        "say what to measure: --train FILE --test FILE [--val FILE], --test FILE (the shipped model), or --intents"
    );
    anyhow::ensure!(args.val.is_none() || args.train.is_some(), "--val needs --train");
    anyhow::ensure!(args.oos_weight > 0.0, "--oos-weight must be above 0, got {}", args.oos_weight);
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.min_oos_recall),
        "--min-oos-recall must be between 0 and 1, got {}",
        args.min_oos_recall
    );
    anyhow::ensure!(args.oos_recall_z >= 0.0, "--oos-recall-z must be 0 or more, got {}", args.oos_recall_z);
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.neighbour_mix),
        "--neighbour-mix must be between 0 and 1, got {}",
        args.neighbour_mix
    );
    anyhow::ensure!(
        args.familiarity_power >= 0.0,
        "--familiarity-power must be 0 or more, got {}",
        args.familiarity_power
    );
    anyhow::ensure!(args.distance_weight >= 0.0, "--distance-weight must be 0 or more, got {}", args.distance_weight);
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.distance_shrinkage),
        "--distance-shrinkage must be between 0 and 1, got {}",
        args.distance_shrinkage
    );
    let defaults = TrainOptions::default().neighbours;
    anyhow::ensure!(
        args.train.is_some()
            || args.kfold_intents
            || (args.neighbour_mix == defaults.mix
                && args.familiarity_power == defaults.familiarity_power
                && args.distance_weight == defaults.distance_weight
                && args.distance_shrinkage == defaults.distance_shrinkage),
        "--neighbour-mix, --familiarity-power and --distance-* shape a head being trained; the shipped model uses the values in its head.json"
    );
    let mut options = TrainOptions { folds: args.folds, ..TrainOptions::default() };
    let progress = Progress { quiet: args.quiet, observer: None };
    options.calibration.target_precision = args.target_precision;
    options.calibration.min_oos_recall = args.min_oos_recall;
    options.calibration.oos_recall_z = args.oos_recall_z;
    options.head.epochs = args.epochs;
    options.head.learning_rate = args.learning_rate;
    options.head.l2_dense = args.l2;
    options.head.l2_lexical = args.l2;
    options.head.oos_weight = args.oos_weight;
    options.lexical.char_weight = args.char_weight;
    options.neighbours.mix = args.neighbour_mix;
    options.neighbours.familiarity_power = args.familiarity_power;
    options.neighbours.distance_weight = args.distance_weight;
    options.neighbours.distance_shrinkage = args.distance_shrinkage;
    let classifier_options = ClassifierOptions { sessions: options.workers, intra_threads: 1, ..Default::default() };
    let (title, eval) = if args.kfold_intents {
        let defs = crate::intents::load_dir(&paths.intents)?;
        let rules = crate::intents::load_rules(&paths.intents)?;
        let catalog = IntentCatalog::new(defs.iter().map(|d| d.intent.clone()).collect());
        let encoder = Encoder::load(&paths.models, classifier_options)?;
        let policy = Policy { catalog: &catalog, rules: &rules };
        let title = format!("{}-fold cross-validation over {}", args.folds, paths.intents.display());
        (title, cross_validation(&encoder, &from_intents(&defs), &options, &policy, &progress)?)
    } else if let Some(train) = &args.train {
        let test = args.test.as_ref().context("--train needs --test")?;
        let train_rows = read_jsonl(train)?;
        let val_rows = args.val.as_deref().map(read_jsonl).transpose()?;
        let test_rows = read_jsonl(test)?;
        let encoder = Encoder::load(&paths.models, classifier_options)?;
        let title = format!("{} → {}", train.display(), test.display());
        (title, benchmark(&encoder, &train_rows, val_rows.as_deref(), &test_rows, &options, &progress)?)
    } else {
        let test = args.test.as_ref().context("--test is required")?;
        let test_rows = read_jsonl(test)?;
        let defs = crate::intents::load_dir(&paths.intents)?;
        let rules = crate::intents::load_rules(&paths.intents)?;
        let catalog = IntentCatalog::new(defs.into_iter().map(|d| d.intent).collect());
        let classifier = OnnxClassifier::load(&paths.models, classifier_options)?;
        let policy = Policy { catalog: &catalog, rules: &rules };
        let title = format!("shipped model on {}", test.display());
        (title, shipped(&classifier, &test_rows, &policy, &options, &progress)?)
    };
    if let Some(path) = &args.predictions {
        write_predictions(path, &eval).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &args.report {
        let path =
            write_report(dir, &title, &eval).with_context(|| format!("writing the report into {}", dir.display()))?;
        eprintln!("report: {}", path.display());
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&eval)?);
    } else {
        print_summary(&title, &eval);
    }
    Ok(())
}

fn write_predictions(path: &std::path::Path, eval: &Evaluation) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for row in &eval.rows {
        serde_json::to_writer(&mut out, row)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn print_summary(title: &str, eval: &Evaluation) {
    let f = &eval.figures;
    let pct = |v: f64| format!("{:.2} %", v * 100.0);
    println!("{title}");
    println!("  test rows            {} ({} in scope, {} out of scope)", f.test_rows, f.in_scope_rows, f.oos_rows);
    println!("  accuracy (top-1)     {}", pct(f.accuracy));
    println!("  in-scope accuracy    {}  (after thresholds; a rejection counts as wrong)", pct(f.in_scope_accuracy));
    println!("  macro-F1             {:.4}", f.macro_f1);
    if let (Some(r), Some(p)) = (f.oos_recall, f.oos_precision) {
        println!("  out-of-scope recall  {}   precision {}", pct(r), pct(p));
    }
    println!(
        "  answered             {} of rows at {} precision (target {})",
        pct(f.coverage_at_target_precision),
        pct(f.answer_precision),
        pct(f.target_precision)
    );
    let a = &eval.automation;
    if let Some(share) = a.false_automation {
        println!(
            "  false automation     {}  (out-of-scope rows the bot answered automatically as an intent)",
            pct(share)
        );
    }
    if let Some(precision) = a.automated_precision {
        println!(
            "  automatic answers    {} of rows, {} right  (after triage: sensitive and hand-off intents go to people)",
            a.automated_rows,
            pct(precision)
        );
    }
    let t = &eval.thresholds;
    println!(
        "  thresholds           global {:.2}, margin {:.2}, {} per intent",
        t.global,
        t.margin,
        t.per_intent.len()
    );
    println!("  embedding            {:.0} sentences/s", eval.embed_per_sec);
    println!("  training             {:.1} s   (whole run {:.1} s)", eval.train_seconds, eval.total_seconds);
    let mut weakest: Vec<_> = f.per_intent.iter().filter(|(_, i)| i.support > 0).collect();
    weakest.sort_by(|a, b| a.1.f1.total_cmp(&b.1.f1));
    println!("  weakest intents:");
    for (name, i) in weakest.iter().take(5) {
        let confused: Vec<String> = i.confused_with.iter().map(|c| format!("{} ×{}", c.intent, c.count)).collect();
        println!(
            "    {name:<28} F1 {:.3}  confused with {}",
            i.f1,
            if confused.is_empty() { "-".into() } else { confused.join(", ") }
        );
    }
}
