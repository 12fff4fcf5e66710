//! Conversation events: the changes in a conversation's life that its transcript records as
//! status lines. They are stored and sent as JSON objects, for example
//! `{"type":"state","state":"assigned","agent":{"id":"a1","name":"Sam"}}`; the widget and the
//! console each put them in their own words.

use serde::{Deserialize, Serialize};

use super::agent::AgentRef;
use super::outcome::Outcome;
use super::triage::HandoffReason;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConversationEvent {
    /// The conversation moved to another state.
    State(StateChange),
    /// The bot resolved the conversation (confirmed by the shopper or assumed after a silence),
    /// or the shopper left without an answer.
    Outcome { outcome: Outcome },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StateChange {
    /// Waiting for a person. `reason` is always the hand-off's first reason; `released_by` is
    /// set when an agent put the conversation back in the queue.
    Queued {
        reason: HandoffReason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        released_by: Option<AgentRef>,
    },
    /// A person has it: they claimed it, it was given to them (`auto`), or an admin moved it
    /// to them (`reassigned_by`).
    Assigned {
        agent: AgentRef,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        auto: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reassigned_by: Option<AgentRef>,
    },
    /// An agent handed it back to the bot.
    Bot { returned_by: AgentRef },
    /// An agent resolved it.
    Resolved { resolved_by: AgentRef },
}

impl From<StateChange> for ConversationEvent {
    fn from(change: StateChange) -> Self {
        ConversationEvent::State(change)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sam() -> AgentRef {
        AgentRef { id: "a1".into(), name: "Sam".into() }
    }

    #[test]
    fn events_are_flat_json_objects_with_a_type_and_a_state() {
        let claimed: ConversationEvent =
            StateChange::Assigned { agent: sam(), auto: false, reassigned_by: None }.into();
        assert_eq!(
            serde_json::to_value(&claimed).unwrap(),
            json!({"type": "state", "state": "assigned", "agent": {"id": "a1", "name": "Sam"}})
        );
        let queued: ConversationEvent =
            StateChange::Queued { reason: HandoffReason::Sensitive, released_by: None }.into();
        assert_eq!(
            serde_json::to_value(&queued).unwrap(),
            json!({"type": "state", "state": "queued", "reason": "sensitive"})
        );
        let released: ConversationEvent =
            StateChange::Queued { reason: HandoffReason::LowConfidence, released_by: Some(sam()) }.into();
        assert_eq!(
            serde_json::to_value(&released).unwrap(),
            json!({"type": "state", "state": "queued", "reason": "low_confidence", "released_by": {"id": "a1", "name": "Sam"}})
        );
    }

    #[test]
    fn every_event_reads_back_as_written() {
        let events: Vec<ConversationEvent> = vec![
            StateChange::Queued { reason: HandoffReason::HandlerError, released_by: Some(sam()) }.into(),
            StateChange::Assigned { agent: sam(), auto: true, reassigned_by: None }.into(),
            StateChange::Assigned { agent: sam(), auto: false, reassigned_by: Some(sam()) }.into(),
            StateChange::Bot { returned_by: sam() }.into(),
            StateChange::Resolved { resolved_by: sam() }.into(),
            ConversationEvent::Outcome { outcome: Outcome::BotAssumed },
        ];
        for event in events {
            let text = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<ConversationEvent>(&text).unwrap(), event, "{text}");
        }
    }
}
