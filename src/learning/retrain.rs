//! Retraining as a job: one at a time per database, its progress readable from any instance,
//! run on a thread of its own in the server or in the foreground by `switchboard train`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle;

use super::pipeline::{RetrainSettings, retrain};
use super::{LearningError, ModelService};
use crate::classifier::{ClassifierOptions, Encoder};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::model::{Job, JobStage, ModelSummary};
use crate::store::{Store, now_ms};
use crate::training::progress::Progress;

/// The kind of the retraining job (one active per database).
pub const RETRAIN_JOB: &str = "retrain";
/// A job whose instance has been silent this long is taken for dead.
const ABANDONED_AFTER_MS: i64 = 60_000;
/// How often a running job's progress is written (also its sign of life).
const REPORT_EVERY: Duration = Duration::from_millis(500);

/// How much of a retrain each stage takes, roughly, so one progress figure moves evenly.
fn overall(stage: JobStage, within: f64) -> f64 {
    const STAGES: [(JobStage, f64); 6] = [
        (JobStage::Loading, 0.02),
        (JobStage::Embedding, 0.30),
        (JobStage::Validating, 0.45),
        (JobStage::Fitting, 0.12),
        (JobStage::Gating, 0.08),
        (JobStage::Saving, 0.03),
    ];
    let mut done = 0.0;
    for (s, share) in STAGES {
        if s == stage {
            return (done + share * within.clamp(0.0, 1.0)).min(1.0);
        }
        done += share;
    }
    if stage == JobStage::Done { 1.0 } else { 0.0 }
}

pub struct Retrainer {
    store: Store,
    models: Arc<ModelService>,
    models_dir: PathBuf,
    intents_dir: PathBuf,
    instance_id: String,
    settings: RetrainSettings,
}

impl Retrainer {
    pub fn new(
        store: Store,
        models: Arc<ModelService>,
        models_dir: PathBuf,
        intents_dir: PathBuf,
        settings: RetrainSettings,
    ) -> Self {
        Self { store, models, models_dir, intents_dir, instance_id: crate::util::random_hex(8), settings }
    }

    /// Marks failed the jobs of instances that stopped while running one.
    pub async fn fail_abandoned(&self) -> Result<u64, LearningError> {
        Ok(self.store.fail_abandoned_jobs(now_ms() - ABANDONED_AFTER_MS).await?)
    }

    pub async fn job(&self, id: &str) -> Result<Job, LearningError> {
        self.store.job(id).await?.ok_or_else(|| LearningError::NotFound(format!("there is no job {id}")))
    }

    /// The latest jobs (the active ones only, with `active`), newest first.
    pub async fn jobs(&self, active: bool) -> Result<Vec<Job>, LearningError> {
        Ok(self.store.jobs(active, 20).await?)
    }

    /// Starts a retrain in the background; a second one while one runs is refused, naming it.
    pub async fn start(self: &Arc<Self>, by: Actor) -> Result<Job, LearningError> {
        let job = self.claim(&by).await?;
        let (this, id, runtime) = (self.clone(), job.id.clone(), Handle::current());
        std::thread::Builder::new()
            .name("retrain".into())
            .spawn(move || this.run(&id, &by, &runtime, false))
            .map_err(|e| LearningError::Invalid("no_thread", format!("cannot start the retraining thread: {e}")))?;
        Ok(job)
    }

    /// The same work in the foreground, with progress bars (`switchboard train`): the job's
    /// end state, and the candidate when it succeeded.
    pub async fn run_here(
        self: &Arc<Self>,
        by: Actor,
        quiet: bool,
    ) -> Result<(Job, Option<ModelSummary>), LearningError> {
        let job = self.claim(&by).await?;
        let (this, id, runtime) = (self.clone(), job.id.clone(), Handle::current());
        tokio::task::spawn_blocking(move || this.run(&id, &by, &runtime, !quiet))
            .await
            .map_err(|e| LearningError::Invalid("crashed", format!("the retraining thread stopped: {e}")))?;
        let job = self.job(&job.id).await?;
        let model = match &job.model_version {
            Some(v) => self.store.model(v).await?,
            None => None,
        };
        Ok((job, model))
    }

    async fn claim(&self, by: &Actor) -> Result<Job, LearningError> {
        let mut tx = self.store.begin().await?;
        let job = tx.start_job(RETRAIN_JOB, &by.label(), &self.instance_id).await?.map_err(|running| {
            LearningError::Conflict(
                "retrain_running",
                format!(
                    "retraining job {} is already {} ({:.0} % done); wait for it to finish",
                    running.id,
                    running.state,
                    running.progress * 100.0
                ),
            )
        })?;
        tx.audit(by, AuditAction::ModelRetrain, None, serde_json::json!({"job": job.id})).await?;
        tx.commit().await?;
        Ok(job)
    }

    /// Runs job `id` to its end on the calling thread (not an async worker), writing its
    /// progress every half second and its outcome at the end.
    fn run(&self, id: &str, by: &Actor, runtime: &Handle, show_bars: bool) {
        let latest = Arc::new(Mutex::new((JobStage::Loading, 0.0)));
        let reporter = {
            let (store, id, latest) = (self.store.clone(), id.to_string(), latest.clone());
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(REPORT_EVERY);
                loop {
                    tick.tick().await;
                    let (stage, within) = *latest.lock().unwrap_or_else(|e| e.into_inner());
                    if let Err(e) = store.update_job(&id, stage, overall(stage, within)).await {
                        tracing::warn!(job = %id, error = %e, "cannot record the job's progress");
                    }
                }
            })
        };
        let observe =
            |stage: JobStage, within: f64| *latest.lock().unwrap_or_else(|e| e.into_inner()) = (stage, within);
        let progress = Progress { quiet: !show_bars, observer: Some(&observe) };
        let outcome = self.train_candidate(by, runtime, &progress);
        reporter.abort();
        let (result, notes) = match &outcome {
            Ok((model, notes)) => (Ok(model.version.as_str()), notes.as_slice()),
            Err(e) => (Err(e.as_str()), &[][..]),
        };
        match &result {
            Ok(version) => tracing::info!(job = %id, version = %version, "retraining finished"),
            Err(e) => tracing::warn!(job = %id, error = %e, "retraining failed"),
        }
        if let Err(e) = runtime.block_on(self.store.finish_job(id, result, notes)) {
            tracing::error!(job = %id, error = %e, "cannot record the job's end");
        }
    }

    fn train_candidate(
        &self,
        by: &Actor,
        runtime: &Handle,
        progress: &Progress<'_>,
    ) -> Result<(ModelSummary, Vec<String>), String> {
        progress.reached(JobStage::Loading);
        let intents = crate::intents::load_dir(&self.intents_dir).map_err(|e| e.to_string())?;
        let approved = runtime.block_on(self.store.approved_examples()).map_err(|e| e.to_string())?;
        let options =
            ClassifierOptions { sessions: self.settings.options.workers, intra_threads: 1, ..Default::default() };
        let encoder = Encoder::load(&self.models_dir, options).map_err(|e| e.to_string())?;
        let live = self.models.classifier().head();
        let candidate = retrain(&encoder, &live, &intents, &approved, &self.settings, progress)?;
        progress.reached(JobStage::Saving);
        let model = runtime.block_on(self.models.register(by, &candidate)).map_err(|e| e.to_string())?;
        Ok((model, candidate.notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overall_progress_rises_through_the_stages_to_one() {
        let points = [
            (JobStage::Loading, 0.0),
            (JobStage::Embedding, 0.5),
            (JobStage::Validating, 0.0),
            (JobStage::Validating, 1.0),
            (JobStage::Fitting, 0.5),
            (JobStage::Gating, 0.0),
            (JobStage::Saving, 1.0),
            (JobStage::Done, 0.0),
        ];
        let figures: Vec<f64> = points.iter().map(|(s, w)| overall(*s, *w)).collect();
        assert!(figures.windows(2).all(|w| w[0] <= w[1]), "{figures:?}");
        assert_eq!(figures[0], 0.0);
        assert!((figures[6] - 1.0).abs() < 1e-9 && figures[7] == 1.0, "{figures:?}");
    }
}
