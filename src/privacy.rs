//! Personal data: forgetting a customer on request (store API or command line) and deleting
//! conversations past the retention period (a periodic task, or once from the command line).

use std::time::Duration;

use crate::domain::audit::{Actor, AuditAction};
use crate::domain::privacy::{
    Forgotten, Pruned, delivery_cutoff, failed_attempts_cutoff, idempotency_cutoff, retention_cutoff,
};
use crate::store::{Store, StoreError, Tx, now_ms};

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("there is no customer with id {0:?}")]
    UnknownCustomer(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Forgets customer `id` in its own transaction.
pub async fn forget_customer(store: &Store, actor: &Actor, id: &str) -> Result<Forgotten, PrivacyError> {
    let mut tx = store.begin().await?;
    let forgotten = forget_in(&mut tx, actor, id).await?;
    tx.commit().await?;
    Ok(forgotten)
}

/// Erases customer `id`'s personal data inside `tx` and audits it (ids and counts only).
/// Forgetting again succeeds and changes nothing more.
pub async fn forget_in(tx: &mut Tx, actor: &Actor, id: &str) -> Result<Forgotten, PrivacyError> {
    let forgotten = tx.forget_customer(id).await?.ok_or_else(|| PrivacyError::UnknownCustomer(id.to_string()))?;
    let detail = serde_json::to_value(&forgotten).unwrap_or_default();
    tx.audit(actor, AuditAction::CustomerForgotten, None, detail).await?;
    tracing::info!(customer = %id, conversations = forgotten.conversations, "customer forgotten");
    Ok(forgotten)
}

/// Conversations deleted per transaction, so a first run over a large backlog does not hold
/// the database's write lock for long.
const BATCH: i64 = 500;

/// Deletes the conversations idle for `retention_days` (none when `None`), and the
/// idempotency records and store delivery ids past their use. Each transaction that deletes
/// anything writes a `retention_applied` audit row with its counts.
pub async fn apply_retention(store: &Store, retention_days: Option<u32>) -> Result<Pruned, StoreError> {
    let now = now_ms();
    let mut total = Pruned { retention_days, ..Pruned::default() };
    let mut first = true;
    loop {
        let ids = match retention_days {
            Some(days) => store.idle_conversations(retention_cutoff(now, days), BATCH).await?,
            None => Vec::new(),
        };
        let mut tx = store.begin().await?;
        let mut pruned = Pruned { retention_days, ..Pruned::default() };
        if let Some(days) = retention_days {
            for id in &ids {
                tx.delete_idle_conversation(id, retention_cutoff(now, days), &mut pruned).await?;
            }
        }
        if first {
            pruned.idempotency_records = tx.prune_idempotency_records(idempotency_cutoff(now)).await?;
            pruned.store_deliveries = tx.prune_deliveries(delivery_cutoff(now)).await?;
            let (logins, verifications) = tx.prune_failed_attempts(failed_attempts_cutoff(now)).await?;
            pruned.login_failures = logins;
            pruned.verification_attempts += verifications;
            first = false;
        }
        if pruned.deleted_anything() {
            let detail = serde_json::to_value(&pruned).unwrap_or_default();
            tx.audit(&Actor::System, AuditAction::RetentionApplied, None, detail).await?;
        }
        tx.commit().await?;
        total.add(&pruned);
        if ids.len() < BATCH as usize {
            return Ok(total);
        }
    }
}

/// How often the retention task runs (and once at start).
const RETENTION_PERIOD: Duration = Duration::from_secs(3600);

/// Applies the retention period until `shutdown` turns true. Every instance runs it; two
/// instances deleting at once delete each conversation once.
pub async fn enforce_retention(
    store: Store,
    retention_days: Option<u32>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    crate::util::every(RETENTION_PERIOD, shutdown, || async {
        match apply_retention(&store, retention_days).await {
            Ok(p) if p.deleted_anything() => tracing::info!(
                conversations = p.conversations,
                messages = p.messages,
                idempotency_records = p.idempotency_records,
                store_deliveries = p.store_deliveries,
                "retention applied"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "the retention task failed; it runs again within the hour"),
        }
    })
    .await;
}
