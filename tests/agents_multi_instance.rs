//! PostgreSQL only: two `switchboard serve --demo` processes on one database behave as one.
//! A shopper on instance A and an agent on instance B see each other's messages in real time
//! and in order; claims stay exclusive across instances; and after the listening connections
//! are killed (`pg_terminate_backend`) no message is missed. Prints the cross-instance
//! delivery latency.

#[path = "common/agents.rs"]
mod agents_support;
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use agents_support::{AgentClient, SseStream, percentile, reply_of, shopper_events, switchboard_bin};
use common::{Conv, Engine, Reply, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use switchboard::demo::{DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD};

/// A `switchboard serve --demo` process, killed when dropped.
struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the binary on 127.0.0.1:0 and reads its address from the banner on stdout.
    fn spawn(database_url: &str, log_dir: &std::path::Path, name: &str) -> Self {
        let log = log_dir.join(format!("{name}.log"));
        let mut child = switchboard_bin()
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--database", database_url])
            // One test client plays every shopper, as fast as it can.
            .args(["--rate-limit-per-address", "off", "--rate-limit-per-conversation", "off"])
            .env("SWITCHBOARD_DATABASE_URL", database_url)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("the switchboard binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent && let Some(rest) = line.split("http://").nth(1) {
                    let addr = rest.trim_end_matches('/').split('/').next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                    sent = true;
                }
                // Keep reading so the pipe never fills.
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("{name} printed no address; log:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
            }
        };
        Self { child, base: format!("http://{addr}"), log }
    }
}

async fn shopper_post(client: &reqwest::Client, base: &str, conv: &Conv, path: &str, body: &Value) -> Reply {
    reply_of(
        client
            .post(format!("{base}/api/v1/conversations/{}{path}", conv.id))
            .bearer_auth(&conv.token)
            .json(body)
            .send()
            .await
            .expect("request"),
    )
    .await
}

async fn start(client: &reqwest::Client, base: &str) -> Conv {
    let r = reply_of(client.post(format!("{base}/api/v1/conversations")).json(&json!({})).send().await.expect("start"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.raw);
    Conv {
        id: r.json["conversation_id"].as_str().unwrap().to_string(),
        token: r.json["conversation_token"].as_str().unwrap().to_string(),
        started: r.json,
    }
}

/// Waits for the shopper stream to carry the agent message `text` with `seq`; returns when.
async fn expect_on_shopper_stream(stream: &mut SseStream, seq: i64, text: &str, timeout: Duration) -> Instant {
    let (got, skipped) =
        stream.wait_for(timeout, |e| e.event == "message" && e.json()["seq"].as_i64() == Some(seq)).await;
    let got = got.unwrap_or_else(|| {
        panic!("message {seq} ({text}) did not reach the shopper on A within {timeout:?}; saw {skipped:?}")
    });
    assert_eq!(got.json()["text"], text);
    for e in &skipped {
        if e.event == "message" {
            let s = e.json()["seq"].as_i64().unwrap_or(0);
            assert!(s < seq, "out of order: {s} before {seq}");
        }
    }
    got.received
}

/// Waits for the agent stream to show the conversation at `seq` or later (or to ask for a
/// resync, after which the console re-reads the database).
async fn expect_on_agent_stream(
    stream: &mut SseStream,
    conversation_id: &str,
    seq: i64,
    timeout: Duration,
) -> (Instant, bool) {
    let (got, skipped) = stream
        .wait_for(timeout, |e| {
            e.event == "resync"
                || (e.event == "conversation"
                    && e.json()["conversation_id"] == conversation_id
                    && e.json()["seq"].as_i64().unwrap_or(0) >= seq)
        })
        .await;
    let got =
        got.unwrap_or_else(|| panic!("seq {seq} did not reach the agent on B within {timeout:?}; saw {skipped:?}"));
    (got.received, got.event == "resync")
}

fn summary(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name}: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        ms.len(),
        percentile(&ms, 50.0),
        percentile(&ms, 99.0),
        ms.last().copied().unwrap_or(f64::NAN)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_behave_as_one_and_survive_a_lost_listener() {
    let Some(db) = TestDb::new(Engine::Postgres).await else { return };
    let logs = tempfile::tempdir().expect("a folder");
    // One after the other, so the demo store is seeded once.
    let a = Server::spawn(&db.url, logs.path(), "A");
    let b = Server::spawn(&db.url, logs.path(), "B");
    println!("instance A {} (log {}), instance B {} (log {})", a.base, a.log.display(), b.base, b.log.display());
    let http = reqwest::Client::new();

    let agent = AgentClient::logged_in(&b.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let mut agent_stream = agent.events_ready().await;

    // The agent online on B counts as online on A too (presence is shared through the database).
    let admin_on_a = AgentClient::logged_in(&a.base, DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(6);
    while admin_on_a.get("/api/v1/agent/me").await.ok()["online_agents"] != 1 {
        assert!(Instant::now() < deadline, "A does not see the agent online on B after 6 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A hand-off on A reaches the agent's stream on B.
    let conv = start(&http, &a.base).await;
    let mut shopper = shopper_events(&a.base, &conv, None).await;
    let t = Instant::now();
    let handoff = shopper_post(&http, &a.base, &conv, "/handoff", &json!({})).await;
    assert_eq!(handoff.status, StatusCode::OK, "{}", handoff.raw);
    assert!(
        handoff.raw.contains("passing you to a member of our team") && !handoff.raw.contains("No one from our team"),
        "A must tell the shopper that somebody (on B) is online: {}",
        handoff.raw
    );
    let (got, skipped) = agent_stream
        .wait_for(Duration::from_secs(2), |e| {
            e.event == "conversation"
                && e.json()["conversation_id"] == conv.id.as_str()
                && e.json()["state"] == "queued"
        })
        .await;
    assert!(got.is_some(), "the hand-off on A did not reach B's agent stream; saw {skipped:?}");
    println!("hand-off on A -> agent stream on B: {:?}", t.elapsed());
    assert_eq!(agent.claim(&conv.id).await.status, StatusCode::OK);

    // Agent replies on B reach the shopper's stream on A, in order.
    let mut b_to_a = Vec::new();
    for i in 0..50 {
        let text = format!("agent reply {i}");
        let t = Instant::now();
        let r = agent.reply(&conv.id, &text).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
        let seq = r.json["message"]["seq"].as_i64().unwrap();
        let at = expect_on_shopper_stream(&mut shopper, seq, &text, Duration::from_secs(2)).await;
        b_to_a.push(at.duration_since(t).as_secs_f64() * 1000.0);
    }
    // Shopper messages on A reach the agent's stream on B.
    let mut a_to_b = Vec::new();
    let mut shopper_texts = Vec::new();
    for i in 0..50 {
        let text = format!("shopper message {i}");
        let t = Instant::now();
        let r = shopper_post(
            &http,
            &a.base,
            &conv,
            "/messages",
            &json!({"text": text, "client_message_id": format!("m-{i}")}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
        assert_eq!(r.json["replies"].as_array().unwrap().len(), 0, "the bot is silent: {}", r.raw);
        let seq = r.json["message"]["seq"].as_i64().unwrap();
        let (at, resync) = expect_on_agent_stream(&mut agent_stream, &conv.id, seq, Duration::from_secs(2)).await;
        assert!(!resync, "no resync expected while the listener is healthy");
        a_to_b.push(at.duration_since(t).as_secs_f64() * 1000.0);
        shopper_texts.push(text);
    }
    summary("cross-instance agent reply (POST on B) -> shopper stream on A", b_to_a);
    summary("cross-instance shopper message (POST on A) -> agent stream on B", a_to_b);
    let view = agent.view(&conv.id).await.ok();
    let seen: Vec<String> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender"] == "shopper")
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, shopper_texts, "B reads A's messages in order");

    // Claims stay exclusive across instances.
    for _ in 0..10 {
        let c = start(&http, &a.base).await;
        shopper_post(&http, &a.base, &c, "/handoff", &json!({})).await;
        let (x, y) = tokio::join!(agent.claim(&c.id), admin_on_a.claim(&c.id));
        let mut statuses = [x.status, y.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", x.raw, y.raw);
    }

    // Kill both instances' listening connections, then write at once: nothing is missed.
    let mut pg = sqlx::PgConnection::connect(&db.url).await.expect("a connection");
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut pg)
    .await
    .expect("terminate");
    assert!(killed.len() >= 2 && killed.iter().all(|k| *k), "both listeners found and killed: {killed:?}");
    let mut after_kill = Vec::new();
    for i in 0..20 {
        let text = format!("after the kill {i}");
        let r = agent.reply(&conv.id, &text).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
        after_kill.push((r.json["message"]["seq"].as_i64().unwrap(), text));
    }
    let t = Instant::now();
    for (seq, text) in &after_kill {
        expect_on_shopper_stream(&mut shopper, *seq, text, Duration::from_secs(10)).await;
    }
    println!(
        "all {} replies sent right after the kill reached the shopper on A within {:?} of the last send",
        after_kill.len(),
        t.elapsed()
    );
    let mut last_seq = 0;
    let mut after_kill_texts = Vec::new();
    for i in 0..20 {
        let text = format!("shopper after the kill {i}");
        let r = shopper_post(
            &http,
            &a.base,
            &conv,
            "/messages",
            &json!({"text": text, "client_message_id": format!("k-{i}")}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
        last_seq = r.json["message"]["seq"].as_i64().unwrap();
        after_kill_texts.push(text);
    }
    expect_on_agent_stream(&mut agent_stream, &conv.id, last_seq, Duration::from_secs(10)).await;
    let view = agent.view(&conv.id).await.ok();
    let seen: Vec<String> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender"] == "shopper")
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert!(seen.ends_with(&after_kill_texts), "B reads every message sent after the kill, in order");

    // Both listeners come back, and delivery is as quick as before.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .fetch_one(&mut pg)
        .await
        .expect("count");
        if n >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the listeners did not reconnect");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut again = Vec::new();
    for i in 0..10 {
        let text = format!("after reconnect {i}");
        let t = Instant::now();
        let r = agent.reply(&conv.id, &text).await;
        let seq = r.json["message"]["seq"].as_i64().unwrap();
        let at = expect_on_shopper_stream(&mut shopper, seq, &text, Duration::from_secs(2)).await;
        again.push(at.duration_since(t).as_secs_f64() * 1000.0);
    }
    summary("after the listener reconnected: agent reply on B -> shopper stream on A", again);
    // The shopper's full history on A: every agent reply once, in order.
    let history = reply_of(
        http.get(format!("{}/api/v1/conversations/{}/messages?after=0", a.base, conv.id))
            .bearer_auth(&conv.token)
            .send()
            .await
            .expect("history"),
    )
    .await
    .ok();
    let agent_msgs: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender"] == "agent")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(agent_msgs.len(), 50 + 20 + 10);

    // The agent closes the console on B: A stops counting them online within seconds.
    drop(agent_stream);
    let deadline = Instant::now() + Duration::from_secs(8);
    while admin_on_a.get("/api/v1/agent/me").await.ok()["online_agents"] != 0 {
        assert!(Instant::now() < deadline, "A still sees the agent online 8 s after B's console closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = pg.close().await;
    drop(a);
    drop(b);
}
