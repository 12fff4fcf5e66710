//! Personal data over the real server: forgetting a customer through the store API and from
//! the command line, and the retention period, on SQLite and (when set) PostgreSQL.

#[macro_use]
mod common;
#[path = "common/agents.rs"]
mod agents_support;
#[path = "common/signing.rs"]
mod signing;

use std::time::Duration;

use agents_support::{AgentClient, switchboard_bin};
use common::{Conv, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use signing::{Headers, at, push_raw, push_signed};
use sqlx::{AnyPool, Row};
use switchboard::demo::{DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD};
use switchboard::domain::privacy::REDACTED;

on_both_engines!(
    forgetting_through_the_store_api_erases_the_customer_everywhere,
    forgetting_from_the_command_line_erases_the_customer_everywhere,
    retention_deletes_old_conversations_and_keeps_recent_ones,
);

/// A customer who signed in and chatted (with a hand-off and an agent's reply, and a message
/// labelled as a training example), and who also chatted as a guest verified by an order.
struct History {
    id: String,
    email: String,
    name: String,
    order: String,
    conversations: Vec<Conv>,
}

async fn customer_with_history(app: &TestApp, id: &str, order: &str) -> History {
    let email = format!("{id}.private@example.com");
    let name = format!("Quentin {}", id.replace('_', ""));
    let r = push_signed(
        app,
        "/api/v1/store/customers",
        &json!({"id": id, "email": email, "name": name, "updated_at": at(0)}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let order_json = json!({
        "number": order, "customer_id": id, "email": email, "status": "in_transit",
        "placed_at": chrono::Utc::now().timestamp_millis() - 86_400_000, "total_cents": 4500, "currency": "GBP",
        "shipping_address": format!("{name}, 7 Private Lane, London"), "estimated_delivery": null, "delivered_at": null,
        "checkout_url": format!("https://shop.example/checkout/{order}?email={email}"),
        "items": [{"sku": "SKU-TOWEL", "name": "Linen Towel Set", "quantity": 1, "unit_price_cents": 4500}],
        "shipments": [{"carrier": "Evri", "tracking_number": "EV999", "tracking_url": "https://evri.example/EV999",
                       "status": "in_transit", "shipped_at": null, "estimated_delivery": null, "delivered_at": null}],
        "refunds": [{"amount_cents": 500, "status": "completed", "reason": format!("{name} asked"), "created_at": 1, "completed_at": 2}],
        "updated_at": at(0)
    });
    let r = push_signed(app, "/api/v1/store/orders", &order_json).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);

    let signed_in = app.start_signed_in(id).await;
    let turn = app.send(&signed_in, &format!("where is order #{order}")).await;
    assert!(common::bot_text(&turn).contains(order), "{turn}");
    app.send(&signed_in, &format!("my email is {email}")).await;
    app.handoff(&signed_in).await;
    let agent = AgentClient::logged_in(&app.base, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD).await;
    assert_eq!(agent.claim(&signed_in.id).await.status, StatusCode::OK);
    assert_eq!(agent.reply(&signed_in.id, &format!("Hello {name}, I'm on it")).await.status, StatusCode::OK);
    let shopper_message =
        app.stored_messages(&signed_in).await.into_iter().find(|m| m.sender.name() == "shopper").unwrap();
    assert_eq!(agent.label(&shopper_message.id, "order_status").await.status, StatusCode::CREATED);

    let guest = app.start(None).await;
    let r = app.verify(&guest, order, &email).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    app.send(&guest, &format!("is order {order} on its way?")).await;
    History { id: id.into(), email, name, order: order.into(), conversations: vec![signed_in, guest] }
}

/// After forgetting: every message redacted, the email and name nowhere in the database, the
/// order still there with its number and total, and an audit row without the email.
async fn assert_forgotten(app: &TestApp, h: &History, actor: &str) {
    for conv in &h.conversations {
        let messages = app.stored_messages(conv).await;
        assert!(messages.iter().any(|m| m.text == REDACTED), "{messages:?}");
        for m in messages.iter().filter(|m| m.sender.name() != "event") {
            assert_eq!(m.text, REDACTED, "{m:?}");
        }
    }
    let pool = pool(app).await;
    let everything = database_text(&pool, app.db.engine).await;
    assert!(!everything.contains(&h.email), "the email is still stored");
    assert!(!everything.contains(&h.name.to_lowercase()), "the name is still stored");
    assert!(!everything.contains("private lane"), "the address is still stored");
    let order = app.store.order(&h.order).await.unwrap().expect("the order stays");
    assert_eq!((order.number.as_str(), order.total_cents, order.items.len()), (h.order.as_str(), 4500, 1));
    assert_eq!(order.status.name(), "in_transit");
    assert_eq!(order.refunds[0].amount_cents, 500);
    let customer = app.store.customer(&h.id).await.unwrap().expect("the row stays, emptied");
    assert_eq!((customer.name.as_str(), customer.email.as_str()), ("", ""));
    let audit = sqlx::query("SELECT actor, detail FROM audit_log WHERE action = 'customer_forgotten'")
        .fetch_all(&pool)
        .await
        .unwrap();
    let details: Vec<(String, String)> = audit.iter().map(|r| (r.get(0), r.get(1))).collect();
    let ours: Vec<_> = details.iter().filter(|(_, d)| d.contains(&format!("\"{}\"", h.id))).collect();
    assert!(!ours.is_empty(), "{details:?}");
    assert!(ours.iter().all(|(a, d)| a == actor && !d.contains(&h.email)), "{details:?}");
    let examples: i64 =
        scalar(&pool, "SELECT COUNT(*) FROM training_examples WHERE conversation_id = $1", &h.conversations[0].id)
            .await;
    assert_eq!(examples, 0);
    pool.close().await;
}

async fn forget_request(app: &TestApp, id: &str, body: &[u8]) -> common::Reply {
    push_raw(app, &format!("/api/v1/store/customers/{id}/forget"), body, &Headers::signed(body)).await
}

async fn forgetting_through_the_store_api_erases_the_customer_everywhere(app: &TestApp) {
    let h = customer_with_history(app, "cust_forget_api", "60001").await;
    let body = b"";
    let headers = Headers::signed(body);
    let path = format!("/api/v1/store/customers/{}/forget", h.id);
    let r = push_raw(app, &path, body, &headers).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.json["duplicate"], false);
    assert_eq!(r.json["conversations"], 2, "{}", r.raw);
    assert_eq!(r.json["orders_anonymised"], 1, "{}", r.raw);
    assert_eq!(r.json["training_examples_deleted"], 1, "{}", r.raw);
    assert!(r.json["messages_redacted"].as_i64().unwrap() >= 5, "{}", r.raw);
    assert_forgotten(app, &h, "store_api").await;

    // The same request again is a duplicate; a new request to forget succeeds and changes nothing.
    let again = push_raw(app, &path, body, &headers).await;
    assert_eq!((again.status, again.json["duplicate"].clone()), (StatusCode::OK, json!(true)), "{}", again.raw);
    assert_eq!(again.json["conversations"], 2);
    let twice = forget_request(app, &h.id, b"{}").await;
    assert_eq!(twice.status, StatusCode::OK, "{}", twice.raw);
    assert_eq!((twice.json["messages_redacted"].clone(), twice.json["duplicate"].clone()), (json!(0), json!(false)));

    let unknown = forget_request(app, "cust_nobody", b"").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.raw);
    assert_eq!(unknown.json["error"]["code"], "not_found");
    let fields = forget_request(app, &h.id, br#"{"everything": true}"#).await;
    assert_eq!(fields.status, StatusCode::BAD_REQUEST, "{}", fields.raw);
    let unsigned = push_raw(app, &path, b"", &Headers { signature: None, ..Headers::signed(b"") }).await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED, "{}", unsigned.raw);
}

async fn forgetting_from_the_command_line_erases_the_customer_everywhere(app: &TestApp) {
    let h = customer_with_history(app, "cust_forget_cli", "60002").await;
    let out = switchboard_bin()
        .args(["customer", "forget", &h.id, "--database", &app.db.url])
        .env_remove("SWITCHBOARD_DATABASE_URL")
        .output()
        .expect("the binary runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("forgot customer cust_forget_cli: 2 conversations"), "{stdout}");
    assert_forgotten(app, &h, "cli").await;

    let again = switchboard_bin().args(["customer", "forget", &h.id, "--database", &app.db.url]).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let unknown =
        switchboard_bin().args(["customer", "forget", "cust_nobody", "--database", &app.db.url]).output().unwrap();
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no customer with id \"cust_nobody\""), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

const DAY_MS: i64 = 86_400_000;

/// Makes a conversation look `days` old: its times, its messages' and idempotency records'.
async fn age(pool: &AnyPool, conv: &Conv, days: i64) {
    let then = chrono::Utc::now().timestamp_millis() - days * DAY_MS;
    for sql in [
        "UPDATE conversations SET created_at = $1, updated_at = $1, last_message_at = $1 WHERE id = $2",
        "UPDATE messages SET created_at = $1 WHERE conversation_id = $2",
        "UPDATE idempotency_records SET created_at = $1 WHERE conversation_id = $2",
    ] {
        sqlx::query(sql).bind(then).bind(&conv.id).execute(pool).await.unwrap();
    }
}

async fn retention_deletes_old_conversations_and_keeps_recent_ones(app: &TestApp) {
    let pool = pool(app).await;
    let (old, recent) = (app.start(None).await, app.start(None).await);
    for conv in [&old, &recent] {
        app.send(conv, "what are your delivery options?").await;
        app.handoff(conv).await;
    }
    age(&pool, &old, 40).await;
    age(&pool, &recent, 2).await;
    let p = switchboard::privacy::apply_retention(&app.store, Some(30)).await.unwrap();
    assert_eq!(p.conversations, 1, "{p:?}");
    assert!(p.messages >= 3, "{p:?}");
    assert_eq!(p.idempotency_records, 1, "the recent conversation's record is two days old: {p:?}");
    assert!(app.store.conversation(&old.id).await.unwrap().is_none());
    assert!(app.store.conversation(&recent.id).await.unwrap().is_some());
    for table in ["messages", "handoffs", "idempotency_records"] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE conversation_id = $1");
        assert_eq!(scalar(&pool, &sql, &old.id).await, 0, "{table}");
        assert!(table == "idempotency_records" || scalar(&pool, &sql, &recent.id).await > 0, "{table}");
    }
    let audit: Vec<String> = sqlx::query("SELECT detail FROM audit_log WHERE action = 'retention_applied'")
        .fetch_all(&pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(audit.len(), 1, "{audit:?}");
    let detail: Value = serde_json::from_str(&audit[0]).unwrap();
    assert_eq!((detail["conversations"].clone(), detail["retention_days"].clone()), (json!(1), json!(30)));

    // From the command line, for cron.
    let third = app.start(None).await;
    app.send(&third, "hello").await;
    age(&pool, &third, 10).await;
    let out = switchboard_bin().args(["prune", "--older-than-days", "7", "--database", &app.db.url]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("deleted 1 conversations"), "{stdout}");
    assert!(app.store.conversation(&third.id).await.unwrap().is_none());
    assert!(app.store.conversation(&recent.id).await.unwrap().is_some());

    // And by a server started with --retention-days, at start.
    let fourth = app.start(None).await;
    age(&pool, &fourth, 45).await;
    let mut config = common::server_config(&app.db.url);
    config.retention_days = Some(30);
    let server = switchboard::startup::Application::build(&config, Some(common::encoder())).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app.store.conversation(&fourth.id).await.unwrap().is_some() {
        assert!(tokio::time::Instant::now() < deadline, "the retention task did not run at start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), running).await;
    assert!(app.store.conversation(&recent.id).await.unwrap().is_some());
    pool.close().await;
}

async fn pool(app: &TestApp) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPool::connect(&app.db.url).await.expect("the test database")
}

async fn scalar(pool: &AnyPool, sql: &str, bind: &str) -> i64 {
    sqlx::query(sql).bind(bind).fetch_one(pool).await.unwrap().get(0)
}

/// Every value of every table (but the migrations' bookkeeping), as lower-case text.
async fn database_text(pool: &AnyPool, engine: common::Engine) -> String {
    let list = if engine == common::Engine::Sqlite {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    } else {
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()"
    };
    let tables: Vec<String> = sqlx::query(list).fetch_all(pool).await.unwrap().iter().map(|r| r.get(0)).collect();
    let mut text = String::new();
    for table in tables.iter().filter(|t| !t.starts_with("_sqlx")) {
        for row in sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(pool).await.unwrap() {
            for i in 0..row.len() {
                if let Ok(Some(s)) = row.try_get::<Option<String>, _>(i) {
                    text.push_str(&s);
                } else if let Ok(Some(b)) = row.try_get::<Option<Vec<u8>>, _>(i) {
                    text.push_str(&String::from_utf8_lossy(&b));
                }
                text.push('\n');
            }
        }
    }
    let text = text.to_lowercase();
    assert!(text.contains("linen towel set"), "the dump reads the tables");
    text
}
