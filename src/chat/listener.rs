//! Several instances on one PostgreSQL database: each listens for what every instance commits,
//! feeding conversation changes to its own event hub and reloading the models when another
//! instance promoted, rolled back or shadowed one. After the listening connection drops and
//! comes back, every stream resyncs from the database and the serving models are checked, so
//! nothing sent meanwhile is missed.

use std::time::Duration;

use super::events::EventHub;
use crate::learning::ModelService;
use crate::store::{Notice, Store};

pub async fn listen_postgres(
    store: Store,
    hub: EventHub,
    models: std::sync::Arc<ModelService>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let reload = || async {
        if let Err(e) = models.reload().await {
            tracing::error!(error = %e, "cannot serve the models the database names; keeping the current ones");
        }
    };
    let mut backoff = Duration::from_millis(200);
    loop {
        match store.listen().await {
            Ok(mut listener) => {
                tracing::info!("listening for changes from other instances");
                backoff = Duration::from_millis(200);
                // Anything committed while we were not listening is read again.
                hub.publish_resync();
                reload().await;
                loop {
                    tokio::select! {
                        notice = listener.next() => match notice {
                            Ok(Some(Notice::Conversation(change))) => hub.publish(change),
                            Ok(Some(Notice::Models)) => reload().await,
                            Ok(None) => {
                                tracing::warn!("listening connection lost and re-established");
                                hub.publish_resync();
                                reload().await;
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
