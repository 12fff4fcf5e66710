//! Agents online per server instance (see `chat::presence`).

use std::collections::HashSet;

use sqlx::Row;

use super::{Result, Store};

impl Store {
    /// Records that exactly `agent_ids` are online on `instance_id` as of `now`.
    pub async fn publish_presence(&self, instance_id: &str, agent_ids: &[String], now: i64) -> Result<()> {
        for agent_id in agent_ids {
            sqlx::query(
                "INSERT INTO agent_presence (instance_id, agent_id, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT (instance_id, agent_id) DO UPDATE SET seen_at = excluded.seen_at",
            )
            .bind(instance_id)
            .bind(agent_id)
            .bind(now)
            .execute(self.pool())
            .await?;
        }
        // Whoever was not refreshed just now has left this instance.
        sqlx::query("DELETE FROM agent_presence WHERE instance_id = $1 AND seen_at < $2")
            .bind(instance_id)
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(())
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
