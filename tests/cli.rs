//! The real `switchboard` binary: eval, classify and train, with their errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A small benchmark written for these tests (8 intents x 15 training rows; 5 test rows each
/// plus 5 out-of-scope rows labelled `oos`, as the public benchmarks label them).
fn mini_benchmark() -> (PathBuf, PathBuf) {
    let dir = root().join("tests/fixtures/mini-benchmark");
    (dir.join("train.jsonl"), dir.join("test.jsonl"))
}

/// The binary, run from the crate root with no ONNX Runtime override in its environment.
fn switchboard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.current_dir(root())
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("SWITCHBOARD_ORT_LIBRARY")
        .env_remove("SWITCHBOARD_MODELS")
        .env_remove("SWITCHBOARD_INTENTS")
        .env_remove("RUST_LOG");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the switchboard binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_success(out: &Output) {
    assert!(out.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", out.status, stdout(out), stderr(out));
}

/// A failed run: non-zero exit, an `error:` line, and no panic.
fn assert_clean_failure(out: &Output) -> String {
    let err = stderr(out);
    assert!(!out.status.success(), "expected failure, got success\nstdout:\n{}\nstderr:\n{err}", stdout(out));
    assert_eq!(out.status.code(), Some(1), "a handled error exits with 1, not a crash: {err}");
    assert!(!err.contains("panicked"), "the binary panicked:\n{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "the binary panicked:\n{err}");
    err
}

fn read_rows(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write_rows(path: &Path, rows: &[Value]) {
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(path, text).unwrap();
}

#[test]
fn eval_on_a_benchmark_slice_prints_every_documented_figure_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = mini_benchmark();
    let report = dir.path().join("report");
    let out = run(switchboard()
        .args(["eval", "--quiet", "--json", "--train"])
        .arg(&train)
        .arg("--test")
        .arg(&test)
        .arg("--report")
        .arg(&report));
    assert_success(&out);
    let json: Value = serde_json::from_str(&stdout(&out)).expect("stdout is one JSON document");
    for key in [
        "accuracy",
        "in_scope_accuracy",
        "macro_f1",
        "oos_recall",
        "oos_precision",
        "coverage_at_target_precision",
        "per_intent",
        "embed_per_sec",
        "train_seconds",
    ] {
        assert!(json.get(key).is_some(), "missing {key} in {json:#}");
    }
    for key in ["accuracy", "in_scope_accuracy", "macro_f1", "oos_recall", "oos_precision", "embed_per_sec"] {
        assert!(json[key].is_number(), "{key} is not a number: {}", json[key]);
    }
    let per_intent = json["per_intent"].as_object().unwrap();
    assert_eq!(per_intent.len(), 8, "{per_intent:?}");
    for (name, figures) in per_intent {
        for key in ["precision", "recall", "f1", "support"] {
            assert!(figures[key].is_number(), "{name}.{key} in {figures}");
        }
        assert!(figures["confused_with"].is_array(), "{name}.confused_with in {figures}");
        assert_eq!(figures["support"], 5, "{name}");
    }
    // 8 classes: chance is 12.5 %.
    let accuracy = json["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.6, "accuracy {accuracy} is not well above chance");
    assert!(json["embed_per_sec"].as_f64().unwrap() > 0.0);

    let html = std::fs::read_to_string(report.join("report.html")).expect("--report writes report.html");
    assert!(html.contains("<svg"), "the report has charts");
}

#[test]
fn eval_of_the_shipped_model_writes_one_prediction_line_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("store.jsonl");
    let rows = [
        ("where has my parcel got to", "order_status"),
        ("I want to cancel my order", "cancel_order"),
        ("do you accept Klarna", "payment_methods"),
        ("hello there", "greeting"),
        ("I will take you to court over this", "complaint"),
        ("what's the tallest mountain in the world", "oos"),
    ];
    let rows: Vec<Value> = rows.iter().map(|(t, i)| serde_json::json!({"text": t, "intent": i})).collect();
    write_rows(&test, &rows);
    let predictions = dir.path().join("predictions.jsonl");
    let out = run(switchboard().args(["eval", "--quiet", "--test"]).arg(&test).arg("--predictions").arg(&predictions));
    assert_success(&out);
    assert!(stdout(&out).contains("accuracy"), "a readable summary: {}", stdout(&out));
    let lines = read_rows(&predictions);
    assert_eq!(lines.len(), rows.len());
    for (line, row) in lines.iter().zip(&rows) {
        assert_eq!(line["text"], row["text"]);
        assert!(line["intent"].is_string() && line["predicted"].is_string(), "{line}");
        let confidence = line["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{line}");
        let decision = line["decision"].as_str().unwrap();
        assert!(["answer", "clarify", "handoff", "out_of_scope"].contains(&decision), "{line}");
    }
    assert_eq!(lines[0]["predicted"], "order_status");
    assert_eq!(lines[4]["decision"], "handoff", "a legal threat is handed off: {}", lines[4]);
    assert_eq!(lines[5]["intent"], "out_of_scope", "`oos` rows are read as out of scope");
}

#[test]
fn eval_of_the_shipped_model_reports_false_automation_and_answer_precision() {
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("logs.jsonl");
    let rows = [
        ("where has my parcel got to", "order_status"),
        ("do you accept Klarna", "payment_methods"),
        ("can i pay with paypal", "payment_methods"),
        ("how do i reset my password", "password_reset"),
        ("what's the tallest mountain in the world", "oos"),
        ("book me a table for two tonight", "out_of_scope"),
        ("what is my bank balance", "check_balance"),
    ];
    let rows: Vec<Value> = rows.iter().map(|(t, i)| serde_json::json!({"text": t, "intent": i})).collect();
    write_rows(&test, &rows);
    let predictions = dir.path().join("predictions.jsonl");
    let out = run(switchboard()
        .args(["eval", "--quiet", "--json", "--test"])
        .arg(&test)
        .arg("--predictions")
        .arg(&predictions));
    assert_success(&out);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    // The same figures recomputed from the per-row decisions: an unknown intent counts as
    // out of scope, and an automatic answer is a row decided `answer`.
    let lines = read_rows(&predictions);
    let foreign = |l: &Value| l["intent"] == "out_of_scope" || l["intent"] == "check_balance";
    let automated: Vec<&Value> =
        lines.iter().filter(|l| l["decision"] == "answer" && l["predicted"] != "out_of_scope").collect();
    let falsely = automated.iter().filter(|l| foreign(l)).count() as f64;
    let right = automated.iter().filter(|l| l["predicted"] == l["intent"]).count() as f64;
    assert_eq!(json["automated_rows"].as_u64(), Some(automated.len() as u64), "{json:#}");
    assert_eq!(json["false_automation"].as_f64(), Some(falsely / 3.0), "{json:#}");
    assert_eq!(json["automated_precision"].as_f64(), Some(right / automated.len() as f64), "{json:#}");
    assert!(json["answer_precision"].is_number(), "{json:#}");
    assert!(automated.len() >= 3, "the routine questions are answered: {lines:?}");
    let text = stdout(&run(switchboard().args(["eval", "--quiet", "--test"]).arg(&test)));
    assert!(text.contains("false automation") && text.contains("automatic answers"), "{text}");
}

#[test]
fn classify_prints_the_intent_and_the_decision_as_json() {
    let out = run(switchboard().args(["classify", "where is my parcel", "--json"]));
    assert_success(&out);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["intents"][0]["intent"], "order_status", "{json:#}");
    assert!(json["intents"][0]["confidence"].as_f64().unwrap() > 0.5);
    assert_eq!(json["decision"], "answer", "{json:#}");
    assert!(json["reason"].is_string() && json["model_version"].is_string(), "{json:#}");
}

#[test]
fn classify_prints_a_readable_table_without_json() {
    let out = run(switchboard().args(["classify", "can I pay with PayPal?"]));
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("payment_methods") && text.contains("decision: answer"), "{text}");
}

#[test]
fn eval_of_a_missing_file_fails_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.jsonl");
    let out = run(switchboard().args(["eval", "--quiet", "--test"]).arg(&missing));
    let err = assert_clean_failure(&out);
    assert!(err.contains(&missing.display().to_string()), "{err}");
}

#[test]
fn a_malformed_jsonl_line_fails_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"text\": \"where is my order\", \"intent\": \"order_status\"}\n{\"text\": \"oops\"\n")
        .unwrap();
    let out = run(switchboard().args(["eval", "--quiet", "--test"]).arg(&bad));
    let err = assert_clean_failure(&out);
    assert!(err.contains(&format!("{}:2:", bad.display())), "{err}");
}

#[test]
fn a_training_file_with_a_malformed_line_fails_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let (_, test) = mini_benchmark();
    let train = dir.path().join("broken-train.jsonl");
    std::fs::write(&train, "{\"text\": \"set an alarm\", \"intent\": \"alarm_set\"}\nnot json at all\n").unwrap();
    let out = run(switchboard().args(["eval", "--quiet", "--train"]).arg(&train).arg("--test").arg(&test));
    let err = assert_clean_failure(&out);
    assert!(err.contains("broken-train.jsonl:2:"), "{err}");
}

#[test]
fn eval_with_no_arguments_explains_what_it_needs() {
    let out = run(switchboard().arg("eval"));
    let err = assert_clean_failure(&out);
    assert!(err.contains("--test") && err.contains("--train") && err.contains("--intents"), "{err}");
}

#[test]
fn train_export_writes_a_head_and_leaves_the_encoder_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    for file in ["encoder.onnx", "tokenizer.json"] {
        std::fs::copy(root().join("models").join(file), models.join(file)).unwrap();
    }
    let encoder_before = std::fs::read(models.join("encoder.onnx")).unwrap();
    let out = run(switchboard()
        .arg("--models")
        .arg(&models)
        .args(["--intents-dir", "intents", "train", "--quiet", "--export"])
        .arg(&models));
    assert_success(&out);
    assert!(stdout(&out).contains("written to"), "{}", stdout(&out));
    assert!(models.join("head.onnx").is_file(), "head.onnx written");
    assert!(models.join("neighbours.bin").is_file(), "neighbours.bin written");
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(models.join("head.json")).unwrap()).unwrap();
    assert_eq!(meta["labels"].as_array().unwrap().len(), 28);
    assert_eq!(std::fs::read(models.join("encoder.onnx")).unwrap(), encoder_before, "the encoder is unchanged");
    // The freshly trained model classifies.
    let out = run(switchboard().arg("--models").arg(&models).args(["classify", "where is my parcel", "--json"]));
    assert_success(&out);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["intents"][0]["intent"], "order_status");
}

#[test]
fn without_the_onnx_runtime_library_the_error_says_to_run_make_onnxruntime() {
    let out = run(switchboard()
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .args(["classify", "where is my parcel"]));
    let err = assert_clean_failure(&out);
    assert!(err.contains("make onnxruntime"), "{err}");
    assert!(err.contains("/nonexistent/libonnxruntime.so"), "{err}");
}

#[test]
fn eval_without_the_onnx_runtime_library_fails_cleanly_too() {
    let (train, test) = mini_benchmark();
    let out = run(switchboard()
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .args(["eval", "--quiet", "--train"])
        .arg(&train)
        .arg("--test")
        .arg(&test));
    let err = assert_clean_failure(&out);
    assert!(err.contains("make onnxruntime"), "{err}");
}

/// `serve --log-format json` writes one JSON object per log line, and SIGTERM stops it
/// cleanly (streams and requests drained within the grace period).
#[test]
fn serve_logs_json_lines_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let database = format!("sqlite://{}/serve.db", dir.path().display());
    let mut child = switchboard()
        .args(["--log-format", "json", "serve", "--demo", "--listen", "127.0.0.1:0", "--database", &database])
        .args(["--shutdown-grace", "2s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let banner = stdout.by_ref().map_while(Result::ok).find(|l| l.starts_with("Switchboard demo store:"));
    assert!(banner.is_some(), "the server printed its banner");
    // Keep reading: a closed pipe would fail the rest of the banner's lines.
    let drain = std::thread::spawn(move || stdout.map_while(Result::ok).count());
    let started = std::time::Instant::now();
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let out = child.wait_with_output().expect("the server exits");
    drain.join().expect("stdout drained");
    assert!(out.status.success(), "a clean exit on SIGTERM: {}", stderr(&out));
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "stopped in {:?}", started.elapsed());
    let lines: Vec<Value> = stderr(&out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(|l| l["level"].is_string() && l["timestamp"].is_string()), "{lines:?}");
    assert!(lines.iter().any(|l| l["message"] == "shutting down: draining requests and streams"), "{lines:?}");
    assert!(lines.iter().any(|l| l["message"] == "stopped"), "{lines:?}");
}
