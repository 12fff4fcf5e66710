//! `switchboard train`: fit the head on intents/ and write head.onnx, neighbours.bin and head.json.

use anyhow::Context;
use clap::Args;

use crate::classifier::{ClassifierOptions, Encoder};
use crate::config::ModelPaths;
use crate::training::dataset::from_intents;
use crate::training::train::{TrainOptions, metadata_for, train, write_head};

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Precision that automatic answers must reach (per-intent thresholds are chosen for it).
    #[arg(long, default_value_t = 0.95)]
    pub target_precision: f32,
    /// Share of held-out out-of-scope examples the thresholds must turn away.
    #[arg(long, default_value_t = TrainOptions::default().calibration.min_oos_recall)]
    pub min_oos_recall: f32,
    /// Folds of cross-validation for calibration.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(paths: &ModelPaths, args: TrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.5..=1.0).contains(&args.target_precision),
        "--target-precision must be between 0.5 and 1, got {}",
        args.target_precision
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.min_oos_recall),
        "--min-oos-recall must be between 0 and 1, got {}",
        args.min_oos_recall
    );
    let defs = crate::intents::load_dir(&paths.intents)?;
    let examples = from_intents(&defs);
    let mut options = TrainOptions { folds: args.folds, quiet: args.quiet, ..TrainOptions::default() };
    options.calibration.target_precision = args.target_precision;
    options.calibration.min_oos_recall = args.min_oos_recall;
    let encoder = Encoder::load(&paths.models, ClassifierOptions { sessions: options.workers, intra_threads: 1 })?;
    eprintln!("training on {} examples of {} intents", examples.len(), defs.len());
    let trained = train(&encoder, &examples, &options)?;
    let metadata = metadata_for(&trained, &examples, &encoder, options.lexical, options.neighbours);
    write_head(&paths.models, &trained, &metadata)
        .with_context(|| format!("writing the head into {}", paths.models.display()))?;
    let f = &trained.figures;
    println!("model {} written to {}", metadata.version, paths.models.display());
    println!(
        "cross-validated ({} folds): accuracy {:.3}, macro-F1 {:.3}, answered automatically {:.1} % at {:.1} % precision",
        options.folds,
        f.accuracy,
        f.macro_f1,
        f.coverage_at_target_precision * 100.0,
        f.answer_precision * 100.0
    );
    let t = &metadata.thresholds;
    println!("thresholds: global {:.2}, margin {:.2}, {} per intent", t.global, t.margin, t.per_intent.len());
    println!("embedding {:.0} sentences/s, fitting {:.1} s", trained.embed_per_sec, trained.train_seconds);
    Ok(())
}
