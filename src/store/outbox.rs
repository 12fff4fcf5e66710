//! The outbox of events for the store's own systems: rows written in the transaction of the
//! change they report, taken by the sender when due, and every attempt recorded.

use std::sync::Arc;

use arc_swap::ArcSwap;
use sqlx::Row;

use super::{Result, Store, now_ms};

/// Where events go, and a bell the committing transaction rings for the sender.
#[derive(Default)]
pub struct Outbox {
    endpoints: ArcSwap<Vec<String>>,
    ready: tokio::sync::Notify,
}

impl Outbox {
    pub fn endpoints(&self) -> Arc<Vec<String>> {
        self.endpoints.load_full()
    }

    pub fn wake(&self) {
        self.ready.notify_one();
    }
}

/// An event waiting for its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueEvent {
    pub event_id: String,
    pub endpoint: String,
    pub body: String,
    /// Attempts made so far.
    pub attempts: i64,
    next_attempt_at: i64,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: i64,
    /// The HTTP status, when a response came.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What happens to the event after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    RetryAt(i64),
    GiveUp,
}

/// An event's delivery to one endpoint as recorded, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDelivery {
    pub event_id: String,
    pub endpoint: String,
    pub kind: String,
    pub body: String,
    pub delivered: bool,
    pub gave_up: bool,
    pub attempts: Vec<Attempt>,
}

impl Store {
    /// Sends events to these endpoints from now on (empty: no events are queued).
    pub fn set_event_endpoints(&self, endpoints: Vec<String>) {
        self.outbox.endpoints.store(Arc::new(endpoints));
    }

    /// Resolves when a committed transaction queued an event (or at once, if one did since
    /// the last call).
    pub async fn outbox_rung(&self) {
        self.outbox.ready.notified().await;
    }

    /// Events due by `now`, oldest first.
    pub async fn due_events(&self, now: i64, limit: i64) -> Result<Vec<DueEvent>> {
        let rows = sqlx::query(
            "SELECT event_id, endpoint, body, attempts, next_attempt_at FROM event_outbox
             WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DueEvent {
                    event_id: r.try_get(0)?,
                    endpoint: r.try_get(1)?,
                    body: r.try_get(2)?,
                    attempts: r.try_get(3)?,
                    next_attempt_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Takes a due event for one attempt, until `lease_until` (when another sender may take
    /// it, should this one die mid-attempt). False when another sender took it first.
    pub async fn claim_event(&self, event: &DueEvent, lease_until: i64) -> Result<bool> {
        let taken = sqlx::query(
            "UPDATE event_outbox SET next_attempt_at = $4
             WHERE event_id = $1 AND endpoint = $2 AND next_attempt_at = $3",
        )
        .bind(&event.event_id)
        .bind(&event.endpoint)
        .bind(event.next_attempt_at)
        .bind(lease_until)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// Records an attempt and what follows from it, together.
    pub async fn record_attempt(&self, event: &DueEvent, attempt: &Attempt, after: AfterAttempt) -> Result<()> {
        let mut tx = self.begin().await?;
        let number = event.attempts + 1;
        sqlx::query(
            "INSERT INTO event_attempts (event_id, endpoint, attempt, attempted_at, status, error, duration_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&event.event_id)
        .bind(&event.endpoint)
        .bind(number)
        .bind(attempt.at)
        .bind(attempt.status.map(i64::from))
        .bind(&attempt.error)
        .bind(attempt.duration_ms)
        .execute(tx.conn())
        .await?;
        let (next, delivered, gave_up) = match after {
            AfterAttempt::Delivered => (None, Some(now_ms()), None),
            AfterAttempt::RetryAt(at) => (Some(at), None, None),
            AfterAttempt::GiveUp => (None, None, Some(now_ms())),
        };
        sqlx::query(
            "UPDATE event_outbox SET attempts = $3, next_attempt_at = $4, delivered_at = $5, gave_up_at = $6
             WHERE event_id = $1 AND endpoint = $2",
        )
        .bind(&event.event_id)
        .bind(&event.endpoint)
        .bind(number)
        .bind(next)
        .bind(delivered)
        .bind(gave_up)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    /// Gives up the waiting events of endpoints no longer configured; returns how many.
    pub async fn give_up_unlisted_events(&self, endpoints: &[String]) -> Result<u64> {
        let listed: Vec<String> = (0..endpoints.len()).map(|i| format!("${}", i + 2)).collect();
        let unlisted =
            if listed.is_empty() { String::new() } else { format!("AND endpoint NOT IN ({})", listed.join(", ")) };
        let sql = format!(
            "UPDATE event_outbox SET next_attempt_at = NULL, gave_up_at = $1 WHERE next_attempt_at IS NOT NULL {unlisted}"
        );
        let mut query = sqlx::query(&sql).bind(now_ms());
        for e in endpoints {
            query = query.bind(e);
        }
        Ok(query.execute(self.pool()).await?.rows_affected())
    }

    /// Events not yet delivered nor given up.
    pub async fn outbox_backlog(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM event_outbox WHERE next_attempt_at IS NOT NULL")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }

    /// Every event queued, oldest first, with its attempts: for operators and tests.
    pub async fn event_deliveries(&self) -> Result<Vec<EventDelivery>> {
        let rows = sqlx::query(
            "SELECT event_id, endpoint, kind, body, delivered_at, gave_up_at FROM event_outbox ORDER BY created_at, event_id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let (event_id, endpoint): (String, String) = (r.try_get(0)?, r.try_get(1)?);
            let attempts = sqlx::query(
                "SELECT attempted_at, status, error, duration_ms FROM event_attempts
                 WHERE event_id = $1 AND endpoint = $2 ORDER BY attempt",
            )
            .bind(&event_id)
            .bind(&endpoint)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|a| {
                let status: Option<i64> = a.try_get(1)?;
                Ok(Attempt {
                    at: a.try_get(0)?,
                    status: status.and_then(|s| u16::try_from(s).ok()),
                    error: a.try_get(2)?,
                    duration_ms: a.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            let delivered: Option<i64> = r.try_get(4)?;
            let gave_up: Option<i64> = r.try_get(5)?;
            out.push(EventDelivery {
                event_id,
                endpoint,
                kind: r.try_get(2)?,
                body: r.try_get(3)?,
                delivered: delivered.is_some(),
                gave_up: gave_up.is_some(),
                attempts,
            });
        }
        Ok(out)
    }
}
