//! Model versions: their metadata, the gate's verdict, and the trained artefacts (head,
//! nearest examples, calibration) as blobs, so every instance on the database can load any
//! version. The encoder is shared and named by its hash.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::listener::MODELS_CHANNEL;
use super::tx::to_json;
use super::{Engine, Result, Store, StoreError, Tx, now_ms};
use crate::domain::model::{GateVerdict, ModelMetrics, ModelStatus, ModelSummary};

/// A version's artefacts, as training made them.
#[derive(Debug, Clone)]
pub struct ModelArtefacts {
    /// The head's metadata (`head.json`).
    pub head_json: String,
    /// The head as ONNX (`head.onnx`).
    pub head_onnx: Vec<u8>,
    /// The training examples' embeddings (`neighbours.bin`).
    pub neighbours: Vec<u8>,
    pub encoder_sha256: String,
}

/// A new version to store.
pub struct NewModel<'a> {
    pub version: &'a str,
    pub status: ModelStatus,
    pub examples: i64,
    pub metrics: &'a ModelMetrics,
    pub gate: Option<&'a GateVerdict>,
    pub artefacts: &'a ModelArtefacts,
    /// The candidate's and the live model's reports on the regression set, side by side.
    pub report_html: Option<&'a str>,
}

const SUMMARY_COLUMNS: &str =
    "version, number, status, shadow, created_at, examples, metrics, gate, promoted_at, previous_live";

fn summary_from_row(r: &AnyRow) -> Result<ModelSummary> {
    let status: String = r.try_get("status")?;
    let metrics: String = r.try_get("metrics")?;
    let gate: Option<String> = r.try_get("gate")?;
    let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("model version {what}: {e}"));
    Ok(ModelSummary {
        version: r.try_get("version")?,
        number: r.try_get("number")?,
        status: ModelStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("model status {status:?}")))?,
        shadow: r.try_get::<i64, _>("shadow")? != 0,
        created_at: r.try_get("created_at")?,
        examples: r.try_get("examples")?,
        metrics: serde_json::from_str(&metrics).map_err(|e| corrupt("metrics", e))?,
        gate: gate.map(|g| serde_json::from_str(&g)).transpose().map_err(|e| corrupt("gate", e))?,
        promoted_at: r.try_get("promoted_at")?,
        previous_live: r.try_get("previous_live")?,
    })
}

impl Store {
    /// Every version, newest first.
    pub async fn models(&self) -> Result<Vec<ModelSummary>> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM model_versions ORDER BY number DESC");
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter().map(summary_from_row).collect()
    }

    pub async fn model(&self, version: &str) -> Result<Option<ModelSummary>> {
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM model_versions WHERE version = $1");
        sqlx::query(&sql).bind(version).fetch_optional(self.pool()).await?.map(|r| summary_from_row(&r)).transpose()
    }

    /// The live version and the one in shadow, if any.
    pub async fn serving_versions(&self) -> Result<(Option<String>, Option<String>)> {
        let rows =
            sqlx::query("SELECT version, status, shadow FROM model_versions WHERE status = 'live' OR shadow = 1")
                .fetch_all(self.pool())
                .await?;
        let (mut live, mut shadow) = (None, None);
        for r in rows {
            let version: String = r.try_get("version")?;
            if r.try_get::<i64, _>("shadow")? != 0 {
                shadow = Some(version.clone());
            }
            if r.try_get::<String, _>("status")? == ModelStatus::Live.name() {
                live = Some(version);
            }
        }
        Ok((live, shadow))
    }

    pub async fn model_artefacts(&self, version: &str) -> Result<Option<ModelArtefacts>> {
        let row = sqlx::query(
            "SELECT head_json, head_onnx, neighbours, encoder_sha256 FROM model_versions WHERE version = $1",
        )
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(ModelArtefacts {
                head_json: r.try_get("head_json")?,
                head_onnx: r.try_get("head_onnx")?,
                neighbours: r.try_get("neighbours")?,
                encoder_sha256: r.try_get("encoder_sha256")?,
            })
        })
        .transpose()
    }

    pub async fn model_report(&self, version: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT report_html FROM model_versions WHERE version = $1")
            .bind(version)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.and_then(|r| r.try_get("report_html").ok().flatten()))
    }
}

impl Tx {
    /// Stores a version with the next number; false if the version exists already.
    pub async fn insert_model(&mut self, m: &NewModel<'_>) -> Result<bool> {
        let number: i64 = sqlx::query("SELECT COALESCE(MAX(number), 0) + 1 FROM model_versions")
            .fetch_one(self.conn())
            .await?
            .try_get(0)?;
        let inserted = sqlx::query(
            "INSERT INTO model_versions (version, number, status, shadow, created_at, examples, metrics, gate, head_json,
                head_onnx, neighbours, encoder_sha256, report_html, promoted_at)
             VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(m.version)
        .bind(number)
        .bind(m.status.name())
        .bind(now_ms())
        .bind(m.examples)
        .bind(to_json(m.metrics))
        .bind(m.gate.map(to_json))
        .bind(&m.artefacts.head_json)
        .bind(m.artefacts.head_onnx.clone())
        .bind(m.artefacts.neighbours.clone())
        .bind(&m.artefacts.encoder_sha256)
        .bind(m.report_html)
        .bind((m.status == ModelStatus::Live).then(now_ms))
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Locks the versions table against concurrent promotions (PostgreSQL; SQLite has one
    /// writer) and returns the live version.
    pub async fn lock_models(&mut self) -> Result<Option<String>> {
        if self.engine() == Engine::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('switchboard-models'))").execute(self.conn()).await?;
        }
        let row =
            sqlx::query("SELECT version FROM model_versions WHERE status = 'live'").fetch_optional(self.conn()).await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// The version's status and the live version it replaced, if it was ever promoted.
    pub async fn model_state(&mut self, version: &str) -> Result<Option<(ModelStatus, Option<String>)>> {
        let row = sqlx::query("SELECT status, previous_live FROM model_versions WHERE version = $1")
            .bind(version)
            .fetch_optional(self.conn())
            .await?;
        row.map(|r| {
            let status: String = r.try_get("status")?;
            let status =
                ModelStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("model status {status:?}")))?;
            Ok((status, r.try_get("previous_live")?))
        })
        .transpose()
    }

    /// Makes `version` live; the live one becomes `retired`. `previous_live` is where a later
    /// roll-back goes (None keeps the version's own).
    pub async fn make_live(&mut self, version: &str, previous_live: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE model_versions SET status = 'retired' WHERE status = 'live'").execute(self.conn()).await?;
        sqlx::query(
            "UPDATE model_versions SET status = 'live', shadow = 0, promoted_at = $2,
                previous_live = COALESCE($3, previous_live) WHERE version = $1",
        )
        .bind(version)
        .bind(now_ms())
        .bind(previous_live)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Puts `version` in shadow (none: stops the shadow).
    pub async fn set_shadow(&mut self, version: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE model_versions SET shadow = 0 WHERE shadow = 1").execute(self.conn()).await?;
        if let Some(version) = version {
            sqlx::query("UPDATE model_versions SET shadow = 1 WHERE version = $1")
                .bind(version)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Tells every instance (PostgreSQL) to load the serving versions again; sent on commit.
    pub async fn notify_models(&mut self) -> Result<()> {
        if self.engine() == Engine::Postgres {
            sqlx::query("SELECT pg_notify($1, '')").bind(MODELS_CHANNEL).execute(self.conn()).await?;
        }
        Ok(())
    }
}
