//! Store API deliveries over real HTTP: a copy of a delivery changes nothing, an update older
//! than the stored one is skipped, a batch is all or nothing, and two identical deliveries
//! racing each other are applied once.

#[macro_use]
mod common;
#[path = "common/signing.rs"]
mod signing;

use common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use signing::{Headers, at, new_delivery_id, now_secs, push_delivery, push_raw, push_signed};

on_both_engines!(
    a_replayed_request_is_a_duplicate_and_changes_nothing,
    a_delivery_id_sent_again_with_a_new_body_is_a_duplicate,
    an_older_update_never_overwrites_a_newer_one,
    a_batch_with_one_invalid_item_writes_nothing,
    two_identical_deliveries_at_once_are_applied_once,
);

const HOUR: i64 = 3_600_000;

fn customer(id: &str, name: &str, updated_at: &str) -> Value {
    json!({"id": id, "email": format!("{id}@example.com"), "name": name, "updated_at": updated_at})
}

fn product(sku: &str, price_cents: i64, updated_at: &str) -> Value {
    json!({"sku": sku, "name": "Enamel Mug", "price_cents": price_cents, "currency": "GBP",
           "availability": "in_stock", "updated_at": updated_at})
}

fn order(number: &str, customer: &str, status: &str, carrier: &str, updated_at: &str) -> Value {
    json!({
        "number": number, "customer_id": customer, "email": format!("{customer}@example.com"), "status": status,
        "placed_at": 1_760_000_000_000_i64, "total_cents": 1200, "currency": "GBP",
        "estimated_delivery": null, "delivered_at": null,
        "items": [{"sku": "SKU-MUG", "name": "Enamel Mug", "quantity": 1, "unit_price_cents": 1200}],
        "shipments": [{"carrier": carrier, "tracking_number": "T1", "tracking_url": "https://track.example/T1",
                       "status": status, "shipped_at": null, "estimated_delivery": null, "delivered_at": null}],
        "updated_at": updated_at
    })
}

fn counts(r: &common::Reply) -> (i64, i64, bool) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    (r.json["upserted"].as_i64().unwrap(), r.json["stale"].as_i64().unwrap(), r.json["duplicate"].as_bool().unwrap())
}

async fn a_replayed_request_is_a_duplicate_and_changes_nothing(app: &TestApp) {
    let first = customer("cust_replay", "First Name", &at(-HOUR));
    let bytes = first.to_string().into_bytes();
    let headers = Headers::signed(&bytes);
    let r = push_raw(app, "/api/v1/store/customers", &bytes, &headers).await;
    assert_eq!(counts(&r), (1, 0, false));

    // The store changes the customer; then a captured copy of the first request is replayed
    // (inside the five minutes its timestamp allows).
    let newer = customer("cust_replay", "Second Name", &at(0));
    assert_eq!(counts(&push_signed(app, "/api/v1/store/customers", &newer).await), (1, 0, false));
    let before = app.write_counts().await;
    let r = push_raw(app, "/api/v1/store/customers", &bytes, &headers).await;
    assert_eq!(counts(&r), (1, 0, true), "answered as the first time, marked duplicate");
    assert_eq!(app.store.customer("cust_replay").await.unwrap().unwrap().name, "Second Name");
    assert_eq!(app.write_counts().await, before);
}

async fn a_delivery_id_sent_again_with_a_new_body_is_a_duplicate(app: &TestApp) {
    let delivery = new_delivery_id();
    let r =
        push_delivery(app, "/api/v1/store/products", &product("SKU-MUG", 1200, &at(-HOUR)), &delivery, now_secs() - 60)
            .await;
    assert_eq!(counts(&r), (1, 0, false));
    // The platform's retry of the same delivery, signed again later, with another body.
    let r = push_delivery(
        app,
        "/api/v1/store/products",
        &json!([product("SKU-MUG", 9900, &at(0)), product("SKU-OTHER", 100, &at(0))]),
        &delivery,
        now_secs(),
    )
    .await;
    assert_eq!(counts(&r), (1, 0, true));
    assert_eq!(app.store.products(&["SKU-MUG".into()]).await.unwrap()[0].price_cents, 1200);
    assert!(app.store.products(&["SKU-OTHER".into()]).await.unwrap().is_empty());
    // The same on another route: the id names the delivery, wherever it is sent.
    let r =
        push_delivery(app, "/api/v1/store/customers", &customer("cust_x", "X", &at(0)), &delivery, now_secs()).await;
    assert_eq!(r.json["duplicate"], true, "{}", r.raw);
    assert!(app.store.customer("cust_x").await.unwrap().is_none());
}

async fn an_older_update_never_overwrites_a_newer_one(app: &TestApp) {
    let (old, new) = (at(-HOUR), at(0));
    let r = push_signed(app, "/api/v1/store/customers", &json!([customer("cust_o", "New Name", &new)])).await;
    assert_eq!(counts(&r), (1, 0, false));
    let r = push_signed(app, "/api/v1/store/customers", &json!([customer("cust_o", "Old Name", &old)])).await;
    assert_eq!(counts(&r), (0, 1, false));
    let stored = app.store.customer("cust_o").await.unwrap().unwrap();
    assert_eq!(stored.name, "New Name");
    assert_eq!(stored.updated_at.map(switchboard::domain::orders::updated_at::format).as_deref(), Some(new.as_str()));

    assert_eq!(
        counts(&push_signed(app, "/api/v1/store/products", &product("SKU-MUG", 1500, &new)).await),
        (1, 0, false)
    );
    let r = push_signed(app, "/api/v1/store/products", &json!([product("SKU-MUG", 1000, &old)])).await;
    assert_eq!(counts(&r), (0, 1, false));
    assert_eq!(app.store.products(&["SKU-MUG".into()]).await.unwrap()[0].price_cents, 1500);

    let r = push_signed(app, "/api/v1/store/orders", &order("50001", "cust_o", "delivered", "DPD", &new)).await;
    assert_eq!(counts(&r), (1, 0, false));
    // The older order arrives late, in a batch with a new one: that one is written, the late one
    // is not, and neither are its shipments.
    let batch =
        json!([order("50001", "cust_o", "shipped", "Evri", &old), order("50002", "cust_o", "paid", "DPD", &old)]);
    assert_eq!(counts(&push_signed(app, "/api/v1/store/orders", &batch).await), (1, 1, false));
    let stored = app.store.order("50001").await.unwrap().unwrap();
    assert_eq!(stored.status.name(), "delivered");
    assert_eq!(stored.shipments[0].carrier, "DPD");
    assert!(app.store.order("50002").await.unwrap().is_some());
    // The same time again (a copy of the same change) is written: it changes nothing.
    let same = push_signed(app, "/api/v1/store/orders", &order("50001", "cust_o", "delivered", "DPD", &new)).await;
    assert_eq!(counts(&same), (1, 0, false));
}

async fn a_batch_with_one_invalid_item_writes_nothing(app: &TestApp) {
    let before = app.write_counts().await;
    let now = at(0);
    let mut no_time = customer("cust_b2", "B", &now);
    no_time.as_object_mut().unwrap().remove("updated_at");
    for (path, batch) in [
        ("/api/v1/store/customers", json!([customer("cust_b1", "A", &now), customer("cust_b2", "B", "not a time")])),
        ("/api/v1/store/customers", json!([customer("cust_b1", "A", &now), no_time])),
        ("/api/v1/store/customers", json!([customer("cust_b1", "A", &now), customer("", "B", &now)])),
        ("/api/v1/store/products", json!([product("SKU-B1", 100, &now), product("SKU-B2", -1, &now)])),
        ("/api/v1/store/orders", json!([order("50101", "cust_demo_none", "paid", "DPD", &now)])),
    ] {
        let r = push_signed(app, path, &batch).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {batch}: {}", r.raw);
        assert!(r.json["error"]["message"].is_string(), "{}", r.raw);
    }
    // An order batch whose second order names an unknown customer fails in the store, after the
    // first was written inside the transaction: rolled back with it.
    let r = push_signed(app, "/api/v1/store/customers", &customer("cust_b3", "C", &now)).await;
    assert_eq!(counts(&r), (1, 0, false));
    let before_orders = app.write_counts().await;
    let batch =
        json!([order("50102", "cust_b3", "paid", "DPD", &now), order("50103", "cust_nobody", "paid", "DPD", &now)]);
    let r = push_signed(app, "/api/v1/store/orders", &batch).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.raw);
    assert_eq!(r.json["error"]["code"], "unknown_customer", "{}", r.raw);
    assert!(app.store.order("50102").await.unwrap().is_none());
    assert_eq!(app.write_counts().await, before_orders);
    assert!(app.store.customer("cust_b1").await.unwrap().is_none());
    assert!(app.store.products(&["SKU-B1".into()]).await.unwrap().is_empty());
    let orders_before = before.iter().find(|(t, _)| t == "orders").unwrap().1;
    assert_eq!(app.store.order_count().await.unwrap(), orders_before);
}

async fn two_identical_deliveries_at_once_are_applied_once(app: &TestApp) {
    let r = push_signed(app, "/api/v1/store/customers", &customer("cust_race", "Racer", &at(-HOUR))).await;
    assert_eq!(counts(&r), (1, 0, false));
    for round in 0..5 {
        let number = format!("5020{round}");
        let body = json!([order(&number, "cust_race", "paid", "DPD", &at(0))]).to_string().into_bytes();
        let headers = Headers::signed(&body);
        let (a, b) = tokio::join!(
            push_raw(app, "/api/v1/store/orders", &body, &headers),
            push_raw(app, "/api/v1/store/orders", &body, &headers)
        );
        let mut answers = [counts(&a), counts(&b)];
        answers.sort_by_key(|c| c.2);
        assert_eq!(answers, [(1, 0, false), (1, 0, true)], "round {round}: exactly one applied");
        assert!(app.store.order(&number).await.unwrap().is_some());
    }
}
