//! Check 3, crash safety on SQLite: shoppers keep sending messages (each with its own
//! `client_message_id`) while the server is killed with SIGKILL at random moments and started
//! again on the same database file. Unacknowledged sends are retried with the same id. In
//! the end every acknowledged message must be in its transcript exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use tokio::sync::{Mutex, RwLock};

use super::actors::{Conv, audit_transcripts, send_message, start_conversation};
use super::server::Server;

pub struct CrashReport {
    pub cycles: usize,
    pub acknowledged: usize,
    pub lost: Vec<String>,
    pub duplicated: Vec<String>,
    pub retries: usize,
}

/// Where the clients find the server, and whether they should stop starting new messages.
struct Shared {
    base: RwLock<String>,
    stop: AtomicBool,
    /// Acknowledged messages: (conversation index, text).
    acked: Mutex<Vec<(usize, String)>>,
    retries: std::sync::atomic::AtomicUsize,
}

/// Runs `cycles` kill -9 cycles with `clients` sending to `conversations.len()` conversations.
pub async fn run(server: &mut Server, cycles: usize, clients: usize, conversation_count: usize) -> CrashReport {
    let client = super::http::client();
    let mut conversations = Vec::new();
    for _ in 0..conversation_count {
        conversations.push(start_conversation(&client, &server.base(), None).await);
    }
    let conversations = Arc::new(conversations);
    let shared = Arc::new(Shared {
        base: RwLock::new(server.base()),
        stop: AtomicBool::new(false),
        acked: Mutex::new(Vec::new()),
        retries: Default::default(),
    });
    let tasks: Vec<_> = (0..clients)
        .map(|n| tokio::spawn(sender(n, n % conversation_count, conversations.clone(), shared.clone())))
        .collect();
    let seed: u64 = rand::rng().random();
    println!("    kill moments seeded with {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for _ in 0..cycles {
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..1500))).await;
        server.kill9().await;
        server.restart().await.unwrap_or_else(|e| panic!("restart after kill -9: {e}"));
        *shared.base.write().await = server.base();
    }
    shared.stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.expect("a sender task");
    }
    let acked = std::mem::take(&mut *shared.acked.lock().await);
    let (lost, duplicated) = audit_transcripts(&client, &server.base(), &conversations, &acked).await;
    CrashReport { cycles, acknowledged: acked.len(), lost, duplicated, retries: shared.retries.load(Ordering::SeqCst) }
}

/// A client gives a message up after this many tries (about a minute of refusals).
const MAX_ATTEMPTS: usize = 600;

/// Sends messages until told to stop, each until acknowledged (same id on every retry).
async fn sender(n: usize, conversation: usize, conversations: Arc<Vec<Conv>>, shared: Arc<Shared>) {
    let client = super::http::client();
    let conv = &conversations[conversation];
    let mut sequence = 0;
    while !shared.stop.load(Ordering::SeqCst) {
        sequence += 1;
        let cmid = format!("crash-{n}-{sequence}");
        let text = format!("hello, question {sequence} from client {n} ({})", switchboard::util::random_hex(4));
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                shared.retries.fetch_add(1, Ordering::SeqCst);
            }
            let base = shared.base.read().await.clone();
            match send_message(&client, &base, conv, &text, &cmid).await {
                Ok(r) if r.status == 200 => {
                    shared.acked.lock().await.push((conversation, text));
                    break;
                }
                Ok(r) => tokio::time::sleep(backoff(&r)).await,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

/// How long to wait before retrying a refused send: the server's Retry-After, at most 2 s.
fn backoff(reply: &super::http::Reply) -> Duration {
    let seconds = reply.retry_after.as_deref().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((seconds * 1000).clamp(50, 2000))
}
