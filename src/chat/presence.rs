//! Whether anybody is online, agreed by every instance on the database.
//!
//! Each instance writes which agents have a console stream open on it (when that changes,
//! and every few seconds while there are any) and reads the others' every
//! [`REFRESH`]. A row that is not refreshed for [`EXPIRY_MS`] belongs to a stopped or crashed
//! instance and no longer counts.

use std::time::Duration;

use tokio::sync::watch;

use super::EventHub;
use crate::store::{Store, now_ms};

/// How often the other instances' agents are read.
pub const REFRESH: Duration = Duration::from_secs(2);
/// How often a non-empty set is written again to show the instance is alive.
const KEEPALIVE_MS: i64 = 5_000;
/// Rows older than this are ignored.
const EXPIRY_MS: i64 = 15_000;
/// Rows older than this are deleted.
const FORGET_MS: i64 = 3_600_000;

/// Keeps `events`' set of agents online elsewhere up to date until `shutdown` turns true,
/// then removes this instance's row.
pub async fn sync_presence(store: Store, events: EventHub, mut shutdown: watch::Receiver<bool>) {
    let instance = crate::util::random_hex(16);
    let mut published: Option<(Vec<String>, i64)> = None;
    loop {
        let now = now_ms();
        let here = events.online_here();
        let due = match &published {
            None => !here.is_empty(),
            Some((agents, at)) => *agents != here || (!here.is_empty() && now - at >= KEEPALIVE_MS),
        };
        if due {
            match store.publish_presence(&instance, &here, now).await {
                Ok(()) => published = Some((here, now)),
                Err(e) => tracing::warn!(error = %e, "could not record agents online"),
            }
        }
        match store.online_elsewhere(&instance, now - EXPIRY_MS).await {
            Ok(agents) => events.set_online_elsewhere(agents),
            Err(e) => tracing::warn!(error = %e, "could not read agents online on other instances"),
        }
        tokio::select! {
            () = events.presence_changed() => {}
            () = tokio::time::sleep(REFRESH) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => break,
        }
    }
    if let Err(e) = store.remove_presence(&instance, now_ms() - FORGET_MS).await {
        tracing::warn!(error = %e, "could not remove this instance's presence row");
    }
}
