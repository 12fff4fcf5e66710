//! Training examples from agents' labels (one per shopper message) and their review.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError, Tx, now_ms};
use crate::domain::agent::{ExampleStatus, TrainingExample};
use crate::domain::conversation::MessageLabel;
use crate::domain::model::ExampleSource;

const EXAMPLE_COLUMNS: &str =
    "id, text, intent, status, source, message_id, conversation_id, agent_id, created_at, updated_at";

/// A label to store: the masked text and what it really was.
pub struct NewExample<'a> {
    pub text: &'a str,
    pub intent: &'a str,
    pub source: ExampleSource,
    pub message_id: &'a str,
    pub conversation_id: &'a str,
    pub agent_id: &'a str,
}

fn example_from_row(r: &AnyRow) -> Result<TrainingExample> {
    let status: String = r.try_get("status")?;
    let source: String = r.try_get("source")?;
    let created_at: i64 = r.try_get("created_at")?;
    Ok(TrainingExample {
        id: r.try_get("id")?,
        text: r.try_get("text")?,
        intent: r.try_get("intent")?,
        status: ExampleStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("training example status {status:?}")))?,
        source: ExampleSource::parse(&source)
            .ok_or_else(|| StoreError::Corrupt(format!("training example source {source:?}")))?,
        message_id: r.try_get("message_id")?,
        conversation_id: r.try_get("conversation_id")?,
        agent_id: r.try_get("agent_id")?,
        created_at,
        updated_at: r.try_get::<Option<i64>, _>("updated_at")?.unwrap_or(created_at),
    })
}

impl Store {
    /// Examples in a review state, oldest first.
    pub async fn training_examples(&self, status: ExampleStatus) -> Result<Vec<TrainingExample>> {
        let sql = format!(
            "SELECT {EXAMPLE_COLUMNS} FROM training_examples WHERE status = $1 ORDER BY created_at, id LIMIT 1000"
        );
        let rows = sqlx::query(&sql).bind(status.name()).fetch_all(self.pool()).await?;
        rows.iter().map(example_from_row).collect()
    }

    /// (text, intent) of every approved example, oldest first: what training adds to `intents/`.
    pub async fn approved_examples(&self) -> Result<Vec<(String, String)>> {
        let rows =
            sqlx::query("SELECT text, intent FROM training_examples WHERE status = 'approved' ORDER BY created_at, id")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok((r.try_get("text")?, r.try_get("intent")?))).collect()
    }

    /// Approved examples not yet written into `intents/` files.
    pub async fn unexported_examples(&self) -> Result<Vec<TrainingExample>> {
        let sql = format!(
            "SELECT {EXAMPLE_COLUMNS} FROM training_examples WHERE status = 'approved' AND exported_at IS NULL ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter().map(example_from_row).collect()
    }

    /// The labels of a conversation's shopper messages, by message id.
    pub async fn labels_in(&self, conversation_id: &str) -> Result<HashMap<String, MessageLabel>> {
        let rows =
            sqlx::query("SELECT message_id, intent, status, source FROM training_examples WHERE conversation_id = $1")
                .bind(conversation_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                let (status, source): (String, String) = (r.try_get("status")?, r.try_get("source")?);
                let label = MessageLabel {
                    intent: r.try_get("intent")?,
                    status: ExampleStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("training example status {status:?}")))?,
                    source: ExampleSource::parse(&source)
                        .ok_or_else(|| StoreError::Corrupt(format!("training example source {source:?}")))?,
                };
                Ok((r.try_get("message_id")?, label))
            })
            .collect()
    }

    /// How many examples are in each review state.
    pub async fn example_counts(&self) -> Result<BTreeMap<ExampleStatus, i64>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM training_examples GROUP BY status")
            .fetch_all(self.pool())
            .await?;
        let mut counts: BTreeMap<ExampleStatus, i64> = ExampleStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for r in rows {
            let status: String = r.try_get("status")?;
            if let Some(s) = ExampleStatus::parse(&status) {
                counts.insert(s, r.try_get("n")?);
            }
        }
        Ok(counts)
    }

    /// The conversation and text of a shopper message.
    pub async fn shopper_message(&self, message_id: &str) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT conversation_id, body FROM messages WHERE id = $1 AND sender = 'shopper'")
            .bind(message_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// The id and text of the last shopper message before seq `before`.
    pub async fn last_shopper_message(&self, conversation_id: &str, before: i64) -> Result<Option<(String, String)>> {
        let row = sqlx::query(
            "SELECT id, body FROM messages WHERE conversation_id = $1 AND sender = 'shopper' AND seq < $2
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(conversation_id)
        .bind(before)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Names of customers containing any of `words` (lower case), for masking them.
    pub async fn customer_names_with(&self, words: &[String]) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for word in words.iter().take(40) {
            let rows = sqlx::query("SELECT name FROM customers WHERE lower(name) LIKE $1 LIMIT 20")
                .bind(format!("%{}%", word.replace(['%', '_'], "")))
                .fetch_all(self.pool())
                .await?;
            for r in rows {
                let name: String = r.try_get("name")?;
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }
}

impl Tx {
    /// Stores the label of a message, or changes it: a new intent goes back to review.
    pub async fn upsert_example(&mut self, e: &NewExample<'_>) -> Result<String> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO training_examples (id, text, intent, status, source, message_id, conversation_id, agent_id, created_at, updated_at)
             VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $8)
             ON CONFLICT (message_id) DO UPDATE SET text = excluded.text, source = excluded.source,
                agent_id = excluded.agent_id, updated_at = excluded.updated_at,
                status = CASE WHEN training_examples.intent = excluded.intent THEN training_examples.status ELSE 'pending' END,
                intent = excluded.intent
             RETURNING id",
        )
        .bind(crate::util::random_hex(12))
        .bind(e.text)
        .bind(e.intent)
        .bind(e.source.name())
        .bind(e.message_id)
        .bind(e.conversation_id)
        .bind(e.agent_id)
        .bind(now)
        .fetch_one(self.conn())
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Approves or rejects a pending example, or changes its intent (`intent`), or both; false
    /// if there is no such example, or only a status was given and it is not pending.
    pub async fn review_example(
        &mut self,
        id: &str,
        status: Option<ExampleStatus>,
        intent: Option<&str>,
        reviewer: &str,
    ) -> Result<bool> {
        let changed = sqlx::query(
            "UPDATE training_examples SET status = COALESCE($2, status), intent = COALESCE($3, intent),
                reviewed_by = $4, reviewed_at = $5, updated_at = $5
             WHERE id = $1 AND (status = 'pending' OR $3 IS NOT NULL)",
        )
        .bind(id)
        .bind(status.map(ExampleStatus::name))
        .bind(intent)
        .bind(reviewer)
        .bind(now_ms())
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    pub async fn mark_exported(&mut self, ids: &[String]) -> Result<()> {
        let now = now_ms();
        for id in ids {
            sqlx::query("UPDATE training_examples SET exported_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}
