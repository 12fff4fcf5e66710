//! In-process fan-out of "conversation X changed up to seq N" hints to open streams. The
//! database is the truth: a stream that gets a hint reads what it has not seen from the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, broadcast};

/// A hint that a conversation has new messages or a new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub conversation_id: String,
    pub seq: i64,
}

#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Changed>,
    presence: Arc<Presence>,
}

/// Agents with an open console stream: on this instance, and on the others sharing the
/// database (as last read by `chat::presence`).
#[derive(Default)]
struct Presence {
    here: AtomicUsize,
    elsewhere: AtomicUsize,
    changed: Notify,
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

    pub fn publish(&self, conversation_id: &str, seq: i64) {
        // No receivers is fine: nobody is watching.
        let _ = self.sender.send(Changed { conversation_id: conversation_id.to_string(), seq });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Changed> {
        self.sender.subscribe()
    }

    /// Agents with an open console stream, on any instance.
    pub fn online_agents(&self) -> usize {
        self.online_here() + self.presence.elsewhere.load(Ordering::Relaxed)
    }

    /// Agents with an open console stream on this instance.
    pub fn online_here(&self) -> usize {
        self.presence.here.load(Ordering::Relaxed)
    }

    pub fn set_online_elsewhere(&self, agents: usize) {
        self.presence.elsewhere.store(agents, Ordering::Relaxed);
    }

    /// Resolves once the number of agents online here has changed (since the last call).
    pub async fn presence_changed(&self) {
        self.presence.changed.notified().await;
    }

    /// Counts an agent online until the guard is dropped.
    pub fn agent_online(&self) -> OnlineGuard {
        self.presence.here.fetch_add(1, Ordering::Relaxed);
        self.presence.changed.notify_one();
        OnlineGuard(self.presence.clone())
    }
}

pub struct OnlineGuard(Arc<Presence>);

impl Drop for OnlineGuard {
    fn drop(&mut self) {
        self.0.here.fetch_sub(1, Ordering::Relaxed);
        self.0.changed.notify_one();
    }
}
