//! What the console shows for one conversation: transcript with triage and notes, the
//! customer, and their recent orders.

use serde::Serialize;

use super::{AgentError, AgentService};
use crate::domain::agent::Agent;
use crate::domain::conversation::Message;
use crate::domain::orders::{Customer, Order};

#[derive(Debug, Serialize)]
pub struct ConversationView {
    pub conversation_id: String,
    pub state: String,
    pub reason: Option<String>,
    pub priority: Option<i64>,
    pub intent: Option<String>,
    pub assigned_agent: Option<String>,
    pub verified_via: Option<String>,
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
        let conversation = self.store.conversation(id).await?.ok_or(AgentError::NotFound)?;
        self.check_read(agent, &conversation)?;
        let messages = self.store.messages_after(id, after.max(0), true).await?;
        let identity = conversation.identity.clone();
        let customer = match identity.as_ref().and_then(|i| i.customer_id.clone()) {
            Some(cid) => self.store.customer(&cid).await?,
            None => None,
        };
        let orders = match (&customer, identity.as_ref().and_then(|i| i.order.clone())) {
            (Some(c), _) => self.store.orders_of_customer(&c.id, 10).await?,
            (None, Some(number)) => match self.store.order(&number).await? {
                Some(o) => self.store.orders_of_email(&o.email, 10).await?,
                None => Vec::new(),
            },
            (None, None) => Vec::new(),
        };
        Ok(ConversationView {
            conversation_id: conversation.id,
            state: conversation.state.name().to_string(),
            reason: conversation.handoff_reason,
            priority: conversation.handoff_priority,
            intent: conversation.handoff_intent,
            assigned_agent: conversation.assigned_agent,
            verified_via: identity.map(|i| i.via),
            attached_order: conversation.attached_order,
            contact_email: conversation.contact_email,
            rating: conversation.rating,
            queued_at: conversation.queued_at,
            messages,
            customer,
            orders,
        })
    }
}
