//! In-process fan-out of "conversation X changed up to seq N" hints to open streams. The
//! database is the truth: a stream that gets a hint reads what it has not seen from the store.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, broadcast};

use crate::store::Change;

/// Conversation id meaning "re-read everything": hints may have been missed.
pub const RESYNC: &str = "*";

#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Change>,
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
        let (sender, _) = broadcast::channel(1024);
        Self { sender, presence: Arc::default() }
    }

    pub fn publish(&self, change: Change) {
        // No receivers is fine: nobody is watching.
        let _ = self.sender.send(change);
    }

    /// Tells every stream to read again from the database.
    pub fn publish_resync(&self) {
        self.publish(Change { conversation_id: RESYNC.to_string(), seq: i64::MAX });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
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
