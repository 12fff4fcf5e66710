//! The shipped model, loaded for real: golden sentences per intent, loader errors on broken
//! model folders, and messages taken through the triage policy with the shipped thresholds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use switchboard::classifier::{
    ClassifierError, ClassifierOptions, ENCODER_FILE, HEAD_FILE, METADATA_FILE, NEIGHBOURS_FILE, Neighbours,
    OnnxClassifier, TOKENIZER_FILE,
};
use switchboard::domain::intent::{Action, IntentCatalog, IntentDefinition};
use switchboard::domain::text::normalise;
use switchboard::domain::triage::{Decision, HandoffReason, History, decide};
use switchboard::intents::{SensitiveRules, load_dir, load_rules};

/// Two shopper sentences per intent, written for this test (none is an example in `intents/`).
const GOLDEN: &[(&str, [&str; 2])] = &[
    (
        "account_help",
        ["how do I change the email address on my customer account?", "I want to unsubscribe from your newsletter"],
    ),
    (
        "cancel_order",
        [
            "I ordered the wrong size by mistake, please cancel order 4471 before it ships",
            "can you cancel the order I placed this morning, I don't need it anymore",
        ],
    ),
    (
        "change_shipping_address",
        [
            "I moved last week, can you send my order to my new address instead?",
            "I typed the wrong house number on my order, can you fix the delivery address?",
        ],
    ),
    (
        "complaint",
        [
            "your customer service is the worst I've ever dealt with",
            "I'm really unhappy with how your store treated me and want to make a formal complaint",
        ],
    ),
    ("contact_info", ["what's your customer service phone number?", "what time does your shop open on Saturdays?"]),
    (
        "damaged_or_wrong_item",
        ["the vase I ordered arrived shattered in the box", "you sent me a blue shirt but I ordered a red one"],
    ),
    ("delivery_options", ["how much does standard delivery cost?", "is next day delivery available?"]),
    (
        "discount_code",
        ["the promo code from your newsletter says it's not valid", "is there a discount for first orders?"],
    ),
    ("exchange", ["can I swap this jumper for a medium instead?", "I'd like to exchange the boots for another colour"]),
    (
        "fraud_or_security",
        [
            "I got an email pretending to be from your store asking for my card details, is that real?",
            "my bank statement shows a purchase from your store that wasn't me",
        ],
    ),
    ("goodbye", ["that's all I needed, bye for now", "alright, see you later"]),
    ("greeting", ["hey there, hope you're doing well", "good afternoon to you"]),
    (
        "invoice_request",
        [
            "could you email me a receipt for my last purchase?",
            "I need a VAT invoice with my company name on it for order 5520",
        ],
    ),
    (
        "missing_parcel",
        [
            "the tracking says it was delivered yesterday but there's no parcel here",
            "I think someone stole my package from outside my front door",
        ],
    ),
    ("order_status", ["when will my headphones be delivered?", "has order 90211 shipped yet?"]),
    ("out_of_scope", ["who won the football world cup in 2018?", "can you recommend a good pizza recipe"]),
    ("password_reset", ["I forgot my password and now I can't log in", "the password reset email never arrived"]),
    ("payment_issue", ["I was charged twice for the same order", "my card keeps getting declined at checkout"]),
    ("payment_methods", ["do you accept PayPal?", "can I pay in instalments with Klarna?"]),
    ("refund_request", ["I want my money back for these shoes", "I'd like a refund for order 3321"]),
    (
        "refund_status",
        [
            "you said my refund was processed a week ago but I still don't see the money",
            "when will my refund show up on my card?",
        ],
    ),
    ("reorder", ["I'd like to order the same coffee beans as last time", "can you repeat my previous order?"]),
    (
        "product_availability",
        ["is the linen shirt available in extra large?", "when will the green wool scarf be back in stock?"],
    ),
    (
        "product_question",
        ["what material is the rain jacket made from?", "do these trousers come up long or short in the leg?"],
    ),
    ("return_policy", ["how many days do I have to return an item?", "do I have to pay for return postage?"]),
    (
        "shipping_international",
        [
            "do you deliver to Japan and how long does it take?",
            "will I have to pay import tax if I order from Switzerland?",
        ],
    ),
    ("talk_to_human", ["let me speak to an actual human please", "can you connect me with a live agent"]),
    ("thanks", ["thanks a lot, that really helped", "perfect, thank you so much!"]),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn models_dir() -> PathBuf {
    root().join("models")
}

fn intents_dir() -> PathBuf {
    root().join("intents")
}

fn options() -> ClassifierOptions {
    ClassifierOptions { sessions: 1, intra_threads: 1, ..Default::default() }
}

/// The shipped model, loaded once for every test in this file.
fn classifier() -> &'static OnnxClassifier {
    static MODEL: OnceLock<OnnxClassifier> = OnceLock::new();
    MODEL.get_or_init(|| OnnxClassifier::load(&models_dir(), options()).expect("the shipped model loads"))
}

fn definitions() -> Vec<IntentDefinition> {
    load_dir(&intents_dir()).expect("intents/ loads")
}

fn catalog() -> IntentCatalog {
    IntentCatalog::new(definitions().into_iter().map(|d| d.intent).collect())
}

fn rules() -> SensitiveRules {
    load_rules(&intents_dir()).expect("the sensitive-phrase rules load")
}

// ---------------------------------------------------------------------------------------------
// Golden sentences
// ---------------------------------------------------------------------------------------------

#[test]
fn golden_sentences_cover_every_intent_in_the_intents_folder() {
    let defined: BTreeSet<String> = definitions().into_iter().map(|d| d.intent.name).collect();
    let golden: BTreeSet<String> = GOLDEN.iter().map(|(intent, _)| intent.to_string()).collect();
    assert_eq!(defined.len(), 28, "intents/ defines {defined:?}");
    assert_eq!(golden, defined);
    let labels: BTreeSet<String> = classifier().metadata().labels.iter().cloned().collect();
    assert_eq!(labels, defined, "the shipped head knows exactly the intents of intents/");
}

#[test]
fn golden_sentences_are_not_training_examples() {
    let examples: BTreeSet<String> =
        definitions().iter().flat_map(|d| d.examples.iter().map(|e| normalise(e))).collect();
    for (intent, sentences) in GOLDEN {
        for sentence in sentences {
            assert!(!examples.contains(&normalise(sentence)), "{intent}: {sentence:?} is an example in intents/");
        }
    }
}

#[test]
fn the_shipped_model_ranks_every_golden_sentence_first_as_its_intent() {
    let mut wrong = Vec::new();
    for (intent, sentences) in GOLDEN {
        for sentence in sentences {
            let ranking = classifier().rank(sentence).expect("ranking");
            let top = ranking.top().expect("a ranking has a top intent");
            if top.intent != *intent {
                wrong.push(format!("{sentence:?}: expected {intent}, got {} ({:.2})", top.intent, top.confidence));
            }
        }
    }
    assert!(wrong.is_empty(), "misranked golden sentences:\n{}", wrong.join("\n"));
}

#[test]
fn a_ranking_lists_every_label_once_with_confidences_summing_to_its_familiarity() {
    let labels = &classifier().metadata().labels;
    let total = |text: &str| {
        let ranking = classifier().rank(text).unwrap();
        assert_eq!(ranking.scores.len(), labels.len());
        let names: BTreeSet<&str> = ranking.scores.iter().map(|s| s.intent.as_str()).collect();
        assert_eq!(names.len(), labels.len());
        assert!(ranking.scores.windows(2).all(|w| w[0].confidence >= w[1].confidence), "sorted, highest first");
        ranking.scores.iter().map(|s| s.confidence).sum::<f32>()
    };
    // Probabilities scaled by how close the message is to any in-scope example.
    let familiar = total("where is my parcel");
    let strange = total("the mitochondria is the powerhouse of the cell");
    assert!(familiar <= 1.0 + 1e-3 && familiar > 0.5, "a shopper's question sums to {familiar}");
    assert!(strange < familiar * 0.7, "an unrelated sentence sums to {strange}, a shopper's question to {familiar}");
}

#[test]
fn ranking_the_same_message_twice_gives_the_same_scores() {
    let a = classifier().rank("can I pay with Apple Pay?").unwrap();
    let b = classifier().rank("can I pay with Apple Pay?").unwrap();
    assert_eq!(a, b);
}

// ---------------------------------------------------------------------------------------------
// Loader errors: every broken models folder is a clear error, never a panic
// ---------------------------------------------------------------------------------------------

/// Which real model files a temporary models folder gets (as symlinks).
const ALL_FILES: [&str; 5] = [ENCODER_FILE, TOKENIZER_FILE, HEAD_FILE, NEIGHBOURS_FILE, METADATA_FILE];

fn models_with(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in files {
        std::os::unix::fs::symlink(models_dir().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// A models folder with every real file except `missing`.
fn models_without(missing: &str) -> tempfile::TempDir {
    let present: Vec<&str> = ALL_FILES.into_iter().filter(|f| *f != missing).collect();
    models_with(&present)
}

fn load_error(dir: &Path) -> ClassifierError {
    match OnnxClassifier::load(dir, options()) {
        Ok(_) => panic!("{} loaded, but it should not", dir.display()),
        Err(e) => e,
    }
}

fn assert_missing(dir: &Path, file: &str) {
    match load_error(dir) {
        ClassifierError::MissingFile { path } => {
            assert_eq!(path, dir.join(file));
            let message = ClassifierError::MissingFile { path: path.clone() }.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
        }
        other => panic!("expected MissingFile {file}, got {other:?}"),
    }
}

#[test]
fn a_missing_models_folder_is_a_missing_file_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("no-such-models");
    assert_missing(&gone, ENCODER_FILE);
    let message = load_error(&gone).to_string();
    assert!(message.contains("no-such-models/encoder.onnx"), "{message}");
    assert!(message.contains("is missing"), "{message}");
}

#[test]
fn each_missing_model_file_is_reported_by_its_path() {
    for missing in ALL_FILES {
        let dir = models_without(missing);
        assert_missing(dir.path(), missing);
    }
}

fn assert_bad_model(dir: &Path, file: &str) -> String {
    match load_error(dir) {
        ClassifierError::BadModel { path, reason } => {
            assert_eq!(path, dir.join(file));
            assert!(!reason.is_empty());
            reason
        }
        other => panic!("expected BadModel {file}, got {other:?}"),
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    // A fixed xorshift stream: "random" bytes that are the same on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn an_encoder_of_random_bytes_is_a_bad_model_error() {
    let dir = models_without(ENCODER_FILE);
    std::fs::write(dir.path().join(ENCODER_FILE), random_bytes(64 * 1024)).unwrap();
    assert_bad_model(dir.path(), ENCODER_FILE);
}

#[test]
fn an_empty_encoder_file_is_a_bad_model_error() {
    let dir = models_without(ENCODER_FILE);
    std::fs::write(dir.path().join(ENCODER_FILE), b"").unwrap();
    assert_bad_model(dir.path(), ENCODER_FILE);
}

#[test]
fn a_truncated_encoder_is_a_bad_model_error() {
    let dir = models_without(ENCODER_FILE);
    let bytes = std::fs::read(models_dir().join(ENCODER_FILE)).unwrap();
    std::fs::write(dir.path().join(ENCODER_FILE), &bytes[..bytes.len() / 2]).unwrap();
    assert_bad_model(dir.path(), ENCODER_FILE);
}

#[test]
fn a_head_onnx_of_random_bytes_is_a_bad_model_error() {
    let dir = models_without(HEAD_FILE);
    std::fs::write(dir.path().join(HEAD_FILE), random_bytes(4096)).unwrap();
    assert_bad_model(dir.path(), HEAD_FILE);
}

#[test]
fn a_truncated_neighbours_file_is_a_bad_model_error() {
    let dir = models_without(NEIGHBOURS_FILE);
    let bytes = std::fs::read(models_dir().join(NEIGHBOURS_FILE)).unwrap();
    std::fs::write(dir.path().join(NEIGHBOURS_FILE), &bytes[..bytes.len() / 2]).unwrap();
    let reason = assert_bad_model(dir.path(), NEIGHBOURS_FILE);
    assert!(reason.contains("bytes, expected"), "{reason}");
}

#[test]
fn neighbours_of_another_head_are_refused() {
    let dir = models_without(NEIGHBOURS_FILE);
    let three_classes = [vec![1.0f32; 768], vec![0.5; 768]];
    Neighbours::new(three_classes.iter().map(Vec::as_slice), &[0, 2], 3)
        .write(&dir.path().join(NEIGHBOURS_FILE))
        .unwrap();
    let reason = assert_bad_model(dir.path(), NEIGHBOURS_FILE);
    assert!(reason.contains("examples of 3 classes") && reason.contains("make model"), "{reason}");
}

#[test]
fn neighbours_from_another_training_run_are_refused() {
    let dir = with_metadata(|m| m["neighbours_sha256"] = serde_json::json!("0".repeat(64)));
    let reason = assert_bad_model(dir.path(), NEIGHBOURS_FILE);
    assert!(reason.contains("not the file this head was trained with"), "{reason}");
}

#[test]
fn a_head_asking_for_the_distance_without_its_section_is_refused() {
    // A neighbours.bin of the first format (no distance section) still loads under a head.json
    // of its day, but not under one that asks for the distance, like the shipped head.json.
    let dir = with_metadata(|m| assert!(m["neighbours"]["distance_weight"].as_f64() > Some(0.0)));
    let path = dir.path().join(NEIGHBOURS_FILE);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"SWBNBRS2", "the shipped file has the distance section");
    let field = |i: usize| u32::from_le_bytes(bytes[8 + 4 * i..12 + 4 * i].try_into().unwrap()) as usize;
    let (dim, n) = (field(0), field(1));
    let mut first_format = bytes[..20 + 6 * n + n * dim].to_vec();
    first_format[..8].copy_from_slice(b"SWBNBRS1");
    // The folder links to the shipped files: replace the link, never write through it.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, first_format).unwrap();
    let reason = assert_bad_model(dir.path(), NEIGHBOURS_FILE);
    assert!(reason.contains("no distance section"), "{reason}");
}

#[test]
fn the_head_in_place_of_the_encoder_is_refused_as_not_an_encoder() {
    let dir = models_without(ENCODER_FILE);
    std::os::unix::fs::symlink(models_dir().join(HEAD_FILE), dir.path().join(ENCODER_FILE)).unwrap();
    let reason = assert_bad_model(dir.path(), ENCODER_FILE);
    assert!(reason.contains("not a Switchboard encoder"), "{reason}");
}

fn assert_bad_tokenizer(tokenizer_json: &str) -> String {
    let dir = models_without(TOKENIZER_FILE);
    std::fs::write(dir.path().join(TOKENIZER_FILE), tokenizer_json).unwrap();
    match load_error(dir.path()) {
        ClassifierError::BadTokenizer { path, reason } => {
            assert_eq!(path, dir.path().join(TOKENIZER_FILE));
            let message = ClassifierError::BadTokenizer { path: path.clone(), reason: reason.clone() }.to_string();
            assert!(message.contains("tokenizer.json"), "{message}");
            reason
        }
        other => panic!("expected BadTokenizer, got {other:?}"),
    }
}

#[test]
fn a_tokenizer_that_is_json_but_not_a_tokenizer_is_a_bad_tokenizer_error() {
    assert_bad_tokenizer(r#"{"hello": "world", "numbers": [1, 2, 3]}"#);
}

#[test]
fn a_syntactically_broken_tokenizer_is_a_bad_tokenizer_error() {
    let real = std::fs::read_to_string(models_dir().join(TOKENIZER_FILE)).unwrap();
    assert_bad_tokenizer(&real[..real.len() / 3]);
}

#[test]
fn a_tokenizer_with_a_tiny_vocabulary_is_refused() {
    let tiny = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
        "pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
        "model":{"type":"WordLevel","vocab":{"[UNK]":0,"hello":1},"unk_token":"[UNK]"}}"#;
    let reason = assert_bad_tokenizer(tiny);
    assert!(reason.contains("too small"), "{reason}");
}

fn with_metadata(edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let dir = models_without(METADATA_FILE);
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models_dir().join(METADATA_FILE)).unwrap()).unwrap();
    edit(&mut meta);
    std::fs::write(dir.path().join(METADATA_FILE), serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    dir
}

fn assert_bad_metadata(dir: &Path) -> String {
    match load_error(dir) {
        ClassifierError::BadMetadata { path, reason } => {
            assert_eq!(path, dir.join(METADATA_FILE));
            reason
        }
        other => panic!("expected BadMetadata, got {other:?}"),
    }
}

#[test]
fn head_json_that_is_not_json_is_a_bad_metadata_error() {
    let dir = models_without(METADATA_FILE);
    std::fs::write(dir.path().join(METADATA_FILE), "{\"version\": \"x\", \"labels\": [").unwrap();
    assert_bad_metadata(dir.path());
}

#[test]
fn head_json_with_labels_of_the_wrong_type_is_a_bad_metadata_error() {
    let dir = with_metadata(|m| m["labels"] = serde_json::json!("order_status"));
    let reason = assert_bad_metadata(dir.path());
    assert!(reason.contains("invalid type"), "{reason}");
}

#[test]
fn head_json_without_thresholds_is_a_bad_metadata_error() {
    let dir = with_metadata(|m| {
        m.as_object_mut().unwrap().remove("thresholds");
    });
    let reason = assert_bad_metadata(dir.path());
    assert!(reason.contains("thresholds"), "{reason}");
}

#[test]
fn head_json_with_a_threshold_above_one_is_a_bad_metadata_error() {
    let dir = with_metadata(|m| m["thresholds"]["global"] = serde_json::json!(1.5));
    let reason = assert_bad_metadata(dir.path());
    assert!(reason.contains("between 0 and 1"), "{reason}");
}

#[test]
fn head_json_with_a_single_label_is_a_bad_metadata_error() {
    let dir = with_metadata(|m| m["labels"] = serde_json::json!(["order_status"]));
    let reason = assert_bad_metadata(dir.path());
    assert!(reason.contains("at least 2 labels"), "{reason}");
}

#[test]
fn a_head_whose_class_count_disagrees_with_its_labels_is_refused() {
    let dir = with_metadata(|m| {
        m["labels"].as_array_mut().unwrap().pop();
    });
    let reason = assert_bad_model(dir.path(), HEAD_FILE);
    assert!(reason.contains("outputs 28 classes but its metadata lists 27 labels"), "{reason}");
}

#[test]
fn a_head_expecting_another_embedding_size_is_refused() {
    let dir = with_metadata(|m| m["embedding_dim"] = serde_json::json!(128));
    let message = load_error(dir.path()).to_string();
    assert!(message.contains("head.onnx") || message.contains("head.json"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Through the triage policy, with the shipped thresholds
// ---------------------------------------------------------------------------------------------

fn decide_fresh(text: &str) -> Decision {
    decide_with(text, History::default())
}

fn decide_with(text: &str, history: History) -> Decision {
    let ranking = classifier().rank(text).unwrap();
    let rules = rules();
    let phrase = rules.find(text);
    decide(&ranking, phrase.as_ref().map(|m| m.category), &classifier().metadata().thresholds, &catalog(), history)
}

#[test]
fn asking_for_a_real_person_hands_off_as_customer_requested() {
    assert_eq!(
        decide_fresh("I want to talk to a real person"),
        Decision::Handoff { reason: HandoffReason::CustomerRequested, intent: Some("talk_to_human".into()) }
    );
}

#[test]
fn threatening_to_sue_hands_off_as_sensitive_through_the_phrase_rule() {
    let text = "I'm going to sue you";
    assert_eq!(rules().find(text).map(|m| m.category.to_string()).as_deref(), Some("legal_threat"));
    let decision = decide_fresh(text);
    assert!(matches!(decision, Decision::Handoff { reason: HandoffReason::Sensitive, .. }), "{decision:?}");
}

#[test]
fn a_hacked_account_hands_off_as_sensitive() {
    let text = "my account was hacked last night";
    assert_eq!(rules().find(text).map(|m| m.category.to_string()).as_deref(), Some("account_compromised"));
    assert_eq!(decide_fresh(text).reason().name(), "sensitive");
}

#[test]
fn a_damaged_parcel_hands_off_as_sensitive_without_any_phrase_rule() {
    let text = "the box arrived crushed and the lamp inside is broken";
    assert!(rules().find(text).is_none());
    assert_eq!(
        decide_fresh(text),
        Decision::Handoff { reason: HandoffReason::Sensitive, intent: Some("damaged_or_wrong_item".into()) }
    );
}

#[test]
fn a_clear_order_question_is_answered_with_the_order_status_action() {
    assert_eq!(
        decide_fresh("has my order 1042 shipped yet?"),
        Decision::Answer { intent: "order_status".into(), action: Action::OrderStatus }
    );
}

#[test]
fn a_payment_methods_question_is_answered_from_the_template() {
    assert_eq!(
        decide_fresh("do you take Apple Pay?"),
        Decision::Answer { intent: "payment_methods".into(), action: Action::Answer }
    );
}

#[test]
fn small_talk_is_out_of_scope_and_offers_a_person_the_second_time() {
    let text = "what is the capital of France?";
    assert_eq!(decide_fresh(text), Decision::OutOfScope { offer_person: false });
    let again = History { out_of_scope_last_turn: true, ..History::default() };
    assert_eq!(decide_with(text, again), Decision::OutOfScope { offer_person: true });
}
