//! In-process fan-out of "conversation X changed up to seq N" hints to open streams. The
//! database is the truth: a stream that gets a hint reads what it has not seen from the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::broadcast;

/// A hint that a conversation has new messages or a new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub conversation_id: String,
    pub seq: i64,
}

#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Changed>,
    online_agents: Arc<AtomicUsize>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(1024);
        Self { sender, online_agents: Arc::new(AtomicUsize::new(0)) }
    }

    pub fn publish(&self, conversation_id: &str, seq: i64) {
        // No receivers is fine: nobody is watching.
        let _ = self.sender.send(Changed { conversation_id: conversation_id.to_string(), seq });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Changed> {
        self.sender.subscribe()
    }

    /// Agents with an open console stream.
    pub fn online_agents(&self) -> usize {
        self.online_agents.load(Ordering::Relaxed)
    }

    /// Counts an agent online until the guard is dropped.
    pub fn agent_online(&self) -> OnlineGuard {
        self.online_agents.fetch_add(1, Ordering::Relaxed);
        OnlineGuard(self.online_agents.clone())
    }
}

pub struct OnlineGuard(Arc<AtomicUsize>);

impl Drop for OnlineGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
