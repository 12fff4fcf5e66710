//! Background jobs (retraining): one active job of a kind per database, progress that any
//! instance can read, and jobs of stopped instances marked failed.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Engine, Result, Store, StoreError, Tx, now_ms};
use crate::domain::model::{Job, JobStage, JobState};

const JOB_COLUMNS: &str =
    "id, state, stage, progress, model_version, error, notes, created_at, updated_at, finished_at";

fn job_from_row(r: &AnyRow) -> Result<Job> {
    let state: String = r.try_get("state")?;
    let stage: String = r.try_get("stage")?;
    Ok(Job {
        id: r.try_get("id")?,
        state: JobState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("job state {state:?}")))?,
        stage: JobStage::parse(&stage).ok_or_else(|| StoreError::Corrupt(format!("job stage {stage:?}")))?,
        progress: r.try_get("progress")?,
        model_version: r.try_get("model_version")?,
        error: r.try_get("error")?,
        notes: match r.try_get::<Option<String>, _>("notes")? {
            Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("job notes: {e}")))?,
            None => Vec::new(),
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        finished_at: r.try_get("finished_at")?,
    })
}

impl Store {
    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await?.map(|r| job_from_row(&r)).transpose()
    }

    /// The latest jobs, newest first; only queued and running ones with `active`.
    pub async fn jobs(&self, active: bool, limit: i64) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1 = 0 OR state IN ('queued', 'running')) ORDER BY created_at DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql).bind(i64::from(active)).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Records a job's step and progress (0 to 1); also shows its instance is alive.
    pub async fn update_job(&self, id: &str, stage: JobStage, progress: f64) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET state = 'running', stage = $2, progress = $3, updated_at = $4
             WHERE id = $1 AND state IN ('queued', 'running')",
        )
        .bind(id)
        .bind(stage.name())
        .bind(progress.clamp(0.0, 1.0))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Ends a job: succeeded with the version it made, or failed with the error in words.
    pub async fn finish_job(&self, id: &str, outcome: std::result::Result<&str, &str>, notes: &[String]) -> Result<()> {
        let (state, version, error) = match outcome {
            Ok(version) => (JobState::Succeeded, Some(version), None),
            Err(error) => (JobState::Failed, None, Some(error)),
        };
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET state = $2, stage = 'done', progress = CASE WHEN $2 = 'succeeded' THEN 1.0 ELSE progress END,
                model_version = $3, error = $4, notes = $6, updated_at = $5, finished_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(state.name())
        .bind(version)
        .bind(error)
        .bind(now)
        .bind(super::tx::to_json(&notes))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Marks failed the active jobs whose instance stopped reporting before `silent_since`.
    pub async fn fail_abandoned_jobs(&self, silent_since: i64) -> Result<u64> {
        let now = now_ms();
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'failed', stage = 'done', error = 'the server running it stopped before it finished; start it again',
                updated_at = $2, finished_at = $2
             WHERE state IN ('queued', 'running') AND updated_at < $1",
        )
        .bind(silent_since)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected())
    }
}

impl Tx {
    /// Starts a job of `kind`, or returns the job of that kind already active.
    pub async fn start_job(
        &mut self,
        kind: &str,
        requested_by: &str,
        instance_id: &str,
    ) -> Result<std::result::Result<Job, Job>> {
        if self.engine() == Engine::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('switchboard-jobs'))").execute(self.conn()).await?;
        }
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND state IN ('queued', 'running')");
        if let Some(row) = sqlx::query(&sql).bind(kind).fetch_optional(self.conn()).await? {
            return Ok(Err(job_from_row(&row)?));
        }
        let now = now_ms();
        let id = crate::util::random_hex(12);
        sqlx::query(
            "INSERT INTO jobs (id, kind, state, stage, progress, requested_by, instance_id, created_at, updated_at)
             VALUES ($1, $2, 'queued', 'queued', 0, $3, $4, $5, $5)",
        )
        .bind(&id)
        .bind(kind)
        .bind(requested_by)
        .bind(instance_id)
        .bind(now)
        .execute(self.conn())
        .await?;
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        Ok(Ok(job_from_row(&sqlx::query(&sql).bind(&id).fetch_one(self.conn()).await?)?))
    }
}
