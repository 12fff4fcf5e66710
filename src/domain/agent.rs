//! Support agents and what the queue shows about a conversation.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    pub disabled: bool,
    /// Sessions that started before this (Unix ms) are void.
    #[serde(skip)]
    pub sessions_valid_after: i64,
}

/// A conversation as the queue lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueEntry {
    pub conversation_id: String,
    pub state: String,
    pub reason: Option<String>,
    pub priority: Option<i64>,
    pub intent: Option<String>,
    pub attached_order: Option<String>,
    pub verified: bool,
    pub assigned_agent: Option<String>,
    pub assigned_agent_name: Option<String>,
    pub customer_name: Option<String>,
    pub queued_at: Option<i64>,
    pub waiting_ms: Option<i64>,
    pub last_seq: i64,
    pub last_message: Option<String>,
    pub updated_at: i64,
}

/// An agent's label on a shopper message: a training example waiting for review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingExample {
    pub id: String,
    pub text: String,
    pub intent: String,
    pub status: String,
    pub message_id: String,
    pub conversation_id: String,
    pub agent_id: String,
    pub created_at: i64,
}
