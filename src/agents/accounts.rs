//! Agent accounts (add, disable, enable, unlock, reset a password, list): admin work, also
//! open to the command line (`switchboard agent`). Every change is audited with who made it.

use super::{AgentError, AgentService, password};
use crate::domain::agent::Agent;
use crate::domain::audit::{Actor, AuditAction};
use crate::store::{Store, StoreError};

/// An account to create. Without a password one is generated (and shown once).
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub email: String,
    pub name: String,
    pub password: Option<String>,
    pub admin: bool,
}

pub(super) fn require_admin(agent: &Agent) -> Result<(), AgentError> {
    if agent.is_admin { Ok(()) } else { Err(AgentError::Forbidden("admin_only", "only admins can do this".into())) }
}

impl NewAgent {
    /// Creates the account, audited as `actor`; returns it with the generated password, if any.
    pub async fn create(self, store: &Store, actor: &Actor) -> Result<(Agent, Option<String>), AgentError> {
        if crate::domain::parse::email(&self.email).as_deref() != Some(self.email.trim().to_lowercase().as_str()) {
            return Err(AgentError::Invalid("invalid_email", format!("{:?} is not an email address", self.email)));
        }
        if self.name.trim().is_empty() || self.name.len() > 100 {
            return Err(AgentError::Invalid("invalid_name", "the name must be 1 to 100 characters".into()));
        }
        let generated = self.password.is_none();
        let password = self.password.unwrap_or_else(password::generate);
        let hash = hash_password(&password).await?;
        let mut tx = store.begin().await?;
        let agent = tx.create_agent(&self.email, &self.name, &hash, self.admin).await.map_err(|e| match e {
            StoreError::Duplicate(m) => AgentError::Conflict("exists", m),
            other => other.into(),
        })?;
        tx.audit(actor, AuditAction::AgentAdd, None, serde_json::json!({"agent": agent.id})).await?;
        tx.commit().await?;
        Ok((agent, generated.then_some(password)))
    }
}

/// A change to an existing account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    /// Disabled: its sessions end at once.
    Disable,
    /// Enabled again (sessions from before it was disabled stay void).
    Enable,
    /// Unlocked after a flood of failed sign-ins, which are forgotten.
    Unlock,
}

/// Applies `change` to an agent (by id or email), audited as `actor`.
pub async fn change(
    store: &Store,
    actor: &Actor,
    id_or_email: &str,
    change: AccountChange,
) -> Result<Agent, AgentError> {
    let mut tx = store.begin().await?;
    let (agent, action) = match change {
        AccountChange::Disable => (tx.disable_agent(id_or_email).await?, AuditAction::AgentDisable),
        AccountChange::Enable => (tx.enable_agent(id_or_email).await?, AuditAction::AgentEnable),
        AccountChange::Unlock => (tx.unlock_agent(id_or_email).await?, AuditAction::AgentUnlock),
    };
    let agent = agent.ok_or(AgentError::NotFound("no such agent"))?;
    tx.audit(actor, action, None, serde_json::json!({"agent": agent.id})).await?;
    tx.commit().await?;
    Ok(agent)
}

/// Gives an agent a new generated password (returned, to be shown once), ends its sessions
/// and unlocks it; audited as `actor`.
pub async fn reset_password(store: &Store, actor: &Actor, id_or_email: &str) -> Result<(Agent, String), AgentError> {
    let password = password::generate();
    let hash = hash_password(&password).await?;
    let mut tx = store.begin().await?;
    let agent = tx.set_agent_password(id_or_email, &hash).await?.ok_or(AgentError::NotFound("no such agent"))?;
    tx.audit(actor, AuditAction::AgentPasswordReset, None, serde_json::json!({"agent": agent.id})).await?;
    tx.commit().await?;
    Ok((agent, password))
}

/// Hashes a password off the async threads (it takes tens of milliseconds on purpose).
async fn hash_password(password: &str) -> Result<String, AgentError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| AgentError::Invalid("invalid_password", e.to_string()))?
        .map_err(|e| AgentError::Invalid("invalid_password", e.to_string()))
}

impl AgentService {
    pub async fn agents(&self, admin: &Agent) -> Result<Vec<Agent>, AgentError> {
        require_admin(admin)?;
        Ok(self.store.agents().await?)
    }

    pub async fn add_agent(&self, admin: &Agent, new: NewAgent) -> Result<(Agent, Option<String>), AgentError> {
        require_admin(admin)?;
        new.create(&self.store, &Actor::Agent(admin.id.clone())).await
    }

    pub async fn change_agent(&self, admin: &Agent, id: &str, what: AccountChange) -> Result<Agent, AgentError> {
        require_admin(admin)?;
        change(&self.store, &Actor::Agent(admin.id.clone()), id, what).await
    }

    pub async fn reset_password(&self, admin: &Agent, id: &str) -> Result<(Agent, String), AgentError> {
        require_admin(admin)?;
        reset_password(&self.store, &Actor::Agent(admin.id.clone()), id).await
    }
}
