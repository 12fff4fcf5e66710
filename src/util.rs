//! Small helpers shared across modules.

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The key client addresses are hashed with before they are stored (to count failed
/// verifications and sign-ins per address): the addresses themselves are never kept.
#[derive(Clone)]
pub struct AddressKey(crate::config::Secret);

impl AddressKey {
    pub fn new(secret: crate::config::Secret) -> Self {
        Self(secret)
    }

    pub fn hash(&self, address: std::net::IpAddr) -> String {
        sha256_hex(format!("{}\u{0}{address}", self.0.expose()).as_bytes())
    }
}

/// Turns scores into probabilities in place (numerically stable).
pub fn softmax_in_place(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// `n` random bytes as lower-case hex (n = 16 gives 128 bits).
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::Rng::fill(&mut rand::rng(), bytes.as_mut_slice());
    hex::encode(bytes)
}

/// Runs `work` at once and then every `period` until `shutdown` turns true;
/// a slow run delays the next instead of piling runs up.
pub async fn every<F: std::future::Future<Output = ()>>(
    period: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut work: impl FnMut() -> F,
) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        work().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut z = vec![1.0, 3.0, 2.0];
        softmax_in_place(&mut z);
        assert!((z.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(z[1] > z[2] && z[2] > z[0]);
        // exp(1)/(exp(1)+exp(2)+exp(3)) = 0.0900306
        assert!((z[0] - 0.090_030_6).abs() < 1e-6);
    }
}
