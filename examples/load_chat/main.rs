//! Load generator for the chat path: many conversations, each sending a few shopper messages,
//! against running `switchboard serve --demo` instances on loopback (several share one
//! PostgreSQL database). Reports messages/s, reply latency percentiles and, from `/metrics`,
//! the time per stage; then checks that every acknowledged message is stored exactly once.
//!
//! With `--idle-streams N` it runs twice: phase A is the chat load alone; then N idle shoppers
//! open their event streams and hold them through phase B, the same load again, whose
//! throughput is reported as a share of A's. With `--agent-conversations K` (4 by default with
//! idle streams) the demo agent replies to K handed-off shoppers during the load, on the first
//! instance while their streams are on the second, and the tool reports how long a reply
//! takes to reach the shopper.
//!
//! cargo run --release --example load_chat -- URL[,URL...] [CONCURRENCY=16] [SECONDS=20] [OPTIONS]

mod agent;
mod chat;
mod idle;
mod metrics;
mod shopper;
mod sse;

use std::time::{Duration, Instant};

use chat::{ms, percentile};
use serde_json::Value;

const USAGE: &str = "usage: load_chat URL[,URL...] [CONCURRENCY=16] [SECONDS=20] [OPTIONS]
  URL                        a `switchboard serve --demo` base URL; several, comma-separated, for
                             instances sharing one PostgreSQL database (work is spread over them)
  --idle-streams N           phase A the chat load alone, then phase B with N idle shopper
                             streams held open; reports B's throughput as a share of A's
  --agent-conversations K    the demo agent replies to K handed-off shoppers during the load and
                             the tool times each reply to the shopper's stream (default 4 with
                             --idle-streams, else 0)
  --reply-every-ms MS        one agent reply every MS milliseconds, round-robin (default 50)
  --open-parallel P          idle conversations started and streams opened at once (default 64)";

/// Files the tool needs besides one per stream and connection.
const SPARE_FILES: usize = 256;

struct Options {
    bases: Vec<String>,
    concurrency: usize,
    seconds: u64,
    idle_streams: usize,
    agent_conversations: usize,
    reply_every: Duration,
    open_parallel: usize,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let (mut positional, mut idle, mut agents, mut every, mut parallel) = (Vec::new(), 0, None, 50, 64);
        while let Some(arg) = args.next() {
            let mut value = |name: &str| -> Result<u64, String> {
                let v = args.next().ok_or(format!("{name} needs a number"))?;
                v.parse().map_err(|_| format!("{name}: `{v}` is not a whole number"))
            };
            match arg.as_str() {
                "--idle-streams" => idle = value(&arg)? as usize,
                "--agent-conversations" => agents = Some(value(&arg)? as usize),
                "--reply-every-ms" => every = value(&arg)?.max(1),
                "--open-parallel" => parallel = value(&arg)?.max(1) as usize,
                "-h" | "--help" => return Err(String::new()),
                a if a.starts_with("--") => return Err(format!("unknown option {a}")),
                _ => positional.push(arg),
            }
        }
        let first = positional.first().map_or("http://127.0.0.1:8080", String::as_str);
        Ok(Self {
            bases: first
                .split(',')
                .map(|b| b.trim().trim_end_matches('/').to_string())
                .filter(|b| !b.is_empty())
                .collect(),
            concurrency: positional.get(1).and_then(|a| a.parse().ok()).unwrap_or(16),
            seconds: positional.get(2).and_then(|a| a.parse().ok()).unwrap_or(20).min(300),
            idle_streams: idle,
            agent_conversations: agents.unwrap_or(if idle > 0 { 4 } else { 0 }),
            reply_every: Duration::from_millis(every),
            open_parallel: parallel,
        })
    }

    /// Open files at once: streams, the chat workers' connections, the agent's, and spares.
    fn files_needed(&self) -> usize {
        self.idle_streams + self.open_parallel + self.concurrency + 2 * self.agent_conversations + SPARE_FILES
    }
}

/// Raises the soft open-file limit to the hard one; an error when even that is too few.
fn raise_open_files(needed: usize) -> Result<u64, String> {
    let limit =
        rlimit::increase_nofile_limit(u64::MAX).map_err(|e| format!("could not raise the open-file limit: {e}"))?;
    if limit < needed as u64 {
        let hard = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(limit, |(_, hard)| hard);
        return Err(format!(
            "the open-file limit is {limit} (hard limit {hard}), too low for this run, which needs about {needed} \
             (one per stream and connection): raise the hard limit (`ulimit -Hn`, LimitNOFILE=, \
             /etc/security/limits.conf) or ask for fewer --idle-streams"
        ));
    }
    Ok(limit)
}

/// One run of the chat load, with the agent's replies and the servers' stage times.
struct Phase {
    chat: chat::Outcome,
    agent: Option<agent::Figures>,
    stages: String,
}

async fn run_phase(
    options: &Options,
    client: &reqwest::Client,
    token: &str,
    desk: Option<&agent::Desk>,
) -> Result<Phase, Box<dyn std::error::Error>> {
    let before = metrics::scrape(client, &options.bases).await;
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let replies = async {
        match desk {
            Some(desk) => Some(desk.run(deadline).await),
            None => None,
        }
    };
    let (chat, agent) = tokio::join!(chat::run(client, &options.bases, token, options.concurrency, deadline), replies);
    let stages = match (before, metrics::scrape(client, &options.bases).await) {
        (Ok(before), Ok(after)) => before.stages().report(&after.stages()),
        (Err(e), _) | (_, Err(e)) => format!("not available: {e}"),
    };
    Ok(Phase { chat: chat?, agent, stages })
}

fn print_phase(phase: &Phase, concurrency: usize, indent: &str) {
    let c = &phase.chat;
    println!(
        "{indent}{} shopper messages in {:.1} s over {} conversations, {concurrency} concurrent: {:.0} messages/s",
        c.latencies.len(),
        c.elapsed.as_secs_f64(),
        c.conversations.len(),
        c.messages_per_second()
    );
    println!(
        "{indent}reply latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; errors {}",
        ms(percentile(&c.latencies, 0.5)),
        ms(percentile(&c.latencies, 0.9)),
        ms(percentile(&c.latencies, 0.99)),
        ms(c.latencies.last().copied().unwrap_or_default()),
        c.errors
    );
    if let Some(a) = &phase.agent {
        println!(
            "{indent}agent replies reaching the shopper's stream: {} of {} posted, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
             {} failed, {} undelivered, {} late or repeated, {} stream reconnects",
            a.delivered.len(),
            a.posted,
            ms(percentile(&a.delivered, 0.5)),
            ms(percentile(&a.delivered, 0.99)),
            ms(a.delivered.last().copied().unwrap_or_default()),
            a.failed,
            a.undelivered,
            a.unexpected,
            a.reconnects
        );
        if let Some(e) = &a.first_error {
            println!("{indent}  first failed reply: {e}");
        }
    }
    println!("{indent}time per stage: {}", phase.stages);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options::parse(std::env::args().skip(1)).unwrap_or_else(|e| {
        if e.is_empty() {
            println!("{USAGE}");
            std::process::exit(0);
        }
        eprintln!("error: {e}\n{USAGE}");
        std::process::exit(2);
    });
    if let Err(e) = raise_open_files(options.files_needed()) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    let (bases, concurrency) = (&options.bases, options.concurrency);
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let identity: Value = client.get(format!("{}/api/v1/demo/identity", bases[0])).send().await?.json().await?;
    let token = identity["customer_token"].as_str().ok_or("the server must run with --demo")?.to_string();
    let desk = if options.agent_conversations > 0 {
        let shopper_base = &bases[1 % bases.len()];
        let desk = agent::open(&client, &bases[0], shopper_base, options.agent_conversations, options.reply_every)
            .await
            .map_err(|e| format!("setting up the agent's conversations: {e}"))?;
        Some(desk)
    } else {
        None
    };

    if options.idle_streams == 0 {
        let phase = run_phase(&options, &client, &token, desk.as_ref()).await?;
        print_phase(&phase, concurrency, "");
        return finish(&client, &[&phase], &[]).await;
    }

    println!("phase A, the chat load alone:");
    let a = run_phase(&options, &client, &token, desk.as_ref()).await?;
    print_phase(&a, concurrency, "  ");
    println!(
        "starting {} idle shoppers with their event streams, {} at a time:",
        options.idle_streams, options.open_parallel
    );
    let streams_client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(options.open_parallel)
        .build()?;
    let held = idle::open(&streams_client, bases, options.idle_streams, options.open_parallel).await;
    if let Some(reason) = &held.first_failure {
        println!("  {} could not be opened; the first: {reason}", held.failed);
    }
    println!("phase B, the chat load with {} idle streams held:", held.open_now());
    let b = run_phase(&options, &client, &token, desk.as_ref()).await?;
    print_phase(&b, concurrency, "  ");
    let server_count = metrics::scrape(&client, bases).await.map(|s| s.open_shopper_streams());

    let share = 100.0 * b.chat.messages_per_second() / a.chat.messages_per_second().max(1e-9);
    println!(
        "with {} idle streams the chat path kept {share:.1} % of its throughput ({:.0} vs {:.0} messages/s; target >= 85 %)",
        held.open_now(),
        b.chat.messages_per_second(),
        a.chat.messages_per_second()
    );
    if let (Some(ra), Some(rb)) = (&a.agent, &b.agent) {
        println!(
            "agent reply to shopper p99: {:.1} ms alone, {:.1} ms with the streams (target < 50 ms)",
            ms(percentile(&ra.delivered, 0.99)),
            ms(percentile(&rb.delivered, 0.99))
        );
    }
    println!(
        "idle streams held at the end of phase B: {} of {} ({} could not be opened, {} dropped{}); the servers count {}",
        held.open_now(),
        held.wanted,
        held.failed,
        held.dropped(),
        held.first_drop().map(|r| format!(", the first because {r}")).unwrap_or_default(),
        server_count.map_or_else(|e| format!("? ({e})"), |n| format!("{n:.0} open shopper streams"))
    );
    let mut trouble = Vec::new();
    if held.failed + held.dropped() > 0 {
        trouble.push(format!("{} idle streams not held", held.failed + held.dropped()));
    }
    finish(&client, &[&a, &b], &trouble).await
}

/// Checks that every acknowledged message of the phases is stored exactly once, and that every
/// agent reply arrived; exits 1 on any failure (with the `trouble` found before).
async fn finish(
    client: &reqwest::Client,
    phases: &[&Phase],
    trouble: &[String],
) -> Result<(), Box<dyn std::error::Error>> {
    let conversations: Vec<&chat::Written> = phases.iter().flat_map(|p| &p.chat.conversations).collect();
    let (lost, duplicated) = chat::check(client, &conversations).await?;
    println!("checked {} conversations: {lost} messages lost, {duplicated} duplicated", conversations.len());
    let mut trouble = trouble.to_vec();
    if lost + duplicated > 0 {
        trouble.push(format!("{lost} messages lost, {duplicated} duplicated"));
    }
    let undelivered: usize = phases.iter().filter_map(|p| p.agent.as_ref()).map(|a| a.undelivered).sum();
    if undelivered > 0 {
        trouble.push(format!("{undelivered} agent replies never reached their shopper's stream"));
    }
    if !trouble.is_empty() {
        println!("FAILED: {}", trouble.join("; "));
        std::process::exit(1);
    }
    Ok(())
}
