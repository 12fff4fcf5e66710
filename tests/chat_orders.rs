//! Order answers over real HTTP for a signed-in shopper: order status from the store's data,
//! someone else's order number answered exactly like a missing one, and reorders that give one
//! cart link on the store (and create no order) however often "yes" arrives.

#[macro_use]
mod common;

use common::{TestApp, bot_text, bot_texts, new_cmid, quick_values};
use switchboard::config::StoreProfile;
use switchboard::demo::DEMO_CUSTOMER_ID;
use switchboard::domain::orders::{Availability, Order, OrderStatus, day, money};

on_both_engines!(
    signed_in_shopper_gets_status_carrier_and_tracking_link,
    signed_in_shopper_gets_a_named_order,
    another_customers_order_number_reveals_nothing,
    reorder_gives_one_cart_permalink_and_creates_no_order,
);

async fn order(app: &TestApp, number: &str) -> Order {
    app.store.order(number).await.expect("store").unwrap_or_else(|| panic!("demo order {number} exists"))
}

/// Every fact about `order` that must appear in a status answer.
fn assert_status_answer(text: &str, order: &Order) {
    assert!(text.contains(&format!("#{}", order.number)), "names the order: {text}");
    assert!(
        text.contains(order.status.customer_facing()),
        "customer-facing status {:?}: {text}",
        order.status.customer_facing()
    );
    assert!(
        !text.contains(order.status.name()) || !order.status.name().contains('_'),
        "no internal status name: {text}"
    );
    for item in &order.items {
        assert!(text.contains(&item.name), "item {}: {text}", item.name);
    }
    assert!(!order.shipments.is_empty(), "the demo order has a shipment");
    for s in &order.shipments {
        assert!(text.contains(&s.carrier), "carrier {}: {text}", s.carrier);
        assert!(text.contains(&s.tracking_url), "tracking link {}: {text}", s.tracking_url);
        assert!(s.tracking_url.starts_with("https://"));
    }
}

async fn signed_in_shopper_gets_status_carrier_and_tracking_link(app: &TestApp) {
    let order = order(app, "10001").await;
    assert_eq!(order.customer_id.as_deref(), Some(DEMO_CUSTOMER_ID));
    assert_eq!(order.status, OrderStatus::InTransit);

    let conv = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    let turn = app.send(&conv, "where is my order").await;
    assert_eq!(turn["state"], "bot", "{turn}");
    assert_eq!(turn["triage"]["decision"], "answer", "{turn}");
    assert_eq!(turn["triage"]["intents"][0]["intent"], "order_status");
    assert_eq!(turn["message"]["text"], "where is my order");
    let text = bot_text(&turn);
    assert_status_answer(&text, &order);
    assert_eq!(order.status.customer_facing(), "it's on its way.");
    let eta = order.shipments.iter().find_map(|s| s.estimated_delivery).expect("an estimate");
    assert!(text.contains(&day(eta)), "estimated delivery {}: {text}", day(eta));
    // Only the one open order is described.
    for other in ["#10002", "#10003", "#10004"] {
        assert!(!text.contains(other), "{other} in {text}");
    }

    // The decision was stored with the message, before the reply.
    let stored = app.stored_messages(&conv).await;
    let shopper = stored.iter().find(|m| m.text == "where is my order").expect("the shopper message is stored");
    let triage = shopper.triage.as_ref().expect("triage stored");
    assert_eq!(triage.decision.name(), "answer");
    assert_eq!(triage.intents[0].intent, "order_status");
    assert!(triage.intents.len() <= 3 && !triage.model_version.is_empty());
    assert!(
        stored.iter().any(|m| m.seq > shopper.seq && m.text.contains(&order.shipments[0].tracking_url)),
        "the reply is stored after the message"
    );
}

async fn signed_in_shopper_gets_a_named_order(app: &TestApp) {
    let delivered = order(app, "10002").await;
    assert_eq!(delivered.status, OrderStatus::Delivered);
    let conv = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    let turn = app.send(&conv, "what's the status of order #10002?").await;
    assert_eq!(turn["triage"]["intents"][0]["intent"], "order_status");
    let text = bot_text(&turn);
    assert_status_answer(&text, &delivered);
    let delivered_at = delivered.delivered_at.expect("delivered");
    assert!(text.contains(&format!("Delivered on {}", day(delivered_at))), "{text}");
    assert!(!text.contains("#10001"), "{text}");
}

/// The first demo order that belongs to a different customer and has a shipment.
async fn foreign_order(app: &TestApp) -> (Order, switchboard::domain::orders::Customer) {
    for n in 10005..=10200 {
        let o = order(app, &n.to_string()).await;
        if let Some(owner) = o.customer_id.clone()
            && owner != DEMO_CUSTOMER_ID
            && !o.shipments.is_empty()
        {
            let customer = app.store.customer(&owner).await.unwrap().unwrap();
            return (o, customer);
        }
    }
    panic!("the demo store has other customers' shipped orders");
}

async fn another_customers_order_number_reveals_nothing(app: &TestApp) {
    let (foreign, owner) = foreign_order(app).await;
    assert!(app.store.order("99999").await.unwrap().is_none());
    let mut secrets: Vec<String> = vec![
        owner.name.clone(),
        owner.email.clone(),
        foreign.email.clone(),
        foreign.shipping_address.clone(),
        money(foreign.total_cents, &foreign.currency),
        owner.id.clone(),
    ];
    for s in &foreign.shipments {
        secrets.extend([s.carrier.clone(), s.tracking_number.clone(), s.tracking_url.clone()]);
    }
    for i in &foreign.items {
        secrets.push(i.name.clone());
    }

    for template in [
        "where is order #{}",
        "what's the status of order {}",
        "order #{} again please",
        "has the refund for order #{} been paid",
        "can I get the invoice for order {}",
        "please cancel order #{}",
    ] {
        let mut outcomes = Vec::new();
        for number in [foreign.number.as_str(), "99999"] {
            // A fresh conversation each time, so the history is the same.
            let conv = app.start_signed_in(DEMO_CUSTOMER_ID).await;
            let text = template.replace("{}", number);
            let r = app.send_with(&conv, &text, None, &new_cmid()).await;
            assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.raw);
            for secret in &secrets {
                assert!(!r.raw.contains(secret.as_str()), "{text:?}: the response reveals {secret:?}: {}", r.raw);
            }
            // Nothing later in the conversation (events, GET messages) reveals it either.
            let all = app.messages(&conv, 0).await.to_string();
            for secret in &secrets {
                assert!(!all.contains(secret.as_str()), "{text:?}: {secret:?} in {all}");
            }
            let normalised: Vec<String> = bot_texts(&r.json).iter().map(|t| t.replace(number, "N")).collect();
            outcomes.push((
                normalised,
                quick_values(&r.json),
                r.json["state"].clone(),
                r.json["triage"]["decision"].clone(),
                r.json["verified"].clone(),
            ));
        }
        assert_eq!(
            outcomes[0], outcomes[1],
            "{template:?}: someone else's order must be answered exactly like a missing one"
        );
        let (texts, _, state, decision, _) = &outcomes[0];
        if decision == "answer" {
            assert!(texts.iter().any(|t| t.contains("couldn't find order #N")), "{template:?}: {texts:?}");
        }
        // Nothing for the other customer was handed to a person or changed.
        assert_ne!(state, "assigned");
    }
    // The foreign order is untouched and no reorder was created from it.
    assert_eq!(order(app, &foreign.number).await, foreign);
    assert!(app.store.orders_from_source(&foreign.number).await.unwrap().is_empty());
}

async fn reorder_gives_one_cart_permalink_and_creates_no_order(app: &TestApp) {
    let source = order(app, "10002").await;
    // Prices change after the order: the reorder uses today's price.
    let mut mug = app.store.products(&["SKU-MUG-CER".to_string()]).await.unwrap().remove(0);
    assert_eq!(mug.availability, Availability::InStock);
    let old_price = mug.price_cents;
    mug.price_cents = old_price + 150;
    app.store.upsert_products(std::slice::from_ref(&mug)).await.unwrap();
    let skus: Vec<String> = source.items.iter().map(|i| i.sku.clone()).collect();
    let products = app.store.products(&skus).await.unwrap();
    let available: Vec<_> = products.iter().filter(|p| p.availability == Availability::InStock).collect();
    let candle = products.iter().find(|p| p.sku == "SKU-CANDLE").expect("10002 has the candle");
    assert_eq!(candle.availability, Availability::Discontinued);
    assert_eq!(available.len(), 2);

    let conv = app.start_signed_in(DEMO_CUSTOMER_ID).await;
    let turn = app.send(&conv, "order #10002 again please").await;
    assert_eq!(turn["triage"]["intents"][0]["intent"], "reorder", "{turn}");
    let summary = bot_text(&turn);
    assert!(summary.contains("#10002"), "{summary}");
    let mut total = 0;
    for p in &available {
        let item = source.items.iter().find(|i| i.sku == p.sku).unwrap();
        let line =
            summary.lines().find(|l| l.contains(&p.name)).unwrap_or_else(|| panic!("{} listed: {summary}", p.name));
        assert!(line.contains(&money(p.price_cents, &p.currency)), "current price of {}: {line}", p.name);
        assert!(line.contains(&format!("{} ×", item.quantity)), "{line}");
        total += p.price_cents * item.quantity;
    }
    assert!(!summary.contains(&money(old_price, "GBP")), "the old mug price is not offered: {summary}");
    assert!(summary.contains(&money(total, "GBP")), "total: {summary}");
    let candle_line = summary
        .lines()
        .find(|l| l.contains(&candle.name))
        .unwrap_or_else(|| panic!("the discontinued candle is named: {summary}"));
    assert!(candle_line.contains("no longer sold") || candle_line.contains("unavailable"), "{candle_line}");
    assert!(
        !candle_line.contains(&money(candle.price_cents, "GBP")),
        "the candle is not priced as orderable: {candle_line}"
    );
    let quick = quick_values(&turn);
    assert!(quick.contains(&"confirm:yes".to_string()) && quick.contains(&"confirm:no".to_string()), "{quick:?}");
    // Nothing is placed before the yes.
    assert!(app.store.orders_from_source("10002").await.unwrap().is_empty());

    let yes_id = new_cmid();
    let first = app.send_with(&conv, "Yes, make the cart", Some("confirm:yes"), &yes_id).await;
    assert_eq!(first.status, reqwest::StatusCode::OK, "{}", first.raw);
    // No order is invented: the shopper gets a cart permalink on the store itself, with the
    // variants' ids and the quantities of the source order, at today's prices.
    assert!(app.store.orders_from_source("10002").await.unwrap().is_empty(), "no order is created here");
    let carts = app.store.cart_links_of(&conv.id).await.unwrap();
    assert_eq!(carts.len(), 1, "the conversation records the cart it gave");
    let cart = &carts[0];
    let expected: Vec<String> = source
        .items
        .iter()
        .filter_map(|i| {
            let p = available.iter().find(|p| p.sku == i.sku)?;
            Some(format!("{}:{}", p.listing.as_ref().expect("demo products are listed").variant_id, i.quantity))
        })
        .collect();
    let url = format!("{}/cart/{}", StoreProfile::default().store_url, expected.join(","));
    assert_eq!(cart.links.len(), 1);
    assert_eq!(cart.links[0].url, url);
    assert_eq!(cart.total_cents(), total);
    assert!(cart.items().all(|i| i.sku != "SKU-CANDLE"), "the discontinued candle is left out");
    let mug_line = cart.items().find(|i| i.sku == "SKU-MUG-CER").unwrap();
    assert_eq!(mug_line.unit_price_cents, old_price + 150);
    let done = bot_text(&first.json);
    assert!(done.contains(&url), "{done}");
    assert!(done.contains(&money(total, "GBP")), "{done}");
    assert!(done.contains(&candle.name), "the left-out candle is named: {done}");
    assert!(done.contains("Nothing is ordered until you check out"), "{done}");

    // Ten confirmations at once (double clicks, several tabs): still one cart, the same link.
    let mut handles = Vec::new();
    for _ in 0..10 {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/conversations/{}/messages", conv.id));
        let token = conv.token.clone();
        handles.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({
                    "text": "yes",
                    "client_message_id": new_cmid(),
                    "quick_reply": "confirm:yes",
                }))
                .send()
                .await
                .expect("request");
            let status = response.status();
            (status, response.text().await.unwrap())
        }));
    }
    for h in handles {
        let (status, body) = h.await.unwrap();
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(!body.contains("/cart/") || body.contains(&url), "only the one cart is ever given: {body}");
    }
    // A retried request (same client_message_id) gets the same answer and records nothing new.
    let retry = app.send_with(&conv, "Yes, make the cart", Some("confirm:yes"), &yes_id).await;
    assert_eq!(retry.status, reqwest::StatusCode::OK);
    assert_eq!(retry.raw, first.raw, "a retry returns the stored result");
    assert_eq!(app.store.cart_links_of(&conv.id).await.unwrap(), carts, "still exactly one cart");
    assert!(app.store.orders_from_source("10002").await.unwrap().is_empty());
}
