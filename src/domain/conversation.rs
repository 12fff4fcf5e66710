//! Conversations and their messages, as stored and as shown.

use serde::{Deserialize, Serialize};

use super::triage::IntentScore;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// The bot answers.
    Bot,
    /// Waiting for a person.
    Queued,
    /// A person has it.
    Assigned,
    Resolved,
}

impl ConversationState {
    pub fn name(self) -> &'static str {
        match self {
            ConversationState::Bot => "bot",
            ConversationState::Queued => "queued",
            ConversationState::Assigned => "assigned",
            ConversationState::Resolved => "resolved",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Bot, Self::Queued, Self::Assigned, Self::Resolved].into_iter().find(|s| s.name() == name)
    }

    /// The bot stays silent while a person has (or is about to have) the conversation.
    pub fn bot_is_silent(self) -> bool {
        matches!(self, Self::Queued | Self::Assigned)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    Shopper,
    Bot,
    Agent,
    /// A private agent note, never shown to the shopper.
    Note,
    /// A state change (hand-off, agent joined, resolved), shown as a status line.
    Event,
}

impl Sender {
    pub fn name(self) -> &'static str {
        match self {
            Sender::Shopper => "shopper",
            Sender::Bot => "bot",
            Sender::Agent => "agent",
            Sender::Note => "note",
            Sender::Event => "event",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Shopper, Self::Bot, Self::Agent, Self::Note, Self::Event].into_iter().find(|s| s.name() == name)
    }
}

/// A button under a bot message; clicking it sends `value` as the message's `quick_reply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub label: String,
    pub value: String,
}

/// What the classifier and the policy made of a shopper message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageRecord {
    pub intents: Vec<IntentScore>,
    pub decision: String,
    pub reason: String,
    pub model_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub seq: i64,
    pub sender: Sender,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quick_replies: Vec<QuickReply>,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// What the bot is waiting for from the shopper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pending {
    /// An order number and email, to verify a guest before an order handler runs.
    Verification { intent: String, order_number: Option<String>, email: Option<String> },
    /// A yes or no for re-ordering `source`; `key` makes the new order unique.
    ReorderConfirmation { source: String, key: String },
    /// Which of several listed orders the shopper means, for `intent`'s handler.
    OrderChoice { intent: String },
}

/// How the conversation's shopper was identified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub customer_id: Option<String>,
    /// `token` (signed in) or `guest` (order number + email).
    pub via: String,
    /// For guests: the order they verified with; they see orders with that order's email.
    pub order: Option<String>,
}

/// A conversation as the service works with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: String,
    pub state: ConversationState,
    pub identity: Option<Identity>,
    pub contact_email: Option<String>,
    pub pending: Option<Pending>,
    pub clarified_last: bool,
    pub out_of_scope_last: bool,
    pub handoff_reason: Option<String>,
    pub handoff_priority: Option<i64>,
    pub handoff_intent: Option<String>,
    pub attached_order: Option<String>,
    pub queued_at: Option<i64>,
    pub assigned_agent: Option<String>,
    pub rating: Option<i64>,
    pub last_seq: i64,
    pub created_at: i64,
}
