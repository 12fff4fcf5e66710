//! Dedicated threads that rank messages for async callers, in batches.
//!
//! One thread per encoder session pulls jobs from one queue, first come first served. A worker
//! takes the oldest message and every message already waiting behind it (up to the batch
//! size), and ranks them in one encoder run: under load the encoder's fixed cost per run is
//! shared, and every message waits at most one batch for its turn. A message that finds the
//! queue empty runs alone at once; only when others are already waiting does a batch linger,
//! for at most the batch wait, to fill up. The queue is bounded: when it is full, callers wait
//! for room instead of piling up memory.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};

use super::{Classified, ClassifierError, IntentClassifier};

/// Messages that may wait for a worker before callers themselves wait.
const QUEUE_CAPACITY: usize = 1024;
/// How often a lingering batch looks for new messages.
const LINGER_STEP: Duration = Duration::from_micros(100);

/// How messages are grouped into encoder runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPolicy {
    /// Most messages in one run.
    pub max_size: usize,
    /// How long a batch that already holds several messages waits for more.
    pub max_wait: Duration,
}

impl BatchPolicy {
    /// One message per run.
    pub const SINGLE: BatchPolicy = BatchPolicy { max_size: 1, max_wait: Duration::ZERO };
}

/// One message per run unless asked: an encoder quantized with activation scales per run (as
/// the shipped one is) gives a message different confidences inside a batch than alone.
impl Default for BatchPolicy {
    fn default() -> Self {
        Self::SINGLE
    }
}

/// A ranked message and where its time went.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub classified: Classified,
    /// From the call to the start of the run that ranked it.
    pub waited: Duration,
    /// The run itself (shared with its batch-mates).
    pub ran: Duration,
    /// Messages in that run.
    pub batch: usize,
}

struct Job {
    text: String,
    span: tracing::Span,
    queued: Instant,
    reply: oneshot::Sender<Result<Ranked, ClassifierError>>,
}

pub struct RankWorkers {
    jobs: mpsc::Sender<Job>,
}

impl RankWorkers {
    /// Starts `classifier.concurrency()` worker threads; they stop when this is dropped.
    pub fn start(classifier: Arc<dyn IntentClassifier>) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>(QUEUE_CAPACITY);
        let queue = Arc::new(Mutex::new(queue));
        let policy = classifier.batch_policy();
        for i in 0..classifier.concurrency().max(1) {
            let (classifier, queue) = (classifier.clone(), queue.clone());
            std::thread::Builder::new()
                .name(format!("classifier-{i}"))
                .spawn(move || {
                    yield_to_requests();
                    work(classifier.as_ref(), &queue, policy)
                })
                .expect("the OS refused to start a classifier thread");
        }
        Self { jobs }
    }

    /// Classifies `text` once a worker is free.
    pub async fn classify(&self, text: String) -> Result<Ranked, ClassifierError> {
        let stopped = || ClassifierError::Inference("the classifier has stopped".into());
        let (reply, ranking) = oneshot::channel();
        let job = Job { text, span: tracing::Span::current(), queued: Instant::now(), reply };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        ranking.await.map_err(|_| stopped())?
    }
}

/// How much lower than request handling the classifier threads run (a nice value).
const CLASSIFIER_NICENESS: libc::c_int = 10;

/// Ranking gives way to request handling when both want a core: on a small machine, a
/// database transaction waiting for a core behind the encoder holds up every other writer
/// (SQLite has one), while a message waiting a little longer for the encoder holds up only
/// itself. Best effort: if the OS refuses, the thread runs at normal priority.
fn yield_to_requests() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take no pointers; on Linux, PRIO_PROCESS with a
        // thread id sets that thread's own niceness.
        let refused = unsafe {
            let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, thread, CLASSIFIER_NICENESS) != 0
        };
        if refused {
            tracing::debug!("could not lower the classifier thread's priority");
        }
    }
}

fn work(classifier: &dyn IntentClassifier, queue: &Mutex<mpsc::Receiver<Job>>, policy: BatchPolicy) {
    loop {
        // The lock is held only while a batch is gathered; ranking runs without it, so the
        // other worker gathers the next batch meanwhile.
        let batch = match queue.lock() {
            Ok(mut queue) => gather(&mut queue, policy),
            Err(poisoned) => gather(&mut poisoned.into_inner(), policy),
        };
        if batch.is_empty() {
            return;
        }
        rank(classifier, batch);
    }
}

/// The oldest job (waiting for one if there is none), and those already queued behind it.
/// Empty once the queue has closed.
fn gather(queue: &mut mpsc::Receiver<Job>, policy: BatchPolicy) -> Vec<Job> {
    let Some(first) = queue.blocking_recv() else { return Vec::new() };
    let mut batch = vec![first];
    let deadline = Instant::now() + policy.max_wait;
    while batch.len() < policy.max_size.max(1) {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            // A lone message never lingers: only a queue that is already busy is worth waiting on.
            Err(TryRecvError::Empty) if batch.len() > 1 && Instant::now() < deadline => std::thread::sleep(LINGER_STEP),
            Err(_) => break,
        }
    }
    batch
}

fn rank(classifier: &dyn IntentClassifier, batch: Vec<Job>) {
    // A caller that gave up (request cancelled) no longer wants the answer.
    let batch: Vec<Job> = batch.into_iter().filter(|job| !job.reply.is_closed()).collect();
    if batch.is_empty() {
        return;
    }
    let started = Instant::now();
    let texts: Vec<&str> = batch.iter().map(|job| job.text.as_str()).collect();
    // A panic fails this batch only; the worker lives on for the next one.
    let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| classifier.classify_batch(&texts)))
        .unwrap_or_else(|_| {
            texts
                .iter()
                .map(|_| Err(ClassifierError::Inference("the classifier panicked on this message".into())))
                .collect()
        });
    let ran = started.elapsed();
    let size = batch.len();
    for (job, result) in batch.into_iter().zip(results) {
        let _entered = job.span.enter();
        let waited = started.saturating_duration_since(job.queued);
        let _ = job.reply.send(result.map(|classified| Ranked { classified, waited, ran, batch: size }));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::classifier::HeadMetadata;
    use crate::classifier::fake::FakeClassifier;

    /// The fake model, slowed down, recording the size of every batch it is given.
    struct Recording {
        inner: FakeClassifier,
        batches: Mutex<Vec<usize>>,
        policy: BatchPolicy,
    }

    impl IntentClassifier for Recording {
        fn classify(&self, text: &str) -> Result<Classified, ClassifierError> {
            self.inner.classify(text)
        }
        fn classify_batch(&self, texts: &[&str]) -> Vec<Result<Classified, ClassifierError>> {
            self.batches.lock().unwrap().push(texts.len());
            std::thread::sleep(Duration::from_millis(30));
            texts.iter().map(|t| self.inner.classify(t)).collect()
        }
        fn batch_policy(&self) -> BatchPolicy {
            self.policy
        }
        fn live(&self) -> Arc<HeadMetadata> {
            self.inner.live()
        }
    }

    fn workers(max_size: usize) -> (RankWorkers, Arc<Recording>) {
        let thresholds = crate::domain::triage::Thresholds {
            global: 0.5,
            margin: 0.1,
            per_intent: Default::default(),
            target_precision: 0.97,
        };
        let fake = FakeClassifier::new(thresholds).on("order", &[("order_status", 0.9)]);
        let policy = BatchPolicy { max_size, max_wait: Duration::from_millis(1) };
        let recording = Arc::new(Recording { inner: fake, batches: Mutex::default(), policy });
        (RankWorkers::start(recording.clone()), recording)
    }

    #[tokio::test]
    async fn messages_waiting_together_share_one_run_and_keep_their_own_answers() {
        let (workers, recording) = workers(16);
        let workers = Arc::new(workers);
        let first = tokio::spawn({
            let w = workers.clone();
            async move { w.classify("hello".into()).await }
        });
        // The first message is being ranked alone; these five queue up behind it meanwhile.
        tokio::time::sleep(Duration::from_millis(10)).await;
        let texts = ["where is my order", "hi", "my order please", "thanks", "order 1042"];
        let rest: Vec<_> = texts
            .iter()
            .map(|t| {
                let w = workers.clone();
                let t = t.to_string();
                tokio::spawn(async move { w.classify(t).await })
            })
            .collect();
        let first = first.await.unwrap().unwrap();
        assert_eq!(first.batch, 1, "a lone message runs at once, alone");
        for (text, handle) in texts.iter().zip(rest) {
            let ranked = handle.await.unwrap().unwrap();
            assert_eq!(ranked.batch, 5);
            let top = ranked.classified.ranking.top().unwrap().intent.clone();
            assert_eq!(top == "order_status", text.contains("order"), "{text} got {top}");
        }
        assert_eq!(*recording.batches.lock().unwrap(), vec![1, 5]);
    }

    #[tokio::test]
    async fn a_batch_never_exceeds_its_size() {
        let (workers, recording) = workers(2);
        let workers = Arc::new(workers);
        let handles: Vec<_> = (0..7)
            .map(|i| {
                let w = workers.clone();
                tokio::spawn(async move { w.classify(format!("message {i}")).await })
            })
            .collect();
        for h in handles {
            h.await.unwrap().unwrap();
        }
        let batches = recording.batches.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 7);
        assert!(batches.iter().all(|&n| (1..=2).contains(&n)), "{batches:?}");
    }
}
