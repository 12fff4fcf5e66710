//! One shopper turn: pending confirmations and verification first, then the triage policy,
//! then the chosen action. Replies are collected in a [`Turn`] and stored by the service.

use super::service::{ChatError, ChatService};
use crate::domain::conversation::{Conversation, ConversationState, Pending, QuickReply, Sender, TriageRecord};
use crate::domain::intent::{Action, Priority};
use crate::domain::parse;
use crate::domain::triage::{Decision, HandoffReason, History, Ranking, decide};
use crate::store::{NewMessage, Tx};

/// Quick-reply values the widget sends back.
pub const QUICK_HANDOFF: &str = "handoff";
pub const QUICK_VERIFY_FORM: &str = "verify_form";
pub const QUICK_YES: &str = "confirm:yes";
pub const QUICK_NO: &str = "confirm:no";
pub const QUICK_INTENT_PREFIX: &str = "intent:";
pub const QUICK_ORDER_PREFIX: &str = "order:";

/// The bot's side of a turn, in order.
#[derive(Default)]
pub struct Turn {
    pub messages: Vec<NewMessage>,
}

impl Turn {
    pub fn say(&mut self, text: impl Into<String>) {
        self.say_with(text, Vec::new());
    }

    pub fn say_with(&mut self, text: impl Into<String>, quick_replies: Vec<QuickReply>) {
        self.messages.push(NewMessage {
            sender: Some(Sender::Bot),
            text: text.into(),
            quick_replies,
            ..Default::default()
        });
    }

    /// A state change shown as a status line.
    pub fn event(&mut self, text: impl Into<String>) {
        self.messages.push(NewMessage { sender: Some(Sender::Event), text: text.into(), ..Default::default() });
    }
}

pub fn quick(label: &str, value: &str) -> QuickReply {
    QuickReply { label: label.to_string(), value: value.to_string() }
}

pub fn talk_to_person() -> QuickReply {
    quick("Talk to a person", QUICK_HANDOFF)
}

/// What the shopper sent this turn.
pub struct Input<'a> {
    pub text: &'a str,
    pub quick_reply: Option<&'a str>,
    pub ip_hash: &'a str,
}

impl ChatService {
    /// Decides and acts on one message; returns the triage record stored with it.
    pub(super) async fn respond(
        &self,
        tx: &mut Tx,
        conversation: &mut Conversation,
        input: &Input<'_>,
        ranking: &Ranking,
        turn: &mut Turn,
    ) -> Result<TriageRecord, ChatError> {
        let model_version = self.classifier.metadata().version.clone();
        let record = |decision: &str, reason: &str| TriageRecord {
            intents: ranking.top_n(3).to_vec(),
            decision: decision.to_string(),
            reason: reason.to_string(),
            model_version: model_version.clone(),
        };
        if conversation.state.bot_is_silent() {
            // A person has it: store the message for them, say nothing.
            if conversation.contact_email.is_none() {
                conversation.contact_email = parse::email(input.text);
            }
            return Ok(record("none", "with_agent"));
        }
        if conversation.state == ConversationState::Resolved {
            conversation.state = ConversationState::Bot;
        }
        if let Some(outcome) = self.pending_reply(tx, conversation, input, turn).await? {
            return Ok(record(outcome.0, outcome.1));
        }
        let decision = match input.quick_reply {
            Some(QUICK_HANDOFF) => Decision::Handoff { reason: HandoffReason::CustomerRequested, intent: None },
            Some(value) if value.starts_with(QUICK_INTENT_PREFIX) => {
                match self.catalog.get(&value[QUICK_INTENT_PREFIX.len()..]) {
                    Some(intent) if intent.sensitive => {
                        Decision::Handoff { reason: HandoffReason::Sensitive, intent: Some(intent.name.clone()) }
                    }
                    Some(intent) if intent.action == Action::Handoff => Decision::Handoff {
                        reason: HandoffReason::CustomerRequested,
                        intent: Some(intent.name.clone()),
                    },
                    Some(intent) => Decision::Answer { intent: intent.name.clone(), action: intent.action },
                    None => {
                        return Err(ChatError::Invalid(
                            "invalid_quick_reply",
                            "quick_reply is not a value the bot offered".into(),
                        ));
                    }
                }
            }
            _ => {
                let phrase = self.rules.find(input.text);
                let history = History {
                    clarified_last_turn: conversation.clarified_last,
                    out_of_scope_last_turn: conversation.out_of_scope_last,
                };
                let thresholds = &self.classifier.metadata().thresholds;
                decide(ranking, phrase.as_ref().map(|m| m.category), thresholds, &self.catalog, history)
            }
        };
        let phrase_priority = self.rules.find(input.text).map(|m| m.priority);
        conversation.clarified_last = matches!(decision, Decision::Clarify { .. });
        conversation.out_of_scope_last = matches!(decision, Decision::OutOfScope { .. });
        let reason = if input.quick_reply.is_some() && matches!(decision, Decision::Answer { .. }) {
            "quick_reply"
        } else {
            decision.reason()
        };
        let triage = record(decision.kind(), reason);
        match decision {
            Decision::Answer { intent, action } => self.act(tx, conversation, &intent, action, input, turn).await?,
            Decision::Clarify { options, .. } => {
                let mut replies: Vec<QuickReply> = options
                    .iter()
                    .map(|name| quick(self.catalog.label_of(name), &format!("{QUICK_INTENT_PREFIX}{name}")))
                    .collect();
                replies.push(talk_to_person());
                turn.say_with("Sorry, I'm not sure I understood. Did you mean one of these?", replies);
            }
            Decision::Handoff { reason, intent } => {
                let order = parse::order_number(input.text);
                self.hand_off(conversation, reason, intent.as_deref(), phrase_priority, turn);
                if conversation.attached_order.is_none() {
                    conversation.attached_order = order;
                }
            }
            Decision::OutOfScope { offer_person } => {
                let text = self.template("out_of_scope").unwrap_or_else(|| {
                    "I can help with tracking orders, ordering again, refunds, invoices, delivery, returns, payments and your account.".into()
                });
                let replies = if offer_person { vec![talk_to_person()] } else { Vec::new() };
                turn.say_with(text, replies);
            }
        }
        Ok(triage)
    }

    /// Runs an intent's action.
    pub(super) async fn act(
        &self,
        tx: &mut Tx,
        conversation: &mut Conversation,
        intent: &str,
        action: Action,
        input: &Input<'_>,
        turn: &mut Turn,
    ) -> Result<(), ChatError> {
        match action {
            Action::Answer => {
                let text = self.template(intent).unwrap_or_else(|| "Happy to help.".to_string());
                turn.say(text);
            }
            Action::Handoff => self.hand_off(conversation, HandoffReason::CustomerRequested, Some(intent), None, turn),
            _ if conversation.identity.is_none() => self.ask_to_verify(tx, conversation, intent, input, turn).await?,
            _ => {
                let order_number = parse::order_number(input.text);
                if let Err(e) = self.run_handler(conversation, action, order_number.as_deref(), turn).await {
                    tracing::error!(conversation = %conversation.id, error = %e, "order handler failed");
                    turn.messages.clear();
                    self.hand_off(conversation, HandoffReason::HandlerError, Some(intent), None, turn);
                }
            }
        }
        Ok(())
    }

    /// The first response template of an intent, filled from the store profile.
    pub(super) fn template(&self, intent: &str) -> Option<String> {
        self.catalog.get(intent).and_then(|i| i.responses.first()).map(|t| self.profile.fill(t))
    }

    /// Queues the conversation for a person and tells the shopper what happens next.
    pub(super) fn hand_off(
        &self,
        conversation: &mut Conversation,
        reason: HandoffReason,
        intent: Option<&str>,
        phrase_priority: Option<Priority>,
        turn: &mut Turn,
    ) {
        let intent_def = intent.and_then(|i| self.catalog.get(i));
        let priority =
            [intent_def.map(|i| i.priority), phrase_priority].into_iter().flatten().max().unwrap_or(Priority::Normal);
        conversation.state = ConversationState::Queued;
        conversation.pending = None;
        conversation.clarified_last = false;
        conversation.out_of_scope_last = false;
        conversation.handoff_reason = Some(reason.name().to_string());
        conversation.handoff_priority = Some(priority as i64);
        conversation.handoff_intent = intent.map(str::to_string);
        conversation.queued_at = Some(crate::store::now_ms());
        if let Some(lead) = intent_def.filter(|i| i.action == Action::Handoff).and_then(|i| i.responses.first()) {
            turn.say(self.profile.fill(lead));
        }
        let online = self.events.online_agents() > 0;
        let next = if online {
            format!(
                "I'm passing you to a member of our team. The usual wait right now is {}; you can keep writing here.",
                self.profile.expected_wait
            )
        } else if conversation.contact_email.is_some() || conversation.identity.is_some() {
            "No one from our team is online right now. We've kept this conversation and will reply by email as soon as we're back.".to_string()
        } else {
            "No one from our team is online right now. We've kept this conversation and will reply by email: what email address should we use?".to_string()
        };
        turn.say(next);
        turn.event(format!("state:queued:{}", reason.name()));
    }

    /// A waiting confirmation or verification, answered by this message.
    async fn pending_reply(
        &self,
        tx: &mut Tx,
        conversation: &mut Conversation,
        input: &Input<'_>,
        turn: &mut Turn,
    ) -> Result<Option<(&'static str, &'static str)>, ChatError> {
        match conversation.pending.clone() {
            Some(Pending::ReorderConfirmation { source, key }) => {
                let answer = match input.quick_reply {
                    Some(QUICK_YES) => Some(true),
                    Some(QUICK_NO) => Some(false),
                    Some(_) => None,
                    None => parse::yes_or_no(input.text),
                };
                match answer {
                    Some(true) => {
                        if let Err(e) = self.confirm_reorder(tx, conversation, &source, &key, turn).await {
                            tracing::error!(conversation = %conversation.id, error = %e, "reorder failed");
                            turn.messages.clear();
                            self.hand_off(conversation, HandoffReason::HandlerError, Some("reorder"), None, turn);
                            return Ok(Some(("handoff", "handler_error")));
                        }
                        Ok(Some(("answer", "confirmed")))
                    }
                    Some(false) => {
                        conversation.pending = None;
                        turn.say("No problem, I haven't placed anything. Anything else I can help with?");
                        Ok(Some(("answer", "declined")))
                    }
                    None => {
                        conversation.pending = None;
                        Ok(None)
                    }
                }
            }
            Some(Pending::OrderChoice { intent }) => {
                let chosen = match input.quick_reply {
                    Some(value) => value.strip_prefix(QUICK_ORDER_PREFIX).map(str::to_string),
                    None => parse::order_number(input.text),
                };
                conversation.pending = None;
                let action = self.catalog.get(&intent).map(|i| i.action).filter(|a| a.needs_order_data());
                match (chosen, action) {
                    (Some(number), Some(action)) if conversation.identity.is_some() => {
                        if let Err(e) = self.run_handler(conversation, action, Some(&number), turn).await {
                            tracing::error!(conversation = %conversation.id, error = %e, "order handler failed");
                            turn.messages.clear();
                            self.hand_off(conversation, HandoffReason::HandlerError, Some(&intent), None, turn);
                            return Ok(Some(("handoff", "handler_error")));
                        }
                        Ok(Some(("answer", "order_choice")))
                    }
                    _ => Ok(None),
                }
            }
            Some(Pending::Verification { intent, order_number, email }) => {
                let order_number = parse::order_number(input.text).or(order_number);
                let email = parse::email(input.text).or(email);
                if input.quick_reply.is_none()
                    && (parse::order_number(input.text).is_some() || parse::email(input.text).is_some())
                {
                    match (order_number, email) {
                        (Some(number), Some(email)) => {
                            self.verify_guest(tx, conversation, &number, &email, input.ip_hash, turn).await?;
                            return Ok(Some(("answer", "verification")));
                        }
                        (number, email) => {
                            let missing = if number.is_none() {
                                "your order number"
                            } else {
                                "the email address you used for the order"
                            };
                            conversation.pending = Some(Pending::Verification { intent, order_number: number, email });
                            turn.say_with(
                                format!("Thanks! Please also send {missing}."),
                                vec![quick("Enter order details", QUICK_VERIFY_FORM)],
                            );
                            return Ok(Some(("answer", "verification")));
                        }
                    }
                }
                conversation.pending = None;
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Asks a guest to identify themselves before an order handler runs.
    async fn ask_to_verify(
        &self,
        tx: &mut Tx,
        conversation: &mut Conversation,
        intent: &str,
        input: &Input<'_>,
        turn: &mut Turn,
    ) -> Result<(), ChatError> {
        let order_number = parse::order_number(input.text);
        let email = parse::email(input.text);
        conversation.pending = Some(Pending::Verification {
            intent: intent.to_string(),
            order_number: order_number.clone(),
            email: email.clone(),
        });
        if let (Some(number), Some(email)) = (&order_number, &email) {
            return self.verify_guest(tx, conversation, number, email, input.ip_hash, turn).await;
        }
        turn.say_with(
            "I can look into that. First I need to confirm it's your order: please send your order number and the email address you used when ordering.",
            vec![quick("Enter order details", QUICK_VERIFY_FORM), talk_to_person()],
        );
        Ok(())
    }
}
