//! The reliability suite: the real release binary as child processes, measured and asserted
//! on bad inputs, authorization, kill -9 crash safety on SQLite, a PostgreSQL outage and
//! flooding. `cargo test` runs the short version; `make reliability`
//! (`SWITCHBOARD_RELIABILITY=full`) the full one. Every check prints its figures
//! (`--nocapture` shows them).

#[path = "reliability/actors.rs"]
mod actors;
#[path = "reliability/authz.rs"]
mod authz;
#[path = "reliability/crash.rs"]
mod crash;
#[path = "reliability/fixture.rs"]
mod fixture;
#[path = "reliability/http.rs"]
mod http;
#[path = "reliability/routes.rs"]
mod routes;
#[path = "reliability/server.rs"]
mod server;

use server::{Server, sqlite_database};

/// How much each check does: the full suite or the short one `cargo test` runs.
struct Scale {
    name: &'static str,
    bad_requests: usize,
    kill_cycles: usize,
}

fn scale() -> Scale {
    match std::env::var("SWITCHBOARD_RELIABILITY").as_deref() {
        Ok("full") => Scale { name: "full", bad_requests: 2_000, kill_cycles: 20 },
        _ => Scale { name: "short", bad_requests: 300, kill_cycles: 3 },
    }
}

/// The checks measure latency and kill servers: one at a time, whatever the test threads.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn sqlite_server(dir: &tempfile::TempDir, extra: &[&str]) -> Server {
    let log = dir.path().join("server.log");
    Server::start(&sqlite_database(dir), extra, &log).await.unwrap_or_else(|e| panic!("{e}"))
}

fn print_list(title: &str, lines: &[String]) {
    if !lines.is_empty() {
        println!("    {title} ({}):", lines.len());
        for line in lines.iter().take(40) {
            println!("      {line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_has_no_unexpected_allows() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let server = sqlite_server(&dir, &[]).await;
    let started = std::time::Instant::now();
    let tally = authz::run(&server.base()).await;
    println!("[reliability/{}] authorization matrix ({:.1} s)", scale().name, started.elapsed().as_secs_f64());
    println!("    cases                 {:>6}", tally.cases);
    println!("    allowed as expected   {:>6}", tally.allowed);
    println!("    refused as expected   {:>6}", tally.refused);
    println!("    rate limited (429)    {:>6}", tally.rate_limited);
    println!("    unexpected allows     {:>6}", tally.unexpected_allows.len());
    println!("    unexpected refusals   {:>6}", tally.unexpected_refusals.len());
    println!("    other answers (5xx, odd 4xx, no answer) {}", tally.odd.len());
    print_list("UNEXPECTED ALLOWS", &tally.unexpected_allows);
    print_list("UNEXPECTED REFUSALS", &tally.unexpected_refusals);
    print_list("OTHER ANSWERS", &tally.odd);
    print_list("not called as an allowed caller", &tally.not_run);
    assert!(tally.cases >= 300, "only {} cases", tally.cases);
    assert!(tally.unexpected_allows.is_empty(), "unexpected allows: {:#?}", tally.unexpected_allows);
    assert!(tally.unexpected_refusals.is_empty(), "unexpected refusals: {:#?}", tally.unexpected_refusals);
    assert!(tally.odd.is_empty(), "other answers: {:#?}", tally.odd);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_and_duplicates_no_acknowledged_message() {
    let _serial = SERIAL.lock().await;
    let scale = scale();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut server = sqlite_server(&dir, &[]).await;
    let started = std::time::Instant::now();
    let report = crash::run(&mut server, scale.kill_cycles, 8, 4).await;
    println!("[reliability/{}] crash safety on SQLite ({:.1} s)", scale.name, started.elapsed().as_secs_f64());
    println!("    kill -9 cycles        {:>6}", report.cycles);
    println!("    acknowledged          {:>6}", report.acknowledged);
    println!("    retried sends         {:>6}", report.retries);
    println!("    lost                  {:>6}", report.lost.len());
    println!("    duplicated            {:>6}", report.duplicated.len());
    print_list("LOST", &report.lost);
    print_list("DUPLICATED", &report.duplicated);
    assert!(report.acknowledged > 0, "no message was acknowledged");
    assert!(report.lost.is_empty() && report.duplicated.is_empty(), "lost or duplicated messages");
}
