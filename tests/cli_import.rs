//! `switchboard import FILE` and `switchboard token`, running the real binary against a fresh
//! database (SQLite, and PostgreSQL when `SWITCHBOARD_TEST_POSTGRES_URL` is set).

#[macro_use]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Engine, TestApp, TestDb};
use serde_json::{Value, json};
use switchboard::chat::IdentityKeys;
use switchboard::config::DEMO_IDENTITY_KEYS;
use switchboard::store::Store;

fn switchboard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.current_dir(common::root())
        .env_remove("SWITCHBOARD_DATABASE_URL")
        .env_remove("SWITCHBOARD_IDENTITY_KEYS")
        .env_remove("SWITCHBOARD_IDENTITY_KEYS_FILE")
        .env_remove("SWITCHBOARD_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn import(file: &Path, db: &TestDb) -> Output {
    switchboard().arg("import").arg(file).arg("--database").arg(&db.url).output().expect("the binary runs")
}

fn customer(id: &str, email: &str) -> Value {
    json!({"type": "customer", "id": id, "email": email, "name": "Imported Person"})
}

fn product(sku: &str) -> Value {
    json!({"type": "product", "sku": sku, "name": "Imported Lamp", "price_cents": 4200, "currency": "EUR", "availability": "in_stock"})
}

fn order(number: &str, customer: Option<&str>, email: &str) -> Value {
    json!({
        "type": "order", "number": number, "customer_id": customer, "email": email,
        "status": "shipped", "placed_at": 1_760_000_000_000_i64, "total_cents": 4200, "currency": "EUR",
        "estimated_delivery": null, "delivered_at": null,
        "items": [{"sku": "SKU-LAMP", "name": "Imported Lamp", "quantity": 1, "unit_price_cents": 4200}],
        "shipments": [{"carrier": "GLS", "tracking_number": "GLS123", "tracking_url": "https://gls.example/track/GLS123",
                       "status": "shipped", "shipped_at": 1_760_000_100_000_i64, "estimated_delivery": null, "delivered_at": null}]
    })
}

fn write_lines(dir: &Path, name: &str, rows: &[Value]) -> std::path::PathBuf {
    let path = dir.join(name);
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs an import scenario on one engine.
async fn import_scenario(engine: Engine) {
    let Some(db) = TestDb::new(engine).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let good_rows = vec![
        customer("imp_1", "imported.one@example.com"),
        product("SKU-LAMP"),
        order("30001", Some("imp_1"), "imported.one@example.com"),
        order("30002", None, "guest.imported@example.com"),
    ];

    // One bad row (an order without items, line 4) among good ones: nothing is imported.
    let mut bad_order = order("30003", Some("imp_1"), "imported.one@example.com");
    bad_order["items"] = json!([]);
    let mut rows = good_rows.clone();
    rows.insert(3, bad_order);
    let bad_file = write_lines(dir.path(), "bad.jsonl", &rows);
    let out = import(&bad_file, &db);
    assert!(!out.status.success(), "stdout: {}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:4", bad_file.display())), "names file:line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let store = Store::connect(&db.url).await.unwrap();
    for n in ["30001", "30002", "30003"] {
        assert!(store.order(n).await.unwrap().is_none(), "order {n}: {err}");
    }
    assert!(store.customer("imp_1").await.unwrap().is_none());
    assert_eq!(store.order_count().await.unwrap(), 0);

    // A malformed line and an unknown type are reported the same way.
    let mut text: String = good_rows.iter().map(|r| format!("{r}\n")).collect();
    text.push_str("{\"type\": \"order\", \"number\": \n");
    text.push_str("{\"type\": \"spaceship\"}\n");
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, text).unwrap();
    let out = import(&broken, &db);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:5", broken.display())), "{err}");
    assert!(err.contains(&format!("{}:6", broken.display())), "{err}");
    assert_eq!(store.order_count().await.unwrap(), 0);

    // An order whose customer is neither in the file nor in the database: nothing imported.
    let mut rows = good_rows.clone();
    rows.push(order("30004", Some("imp_missing"), "missing@example.com"));
    let orphan = write_lines(dir.path(), "orphan.jsonl", &rows);
    let out = import(&orphan, &db);
    assert!(!out.status.success(), "stdout: {}", stdout(&out));
    assert!(stderr(&out).contains("imp_missing"), "{}", stderr(&out));
    assert_eq!(store.order_count().await.unwrap(), 0);
    assert!(
        store.customer("imp_1").await.unwrap().is_none(),
        "no half import: the file's customers are not imported either"
    );
    assert!(
        store.products(&["SKU-LAMP".to_string()]).await.unwrap().is_empty(),
        "no half import: the file's products are not imported either"
    );

    // All good: imported, with items and shipments.
    let good = write_lines(dir.path(), "good.jsonl", &good_rows);
    let out = import(&good, &db);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 customers, 1 products, 2 orders"), "{}", stdout(&out));
    let o = store.order("30001").await.unwrap().expect("imported");
    assert_eq!(o.customer_id.as_deref(), Some("imp_1"));
    assert_eq!(o.items.len(), 1);
    assert_eq!(o.shipments[0].carrier, "GLS");
    assert!(store.order("30002").await.unwrap().is_some());
    assert_eq!(store.order_count().await.unwrap(), 2);
    // Importing again updates rather than duplicates.
    let out = import(&good, &db);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(store.order_count().await.unwrap(), 2);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_on_sqlite() {
    import_scenario(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_on_postgres() {
    import_scenario(Engine::Postgres).await;
}

on_both_engines!(the_printed_token_signs_the_shopper_in);

async fn the_printed_token_signs_the_shopper_in(app: &TestApp) {
    let out = switchboard().args(["token", "--customer", "cust_0001", "--demo"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    assert_eq!(token.lines().count(), 1, "one line: {token}");
    let keys = IdentityKeys::parse(DEMO_IDENTITY_KEYS).unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = keys.verify(&token, now).expect("the printed token verifies");
    assert_eq!(claims.customer_id, "cust_0001");
    assert!(claims.exp > now + 3600 && claims.exp <= now + 24 * 3600 + 60);
    // The server accepts it: a signed-in conversation for Alex.
    let conv = app.start(Some(&token)).await;
    assert_eq!(conv.started["verified"], true);
    let turn = app.send(&conv, "where is my order").await;
    assert!(common::bot_text(&turn).contains("#10001"), "{turn}");

    // Without --demo and without keys in the environment: a clear error, no token.
    let out = switchboard().args(["token", "--customer", "cust_0001"]).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("SWITCHBOARD_IDENTITY_KEYS"));
    assert!(stdout(&out).trim().is_empty());
}

fn import_from(platform: &str, files: &[std::path::PathBuf], db: &TestDb) -> Output {
    switchboard()
        .arg("import")
        .arg("--from")
        .arg(platform)
        .args(files)
        .arg("--database")
        .arg(&db.url)
        .output()
        .expect("the binary runs")
}

/// `import --from shopify|woocommerce`: the platforms' REST API pages (their documented
/// examples), all or nothing.
async fn platform_import_scenario(engine: Engine) {
    let Some(db) = TestDb::new(engine).await else {
        return;
    };
    let page = |platform: &str, name: &str| common::fixture(&format!("tests/fixtures/{platform}/{name}"));
    let shopify = [
        page("shopify", "products_page.json"),
        page("shopify", "customers_page.json"),
        page("shopify", "orders_page.json"),
    ];

    // A page that is not Shopify's, among good ones: nothing is imported.
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong.json");
    std::fs::write(&wrong, r##"{"orders": [{"id": 1, "name": "#1"}]}"##).unwrap();
    let out = import_from("shopify", &[shopify[0].clone(), wrong.clone()], &db);
    assert!(!out.status.success(), "stdout: {}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("wrong.json") && err.contains("nothing was imported"), "{err}");
    let store = Store::connect(&db.url).await.unwrap();
    assert!(store.catalogue().await.unwrap().iter().all(|p| p.listing.is_none()), "no product imported");

    let out = import_from("shopify", &shopify, &db);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("imported from shopify"), "{}", stdout(&out));
    let order = store.order("1001").await.unwrap().expect("the page's order #1001");
    assert_eq!(order.email, "bob.norman@mail.example.com");
    assert!(store.customer("207119551").await.unwrap().is_some());
    let variants = store.products(&["IPOD2008PINK".into(), "IPOD2009BLACK".into()]).await.unwrap();
    assert_eq!(variants.len(), 2);

    let woo = [
        page("woocommerce", "products_page.json"),
        page("woocommerce", "customers_page.json"),
        page("woocommerce", "orders_page.json"),
    ];
    let out = import_from("woocommerce", &woo, &db);
    assert!(out.status.success(), "{}", stderr(&out));
    let completed = store.order("723").await.unwrap().expect("order 723 of the page");
    assert_eq!(completed.status, switchboard::domain::orders::OrderStatus::Shipped);
    assert_eq!(completed.refunds.iter().map(|r| r.amount_cents).sum::<i64>(), 1900);
    assert!(store.customer("26").await.unwrap().is_some());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_import_on_sqlite() {
    platform_import_scenario(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_import_on_postgres() {
    platform_import_scenario(Engine::Postgres).await;
}
