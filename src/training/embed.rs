//! Embeds many texts exactly the way serving does (one message at a time, no padding, so the
//! int8 encoder's per-run activation scales match), spread over worker threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::progress::Progress;
use crate::classifier::{ClassifierError, Encoder};
use crate::domain::model::JobStage;

/// What one embedding worker returns: (input index, embedding) pairs.
type WorkerResult = Result<Vec<(usize, Vec<f32>)>, ClassifierError>;

/// Embeddings in input order, and the throughput reached.
pub struct Embedded {
    pub vectors: Vec<Vec<f32>>,
    pub per_second: f64,
}

/// Embeds `texts` with `workers` threads (use as many as the encoder has sessions).
pub fn embed_all(
    encoder: &Encoder,
    texts: &[&str],
    workers: usize,
    progress: &Progress<'_>,
) -> Result<Embedded, ClassifierError> {
    let started = Instant::now();
    let bar = progress.bar(texts.len() as u64, JobStage::Embedding);
    let next = AtomicUsize::new(0);
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
    let results: Vec<WorkerResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= texts.len() {
                            return Ok(done);
                        }
                        done.push((i, encoder.embed_one(texts[i])?));
                        bar.inc();
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(ClassifierError::Inference("embedding worker panicked".into()))))
            .collect()
    });
    bar.finish();
    for result in results {
        for (i, v) in result? {
            slots[i] = Some(v);
        }
    }
    let vectors: Vec<Vec<f32>> = slots.into_iter().map(Option::unwrap_or_default).collect();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    Ok(Embedded { vectors, per_second: texts.len() as f64 / secs })
}
