//! Agent accounts, the queue, and the lock behind the auto-assignment cap.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Engine, Result, Store, StoreError, Tx, now_ms};
use crate::domain::agent::{Agent, QueueEntry};
use crate::domain::conversation::ConversationState;
use crate::domain::intent::Priority;
use crate::domain::login::{Failures, LoginHistory};
use crate::domain::triage::HandoffReason;

const AGENT_COLUMNS: &str = "id, email, name, is_admin, disabled, sessions_valid_after, locked_at";

fn agent_from_row(r: &AnyRow) -> Result<Agent> {
    Ok(Agent {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        is_admin: r.try_get::<i64, _>("is_admin")? != 0,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        sessions_valid_after: r.try_get("sessions_valid_after")?,
        locked: r.try_get::<Option<i64>, _>("locked_at")?.is_some(),
    })
}

impl Store {
    /// An agent and its password hash, by email.
    pub async fn agent_login(&self, email: &str) -> Result<Option<(Agent, String)>> {
        let sql = format!("SELECT {AGENT_COLUMNS}, password_hash FROM agents WHERE email = $1");
        match sqlx::query(&sql).bind(email.trim().to_lowercase()).fetch_optional(self.pool()).await? {
            Some(r) => Ok(Some((agent_from_row(&r)?, r.try_get("password_hash")?))),
            None => Ok(None),
        }
    }

    pub async fn agent(&self, id: &str) -> Result<Option<Agent>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(self.pool()).await?.map(|r| agent_from_row(&r)).transpose()
    }

    pub async fn agents(&self) -> Result<Vec<Agent>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY email");
        sqlx::query(&sql).fetch_all(self.pool()).await?.iter().map(agent_from_row).collect()
    }

    /// The failed sign-ins since `since` that bear on an attempt at `account` from an address.
    pub async fn login_history(&self, account: &str, address_hash: &str, since: i64) -> Result<LoginHistory> {
        let failures = |row: AnyRow| -> Result<Failures> {
            Ok(Failures { count: row.try_get(0)?, last_at: row.try_get::<Option<i64>, _>(1)?.unwrap_or(0) })
        };
        let pair = sqlx::query(
            "SELECT COUNT(*), MAX(created_at) FROM login_failures WHERE account = $1 AND address_hash = $2 AND created_at >= $3",
        )
        .bind(account)
        .bind(address_hash)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        let address = sqlx::query(
            "SELECT COUNT(*), MAX(created_at) FROM login_failures WHERE address_hash = $1 AND created_at >= $2",
        )
        .bind(address_hash)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok(LoginHistory { pair: failures(pair)?, address: failures(address)? })
    }

    /// Failed sign-ins on `account` from every address since `since`.
    pub async fn account_login_failures(&self, account: &str, since: i64) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM login_failures WHERE account = $1 AND created_at >= $2")
            .bind(account)
            .bind(since)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Conversations in a state: queued ones by priority then waiting time, others newest first.
    pub async fn queue(&self, state: ConversationState, limit: i64) -> Result<Vec<QueueEntry>> {
        let queued = state == ConversationState::Queued;
        let order = if queued { "c.handoff_priority DESC, c.queued_at ASC" } else { "c.updated_at DESC" };
        let sql = format!(
            "SELECT c.id, c.state, c.handoff_reason, c.handoff_priority, c.handoff_intent, c.attached_order, c.verified_via,
                    c.assigned_agent, c.queued_at, c.last_seq, c.updated_at,
                    (SELECT cu.name FROM customers cu WHERE cu.id = c.customer_id) AS customer_name,
                    (SELECT a.name FROM agents a WHERE a.id = c.assigned_agent) AS assigned_agent_name,
                    (SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.sender = 'shopper' ORDER BY m.seq DESC LIMIT 1) AS last_message
             FROM conversations c WHERE c.state = $1 ORDER BY {order} LIMIT $2"
        );
        let now = now_ms();
        let rows = sqlx::query(&sql).bind(state.name()).bind(limit).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let queued_at: Option<i64> = r.try_get("queued_at")?;
                let via: Option<String> = r.try_get("verified_via")?;
                let reason: Option<String> = r.try_get("handoff_reason")?;
                let priority: Option<i64> = r.try_get("handoff_priority")?;
                Ok(QueueEntry {
                    conversation_id: r.try_get("id")?,
                    state,
                    reason: reason
                        .map(|r| {
                            HandoffReason::parse(&r).ok_or_else(|| StoreError::Corrupt(format!("handoff_reason {r:?}")))
                        })
                        .transpose()?,
                    priority: priority.and_then(Priority::from_rank),
                    intent: r.try_get("handoff_intent")?,
                    attached_order: r.try_get("attached_order")?,
                    verified: via.is_some(),
                    assigned_agent: r.try_get("assigned_agent")?,
                    assigned_agent_name: r.try_get("assigned_agent_name")?,
                    customer_name: r.try_get("customer_name")?,
                    queued_at,
                    waiting_ms: queued_at.filter(|_| queued).map(|q| now - q),
                    last_seq: r.try_get("last_seq")?,
                    last_message: r.try_get("last_message")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// Ids of the queued conversations.
    pub async fn queued_ids(&self, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id FROM conversations WHERE state = 'queued' LIMIT $1")
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Assigned conversations per agent.
    pub async fn assigned_counts(&self) -> Result<std::collections::HashMap<String, usize>> {
        let rows = sqlx::query(
            "SELECT assigned_agent, COUNT(*) AS n FROM conversations
             WHERE state = 'assigned' AND assigned_agent IS NOT NULL GROUP BY assigned_agent",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("assigned_agent")?, usize::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0))))
            .collect()
    }

    pub async fn audit_count(&self, conversation_id: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT actor, action FROM audit_log WHERE conversation_id = $1 ORDER BY at")
            .bind(conversation_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

impl Tx {
    pub async fn create_agent(
        &mut self,
        email: &str,
        name: &str,
        password_hash: &str,
        is_admin: bool,
    ) -> Result<Agent> {
        let email = email.trim().to_lowercase();
        let id = crate::util::random_hex(8);
        let inserted = sqlx::query(
            "INSERT INTO agents (id, email, name, password_hash, is_admin, disabled, sessions_valid_after, created_at)
             VALUES ($1, $2, $3, $4, $5, 0, 0, $6) ON CONFLICT (email) DO NOTHING",
        )
        .bind(&id)
        .bind(&email)
        .bind(name.trim())
        .bind(password_hash)
        .bind(i64::from(is_admin))
        .bind(now_ms())
        .execute(self.conn())
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Duplicate(format!("an agent with email {email} already exists")));
        }
        Ok(Agent {
            id,
            email,
            name: name.trim().to_string(),
            is_admin,
            disabled: false,
            sessions_valid_after: 0,
            locked: false,
        })
    }

    /// Disables an agent (by id or email) and voids every session it has. Returns it.
    pub async fn disable_agent(&mut self, id_or_email: &str) -> Result<Option<Agent>> {
        self.update_agent(id_or_email, "disabled = 1, sessions_valid_after = $2", None).await
    }

    /// Enables a disabled agent again (its old sessions stay void). Returns it.
    pub async fn enable_agent(&mut self, id_or_email: &str) -> Result<Option<Agent>> {
        self.update_agent(id_or_email, "disabled = 0", None).await
    }

    /// Unlocks an agent locked after failed sign-ins, forgetting those failures. Returns it.
    pub async fn unlock_agent(&mut self, id_or_email: &str) -> Result<Option<Agent>> {
        let agent = self.update_agent(id_or_email, "locked_at = NULL", None).await?;
        if let Some(agent) = &agent {
            self.forget_login_failures(&agent.email).await?;
        }
        Ok(agent)
    }

    /// Sets a new password hash, voids every session and unlocks the account. Returns it.
    pub async fn set_agent_password(&mut self, id_or_email: &str, password_hash: &str) -> Result<Option<Agent>> {
        let agent = self
            .update_agent(
                id_or_email,
                "password_hash = $4, sessions_valid_after = $2, locked_at = NULL",
                Some(password_hash),
            )
            .await?;
        if let Some(agent) = &agent {
            self.forget_login_failures(&agent.email).await?;
        }
        Ok(agent)
    }

    async fn forget_login_failures(&mut self, account: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE account = $1").bind(account).execute(self.conn()).await?;
        Ok(())
    }

    /// Locks an account after a flood of failed sign-ins; false when it was locked already.
    pub async fn lock_agent(&mut self, email: &str) -> Result<bool> {
        let locked = sqlx::query("UPDATE agents SET locked_at = $2 WHERE email = $1 AND locked_at IS NULL")
            .bind(email)
            .bind(now_ms())
            .execute(self.conn())
            .await?
            .rows_affected();
        Ok(locked > 0)
    }

    /// Runs `UPDATE agents SET {set}` on the agent with this id or email (`$2` is now, `$4`
    /// the optional text value) and returns the agent as it is afterwards.
    async fn update_agent(&mut self, id_or_email: &str, set: &str, text: Option<&str>) -> Result<Option<Agent>> {
        let key = id_or_email.trim();
        let sql = format!("UPDATE agents SET {set} WHERE id = $1 OR email = $3");
        let mut update = sqlx::query(&sql).bind(key).bind(now_ms()).bind(key.to_lowercase());
        if let Some(text) = text {
            update = update.bind(text.to_string());
        }
        update.execute(self.conn()).await?;
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1 OR email = $2");
        sqlx::query(&sql)
            .bind(key)
            .bind(key.to_lowercase())
            .fetch_optional(self.conn())
            .await?
            .map(|r| agent_from_row(&r))
            .transpose()
    }

    /// Records a failed sign-in of `account` from a hashed address.
    pub async fn record_login_failure(&mut self, account: &str, address_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (account, address_hash, created_at) VALUES ($1, $2, $3)")
            .bind(account)
            .bind(address_hash)
            .bind(now_ms())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Forgets the failures of one (account, address) pair after a successful sign-in.
    pub async fn clear_login_failures(&mut self, account: &str, address_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE account = $1 AND address_hash = $2")
            .bind(account)
            .bind(address_hash)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Makes claims for `agent_id` wait for each other until this transaction ends (an
    /// advisory lock on PostgreSQL; SQLite has one writer anyway), so a cap on assigned
    /// conversations holds across instances.
    pub async fn serialize_claims_for(&mut self, agent_id: &str) -> Result<()> {
        if self.engine() == Engine::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('switchboard-agent-cap:' || $1))")
                .bind(agent_id)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    pub async fn assigned_count(&mut self, agent_id: &str) -> Result<usize> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM conversations WHERE state = 'assigned' AND assigned_agent = $1")
            .bind(agent_id)
            .fetch_one(self.conn())
            .await?
            .try_get(0)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}
