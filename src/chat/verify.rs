//! Guest verification by order number + email. The reply to a failure is the same whether the
//! order number exists or not; failures are limited per conversation, per address, per order
//! number from one address, and (much higher, against guessing from many addresses) per order
//! number; past a limit the conversation goes to a person. One address's failures never block
//! the real guest writing from elsewhere, unless a great many addresses tried the same order.

use super::handlers::OrderTask;
use super::service::{Bot, ChatError};
use super::turn::{Turn, hand_off, with_order_data};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::conversation::{Identity, Pending};
use crate::domain::parse::{normalise_email, normalise_order_number};
use crate::domain::quick_reply::QuickReply;
use crate::domain::triage::{HandoffReason, TriageReason, TurnOutcome};
use crate::store::{Tx, now_ms};
use crate::util::sha256_hex;

/// Failed attempts allowed within [`WINDOW_MS`].
pub const MAX_FAILURES_PER_CONVERSATION: i64 = 3;
pub const MAX_FAILURES_PER_IP: i64 = 10;
pub const MAX_FAILURES_PER_ORDER_FROM_IP: i64 = 5;
pub const MAX_FAILURES_PER_ORDER: i64 = 30;
const WINDOW_MS: i64 = 60 * 60 * 1000;

pub const VERIFICATION_FAILED: &str = "Sorry, I couldn't match those details. Please check the order number and the email address you used for the order.";
const PASSING_ON: &str = "I couldn't verify those details, so I'm passing you to a member of our team who can help.";

/// Checks an order number and email; on success the conversation is verified and whatever
/// the shopper asked for before runs.
pub(super) async fn verify_guest(
    bot: &Bot,
    tx: &mut Tx,
    turn: &mut Turn,
    order_number: &str,
    email: &str,
    ip_hash: &str,
) -> Result<TurnOutcome, ChatError> {
    let conversation_id = turn.conversation.id.clone();
    let number = normalise_order_number(order_number);
    let email = normalise_email(email);
    let order_hash = sha256_hex(number.as_bytes());
    let since = now_ms() - WINDOW_MS;
    let failures = bot.store.verification_failures(&conversation_id, ip_hash, &order_hash, since).await?;
    let limited = failures.conversation >= MAX_FAILURES_PER_CONVERSATION
        || failures.ip >= MAX_FAILURES_PER_IP
        || failures.order_from_ip >= MAX_FAILURES_PER_ORDER_FROM_IP
        || failures.order >= MAX_FAILURES_PER_ORDER;
    if limited {
        tracing::warn!(conversation = %conversation_id, "verification limit reached; handing off");
        tx.audit(&Actor::System, AuditAction::VerificationLimit, Some(&conversation_id), serde_json::json!({})).await?;
        turn.say(PASSING_ON);
        hand_off(bot, turn, HandoffReason::VerificationFailed, None, None);
        return Ok(TurnOutcome::handed_off(HandoffReason::VerificationFailed));
    }
    let order = bot.store.order(&number).await?;
    let matched = order.filter(|o| crate::util::constant_time_eq(o.email.as_bytes(), email.as_bytes()));
    tx.record_verification(&conversation_id, ip_hash, &order_hash, matched.is_some()).await?;
    let Some(order) = matched else {
        if failures.conversation + 1 >= MAX_FAILURES_PER_CONVERSATION {
            turn.say(PASSING_ON);
            hand_off(bot, turn, HandoffReason::VerificationFailed, None, None);
            return Ok(TurnOutcome::handed_off(HandoffReason::VerificationFailed));
        }
        turn.say_with(VERIFICATION_FAILED, vec![QuickReply::order_details_form(), QuickReply::talk_to_person()]);
        return Ok(TurnOutcome::answered(TriageReason::Verification));
    };
    turn.conversation.identity = Some(Identity::guest(&order));
    turn.conversation.contact_email.get_or_insert(email);
    tracing::info!(conversation = %conversation_id, "guest verified");
    turn.say("Thanks, you're verified.");
    let verified = TurnOutcome::answered(TriageReason::Verification);
    let asked_for = match turn.conversation.pending.take() {
        Some(Pending::Verification { intent, .. }) => {
            bot.catalog.get(&intent).map(|i| i.action).filter(|a| a.needs_order_data()).map(|a| (intent, a))
        }
        _ => None,
    };
    match asked_for {
        Some((intent, action)) => {
            let task = OrderTask::Run { action, order_number: Some(order.number.clone()) };
            with_order_data(bot, tx, turn, &intent, task, verified).await
        }
        None => {
            turn.say("What would you like to know about your order?");
            Ok(verified)
        }
    }
}
