//! The store integration API (HMAC-signed bodies) and the operations endpoints, over real HTTP.

#[macro_use]
mod common;

use common::{Reply, TestApp, bot_text};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use switchboard::config::DEMO_STORE_API_SECRET;
use switchboard::demo::DEMO_CUSTOMER_ID;

on_both_engines!(
    signed_orders_are_upserted_and_answered_in_the_chat,
    unsigned_badly_signed_and_invalid_pushes_store_nothing,
    customers_and_products_are_upserted,
    health_readiness_and_metrics,
);

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(DEMO_STORE_API_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn push(app: &TestApp, path: &str, body: &[u8], signature: Option<&str>) -> Reply {
    let mut request = app.client.post(app.url(path)).header("content-type", "application/json").body(body.to_vec());
    if let Some(s) = signature {
        request = request.header("X-Switchboard-Signature", s);
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let raw = r.text().await.unwrap();
    let json = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Reply { status, headers, raw, json }
}

async fn push_signed(app: &TestApp, path: &str, body: &Value) -> Reply {
    let bytes = body.to_string().into_bytes();
    push(app, path, &bytes, Some(&sign(&bytes))).await
}

fn new_order(number: &str, status: &str) -> Value {
    let now = chrono::Utc::now().timestamp_millis();
    json!({
        "number": number,
        "customer_id": DEMO_CUSTOMER_ID,
        "email": "Alex.Morgan@example.com",
        "status": status,
        "placed_at": now - 86_400_000,
        "total_cents": 4500,
        "currency": "GBP",
        "shipping_address": "1 Test Street, London",
        "estimated_delivery": now + 86_400_000,
        "delivered_at": null,
        "items": [{"sku": "SKU-TOWEL", "name": "Linen Towel Set", "quantity": 1, "unit_price_cents": 4500}],
        "shipments": [{
            "carrier": "Evri",
            "tracking_number": "EV0000123456",
            "tracking_url": "https://www.evri.com/track/parcel/EV0000123456",
            "status": status,
            "shipped_at": now - 3_600_000,
            "estimated_delivery": now + 86_400_000,
            "delivered_at": null
        }],
        "refunds": []
    })
}

async fn signed_orders_are_upserted_and_answered_in_the_chat(app: &TestApp) {
    let r = push_signed(app, "/api/v1/store/orders", &new_order("20001", "out_for_delivery")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.json["upserted"], 1);
    let stored = app.store.order("20001").await.unwrap().expect("upserted");
    assert_eq!(stored.email, "alex.morgan@example.com", "emails are normalised");
    assert_eq!(stored.items.len(), 1);
    assert_eq!(stored.shipments[0].carrier, "Evri");

    let conv = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    let turn = app.send(&conv, "where is order #20001").await;
    let text = bot_text(&turn);
    assert!(text.contains("#20001"), "{text}");
    assert!(text.contains("out for delivery today"), "{text}");
    assert!(text.contains("Evri"), "{text}");
    assert!(text.contains("https://www.evri.com/track/parcel/EV0000123456"), "{text}");
    assert!(text.contains("Linen Towel Set"), "{text}");

    // An update replaces the order, with its shipments.
    let mut delivered = new_order("20001", "delivered");
    let now = chrono::Utc::now().timestamp_millis();
    delivered["delivered_at"] = json!(now);
    delivered["shipments"][0]["delivered_at"] = json!(now);
    let r = push_signed(app, "/api/v1/store/orders", &json!([delivered])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let stored = app.store.order("20001").await.unwrap().unwrap();
    assert_eq!(stored.status.name(), "delivered");
    assert_eq!(stored.shipments.len(), 1);
    let turn = app.send(&conv, "and where is order 20001 now?").await;
    let text = bot_text(&turn);
    assert!(text.contains("it has been delivered"), "{text}");
    assert!(text.contains("Delivered on"), "{text}");
}

async fn unsigned_badly_signed_and_invalid_pushes_store_nothing(app: &TestApp) {
    let before = app.write_counts().await;
    let body = new_order("20002", "shipped").to_string().into_bytes();
    let good = sign(&body);
    let mut tampered = body.clone();
    let at = tampered.len() - 3;
    tampered[at] ^= 1;
    let other_key = {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"not-the-store-api-secret").unwrap();
        mac.update(&body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    for (what, bytes, signature) in [
        ("no signature", body.clone(), None),
        ("an empty signature", body.clone(), Some(String::new())),
        ("a signature without sha256=", body.clone(), Some(good[7..].to_string())),
        ("not hex", body.clone(), Some("sha256=zz".to_string())),
        ("another key", body.clone(), Some(other_key)),
        ("a tampered body", tampered, Some(good.clone())),
        ("a truncated signature", body.clone(), Some(good[..good.len() - 2].to_string())),
    ] {
        let r = push(app, "/api/v1/store/orders", &bytes, signature.as_deref()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.raw);
        assert_eq!(r.json["error"]["code"], "unauthorized", "{what}");
        assert!(app.store.order("20002").await.unwrap().is_none(), "{what}");
    }
    // Signed but invalid: no items, a negative total, an unknown customer, bad JSON.
    let mut no_items = new_order("20003", "paid");
    no_items["items"] = json!([]);
    let mut negative = new_order("20004", "paid");
    negative["total_cents"] = json!(-5);
    let mut unknown_customer = new_order("20005", "paid");
    unknown_customer["customer_id"] = json!("cust_nobody");
    let mut unknown_field = new_order("20006", "paid");
    unknown_field["vip"] = json!(true);
    let mut bad_status = new_order("20007", "teleported");
    bad_status["status"] = json!("teleported");
    for (what, body) in [
        ("no items", no_items),
        ("a negative total", negative),
        ("an unknown customer", unknown_customer),
        ("an unknown field", unknown_field),
        ("an unknown status", bad_status),
        ("a good order next to a bad one", json!([new_order("20008", "paid"), {"number": "20009"}])),
    ] {
        let r = push_signed(app, "/api/v1/store/orders", &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", r.raw);
        assert!(r.json["error"]["message"].is_string(), "{what}");
    }
    let malformed = b"{\"number\": ".to_vec();
    let r = push(app, "/api/v1/store/orders", &malformed, Some(&sign(&malformed))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    assert_eq!(app.write_counts().await, before, "nothing was stored");
    for n in 20002..=20009 {
        assert!(app.store.order(&n.to_string()).await.unwrap().is_none());
    }
    // Over the body limit.
    let huge = json!({"number": "x".repeat(70 * 1024)}).to_string().into_bytes();
    let r = push(app, "/api/v1/store/orders", &huge, Some(&sign(&huge))).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.raw);
    assert!(r.json["error"]["code"].is_string(), "{}", r.raw);
}

async fn customers_and_products_are_upserted(app: &TestApp) {
    let r = push_signed(
        app,
        "/api/v1/store/customers",
        &json!({"id": "cust_9001", "email": "new.shopper@example.com", "name": "New Shopper"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let r = push_signed(
        app,
        "/api/v1/store/products",
        &json!([{"sku": "SKU-NEW", "name": "Brand New Thing", "price_cents": 999, "currency": "GBP", "availability": "in_stock"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let mut order = new_order("20010", "packed");
    order["customer_id"] = json!("cust_9001");
    order["email"] = json!("new.shopper@example.com");
    order["items"] = json!([{"sku": "SKU-NEW", "name": "Brand New Thing", "quantity": 2, "unit_price_cents": 999}]);
    order["shipments"] = json!([]);
    order["total_cents"] = json!(1998);
    let r = push_signed(app, "/api/v1/store/orders", &order).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);

    let conv = app.start_signed_in("cust_9001").await;
    let turn = app.send(&conv, "where is my order").await;
    let text = bot_text(&turn);
    assert!(text.contains("#20010"), "{text}");
    assert!(text.contains("packed and ready to ship"), "{text}");
    assert!(text.contains("2 × Brand New Thing"), "{text}");

    let bad =
        push_signed(app, "/api/v1/store/customers", &json!({"id": "cust_9002", "email": "not an email", "name": "X"}))
            .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.raw);
    assert!(app.store.customer("cust_9002").await.unwrap().is_none());
}

async fn health_readiness_and_metrics(app: &TestApp) {
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");

    let r = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ready: Value = r.json().await.unwrap();
    assert_eq!(ready["database"], "ok", "{ready}");
    assert_eq!(ready["status"], "ready", "{ready}");
    assert!(ready["model"].as_str().is_some_and(|m| !m.is_empty()), "{ready}");

    let conv = app.start(None).await;
    app.send(&conv, "what are your delivery options?").await;
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = r.text().await.unwrap();
    assert!(text.contains("switchboard_messages_total"), "{text}");
    let counted = text
        .lines()
        .filter(|l| l.starts_with("switchboard_messages_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>();
    assert!(counted >= 1.0, "{text}");
}
