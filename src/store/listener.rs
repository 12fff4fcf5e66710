//! Changes committed by other instances sharing a PostgreSQL database. Every transaction that
//! changes a conversation NOTIFYs `conversation_id:seq` (ids only, no content) on commit.

use sqlx::postgres::PgListener;

use super::{Result, Store};

/// The channel notifications go to.
pub(super) const NOTIFY_CHANNEL: &str = "switchboard_events";

/// A conversation has new messages or a new state, up to `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub conversation_id: String,
    pub seq: i64,
}

/// A dedicated connection listening for [`Change`]s.
pub struct ChangeListener {
    listener: PgListener,
}

impl Store {
    /// Starts listening for changes made by any instance (PostgreSQL only).
    pub async fn listen(&self) -> Result<ChangeListener> {
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok(ChangeListener { listener })
    }
}

impl ChangeListener {
    /// The next change. `Ok(None)` means the connection dropped and has been re-established:
    /// changes committed meanwhile were missed, so everything should be read again.
    pub async fn next(&mut self) -> Result<Option<Change>> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(None);
            };
            if let Some((id, seq)) = notification.payload().rsplit_once(':') {
                let seq = seq.parse().unwrap_or(i64::MAX);
                return Ok(Some(Change { conversation_id: id.to_string(), seq }));
            }
        }
    }
}
