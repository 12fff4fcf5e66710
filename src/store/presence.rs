//! Agents online per server instance (see `chat::presence`).

use std::collections::HashSet;

use sqlx::Row;

use super::{Result, Store, Tx};

impl Store {
    /// Records that exactly `agent_ids` are online on `instance_id` as of `now` (one
    /// transaction: readers see the old set or the new one).
    pub async fn publish_presence(&self, instance_id: &str, agent_ids: &[String], now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.replace_presence(instance_id, agent_ids, now).await?;
        tx.commit().await
    }

    /// Agents online on instances other than `instance_id` that reported since `since`.
    pub async fn online_elsewhere(&self, instance_id: &str, since: i64) -> Result<HashSet<String>> {
        let rows =
            sqlx::query("SELECT DISTINCT agent_id FROM agent_presence WHERE instance_id <> $1 AND seen_at >= $2")
                .bind(instance_id)
                .bind(since)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok(r.try_get("agent_id")?)).collect()
    }

    /// Forgets `instance_id` (on shutdown) and rows of instances gone before `stale_before`.
    pub async fn remove_presence(&self, instance_id: &str, stale_before: i64) -> Result<()> {
        sqlx::query("DELETE FROM agent_presence WHERE instance_id = $1 OR seen_at < $2")
            .bind(instance_id)
            .bind(stale_before)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

impl Tx {
    async fn replace_presence(&mut self, instance_id: &str, agent_ids: &[String], now: i64) -> Result<()> {
        sqlx::query("DELETE FROM agent_presence WHERE instance_id = $1").bind(instance_id).execute(self.conn()).await?;
        for agent_id in agent_ids {
            sqlx::query("INSERT INTO agent_presence (instance_id, agent_id, seen_at) VALUES ($1, $2, $3)")
                .bind(instance_id)
                .bind(agent_id)
                .bind(now)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}
