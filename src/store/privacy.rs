//! Erasing a customer's personal data and deleting conversations past the retention period.

use std::collections::BTreeSet;

use sqlx::Row;

use super::{Result, Store, Tx, now_ms};
use crate::domain::privacy::{Forgotten, Pruned, REDACTED};

/// Moves `updated_at` to now unless it is already later: a store update of the same rows
/// that was sent before the erasure but arrives after it is then skipped as stale, instead of
/// writing the personal data back. The store's later changes still go through.
const BUMP_UPDATED_AT: &str = "updated_at = CASE WHEN updated_at > $2 THEN updated_at ELSE $2 END";

impl Tx {
    /// Erases the personal data of customer `id` (see [`Forgotten`]); `None` if there is no
    /// such customer. The customer row stays, with no name or email: orders and conversations
    /// refer to it, and forgetting again must find it to answer the same.
    pub async fn forget_customer(&mut self, id: &str) -> Result<Option<Forgotten>> {
        let now = now_ms();
        let Some(row) =
            sqlx::query("SELECT email FROM customers WHERE id = $1").bind(id).fetch_optional(self.conn()).await?
        else {
            return Ok(None);
        };
        let email: String = row.try_get(0)?;
        let orders = self
            .strings("SELECT number FROM orders WHERE customer_id = $1 OR (email = $2 AND email <> '')", id, &email)
            .await?;
        let mut conversations: BTreeSet<String> = self
            .strings(
                "SELECT id FROM conversations WHERE customer_id = $1 OR (contact_email = $2 AND contact_email <> '')",
                id,
                &email,
            )
            .await?
            .into_iter()
            .collect();
        for number in &orders {
            let sql = "SELECT id FROM conversations WHERE verified_order = $1 OR attached_order = $2";
            conversations.extend(self.strings(sql, number, number).await?);
        }
        let mut forgotten =
            Forgotten { customer: id.to_string(), conversations: conversations.len(), ..Forgotten::default() };
        for conversation in &conversations {
            self.forget_conversation(conversation, &mut forgotten).await?;
            self.forget_events_of(conversation).await?;
        }
        for number in &orders {
            forgotten.orders_anonymised += self.anonymise_order(number, now).await?;
        }
        let sql = format!("UPDATE customers SET email = '', name = '', {BUMP_UPDATED_AT} WHERE id = $1");
        sqlx::query(&sql).bind(id).bind(now).execute(self.conn()).await?;
        Ok(Some(forgotten))
    }

    /// Events about a conversation (a rating's comment, the customer's id) that wait in the
    /// outbox or were sent: gone with the conversation's personal data. Conversation ids are
    /// hex, so the pattern matches only that id.
    async fn forget_events_of(&mut self, conversation_id: &str) -> Result<()> {
        let pattern = format!("%\"conversation_id\":\"{conversation_id}\"%");
        sqlx::query(
            "DELETE FROM event_attempts WHERE EXISTS (SELECT 1 FROM event_outbox o WHERE o.event_id = event_attempts.event_id
                AND o.endpoint = event_attempts.endpoint AND o.body LIKE $1)",
        )
        .bind(&pattern)
        .execute(self.conn())
        .await?;
        sqlx::query("DELETE FROM event_outbox WHERE body LIKE $1").bind(&pattern).execute(self.conn()).await?;
        Ok(())
    }

    /// The first column of a query's rows, with two text binds.
    async fn strings(&mut self, sql: &str, a: &str, b: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(sql).bind(a).bind(b).fetch_all(self.conn()).await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Redacts every message but the status events (which name no shopper), clears what the
    /// conversation kept about the shopper, and deletes its verification attempts, idempotency
    /// records (they hold copies of replies) and training examples.
    async fn forget_conversation(&mut self, id: &str, forgotten: &mut Forgotten) -> Result<()> {
        // First, so the conversation's row is locked against a turn in progress.
        sqlx::query(
            "UPDATE conversations SET contact_email = NULL, pending = NULL, rating_comment = NULL, updated_at = $2
             WHERE id = $1",
        )
        .bind(id)
        .bind(now_ms())
        .execute(self.conn())
        .await?;
        let redacted = sqlx::query(
            "UPDATE messages SET body = $2, quick_replies = NULL
             WHERE conversation_id = $1 AND sender <> 'event' AND body <> $2",
        )
        .bind(id)
        .bind(REDACTED)
        .execute(self.conn())
        .await?
        .rows_affected();
        forgotten.messages_redacted += count(redacted);
        let exported = sqlx::query(
            "SELECT COUNT(*) FROM training_examples WHERE conversation_id = $1 AND exported_at IS NOT NULL",
        )
        .bind(id)
        .fetch_one(self.conn())
        .await?
        .try_get::<i64, _>(0)?;
        forgotten.exported_examples += usize::try_from(exported).unwrap_or(0);
        forgotten.training_examples_deleted +=
            self.run_for(id, "DELETE FROM training_examples WHERE conversation_id = $1").await?;
        forgotten.verification_attempts_deleted +=
            self.run_for(id, "DELETE FROM verification_attempts WHERE conversation_id = $1").await?;
        self.run_for(id, "DELETE FROM idempotency_records WHERE conversation_id = $1").await?;
        Ok(())
    }

    /// Runs a statement whose one bind is a conversation id; returns the rows it changed.
    async fn run_for(&mut self, conversation_id: &str, sql: &'static str) -> Result<usize> {
        Ok(count(sqlx::query(sql).bind(conversation_id).execute(self.conn()).await?.rows_affected()))
    }

    /// Clears an order's email, address, checkout link, tracking and refund reasons, and keeps
    /// its number, amounts, statuses and items so the store's figures stay right. Returns 1 if
    /// the order still had any of them.
    async fn anonymise_order(&mut self, number: &str, now: i64) -> Result<usize> {
        let sql = format!(
            "UPDATE orders SET email = '', shipping_address = '', checkout_url = NULL, {BUMP_UPDATED_AT}
             WHERE number = $1 AND (email <> '' OR shipping_address <> '' OR checkout_url IS NOT NULL)"
        );
        let changed = sqlx::query(&sql).bind(number).bind(now).execute(self.conn()).await?.rows_affected();
        for sql in [
            "UPDATE shipments SET tracking_number = '', tracking_url = '' WHERE order_number = $1",
            "UPDATE refunds SET reason = '' WHERE order_number = $1",
        ] {
            sqlx::query(sql).bind(number).execute(self.conn()).await?;
        }
        Ok(count(changed))
    }
}

impl Store {
    /// Up to `limit` conversations whose last change (a message, a hand-off, an agent's
    /// action) is before `before`, oldest first.
    pub async fn idle_conversations(&self, before: i64, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM conversations WHERE updated_at < $1 ORDER BY updated_at, id LIMIT $2")
            .bind(before)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }
}

impl Tx {
    /// Deletes a conversation if it is still idle since before `before`, with its messages,
    /// hand-offs, idempotency records and shadow predictions (their foreign keys cascade), its
    /// verification attempts, and the training examples from it not yet approved (approved
    /// ones are masked, reviewed training data, and stay). Adds what went to `pruned`.
    pub async fn delete_idle_conversation(&mut self, id: &str, before: i64, pruned: &mut Pruned) -> Result<()> {
        let messages: i64 = sqlx::query("SELECT COUNT(*) FROM messages WHERE conversation_id = $1")
            .bind(id)
            .fetch_one(self.conn())
            .await?
            .try_get(0)?;
        let deleted = sqlx::query("DELETE FROM conversations WHERE id = $1 AND updated_at < $2")
            .bind(id)
            .bind(before)
            .execute(self.conn())
            .await?
            .rows_affected();
        if deleted == 0 {
            return Ok(());
        }
        pruned.conversations += 1;
        pruned.messages += usize::try_from(messages).unwrap_or(0);
        pruned.verification_attempts +=
            self.run_for(id, "DELETE FROM verification_attempts WHERE conversation_id = $1").await?;
        pruned.training_examples += self
            .run_for(id, "DELETE FROM training_examples WHERE conversation_id = $1 AND status <> 'approved'")
            .await?;
        Ok(())
    }

    /// Deletes idempotency records made before `before`; returns how many.
    pub async fn prune_idempotency_records(&mut self, before: i64) -> Result<usize> {
        self.delete_before("DELETE FROM idempotency_records WHERE created_at < $1", before).await
    }

    /// Forgets store delivery ids received before `before`, and events sent (or given up)
    /// before then with their attempts; returns how many deliveries and events.
    pub async fn prune_deliveries(&mut self, before: i64) -> Result<usize> {
        let deliveries = self.delete_before("DELETE FROM store_deliveries WHERE received_at < $1", before).await?;
        self.delete_before(
            "DELETE FROM event_attempts WHERE EXISTS (SELECT 1 FROM event_outbox o WHERE o.event_id = event_attempts.event_id
                AND o.endpoint = event_attempts.endpoint AND COALESCE(o.delivered_at, o.gave_up_at) < $1)",
            before,
        )
        .await?;
        let events = self
            .delete_before("DELETE FROM event_outbox WHERE COALESCE(delivered_at, gave_up_at) < $1", before)
            .await?;
        Ok(deliveries + events)
    }

    /// Forgets failed sign-ins and guest verifications made before `before` (they only count
    /// within their hour); returns (sign-ins, verifications).
    pub async fn prune_failed_attempts(&mut self, before: i64) -> Result<(usize, usize)> {
        let logins = self.delete_before("DELETE FROM login_failures WHERE created_at < $1", before).await?;
        let verifications =
            self.delete_before("DELETE FROM verification_attempts WHERE created_at < $1", before).await?;
        Ok((logins, verifications))
    }

    async fn delete_before(&mut self, sql: &'static str, before: i64) -> Result<usize> {
        Ok(count(sqlx::query(sql).bind(before).execute(self.conn()).await?.rows_affected()))
    }
}

fn count(rows: u64) -> usize {
    usize::try_from(rows).unwrap_or(usize::MAX)
}
