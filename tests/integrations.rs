//! Shopify's and WooCommerce's webhooks over real HTTP, with the platforms' own documented
//! example payloads (`tests/fixtures/shopify`, `tests/fixtures/woocommerce`, sources in their
//! SOURCES.md): right and wrong signatures, repeats, deliveries out of order; then a shopper
//! asks about the order and gets its real status and tracking link, and a reorder gives a
//! Shopify cart permalink with the order's variant ids and quantities.

#[macro_use]
mod common;

use base64::Engine as _;
use common::{Engine, TestApp, bot_text, new_cmid, spawn_app_with};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::config::{Secret, StoreProfile};
use switchboard::domain::orders::{Availability, OrderStatus};

const SHOPIFY_SECRET: &str = "shopify-test-webhook-secret";
const WOO_SECRET: &str = "woocommerce-test-webhook-secret";

async fn app(engine: Engine) -> Option<TestApp> {
    spawn_app_with(engine, |c| {
        c.shopify_webhook_secret = Some(Secret::new(SHOPIFY_SECRET));
        c.woocommerce_webhook_secret = Some(Secret::new(WOO_SECRET));
    })
    .await
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    let app = super::app(crate::common::Engine::Sqlite).await.expect("SQLite always runs");
                    super::$name(&app).await;
                    app.shutdown().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    let Some(app) = super::app(crate::common::Engine::Postgres).await else { return };
                    super::$name(&app).await;
                    app.shutdown().await;
                }
            }
        )*
    };
}

on_both!(shopify_orders_fulfillments_refunds_and_products, woocommerce_orders_products_and_customers);

fn fixture(platform: &str, name: &str) -> Vec<u8> {
    std::fs::read(common::fixture(&format!("tests/fixtures/{platform}/{name}"))).expect("the fixture exists")
}

/// The base64 HMAC-SHA256 of the body, as both platforms sign.
fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

struct Answer {
    status: StatusCode,
    json: Value,
}

async fn shopify(app: &TestApp, topic: &str, delivery: &str, body: &[u8], signature: Option<String>) -> Answer {
    let mut request = app
        .client
        .post(app.url("/api/v1/integrations/shopify/webhooks"))
        .header("content-type", "application/json")
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Webhook-Id", delivery)
        .header("X-Shopify-Shop-Domain", "shop.example.myshopify.com")
        .body(body.to_vec());
    if let Some(s) = signature {
        request = request.header("X-Shopify-Hmac-Sha256", s);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    Answer { status, json: response.json().await.expect("every answer is JSON") }
}

/// A delivery signed with the right secret, answered 200.
async fn shopify_ok(app: &TestApp, topic: &str, body: &[u8]) -> Value {
    let a = shopify(app, topic, &new_cmid(), body, Some(sign(SHOPIFY_SECRET, body))).await;
    assert_eq!(a.status, StatusCode::OK, "{topic}: {}", a.json);
    a.json
}

async fn woo(app: &TestApp, topic: &str, delivery: &str, body: &[u8], signature: Option<String>) -> Answer {
    let mut request = app
        .client
        .post(app.url("/api/v1/integrations/woocommerce/webhooks"))
        .header("content-type", "application/json")
        .header("X-WC-Webhook-Topic", topic)
        .header("X-WC-Webhook-Delivery-ID", delivery)
        .header("X-WC-Webhook-Source", "https://shop.example.com/")
        .body(body.to_vec());
    if let Some(s) = signature {
        request = request.header("X-WC-Webhook-Signature", s);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    Answer { status, json: response.json().await.expect("every answer is JSON") }
}

async fn woo_ok(app: &TestApp, topic: &str, body: &[u8]) -> Value {
    let a = woo(app, topic, &new_cmid(), body, Some(sign(WOO_SECRET, body))).await;
    assert_eq!(a.status, StatusCode::OK, "{topic}: {}", a.json);
    a.json
}

async fn shopify_orders_fulfillments_refunds_and_products(app: &TestApp) {
    let product = fixture("shopify", "product.json");
    let order = fixture("shopify", "order.json");
    let before = app.write_counts().await;

    // Bad signatures write nothing: none, another secret's, not base64.
    for signature in [None, Some(sign("another-secret", &order)), Some("not base64!".to_string())] {
        let a = shopify(app, "orders/create", &new_cmid(), &order, signature).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.json);
        assert!(a.json["error"]["message"].as_str().unwrap().contains("X-Shopify-Hmac-Sha256"), "{}", a.json);
    }
    // A signature over a changed body is wrong too.
    let mut tampered = order.clone();
    tampered.extend_from_slice(b" ");
    let a = shopify(app, "orders/create", &new_cmid(), &tampered, Some(sign(SHOPIFY_SECRET, &order))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.write_counts().await, before, "refused deliveries write nothing");

    // An unknown topic is accepted and ignored.
    let a = shopify(app, "app/uninstalled", &new_cmid(), b"{}", Some(sign(SHOPIFY_SECRET, b"{}"))).await;
    assert_eq!((a.status, a.json["ignored"].clone()), (StatusCode::ACCEPTED, json!(true)), "{}", a.json);
    // A malformed order names the field and writes nothing.
    let mut broken: Value = serde_json::from_slice(&order).unwrap();
    broken["line_items"][1]["price"] = json!("free");
    let broken = serde_json::to_vec(&broken).unwrap();
    let a = shopify(app, "orders/create", &new_cmid(), &broken, Some(sign(SHOPIFY_SECRET, &broken))).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.json);
    assert!(a.json["error"]["message"].as_str().unwrap().contains("line_items[1].price"), "{}", a.json);
    assert_eq!(app.write_counts().await, before, "a malformed delivery writes nothing");

    // The catalogue: each variant with its Shopify ids.
    let done = shopify_ok(app, "products/create", &product).await;
    assert_eq!(done["upserted"], 4, "{done}");
    let skus: Vec<String> =
        ["IPOD2008PINK", "IPOD2008RED", "IPOD2008GREEN", "IPOD2008BLACK"].map(String::from).to_vec();
    let variants = app.store.products(&skus).await.unwrap();
    assert_eq!(variants.len(), 4);
    assert!(variants.iter().all(|v| v.availability == Availability::InStock && v.currency == "GBP"));
    let green = variants.iter().find(|v| v.sku == "IPOD2008GREEN").unwrap();
    assert_eq!(green.listing.as_ref().unwrap().variant_id, "39072856");
    assert_eq!((green.price_cents, green.colour.as_deref()), (19900, Some("Green")));

    // A fulfillment that arrives before its order has nothing to join yet.
    let fulfillment = fixture("shopify", "fulfillment_created.json");
    let early = shopify_ok(app, "fulfillments/create", &fulfillment).await;
    assert_eq!(early["unknown_orders"], 1, "{early}");

    // The order, then the same delivery again.
    let delivery = new_cmid();
    let signature = sign(SHOPIFY_SECRET, &order);
    let first = shopify(app, "orders/create", &delivery, &order, Some(signature.clone())).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["duplicate"], false);
    let stored = app.store.order("1001").await.unwrap().expect("order #1001 is stored");
    assert_eq!(stored.status, OrderStatus::PartiallyRefunded, "partially refunded, its only fulfillment failed");
    assert_eq!(stored.email, "bob.norman@mail.example.com");
    assert_eq!(stored.customer_id.as_deref(), Some("207119551"));
    assert_eq!((stored.total_cents, stored.currency.as_str()), (59894, "USD"));
    assert_eq!(
        stored.items.iter().map(|i| (i.sku.as_str(), i.quantity)).collect::<Vec<_>>(),
        [("IPOD2008GREEN", 1), ("IPOD2008RED", 1), ("IPOD2008BLACK", 1)]
    );
    assert_eq!(stored.refunds.iter().map(|r| r.amount_cents).collect::<Vec<_>>(), [20900]);
    let counts = app.write_counts().await;
    let again = shopify(app, "orders/create", &delivery, &order, Some(signature)).await;
    assert_eq!((again.status, again.json["duplicate"].clone()), (StatusCode::OK, json!(true)), "{}", again.json);
    assert_eq!(app.write_counts().await, counts, "a duplicate changes nothing");

    // The fulfillment again (Shopify retries, or sends the update): now it joins the order.
    let shipped = shopify_ok(app, "fulfillments/update", &fulfillment).await;
    assert_eq!(shipped["upserted"], 1, "{shipped}");
    let stored = app.store.order("1001").await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Shipped);
    let ups = &stored.shipments[0];
    assert_eq!((ups.carrier.as_str(), ups.tracking_number.as_str()), ("UPS", "1Z001985YW99744790"));
    // A late copy of the order as it was in 2008 does not roll it back.
    let late = shopify_ok(app, "orders/updated", &order).await;
    assert_eq!(late["stale"], 1, "the order is older than the stored one: {late}");
    assert_eq!(app.store.order("1001").await.unwrap().unwrap(), stored, "not rolled back");
    // A second refund joins the first, though the order changed after it; once, if sent twice.
    shopify_ok(app, "refunds/create", &fixture("shopify", "refund_created.json")).await;
    shopify_ok(app, "refunds/create", &fixture("shopify", "refund_created.json")).await;
    let refunds: Vec<i64> =
        app.store.order("1001").await.unwrap().unwrap().refunds.iter().map(|r| r.amount_cents).collect();
    assert_eq!(refunds, [20900, 4194]);
    shopify_ok(app, "customers/update", &fixture("shopify", "customer.json")).await;
    assert_eq!(app.store.customer("207119551").await.unwrap().unwrap().name, "Bob Norman");

    // The shopper asks: the real status and the carrier's tracking link.
    let conv = app.start(None).await;
    let verified = app.verify(&conv, "1001", "bob.norman@mail.example.com").await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.raw);
    let status = bot_text(&app.send(&conv, "where is my order #1001?").await);
    assert!(status.contains(OrderStatus::Shipped.customer_facing()), "{status}");
    assert!(status.contains(&ups.tracking_url) && status.contains("UPS"), "{status}");

    // "The same again": a cart permalink on the shop with the order's variants and quantities.
    let proposal = app.send(&conv, "order #1001 again please").await;
    assert_eq!(proposal["triage"]["intents"][0]["intent"], "reorder", "{proposal}");
    let cart = bot_text(&app.click(&conv, "Yes, make the cart", "confirm:yes").await);
    let link = format!("{}/cart/39072856:1,49148385:1,457924702:1", StoreProfile::default().store_url);
    assert!(cart.contains(&link), "{cart}");
    assert!(app.store.orders_from_source("1001").await.unwrap().is_empty(), "no order is invented");

    // Deleting the product: its variants are no longer sold (and stay known for past orders).
    let deleted = serde_json::to_vec(&json!({"id": 632910392})).unwrap(); // Shopify sends only the id.
    let gone = shopify_ok(app, "products/delete", &deleted).await;
    assert_eq!(gone["discontinued"], 4, "{gone}");
    let variants = app.store.products(&skus).await.unwrap();
    assert!(variants.iter().all(|v| v.availability == Availability::Discontinued), "{variants:?}");
    let again = app.start(None).await;
    app.verify(&again, "1001", "bob.norman@mail.example.com").await;
    let nothing = bot_text(&app.send(&again, "order #1001 again please").await);
    assert!(nothing.contains("no longer sold"), "{nothing}");

    // The fulfillment cancelled later (the documented fulfillment, its status and time changed
    // as Shopify's fulfillments/update would send them): its parcel leaves the order.
    let mut cancelled: Value = serde_json::from_slice(&fulfillment).unwrap();
    cancelled["status"] = json!("cancelled");
    cancelled["updated_at"] = json!("2025-04-02T12:00:00-05:00");
    shopify_ok(app, "fulfillments/update", &serde_json::to_vec(&cancelled).unwrap()).await;
    let order = app.store.order("1001").await.unwrap().unwrap();
    assert!(order.shipments.is_empty(), "{:?}", order.shipments);
    assert_ne!(order.status, OrderStatus::Shipped);
    // A deletion body carries only the id: a product body relabelled as a deletion is refused.
    let a = shopify(app, "products/delete", &new_cmid(), &product, Some(sign(SHOPIFY_SECRET, &product))).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.json);
}

async fn woocommerce_orders_products_and_customers(app: &TestApp) {
    let before = app.write_counts().await;
    // The set-up ping: unsigned, a form body.
    let ping = app
        .client
        .post(app.url("/api/v1/integrations/woocommerce/webhooks"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("webhook_id=17")
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), StatusCode::OK);
    let order = fixture("woocommerce", "order.json");
    let a = woo(app, "order.created", &new_cmid(), &order, Some(sign("wrong", &order))).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.json);
    let a = woo(app, "order.created", &new_cmid(), &order, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.json);
    let a = woo(app, "coupon.created", &new_cmid(), b"{}", Some(sign(WOO_SECRET, b"{}"))).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.json);
    let mut broken: Value = serde_json::from_slice(&order).unwrap();
    broken["line_items"][0]["quantity"] = json!("two");
    let broken = serde_json::to_vec(&broken).unwrap();
    let a = woo(app, "order.created", &new_cmid(), &broken, Some(sign(WOO_SECRET, &broken))).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.json);
    assert!(a.json["error"]["message"].as_str().unwrap().contains("line_items[0].quantity"), "{}", a.json);
    assert_eq!(app.write_counts().await, before, "the ping and refused deliveries write nothing");

    // A simple product and a variation, with the ids an add-to-cart link names.
    woo_ok(app, "product.created", &fixture("woocommerce", "product.json")).await;
    let simple = app.store.products(&["woocommerce-794".to_string()]).await.unwrap();
    assert_eq!(simple.len(), 1, "a product without a SKU is known by its id");
    assert_eq!((simple[0].price_cents, simple[0].availability), (2199, Availability::InStock));
    woo_ok(app, "product.updated", &fixture("woocommerce", "variation.json")).await;

    // The order, twice.
    let delivery = new_cmid();
    let signature = sign(WOO_SECRET, &order);
    let first = woo(app, "order.created", &delivery, &order, Some(signature.clone())).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    let stored = app.store.order("727").await.unwrap().expect("order 727 is stored");
    assert_eq!(stored.status, OrderStatus::Paid, "processing: paid and being prepared");
    assert_eq!(stored.email, "john.doe@example.com");
    assert_eq!(stored.customer_id, None, "a guest order");
    let counts = app.write_counts().await;
    let again = woo(app, "order.created", &delivery, &order, Some(signature)).await;
    assert_eq!(again.json["duplicate"], true, "{}", again.json);
    assert_eq!(app.write_counts().await, counts);

    // Completed later: shipped. The earlier state delivered late does not roll it back.
    woo_ok(app, "order.updated", &fixture("woocommerce", "order_updated_completed.json")).await;
    let completed = app.store.order("727").await.unwrap().unwrap();
    assert_eq!(completed.status, OrderStatus::Shipped);
    let late = woo_ok(app, "order.updated", &order).await;
    assert_eq!(late["stale"], 1, "{late}");
    assert_eq!(app.store.order("727").await.unwrap().unwrap().status, OrderStatus::Shipped);

    woo_ok(app, "customer.created", &fixture("woocommerce", "customer.json")).await;
    assert_eq!(app.store.customer("25").await.unwrap().unwrap().email, "john.doe@example.com");

    // The guest asks about it.
    let conv = app.start(None).await;
    let verified = app.verify(&conv, "727", "john.doe@example.com").await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.raw);
    let status = bot_text(&app.send(&conv, "where is my order?").await);
    assert!(status.contains("#727") && status.contains(OrderStatus::Shipped.customer_facing()), "{status}");
}
