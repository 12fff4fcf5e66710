//! Load generator for the chat path: many conversations, each sending a few shopper messages,
//! against a running `switchboard serve --demo` on loopback. Reports messages/s and reply
//! latency percentiles, then checks that every acknowledged message is stored exactly once.
//!
//! cargo run --release --example load_chat -- http://127.0.0.1:8080 [CONCURRENCY=16] [SECONDS=20]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const MESSAGES: [&str; 4] =
    ["hi there", "where is my order", "what payment methods do you accept", "thanks, that's all"];

struct Outcome {
    latencies: Vec<Duration>,
    conversations: Vec<(String, String, usize)>,
    errors: usize,
}

async fn worker(client: reqwest::Client, base: String, token: String, deadline: Instant) -> Outcome {
    let mut out = Outcome { latencies: Vec::new(), conversations: Vec::new(), errors: 0 };
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
        out.conversations.push((id.to_string(), bearer.to_string(), sent));
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(16);
    let seconds: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(20).min(300);
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let identity: Value = client.get(format!("{base}/api/v1/demo/identity")).send().await?.json().await?;
    let token = identity["customer_token"].as_str().ok_or("the server must run with --demo")?.to_string();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let handles: Vec<_> =
        (0..concurrency).map(|_| tokio::spawn(worker(client.clone(), base.clone(), token.clone(), deadline))).collect();
    let mut latencies = Vec::new();
    let mut conversations = Vec::new();
    let mut errors = 0;
    for h in handles {
        let o = h.await?;
        latencies.extend(o.latencies);
        conversations.extend(o.conversations);
        errors += o.errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "{} shopper messages in {elapsed:.1} s over {} conversations, {concurrency} concurrent: {:.0} messages/s",
        latencies.len(),
        conversations.len(),
        latencies.len() as f64 / elapsed
    );
    println!(
        "reply latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; errors {errors}",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.9).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    // Every acknowledged message must be stored exactly once.
    let (mut lost, mut duplicated) = (0, 0);
    for (id, bearer, sent) in &conversations {
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
    println!("checked {} conversations: {lost} messages lost, {duplicated} duplicated", conversations.len());
    if lost + duplicated > 0 {
        std::process::exit(1);
    }
    Ok(())
}
