//! Store API deliveries already applied, by the platform's delivery id, so a copy of one
//! (a retry, a replay) changes nothing. The id is recorded in the transaction of the
//! delivery's own writes: both are kept, or neither.

use sqlx::Row;

use super::{Result, Store, Tx, now_ms};

impl Store {
    /// Starts the transaction of a delivery by recording its id, or `None` if a transaction
    /// that committed already recorded it. On PostgreSQL a copy arriving while the first is
    /// still being applied waits on the id's unique key, and then finds it; on SQLite
    /// transactions run one at a time anyway.
    pub async fn begin_delivery(&self, id: &str, route: &str) -> Result<Option<Tx>> {
        let mut tx = self.begin().await?;
        let recorded = sqlx::query(
            "INSERT INTO store_deliveries (id, route, received_at, response) VALUES ($1, $2, $3, '{}')
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(route)
        .bind(now_ms())
        .execute(tx.conn())
        .await?
        .rows_affected();
        Ok((recorded == 1).then_some(tx))
    }

    /// What a delivery was answered (JSON), if it was applied.
    pub async fn delivery_response(&self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT response FROM store_deliveries WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }
}

impl Tx {
    /// Keeps what the delivery begun by [`Store::begin_delivery`] is answered, for its copies.
    pub async fn settle_delivery(&mut self, id: &str, response: &str) -> Result<()> {
        sqlx::query("UPDATE store_deliveries SET response = $2 WHERE id = $1")
            .bind(id)
            .bind(response)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
