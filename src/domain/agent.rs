//! Support agents, what the queue shows about a conversation, and agents' training examples.

use serde::{Deserialize, Serialize};

use super::conversation::ConversationState;
use super::intent::Priority;
use super::model::ExampleSource;
use super::triage::HandoffReason;

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
    /// Locked after a flood of failed sign-ins, until an admin unlocks it.
    pub locked: bool,
}

/// An agent as a conversation's events name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRef {
    pub id: String,
    pub name: String,
}

impl From<&Agent> for AgentRef {
    fn from(agent: &Agent) -> Self {
        AgentRef { id: agent.id.clone(), name: agent.name.clone() }
    }
}

/// A conversation as the queue lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueEntry {
    pub conversation_id: String,
    pub state: ConversationState,
    pub reason: Option<HandoffReason>,
    pub priority: Option<Priority>,
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

named_enum! {
    /// Where a labelled example stands in review.
    #[derive(PartialOrd, Ord)]
    pub enum ExampleStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

/// An agent's label on a shopper message, personal data masked: a training example once an
/// admin approves it. One per message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingExample {
    pub id: String,
    pub text: String,
    pub intent: String,
    pub status: ExampleStatus,
    pub source: ExampleSource,
    pub message_id: String,
    pub conversation_id: String,
    pub agent_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}
