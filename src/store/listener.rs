//! Changes committed by other instances sharing a PostgreSQL database. Every transaction that
//! changes a conversation NOTIFYs `conversation_id:seq` (ids only, no content) on commit, and
//! one that promotes, rolls back or shadows a model version NOTIFYs the models channel.

use sqlx::postgres::PgListener;

use super::{Result, Store};

/// The channel conversation changes go to.
pub(super) const NOTIFY_CHANNEL: &str = "switchboard_events";
/// The channel model changes go to.
pub(super) const MODELS_CHANNEL: &str = "switchboard_models";

/// A conversation has new messages or a new state, up to `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub conversation_id: String,
    pub seq: i64,
}

/// What another instance committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Conversation(Change),
    /// The live model or the one in shadow changed.
    Models,
}

/// A dedicated connection listening for [`Notice`]s.
pub struct ChangeListener {
    listener: PgListener,
}

impl Store {
    /// Starts listening for changes made by any instance (PostgreSQL only).
    pub async fn listen(&self) -> Result<ChangeListener> {
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen_all([NOTIFY_CHANNEL, MODELS_CHANNEL]).await?;
        Ok(ChangeListener { listener })
    }
}

impl ChangeListener {
    /// The next notice. `Ok(None)` means the connection dropped and has been re-established:
    /// notices sent meanwhile were missed, so everything should be read again.
    pub async fn next(&mut self) -> Result<Option<Notice>> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(None);
            };
            if notification.channel() == MODELS_CHANNEL {
                return Ok(Some(Notice::Models));
            }
            if let Some((id, seq)) = notification.payload().rsplit_once(':') {
                let seq = seq.parse().unwrap_or(i64::MAX);
                return Ok(Some(Notice::Conversation(Change { conversation_id: id.to_string(), seq })));
            }
        }
    }
}
