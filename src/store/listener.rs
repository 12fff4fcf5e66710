//! Changes committed by other instances sharing a PostgreSQL database. Every transaction that
//! changes a conversation NOTIFYs `conversation_id:seq:state:assigned_agent_id` (ids and state
//! only, no content) on commit, and one that promotes, rolls back or shadows a model version
//! NOTIFYs the models channel.

use sqlx::postgres::PgListener;

use super::{Result, Store};
use crate::domain::conversation::{Conversation, ConversationState};

/// The channel conversation changes go to.
pub(super) const NOTIFY_CHANNEL: &str = "switchboard_events";
/// The channel model changes go to.
pub(super) const MODELS_CHANNEL: &str = "switchboard_models";

/// A conversation has new messages or a new state, up to `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub conversation_id: String,
    pub seq: i64,
    /// The state and assignee it was committed with, when known (not for a resync, nor from an
    /// older instance): enough for an agent's stream to tell whether the change concerns it.
    pub state: Option<ConversationState>,
    pub assigned_agent: Option<String>,
}

impl Change {
    /// The change a commit of `conversation` makes.
    pub fn of(conversation: &Conversation) -> Self {
        Self {
            conversation_id: conversation.id.clone(),
            seq: conversation.last_seq,
            state: Some(conversation.state),
            assigned_agent: conversation.assigned_agent.clone(),
        }
    }

    /// Everything may have changed: every stream reads again.
    pub fn everything(conversation_id: &str) -> Self {
        Self { conversation_id: conversation_id.to_string(), seq: i64::MAX, state: None, assigned_agent: None }
    }

    /// The NOTIFY payload.
    pub(super) fn payload(&self) -> String {
        let state = self.state.map_or("", ConversationState::name);
        format!("{}:{}:{state}:{}", self.conversation_id, self.seq, self.assigned_agent.as_deref().unwrap_or(""))
    }

    /// Reads a NOTIFY payload, also the `conversation_id:seq` of older instances.
    pub(super) fn from_payload(payload: &str) -> Option<Self> {
        let mut parts = payload.splitn(4, ':');
        let (id, seq) = (parts.next()?, parts.next()?);
        let state = parts.next().and_then(ConversationState::parse);
        let assigned_agent = parts.next().filter(|a| !a.is_empty()).map(str::to_string);
        Some(Self { conversation_id: id.to_string(), seq: seq.parse().unwrap_or(i64::MAX), state, assigned_agent })
    }
}

/// What another instance committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Conversation(Change),
    /// The live model or the one in shadow changed.
    Models,
}

/// A dedicated connection listening for [`Notice`]s.
pub struct ChangeListener {
    listener: PgListener,
}

impl Store {
    /// Starts listening for changes made by any instance (PostgreSQL only).
    pub async fn listen(&self) -> Result<ChangeListener> {
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen_all([NOTIFY_CHANNEL, MODELS_CHANNEL]).await?;
        Ok(ChangeListener { listener })
    }
}

impl ChangeListener {
    /// The next notice. `Ok(None)` means the connection dropped and has been re-established:
    /// notices sent meanwhile were missed, so everything should be read again.
    pub async fn next(&mut self) -> Result<Option<Notice>> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(None);
            };
            if notification.channel() == MODELS_CHANNEL {
                return Ok(Some(Notice::Models));
            }
            if let Some(change) = Change::from_payload(notification.payload()) {
                return Ok(Some(Notice::Conversation(change)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_old_ones_still_read() {
        let change = Change {
            conversation_id: "ab12".into(),
            seq: 7,
            state: Some(ConversationState::Assigned),
            assigned_agent: Some("agent-1".into()),
        };
        assert_eq!(Change::from_payload(&change.payload()), Some(change));
        let unassigned =
            Change { state: Some(ConversationState::Bot), assigned_agent: None, ..Change::everything("c") };
        assert_eq!(Change::from_payload(&unassigned.payload()), Some(unassigned));
        let old = Change::from_payload("ab12:9").expect("an older instance's payload");
        assert_eq!((old.conversation_id.as_str(), old.seq, old.state, old.assigned_agent), ("ab12", 9, None, None));
        assert_eq!(Change::from_payload("no-separator"), None);
    }
}
