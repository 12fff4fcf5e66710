//! Several instances on one PostgreSQL database: every committed change is NOTIFYed (payload
//! `conversation_id:seq`, ids only); each instance LISTENs and feeds its own event hub. After
//! the listening connection drops and comes back, every stream is told to resync from the
//! database, so nothing sent while it was away is missed.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::events::EventHub;
use crate::store::NOTIFY_CHANNEL;

/// Conversation id meaning "re-read everything".
pub const RESYNC: &str = "*";

pub async fn listen_postgres(url: String, hub: EventHub, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(NOTIFY_CHANNEL).await {
                    tracing::warn!(error = %e, "LISTEN failed");
                } else {
                    tracing::info!("listening for changes from other instances");
                    backoff = Duration::from_millis(200);
                    // Anything committed while we were not listening is read again.
                    hub.publish(RESYNC, i64::MAX);
                    loop {
                        tokio::select! {
                            n = listener.try_recv() => match n {
                                Ok(Some(n)) => {
                                    if let Some((id, seq)) = n.payload().rsplit_once(':') {
                                        hub.publish(id, seq.parse().unwrap_or(i64::MAX));
                                    }
                                }
                                // The connection dropped; sqlx reconnects on the next call.
                                Ok(None) => {
                                    tracing::warn!("listening connection lost; reconnecting");
                                    hub.publish(RESYNC, i64::MAX);
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "listening failed; reconnecting");
                                    break;
                                }
                            },
                            _ = shutdown.changed() => return,
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot connect the listener"),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
