//! Several instances on one PostgreSQL database: each listens for the changes every instance
//! commits and feeds them to its own event hub. After the listening connection drops and comes
//! back, every stream is told to resync from the database, so nothing sent meanwhile is missed.

use std::time::Duration;

use super::events::EventHub;
use crate::store::Store;

pub async fn listen_postgres(store: Store, hub: EventHub, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match store.listen().await {
            Ok(mut listener) => {
                tracing::info!("listening for changes from other instances");
                backoff = Duration::from_millis(200);
                // Anything committed while we were not listening is read again.
                hub.publish_resync();
                loop {
                    tokio::select! {
                        change = listener.next() => match change {
                            Ok(Some(change)) => hub.publish(change),
                            Ok(None) => {
                                tracing::warn!("listening connection lost and re-established");
                                hub.publish_resync();
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
            Err(e) => tracing::warn!(error = %e, "cannot start listening for changes"),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
