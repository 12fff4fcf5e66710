//! How a conversation ends. The bot resolves it when the shopper says its answer helped
//! (confirmed) or when nobody writes again for a while after its answer (assumed); an agent
//! resolves it; or the shopper leaves without an answer (abandoned). A shopper who writes again
//! within 24 hours of a resolution by the bot re-contacts: it no longer counts as resolved.

use serde::{Deserialize, Serialize};

use super::conversation::{Conversation, ConversationState, Pending};
use super::events::ConversationEvent;

named_enum! {
    /// The one outcome a conversation ends with.
    pub enum Outcome {
        /// The shopper said the bot's answer helped.
        BotConfirmed = "bot_confirmed",
        /// Nobody wrote again for a while after the bot's answer.
        BotAssumed = "bot_assumed",
        AgentResolved = "agent_resolved",
        /// The shopper left without an answer.
        Abandoned = "abandoned",
    }
}

impl Outcome {
    pub fn by_bot(self) -> bool {
        matches!(self, Outcome::BotConfirmed | Outcome::BotAssumed)
    }
}

/// An outcome and when it happened (Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settled {
    pub outcome: Outcome,
    pub at: i64,
}

/// A shopper who writes again within this long after a resolution by the bot re-contacts.
pub const RECONTACT_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// What a shopper message changed before the bot handled it, to finish the turn with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnStart {
    /// The outcome the message took away, and the state the conversation was in.
    reopened: Option<(Settled, ConversationState)>,
    /// The bot's answer the conversation was waiting on, and its question whether it helped.
    answered_at: Option<i64>,
    feedback: Option<Pending>,
}

/// Why a shopper may not rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("this conversation has already been rated")]
    AlreadyRated,
    #[error("there is nothing to rate yet: a conversation can be rated once it has had an answer")]
    NoAnswer,
}

impl Conversation {
    /// The bot gave an answer that may resolve the conversation: it will ask whether it did,
    /// and the time after which the resolution is assumed runs from now.
    pub fn answered(&mut self, intent: &str, now: i64) {
        self.got_answer = true;
        self.answered_at = Some(now);
        self.pending = Some(Pending::AnswerFeedback { intent: intent.to_string() });
    }

    /// The shopper said the answer helped.
    pub fn confirm_resolved(&mut self, now: i64) -> ConversationEvent {
        self.state = ConversationState::Resolved;
        self.pending = None;
        self.answered_at = None;
        self.settle(Outcome::BotConfirmed, now)
    }

    /// An agent resolved it.
    pub(super) fn resolved_by_agent(&mut self, now: i64) {
        self.state = ConversationState::Resolved;
        self.answered_at = None;
        self.outcome = Some(Settled { outcome: Outcome::AgentResolved, at: now });
    }

    /// What a conversation left alone with the bot comes to: `assume_after` milliseconds after
    /// the bot's last answer it is resolved by the bot (assumed, at the answer's time); as long
    /// after the last message, with no answer, it is abandoned (at that message's time). A
    /// "Yes" to the bot's question still confirms it later.
    pub fn settle_idle(&mut self, now: i64, assume_after: i64) -> Option<ConversationEvent> {
        if self.state != ConversationState::Bot || self.outcome.is_some() {
            return None;
        }
        match (self.answered_at, self.last_message_at) {
            (Some(answered), _) if now - answered >= assume_after => {
                self.state = ConversationState::Resolved;
                self.answered_at = None;
                Some(self.settle(Outcome::BotAssumed, answered))
            }
            (None, Some(last)) if now - last >= assume_after => Some(self.settle(Outcome::Abandoned, last)),
            _ => None,
        }
    }

    fn settle(&mut self, outcome: Outcome, at: i64) -> ConversationEvent {
        self.outcome = Some(Settled { outcome, at });
        ConversationEvent::Outcome { outcome }
    }

    /// A shopper message arrived: a settled conversation is open again, and the bot's answer
    /// no longer waits for its outcome. [`Conversation::finish_shopper_turn`] completes it.
    pub fn start_shopper_turn(&mut self) -> TurnStart {
        let reopened = self.outcome.take().map(|settled| (settled, self.state));
        if self.state == ConversationState::Resolved {
            self.state = ConversationState::Bot;
        }
        let feedback = self.pending.clone().filter(|p| matches!(p, Pending::AnswerFeedback { .. }));
        TurnStart { reopened, answered_at: self.answered_at.take(), feedback }
    }

    /// After the bot handled the message. Small talk alone (a thanks, a goodbye) leaves things
    /// as they were; otherwise a message within 24 hours of a resolution by the bot is a
    /// re-contact. A message that settled the conversation again (a late "yes") is neither.
    pub fn finish_shopper_turn(&mut self, start: TurnStart, small_talk_only: bool, now: i64) {
        if self.outcome.is_some() {
            return;
        }
        let untouched = small_talk_only && self.state == ConversationState::Bot;
        if untouched && self.answered_at.is_none() {
            // A thanks before answering the bot's question leaves the question open.
            self.answered_at = start.answered_at;
            if self.pending.is_none() {
                self.pending = start.feedback;
            }
        }
        let Some((settled, state)) = start.reopened else {
            return;
        };
        if untouched && settled.outcome != Outcome::Abandoned {
            self.state = state;
            self.outcome = Some(settled);
        } else if settled.outcome.by_bot() && now - settled.at <= RECONTACT_WINDOW_MS {
            self.recontacted = true;
        }
    }

    /// The widget asks for a rating once the conversation is resolved, if it may be rated.
    pub fn rating_wanted(&self) -> bool {
        self.state == ConversationState::Resolved && self.check_rateable().is_ok()
    }

    /// A rating needs an answer first, and there is one per conversation.
    pub fn check_rateable(&self) -> Result<(), RatingError> {
        if self.rating.is_some() {
            Err(RatingError::AlreadyRated)
        } else if !self.got_answer {
            Err(RatingError::NoAnswer)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::conversation::tests::conversation;

    const MIN: i64 = 60_000;

    fn answered_at(t: i64) -> Conversation {
        let mut c = conversation();
        c.pending = None;
        c.answered("order_status", t);
        c.last_message_at = Some(t);
        c
    }

    #[test]
    fn a_yes_resolves_it_confirmed() {
        let mut c = answered_at(0);
        assert_eq!(c.pending, Some(Pending::AnswerFeedback { intent: "order_status".into() }));
        let event = c.confirm_resolved(5);
        assert_eq!(event, ConversationEvent::Outcome { outcome: Outcome::BotConfirmed });
        assert_eq!(
            (c.state, c.outcome),
            (ConversationState::Resolved, Some(Settled { outcome: Outcome::BotConfirmed, at: 5 }))
        );
        assert!(c.got_answer && c.pending.is_none());
    }

    #[test]
    fn silence_after_an_answer_is_an_assumed_resolution_at_the_answers_time() {
        let mut c = answered_at(1_000);
        assert_eq!(c.settle_idle(1_000 + 30 * MIN - 1, 30 * MIN), None, "not yet");
        let event = c.settle_idle(1_000 + 30 * MIN, 30 * MIN);
        assert_eq!(event, Some(ConversationEvent::Outcome { outcome: Outcome::BotAssumed }));
        assert_eq!(c.outcome, Some(Settled { outcome: Outcome::BotAssumed, at: 1_000 }));
        assert_eq!(c.state, ConversationState::Resolved);
        assert_eq!(c.settle_idle(i64::MAX, 30 * MIN), None, "settled once");
        // A late "yes" still confirms it, and is not a re-contact.
        let start = c.start_shopper_turn();
        c.confirm_resolved(40 * MIN);
        c.finish_shopper_turn(start, false, 40 * MIN);
        assert_eq!(c.outcome.map(|s| s.outcome), Some(Outcome::BotConfirmed));
        assert!(!c.recontacted);
    }

    #[test]
    fn silence_without_an_answer_is_abandoned() {
        let mut c = conversation();
        c.last_message_at = Some(10);
        assert_eq!(c.settle_idle(10 + MIN, MIN), Some(ConversationEvent::Outcome { outcome: Outcome::Abandoned }));
        assert_eq!((c.state, c.outcome.map(|s| s.at)), (ConversationState::Bot, Some(10)));
    }

    #[test]
    fn a_conversation_with_a_person_is_not_settled_by_time() {
        let mut c = answered_at(0);
        c.state = ConversationState::Queued;
        assert_eq!(c.settle_idle(i64::MAX, MIN), None);
    }

    #[test]
    fn writing_again_within_24_hours_of_a_bot_resolution_is_a_recontact() {
        let mut c = answered_at(0);
        c.confirm_resolved(0);
        let start = c.start_shopper_turn();
        assert_eq!((c.state, c.outcome), (ConversationState::Bot, None));
        c.finish_shopper_turn(start, false, RECONTACT_WINDOW_MS);
        assert!(c.recontacted);

        let mut later = answered_at(0);
        later.confirm_resolved(0);
        let start = later.start_shopper_turn();
        later.finish_shopper_turn(start, false, RECONTACT_WINDOW_MS + 1);
        assert!(!later.recontacted, "a day later it is a new question");
        assert_eq!(later.outcome, None);
    }

    #[test]
    fn a_thanks_after_a_resolution_leaves_it_resolved() {
        let mut c = answered_at(0);
        c.confirm_resolved(0);
        let start = c.start_shopper_turn();
        c.finish_shopper_turn(start, true, MIN);
        assert_eq!(c.state, ConversationState::Resolved);
        assert_eq!(c.outcome.map(|s| s.outcome), Some(Outcome::BotConfirmed));
        assert!(!c.recontacted);
    }

    #[test]
    fn a_thanks_keeps_the_clock_of_the_answer_and_a_new_question_stops_it() {
        let mut c = answered_at(100);
        let start = c.start_shopper_turn();
        c.pending = None; // what the turn does with a message that does not answer the question
        c.finish_shopper_turn(start, true, 200);
        assert_eq!(c.answered_at, Some(100));
        assert!(matches!(c.pending, Some(Pending::AnswerFeedback { .. })), "the question stays open");
        let start = c.start_shopper_turn();
        c.finish_shopper_turn(start, false, 300);
        assert_eq!(c.answered_at, None);
    }

    #[test]
    fn only_an_answered_conversation_is_rated_once() {
        let mut c = conversation();
        assert_eq!(c.check_rateable(), Err(RatingError::NoAnswer));
        c.got_answer = true;
        assert_eq!(c.check_rateable(), Ok(()));
        c.rating = Some(5);
        assert_eq!(c.check_rateable(), Err(RatingError::AlreadyRated));
    }
}
