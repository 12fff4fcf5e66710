//! Writes that belong together, in one transaction. Each transaction that changes a
//! conversation starts by locking its row (an UPDATE), which takes SQLite's write lock at once
//! and PostgreSQL's row lock, so messages of one conversation are processed one at a time.

use sqlx::{Any, Transaction};

use super::conversations::{CONVERSATION_COLUMNS, NewMessage, conversation_from_row};
use super::listener::NOTIFY_CHANNEL;
use super::orders::{ORDER_COLUMNS, order_from_row};
use super::{Engine, Result, now_ms};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::conversation::{Conversation, Identity, Message};
use crate::domain::orders::Order;

pub struct Tx {
    tx: Transaction<'static, Any>,
    engine: Engine,
    /// Held until the transaction ends (see `Store::begin`).
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Tx {
    pub(super) fn new(
        tx: Transaction<'static, Any>,
        engine: Engine,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Self {
        Self { tx, engine, _permit: permit }
    }

    pub(super) fn engine(&self) -> Engine {
        self.engine
    }

    pub(super) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn create_conversation(
        &mut self,
        id: &str,
        token_hash: &str,
        identity: Option<&Identity>,
    ) -> Result<Conversation> {
        let now = now_ms();
        let sql = format!(
            "INSERT INTO conversations (id, token_hash, state, customer_id, verified_via, verified_order, last_seq, created_at, updated_at)
             VALUES ($1, $2, 'bot', $3, $4, $5, 0, $6, $6) RETURNING {CONVERSATION_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(token_hash)
            .bind(identity.and_then(|i| i.customer_id.clone()))
            .bind(identity.map(|i| i.via.name()))
            .bind(identity.and_then(|i| i.order.clone()))
            .bind(now)
            .fetch_one(&mut *self.tx)
            .await?;
        conversation_from_row(&row)
    }

    /// Locks and returns a conversation for changing it.
    pub async fn lock_conversation(&mut self, id: &str) -> Result<Option<Conversation>> {
        let sql = format!("UPDATE conversations SET updated_at = $2 WHERE id = $1 RETURNING {CONVERSATION_COLUMNS}");
        match sqlx::query(&sql).bind(id).bind(now_ms()).fetch_optional(&mut *self.tx).await? {
            Some(row) => conversation_from_row(&row).map(Some),
            None => Ok(None),
        }
    }

    /// Appends a message with the conversation's next sequence number.
    pub async fn append(&mut self, conversation: &mut Conversation, message: NewMessage) -> Result<Message> {
        let seq = conversation.last_seq + 1;
        let sender = message.sender;
        let now = now_ms();
        let id = crate::util::random_hex(16);
        let quick_replies = (!message.quick_replies.is_empty()).then(|| to_json(&message.quick_replies));
        let triage = message.triage.as_ref();
        let body = match &message.event {
            Some(event) => to_json(event),
            None => message.text.clone(),
        };
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, seq, sender, body, quick_replies, agent_id, client_message_id,
                top_intents, decision, reason, model_version, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&id)
        .bind(&conversation.id)
        .bind(seq)
        .bind(sender.name())
        .bind(body)
        .bind(quick_replies)
        .bind(&message.agent_id)
        .bind(&message.client_message_id)
        .bind(triage.map(|t| to_json(&t.intents)))
        .bind(triage.map(|t| t.decision.name()))
        .bind(triage.map(|t| t.reason.name()))
        .bind(triage.map(|t| t.model_version.clone()))
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        conversation.last_seq = seq;
        Ok(Message {
            id,
            seq,
            sender,
            text: message.text,
            quick_replies: message.quick_replies,
            created_at: now,
            event: message.event,
            triage: message.triage,
            agent_id: message.agent_id,
            label: None,
        })
    }

    /// Writes every mutable field of the conversation back.
    pub async fn save_conversation(&mut self, c: &Conversation) -> Result<()> {
        let pending = c.pending.as_ref().map(to_json);
        let handoff = c.handoff.as_ref();
        sqlx::query(
            "UPDATE conversations SET state = $2, customer_id = $3, verified_via = $4, verified_order = $5, contact_email = $6,
                pending = $7, clarified_last = $8, out_of_scope_last = $9, handoff_reason = $10, handoff_priority = $11,
                handoff_intent = $12, attached_order = $13, queued_at = $14, assigned_agent = $15, rating = $16,
                last_seq = $17, updated_at = $18
             WHERE id = $1",
        )
        .bind(&c.id)
        .bind(c.state.name())
        .bind(c.identity.as_ref().and_then(|i| i.customer_id.clone()))
        .bind(c.identity.as_ref().map(|i| i.via.name()))
        .bind(c.identity.as_ref().and_then(|i| i.order.clone()))
        .bind(&c.contact_email)
        .bind(pending)
        .bind(i64::from(c.clarified_last))
        .bind(i64::from(c.out_of_scope_last))
        .bind(handoff.map(|h| h.reason.name()))
        .bind(handoff.map(|h| h.priority.rank()))
        .bind(handoff.and_then(|h| h.intent.clone()))
        .bind(&c.attached_order)
        .bind(handoff.map(|h| h.queued_at))
        .bind(&c.assigned_agent)
        .bind(c.rating)
        .bind(c.last_seq)
        .bind(now_ms())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn save_rating_comment(&mut self, conversation_id: &str, comment: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE conversations SET rating_comment = $2 WHERE id = $1")
            .bind(conversation_id)
            .bind(comment)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn save_idempotency(
        &mut self,
        conversation_id: &str,
        client_message_id: &str,
        request_hash: &str,
        response: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO idempotency_records (conversation_id, client_message_id, request_hash, response, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(conversation_id)
        .bind(client_message_id)
        .bind(request_hash)
        .bind(response)
        .bind(now_ms())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// A stored response, read inside the transaction (after the conversation lock) so two
    /// concurrent retries cannot both miss it.
    pub async fn idempotent_response(
        &mut self,
        conversation_id: &str,
        client_message_id: &str,
    ) -> Result<Option<(String, String)>> {
        let row = sqlx::query(
            "SELECT request_hash, response FROM idempotency_records WHERE conversation_id = $1 AND client_message_id = $2",
        )
        .bind(conversation_id)
        .bind(client_message_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| (sqlx::Row::get(&r, 0), sqlx::Row::get(&r, 1))))
    }

    pub async fn record_verification(
        &mut self,
        conversation_id: &str,
        ip_hash: &str,
        order_hash: &str,
        success: bool,
    ) -> Result<()> {
        sqlx::query("INSERT INTO verification_attempts (conversation_id, ip_hash, order_hash, success, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(conversation_id)
            .bind(ip_hash)
            .bind(order_hash)
            .bind(i64::from(success))
            .bind(now_ms())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// Creates the order of a confirmed reorder once: a second call with the same `key` (a
    /// retried or concurrent confirmation) returns the order the first one created.
    pub async fn create_reorder(&mut self, order: &Order, key: &str) -> Result<Order> {
        let inserted = sqlx::query(
            "INSERT INTO orders (number, customer_id, email, status, placed_at, total_cents, currency, shipping_address,
                source_order_number, reorder_key, checkout_url, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $5)
             ON CONFLICT (reorder_key) DO NOTHING",
        )
        .bind(&order.number)
        .bind(&order.customer_id)
        .bind(&order.email)
        .bind(order.status.name())
        .bind(order.placed_at)
        .bind(order.total_cents)
        .bind(&order.currency)
        .bind(&order.shipping_address)
        .bind(&order.source_order_number)
        .bind(key)
        .bind(&order.checkout_url)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            self.write_order_children(order).await?;
            return Ok(order.clone());
        }
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE reorder_key = $1");
        let row = sqlx::query(&sql).bind(key).fetch_one(&mut *self.tx).await?;
        order_from_row(&row)
    }

    /// Appends one row to the audit log.
    pub async fn audit(
        &mut self,
        actor: &Actor,
        action: AuditAction,
        conversation_id: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, conversation_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(crate::util::random_hex(16))
        .bind(now_ms())
        .bind(actor.label())
        .bind(action.name())
        .bind(conversation_id)
        .bind(detail.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Tells other instances (PostgreSQL) that a conversation changed; sent on commit.
    pub async fn notify(&mut self, conversation_id: &str, seq: i64) -> Result<()> {
        if self.engine == Engine::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(format!("{conversation_id}:{seq}"))
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}

/// The stored form of JSON columns.
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
