//! The demo agent answering handed-off shoppers while the load runs: it claims K conversations
//! and posts replies to them in turn; each shopper's event stream is read here, and a reply's
//! delivery time runs from just before the agent's POST to the moment the shopper's stream
//! carries it (matched by the counter in its text). The agent may be on one instance and the
//! shoppers' streams on another, which measures the cross-instance notification.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::demo::{DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD};
use tokio::task::JoinSet;

use crate::shopper::{Shopper, refused};
use crate::sse;

const PREFIX: &str = "load reply #";
/// How long after a phase replies still in flight may take to arrive.
const GRACE: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Shared {
    /// Replies posted and not yet seen on their shopper's stream, by counter.
    pending: Mutex<HashMap<u64, Instant>>,
    delivered: Mutex<Vec<Duration>>,
    /// Replies seen that were not pending: delivered twice, or after their phase gave up.
    unexpected: AtomicUsize,
    reconnects: AtomicUsize,
    next: AtomicU64,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A signed-in agent with its claimed conversations and their shoppers' streams (closed when
/// this is dropped).
pub struct Desk {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
    conversations: Vec<String>,
    interval: Duration,
    shared: Arc<Shared>,
    _streams: JoinSet<()>,
}

/// One phase's replies.
pub struct Figures {
    pub posted: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    /// Delivery times, sorted.
    pub delivered: Vec<Duration>,
    pub undelivered: usize,
    pub unexpected: usize,
    pub reconnects: usize,
}

/// Logs in on `agent_base`, starts `k` conversations on `shopper_base` that ask for a person,
/// claims them and opens their shoppers' streams.
pub async fn open(
    client: &reqwest::Client,
    agent_base: &str,
    shopper_base: &str,
    k: usize,
    interval: Duration,
) -> Result<Desk, String> {
    let origin = agent_base.trim_end_matches('/');
    let login = client
        .post(format!("{agent_base}/api/v1/agent/login"))
        .header(reqwest::header::ORIGIN, origin)
        .json(&json!({"email": DEMO_AGENT_EMAIL, "password": DEMO_AGENT_PASSWORD}))
        .send()
        .await
        .map_err(|e| format!("agent log-in: {e}"))?;
    let login = refused(login).await?;
    let cookie = login
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect::<Vec<_>>()
        .join("; ");
    let signed_in: Value = login.json().await.map_err(|e| format!("agent log-in: {e}"))?;
    let csrf = signed_in["csrf_token"].as_str().ok_or("agent log-in: no csrf_token")?.to_string();
    let shared = Arc::<Shared>::default();
    let (mut conversations, mut streams) = (Vec::new(), JoinSet::new());
    for _ in 0..k {
        let shopper = Shopper::start(client, shopper_base).await?;
        shopper.hand_off(client).await?;
        let claim = format!("/api/v1/agent/conversations/{}/claim", shopper.id);
        post(client, agent_base, &cookie, &csrf, &claim, &json!({})).await?;
        let first = shopper.subscribe(client, 0).await?;
        conversations.push(shopper.id.clone());
        streams.spawn(follow(client.clone(), shopper, first, shared.clone()));
    }
    Ok(Desk {
        client: client.clone(),
        base: agent_base.to_string(),
        cookie,
        csrf,
        conversations,
        interval,
        shared,
        _streams: streams,
    })
}

/// Reads a shopper's stream for good, resuming after the last event when it ends.
async fn follow(client: reqwest::Client, shopper: Shopper, first: reqwest::Response, shared: Arc<Shared>) {
    let mut response = Some(first);
    let mut after = 0;
    loop {
        if let Some(mut r) = response.take() {
            let mut parser = sse::Parser::default();
            while let Ok(Some(chunk)) = r.chunk().await {
                let received = Instant::now();
                for event in parser.push(&chunk) {
                    after = event.id.as_deref().and_then(|id| id.parse().ok()).unwrap_or(after);
                    shared.seen(&event, received);
                }
            }
            shared.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        response = shopper.subscribe(&client, after).await.ok();
    }
}

impl Shared {
    fn seen(&self, event: &sse::Event, received: Instant) {
        if event.event != "message" {
            return;
        }
        let message: Value = serde_json::from_str(&event.data).unwrap_or(Value::Null);
        let counter = message["text"].as_str().and_then(|t| t.strip_prefix(PREFIX)).and_then(|n| n.parse::<u64>().ok());
        let Some(counter) = counter.filter(|_| message["sender"] == "agent") else { return };
        match locked(&self.pending).remove(&counter) {
            Some(sent) => locked(&self.delivered).push(received.saturating_duration_since(sent)),
            None => {
                self.unexpected.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Desk {
    /// Posts a reply every `interval`, round-robin over the conversations, until `deadline`;
    /// then waits a little for the last ones to arrive.
    pub async fn run(&self, deadline: Instant) -> Figures {
        locked(&self.shared.delivered).clear();
        let unexpected_before = self.shared.unexpected.load(Ordering::Relaxed);
        let reconnects_before = self.shared.reconnects.load(Ordering::Relaxed);
        let mut posts = JoinSet::new();
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut turn = 0;
        while tokio::time::timeout_at(deadline.into(), tick.tick()).await.is_ok() {
            let counter = self.shared.next.fetch_add(1, Ordering::Relaxed);
            let id = &self.conversations[turn % self.conversations.len()];
            turn += 1;
            let (client, base, cookie, csrf) =
                (self.client.clone(), self.base.clone(), self.cookie.clone(), self.csrf.clone());
            let path = format!("/api/v1/agent/conversations/{id}/messages");
            let shared = self.shared.clone();
            posts.spawn(async move {
                let body = json!({"text": format!("{PREFIX}{counter}")});
                locked(&shared.pending).insert(counter, Instant::now());
                let result = post(&client, &base, &cookie, &csrf, &path, &body).await.map(drop);
                if result.is_err() {
                    locked(&shared.pending).remove(&counter);
                }
                result
            });
        }
        let (mut posted, mut failed, mut first_error) = (0, 0, None);
        while let Some(result) = posts.join_next().await {
            match result.map_err(|e| e.to_string()).and_then(|r| r) {
                Ok(()) => posted += 1,
                Err(e) => {
                    failed += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        let waited = Instant::now();
        while !locked(&self.shared.pending).is_empty() && waited.elapsed() < GRACE {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let undelivered = std::mem::take(&mut *locked(&self.shared.pending)).len();
        let mut delivered = std::mem::take(&mut *locked(&self.shared.delivered));
        delivered.sort();
        Figures {
            posted,
            failed,
            first_error,
            delivered,
            undelivered,
            unexpected: self.shared.unexpected.load(Ordering::Relaxed) - unexpected_before,
            reconnects: self.shared.reconnects.load(Ordering::Relaxed) - reconnects_before,
        }
    }
}

/// A state change as the console sends it: session cookie, CSRF token, own Origin.
async fn post(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    csrf: &str,
    path: &str,
    body: &Value,
) -> Result<reqwest::Response, String> {
    let response = client
        .post(format!("{base}{path}"))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .header(reqwest::header::ORIGIN, base.trim_end_matches('/'))
        .json(body)
        .send()
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    refused(response).await
}
