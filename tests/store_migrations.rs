//! A database written by an earlier version is migrated: its conversation events, stored as
//! strings such as `state:queued:sensitive`, become event objects, and a conversation an agent
//! released gets back the reason it was first queued for; resolved conversations get an outcome,
//! open hand-offs their row, and shopper messages their top intent and confidence in columns.

mod common;

use std::borrow::Cow;

use common::{Engine, TestDb, root};
use switchboard::domain::agent::AgentRef;
use switchboard::domain::conversation::Sender;
use switchboard::domain::events::{ConversationEvent, StateChange};
use switchboard::domain::insights::{DAY_MS, Window};
use switchboard::domain::outcome::{Outcome, Settled};
use switchboard::domain::triage::HandoffReason;
use switchboard::store::Store;

/// The schema before events were objects (migrations 1 to 3), with one released conversation.
async fn old_database(db: &TestDb) {
    sqlx::any::install_default_drivers();
    let (folder, url) = match db.engine {
        Engine::Sqlite => ("sqlite", format!("{}?mode=rwc", db.url)),
        Engine::Postgres => ("postgres", db.url.clone()),
    };
    let mut migrator = sqlx::migrate::Migrator::new(root().join("migrations").join(folder)).await.unwrap();
    migrator.migrations = Cow::Owned(migrator.migrations.iter().filter(|m| m.version < 4).cloned().collect());
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    migrator.run(&pool).await.unwrap();
    let statements = [
        "INSERT INTO agents (id, email, name, password_hash, is_admin, disabled, sessions_valid_after, created_at)
         VALUES ('a1', 'sam@example.com', 'Sam', 'x', 0, 0, 0, 0)",
        "INSERT INTO conversations (id, token_hash, state, handoff_reason, handoff_priority, queued_at, last_seq, created_at, updated_at)
         VALUES ('c1', 'h', 'queued', 'released', 2, 50, 7, 0, 0)",
        // Answered by the bot and resolved by an agent, from before outcomes were kept.
        "INSERT INTO conversations (id, token_hash, state, last_seq, created_at, updated_at)
         VALUES ('c2', 'h', 'resolved', 2, 0, 900)",
        "INSERT INTO messages (id, conversation_id, seq, sender, body, top_intents, decision, reason, model_version, created_at)
         VALUES ('n1', 'c2', 1, 'shopper', 'where is my parcel', '[{\"intent\":\"order_status\",\"confidence\":0.93}]', 'answer', 'confident', 'v1', 100)",
        "INSERT INTO messages (id, conversation_id, seq, sender, body, created_at) VALUES ('n2', 'c2', 2, 'bot', 'On its way', 101)",
        // Answered by the bot and left with it; and one the bot could not answer.
        "INSERT INTO conversations (id, token_hash, state, last_seq, created_at, updated_at) VALUES ('c3', 'h', 'bot', 2, 0, 0)",
        "INSERT INTO messages (id, conversation_id, seq, sender, body, decision, reason, created_at)
         VALUES ('p1', 'c3', 1, 'shopper', 'returns?', 'answer', 'confident', 200)",
        "INSERT INTO messages (id, conversation_id, seq, sender, body, created_at) VALUES ('p2', 'c3', 2, 'bot', 'Within 30 days', 201)",
        "INSERT INTO conversations (id, token_hash, state, last_seq, created_at, updated_at) VALUES ('c4', 'h', 'bot', 1, 0, 0)",
        "INSERT INTO messages (id, conversation_id, seq, sender, body, decision, reason, created_at)
         VALUES ('q1', 'c4', 1, 'shopper', 'hmm', 'clarify', 'low_confidence', 300)",
    ];
    for sql in statements {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    let messages = [
        ("shopper", "I will take you to court, state:queued:nonsense"),
        ("event", "state:queued:sensitive"),
        ("event", "state:assigned:Sam"),
        ("event", "state:queued:released"),
        ("event", "state:bot"),
        ("event", "state:queued:low_confidence"),
        ("event", "state:resolved"),
    ];
    for (seq, (sender, body)) in messages.iter().enumerate() {
        sqlx::query("INSERT INTO messages (id, conversation_id, seq, sender, body, created_at) VALUES ($1, 'c1', $2, $3, $4, 0)")
            .bind(format!("m{seq}"))
            .bind(seq as i64 + 1)
            .bind(*sender)
            .bind(*body)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
}

async fn old_events_become_objects_and_the_first_reason_comes_back(engine: Engine) {
    let Some(db) = TestDb::new(engine).await else { return };
    old_database(&db).await;
    let store = Store::connect(&db.url).await.expect("the store migrates the old database");

    let conversation = store.conversation("c1").await.unwrap().unwrap();
    assert_eq!(
        conversation.handoff.map(|h| h.reason),
        Some(HandoffReason::LowConfidence),
        "the latest hand-off's reason"
    );

    let messages = store.messages_after("c1", 0, true).await.unwrap();
    assert_eq!(messages[0].sender, Sender::Shopper);
    assert_eq!(messages[0].text, "I will take you to court, state:queued:nonsense", "shopper text is untouched");
    let nobody = || AgentRef { id: String::new(), name: String::new() };
    let sam = AgentRef { id: "a1".into(), name: "Sam".into() };
    let events: Vec<ConversationEvent> = messages[1..].iter().map(|m| m.event.clone().expect("an event")).collect();
    let expected: Vec<ConversationEvent> = vec![
        StateChange::Queued { reason: HandoffReason::Sensitive, released_by: None }.into(),
        StateChange::Assigned { agent: sam, auto: false, reassigned_by: None }.into(),
        StateChange::Queued { reason: HandoffReason::Sensitive, released_by: Some(nobody()) }.into(),
        StateChange::Bot { returned_by: nobody() }.into(),
        StateChange::Queued { reason: HandoffReason::LowConfidence, released_by: None }.into(),
        StateChange::Resolved { resolved_by: nobody() }.into(),
    ];
    assert_eq!(events, expected);
    assert!(messages[1..].iter().all(|m| m.text.is_empty()));

    // Outcomes: a resolved conversation counts as resolved by an agent at its last change, an
    // open hand-off gets its row, and shopper messages get their top intent and confidence.
    let resolved = store.conversation("c2").await.unwrap().unwrap();
    assert_eq!(resolved.outcome, Some(Settled { outcome: Outcome::AgentResolved, at: 900 }));
    assert!(resolved.got_answer);
    assert_eq!(resolved.last_message_at, Some(101));
    let outcome_of = |id: &'static str| {
        let store = store.clone();
        async move { store.conversation(id).await.unwrap().unwrap().outcome }
    };
    assert_eq!(outcome_of("c3").await, Some(Settled { outcome: Outcome::BotAssumed, at: 201 }));
    assert_eq!(outcome_of("c4").await, Some(Settled { outcome: Outcome::Abandoned, at: 300 }));
    let facts = store.insight_facts(Window { from: 0, to: DAY_MS }).await.unwrap();
    let mut started: Vec<(&str, i64)> = facts.conversations.iter().map(|c| (c.id.as_str(), c.started_at)).collect();
    started.sort();
    assert_eq!(started, [("c1", 0), ("c2", 100), ("c3", 200), ("c4", 300)]);
    assert_eq!(
        facts.handoffs.iter().map(|h| (h.conversation_id.as_str(), h.reason)).collect::<Vec<_>>(),
        [("c1", HandoffReason::LowConfidence)]
    );
    let counted: Vec<(&str, usize, u64)> = facts.messages.iter().map(|m| (m.intent.as_str(), m.bin, m.count)).collect();
    assert!(counted.contains(&("order_status", 9, 1)), "{counted:?}");
    store.close().await;
}

#[tokio::test]
async fn an_old_sqlite_database_is_migrated() {
    old_events_become_objects_and_the_first_reason_comes_back(Engine::Sqlite).await;
}

#[tokio::test]
async fn an_old_postgres_database_is_migrated() {
    old_events_become_objects_and_the_first_reason_comes_back(Engine::Postgres).await;
}
