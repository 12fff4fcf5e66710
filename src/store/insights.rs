//! The facts of a report's time window, read with the indexes made for them: conversations by
//! the time of their first shopper message, their hand-offs, and shopper messages counted by
//! day, top intent, decision, reason, confidence bin and model version.

use sqlx::Row;

use super::conversations::{settled, settled_from_row};
use super::{Engine, Result, Store, StoreError};
use crate::domain::insights::{ConversationFacts, Facts, HandoffFacts, MessageCount, TrafficReference, Window};
use crate::domain::triage::{DecisionKind, HandoffReason, TriageReason};

/// How long before a conversation's first shopper message one of its hand-offs may be queued.
const HANDOFF_SLACK_MS: i64 = 60_000;

impl Store {
    pub async fn insight_facts(&self, window: Window) -> Result<Facts> {
        let (conversations, handoffs, messages) =
            tokio::try_join!(self.conversation_facts(window), self.handoff_facts(window), self.message_counts(window))?;
        Ok(Facts { conversations, handoffs, messages })
    }

    async fn conversation_facts(&self, w: Window) -> Result<Vec<ConversationFacts>> {
        const WHERE: &str = "FROM conversations WHERE first_shopper_at >= $1 AND first_shopper_at < $2";
        if self.engine() == Engine::Sqlite {
            // Thousands of rows come faster as one JSON value than row by row through sqlx's
            // SQLite worker thread (about 30 ms instead of 60-110 ms for 16,000).
            type Row = (String, i64, Option<String>, Option<String>, Option<String>, Option<i64>, i64, Option<i64>);
            let sql = format!(
                "SELECT json_group_array(json_array(id, first_shopper_at, first_intent, first_model_version, outcome,
                    outcome_at, recontacted, rating)) {WHERE}"
            );
            let json: String = sqlx::query(&sql).bind(w.from).bind(w.to).fetch_one(self.pool()).await?.try_get(0)?;
            let rows: Vec<Row> =
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("conversation facts: {e}")))?;
            return rows
                .into_iter()
                .map(|(id, started_at, intent, model_version, outcome, outcome_at, recontacted, rating)| {
                    Ok(ConversationFacts {
                        id,
                        started_at,
                        intent,
                        model_version,
                        outcome: settled(outcome, outcome_at)?,
                        recontacted: recontacted != 0,
                        rating,
                    })
                })
                .collect();
        }
        let sql = format!(
            "SELECT id, first_shopper_at, first_intent, first_model_version, outcome, outcome_at, recontacted, rating {WHERE}"
        );
        let rows = sqlx::query(&sql).bind(w.from).bind(w.to).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(ConversationFacts {
                    id: r.try_get("id")?,
                    started_at: r.try_get("first_shopper_at")?,
                    intent: r.try_get("first_intent")?,
                    model_version: r.try_get("first_model_version")?,
                    outcome: settled_from_row(r)?,
                    recontacted: r.try_get::<i64, _>("recontacted")? != 0,
                    rating: r.try_get("rating")?,
                })
            })
            .collect()
    }

    async fn handoff_facts(&self, w: Window) -> Result<Vec<HandoffFacts>> {
        let rows = sqlx::query(
            "SELECT h.conversation_id, h.reason, h.queued_at, h.first_agent_reply_at, h.could_have_answered
             FROM handoffs h CROSS JOIN conversations c
             WHERE c.id = h.conversation_id AND h.queued_at >= $3
               AND c.first_shopper_at >= $1 AND c.first_shopper_at < $2",
        )
        .bind(w.from)
        .bind(w.to)
        // A conversation is handed off after its shopper first wrote (or asked for a person), so
        // its hand-offs start after the window does: with a minute's slack for the order of the
        // writes within one turn. It lets the hand-offs be read by time instead of one by one.
        .bind(w.from - HANDOFF_SLACK_MS)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let reason: String = r.try_get("reason")?;
                Ok(HandoffFacts {
                    conversation_id: r.try_get("conversation_id")?,
                    reason: HandoffReason::parse(&reason).ok_or_else(|| corrupt("hand-off reason", &reason))?,
                    queued_at: r.try_get("queued_at")?,
                    first_agent_reply_at: r.try_get("first_agent_reply_at")?,
                    could_have_answered: r.try_get::<Option<String>, _>("could_have_answered")?.is_some(),
                })
            })
            .collect()
    }

    async fn message_counts(&self, w: Window) -> Result<Vec<MessageCount>> {
        // floor(confidence × 10). On SQLite the query names the expressions of the index
        // messages_shopper_counts, which holds the rows in counting order (no sort); PostgreSQL
        // hashes them from its covering index.
        let sql = match self.engine() {
            Engine::Sqlite => {
                "SELECT created_at / 86400000 AS day, COALESCE(top_intent, '') AS intent, decision,
                        COALESCE(reason, '') AS reason, CAST(COALESCE(top_confidence, 0) * 10 AS INTEGER) AS bin,
                        COALESCE(model_version, '') AS model_version, COUNT(*) AS n
                 FROM messages
                 WHERE sender = 'shopper' AND created_at / 86400000 BETWEEN $1 / 86400000 AND ($2 - 1) / 86400000
                   AND created_at >= $1 AND created_at < $2 AND decision IS NOT NULL
                 GROUP BY created_at / 86400000, top_intent, decision, reason,
                          CAST(COALESCE(top_confidence, 0) * 10 AS INTEGER), model_version"
            }
            Engine::Postgres => {
                "SELECT created_at / 86400000 AS day, COALESCE(top_intent, '') AS intent, decision,
                        COALESCE(reason, '') AS reason, CAST(FLOOR(COALESCE(top_confidence, 0) * 10) AS BIGINT) AS bin,
                        COALESCE(model_version, '') AS model_version, COUNT(*) AS n
                 FROM messages
                 WHERE sender = 'shopper' AND created_at >= $1 AND created_at < $2 AND decision IS NOT NULL
                 GROUP BY 1, 2, 3, 4, 5, 6"
            }
        };
        let rows = sqlx::query(sql).bind(w.from).bind(w.to).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let decision: String = r.try_get("decision")?;
                let reason: String = r.try_get("reason")?;
                Ok(MessageCount {
                    day: r.try_get("day")?,
                    intent: r.try_get("intent")?,
                    decision: DecisionKind::parse(&decision).ok_or_else(|| corrupt("decision", &decision))?,
                    reason: TriageReason::parse(&reason).ok_or_else(|| corrupt("reason", &reason))?,
                    bin: usize::try_from(r.try_get::<i64, _>("bin")?).unwrap_or_default(),
                    model_version: r.try_get("model_version")?,
                    count: u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The live model's version and the traffic reference of its training data, if it has one.
    pub async fn live_reference(&self) -> Result<Option<(String, Option<TrafficReference>)>> {
        #[derive(serde::Deserialize)]
        struct WithReference {
            #[serde(default)]
            reference: Option<TrafficReference>,
        }
        let row = sqlx::query("SELECT version, head_json FROM model_versions WHERE status = 'live'")
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let head: String = row.try_get("head_json")?;
        let parsed: WithReference =
            serde_json::from_str(&head).map_err(|e| StoreError::Corrupt(format!("live model's head.json: {e}")))?;
        Ok(Some((row.try_get("version")?, parsed.reference)))
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}
