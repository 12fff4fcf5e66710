//! Login rate limits per IP and per account: a sliding window of failed attempts, in memory.
//! (Several instances each keep their own window; the limit per instance still holds.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    window: Duration,
    max_per_ip: usize,
    max_per_account: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 20, 5)
    }
}

impl LoginLimiter {
    pub fn new(window: Duration, max_per_ip: usize, max_per_account: usize) -> Self {
        Self { window, max_per_ip, max_per_account, failures: Mutex::new(HashMap::new()) }
    }

    fn count(&self, key: &str) -> usize {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let entry = map.entry(key.to_string()).or_default();
        entry.retain(|t| now.duration_since(*t) < self.window);
        entry.len()
    }

    /// Whether another attempt from this IP for this account may be tried now.
    pub fn allowed(&self, ip: &str, account: &str) -> bool {
        self.count(&format!("ip:{ip}")) < self.max_per_ip
            && self.count(&format!("account:{account}")) < self.max_per_account
    }

    pub fn record_failure(&self, ip: &str, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.entry(format!("ip:{ip}")).or_default().push(now);
        map.entry(format!("account:{account}")).or_default().push(now);
    }

    pub fn record_success(&self, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_locked_after_too_many_failures() {
        let l = LoginLimiter::new(Duration::from_secs(60), 100, 3);
        for _ in 0..3 {
            assert!(l.allowed("1.2.3.4", "a@b.co"));
            l.record_failure("1.2.3.4", "a@b.co");
        }
        assert!(!l.allowed("5.6.7.8", "a@b.co"));
        assert!(l.allowed("5.6.7.8", "other@b.co"));
    }

    #[test]
    fn an_ip_is_limited_across_accounts() {
        let l = LoginLimiter::new(Duration::from_secs(60), 2, 100);
        l.record_failure("1.2.3.4", "a");
        l.record_failure("1.2.3.4", "b");
        assert!(!l.allowed("1.2.3.4", "c"));
    }
}
