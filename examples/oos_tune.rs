//! Chooses the out-of-scope settings (nearest-example vote, familiarity, Mahalanobis distance)
//! on training data only: a head trained on `train.jsonl` scored on `val.jsonl`, or k-fold
//! cross-validation of one file or of `intents/`. It never opens a test split.
//!
//! `cargo run --release --example oos_tune -- val DIR` (DIR holds train.jsonl and val.jsonl),
//! `... -- cv FILE.jsonl`, `... -- cv intents`. Embeddings are cached in /tmp/oos-cache.
//!
//! For each setting it prints held-out top-1, the AUROC of in-scope against out-of-scope rows
//! by confidence, and the in-scope rows answered rightly at the single threshold that turns
//! away 90 % (95 %) of the held-out out-of-scope rows. How the README's settings were chosen
//! from these figures is written under its Measured table.

use std::path::{Path, PathBuf};

use switchboard::classifier::mahalanobis::Mahalanobis;
use switchboard::classifier::neighbours::blend;
use switchboard::classifier::{ClassifierOptions, Encoder, NeighbourConfig};
use switchboard::training::dataset::{Example, from_intents, read_jsonl, stratified_folds};
use switchboard::training::progress::Progress;
use switchboard::training::softmax::SoftmaxHead;
use switchboard::training::train::{Features, LabelSet, TrainOptions, featurize, fit_rows, neighbours_of};

const SHRINKAGE: [f32; 5] = [0.01, 0.05, 0.1, 0.2, 0.5];

/// One held-out row: truth, the head's probabilities, nearest similarities, and relative
/// Mahalanobis distances (one per shrinkage).
struct Row {
    truth: Option<usize>,
    head: Vec<f32>,
    similarity: Vec<f32>,
    distance: Vec<f32>,
}

fn score_rows(
    features: &Features,
    classes: &[usize],
    train: &[usize],
    held: &[usize],
    truths: &[Option<usize>],
    set: &LabelSet,
    options: &TrainOptions,
) -> Vec<Row> {
    let head: SoftmaxHead = fit_rows(features, classes, train, set, options, || {});
    let neighbours = neighbours_of(
        features,
        classes,
        train,
        set,
        &NeighbourConfig { distance_weight: 0.0, ..NeighbourConfig::default() },
    );
    let models: Vec<Mahalanobis> = SHRINKAGE
        .iter()
        .map(|&a| {
            let rows = train.iter().map(|&i| features.embeddings[i].as_slice());
            let cls: Vec<usize> = train.iter().map(|&i| classes[i]).collect();
            Mahalanobis::fit(rows, &cls, set.oos, a).expect("fits")
        })
        .collect();
    let embeddings: Vec<&[f32]> = held.iter().map(|&i| features.embeddings[i].as_slice()).collect();
    held.iter()
        .zip(neighbours.class_similarity(&embeddings))
        .map(|(&i, similarity)| Row {
            truth: truths[i],
            head: head.predict(features.input(i)),
            similarity,
            distance: models.iter().map(|m| m.relative_distance(&features.embeddings[i])).collect(),
        })
        .collect()
}

fn cached_features(encoder: &Encoder, key: &str, texts: &[&str], options: &TrainOptions) -> Features {
    let path = PathBuf::from("/tmp/oos-cache").join(format!("{key}.f32"));
    let mut features = if let Ok(bytes) = std::fs::read(&path) {
        let floats: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        let dim = floats.len() / texts.len();
        let embeddings = floats.chunks_exact(dim).map(<[f32]>::to_vec).collect();
        let lexical =
            texts.iter().map(|t| switchboard::classifier::features::lexical_features(t, &options.lexical)).collect();
        Features { embeddings, lexical, embed_per_sec: 0.0 }
    } else {
        let f = featurize(encoder, texts, options, &Progress::quiet()).expect("embedding");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let bytes: Vec<u8> = f.embeddings.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&path, bytes).unwrap();
        f
    };
    features.embed_per_sec = 0.0;
    features
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, source) = (args[1].as_str(), args[2].as_str());
    let options = TrainOptions::default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let encoder =
        Encoder::load(&root.join("models"), ClassifierOptions { sessions: 2, intra_threads: 1, ..Default::default() })
            .unwrap();
    let key = source.replace('/', "_");
    let rows = if mode == "val" {
        let dir = Path::new(source);
        let train = read_jsonl(&dir.join("train.jsonl")).unwrap();
        let val = read_jsonl(&dir.join("val.jsonl")).unwrap();
        let all: Vec<Example> = train.iter().chain(&val).cloned().collect();
        let texts: Vec<&str> = all.iter().map(|e| e.text.as_str()).collect();
        let features = cached_features(&encoder, &key, &texts, &options);
        let set = LabelSet::of(&train);
        let classes: Vec<usize> = all.iter().map(|e| set.index(&e.intent).unwrap_or(0)).collect();
        let truths: Vec<Option<usize>> = all.iter().map(|e| set.truth(&e.intent)).collect();
        let tr: Vec<usize> = (0..train.len()).collect();
        let held: Vec<usize> = (train.len()..all.len()).collect();
        score_rows(&features, &classes, &tr, &held, &truths, &set, &options)
            .into_iter()
            .map(|r| (r, set.oos))
            .collect::<Vec<_>>()
    } else {
        let examples = if source == "intents" {
            from_intents(&switchboard::intents::load_dir(&root.join("intents")).unwrap())
        } else {
            read_jsonl(Path::new(source)).unwrap()
        };
        let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        let features = cached_features(&encoder, &key, &texts, &options);
        let set = LabelSet::of(&examples);
        let classes: Vec<usize> = examples.iter().map(|e| set.index(&e.intent).unwrap_or(0)).collect();
        let truths: Vec<Option<usize>> = examples.iter().map(|e| set.truth(&e.intent)).collect();
        let folds = stratified_folds(&examples, 5);
        let out = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for chunk in [vec![0, 1, 2], vec![3, 4]] {
                let (features, classes, truths, set, folds, out, options) =
                    (&features, &classes, &truths, &set, &folds, &out, &options);
                s.spawn(move || {
                    for fold in chunk {
                        let tr: Vec<usize> = (0..folds.len()).filter(|&i| folds[i] != fold).collect();
                        let held: Vec<usize> = (0..folds.len()).filter(|&i| folds[i] == fold).collect();
                        let rows = score_rows(features, classes, &tr, &held, truths, set, options);
                        out.lock().unwrap().extend(rows);
                    }
                });
            }
        });
        out.into_inner().unwrap().into_iter().map(|r| (r, set.oos)).collect()
    };
    sweep(&rows);
}

struct Outcome {
    top1: f64,
    auroc: f64,
    at90: f64,
    at95: f64,
}

fn evaluate(rows: &[(Row, Option<usize>)], config: &NeighbourConfig, shrink: usize, beta: f32) -> Outcome {
    let mut scored: Vec<(bool, bool, f32)> = Vec::new(); // (is_oos, top1 right, confidence)
    for (r, oos) in rows {
        let mut p = r.head.clone();
        blend(&mut p, &r.similarity, None, *oos, config);
        let f = (-beta * (r.distance[shrink] - 1.0).max(0.0)).exp();
        let (mut best, mut conf) = (0, f32::MIN);
        for (i, &v) in p.iter().enumerate() {
            if v > conf {
                conf = v;
                best = i;
            }
        }
        let conf = if Some(best) == *oos { 0.0 } else { conf * f };
        let is_oos = r.truth.is_none() || r.truth == *oos;
        scored.push((is_oos, !is_oos && Some(best) == r.truth, conf));
    }
    let inscope = scored.iter().filter(|s| !s.0).count() as f64;
    let top1 = scored.iter().filter(|s| s.1).count() as f64 / inscope.max(1.0);
    let mut oos_conf: Vec<f32> = scored.iter().filter(|s| s.0).map(|s| s.2).collect();
    oos_conf.sort_by(f32::total_cmp);
    let at = |recall: f64| {
        if oos_conf.is_empty() {
            return f64::NAN;
        }
        let k = ((recall * oos_conf.len() as f64).ceil() as usize).min(oos_conf.len()) - 1;
        let t = oos_conf[k];
        scored.iter().filter(|s| s.1 && s.2 > t).count() as f64 / inscope
    };
    // AUROC of in-scope vs out-of-scope by confidence.
    let ins: Vec<f32> = scored.iter().filter(|s| !s.0).map(|s| s.2).collect();
    let mut wins = 0.0;
    for c in &ins {
        let below = oos_conf.partition_point(|o| o < c) as f64;
        let equal = oos_conf.partition_point(|o| o <= c) as f64 - below;
        wins += below + equal / 2.0;
    }
    let auroc = wins / (ins.len() as f64 * oos_conf.len().max(1) as f64);
    Outcome { top1, auroc, at90: at(0.90), at95: at(0.95) }
}

fn sweep(rows: &[(Row, Option<usize>)]) {
    let oos = rows.iter().filter(|(r, o)| r.truth.is_none() || r.truth == *o).count();
    println!("{} held-out rows, {oos} out of scope", rows.len());
    let mut results = Vec::new();
    for mix in [0.0, 0.1, 0.2, 0.3] {
        for temperature in [0.02, 0.05, 0.1] {
            if mix == 0.0 && temperature != 0.05 {
                continue;
            }
            for familiarity_power in [0.0, 1.0, 2.0, 3.0, 4.0] {
                for (s, &alpha) in SHRINKAGE.iter().enumerate() {
                    for beta in [0.0, 0.5, 1.0, 2.0, 4.0, 8.0] {
                        if beta == 0.0 && s > 0 {
                            continue;
                        }
                        let config =
                            NeighbourConfig { mix, temperature, familiarity_power, ..NeighbourConfig::default() };
                        let o = evaluate(rows, &config, s, beta);
                        results.push((mix, temperature, familiarity_power, alpha, beta, o));
                    }
                }
            }
        }
    }
    let show = |r: &(f32, f32, f32, f32, f32, Outcome)| {
        let o = &r.5;
        println!(
            "mix {:.1} temp {:.2} power {:.0} shrink {:.2} beta {:.1}: top1 {:.4} auroc {:.4} in-scope@90 {:.4} @95 {:.4}",
            r.0, r.1, r.2, r.3, r.4, o.top1, o.auroc, o.at90, o.at95
        );
    };
    println!("-- current defaults (mix 0.2, temp 0.05, power 2, no distance)");
    results.iter().filter(|r| r.0 == 0.2 && r.1 == 0.05 && r.2 == 2.0 && r.4 == 0.0).for_each(show);
    println!("-- best top-1 without distance");
    let mut by: Vec<&(f32, f32, f32, f32, f32, Outcome)> =
        results.iter().filter(|r| r.2 == 0.0 && r.4 == 0.0).collect();
    by.sort_by(|a, b| b.5.top1.total_cmp(&a.5.top1));
    by.iter().take(6).for_each(|r| show(r));
    if oos > 0 {
        for (name, key) in [("@95", 0), ("auroc", 1)] {
            println!("-- best by {name}");
            let mut by: Vec<&(f32, f32, f32, f32, f32, Outcome)> = results.iter().collect();
            by.sort_by(|a, b| {
                let k = |o: &Outcome| if key == 0 { o.at95 } else { o.auroc };
                k(&b.5).total_cmp(&k(&a.5))
            });
            by.iter().take(15).for_each(|r| show(r));
        }
        println!("-- all with mix 0.2 temp 0.05");
        results.iter().filter(|r| r.0 == 0.2 && r.1 == 0.05).for_each(show);
    }
}
