//! Personal data: what forgetting a customer and the retention period leave behind, and the
//! counts each reports (ids and numbers only, so they can go into the audit log).

use serde::{Deserialize, Serialize};

/// What replaces the text of every message of a forgotten customer's conversations.
pub const REDACTED: &str = "[redacted]";

/// What forgetting a customer changed. Forgetting again finds the same conversations and
/// orders but changes nothing more, so its counts of changes are 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forgotten {
    pub customer: String,
    /// Conversations of the customer: signed in as them, verified (or attached to the
    /// conversation by an agent) through one of their orders, or left their email.
    pub conversations: usize,
    pub messages_redacted: usize,
    pub orders_anonymised: usize,
    pub training_examples_deleted: usize,
    /// Of those, how many had already been written into `intents/` files, which are outside
    /// the database: check those files by hand.
    pub exported_examples: usize,
    pub verification_attempts_deleted: usize,
}

/// What one run of the retention task deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pruned {
    /// The retention period in days (`None`: off, so only expired records were pruned).
    pub retention_days: Option<u32>,
    pub conversations: usize,
    pub messages: usize,
    pub training_examples: usize,
    pub verification_attempts: usize,
    pub idempotency_records: usize,
    pub store_deliveries: usize,
    /// Failed sign-ins past the window they count in.
    pub login_failures: usize,
}

impl Pruned {
    pub fn deleted_anything(&self) -> bool {
        self.conversations
            + self.messages
            + self.training_examples
            + self.verification_attempts
            + self.idempotency_records
            + self.store_deliveries
            + self.login_failures
            > 0
    }

    pub fn add(&mut self, other: &Pruned) {
        self.conversations += other.conversations;
        self.messages += other.messages;
        self.training_examples += other.training_examples;
        self.verification_attempts += other.verification_attempts;
        self.idempotency_records += other.idempotency_records;
        self.store_deliveries += other.store_deliveries;
        self.login_failures += other.login_failures;
    }
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Conversations whose last change is before this moment are deleted.
pub fn retention_cutoff(now: i64, days: u32) -> i64 {
    now.saturating_sub(i64::from(days).saturating_mul(DAY_MS))
}

/// Idempotency records answer a widget's retry of one message, seconds or minutes later; a day
/// is far more than any retry waits, and they hold copies of replies, so they go after a day.
pub fn idempotency_cutoff(now: i64) -> i64 {
    now.saturating_sub(DAY_MS)
}

/// Failed sign-ins and guest verifications count for an hour; after a day they are dropped.
pub fn failed_attempts_cutoff(now: i64) -> i64 {
    now.saturating_sub(DAY_MS)
}

/// A signed store request older than five minutes is refused anyway, so a delivery id only has
/// to be remembered to catch a platform re-sending the same delivery with a fresh signature
/// (retries with back-off go on for up to two or three days). Seven days covers that, and a
/// batch applied again after that is harmless: older `updated_at`s are skipped and forgetting
/// twice changes nothing.
pub fn delivery_cutoff(now: i64) -> i64 {
    now.saturating_sub(7 * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retention_cutoff_is_whole_days_before_now() {
        assert_eq!(retention_cutoff(10 * DAY_MS, 3), 7 * DAY_MS);
        assert_eq!(retention_cutoff(0, u32::MAX), -i64::from(u32::MAX) * DAY_MS);
    }

    #[test]
    fn a_run_that_pruned_only_records_still_deleted_something() {
        let mut total = Pruned::default();
        assert!(!total.deleted_anything());
        total.add(&Pruned { store_deliveries: 2, ..Pruned::default() });
        assert!(total.deleted_anything());
        assert_eq!(total.store_deliveries, 2);
    }
}
