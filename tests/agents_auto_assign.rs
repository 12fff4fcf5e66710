//! Auto-assignment (`--auto-assign-cap N`, off by default), on SQLite and PostgreSQL:
//! nothing is assigned while nobody is online; queued conversations go to online agents in
//! turn, never more than the cap each; a freed slot is filled; every assignment is audited
//! once; the cap holds with two instances assigning on one PostgreSQL database; and with the
//! setting off, conversations stay in the queue.

#[path = "common/agents.rs"]
mod agents_support;
mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use agents_support::{AgentClient, STRONG_PASSWORD, create_agent, queued_conversation};
use common::{Engine, TestApp, encoder, server_config, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use switchboard::demo::{DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD};

const CAP: usize = 1;
/// Several assignment rounds (one a second) and the presence refresh.
const SETTLE: Duration = Duration::from_millis(2500);

async fn assigned_agent(app: &TestApp, id: &str) -> Option<String> {
    let conversation = app.store.conversation(id).await.expect("read").expect("exists");
    (conversation.state.name() == "assigned").then(|| conversation.assigned_agent.expect("an assigned agent"))
}

/// Waits until `id` is assigned, and says to whom.
async fn wait_assigned(app: &TestApp, id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        if let Some(agent) = assigned_agent(app, id).await {
            return agent;
        }
        assert!(Instant::now() < deadline, "{id} was not auto-assigned within 8 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn queued_conversations_go_to_online_agents_in_turn(app: &TestApp) {
    // Nobody online: a hand-off stays queued.
    let (first, _) = queued_conversation(app, None).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(assigned_agent(app, &first.id).await, None, "assigned with nobody online");

    create_agent(&app.store, "second@example.com", "Second Agent", false).await;
    let a = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let b = AgentClient::logged_in(&app.base, "second@example.com", STRONG_PASSWORD).await;
    let _a_online = a.events_ready().await;
    let _b_online = b.events_ready().await;
    let (second, _) = queued_conversation(app, None).await;
    let (third, _) = queued_conversation(app, None).await;

    // Two agents with room for one each: the two longest-waiting conversations, one each.
    let to_first = wait_assigned(app, &first.id).await;
    let to_second = wait_assigned(app, &second.id).await;
    let both: HashSet<String> = [to_first.clone(), to_second.clone()].into();
    assert_eq!(both, [a.agent_id(), b.agent_id()].into(), "one conversation each");
    tokio::time::sleep(SETTLE).await;
    assert_eq!(assigned_agent(app, &third.id).await, None, "the cap of {CAP} per agent was exceeded");

    // Each assignment is audited exactly once, by the system, naming the agent.
    for (conversation, agent) in [(&first.id, &to_first), (&second.id, &to_second)] {
        let audit = app.store.audit_count(conversation).await.expect("audit");
        let assignments: Vec<_> = audit.iter().filter(|(_, action)| action == "auto_assign").collect();
        assert_eq!(assignments.len(), 1, "{audit:?}");
        assert_eq!(assignments[0].0, "system:auto_assign");
        assert!(!agent.is_empty());
    }

    // The agent holding `first` resolves it: the third conversation fills that slot.
    let holder = if to_first == a.agent_id() { &a } else { &b };
    assert_eq!(holder.action(&first.id, "resolve").await.status, StatusCode::OK);
    assert_eq!(wait_assigned(app, &third.id).await, holder.agent_id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_assignment_on_sqlite() {
    let app = spawn_app_with(Engine::Sqlite, |c| c.auto_assign_cap = Some(CAP)).await.expect("SQLite always runs");
    queued_conversations_go_to_online_agents_in_turn(&app).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_assignment_on_postgres() {
    let Some(app) = spawn_app_with(Engine::Postgres, |c| c.auto_assign_cap = Some(CAP)).await else {
        return;
    };
    queued_conversations_go_to_online_agents_in_turn(&app).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_holds_with_two_instances_assigning() {
    let Some(app) = spawn_app_with(Engine::Postgres, |c| c.auto_assign_cap = Some(CAP)).await else {
        return;
    };
    // A second instance on the same database, also assigning.
    let mut config = server_config(&app.db.url);
    config.auto_assign_cap = Some(CAP);
    let second = switchboard::startup::Application::build(&config, Some(encoder())).await.expect("starts");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(second.run(async move {
        let _ = stopped.await;
    }));

    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let _online = agent.events_ready().await;
    let mut conversations = Vec::new();
    for _ in 0..4 {
        conversations.push(queued_conversation(&app, None).await.0);
    }
    wait_assigned(&app, &conversations[0].id).await;
    // Both instances see the agent online (presence is read every 2 s) and run rounds.
    tokio::time::sleep(SETTLE * 2).await;
    let mut assigned = 0;
    for c in &conversations {
        assigned += usize::from(assigned_agent(&app, &c.id).await.is_some());
    }
    assert_eq!(assigned, CAP, "one agent with a cap of {CAP} holds {assigned} conversations");

    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), second).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_setting_conversations_wait_to_be_claimed() {
    let app = spawn_app(Engine::Sqlite).await.expect("SQLite always runs");
    let a = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    let _online = a.events_ready().await;
    let (conv, _) = queued_conversation(&app, None).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(assigned_agent(&app, &conv.id).await, None);
    app.shutdown().await;
}
