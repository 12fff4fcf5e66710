//! `switchboard train`: retrain on `intents/` plus the approved examples into a candidate in the
//! database, judged by the gate against the live model and never replacing it (promote it with
//! `switchboard models promote`). With `--export DIR`: a head trained on `intents/` alone,
//! written into DIR, which is how the shipped `models/` is made.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use crate::classifier::{ClassifierOptions, Encoder};
use crate::config::{FileSettings, ModelPaths};
use crate::domain::audit::Actor;
use crate::domain::model::JobState;
use crate::learning::{ModelService, RetrainSettings, Retrainer};
use crate::store::Store;
use crate::training::dataset::training_data;
use crate::training::progress::Progress;
use crate::training::train::{TrainOptions, metadata_for, train, write_head};

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Database URL: where the approved examples are and the candidate goes.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://data/switchboard.db")]
    pub database: String,
    /// Settings file (TOML); its `[gate]` table sets the gate's tolerances.
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Instead: train on intents/ alone and write head.onnx, neighbours.bin and head.json into DIR.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Precision that automatic answers must reach (per-intent thresholds are chosen for it).
    #[arg(long, default_value_t = TrainOptions::default().calibration.target_precision)]
    pub target_precision: f32,
    /// Share of out-of-scope messages the thresholds must turn away, judged by the Wilson lower
    /// 95 % bound of the held-out share.
    #[arg(long, default_value_t = TrainOptions::default().calibration.min_oos_recall)]
    pub min_oos_recall: f32,
    /// Folds of cross-validation for calibration.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of the head's training (to check that retraining on the same data passes the gate).
    #[arg(long, default_value_t = TrainOptions::default().head.seed)]
    pub seed: u64,
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
    let mut options = TrainOptions { folds: args.folds, ..TrainOptions::default() };
    options.calibration.target_precision = args.target_precision;
    options.calibration.min_oos_recall = args.min_oos_recall;
    options.head.seed = args.seed;
    match &args.export {
        Some(dir) => export(paths, dir, &options, args.quiet),
        None => {
            let gate = FileSettings::read_or_default(args.config.as_deref())?.gate;
            candidate(paths, &args.database, RetrainSettings { options, gate }, args.quiet)
        }
    }
}

fn export(paths: &ModelPaths, dir: &std::path::Path, options: &TrainOptions, quiet: bool) -> anyhow::Result<()> {
    let defs = crate::intents::load_dir(&paths.intents)?;
    let data = training_data(&defs, &[]);
    let encoder = Encoder::load(
        &paths.models,
        ClassifierOptions { sessions: options.workers, intra_threads: 1, ..Default::default() },
    )?;
    eprintln!(
        "training on {} examples of {} intents ({} kept aside as the regression set)",
        data.train.len(),
        defs.len(),
        data.regression.len()
    );
    let trained = train(&encoder, &data.train, options, &Progress { quiet, observer: None })?;
    let metadata = metadata_for(&trained, &data.train, &encoder, options.lexical, options.neighbours);
    write_head(dir, &trained, &metadata).with_context(|| format!("writing the head into {}", dir.display()))?;
    let f = &trained.figures;
    println!("model {} written to {}", metadata.version, dir.display());
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

fn candidate(paths: &ModelPaths, database: &str, settings: RetrainSettings, quiet: bool) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let store = Store::connect(database)
            .await
            .with_context(|| format!("opening the database {}", crate::startup::redact(database)))?;
        let encoder = Arc::new(Encoder::load(&paths.models, ClassifierOptions::default())?);
        let models = Arc::new(ModelService::start(store.clone(), encoder, &paths.models).await?);
        let retrainer = Arc::new(Retrainer::new(store, models, paths.models.clone(), paths.intents.clone(), settings));
        retrainer.fail_abandoned().await?;
        let started = std::time::Instant::now();
        let (job, model) = retrainer.run_here(Actor::Cli, quiet).await?;
        for note in &job.notes {
            println!("note: {note}");
        }
        if job.state != JobState::Succeeded {
            anyhow::bail!("retraining failed: {}", job.error.unwrap_or_default());
        }
        let model = model.context("the job succeeded but its model is missing")?;
        let m = &model.metrics;
        println!(
            "candidate {} (#{}) trained on {} examples in {:.0} s",
            model.version,
            model.number,
            model.examples,
            started.elapsed().as_secs_f64()
        );
        println!(
            "on the regression set: macro-F1 {:.3}, out-of-scope recall {:.1} %, {:.1} % answered at {:.1} % precision",
            m.macro_f1,
            m.oos_recall * 100.0,
            m.coverage * 100.0,
            m.answer_precision * 100.0
        );
        match model.gate {
            Some(g) if g.passed => {
                println!("gate: passed. Promote it with `switchboard models promote {}`", model.version)
            }
            Some(g) => {
                println!("gate: FAILED, kept as rejected:");
                for reason in g.reasons {
                    println!("  - {reason}");
                }
            }
            None => {}
        }
        Ok(())
    })
}
