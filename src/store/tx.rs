//! Writes that belong together, in one transaction. Each transaction that changes a
//! conversation starts by locking its row (an UPDATE), which takes SQLite's write lock at once
//! and PostgreSQL's row lock, so messages of one conversation are processed one at a time.

use std::sync::Arc;

use sqlx::{Any, Row, Transaction};

use super::conversations::{CONVERSATION_COLUMNS, NewMessage, conversation_from_row};
use super::listener::{Change, NOTIFY_CHANNEL};
use super::outbox::Outbox;
use super::{Engine, Result, StoreError, now_ms};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::cart::Cart;
use crate::domain::conversation::{Conversation, Identity, Message, Sender};
use crate::domain::events::{ConversationEvent, StateChange};
use crate::domain::outbound::{EventKind, OutboundEvent};

pub struct Tx {
    tx: Transaction<'static, Any>,
    engine: Engine,
    /// Held until the transaction ends (see `Store::begin`).
    _permit: tokio::sync::OwnedSemaphorePermit,
    outbox: Arc<Outbox>,
    /// Whether an event was queued: the sender is woken on commit.
    emitted: bool,
}

impl Tx {
    pub(super) fn new(
        tx: Transaction<'static, Any>,
        engine: Engine,
        permit: tokio::sync::OwnedSemaphorePermit,
        outbox: Arc<Outbox>,
    ) -> Self {
        Self { tx, engine, _permit: permit, outbox, emitted: false }
    }

    pub(super) fn engine(&self) -> Engine {
        self.engine
    }

    pub(super) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        if self.emitted {
            self.outbox.wake();
        }
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
        let top = triage.and_then(|t| t.intents.first());
        // A NULL float does not bind on PostgreSQL through sqlx's Any driver: written in the SQL.
        let confidence = if top.is_some() { "$15" } else { "NULL" };
        let sql = format!(
            "INSERT INTO messages (id, conversation_id, seq, sender, body, quick_replies, agent_id, client_message_id,
                top_intents, decision, reason, model_version, created_at, top_intent, top_confidence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, {confidence})"
        );
        let mut insert = sqlx::query(&sql)
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
            .bind(top.map(|s| s.intent.clone()));
        if let Some(top) = top {
            insert = insert.bind(f64::from(top.confidence));
        }
        insert.execute(&mut *self.tx).await?;
        conversation.last_seq = seq;
        conversation.last_message_at = Some(now);
        match (&message.event, sender) {
            (Some(event), _) => {
                self.record_handoff_change(conversation, event, now).await?;
                if let Some((kind, data)) = crate::domain::outbound::for_conversation(conversation, event) {
                    self.emit(kind, data).await?;
                }
            }
            (None, Sender::Agent) => self.record_first_agent_reply(&conversation.id, now).await?,
            (None, Sender::Shopper) => {
                if let Some(t) = triage {
                    let (intent, version) = (top.map(|s| s.intent.as_str()), Some(t.model_version.as_str()));
                    self.mark_started(&conversation.id, now, intent, version).await?;
                }
            }
            _ => {}
        }
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
                last_seq = $17, updated_at = $18, outcome = $19, outcome_at = $20, answered_at = $21, recontacted = $22,
                got_answer = $23, last_message_at = $24
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
        .bind(c.outcome.map(|s| s.outcome.name()))
        .bind(c.outcome.map(|s| s.at))
        .bind(c.answered_at)
        .bind(i64::from(c.recontacted))
        .bind(i64::from(c.got_answer))
        .bind(c.last_message_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The rating's comment and time (the score is saved with the conversation).
    pub async fn save_rating_details(&mut self, conversation_id: &str, comment: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE conversations SET rating_comment = $2, rated_at = $3 WHERE id = $1")
            .bind(conversation_id)
            .bind(comment)
            .bind(now_ms())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// When the shopper started the conversation (their first message, or asking for a person
    /// before writing), with that message's top intent and model version: what places the
    /// conversation in the figures' time windows and groups. Only the first call counts.
    pub async fn mark_started(
        &mut self,
        conversation_id: &str,
        at: i64,
        intent: Option<&str>,
        model_version: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE conversations SET first_shopper_at = $2, first_intent = $3, first_model_version = $4
             WHERE id = $1 AND first_shopper_at IS NULL",
        )
        .bind(conversation_id)
        .bind(at)
        .bind(intent)
        .bind(model_version)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Keeps the hand-off's row in step with the conversation's events: a queueing (not a
    /// release) starts one with its reason, the first claim and the end are timed.
    async fn record_handoff_change(&mut self, c: &Conversation, event: &ConversationEvent, now: i64) -> Result<()> {
        let update = |sql: &'static str| sqlx::query(sql).bind(c.id.clone()).bind(now);
        let query = match event {
            ConversationEvent::State(StateChange::Queued { released_by: None, .. }) => {
                let Some(handoff) = &c.handoff else { return Ok(()) };
                sqlx::query(
                    "INSERT INTO handoffs (id, conversation_id, reason, intent, queued_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (conversation_id) WHERE ended_at IS NULL DO NOTHING",
                )
                .bind(crate::util::random_hex(16))
                .bind(c.id.clone())
                .bind(handoff.reason.name())
                .bind(handoff.intent.clone())
                .bind(handoff.queued_at)
            }
            ConversationEvent::State(StateChange::Assigned { .. }) => update(
                "UPDATE handoffs SET first_claimed_at = COALESCE(first_claimed_at, $2) WHERE conversation_id = $1 AND ended_at IS NULL",
            ),
            ConversationEvent::State(StateChange::Bot { .. }) => update(
                "UPDATE handoffs SET ended_at = $2, ended_by = 'returned' WHERE conversation_id = $1 AND ended_at IS NULL",
            ),
            ConversationEvent::State(StateChange::Resolved { .. }) => update(
                "UPDATE handoffs SET ended_at = $2, ended_by = 'resolved' WHERE conversation_id = $1 AND ended_at IS NULL",
            ),
            ConversationEvent::State(StateChange::Queued { .. }) | ConversationEvent::Outcome { .. } => return Ok(()),
        };
        query.execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn record_first_agent_reply(&mut self, conversation_id: &str, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE handoffs SET first_agent_reply_at = COALESCE(first_agent_reply_at, $2)
             WHERE conversation_id = $1 AND ended_at IS NULL",
        )
        .bind(conversation_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The agent resolving the open hand-off says the bot could have answered it, with `intent`.
    pub async fn mark_could_have_answered(&mut self, conversation_id: &str, intent: &str) -> Result<()> {
        sqlx::query("UPDATE handoffs SET could_have_answered = $2 WHERE conversation_id = $1 AND ended_at IS NULL")
            .bind(conversation_id)
            .bind(intent)
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

    /// Records the cart the bot gave for a reorder proposal, once: a second call with the same
    /// `key` (a second yes, a retry) returns the cart recorded first, and `false`.
    pub async fn record_cart(
        &mut self,
        conversation_id: &str,
        key: &str,
        source_order: &str,
        cart: &Cart,
    ) -> Result<(Cart, bool)> {
        let inserted = sqlx::query(
            "INSERT INTO cart_links (proposal_key, conversation_id, source_order, cart, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (proposal_key) DO NOTHING",
        )
        .bind(key)
        .bind(conversation_id)
        .bind(source_order)
        .bind(to_json(cart))
        .bind(now_ms())
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok((cart.clone(), true));
        }
        let row = sqlx::query("SELECT cart FROM cart_links WHERE proposal_key = $1")
            .bind(key)
            .fetch_one(&mut *self.tx)
            .await?;
        let json: String = row.try_get(0)?;
        let stored = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("cart link: {e}")))?;
        Ok((stored, false))
    }

    /// Queues an event for every event endpoint, in this transaction: it is sent if and only
    /// if the change it reports is committed. Nothing is queued when no endpoint is set.
    pub async fn emit(&mut self, kind: EventKind, data: serde_json::Value) -> Result<()> {
        let endpoints = self.outbox.endpoints();
        if endpoints.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let event = OutboundEvent::new(format!("evt_{}", crate::util::random_hex(16)), kind, now, data);
        let body = event.body();
        for endpoint in endpoints.iter() {
            sqlx::query(
                "INSERT INTO event_outbox (event_id, endpoint, kind, body, created_at, attempts, next_attempt_at)
                 VALUES ($1, $2, $3, $4, $5, 0, $5)",
            )
            .bind(&event.id)
            .bind(endpoint)
            .bind(kind.name())
            .bind(&body)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        }
        self.emitted = true;
        Ok(())
    }

    /// The text of the conversation's latest stored shopper message (the one before the
    /// message being handled, which is stored after its turn).
    pub async fn last_shopper_text(&mut self, conversation_id: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT body FROM messages WHERE conversation_id = $1 AND sender = 'shopper' ORDER BY seq DESC LIMIT 1",
        )
        .bind(conversation_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
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
    pub async fn notify(&mut self, change: &Change) -> Result<()> {
        if self.engine == Engine::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(change.payload())
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
