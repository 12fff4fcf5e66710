//! Events for the store's own systems (a CRM, a helpdesk, a data warehouse): what happened in
//! conversations, sent as signed JSON to the endpoints the store names. Each event has an id
//! that stays the same across delivery attempts, so a receiver can recognise a repeat.
//!
//! A request carries `X-Switchboard-Event-Id`, `X-Switchboard-Timestamp` (Unix seconds, of
//! the attempt) and `X-Switchboard-Signature: sha256=HEX`, the HMAC-SHA256 of
//! `TIMESTAMP.BODY` with the event secret.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;

use super::conversation::Conversation;
use super::events::{ConversationEvent, StateChange};
use super::outcome::Outcome;

named_enum! {
    /// What an event reports.
    pub enum EventKind {
        /// A conversation went to the queue of people.
        HandedOff = "conversation.handed_off",
        /// A conversation ended resolved, by an agent or by the bot.
        Resolved = "conversation.resolved",
        /// The bot gave a shopper a cart link for ordering again.
        ReorderLinkCreated = "reorder.link_created",
        /// A shopper rated a conversation.
        RatingCreated = "rating.created",
    }
}

pub const EVENT_ID_HEADER: &str = "X-Switchboard-Event-Id";
pub const TIMESTAMP_HEADER: &str = "X-Switchboard-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Switchboard-Signature";

/// An event as it is sent: `{"id", "type", "created_at", "data"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboundEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// RFC 3339.
    pub created_at: String,
    pub data: Value,
}

impl OutboundEvent {
    pub fn new(id: String, kind: EventKind, created_at_ms: i64, data: Value) -> Self {
        Self { id, kind, created_at: super::orders::updated_at::format(created_at_ms), data }
    }

    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The event a conversation event reports, if any: the first queueing of a hand-off, and a
/// resolution (by an agent, or by the bot when the shopper confirmed or went quiet).
pub fn for_conversation(c: &Conversation, event: &ConversationEvent) -> Option<(EventKind, Value)> {
    let customer = c.identity.as_ref().and_then(|i| i.customer_id.clone());
    match event {
        ConversationEvent::State(StateChange::Queued { released_by: None, reason }) => {
            let handoff = c.handoff.as_ref();
            Some((
                EventKind::HandedOff,
                json!({
                    "conversation_id": c.id,
                    "reason": reason.name(),
                    "priority": handoff.map(|h| h.priority.name()),
                    "intent": handoff.and_then(|h| h.intent.clone()),
                    "order": c.attached_order,
                    "customer_id": customer,
                }),
            ))
        }
        ConversationEvent::State(StateChange::Resolved { resolved_by }) => Some((
            EventKind::Resolved,
            json!({
                "conversation_id": c.id,
                "outcome": Outcome::AgentResolved.name(),
                "agent_id": resolved_by.id,
                "customer_id": customer,
            }),
        )),
        ConversationEvent::Outcome { outcome } if outcome.by_bot() => Some((
            EventKind::Resolved,
            json!({"conversation_id": c.id, "outcome": outcome.name(), "agent_id": null, "customer_id": customer}),
        )),
        _ => None,
    }
}

/// `sha256=HEX`: the HMAC-SHA256 of `TIMESTAMP.BODY` with `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// How many times an event is tried before it is given up (about a day and a half at the
/// default pace).
pub const MAX_ATTEMPTS: i64 = 40;

/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How long to wait after the `attempts`-th failed attempt: `first`, doubling each time, up to
/// an hour. With the default first wait of 2 s, five attempts happen within the first minute.
pub fn backoff(first: Duration, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    first.saturating_mul(2u32.saturating_pow(doublings)).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            signature("secret", 1_700_000_000, r#"{"a":1}"#),
            "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }

    #[test]
    fn retries_double_from_the_first_wait_up_to_an_hour() {
        let first = Duration::from_secs(2);
        let waits: Vec<u64> = (1..=6).map(|n| backoff(first, n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64]);
        assert!(waits[..4].iter().sum::<u64>() < 60, "the first retries come within a minute");
        assert_eq!(backoff(first, 30), MAX_BACKOFF);
        assert_eq!(backoff(first, MAX_ATTEMPTS), MAX_BACKOFF);
    }

    #[test]
    fn an_event_is_a_flat_json_object_with_its_type() {
        let e = OutboundEvent::new(
            "evt_1".into(),
            EventKind::RatingCreated,
            1_740_830_400_000,
            serde_json::json!({"rating": 5}),
        );
        let v: Value = serde_json::from_str(&e.body()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"id": "evt_1", "type": "rating.created", "created_at": "2025-03-01T12:00:00.000Z", "data": {"rating": 5}})
        );
    }
}
