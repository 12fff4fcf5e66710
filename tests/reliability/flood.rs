//! Check 5, flooding: a victim shopper (its own X-Forwarded-For address) reads its transcript
//! at a steady pace, first on an idle server, then while one flooding address runs many
//! tasks that start conversations and send messages as fast as they can.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::sync::Mutex;

use super::actors::Conv;
use super::http::{percentile_ms, send};

pub const VICTIM_ADDRESS: &str = "203.0.113.10";
pub const FLOODER_ADDRESS: &str = "198.51.100.7";
/// The victim's pace: a request every 200 ms, a busy widget rather than an attacker.
const VICTIM_INTERVAL: Duration = Duration::from_millis(200);

pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rate_limited: usize,
    pub failed: usize,
}

pub struct FloodReport {
    pub idle: Latency,
    pub flooded: Latency,
    pub flood_requests: usize,
    /// Flood answers by status (0: no answer).
    pub flood_statuses: BTreeMap<u16, usize>,
}

pub async fn run(base: &str, samples: usize, flooders: usize) -> FloodReport {
    let client = super::http::client();
    let started = send(
        client.post(format!("{base}/api/v1/conversations")).header("x-forwarded-for", VICTIM_ADDRESS).json(&json!({})),
    )
    .await
    .expect("the victim starts a conversation");
    assert_eq!(started.status, 201, "the victim's conversation: {}", started.body_text());
    let victim = Conv {
        id: started.json["conversation_id"].as_str().expect("id").to_string(),
        token: started.json["conversation_token"].as_str().expect("token").to_string(),
    };
    let idle = measure(&client, base, &victim, samples).await;
    let stop = Arc::new(AtomicBool::new(false));
    let statuses = Arc::new(Mutex::new(BTreeMap::new()));
    let tasks: Vec<_> =
        (0..flooders).map(|_| tokio::spawn(flood(base.to_string(), stop.clone(), statuses.clone()))).collect();
    // Let the flood build up before the victim measures.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let flooded = measure(&client, base, &victim, samples).await;
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.expect("a flood task");
    }
    let flood_statuses = std::mem::take(&mut *statuses.lock().await);
    FloodReport { idle, flooded, flood_requests: flood_statuses.values().sum(), flood_statuses }
}

/// The victim's transcript reads at [`VICTIM_INTERVAL`]: latency percentiles of `samples` reads.
async fn measure(client: &reqwest::Client, base: &str, victim: &Conv, samples: usize) -> Latency {
    let url = format!("{base}/api/v1/conversations/{}/messages", victim.id);
    let mut ticks = tokio::time::interval(VICTIM_INTERVAL);
    let mut latencies = Vec::with_capacity(samples);
    let (mut rate_limited, mut failed) = (0, 0);
    for _ in 0..samples {
        ticks.tick().await;
        let request = client.get(&url).bearer_auth(&victim.token).header("x-forwarded-for", VICTIM_ADDRESS);
        let started = std::time::Instant::now();
        match send(request).await {
            Ok(r) if r.status == 429 => rate_limited += 1,
            Ok(r) if r.status == 200 => {}
            _ => failed += 1,
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    Latency { p50_ms: percentile_ms(&latencies, 50.0), p99_ms: percentile_ms(&latencies, 99.0), rate_limited, failed }
}

/// One flooding task: start a conversation, send it a message, again, as fast as answers come.
async fn flood(base: String, stop: Arc<AtomicBool>, statuses: Arc<Mutex<BTreeMap<u16, usize>>>) {
    let client = super::http::client();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let start = client
            .post(format!("{base}/api/v1/conversations"))
            .header("x-forwarded-for", FLOODER_ADDRESS)
            .json(&json!({}));
        let started = send(start).await;
        count(&statuses, &started).await;
        let Ok(started) = started else { continue };
        let (Some(id), Some(token)) =
            (started.json["conversation_id"].as_str(), started.json["conversation_token"].as_str())
        else {
            continue;
        };
        let message = client
            .post(format!("{base}/api/v1/conversations/{id}/messages"))
            .bearer_auth(token)
            .header("x-forwarded-for", FLOODER_ADDRESS)
            .json(&json!({"text": "where is my order", "client_message_id": format!("flood-{n}")}));
        count(&statuses, &send(message).await).await;
    }
}

async fn count(statuses: &Mutex<BTreeMap<u16, usize>>, reply: &Result<super::http::Reply, String>) {
    let status = reply.as_ref().map_or(0, |r| r.status);
    *statuses.lock().await.entry(status).or_default() += 1;
}
