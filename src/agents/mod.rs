//! The agent side: accounts and log-in, the queue, claiming, replying, notes, resolving,
//! releasing, handing back to the bot, and labelling messages. Every action is audited here,
//! in the transaction that makes it.

pub mod accounts;
mod assign;
mod examples;
pub mod password;
mod view;

use std::net::IpAddr;
use std::sync::Arc;

pub use accounts::NewAgent;
pub use assign::{ROUND_PERIOD, RoundRobin, run_auto_assign};
pub use examples::Review;
pub use view::ConversationView;

use crate::chat::EventHub;
use crate::domain::agent::{Agent, QueueEntry};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::conversation::{Conversation, ConversationState, Message, RuleError, Sender};
use crate::domain::events::ConversationEvent;
use crate::domain::intent::IntentCatalog;
use crate::domain::login;
use crate::domain::text::validate_message;
use crate::store::{Change, NewMessage, Store, StoreError, Tx, now_ms};
use crate::util::AddressKey;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("too many failed sign-ins from here; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("this account is locked after many failed sign-ins; an admin can unlock it")]
    Locked,
    /// What was not found, e.g. "no such conversation or message".
    #[error("{0}")]
    NotFound(&'static str),
    /// Refused for who the agent is: a stable code and what to do instead.
    #[error("{1}")]
    Forbidden(&'static str, String),
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error("{1}")]
    Invalid(&'static str, String),
    /// Well-formed but naming something that does not exist (an unknown intent).
    #[error("{1}")]
    Unprocessable(&'static str, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RuleError> for AgentError {
    fn from(e: RuleError) -> Self {
        if e.is_forbidden() {
            AgentError::Forbidden("forbidden", e.to_string())
        } else {
            AgentError::Conflict("conflict", e.to_string())
        }
    }
}

const NOT_FOUND: AgentError = AgentError::NotFound("no such conversation or message");

pub struct AgentService {
    store: Store,
    events: EventHub,
    catalog: Arc<IntentCatalog>,
    address_key: AddressKey,
}

impl AgentService {
    pub fn new(store: Store, events: EventHub, catalog: Arc<IntentCatalog>, address_key: AddressKey) -> Self {
        Self { store, events, catalog, address_key }
    }

    pub fn events(&self) -> &EventHub {
        &self.events
    }

    /// An agent by id (disabled ones too: the caller decides).
    pub async fn agent(&self, id: &str) -> Result<Option<Agent>, AgentError> {
        Ok(self.store.agent(id).await?)
    }

    /// Checks email and password. An unknown email costs the same time and gets the same
    /// answer as a wrong password. Failures slow down their (account, address) pair and their
    /// address, and a flood of them from everywhere locks the account (see `domain::login`);
    /// a locked account says so only to someone who knows its password.
    pub async fn login(&self, email: &str, password: &str, address: IpAddr) -> Result<Agent, AgentError> {
        let account = email.trim().to_lowercase();
        let address = self.address_key.hash(address);
        let now = now_ms();
        let history = self.store.login_history(&account, &address, now - login::WINDOW_MS).await?;
        if let Some(at) = history.retry_at(now) {
            let retry_after_secs = u64::try_from((at - now + 999) / 1000).unwrap_or(1);
            return Err(AgentError::RateLimited { retry_after_secs });
        }
        let record = self.store.agent_login(&account).await?;
        let hash = record.as_ref().map(|(_, h)| h.clone());
        let password = password.to_string();
        let ok =
            tokio::task::spawn_blocking(move || password::verify(&password, hash.as_deref())).await.unwrap_or(false);
        match record {
            Some((agent, _)) if ok && !agent.disabled => {
                if agent.locked {
                    return Err(AgentError::Locked);
                }
                let mut tx = self.store.begin().await?;
                tx.clear_login_failures(&account, &address).await?;
                tx.audit(&Actor::Agent(agent.id.clone()), AuditAction::Login, None, serde_json::json!({})).await?;
                tx.commit().await?;
                Ok(agent)
            }
            record => {
                let mut tx = self.store.begin().await?;
                tx.record_login_failure(&account, &address).await?;
                tx.commit().await?;
                if let Some((agent, _)) = record.filter(|(a, _)| !a.locked) {
                    self.lock_if_flooded(&agent).await?;
                }
                Err(AgentError::InvalidCredentials)
            }
        }
    }

    /// Locks an account once failures from every address pass the lock threshold.
    async fn lock_if_flooded(&self, agent: &Agent) -> Result<(), AgentError> {
        let failures = self.store.account_login_failures(&agent.email, now_ms() - login::WINDOW_MS).await?;
        if !login::locks_account(failures) {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        if tx.lock_agent(&agent.email).await? {
            tracing::warn!(agent = %agent.id, failures, "account locked after failed sign-ins");
            let detail = serde_json::json!({"agent": agent.id, "failures": failures});
            tx.audit(&Actor::System, AuditAction::AgentLocked, None, detail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Conversations in a state. Agents see only their own assigned ones; admins see all.
    pub async fn queue(&self, agent: &Agent, state: ConversationState) -> Result<Vec<QueueEntry>, AgentError> {
        let mut entries = self.store.queue(state, 200).await?;
        if state == ConversationState::Assigned && !agent.is_admin {
            entries.retain(|e| e.assigned_agent.as_deref() == Some(agent.id.as_str()));
        }
        Ok(entries)
    }

    /// Ids of the conversations waiting in the queue.
    pub async fn queued_ids(&self) -> Result<Vec<String>, AgentError> {
        Ok(self.store.queued_ids(1000).await?)
    }

    /// A conversation by id, as stored.
    pub async fn conversation(&self, id: &str) -> Result<Option<Conversation>, AgentError> {
        Ok(self.store.conversation(id).await?)
    }

    /// Claims a queued conversation: exactly one of several concurrent claims wins.
    pub async fn claim(&self, agent: &Agent, id: &str) -> Result<(), AgentError> {
        self.take(agent, id, None).await
    }

    /// Assigns a queued conversation to `agent`: claimed by them, or (with a `cap`) given to
    /// them by auto-assignment while they have fewer than `cap` assigned. The conversation's
    /// row lock makes one of several concurrent claims win; the cap is checked under a lock
    /// per agent, so it holds across instances.
    async fn take(&self, agent: &Agent, id: &str, cap: Option<usize>) -> Result<(), AgentError> {
        let mut tx = self.store.begin().await?;
        if let Some(cap) = cap {
            tx.serialize_claims_for(&agent.id).await?;
            if tx.assigned_count(&agent.id).await? >= cap {
                return Err(AgentError::Conflict(
                    "conflict",
                    format!("{} already has {cap} conversations", agent.name),
                ));
            }
        }
        let mut conversation = tx.lock_conversation(id).await?.ok_or(NOT_FOUND)?;
        let event = conversation.claim(agent, cap.is_some())?;
        if let Some(handoff) = &conversation.handoff {
            let waited = (now_ms() - handoff.queued_at).max(0) as f64 / 1000.0;
            metrics::histogram!("switchboard_queue_wait_seconds").record(waited);
        }
        let (actor, action) = match cap {
            Some(_) => (Actor::AutoAssign, AuditAction::AutoAssign),
            None => (Actor::Agent(agent.id.clone()), AuditAction::Claim),
        };
        self.finish(tx, conversation, event, &actor, action, serde_json::json!({"agent": agent.id})).await
    }

    /// Admins move a conversation to another agent.
    pub async fn reassign(&self, admin: &Agent, id: &str, to: &str) -> Result<(), AgentError> {
        if !admin.is_admin {
            return Err(RuleError::AdminOnly.into());
        }
        let target = self
            .store
            .agent(to)
            .await?
            .filter(|a| !a.disabled)
            .ok_or_else(|| AgentError::Invalid("invalid", "no such active agent".into()))?;
        let mut tx = self.store.begin().await?;
        let mut conversation = tx.lock_conversation(id).await?.ok_or(NOT_FOUND)?;
        let event = conversation.reassign(&target, admin)?;
        let detail = serde_json::json!({"to": target.id});
        self.finish(tx, conversation, event, &Actor::Agent(admin.id.clone()), AuditAction::Reassign, detail).await
    }

    /// A reply the shopper sees, or a private note (`private`) they never see.
    pub async fn write(&self, agent: &Agent, id: &str, text: &str, private: bool) -> Result<Message, AgentError> {
        validate_message(text).map_err(|e| AgentError::Invalid("invalid", e.to_string()))?;
        let mut tx = self.store.begin().await?;
        let mut conversation = tx.lock_conversation(id).await?.ok_or(NOT_FOUND)?;
        conversation.check_changeable_by(agent)?;
        if conversation.state != ConversationState::Assigned {
            return Err(AgentError::Conflict("conflict", "the conversation is not open with you".into()));
        }
        let (sender, action) =
            if private { (Sender::Note, AuditAction::Note) } else { (Sender::Agent, AuditAction::Reply) };
        let message = tx.append(&mut conversation, NewMessage::from_agent(sender, text, &agent.id)).await?;
        conversation.got_answer |= !private;
        let detail = serde_json::json!({"message": message.id});
        self.save(tx, &conversation, &Actor::Agent(agent.id.clone()), action, detail).await?;
        Ok(message)
    }

    /// Resolves the conversation; `could_have_answered` marks it as one the bot could have
    /// answered with that intent, which turns its handed-off message into a pending example.
    pub async fn resolve(&self, agent: &Agent, id: &str, could_have_answered: Option<&str>) -> Result<(), AgentError> {
        let mut tx = self.store.begin().await?;
        let mut conversation = tx.lock_conversation(id).await?.ok_or(NOT_FOUND)?;
        let event = conversation.resolve(agent, now_ms())?;
        metrics::counter!("switchboard_outcomes_total", "outcome" => crate::domain::outcome::Outcome::AgentResolved.name()).increment(1);
        if let Some(intent) = could_have_answered {
            self.mark_could_have_answered(&mut tx, &conversation, agent, intent).await?;
            tx.mark_could_have_answered(&conversation.id, intent).await?;
        }
        let detail = serde_json::json!({"could_have_answered": could_have_answered});
        self.finish(tx, conversation, event, &Actor::Agent(agent.id.clone()), AuditAction::Resolve, detail).await
    }

    pub async fn release(&self, agent: &Agent, id: &str) -> Result<(), AgentError> {
        self.change(agent, id, AuditAction::Release, |c| c.release(agent, now_ms())).await
    }

    pub async fn return_to_bot(&self, agent: &Agent, id: &str) -> Result<(), AgentError> {
        self.change(agent, id, AuditAction::ReturnToBot, |c| c.return_to_bot(agent)).await
    }

    /// Applies one of the conversation's rules for `agent`, recording its event.
    async fn change(
        &self,
        agent: &Agent,
        id: &str,
        action: AuditAction,
        rule: impl FnOnce(&mut Conversation) -> Result<ConversationEvent, RuleError>,
    ) -> Result<(), AgentError> {
        let mut tx = self.store.begin().await?;
        let mut conversation = tx.lock_conversation(id).await?.ok_or(NOT_FOUND)?;
        let event = rule(&mut conversation)?;
        self.finish(tx, conversation, event, &Actor::Agent(agent.id.clone()), action, serde_json::json!({})).await
    }

    /// Records the event in the transcript, then saves, audits, commits and publishes.
    async fn finish(
        &self,
        mut tx: Tx,
        mut conversation: Conversation,
        event: ConversationEvent,
        actor: &Actor,
        action: AuditAction,
        detail: serde_json::Value,
    ) -> Result<(), AgentError> {
        tx.append(&mut conversation, NewMessage::event(event)).await?;
        self.save(tx, &conversation, actor, action, detail).await
    }

    /// Saves, audits, notifies, commits and publishes.
    async fn save(
        &self,
        mut tx: Tx,
        conversation: &Conversation,
        actor: &Actor,
        action: AuditAction,
        detail: serde_json::Value,
    ) -> Result<(), AgentError> {
        tx.save_conversation(conversation).await?;
        tx.audit(actor, action, Some(&conversation.id), detail).await?;
        let change = Change::of(conversation);
        tx.notify(&change).await?;
        tx.commit().await?;
        self.events.publish(change);
        Ok(())
    }
}
