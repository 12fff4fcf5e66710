//! Dedicated threads that rank messages for async callers.
//!
//! One thread per encoder session pulls jobs from one queue, first come first served. Under
//! load a worker goes straight from one message to the next (no hand-off through the async
//! runtime in between), and every message waits its turn, so the latency tail stays close to
//! the mean. The queue is bounded: when it is full, callers wait for room instead of piling up
//! memory.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::{Classified, ClassifierError, IntentClassifier};

/// Messages that may wait for a worker before callers themselves wait.
const QUEUE_CAPACITY: usize = 1024;

struct Job {
    text: String,
    span: tracing::Span,
    reply: oneshot::Sender<Result<Classified, ClassifierError>>,
}

pub struct RankWorkers {
    jobs: mpsc::Sender<Job>,
}

impl RankWorkers {
    /// Starts `classifier.concurrency()` worker threads; they stop when this is dropped.
    pub fn start(classifier: Arc<dyn IntentClassifier>) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>(QUEUE_CAPACITY);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..classifier.concurrency().max(1) {
            let (classifier, queue) = (classifier.clone(), queue.clone());
            std::thread::Builder::new()
                .name(format!("classifier-{i}"))
                .spawn(move || work(classifier.as_ref(), &queue))
                .expect("the OS refused to start a classifier thread");
        }
        Self { jobs }
    }

    /// Classifies `text` once a worker is free.
    pub async fn classify(&self, text: String) -> Result<Classified, ClassifierError> {
        let stopped = || ClassifierError::Inference("the classifier has stopped".into());
        let (reply, ranking) = oneshot::channel();
        let job = Job { text, span: tracing::Span::current(), reply };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        ranking.await.map_err(|_| stopped())?
    }
}

fn work(classifier: &dyn IntentClassifier, queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job; ranking runs without it.
        let job = match queue.lock() {
            Ok(mut queue) => queue.blocking_recv(),
            Err(poisoned) => poisoned.into_inner().blocking_recv(),
        };
        let Some(job) = job else { return };
        let _entered = job.span.enter();
        // A caller that gave up (request cancelled) no longer wants the answer.
        if job.reply.is_closed() {
            continue;
        }
        // A panic fails this message only; the worker lives on for the next one.
        let classified = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| classifier.classify(&job.text)))
            .unwrap_or_else(|_| Err(ClassifierError::Inference("the classifier panicked on this message".into())));
        let _ = job.reply.send(classified);
    }
}
