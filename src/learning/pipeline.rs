//! One retraining run: `intents/` plus the approved examples, minus the regression set, train
//! a candidate; the candidate and the live model are measured on the regression set and the
//! gate judges. Pure computation: the caller stores what comes out.

use crate::classifier::{Encoder, Head, HeadMetadata};
use crate::domain::intent::IntentDefinition;
use crate::domain::model::{GateVerdict, JobStage, ModelMetrics};
use crate::store::ModelArtefacts;
use crate::training::dataset::training_data;
use crate::training::embed::embed_all;
use crate::training::evaluate::{Evaluation, on_embedded};
use crate::training::gate::{GateSettings, Measured, judge, metrics};
use crate::training::progress::Progress;
use crate::training::report::render_pair;
use crate::training::train::{TrainOptions, metadata_for, onnx_bytes, train};

/// How candidates are trained and judged.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetrainSettings {
    pub options: TrainOptions,
    pub gate: GateSettings,
}

/// A trained candidate, loaded (so its artefacts are known to work) and judged.
pub struct Candidate {
    pub metadata: HeadMetadata,
    pub artefacts: ModelArtefacts,
    pub head: Head,
    /// The candidate's figures on the regression set.
    pub metrics: ModelMetrics,
    /// The verdict, with the live model's figures on the same examples.
    pub verdict: GateVerdict,
    /// Both models' reports on the regression set, side by side.
    pub report_html: String,
    /// Training examples it learned from.
    pub examples: usize,
    /// What the admin should know about the data (no approved examples, some left out).
    pub notes: Vec<String>,
}

/// Trains a candidate on `intents` and `approved` (text, intent) and judges it against `live`.
pub fn retrain(
    encoder: &Encoder,
    live: &Head,
    intents: &[IntentDefinition],
    approved: &[(String, String)],
    settings: &RetrainSettings,
    progress: &Progress<'_>,
) -> Result<Candidate, String> {
    progress.reached(JobStage::Loading);
    let data = training_data(intents, approved);
    let mut notes = Vec::new();
    if data.approved_used == 0 {
        notes.push("no approved examples yet: trained on intents/ alone".to_string());
    }
    if data.approved_skipped > 0 {
        notes.push(format!(
            "{} approved examples left out: their text is already in the data, or their intent is no longer in intents/",
            data.approved_skipped
        ));
    }
    let options = &settings.options;
    let trained = train(encoder, &data.train, options, progress).map_err(|e| format!("training failed: {e}"))?;
    let metadata = metadata_for(&trained, &data.train, encoder, options.lexical, options.neighbours);
    let head_json = serde_json::to_string_pretty(&metadata).map_err(|e| e.to_string())?;
    let artefacts = ModelArtefacts {
        head_json,
        head_onnx: onnx_bytes(&trained.head, &metadata),
        neighbours: trained.neighbours.to_bytes(),
        encoder_sha256: encoder.sha256().to_string(),
    };
    let head = Head::from_artefacts(&artefacts.head_onnx, &artefacts.neighbours, metadata.clone())
        .map_err(|(file, reason)| format!("the trained {file} does not load: {reason}"))?;

    progress.reached(JobStage::Gating);
    let regression = &data.regression;
    let texts: Vec<&str> = regression.iter().map(|e| e.text.as_str()).collect();
    let embedded = embed_all(encoder, &texts, options.workers, &Progress::quiet()).map_err(|e| e.to_string())?;
    let judged = |h: &Head| on_embedded(h, regression, &embedded.vectors, None).map_err(|e| e.to_string());
    let (live_eval, candidate_eval) = (judged(live)?, judged(&head)?);
    fn measured(e: &Evaluation) -> Measured<'_> {
        Measured { labels: &e.labels, rows: &e.held_out, thresholds: &e.thresholds }
    }
    let (live_m, cand_m) = (measured(&live_eval), measured(&candidate_eval));
    let truths: Vec<String> = regression.iter().map(|e| e.intent.clone()).collect();
    let verdict = GateVerdict {
        live_version: Some(live.metadata().version.clone()),
        live_metrics: Some(metrics(&live_m)),
        ..judge(&truths, &live_m, &cand_m, &settings.gate)
    };
    let title = format!("Regression set ({} examples): live model and candidate", regression.len());
    let report_html = render_pair(
        &title,
        (&format!("live {}", live.metadata().version), &live_eval),
        (&format!("candidate {}", metadata.version), &candidate_eval),
    );
    Ok(Candidate {
        metrics: metrics(&cand_m),
        verdict,
        report_html,
        examples: data.train.len(),
        notes,
        metadata,
        artefacts,
        head,
    })
}
