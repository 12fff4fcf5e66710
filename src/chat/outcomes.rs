//! The outcome sweeper: conversations left alone with the bot get their outcome. After the
//! bot's answer and a set silence the bot resolved them (assumed); with no answer, the shopper
//! abandoned them. Every instance sweeps; each conversation is settled under its row lock, so
//! two instances never settle one twice.

use std::sync::Arc;
use std::time::Duration;

use super::service::{ChatError, ChatService};
use crate::store::now_ms;

/// The default silence after the bot's answer before the conversation counts as resolved.
pub const DEFAULT_ASSUME_RESOLVED_AFTER: Duration = Duration::from_secs(30 * 60);

/// Conversations settled per sweep at most (the next sweep takes the rest).
const BATCH: i64 = 500;

impl ChatService {
    /// Settles the conversations quiet for `assume_after`; returns how many.
    pub async fn settle_idle(&self, assume_after: Duration) -> Result<usize, ChatError> {
        let assume_after = i64::try_from(assume_after.as_millis()).unwrap_or(i64::MAX);
        let ids = self.bot.store.idle_unsettled(now_ms().saturating_sub(assume_after), BATCH).await?;
        let mut settled = 0;
        for id in ids {
            match self.settle_one(&id, assume_after).await {
                Ok(true) => settled += 1,
                Ok(false) => {}
                // One conversation that cannot be settled does not hold up the others.
                Err(e) => tracing::error!(conversation = %id, error = %e, "cannot settle this conversation"),
            }
        }
        Ok(settled)
    }

    /// Settles one conversation under its row lock, if it is still quiet.
    async fn settle_one(&self, id: &str, assume_after: i64) -> Result<bool, ChatError> {
        let (tx, mut turn) = self.open_turn(id).await?;
        let Some(event) = turn.conversation.settle_idle(now_ms(), assume_after) else {
            return Ok(false);
        };
        turn.record(event);
        self.commit(tx, turn, None).await?;
        Ok(true)
    }
}

/// How often to sweep: a quarter of the silence, between 100 ms and 30 s.
fn sweep_period(assume_after: Duration) -> Duration {
    (assume_after / 4).clamp(Duration::from_millis(100), Duration::from_secs(30))
}

/// Sweeps until `shutdown` turns true.
pub async fn settle_outcomes(
    chat: Arc<ChatService>,
    assume_after: Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    crate::util::every(sweep_period(assume_after), shutdown, || async {
        match chat.settle_idle(assume_after).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(conversations = n, "outcomes settled"),
            Err(e) => tracing::error!(error = %e, "cannot settle idle conversations; trying again"),
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_runs_often_enough_for_short_and_long_silences() {
        assert_eq!(sweep_period(Duration::from_secs(2)), Duration::from_millis(500));
        assert_eq!(sweep_period(DEFAULT_ASSUME_RESOLVED_AFTER), Duration::from_secs(30));
        assert_eq!(sweep_period(Duration::from_millis(10)), Duration::from_millis(100));
    }
}
