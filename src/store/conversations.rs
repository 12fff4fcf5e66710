//! Conversations, messages, idempotency records and verification attempts (reads).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError};
use crate::domain::conversation::{
    Conversation, ConversationState, Handoff, Identity, IdentitySource, Message, Sender,
};
use crate::domain::events::ConversationEvent;
use crate::domain::intent::Priority;
use crate::domain::outcome::{Outcome, Settled};
use crate::domain::quick_reply::QuickReply;
use crate::domain::triage::{DecisionKind, HandoffReason, TriageReason, TriageRecord};

pub(super) const CONVERSATION_COLUMNS: &str = "id, state, customer_id, verified_via, verified_order, contact_email, pending, clarified_last, out_of_scope_last, handoff_reason, handoff_priority, handoff_intent, attached_order, queued_at, assigned_agent, rating, last_seq, created_at, outcome, outcome_at, answered_at, recontacted, got_answer, last_message_at";
const MESSAGE_COLUMNS: &str =
    "id, seq, sender, body, quick_replies, created_at, top_intents, decision, reason, model_version, agent_id";

/// A message to append; the store gives it an id and the next sequence number.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub sender: Sender,
    pub text: String,
    pub quick_replies: Vec<QuickReply>,
    pub event: Option<ConversationEvent>,
    pub client_message_id: Option<String>,
    pub triage: Option<TriageRecord>,
    pub agent_id: Option<String>,
}

impl NewMessage {
    fn new(sender: Sender, text: String) -> Self {
        Self {
            sender,
            text,
            quick_replies: Vec::new(),
            event: None,
            client_message_id: None,
            triage: None,
            agent_id: None,
        }
    }

    pub fn bot(text: impl Into<String>, quick_replies: Vec<QuickReply>) -> Self {
        Self { quick_replies, ..Self::new(Sender::Bot, text.into()) }
    }

    /// A shopper's message, with what triage made of it and the widget's id for retries.
    pub fn shopper(text: impl Into<String>, client_message_id: &str, triage: TriageRecord) -> Self {
        Self {
            client_message_id: Some(client_message_id.to_string()),
            triage: Some(triage),
            ..Self::new(Sender::Shopper, text.into())
        }
    }

    /// An agent's reply, or a private note (`Sender::Note`).
    pub fn from_agent(sender: Sender, text: impl Into<String>, agent_id: &str) -> Self {
        Self { agent_id: Some(agent_id.to_string()), ..Self::new(sender, text.into()) }
    }

    pub fn event(event: ConversationEvent) -> Self {
        Self { event: Some(event), ..Self::new(Sender::Event, String::new()) }
    }
}

/// Failed verification attempts in a window, by conversation, by IP and by order number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationCounts {
    pub conversation: i64,
    pub ip: i64,
    /// Failures on this order number from this address.
    pub order_from_ip: i64,
    /// Failures on this order number from every address.
    pub order: i64,
}

impl Store {
    /// The conversation if `id` exists and `token_hash` is its token's hash. A wrong token and
    /// an unknown id look the same to the caller.
    pub async fn conversation_for_token(&self, id: &str, token_hash: &str) -> Result<Option<Conversation>> {
        let sql = format!("SELECT {CONVERSATION_COLUMNS}, token_hash FROM conversations WHERE id = $1");
        let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        let stored: String = row.try_get("token_hash")?;
        if !crate::util::constant_time_eq(stored.as_bytes(), token_hash.as_bytes()) {
            return Ok(None);
        }
        conversation_from_row(&row).map(Some)
    }

    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>> {
        let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1");
        match sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await? {
            Some(row) => conversation_from_row(&row).map(Some),
            None => Ok(None),
        }
    }

    /// Conversations with the bot, not settled, quiet since before `cutoff`: the bot's last
    /// answer (or, with none, the last message) is older. Only those a shopper wrote in.
    pub async fn idle_unsettled(&self, cutoff: i64, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM conversations
             WHERE state = 'bot' AND outcome IS NULL AND first_shopper_at IS NOT NULL
               AND (answered_at < $1 OR (answered_at IS NULL AND last_message_at < $1))
             ORDER BY last_message_at LIMIT $2",
        )
        .bind(cutoff)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Messages after `after`, oldest first. Private notes only when `include_notes`.
    pub async fn messages_after(&self, conversation_id: &str, after: i64, include_notes: bool) -> Result<Vec<Message>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 AND (sender <> 'note' OR $3 = 1) ORDER BY seq LIMIT 500"
        );
        let rows = sqlx::query(&sql)
            .bind(conversation_id)
            .bind(after)
            .bind(i64::from(include_notes))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// A stored response for a retried message: (hash of the first request, response JSON).
    pub async fn idempotent_response(
        &self,
        conversation_id: &str,
        client_message_id: &str,
    ) -> Result<Option<(String, String)>> {
        let row = sqlx::query(
            "SELECT request_hash, response FROM idempotency_records WHERE conversation_id = $1 AND client_message_id = $2",
        )
        .bind(conversation_id)
        .bind(client_message_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    pub async fn verification_failures(
        &self,
        conversation_id: &str,
        ip_hash: &str,
        order_hash: &str,
        since: i64,
    ) -> Result<VerificationCounts> {
        let count = |sql: &'static str, key: String| async move {
            let row = sqlx::query(sql).bind(key).bind(since).fetch_one(self.pool()).await?;
            Ok::<i64, StoreError>(row.try_get(0)?)
        };
        Ok(VerificationCounts {
            conversation: count(
                "SELECT COUNT(*) FROM verification_attempts WHERE conversation_id = $1 AND success = 0 AND created_at >= $2",
                conversation_id.to_string(),
            )
            .await?,
            ip: count("SELECT COUNT(*) FROM verification_attempts WHERE ip_hash = $1 AND success = 0 AND created_at >= $2", ip_hash.to_string())
                .await?,
            order_from_ip: {
                let sql = "SELECT COUNT(*) FROM verification_attempts WHERE order_hash = $1 AND ip_hash = $2 AND success = 0 AND created_at >= $3";
                let row = sqlx::query(sql).bind(order_hash).bind(ip_hash).bind(since).fetch_one(self.pool()).await?;
                row.try_get(0)?
            },
            order: count(
                "SELECT COUNT(*) FROM verification_attempts WHERE order_hash = $1 AND success = 0 AND created_at >= $2",
                order_hash.to_string(),
            )
            .await?,
        })
    }

    /// Row counts of the tables shoppers can write to (for tests that check nothing was stored).
    pub async fn write_counts(&self) -> Result<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for (name, sql) in [
            ("conversations", "SELECT COUNT(*) FROM conversations"),
            ("messages", "SELECT COUNT(*) FROM messages"),
            ("idempotency_records", "SELECT COUNT(*) FROM idempotency_records"),
            ("verification_attempts", "SELECT COUNT(*) FROM verification_attempts"),
            ("orders", "SELECT COUNT(*) FROM orders"),
            ("audit_log", "SELECT COUNT(*) FROM audit_log"),
        ] {
            let n: i64 = sqlx::query(sql).fetch_one(self.pool()).await?.try_get(0)?;
            out.push((name.to_string(), n));
        }
        Ok(out)
    }
}

fn json_column<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.filter(|t| !t.is_empty())
        .map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{column}: {e}"))))
        .transpose()
}

pub(super) fn conversation_from_row(r: &AnyRow) -> Result<Conversation> {
    let state: String = r.try_get("state")?;
    let via: Option<String> = r.try_get("verified_via")?;
    let identity = match via {
        Some(via) => Some(Identity {
            customer_id: r.try_get("customer_id")?,
            via: IdentitySource::parse(&via).ok_or_else(|| corrupt("verified_via", &via))?,
            order: r.try_get("verified_order")?,
        }),
        None => None,
    };
    let reason: Option<String> = r.try_get("handoff_reason")?;
    let handoff = match reason {
        Some(reason) => {
            let priority: Option<i64> = r.try_get("handoff_priority")?;
            Some(Handoff {
                reason: HandoffReason::parse(&reason).ok_or_else(|| corrupt("handoff_reason", &reason))?,
                priority: priority.and_then(Priority::from_rank).unwrap_or_default(),
                intent: r.try_get("handoff_intent")?,
                queued_at: r.try_get::<Option<i64>, _>("queued_at")?.unwrap_or_default(),
            })
        }
        None => None,
    };
    let outcome = settled_from_row(r)?;
    Ok(Conversation {
        id: r.try_get("id")?,
        state: ConversationState::parse(&state).ok_or_else(|| corrupt("conversation state", &state))?,
        identity,
        contact_email: r.try_get("contact_email")?,
        pending: json_column(r, "pending")?,
        clarified_last: r.try_get::<i64, _>("clarified_last")? != 0,
        out_of_scope_last: r.try_get::<i64, _>("out_of_scope_last")? != 0,
        handoff,
        attached_order: r.try_get("attached_order")?,
        assigned_agent: r.try_get("assigned_agent")?,
        rating: r.try_get("rating")?,
        last_seq: r.try_get("last_seq")?,
        created_at: r.try_get("created_at")?,
        outcome,
        answered_at: r.try_get("answered_at")?,
        recontacted: r.try_get::<i64, _>("recontacted")? != 0,
        got_answer: r.try_get::<i64, _>("got_answer")? != 0,
        last_message_at: r.try_get("last_message_at")?,
    })
}

/// The `outcome` and `outcome_at` columns.
pub(super) fn settled_from_row(r: &AnyRow) -> Result<Option<Settled>> {
    settled(r.try_get("outcome")?, r.try_get("outcome_at")?)
}

pub(super) fn settled(outcome: Option<String>, at: Option<i64>) -> Result<Option<Settled>> {
    outcome
        .map(|name| {
            Ok(Settled {
                outcome: Outcome::parse(&name).ok_or_else(|| corrupt("outcome", &name))?,
                at: at.unwrap_or_default(),
            })
        })
        .transpose()
}

pub(super) fn message_from_row(r: &AnyRow) -> Result<Message> {
    let sender: String = r.try_get("sender")?;
    let sender = Sender::parse(&sender).ok_or_else(|| corrupt("message sender", &sender))?;
    let decision: Option<String> = r.try_get("decision")?;
    let triage = match decision {
        Some(decision) => {
            let reason: String = r.try_get::<Option<String>, _>("reason")?.unwrap_or_default();
            Some(TriageRecord {
                intents: json_column(r, "top_intents")?.unwrap_or_default(),
                decision: DecisionKind::parse(&decision).ok_or_else(|| corrupt("decision", &decision))?,
                reason: TriageReason::parse(&reason).ok_or_else(|| corrupt("reason", &reason))?,
                model_version: r.try_get::<Option<String>, _>("model_version")?.unwrap_or_default(),
            })
        }
        None => None,
    };
    let body: String = r.try_get("body")?;
    // An event's body is the event as JSON; the message itself has no text.
    let (text, event) = match sender {
        Sender::Event => (String::new(), Some(json_column(r, "body")?.ok_or_else(|| corrupt("event", &body))?)),
        _ => (body, None),
    };
    Ok(Message {
        id: r.try_get("id")?,
        seq: r.try_get("seq")?,
        sender,
        text,
        quick_replies: json_column(r, "quick_replies")?.unwrap_or_default(),
        created_at: r.try_get("created_at")?,
        event,
        triage,
        agent_id: r.try_get("agent_id")?,
        label: None,
    })
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}
