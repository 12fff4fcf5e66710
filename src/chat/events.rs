//! In-process fan-out of "conversation X changed up to seq N" hints to open streams. The
//! database is the truth: a stream that gets a hint reads what it has not seen from the store.
//!
//! A shopper's stream watches its own conversation only, so a message wakes the streams of
//! that conversation and no others, however many widgets are open. Agents' streams (a few)
//! hear every change, with the state and assignee it was committed with.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, broadcast, watch};

use crate::store::Change;

/// Conversation id meaning "re-read everything": hints may have been missed.
pub const RESYNC: &str = "*";

#[derive(Clone)]
pub struct EventHub {
    /// Every change, for agents' streams.
    all: broadcast::Sender<Change>,
    /// The latest seq of each conversation some shopper's stream watches.
    watched: Arc<Mutex<HashMap<String, watch::Sender<i64>>>>,
    /// Bumped when every stream must read again.
    resyncs: Arc<watch::Sender<u64>>,
    presence: Arc<Presence>,
}

/// Agents with an open console stream: on this instance (with how many streams each), and on
/// the other instances sharing the database (as last read by `chat::presence`).
#[derive(Default)]
struct Presence {
    here: Mutex<HashMap<String, usize>>,
    elsewhere: Mutex<HashSet<String>>,
    changed: Notify,
}

impl Presence {
    fn here(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.here.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn elsewhere(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.elsewhere.lock().unwrap_or_else(|e| e.into_inner())
    }
}
impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        let (all, _) = broadcast::channel(1024);
        Self { all, watched: Arc::default(), resyncs: Arc::new(watch::channel(0).0), presence: Arc::default() }
    }

    pub fn publish(&self, change: Change) {
        if let Some(seq) = lock(&self.watched).get(&change.conversation_id) {
            seq.send_if_modified(|latest| {
                let newer = change.seq > *latest;
                *latest = (*latest).max(change.seq);
                newer
            });
        }
        // No receivers is fine: no agent is watching.
        let _ = self.all.send(change);
    }

    /// Tells every stream to read again from the database.
    pub fn publish_resync(&self) {
        self.resyncs.send_modify(|n| *n += 1);
        let _ = self.all.send(Change::everything(RESYNC));
    }

    /// Every change, for an agent's stream.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.all.subscribe()
    }

    /// Changes of one conversation (and resyncs), for a shopper's stream.
    pub fn watch(&self, conversation_id: &str) -> ConversationWatch {
        let seq =
            lock(&self.watched).entry(conversation_id.to_string()).or_insert_with(|| watch::channel(0).0).subscribe();
        ConversationWatch {
            conversation_id: conversation_id.to_string(),
            seq: Some(seq),
            resyncs: self.resyncs.subscribe(),
            watched: self.watched.clone(),
        }
    }

    /// Conversations with at least one shopper's stream watching them here.
    pub fn watched_conversations(&self) -> usize {
        lock(&self.watched).len()
    }

    /// Agents with an open console stream, on any instance.
    pub fn online_agents(&self) -> usize {
        self.online_agent_ids().len()
    }

    /// Ids of the agents with an open console stream, on any instance, sorted.
    pub fn online_agent_ids(&self) -> Vec<String> {
        let mut ids: HashSet<String> = self.presence.elsewhere().clone();
        ids.extend(self.presence.here().keys().cloned());
        let mut ids: Vec<String> = ids.into_iter().collect();
        ids.sort();
        ids
    }

    /// Ids of the agents with an open console stream on this instance, sorted.
    pub fn online_here(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.presence.here().keys().cloned().collect();
        ids.sort();
        ids
    }

    pub fn set_online_elsewhere(&self, agent_ids: HashSet<String>) {
        *self.presence.elsewhere() = agent_ids;
    }

    /// Resolves once the agents online here have changed (since the last call).
    pub async fn presence_changed(&self) {
        self.presence.changed.notified().await;
    }

    /// Counts `agent_id` online until the guard is dropped.
    pub fn agent_online(&self, agent_id: &str) -> OnlineGuard {
        *self.presence.here().entry(agent_id.to_string()).or_default() += 1;
        self.presence.changed.notify_one();
        OnlineGuard { presence: self.presence.clone(), agent_id: agent_id.to_string() }
    }
}

pub struct OnlineGuard {
    presence: Arc<Presence>,
    agent_id: String,
}

impl Drop for OnlineGuard {
    fn drop(&mut self) {
        let mut here = self.presence.here();
        if let Some(streams) = here.get_mut(&self.agent_id) {
            *streams -= 1;
            if *streams == 0 {
                here.remove(&self.agent_id);
            }
        }
        drop(here);
        self.presence.changed.notify_one();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A shopper's stream's view of one conversation; it stops watching when dropped.
pub struct ConversationWatch {
    conversation_id: String,
    /// Always `Some` until dropped.
    seq: Option<watch::Receiver<i64>>,
    resyncs: watch::Receiver<u64>,
    watched: Arc<Mutex<HashMap<String, watch::Sender<i64>>>>,
}

impl ConversationWatch {
    /// Resolves when the conversation may have changed since the last call: a newer seq was
    /// published, or every stream must read again. `false` once the hub is gone.
    pub async fn changed(&mut self) -> bool {
        let Some(seq) = self.seq.as_mut() else { return false };
        tokio::select! {
            r = seq.changed() => r.is_ok(),
            r = self.resyncs.changed() => r.is_ok(),
        }
    }
}

impl Drop for ConversationWatch {
    fn drop(&mut self) {
        let mut watched = lock(&self.watched);
        drop(self.seq.take());
        if watched.get(&self.conversation_id).is_some_and(|s| s.receiver_count() == 0) {
            watched.remove(&self.conversation_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::conversation::ConversationState;

    fn change(id: &str, seq: i64) -> Change {
        Change { conversation_id: id.into(), seq, state: Some(ConversationState::Bot), assigned_agent: None }
    }

    async fn woken(watch: &mut ConversationWatch) -> bool {
        tokio::time::timeout(Duration::from_millis(50), watch.changed()).await.is_ok()
    }

    #[tokio::test]
    async fn a_stream_wakes_for_its_own_conversation_only() {
        let hub = EventHub::new();
        let mut mine = hub.watch("a");
        hub.publish(change("b", 1));
        assert!(!woken(&mut mine).await, "another conversation's message must not wake it");
        hub.publish(change("a", 3));
        assert!(woken(&mut mine).await);
        hub.publish(change("a", 2));
        assert!(!woken(&mut mine).await, "an older seq is no news");
        hub.publish_resync();
        assert!(woken(&mut mine).await, "a resync wakes every stream");
    }

    #[tokio::test]
    async fn the_last_stream_to_leave_stops_the_watch() {
        let hub = EventHub::new();
        let (first, second) = (hub.watch("a"), hub.watch("a"));
        assert_eq!(hub.watched_conversations(), 1);
        drop(first);
        assert_eq!(hub.watched_conversations(), 1);
        drop(second);
        assert_eq!(hub.watched_conversations(), 0);
        hub.publish(change("a", 1));
        let mut again = hub.watch("a");
        hub.publish(change("a", 2));
        assert!(woken(&mut again).await);
    }

    #[tokio::test]
    async fn agents_hear_every_change() {
        let hub = EventHub::new();
        let mut agent = hub.subscribe();
        hub.publish(change("a", 1));
        hub.publish(change("b", 1));
        assert_eq!(agent.recv().await.unwrap().conversation_id, "a");
        assert_eq!(agent.recv().await.unwrap().conversation_id, "b");
    }
}
