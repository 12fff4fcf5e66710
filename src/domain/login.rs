//! How failed sign-ins slow an attacker down without locking the real agent out.
//!
//! Failures are counted per (account, client address) pair: after a few free tries each
//! further attempt from that pair waits twice as long as the one before. An address that
//! fails on many accounts (password spraying) is slowed the same way, on its own. Only a
//! flood of failures from many addresses locks the account itself, until an admin unlocks it.

/// Failures counted within this window.
pub const WINDOW_MS: i64 = 60 * 60 * 1000;
/// Failures of one (account, address) pair before attempts are delayed.
pub const FREE_FAILURES_PER_PAIR: i64 = 5;
/// Failures of one address, over all accounts, before its attempts are delayed.
pub const FREE_FAILURES_PER_ADDRESS: i64 = 20;
/// Failures on one account, from all addresses, that lock it.
pub const LOCK_AFTER_ACCOUNT_FAILURES: i64 = 100;
/// The longest delay between attempts.
pub const MAX_DELAY_MS: i64 = 15 * 60 * 1000;

/// Recent failures of one key (a pair or an address): how many, and the latest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    pub last_at: i64,
}

/// The recent failures that bear on one sign-in attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginHistory {
    pub pair: Failures,
    pub address: Failures,
}

/// The delay owed after `count` failures with `free` of them free: 1 s, 2 s, 4 s, ... up to
/// [`MAX_DELAY_MS`].
fn delay_ms(count: i64, free: i64) -> i64 {
    if count < free {
        return 0;
    }
    let doublings = u32::try_from(count - free).unwrap_or(u32::MAX).min(20);
    (1000_i64 << doublings).min(MAX_DELAY_MS)
}

impl LoginHistory {
    /// When the next attempt may be made (Unix ms); `None` when it may be made now.
    pub fn retry_at(&self, now: i64) -> Option<i64> {
        let pair = self.pair.last_at + delay_ms(self.pair.count, FREE_FAILURES_PER_PAIR);
        let address = self.address.last_at + delay_ms(self.address.count, FREE_FAILURES_PER_ADDRESS);
        let at = pair.max(address);
        (at > now).then_some(at)
    }
}

/// Whether this many failures on an account within the window lock it.
pub fn locks_account(account_failures: i64) -> bool {
    account_failures >= LOCK_AFTER_ACCOUNT_FAILURES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_mistakes_cost_nothing_then_delays_double() {
        let now = 1_000_000;
        let at = |count| LoginHistory { pair: Failures { count, last_at: now }, ..Default::default() }.retry_at(now);
        assert_eq!(at(0), None);
        assert_eq!(at(4), None);
        assert_eq!(at(5), Some(now + 1000));
        assert_eq!(at(6), Some(now + 2000));
        assert_eq!(at(8), Some(now + 8000));
        assert_eq!(at(40), Some(now + MAX_DELAY_MS));
        let waited = LoginHistory { pair: Failures { count: 6, last_at: now - 2000 }, ..Default::default() };
        assert_eq!(waited.retry_at(now), None, "the delay has passed");
    }

    #[test]
    fn a_spraying_address_is_slowed_on_every_account() {
        let now = 5_000_000;
        let sprayed = LoginHistory { pair: Failures::default(), address: Failures { count: 25, last_at: now } };
        assert_eq!(sprayed.retry_at(now), Some(now + 32_000));
        assert!(!locks_account(99));
        assert!(locks_account(100));
    }
}
