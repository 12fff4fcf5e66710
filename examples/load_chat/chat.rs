//! The chat load: workers that start conversations and send a few shopper messages each, as
//! fast as the server answers, and the check that every acknowledged message is stored once.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const MESSAGES: [&str; 4] =
    ["hi there", "where is my order", "what payment methods do you accept", "thanks, that's all"];

/// A conversation the load wrote to: where, its id and token, and how many messages the
/// server acknowledged.
pub struct Written {
    base: String,
    id: String,
    bearer: String,
    sent: usize,
}

/// What the workers of one run did.
#[derive(Default)]
pub struct Outcome {
    pub latencies: Vec<Duration>,
    pub conversations: Vec<Written>,
    pub errors: usize,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn messages_per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `concurrency` workers, spread round-robin over `bases`, until `deadline`.
pub async fn run(
    client: &reqwest::Client,
    bases: &[String],
    token: &str,
    concurrency: usize,
    deadline: Instant,
) -> Result<Outcome, tokio::task::JoinError> {
    let started = Instant::now();
    let handles: Vec<_> = (0..concurrency)
        .map(|i| {
            let base = bases[i % bases.len()].clone();
            tokio::spawn(worker(client.clone(), base, token.to_string(), deadline))
        })
        .collect();
    let mut all = Outcome::default();
    for h in handles {
        let o = h.await?;
        all.latencies.extend(o.latencies);
        all.conversations.extend(o.conversations);
        all.errors += o.errors;
    }
    all.elapsed = started.elapsed();
    all.latencies.sort();
    Ok(all)
}

async fn worker(client: reqwest::Client, base: String, token: String, deadline: Instant) -> Outcome {
    let mut out = Outcome::default();
    while Instant::now() < deadline {
        let started: Value = match client
            .post(format!("{base}/api/v1/conversations"))
            .json(&json!({"customer_token": token}))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => r.json().await.unwrap_or(Value::Null),
            _ => {
                out.errors += 1;
                continue;
            }
        };
        let (Some(id), Some(bearer)) = (started["conversation_id"].as_str(), started["conversation_token"].as_str())
        else {
            out.errors += 1;
            continue;
        };
        let mut sent = 0;
        for (i, text) in MESSAGES.iter().enumerate() {
            let t = Instant::now();
            let response = client
                .post(format!("{base}/api/v1/conversations/{id}/messages"))
                .bearer_auth(bearer)
                .json(&json!({"text": text, "client_message_id": format!("load-{i}")}))
                .send()
                .await;
            match response {
                Ok(r) if r.status().is_success() => {
                    out.latencies.push(t.elapsed());
                    sent += 1;
                }
                _ => out.errors += 1,
            }
        }
        out.conversations.push(Written { base: base.clone(), id: id.to_string(), bearer: bearer.to_string(), sent });
    }
    out
}

/// Reads every conversation back and counts acknowledged shopper messages that are missing
/// and ones stored more than once.
pub async fn check(client: &reqwest::Client, conversations: &[&Written]) -> Result<(usize, usize), reqwest::Error> {
    let (mut lost, mut duplicated) = (0, 0);
    for Written { base, id, bearer, sent } in conversations.iter().copied() {
        let history: Value = client
            .get(format!("{base}/api/v1/conversations/{id}/messages?after=0"))
            .bearer_auth(bearer)
            .send()
            .await?
            .json()
            .await?;
        let stored =
            history["messages"].as_array().map_or(0, |m| m.iter().filter(|m| m["sender"] == "shopper").count());
        lost += sent.saturating_sub(stored);
        duplicated += stored.saturating_sub(*sent);
    }
    Ok((lost, duplicated))
}

/// The `p` quantile (0..=1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
