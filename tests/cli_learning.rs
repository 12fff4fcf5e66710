//! The learning loop's commands on a SQLite database: `switchboard train` makes a gated
//! candidate (never the live model), `switchboard models` lists and promotes, and
//! `switchboard intents export` writes approved examples into the intent files once.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::root;
use switchboard::agents::NewAgent;
use switchboard::domain::agent::ExampleStatus;
use switchboard::domain::audit::Actor;
use switchboard::domain::model::ExampleSource;
use switchboard::store::{NewExample, Store};

fn switchboard(database: &str, intents: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.current_dir(root())
        .env_remove("RUST_LOG")
        .env("SWITCHBOARD_DATABASE_URL", database)
        .arg("--intents-dir")
        .arg(intents);
    cmd
}

fn run(cmd: &mut Command) -> String {
    let out: Output = cmd.output().expect("the binary runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    stdout.into_owned()
}

/// A copy of the repository's intents, to be written into.
fn intents_copy(dir: &Path) -> std::path::PathBuf {
    let copy = dir.join("intents");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(root().join("intents")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
    }
    copy
}

/// Approved examples (text, intent) in the database, as an admin's review leaves them.
async fn approved(store: &Store, examples: &[(&str, &str)]) {
    let new = NewAgent { email: "reviewer@example.com".into(), name: "Reviewer".into(), password: None, admin: true };
    let (agent, _) = new.create(store, &Actor::Cli).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for (i, (text, intent)) in examples.iter().enumerate() {
        let example = NewExample {
            text,
            intent,
            source: ExampleSource::Label,
            message_id: &format!("m{i}"),
            conversation_id: "c",
            agent_id: &agent.id,
        };
        let id = tx.upsert_example(&example).await.unwrap();
        assert!(tx.review_example(&id, Some(ExampleStatus::Approved), None, &agent.id).await.unwrap());
    }
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn train_makes_a_gated_candidate_that_models_promote_makes_live() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("cli.db").display());
    let intents = root().join("intents");
    let list = run(switchboard(&database, &intents).args(["models", "list"]));
    assert!(list.lines().nth(1).is_some_and(|l| l.contains("live")), "the shipped model is version 1: {list}");

    let out = run(switchboard(&database, &intents).args(["train", "--quiet"]));
    assert!(out.contains("note: no approved examples yet"), "{out}");
    assert!(out.contains("gate: passed"), "{out}");
    let store = Store::connect(&database).await.unwrap();
    let models = store.models().await.unwrap();
    let candidate = models.iter().find(|m| m.number == 2).expect("a candidate #2");
    assert_eq!(candidate.status.name(), "candidate", "training never replaces the live model");
    assert_eq!(models.iter().find(|m| m.number == 1).unwrap().status.name(), "live");

    let out = run(switchboard(&database, &intents).args(["models", "promote", &candidate.version]));
    assert!(out.contains("is live"), "{out}");
    let out = run(switchboard(&database, &intents).args(["models", "rollback"]));
    assert!(out.contains("rolled back"), "{out}");
    assert_eq!(store.serving_versions().await.unwrap().0.as_deref(), Some(models[1].version.as_str()));
    store.close().await;
}

#[tokio::test]
async fn intents_export_writes_approved_examples_once_marked_as_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("export.db").display());
    let intents = intents_copy(dir.path());
    let store = Store::connect(&database).await.unwrap();
    approved(&store, &[("waar blijft mijn pakket", "order_status"), ("where is my order", "order_status")]).await;

    let out = run(switchboard(&database, &intents).args(["intents", "export"]));
    assert!(out.contains("1 examples written") && out.contains("1 already there"), "{out}");
    let file = std::fs::read_to_string(intents.join("order_status.yaml")).unwrap();
    assert!(file.contains("  - \"waar blijft mijn pakket\"  # from review"), "{file}");
    let again = run(switchboard(&database, &intents).args(["intents", "export"]));
    assert!(again.contains("0 examples written"), "{again}");
    assert_eq!(std::fs::read_to_string(intents.join("order_status.yaml")).unwrap(), file, "nothing written twice");
    assert!(switchboard::intents::load_dir(&intents).is_ok(), "the files still load");
    store.close().await;
}
