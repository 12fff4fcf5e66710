//! Idle shoppers: anonymous conversations, each with its event stream open and read (and
//! discarded) while the chat load runs. A stream the server ends counts as dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::task::JoinSet;

use crate::shopper::Shopper;

#[derive(Default)]
struct Counts {
    open: AtomicUsize,
    dropped: AtomicUsize,
    first_drop: Mutex<Option<String>>,
}

/// Streams held open; dropping this closes them.
pub struct Held {
    pub wanted: usize,
    counts: Arc<Counts>,
    /// Conversations or streams that could not be opened, and the first reason.
    pub failed: usize,
    pub first_failure: Option<String>,
    _readers: JoinSet<()>,
}

impl Held {
    pub fn open_now(&self) -> usize {
        self.counts.open.load(Ordering::Relaxed)
    }

    pub fn dropped(&self) -> usize {
        self.counts.dropped.load(Ordering::Relaxed)
    }

    /// How the first stream that ended, ended.
    pub fn first_drop(&self) -> Option<String> {
        self.counts.first_drop.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Starts `n` conversations spread round-robin over `bases` and opens a stream on each,
/// `parallel` at a time, printing progress.
pub async fn open(client: &reqwest::Client, bases: &[String], n: usize, parallel: usize) -> Held {
    let counts = Arc::new(Counts::default());
    let mut readers = JoinSet::new();
    let (mut failed, mut first_failure) = (0, None);
    let started = Instant::now();
    let step = (n / 10).max(1);
    let mut attempts = futures::stream::iter(0..n)
        .map(|i| open_one(client.clone(), bases[i % bases.len()].clone()))
        .buffer_unordered(parallel.max(1));
    let mut done = 0;
    while let Some(result) = attempts.next().await {
        done += 1;
        match result {
            Ok(response) => {
                counts.open.fetch_add(1, Ordering::Relaxed);
                readers.spawn(hold(response, counts.clone()));
            }
            Err(reason) => {
                failed += 1;
                first_failure.get_or_insert(reason);
            }
        }
        if done % step == 0 || done == n {
            println!(
                "  {done} of {n} idle conversations started, {} streams open, {failed} failed ({:.1} s)",
                counts.open.load(Ordering::Relaxed),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Held { wanted: n, counts, failed, first_failure, _readers: readers }
}

/// How long starting a conversation and opening its stream may take.
const OPEN_LIMIT: Duration = Duration::from_secs(30);

/// An anonymous conversation and its event stream, once the server has answered its headers.
async fn open_one(client: reqwest::Client, base: String) -> Result<reqwest::Response, String> {
    tokio::time::timeout(OPEN_LIMIT, start_and_subscribe(client, base))
        .await
        .unwrap_or_else(|_| Err(format!("no stream within {} s", OPEN_LIMIT.as_secs())))
}

async fn start_and_subscribe(client: reqwest::Client, base: String) -> Result<reqwest::Response, String> {
    Shopper::start(&client, &base).await?.subscribe(&client, 0).await
}

/// Reads an open stream (already counted) until it ends, and notes how the first dropped one
/// ended.
async fn hold(mut response: reqwest::Response, counts: Arc<Counts>) {
    let end = loop {
        match response.chunk().await {
            Ok(Some(_)) => {}
            Ok(None) => break "the server ended it".to_string(),
            Err(e) => break format!("{e}"),
        }
    };
    counts.open.fetch_sub(1, Ordering::Relaxed);
    counts.dropped.fetch_add(1, Ordering::Relaxed);
    counts.first_drop.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(end);
}
