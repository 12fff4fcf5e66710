//! Agents online per server instance (see `chat::presence`).

use sqlx::Row;

use super::{Result, Store};

impl Store {
    /// Records how many agents are online on `instance_id` as of `now`.
    pub async fn publish_presence(&self, instance_id: &str, online_agents: usize, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO agent_presence (instance_id, online_agents, seen_at) VALUES ($1, $2, $3)
             ON CONFLICT (instance_id) DO UPDATE SET online_agents = excluded.online_agents, seen_at = excluded.seen_at",
        )
        .bind(instance_id)
        .bind(online_agents as i64)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Agents online on instances other than `instance_id` that reported since `since`.
    pub async fn online_elsewhere(&self, instance_id: &str, since: i64) -> Result<usize> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(online_agents), 0) AS BIGINT) AS online FROM agent_presence
             WHERE instance_id <> $1 AND seen_at >= $2",
        )
        .bind(instance_id)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok(usize::try_from(row.try_get::<i64, _>("online")?).unwrap_or(0))
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
