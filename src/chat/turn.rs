//! One shopper turn: an answer to what the bot was waiting for first, then the triage policy,
//! then the chosen action. The turn is a value, [`Turn`], passed through these functions and
//! saved by the service in one transaction.

use super::answers;
use super::handlers::{self, OrderTask};
use super::service::{Bot, ChatError};
use super::verify::verify_guest;
use crate::domain::conversation::{Conversation, ConversationState, Pending};
use crate::domain::events::ConversationEvent;
use crate::domain::intent::{Action, Priority};
use crate::domain::parse;
use crate::domain::quick_reply::{QuickReply, QuickReplyValue};
use crate::domain::triage::{
    Decision, DecisionKind, HandoffReason, History, Ranking, Thresholds, TriageReason, TurnOutcome, decide,
};
use crate::store::{NewMessage, Tx, now_ms};

/// The conversation as it will be saved, and what the bot says and records, in order.
pub(super) struct Turn {
    pub conversation: Conversation,
    pub replies: Vec<NewMessage>,
    /// The intent the bot answered, when its answer may have resolved the conversation.
    pub answered: Option<String>,
    /// The bot answered small talk (a greeting, a thanks, a goodbye) and nothing else.
    pub small_talk: bool,
    /// An order handler ran but had nothing to answer with (no such order, no orders).
    pub no_answer: bool,
}

impl Turn {
    pub fn new(conversation: Conversation) -> Self {
        Self { conversation, replies: Vec::new(), answered: None, small_talk: false, no_answer: false }
    }

    /// After an answer that may have resolved the conversation, the bot asks whether it did.
    pub fn ask_whether_it_helped(&mut self, now: i64) {
        let Some(intent) = self.answered.take() else {
            return;
        };
        let c = &self.conversation;
        if c.state == ConversationState::Bot && c.pending.is_none() {
            self.conversation.answered(&intent, now);
            self.say_with("Did that answer your question?", QuickReply::answer_feedback());
        }
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.say_with(text, Vec::new());
    }

    pub fn say_with(&mut self, text: impl Into<String>, quick_replies: Vec<QuickReply>) {
        self.replies.push(NewMessage::bot(text, quick_replies));
    }

    pub fn record(&mut self, event: ConversationEvent) {
        self.replies.push(NewMessage::event(event));
    }
}

/// What the shopper sent this turn, and what the classifier made of it.
pub(super) struct Input<'a> {
    pub text: &'a str,
    pub quick_reply: Option<&'a QuickReplyValue>,
    pub ip_hash: &'a str,
    pub ranking: &'a Ranking,
    pub thresholds: &'a Thresholds,
}

/// Decides and acts on one message.
pub(super) async fn respond(
    bot: &Bot,
    tx: &mut Tx,
    turn: &mut Turn,
    input: &Input<'_>,
) -> Result<TurnOutcome, ChatError> {
    let conversation = &mut turn.conversation;
    if conversation.state.bot_is_silent() {
        // A person has it: store the message for them, say nothing.
        if conversation.contact_email.is_none() {
            conversation.contact_email = parse::email(input.text);
        }
        return Ok(TurnOutcome::new(DecisionKind::None, TriageReason::WithAgent));
    }
    if let Some(outcome) = pending_reply(bot, tx, turn, input).await? {
        return Ok(outcome);
    }
    if let Some(stale) = input.quick_reply.filter(|v| v.answers_a_question()) {
        // A button under an earlier question, clicked again after it was answered.
        let text = match stale {
            QuickReplyValue::Yes => {
                "That question has already been answered, and nothing new was done. Anything else I can help with?"
            }
            _ => "That question has already been answered. Anything else I can help with?",
        };
        turn.say(text);
        return Ok(TurnOutcome::new(DecisionKind::None, TriageReason::QuickReply));
    }
    let clicked = match input.quick_reply {
        Some(value) => {
            value.decision(&bot.catalog).map_err(|e| ChatError::Invalid("invalid_quick_reply", e.to_string()))?
        }
        None => None,
    };
    let phrase = bot.rules.find(input.text);
    let decision = match clicked {
        Some(decision) => decision,
        None => {
            let history = History {
                clarified_last_turn: turn.conversation.clarified_last,
                out_of_scope_last_turn: turn.conversation.out_of_scope_last,
            };
            decide(input.ranking, phrase.as_ref().map(|m| m.category), input.thresholds, &bot.catalog, history)
        }
    };
    turn.conversation.clarified_last = matches!(decision, Decision::Clarify { .. });
    turn.conversation.out_of_scope_last = matches!(decision, Decision::OutOfScope { .. });
    let outcome = match (&decision, input.quick_reply) {
        (Decision::Answer { .. }, Some(_)) => TurnOutcome::answered(TriageReason::QuickReply),
        _ => decision.outcome(),
    };
    match decision {
        Decision::Answer { intent, action } => act(bot, tx, turn, &intent, action, input, outcome).await,
        Decision::Clarify { options, .. } => {
            let mut replies: Vec<QuickReply> = options
                .iter()
                .map(|name| QuickReply::new(bot.catalog.label_of(name), QuickReplyValue::Intent(name.clone())))
                .collect();
            replies.push(QuickReply::talk_to_person());
            turn.say_with("Sorry, I'm not sure I understood. Did you mean one of these?", replies);
            Ok(outcome)
        }
        Decision::Handoff { reason, intent } => {
            hand_off(bot, turn, reason, intent.as_deref(), phrase.map(|m| m.priority));
            if turn.conversation.attached_order.is_none() {
                turn.conversation.attached_order = order_for_person(bot, turn, intent.as_deref(), input.text).await?;
            }
            Ok(outcome)
        }
        Decision::OutOfScope { offer_person } => {
            let text = bot.template("out_of_scope").unwrap_or_else(|| {
                "I can help with tracking orders, ordering again, refunds, invoices, delivery, returns, payments and your account.".into()
            });
            let replies = if offer_person { vec![QuickReply::person_after_out_of_scope()] } else { Vec::new() };
            turn.say_with(text, replies);
            Ok(outcome)
        }
    }
}

/// Runs an intent's action: a template answer, a hand-off, or an order handler (after
/// verifying a guest).
async fn act(
    bot: &Bot,
    tx: &mut Tx,
    turn: &mut Turn,
    intent: &str,
    action: Action,
    input: &Input<'_>,
    outcome: TurnOutcome,
) -> Result<TurnOutcome, ChatError> {
    match action {
        Action::Answer => Ok(answers::from_template(bot, turn, intent, outcome)),
        Action::ProductAvailability | Action::ProductQuestion => {
            let text = question_text(tx, turn, input).await?;
            answers::about_product(bot, turn, intent, action, &text, outcome).await
        }
        Action::ShippingInternational => {
            let text = question_text(tx, turn, input).await?;
            Ok(answers::shipping_abroad(bot, turn, intent, &text, outcome))
        }
        Action::Handoff => {
            hand_off(bot, turn, HandoffReason::CustomerRequested, Some(intent), None);
            if turn.conversation.attached_order.is_none() {
                turn.conversation.attached_order = order_for_person(bot, turn, Some(intent), input.text).await?;
            }
            Ok(TurnOutcome::handed_off(HandoffReason::CustomerRequested))
        }
        _ if !turn.conversation.verified() => ask_to_verify(bot, tx, turn, intent, input, outcome).await,
        _ => {
            let task = OrderTask::Run { action, order_number: parse::order_number(input.text) };
            with_order_data(bot, tx, turn, intent, task, outcome).await
        }
    }
}

/// Intents about a delivery that went wrong: a person needs the order in front of them.
const ABOUT_A_DELIVERY: &[&str] = &["missing_parcel", "damaged_or_wrong_item"];

/// The order to attach to a hand-off: the number the message names; and for a verified
/// shopper reporting a delivery problem without one, their latest order that has shipped.
async fn order_for_person(
    bot: &Bot,
    turn: &Turn,
    intent: Option<&str>,
    text: &str,
) -> Result<Option<String>, ChatError> {
    if let Some(number) = parse::order_number(text) {
        return Ok(Some(number));
    }
    let about_delivery = intent.is_some_and(|i| ABOUT_A_DELIVERY.contains(&i));
    match &turn.conversation.identity {
        Some(identity) if about_delivery => Ok(handlers::latest_shipped_order(bot, identity).await?),
        _ => Ok(None),
    }
}

/// The words to look for a product or a country in: the message itself, or, when the shopper
/// clicked one of the intents offered because the bot was unsure, the message it was unsure of.
async fn question_text(tx: &mut Tx, turn: &Turn, input: &Input<'_>) -> Result<String, ChatError> {
    if let Some(QuickReplyValue::Intent(_)) = input.quick_reply
        && let Some(text) = tx.last_shopper_text(&turn.conversation.id).await?
    {
        return Ok(text);
    }
    Ok(input.text.to_string())
}

/// Runs an order task; if it fails, the shopper is handed to a person instead, and whatever
/// the task had begun to say is taken back.
pub(super) async fn with_order_data(
    bot: &Bot,
    tx: &mut Tx,
    turn: &mut Turn,
    intent: &str,
    task: OrderTask,
    success: TurnOutcome,
) -> Result<TurnOutcome, ChatError> {
    let said = turn.replies.len();
    match handlers::run(bot, tx, turn, task).await {
        Ok(()) => {
            if !turn.no_answer {
                turn.answered = Some(intent.to_string());
            }
            Ok(success)
        }
        Err(e) => {
            tracing::error!(conversation = %turn.conversation.id, error = %e, "order handler failed; handing off");
            turn.replies.truncate(said);
            hand_off(bot, turn, HandoffReason::HandlerError, Some(intent), None);
            Ok(TurnOutcome::handed_off(HandoffReason::HandlerError))
        }
    }
}

/// Queues the conversation for a person and tells the shopper honestly what happens next.
pub(super) fn hand_off(
    bot: &Bot,
    turn: &mut Turn,
    reason: HandoffReason,
    intent: Option<&str>,
    phrase_priority: Option<Priority>,
) {
    let intent_def = intent.and_then(|i| bot.catalog.get(i));
    let priority =
        [intent_def.map(|i| i.priority), phrase_priority].into_iter().flatten().max().unwrap_or(Priority::Normal);
    let event = turn.conversation.queue_for_person(reason, priority, intent.map(str::to_string), now_ms());
    if let Some(lead) = intent_def.filter(|i| i.action == Action::Handoff).and_then(|i| i.responses.first()) {
        turn.say(bot.profile.fill(lead));
    }
    let next = if bot.events.online_agents() > 0 {
        format!(
            "I'm passing you to a member of our team. The usual wait right now is {}; you can keep writing here.",
            bot.profile.expected_wait
        )
    } else if turn.conversation.contact_email.is_some() || turn.conversation.verified() {
        "No one from our team is online right now. We've kept this conversation and will reply by email as soon as we're back.".to_string()
    } else {
        "No one from our team is online right now. We've kept this conversation and will reply by email: what email address should we use?".to_string()
    };
    turn.say(next);
    turn.record(event);
}

/// A waiting confirmation, order choice or verification, answered by this message.
async fn pending_reply(
    bot: &Bot,
    tx: &mut Tx,
    turn: &mut Turn,
    input: &Input<'_>,
) -> Result<Option<TurnOutcome>, ChatError> {
    let Some(pending) = turn.conversation.pending.take() else {
        return Ok(None);
    };
    match pending {
        Pending::ReorderConfirmation { source, key } => {
            let answer = match input.quick_reply {
                Some(QuickReplyValue::Yes) => Some(true),
                Some(QuickReplyValue::No) => Some(false),
                Some(_) => None,
                None => parse::yes_or_no(input.text),
            };
            match answer {
                Some(true) => {
                    let task = OrderTask::ConfirmReorder { source, key };
                    let confirmed = TurnOutcome::answered(TriageReason::Confirmed);
                    with_order_data(bot, tx, turn, Action::Reorder.name(), task, confirmed).await.map(Some)
                }
                Some(false) => {
                    turn.say("No problem, I haven't made a cart. Anything else I can help with?");
                    Ok(Some(TurnOutcome::answered(TriageReason::Declined)))
                }
                None => Ok(None),
            }
        }
        Pending::AnswerFeedback { intent } => {
            let helped = match input.quick_reply {
                Some(QuickReplyValue::Helped) => Some(true),
                Some(QuickReplyValue::Handoff(HandoffReason::NotAnswered)) => Some(false),
                Some(_) => None,
                None => parse::yes_or_no(input.text),
            };
            match helped {
                Some(true) => {
                    let event = turn.conversation.confirm_resolved(now_ms());
                    turn.say("Great, glad I could help!");
                    turn.record(event);
                    Ok(Some(TurnOutcome::answered(TriageReason::Confirmed)))
                }
                Some(false) => {
                    hand_off(bot, turn, HandoffReason::NotAnswered, Some(&intent), None);
                    Ok(Some(TurnOutcome::handed_off(HandoffReason::NotAnswered)))
                }
                None => Ok(None),
            }
        }
        Pending::OrderChoice { intent } => {
            let chosen = match input.quick_reply {
                Some(QuickReplyValue::Order(number)) => Some(number.clone()),
                Some(_) => None,
                None => parse::order_number(input.text),
            };
            let action = bot.catalog.get(&intent).map(|i| i.action).filter(|a| a.needs_order_data());
            match (chosen, action) {
                (Some(number), Some(action)) if turn.conversation.verified() => {
                    let task = OrderTask::Run { action, order_number: Some(number) };
                    let chose = TurnOutcome::answered(TriageReason::OrderChoice);
                    with_order_data(bot, tx, turn, &intent, task, chose).await.map(Some)
                }
                _ => Ok(None),
            }
        }
        Pending::ProductChoice { intent, products, ask } => {
            let chosen = match input.quick_reply {
                Some(QuickReplyValue::Product(name)) => products.iter().find(|p| *p == name),
                Some(_) => None,
                None => crate::domain::catalogue::choose(input.text, &products),
            };
            match chosen {
                Some(name) => {
                    let chose = TurnOutcome::answered(TriageReason::ProductChoice);
                    answers::chosen_product(bot, turn, &intent, name, &ask, chose).await.map(Some)
                }
                None => Ok(None),
            }
        }
        Pending::Verification { intent, order_number, email } => {
            let (new_number, new_email) = (parse::order_number(input.text), parse::email(input.text));
            if input.quick_reply.is_some() || (new_number.is_none() && new_email.is_none()) {
                return Ok(None);
            }
            match (new_number.or(order_number.clone()), new_email.or(email.clone())) {
                (Some(number), Some(both_email)) => {
                    // Still waiting (with what came before this message) unless it verifies.
                    turn.conversation.pending = Some(Pending::Verification { intent, order_number, email });
                    verify_guest(bot, tx, turn, &number, &both_email, input.ip_hash).await?;
                }
                (number, email) => {
                    let missing =
                        if number.is_none() { "your order number" } else { "the email address you used for the order" };
                    turn.conversation.pending = Some(Pending::Verification { intent, order_number: number, email });
                    turn.say_with(
                        format!("Thanks! Please also send {missing}."),
                        vec![QuickReply::order_details_form()],
                    );
                }
            }
            Ok(Some(TurnOutcome::answered(TriageReason::Verification)))
        }
    }
}

/// Asks a guest to identify themselves before an order handler runs, or verifies them at once
/// when the message already holds an order number and an email.
async fn ask_to_verify(
    bot: &Bot,
    tx: &mut Tx,
    turn: &mut Turn,
    intent: &str,
    input: &Input<'_>,
    outcome: TurnOutcome,
) -> Result<TurnOutcome, ChatError> {
    let order_number = parse::order_number(input.text);
    let email = parse::email(input.text);
    turn.conversation.pending = Some(Pending::Verification {
        intent: intent.to_string(),
        order_number: order_number.clone(),
        email: email.clone(),
    });
    if let (Some(number), Some(email)) = (&order_number, &email) {
        verify_guest(bot, tx, turn, number, email, input.ip_hash).await?;
        return Ok(outcome);
    }
    turn.say_with(
        "I can look into that. First I need to confirm it's your order: please send your order number and the email address you used when ordering.",
        vec![QuickReply::order_details_form(), QuickReply::talk_to_person()],
    );
    Ok(outcome)
}
