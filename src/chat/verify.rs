//! Guest verification by order number + email (SPEC section 5). The reply to a failure is the
//! same whether the order number exists or not; failures are limited per conversation, per IP
//! and per order number, and past a limit the conversation goes to a person.

use super::service::{ChatError, ChatService};
use super::turn::{QUICK_VERIFY_FORM, Turn, quick, talk_to_person};
use crate::domain::conversation::{Conversation, Identity, Pending};
use crate::domain::parse::{normalise_email, normalise_order_number};
use crate::domain::triage::HandoffReason;
use crate::store::{Tx, now_ms};
use crate::util::sha256_hex;

/// Failed attempts allowed within [`WINDOW_MS`].
pub const MAX_FAILURES_PER_CONVERSATION: i64 = 3;
pub const MAX_FAILURES_PER_IP: i64 = 10;
pub const MAX_FAILURES_PER_ORDER: i64 = 5;
const WINDOW_MS: i64 = 60 * 60 * 1000;

pub const VERIFICATION_FAILED: &str = "Sorry, I couldn't match those details. Please check the order number and the email address you used for the order.";

impl ChatService {
    pub(super) async fn verify_guest(
        &self,
        tx: &mut Tx,
        conversation: &mut Conversation,
        order_number: &str,
        email: &str,
        ip_hash: &str,
        turn: &mut Turn,
    ) -> Result<(), ChatError> {
        let number = normalise_order_number(order_number);
        let email = normalise_email(email);
        let order_hash = sha256_hex(number.as_bytes());
        let since = now_ms() - WINDOW_MS;
        let failures = self.store.verification_failures(&conversation.id, ip_hash, &order_hash, since).await?;
        let limited = failures.conversation >= MAX_FAILURES_PER_CONVERSATION
            || failures.ip >= MAX_FAILURES_PER_IP
            || failures.order >= MAX_FAILURES_PER_ORDER;
        if limited {
            tracing::warn!(conversation = %conversation.id, "verification limit reached; handing off");
            tx.audit("system", "verification_limit", Some(&conversation.id), serde_json::json!({})).await?;
            turn.say("I couldn't verify those details, so I'm passing you to a member of our team who can help.");
            self.hand_off(conversation, HandoffReason::VerificationFailed, None, None, turn);
            return Ok(());
        }
        let order = self.store.order(&number).await?;
        let matched = order.filter(|o| crate::util::constant_time_eq(o.email.as_bytes(), email.as_bytes()));
        tx.record_verification(&conversation.id, ip_hash, &order_hash, matched.is_some()).await?;
        let Some(order) = matched else {
            let failures_now = failures.conversation + 1;
            if failures_now >= MAX_FAILURES_PER_CONVERSATION {
                turn.say("I couldn't verify those details, so I'm passing you to a member of our team who can help.");
                self.hand_off(conversation, HandoffReason::VerificationFailed, None, None, turn);
            } else {
                turn.say_with(
                    VERIFICATION_FAILED,
                    vec![quick("Enter order details", QUICK_VERIFY_FORM), talk_to_person()],
                );
            }
            return Ok(());
        };
        conversation.identity = Some(Identity {
            customer_id: order.customer_id.clone(),
            via: "guest".into(),
            order: Some(order.number.clone()),
        });
        conversation.contact_email.get_or_insert(email);
        tracing::info!(conversation = %conversation.id, "guest verified");
        turn.say("Thanks, you're verified.");
        if let Some(Pending::Verification { intent, .. }) = conversation.pending.take()
            && let Some(action) = self.catalog.get(&intent).map(|i| i.action).filter(|a| a.needs_order_data())
        {
            let result = self.run_handler(conversation, action, Some(&order.number), turn).await;
            if let Err(e) = result {
                tracing::error!(conversation = %conversation.id, error = %e, "order handler failed");
                self.hand_off(conversation, HandoffReason::HandlerError, Some(&intent), None, turn);
            }
        } else {
            turn.say("What would you like to know about your order?");
        }
        Ok(())
    }
}
