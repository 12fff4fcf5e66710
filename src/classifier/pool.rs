//! A small pool of ONNX sessions: `Session::run` needs `&mut`, so each run borrows one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ort::session::Session;

pub struct SessionPool {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
}

impl SessionPool {
    pub fn new(sessions: Vec<Session>) -> Self {
        assert!(!sessions.is_empty(), "a session pool needs at least one session");
        Self { sessions: sessions.into_iter().map(Mutex::new).collect(), next: AtomicUsize::new(0) }
    }

    pub fn size(&self) -> usize {
        self.sessions.len()
    }

    /// A free session if there is one, else waits for the next in turn.
    pub fn get(&self) -> MutexGuard<'_, Session> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.sessions.len();
        for i in 0..n {
            if let Ok(guard) = self.sessions[(start + i) % n].try_lock() {
                return guard;
            }
        }
        // A poisoned session only means a panic elsewhere mid-run; the session itself is fine.
        self.sessions[start % n].lock().unwrap_or_else(|e| e.into_inner())
    }
}
