//! 20 agents racing to claim 50 queued conversations, on SQLite and PostgreSQL: every
//! conversation is claimed exactly once (one 200, the rest 409) and the database agrees.

#[macro_use]
mod common;
#[path = "common/agents.rs"]
mod agents_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use agents_support::{AgentClient, STRONG_PASSWORD, create_agent, queued_conversation};
use common::TestApp;
use reqwest::StatusCode;

on_both_engines!(twenty_agents_race_for_fifty_conversations);

const AGENTS: usize = 20;
const CONVERSATIONS: usize = 50;

async fn twenty_agents_race_for_fifty_conversations(app: &TestApp) {
    let mut ids = Vec::with_capacity(CONVERSATIONS);
    for _ in 0..CONVERSATIONS {
        ids.push(queued_conversation(app, None).await.0.id);
    }
    let mut agents = Vec::with_capacity(AGENTS);
    for i in 0..AGENTS {
        let a = create_agent(&app.store, &format!("racer{i}@example.com"), &format!("Racer {i}"), false).await;
        let client = AgentClient::logged_in(&app.base, &a.email, STRONG_PASSWORD).await;
        agents.push(Arc::new(client));
    }
    let ids = Arc::new(ids);
    let barrier = Arc::new(tokio::sync::Barrier::new(AGENTS));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        let (agent, ids, barrier) = (agent.clone(), ids.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            // Each agent walks the conversations from its own starting point, so every
            // conversation sees several agents at once.
            let mut order: Vec<usize> = (0..ids.len()).collect();
            order.rotate_left((i * 7) % ids.len());
            if i % 2 == 1 {
                order.reverse();
            }
            barrier.wait().await;
            let mut results = Vec::with_capacity(ids.len());
            for k in order {
                let r = agent.claim(&ids[k]).await;
                results.push((k, r.status, r.raw));
            }
            (agent.agent_id(), results)
        }));
    }
    let mut winners: HashMap<usize, Vec<String>> = HashMap::new();
    let mut conflicts = 0usize;
    let mut per_agent_wins = Vec::new();
    for task in tasks {
        let (agent_id, results) = task.await.expect("a racer");
        let mut wins = 0;
        for (k, status, raw) in results {
            match status {
                StatusCode::OK => {
                    winners.entry(k).or_default().push(agent_id.clone());
                    wins += 1;
                }
                StatusCode::CONFLICT => conflicts += 1,
                other => panic!("claim of conversation {k} by {agent_id}: unexpected {other} {raw}"),
            }
        }
        per_agent_wins.push(wins);
    }
    let elapsed = started.elapsed();
    let total = AGENTS * CONVERSATIONS;
    println!(
        "claim race ({:?}): {AGENTS} agents x {CONVERSATIONS} conversations = {total} claims in {elapsed:?} ({:.0} claims/s); {} won, {conflicts} got 409; wins per agent {per_agent_wins:?}",
        app.db.engine,
        total as f64 / elapsed.as_secs_f64(),
        winners.values().map(Vec::len).sum::<usize>(),
    );
    for k in 0..CONVERSATIONS {
        let w = winners.get(&k).cloned().unwrap_or_default();
        assert_eq!(w.len(), 1, "conversation {k} was claimed {} times: {w:?}", w.len());
    }
    assert_eq!(conflicts, total - CONVERSATIONS);
    // The database agrees: every conversation assigned, to its one winner, with one claim row.
    for (k, id) in ids.iter().enumerate() {
        let c = app.store.conversation(id).await.unwrap().expect("stored");
        assert_eq!(c.state.name(), "assigned");
        assert_eq!(c.assigned_agent.as_deref(), Some(winners[&k][0].as_str()), "conversation {k}");
        let claims = app.store.audit_count(id).await.unwrap().into_iter().filter(|(_, a)| a == "claim").count();
        assert_eq!(claims, 1, "conversation {k}: one audited claim");
    }
}
