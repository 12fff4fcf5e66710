//! The agent side: accounts and log-in, the queue, claiming, replying, notes, resolving,
//! releasing, handing back to the bot, and labelling messages. Every action is audited.

mod assign;
mod limiter;
pub mod password;
mod view;

use std::sync::Arc;

pub use assign::{ROUND_PERIOD, RoundRobin, run_auto_assign};
pub use limiter::LoginLimiter;
pub use view::ConversationView;

use crate::chat::EventHub;
use crate::domain::agent::Agent;
use crate::domain::conversation::{Conversation, ConversationState, Sender};
use crate::domain::intent::IntentCatalog;
use crate::domain::text::{mask_personal_data, validate_message};
use crate::store::{NewMessage, Store, StoreError, Tx};

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("too many attempts; wait a few minutes and try again")]
    RateLimited,
    #[error("no such conversation or message")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct AgentService {
    store: Store,
    events: EventHub,
    catalog: Arc<IntentCatalog>,
    limiter: LoginLimiter,
}

impl AgentService {
    pub fn new(store: Store, events: EventHub, catalog: Arc<IntentCatalog>) -> Self {
        Self { store, events, catalog, limiter: LoginLimiter::default() }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn events(&self) -> &EventHub {
        &self.events
    }

    /// Checks email and password. An unknown email costs the same time and gets the same
    /// answer as a wrong password.
    pub async fn login(&self, email: &str, password: &str, ip: &str) -> Result<Agent, AgentError> {
        let account = email.trim().to_lowercase();
        if !self.limiter.allowed(ip, &account) {
            return Err(AgentError::RateLimited);
        }
        let record = self.store.agent_login(&account).await?;
        let hash = record.as_ref().map(|(_, h)| h.clone());
        let password = password.to_string();
        let ok =
            tokio::task::spawn_blocking(move || password::verify(&password, hash.as_deref())).await.unwrap_or(false);
        match record {
            Some((agent, _)) if ok && !agent.disabled => {
                self.limiter.record_success(&account);
                let mut tx = self.store.begin().await?;
                tx.audit(&format!("agent:{}", agent.id), "login", None, serde_json::json!({})).await?;
                tx.commit().await?;
                Ok(agent)
            }
            _ => {
                self.limiter.record_failure(ip, &account);
                Err(AgentError::InvalidCredentials)
            }
        }
    }

    /// Locks a conversation for a change by `agent`; `must_own` requires it to be assigned to
    /// them (admins may act on any).
    async fn lock(&self, tx: &mut Tx, agent: &Agent, id: &str, must_own: bool) -> Result<Conversation, AgentError> {
        let conversation = tx.lock_conversation(id).await?.ok_or(AgentError::NotFound)?;
        if must_own && !agent.is_admin && conversation.assigned_agent.as_deref() != Some(agent.id.as_str()) {
            return Err(AgentError::Forbidden("this conversation is not assigned to you; claim it first".into()));
        }
        Ok(conversation)
    }

    async fn finish(
        &self,
        tx: Tx,
        conversation: &Conversation,
        agent: &Agent,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<(), AgentError> {
        self.finish_as(tx, conversation, &format!("agent:{}", agent.id), action, detail).await
    }

    /// Saves, audits (as `actor`), notifies, commits and publishes.
    async fn finish_as(
        &self,
        mut tx: Tx,
        conversation: &Conversation,
        actor: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<(), AgentError> {
        tx.save_conversation(conversation).await?;
        tx.audit(actor, action, Some(&conversation.id), detail).await?;
        tx.notify(&conversation.id, conversation.last_seq).await?;
        tx.commit().await?;
        self.events.publish(&conversation.id, conversation.last_seq);
        Ok(())
    }

    fn event(text: String) -> NewMessage {
        NewMessage { sender: Some(Sender::Event), text, ..Default::default() }
    }

    /// Claims a queued conversation: exactly one of several concurrent claims wins.
    pub async fn claim(&self, agent: &Agent, id: &str) -> Result<(), AgentError> {
        self.take(agent, id, None, &format!("agent:{}", agent.id), "claim").await
    }

    /// Assigns a queued conversation to `agent` with the atomic claim (only while the agent
    /// has fewer than `cap` assigned, if given), audited as `actor`.
    async fn take(
        &self,
        agent: &Agent,
        id: &str,
        cap: Option<usize>,
        actor: &str,
        action: &str,
    ) -> Result<(), AgentError> {
        let mut tx = self.store.begin().await?;
        let claimed = match cap {
            Some(cap) => tx.claim_within_cap(id, &agent.id, cap).await?,
            None => tx.claim(id, &agent.id).await?,
        };
        if !claimed {
            drop(tx);
            return match self.store.conversation(id).await? {
                None => Err(AgentError::NotFound),
                Some(_) => Err(AgentError::Conflict(
                    "someone else has already claimed this conversation, or it is not queued".into(),
                )),
            };
        }
        let mut conversation = tx.lock_conversation(id).await?.ok_or(AgentError::NotFound)?;
        tx.append(&mut conversation, Self::event(format!("state:assigned:{}", agent.name))).await?;
        self.finish_as(tx, &conversation, actor, action, serde_json::json!({"agent": agent.id})).await
    }

    /// Admins move a conversation to another agent.
    pub async fn reassign(&self, admin: &Agent, id: &str, to: &str) -> Result<(), AgentError> {
        if !admin.is_admin {
            return Err(AgentError::Forbidden("only admins can reassign".into()));
        }
        let target = self
            .store
            .agent(to)
            .await?
            .filter(|a| !a.disabled)
            .ok_or_else(|| AgentError::Invalid("no such active agent".into()))?;
        let mut tx = self.store.begin().await?;
        let mut conversation = self.lock(&mut tx, admin, id, true).await?;
        conversation.state = ConversationState::Assigned;
        conversation.assigned_agent = Some(target.id.clone());
        tx.append(&mut conversation, Self::event(format!("state:assigned:{}", target.name))).await?;
        self.finish(tx, &conversation, admin, "reassign", serde_json::json!({"to": target.id})).await
    }

    /// A reply the shopper sees, or a private note (`private`) they never see.
    pub async fn write(
        &self,
        agent: &Agent,
        id: &str,
        text: &str,
        private: bool,
    ) -> Result<crate::domain::conversation::Message, AgentError> {
        validate_message(text).map_err(|e| AgentError::Invalid(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        let mut conversation = self.lock(&mut tx, agent, id, true).await?;
        if conversation.state != ConversationState::Assigned {
            return Err(AgentError::Conflict("the conversation is not open with you".into()));
        }
        let sender = if private { Sender::Note } else { Sender::Agent };
        let message = tx
            .append(
                &mut conversation,
                NewMessage {
                    sender: Some(sender),
                    text: text.to_string(),
                    agent_id: Some(agent.id.clone()),
                    ..Default::default()
                },
            )
            .await?;
        self.finish(
            tx,
            &conversation,
            agent,
            if private { "note" } else { "reply" },
            serde_json::json!({"message": message.id}),
        )
        .await?;
        Ok(message)
    }

    pub async fn resolve(&self, agent: &Agent, id: &str) -> Result<(), AgentError> {
        self.transition(agent, id, "resolve", ConversationState::Resolved, "state:resolved").await
    }

    pub async fn release(&self, agent: &Agent, id: &str) -> Result<(), AgentError> {
        self.transition(agent, id, "release", ConversationState::Queued, "state:queued:released").await
    }

    pub async fn return_to_bot(&self, agent: &Agent, id: &str) -> Result<(), AgentError> {
        self.transition(agent, id, "return_to_bot", ConversationState::Bot, "state:bot").await
    }

    async fn transition(
        &self,
        agent: &Agent,
        id: &str,
        action: &str,
        to: ConversationState,
        event: &str,
    ) -> Result<(), AgentError> {
        let mut tx = self.store.begin().await?;
        let mut conversation = self.lock(&mut tx, agent, id, true).await?;
        if conversation.state != ConversationState::Assigned {
            return Err(AgentError::Conflict("only a conversation assigned to you can be changed".into()));
        }
        conversation.state = to;
        match to {
            ConversationState::Queued => {
                conversation.assigned_agent = None;
                conversation.handoff_reason = Some("released".into());
                conversation.queued_at = Some(crate::store::now_ms());
            }
            ConversationState::Bot => {
                conversation.assigned_agent = None;
                conversation.handoff_reason = None;
                conversation.handoff_priority = None;
                conversation.queued_at = None;
                conversation.clarified_last = false;
                conversation.out_of_scope_last = false;
            }
            ConversationState::Resolved | ConversationState::Assigned => {}
        }
        tx.append(&mut conversation, Self::event(event.to_string())).await?;
        self.finish(tx, &conversation, agent, action, serde_json::json!({})).await
    }

    /// Labels a shopper message with the intent it really was: a pending training example,
    /// with personal data masked.
    pub async fn label(&self, agent: &Agent, message_id: &str, intent: &str) -> Result<String, AgentError> {
        if self.catalog.get(intent).is_none() {
            return Err(AgentError::Invalid(format!("unknown intent `{intent}`")));
        }
        let (conversation_id, text) = self.store.shopper_message(message_id).await?.ok_or(AgentError::NotFound)?;
        let conversation = self.store.conversation(&conversation_id).await?.ok_or(AgentError::NotFound)?;
        self.check_read(agent, &conversation)?;
        let mut tx = self.store.begin().await?;
        let id = tx
            .insert_training_example(&mask_personal_data(&text), intent, message_id, &conversation_id, &agent.id)
            .await?;
        tx.audit(
            &format!("agent:{}", agent.id),
            "label",
            Some(&conversation_id),
            serde_json::json!({"message": message_id, "intent": intent}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Agents read any conversation except one assigned to somebody else (admins read all).
    pub fn check_read(&self, agent: &Agent, conversation: &Conversation) -> Result<(), AgentError> {
        let others = conversation.state == ConversationState::Assigned
            && conversation.assigned_agent.as_deref() != Some(agent.id.as_str());
        if others && !agent.is_admin {
            return Err(AgentError::Forbidden("this conversation is assigned to another agent".into()));
        }
        Ok(())
    }
}
