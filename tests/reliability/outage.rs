//! Check 4, a PostgreSQL outage: shoppers send messages, a monitor reads `/readyz` and an
//! agent reads the queue while PostgreSQL is stopped (`-m immediate`) and started again.
//! Every request is recorded with when it started and how long it took.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::actors::{Conv, Session, audit_transcripts, login, send_message, start_conversation};
use super::http::{Reply, send};
use super::postgres::Postgres;

/// The slowest any request may be, outage or not.
pub const MAX_LATENCY: Duration = Duration::from_secs(5);
/// `/readyz` must say 503 about this fast while the database is down ("~1 s", with slack for
/// a busy two-core machine).
pub const READYZ_LIMIT: Duration = Duration::from_millis(1500);
/// The first message send must succeed this soon after PostgreSQL accepts connections again.
pub const RECOVERY_LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Send,
    Readyz,
    Queue,
}

struct Sample {
    kind: Kind,
    started: Instant,
    finished: Instant,
    reply: Result<Reply, String>,
}

#[derive(Default)]
pub struct OutageReport {
    pub outage: Duration,
    pub requests: usize,
    /// "kind status" (status 0: no answer) -> count, for requests made while PostgreSQL was down.
    pub during: BTreeMap<String, usize>,
    pub max_latency: Duration,
    pub readyz_max_during: Duration,
    pub recovery: Option<Duration>,
    pub acknowledged: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub failures: Vec<String>,
}

struct Traffic {
    base: String,
    stop: AtomicBool,
    samples: Mutex<Vec<Sample>>,
    acked: Mutex<Vec<(usize, String)>>,
}

pub async fn run(pg: &Postgres, base: &str, outage: Duration) -> OutageReport {
    let client = super::http::client();
    let mut conversations = Vec::new();
    for _ in 0..4 {
        conversations.push(start_conversation(&client, base, None).await);
    }
    let conversations = Arc::new(conversations);
    let agent = login(&client, base, switchboard::demo::DEMO_AGENT_EMAIL, switchboard::demo::DEMO_AGENT_PASSWORD)
        .await
        .unwrap_or_else(|r| panic!("agent login: {}", r.status));
    let traffic = Arc::new(Traffic {
        base: base.to_string(),
        stop: AtomicBool::new(false),
        samples: Mutex::new(Vec::new()),
        acked: Mutex::new(Vec::new()),
    });
    let mut tasks: Vec<_> =
        (0..conversations.len()).map(|n| tokio::spawn(shopper(n, conversations.clone(), traffic.clone()))).collect();
    tasks.push(tokio::spawn(monitor(traffic.clone())));
    tasks.push(tokio::spawn(queue_reader(agent, traffic.clone())));

    first_success_after(&traffic, Instant::now(), Duration::from_secs(30)).await;
    pg.stop_immediately().unwrap_or_else(|e| panic!("{e}"));
    let down = Instant::now();
    tokio::time::sleep(outage).await;
    let restarting = Instant::now();
    pg.start().unwrap_or_else(|e| panic!("{e}"));
    let back = Instant::now();
    let recovered = first_success_after(&traffic, back, Duration::from_secs(30)).await;
    traffic.stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.expect("a traffic task");
    }
    let samples = std::mem::take(&mut *traffic.samples.lock().await);
    let mut report = judge(&samples, down, restarting);
    report.outage = restarting - down;
    report.recovery = recovered.map(|at| at.saturating_duration_since(back));
    let acked = std::mem::take(&mut *traffic.acked.lock().await);
    let (lost, duplicated) = audit_transcripts(&client, base, &conversations, &acked).await;
    (report.lost, report.duplicated) = (lost.len(), duplicated.len());
    report.acknowledged = acked.len();
    report
}

/// When the first message send that started after `after` succeeded (polled, up to `limit`).
async fn first_success_after(traffic: &Traffic, after: Instant, limit: Duration) -> Option<Instant> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let samples = traffic.samples.lock().await;
        let first = samples
            .iter()
            .filter(|s| s.kind == Kind::Send && s.started >= after)
            .filter(|s| s.reply.as_ref().is_ok_and(|r| r.status == 200))
            .map(|s| s.finished)
            .min();
        drop(samples);
        if first.is_some() {
            return first;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn record(
    traffic: &Traffic,
    kind: Kind,
    request: impl std::future::Future<Output = Result<Reply, String>>,
) -> Result<Reply, String> {
    let started = Instant::now();
    let reply = request.await;
    let sample = Sample { kind, started, finished: Instant::now(), reply: reply.clone() };
    traffic.samples.lock().await.push(sample);
    reply
}

/// Sends messages one after another; a message is retried with the same id until acknowledged.
async fn shopper(n: usize, conversations: Arc<Vec<Conv>>, traffic: Arc<Traffic>) {
    let client = super::http::client();
    let conv = &conversations[n];
    let mut sequence = 0;
    while !traffic.stop.load(Ordering::SeqCst) {
        sequence += 1;
        let cmid = format!("outage-{n}-{sequence}");
        let text = format!("hello, outage question {sequence} from shopper {n}");
        loop {
            let reply = record(&traffic, Kind::Send, send_message(&client, &traffic.base, conv, &text, &cmid)).await;
            if reply.is_ok_and(|r| r.status == 200) {
                traffic.acked.lock().await.push((n, text));
                break;
            }
            if traffic.stop.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn monitor(traffic: Arc<Traffic>) {
    let client = super::http::client();
    while !traffic.stop.load(Ordering::SeqCst) {
        let _ = record(&traffic, Kind::Readyz, send(client.get(format!("{}/readyz", traffic.base)))).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn queue_reader(agent: Session, traffic: Arc<Traffic>) {
    let client = super::http::client();
    while !traffic.stop.load(Ordering::SeqCst) {
        let request =
            agent.apply(client.get(format!("{}/api/v1/agent/conversations", traffic.base)), &traffic.base, false);
        let _ = record(&traffic, Kind::Queue, send(request)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The rules: while PostgreSQL is down only conforming 503s; never a 500 or no answer; never
/// slower than [`MAX_LATENCY`]; `/readyz` quick to say 503.
fn judge(samples: &[Sample], down: Instant, restarting: Instant) -> OutageReport {
    let mut report = OutageReport { requests: samples.len(), ..OutageReport::default() };
    for s in samples {
        let latency = s.finished - s.started;
        report.max_latency = report.max_latency.max(latency);
        let during = s.started >= down && s.finished <= restarting;
        let status = s.reply.as_ref().map_or(0, |r| r.status);
        let describe = || match &s.reply {
            Ok(r) => format!(
                "{:?} {} after {latency:?}: {} (Retry-After {:?})",
                s.kind,
                r.status,
                r.body_text(),
                r.retry_after
            ),
            Err(e) => format!("{:?} no answer after {latency:?}: {e}", s.kind),
        };
        if latency > MAX_LATENCY {
            report.failures.push(format!("too slow: {}", describe()));
        }
        // A /readyz asked while PostgreSQL is down must answer quickly, whenever it ends.
        if s.kind == Kind::Readyz && s.started >= down && s.started < restarting {
            report.readyz_max_during = report.readyz_max_during.max(latency);
            if latency > READYZ_LIMIT {
                report.failures.push(format!("/readyz slow to say 503: {}", describe()));
            }
        }
        let conforming_503 = s.reply.as_ref().is_ok_and(Reply::is_unavailable);
        if during {
            *report.during.entry(format!("{:?} {status}", s.kind)).or_default() += 1;
            if !conforming_503 {
                report.failures.push(format!("during the outage: {}", describe()));
            }
        } else if status == 0 || (status >= 500 && !conforming_503) {
            report.failures.push(format!("around the outage: {}", describe()));
        }
    }
    report
}
