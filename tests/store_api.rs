//! The store integration API (HMAC-signed requests) and the operations endpoints, over real HTTP.

#[macro_use]
mod common;
#[path = "common/signing.rs"]
mod signing;

use common::{TestApp, bot_text};
use reqwest::StatusCode;
use serde_json::{Value, json};
use signing::{Headers, at, new_delivery_id, now_secs, push_raw, push_signed, signature, signature_with};
use switchboard::demo::DEMO_CUSTOMER_ID;

on_both_engines!(
    signed_orders_are_upserted_and_answered_in_the_chat,
    unsigned_badly_signed_and_invalid_pushes_store_nothing,
    customers_and_products_are_upserted,
    health_readiness_and_metrics,
);

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
        "refunds": [],
        "updated_at": at(0)
    })
}

async fn signed_orders_are_upserted_and_answered_in_the_chat(app: &TestApp) {
    let r = push_signed(app, "/api/v1/store/orders", &new_order("20001", "out_for_delivery")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    assert_eq!(r.json["upserted"], 1);
    assert_eq!(r.json["stale"], 0);
    assert_eq!(r.json["duplicate"], false);
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
    let good = Headers::signed(&body);
    let (timestamp, delivery) = (good.timestamp.clone().unwrap(), good.delivery.clone().unwrap());
    let signed = good.signature.clone().unwrap();
    let mut tampered = body.clone();
    let at = tampered.len() - 3;
    tampered[at] ^= 1;
    let with = |f: &dyn Fn(&mut Headers)| {
        let mut h = good.clone();
        f(&mut h);
        h
    };
    let old_scheme = {
        use hmac::Mac;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(switchboard::config::DEMO_STORE_API_SECRET.as_bytes()).unwrap();
        mac.update(&body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let old = (now_secs() - 301).to_string();
    let future = (now_secs() + 600).to_string();
    // (what, body, headers, what the message must name)
    let cases: Vec<(&str, Vec<u8>, Headers, &str)> = vec![
        (
            "no headers",
            body.clone(),
            Headers { timestamp: None, delivery: None, signature: None },
            "X-Switchboard-Timestamp",
        ),
        ("no signature", body.clone(), with(&|h| h.signature = None), "missing X-Switchboard-Signature"),
        ("no timestamp", body.clone(), with(&|h| h.timestamp = None), "missing X-Switchboard-Timestamp"),
        ("no delivery id", body.clone(), with(&|h| h.delivery = None), "missing X-Switchboard-Delivery-Id"),
        (
            "an empty signature",
            body.clone(),
            with(&|h| h.signature = Some(String::new())),
            "TIMESTAMP.DELIVERY_ID.BODY",
        ),
        (
            "a signature without sha256=",
            body.clone(),
            with(&|h| h.signature = Some(signed[7..].to_string())),
            "sha256=",
        ),
        ("not hex", body.clone(), with(&|h| h.signature = Some("sha256=zz".into())), "wrong X-Switchboard-Signature"),
        (
            "another key",
            body.clone(),
            with(&|h| h.signature = Some(signature_with(b"not-the-store-api-secret", &timestamp, &delivery, &body))),
            "wrong X-Switchboard-Signature",
        ),
        ("a tampered body", tampered, good.clone(), "wrong X-Switchboard-Signature"),
        (
            "a truncated signature",
            body.clone(),
            with(&|h| h.signature = Some(signed[..signed.len() - 2].into())),
            "wrong",
        ),
        (
            "the old scheme (body only)",
            body.clone(),
            with(&|h| h.signature = Some(old_scheme.clone())),
            "TIMESTAMP.DELIVERY_ID.BODY",
        ),
        (
            "another delivery id than signed",
            body.clone(),
            with(&|h| h.delivery = Some(new_delivery_id())),
            "wrong X-Switchboard-Signature",
        ),
        (
            "a timestamp over five minutes old",
            body.clone(),
            Headers {
                signature: Some(signature(&old, &delivery, &body)),
                timestamp: Some(old.clone()),
                ..good.clone()
            },
            "seconds old",
        ),
        (
            "a timestamp ten minutes ahead",
            body.clone(),
            Headers {
                signature: Some(signature(&future, &delivery, &body)),
                timestamp: Some(future.clone()),
                ..good.clone()
            },
            "in the future",
        ),
        (
            "a timestamp that is not a number",
            body.clone(),
            with(&|h| h.timestamp = Some("2025-03-01T12:00:00Z".into())),
            "Unix time in seconds",
        ),
    ];
    for (what, bytes, headers, says) in cases {
        let r = push_raw(app, "/api/v1/store/orders", &bytes, &headers).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.raw);
        assert_eq!(r.json["error"]["code"], "unauthorized", "{what}");
        let message = r.json["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{what}: {message}");
        assert!(app.store.order("20002").await.unwrap().is_none(), "{what}");
    }
    for bad_id in [String::new(), "x".repeat(201)] {
        let r = push_raw(app, "/api/v1/store/orders", &body, &Headers::for_delivery(&bad_id, now_secs(), &body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
        assert_eq!(r.json["error"]["code"], "invalid_delivery_id", "{}", r.raw);
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
    let mut missing_updated_at = new_order("20011", "paid");
    missing_updated_at.as_object_mut().unwrap().remove("updated_at");
    let r = push_signed(app, "/api/v1/store/orders", &missing_updated_at).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.raw);
    assert!(r.json["error"]["message"].as_str().unwrap().contains("updated_at is required"), "{}", r.raw);
    let mut bad_updated_at = new_order("20012", "paid");
    bad_updated_at["updated_at"] = json!(1_760_000_000_000_i64);
    let r = push_signed(app, "/api/v1/store/orders", &bad_updated_at).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.raw);
    let malformed = b"{\"number\": ".to_vec();
    let r = push_raw(app, "/api/v1/store/orders", &malformed, &Headers::signed(&malformed)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.raw);
    assert_eq!(app.write_counts().await, before, "nothing was stored");
    for n in (20002..=20009).chain([20011, 20012]) {
        assert!(app.store.order(&n.to_string()).await.unwrap().is_none());
    }
    // Over the body limit.
    let huge = json!({"number": "x".repeat(70 * 1024)}).to_string().into_bytes();
    let r = push_raw(app, "/api/v1/store/orders", &huge, &Headers::signed(&huge)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.raw);
    assert!(r.json["error"]["code"].is_string(), "{}", r.raw);
}

async fn customers_and_products_are_upserted(app: &TestApp) {
    let r = push_signed(
        app,
        "/api/v1/store/customers",
        &json!({"id": "cust_9001", "email": "new.shopper@example.com", "name": "New Shopper", "updated_at": at(0)}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.raw);
    let r = push_signed(
        app,
        "/api/v1/store/products",
        &json!([{"sku": "SKU-NEW", "name": "Brand New Thing", "price_cents": 999, "currency": "GBP", "availability": "in_stock", "updated_at": at(0)}]),
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

    let bad = push_signed(
        app,
        "/api/v1/store/customers",
        &json!({"id": "cust_9002", "email": "not an email", "name": "X", "updated_at": at(0)}),
    )
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
