//! What a candidate in shadow said about live messages, beside what the live model said.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError, Tx, now_ms};
use crate::domain::model::{Guess, ShadowComparison, ShadowReport};
use crate::domain::triage::DecisionKind;

/// Differences listed in a report.
const DIFFERENCES_SHOWN: i64 = 100;

fn guess(r: &AnyRow, intent: &str, confidence: Option<&str>, decision: &str) -> Result<Guess> {
    let kind: String = r.try_get(decision)?;
    Ok(Guess {
        intent: r.try_get(intent)?,
        confidence: match confidence {
            Some(column) => r.try_get::<f64, _>(column)? as f32,
            None => 0.0,
        },
        decision: DecisionKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("decision {kind:?}")))?,
    })
}

impl Store {
    pub async fn shadow_report(&self, version: &str) -> Result<ShadowReport> {
        let counts = sqlx::query(
            "SELECT COUNT(*) AS compared,
                    COALESCE(SUM(CASE WHEN intent = live_intent AND decision = live_decision THEN 1 ELSE 0 END), 0) AS agreed
             FROM shadow_predictions WHERE version = $1",
        )
        .bind(version)
        .fetch_one(self.pool())
        .await?;
        let compared: i64 = counts.try_get("compared")?;
        let agreed: i64 = counts.try_get("agreed")?;
        let rows = sqlx::query(
            "SELECT s.message_id, m.conversation_id, m.body, s.created_at, s.live_version, s.intent, s.confidence, s.decision,
                    s.live_intent, s.live_decision
             FROM shadow_predictions s JOIN messages m ON m.id = s.message_id
             WHERE s.version = $1 AND (s.intent <> s.live_intent OR s.decision <> s.live_decision)
             ORDER BY s.created_at DESC LIMIT $2",
        )
        .bind(version)
        .bind(DIFFERENCES_SHOWN)
        .fetch_all(self.pool())
        .await?;
        let differences = rows
            .iter()
            .map(|r| {
                Ok(ShadowComparison {
                    message_id: r.try_get("message_id")?,
                    conversation_id: r.try_get("conversation_id")?,
                    text: r.try_get("body")?,
                    created_at: r.try_get("created_at")?,
                    live_version: r.try_get("live_version")?,
                    live: guess(r, "live_intent", None, "live_decision")?,
                    shadow: guess(r, "intent", Some("confidence"), "decision")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(ShadowReport {
            version: version.to_string(),
            compared,
            agreed,
            agreement: (compared > 0).then(|| agreed as f64 / compared as f64),
            differences,
        })
    }
}

impl Tx {
    /// Records what the candidate `version` in shadow made of message `message_id`.
    pub async fn record_shadow(
        &mut self,
        message_id: &str,
        version: &str,
        shadow: &Guess,
        live_version: &str,
        live: &Guess,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO shadow_predictions (message_id, version, live_version, intent, confidence, decision, live_intent,
                live_decision, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(message_id)
        .bind(version)
        .bind(live_version)
        .bind(&shadow.intent)
        .bind(f64::from(shadow.confidence))
        .bind(shadow.decision.name())
        .bind(&live.intent)
        .bind(live.decision.name())
        .bind(now_ms())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
