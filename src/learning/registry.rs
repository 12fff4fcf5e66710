//! Model versions and which one serves: the model shipped in `models/` is version 1 of an
//! empty database; candidates are registered by retraining; promotion, roll-back and shadow
//! change the database first, then every instance swaps its heads (this one at once, the
//! others when they hear of it), with no restart.

use std::path::Path;
use std::sync::Arc;

use super::LearningError;
use super::pipeline::Candidate;
use crate::classifier::{Encoder, HEAD_FILE, Head, HeadMetadata, METADATA_FILE, NEIGHBOURS_FILE, OnnxClassifier};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::model::{ModelMetrics, ModelStatus, ModelSummary, ShadowReport};
use crate::store::{ModelArtefacts, NewModel, Store};

pub struct ModelService {
    store: Store,
    classifier: Arc<OnnxClassifier>,
    /// The versions serving now (live, shadow); the lock also makes swaps one at a time.
    serving: tokio::sync::Mutex<(String, Option<String>)>,
}

impl ModelService {
    /// Registers the shipped model as version 1 of an empty database (or, after an upgrade
    /// ships a new one, as a candidate the admin can promote), then serves the database's
    /// live version (and the one in shadow, if it loads).
    pub async fn start(store: Store, encoder: Arc<Encoder>, shipped: &Path) -> Result<Self, LearningError> {
        register_shipped(&store, shipped).await?;
        let (live, shadow) = store.serving_versions().await?;
        let live = live.ok_or_else(|| LearningError::Unloadable("the database has no live model".into()))?;
        let live_head = load_head(&store, &live).await?;
        let classifier = OnnxClassifier::new(encoder, live_head)
            .map_err(|e| LearningError::Unloadable(format!("{e}; promote a model trained with this encoder")))?;
        let service = Self { store, classifier: Arc::new(classifier), serving: tokio::sync::Mutex::new((live, None)) };
        if shadow.is_some() {
            service.reload().await?;
        }
        Ok(service)
    }

    pub fn classifier(&self) -> Arc<OnnxClassifier> {
        self.classifier.clone()
    }

    /// Serves the versions the database names now, loading what changed. Called after this
    /// instance changes them and when another instance says it did.
    pub async fn reload(&self) -> Result<(), LearningError> {
        let mut serving = self.serving.lock().await;
        let (live, shadow) = self.store.serving_versions().await?;
        let Some(live) = live else { return Ok(()) };
        if serving.0 == live && serving.1 == shadow {
            return Ok(());
        }
        let current = self.classifier.head();
        let live_head = if serving.0 == live { current } else { Arc::new(load_head(&self.store, &live).await?) };
        let shadow_head = match &shadow {
            Some(v) if serving.1.as_ref() == Some(v) => self.classifier.shadow(),
            Some(v) => match load_head(&self.store, v).await {
                Ok(h) => Some(Arc::new(h)),
                Err(e) => {
                    tracing::warn!(version = %v, error = %e, "the model in shadow does not load; no shadow");
                    None
                }
            },
            None => None,
        };
        let shadow = shadow.filter(|_| shadow_head.is_some());
        self.classifier.serve(live_head, shadow_head).map_err(LearningError::Unloadable)?;
        tracing::info!(live = %live, shadow = ?shadow, "serving model versions");
        *serving = (live, shadow);
        Ok(())
    }

    pub async fn list(&self) -> Result<Vec<ModelSummary>, LearningError> {
        Ok(self.store.models().await?)
    }

    async fn summary(&self, version: &str) -> Result<ModelSummary, LearningError> {
        self.store
            .model(version)
            .await?
            .ok_or_else(|| LearningError::NotFound(format!("there is no model version {version}")))
    }

    /// Stores a trained candidate: `candidate` if it passed the gate, `rejected` if not.
    pub async fn register(&self, by: &Actor, candidate: &Candidate) -> Result<ModelSummary, LearningError> {
        let version = &candidate.metadata.version;
        let status = if candidate.verdict.passed { ModelStatus::Candidate } else { ModelStatus::Rejected };
        let mut tx = self.store.begin().await?;
        let stored = tx
            .insert_model(&NewModel {
                version,
                status,
                examples: candidate.examples as i64,
                metrics: &candidate.metrics,
                gate: Some(&candidate.verdict),
                artefacts: &candidate.artefacts,
                report_html: Some(&candidate.report_html),
            })
            .await?;
        if !stored {
            return Err(LearningError::Conflict("exists", format!("model version {version} exists already")));
        }
        let detail = serde_json::json!({"version": version, "status": status, "reasons": candidate.verdict.reasons});
        tx.audit(by, AuditAction::ModelTrained, None, detail).await?;
        tx.commit().await?;
        self.summary(version).await
    }

    /// Makes `version` live. A rejected candidate needs `override_reason`; a version that does
    /// not load is refused and the live model stays.
    pub async fn promote(
        &self,
        by: &Actor,
        version: &str,
        override_reason: Option<&str>,
    ) -> Result<ModelSummary, LearningError> {
        let summary = self.summary(version).await?;
        match (summary.status, override_reason) {
            (ModelStatus::Live, _) => {
                return Err(LearningError::Conflict("already_live", format!("model {version} is already live")));
            }
            (ModelStatus::Rejected, None) => {
                let reasons = summary.gate.map(|g| g.reasons.join("; ")).unwrap_or_default();
                return Err(LearningError::Conflict(
                    "rejected_by_gate",
                    format!(
                        "model {version} failed the gate ({reasons}); to promote it anyway send {{\"override\": true, \"reason\": \"why\"}}"
                    ),
                ));
            }
            _ => {}
        }
        // Loading it first: a version that does not load never becomes live.
        load_head(&self.store, version).await?;
        let mut tx = self.store.begin().await?;
        let previous = tx.lock_models().await?;
        tx.make_live(version, previous.as_deref()).await?;
        let detail = serde_json::json!({"version": version, "previous": previous, "override_reason": override_reason});
        tx.audit(by, AuditAction::ModelPromote, None, detail).await?;
        tx.notify_models().await?;
        tx.commit().await?;
        self.reload().await?;
        self.summary(version).await
    }

    /// Makes the version the live one replaced live again; the live one is retired.
    pub async fn rollback(&self, by: &Actor) -> Result<ModelSummary, LearningError> {
        let (live, _) = self.store.serving_versions().await?;
        let live = live.ok_or_else(|| LearningError::Conflict("no_live_model", "there is no live model".into()))?;
        let mut tx = self.store.begin().await?;
        let previous = tx.model_state(&live).await?.and_then(|(_, previous)| previous).ok_or_else(|| {
            LearningError::Conflict(
                "nothing_to_roll_back",
                format!("model {live} did not replace an earlier live model"),
            )
        })?;
        drop(tx);
        load_head(&self.store, &previous).await?;
        let mut tx = self.store.begin().await?;
        if tx.lock_models().await?.as_deref() != Some(live.as_str()) {
            return Err(LearningError::Conflict("changed", "the live model changed meanwhile; try again".into()));
        }
        tx.make_live(&previous, None).await?;
        tx.audit(by, AuditAction::ModelRollback, None, serde_json::json!({"from": live, "to": previous})).await?;
        tx.notify_models().await?;
        tx.commit().await?;
        self.reload().await?;
        self.summary(&previous).await
    }

    /// Puts a version that is not live in shadow, or (`None`) stops the shadow.
    pub async fn set_shadow(&self, by: &Actor, version: Option<&str>) -> Result<(), LearningError> {
        if let Some(v) = version {
            if self.summary(v).await?.status == ModelStatus::Live {
                return Err(LearningError::Conflict("already_live", format!("model {v} is live; shadow a candidate")));
            }
            load_head(&self.store, v).await?;
        }
        let mut tx = self.store.begin().await?;
        tx.lock_models().await?;
        tx.set_shadow(version).await?;
        tx.audit(by, AuditAction::ModelShadow, None, serde_json::json!({"version": version})).await?;
        tx.notify_models().await?;
        tx.commit().await?;
        self.reload().await
    }

    pub async fn shadow_report(&self, version: &str) -> Result<ShadowReport, LearningError> {
        self.summary(version).await?;
        Ok(self.store.shadow_report(version).await?)
    }

    /// The candidate's and the live model's reports on the regression set, side by side.
    pub async fn report(&self, version: &str) -> Result<String, LearningError> {
        self.summary(version).await?;
        self.store.model_report(version).await?.ok_or_else(|| {
            LearningError::NotFound(format!("model {version} has no gate report (the shipped model was never gated)"))
        })
    }
}

/// A stored version as a head ready to serve; refused with the reason if it does not load.
async fn load_head(store: &Store, version: &str) -> Result<Head, LearningError> {
    let artefacts = store
        .model_artefacts(version)
        .await?
        .ok_or_else(|| LearningError::NotFound(format!("there is no model version {version}")))?;
    let unloadable = |reason: String| LearningError::Unloadable(format!("model {version} does not load: {reason}"));
    let metadata: HeadMetadata =
        serde_json::from_str(&artefacts.head_json).map_err(|e| unloadable(format!("{METADATA_FILE}: {e}")))?;
    tokio::task::spawn_blocking(move || Head::from_artefacts(&artefacts.head_onnx, &artefacts.neighbours, metadata))
        .await
        .map_err(|e| unloadable(e.to_string()))?
        .map_err(|(file, reason)| unloadable(format!("{file}: {reason}")))
}

/// Stores the head shipped in `dir` unless the database has it: live (version 1) in an empty
/// database, a candidate otherwise.
async fn register_shipped(store: &Store, dir: &Path) -> Result<(), LearningError> {
    let read = |name: &str| {
        std::fs::read(dir.join(name)).map_err(|e| {
            LearningError::Unloadable(format!(
                "cannot read {}: {e}; restore models/ from git",
                dir.join(name).display()
            ))
        })
    };
    let head_json = String::from_utf8(read(METADATA_FILE)?)
        .map_err(|e| LearningError::Unloadable(format!("{METADATA_FILE} is not text: {e}")))?;
    let metadata: HeadMetadata = serde_json::from_str(&head_json)
        .map_err(|e| LearningError::Unloadable(format!("{}: {e}", dir.join(METADATA_FILE).display())))?;
    if store.model(&metadata.version).await?.is_some() {
        return Ok(());
    }
    let artefacts = ModelArtefacts {
        head_onnx: read(HEAD_FILE)?,
        neighbours: read(NEIGHBOURS_FILE)?,
        encoder_sha256: metadata.encoder_sha256.clone(),
        head_json,
    };
    // Its cross-validated figures from training: it was never gated.
    let figure = |key: &str| metadata.metrics.get(key).copied().unwrap_or_default();
    let metrics = ModelMetrics {
        macro_f1: figure("cv_macro_f1"),
        oos_recall: figure("cv_oos_recall"),
        answer_precision: figure("cv_answer_precision"),
        coverage: figure("cv_coverage_at_target_precision"),
    };
    let mut tx = store.begin().await?;
    let status = if tx.lock_models().await?.is_none() { ModelStatus::Live } else { ModelStatus::Candidate };
    let new = NewModel {
        version: &metadata.version,
        status,
        examples: metadata.training_examples as i64,
        metrics: &metrics,
        gate: None,
        artefacts: &artefacts,
        report_html: None,
    };
    if tx.insert_model(&new).await? {
        tx.commit().await?;
        tracing::info!(version = %metadata.version, status = %status, "registered the model shipped in models/");
    }
    Ok(())
}
