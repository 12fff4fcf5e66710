//! What the console shows for one conversation: transcript with triage and notes, the
//! customer, and their recent orders.

use serde::Serialize;

use super::{AgentError, AgentService};
use crate::domain::agent::Agent;
use crate::domain::conversation::{ConversationState, IdentitySource, Message};
use crate::domain::intent::Priority;
use crate::domain::orders::{Customer, Order};
use crate::domain::triage::HandoffReason;

/// How many of the shopper's orders the console lists.
const ORDERS_SHOWN: i64 = 10;

#[derive(Debug, Serialize)]
pub struct ConversationView {
    pub conversation_id: String,
    pub state: ConversationState,
    pub reason: Option<HandoffReason>,
    pub priority: Option<Priority>,
    pub intent: Option<String>,
    pub assigned_agent: Option<String>,
    pub verified_via: Option<IdentitySource>,
    pub attached_order: Option<String>,
    pub contact_email: Option<String>,
    pub rating: Option<i64>,
    pub queued_at: Option<i64>,
    pub messages: Vec<Message>,
    pub customer: Option<Customer>,
    pub orders: Vec<Order>,
}

impl AgentService {
    pub async fn view(&self, agent: &Agent, id: &str, after: i64) -> Result<ConversationView, AgentError> {
        let conversation = self.store.conversation(id).await?.ok_or(super::NOT_FOUND)?;
        conversation.check_readable_by(agent)?;
        let mut messages = self.store.messages_after(id, after.max(0), true).await?;
        let mut labels = self.store.labels_in(id).await?;
        for m in &mut messages {
            m.label = labels.remove(&m.id);
        }
        let identity = conversation.identity.as_ref();
        let customer = match identity.and_then(|i| i.customer_id.as_deref()) {
            Some(customer_id) => self.store.customer(customer_id).await?,
            None => None,
        };
        let orders = match identity {
            Some(identity) => match self.store.order_owner(identity).await? {
                Some(owner) => self.store.orders_of(&owner, ORDERS_SHOWN).await?,
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        let handoff = conversation.handoff.as_ref();
        Ok(ConversationView {
            state: conversation.state,
            reason: handoff.map(|h| h.reason),
            priority: handoff.map(|h| h.priority),
            intent: handoff.and_then(|h| h.intent.clone()),
            queued_at: handoff.map(|h| h.queued_at),
            verified_via: identity.map(|i| i.via),
            conversation_id: conversation.id,
            assigned_agent: conversation.assigned_agent,
            attached_order: conversation.attached_order,
            contact_email: conversation.contact_email,
            rating: conversation.rating,
            messages,
            customer,
            orders,
        })
    }
}
