//! Classifier latency and throughput with the shipped model:
//! one short message end to end (tokenizer + encoder + head) with 2 and with 1 intra-op
//! threads, and embedding throughput over 1000 sentences of `intents/` with 2 sessions x 1 thread.
//!
//! `cargo bench --bench classifier` (about two minutes on two cores). Set
//! `SWITCHBOARD_BENCH_MODELS=DIR` to measure another models folder (a head written by
//! `switchboard train --export DIR` beside a copy of the encoder and tokenizer).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use switchboard::classifier::{ClassifierOptions, Encoder, OnnxClassifier};
use switchboard::training::dataset::from_intents;
use switchboard::training::embed::embed_all;
use switchboard::training::progress::Progress;

const MESSAGE: &str = "where is my order 1042?";
const THROUGHPUT_TEXTS: usize = 1000;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The models folder measured: the shipped one unless `SWITCHBOARD_BENCH_MODELS` names another.
fn models() -> std::path::PathBuf {
    std::env::var_os("SWITCHBOARD_BENCH_MODELS").map_or_else(|| root().join("models"), Into::into)
}

fn rank_one_message(c: &mut Criterion) {
    let mut group = c.benchmark_group("rank_one_message");
    group.sample_size(30).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    for threads in [2, 1] {
        let options = ClassifierOptions { sessions: 1, intra_threads: threads, ..Default::default() };
        let classifier = OnnxClassifier::load(&models(), options).expect("the shipped model loads");
        group.bench_function(format!("1_session_x_{threads}_threads"), |b| {
            b.iter(|| classifier.rank(black_box(MESSAGE)).expect("ranking"));
        });
    }
    group.finish();
}

fn embedding_throughput(c: &mut Criterion) {
    let defs = switchboard::intents::load_dir(&root().join("intents")).expect("the intents load");
    let rows = from_intents(&defs);
    let texts: Vec<&str> = rows.iter().take(THROUGHPUT_TEXTS).map(|e| e.text.as_str()).collect();
    let options = ClassifierOptions { sessions: 2, intra_threads: 1, ..Default::default() };
    let encoder = Encoder::load(&models(), options).expect("the shipped encoder loads");
    let mut group = c.benchmark_group("embedding_throughput");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function(format!("intents_{}_texts_2_sessions_x_1_thread", texts.len()), |b| {
        b.iter(|| embed_all(&encoder, black_box(&texts), 2, &Progress::quiet()).expect("embedding"));
    });
    group.finish();
}

criterion_group!(benches, rank_one_message, embedding_throughput);
criterion_main!(benches);
