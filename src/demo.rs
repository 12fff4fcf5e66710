//! The deterministic demo store: a small catalogue (some items out of stock or discontinued),
//! 50 customers and 200 orders in every state, with shipments, tracking links and refunds.
//! The same seed always gives the same store; dates are offsets from the day it is seeded.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::catalogue::ProductDetails;
use crate::domain::orders::{
    Availability, Customer, Listing, Order, OrderItem, OrderStatus, Platform, Product, Refund, RefundStatus, Shipment,
};
use crate::store::{Store, StoreError};

/// The demo shopper who signs in with a customer token.
pub const DEMO_CUSTOMER_ID: &str = "cust_0001";
pub const DEMO_CUSTOMER_NAME: &str = "Alex Morgan";
pub const DEMO_CUSTOMER_EMAIL: &str = "alex.morgan@example.com";
/// The demo guest's order and email.
pub const DEMO_GUEST_ORDER: &str = "10004";
pub const DEMO_GUEST_EMAIL: &str = "sam.guest@example.com";

/// Demo agent accounts (their password is public: demo mode only).
pub const DEMO_AGENT_EMAIL: &str = "agent@example.com";
pub const DEMO_ADMIN_EMAIL: &str = "admin@example.com";
pub const DEMO_AGENT_PASSWORD: &str = "demo-agent-pass";

const DAY: i64 = 24 * 60 * 60 * 1000;
const FIRST: [&str; 10] = ["Alex", "Jamie", "Priya", "Tom", "Chloe", "Mateo", "Aisha", "Lukas", "Mei", "Olivia"];
const LAST: [&str; 5] = ["Morgan", "Okafor", "Schmidt", "Rossi", "Nakamura"];
const CARRIERS: [(&str, &str); 4] = [
    ("DHL", "https://www.dhl.com/track?tracking-id="),
    ("UPS", "https://www.ups.com/track?tracknum="),
    ("DPD", "https://track.dpd.co.uk/parcels/"),
    ("Royal Mail", "https://www.royalmail.com/track-your-item#/tracking-results/"),
];

/// One variant of the demo catalogue: SKU, variant name, price, availability, product name,
/// size, colour, and days until an out-of-stock variant is expected back.
type DemoVariant = (
    &'static str,
    &'static str,
    i64,
    Availability,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
);

/// The variants demo orders are drawn from; more variants follow them in [`catalogue`].
const ORDERED_VARIANTS: usize = 18;

fn catalogue(now: i64) -> Vec<Product> {
    use Availability::{Discontinued, InStock, OutOfStock};
    let items: [DemoVariant; 31] = [
        ("SKU-TEE-WHT", "Organic Cotton Tee, white", 2200, InStock, "Organic Cotton Tee", None, Some("white"), None),
        ("SKU-TEE-BLK", "Organic Cotton Tee, black", 2200, InStock, "Organic Cotton Tee", None, Some("black"), None),
        ("SKU-JEAN-32", "Straight Leg Jeans, 32", 6900, InStock, "Straight Leg Jeans", Some("32"), None, None),
        ("SKU-HOOD-GRY", "Heavyweight Hoodie, grey", 5900, OutOfStock, "Heavyweight Hoodie", None, Some("grey"), None),
        ("SKU-SOCK-3", "Merino Socks, 3 pairs", 1800, InStock, "Merino Socks", None, None, None),
        ("SKU-MUG-CER", "Stoneware Mug", 1400, InStock, "Stoneware Mug", None, None, None),
        ("SKU-CANDLE", "Fig & Cedar Candle", 2600, Discontinued, "Fig & Cedar Candle", None, None, None),
        ("SKU-TOTE", "Canvas Tote Bag", 1600, InStock, "Canvas Tote Bag", None, None, None),
        ("SKU-BOTTLE", "Insulated Bottle, 750 ml", 2900, InStock, "Insulated Bottle", None, None, None),
        ("SKU-BEANIE", "Ribbed Beanie", 2000, OutOfStock, "Ribbed Beanie", None, None, Some(12)),
        ("SKU-SCARF", "Lambswool Scarf", 3900, InStock, "Lambswool Scarf", None, None, None),
        ("SKU-RUNNER-42", "Trail Runners, EU 42", 11900, InStock, "Trail Runners", Some("EU 42"), None, None),
        ("SKU-CAP", "Washed Cotton Cap", 2400, Discontinued, "Washed Cotton Cap", None, None, None),
        ("SKU-JOURNAL", "Dot Grid Journal", 1500, InStock, "Dot Grid Journal", None, None, None),
        ("SKU-PEN", "Brass Pen", 3200, InStock, "Brass Pen", None, None, None),
        ("SKU-TOWEL", "Linen Towel Set", 4500, InStock, "Linen Towel Set", None, None, None),
        ("SKU-PLANT", "Ceramic Planter", 2700, OutOfStock, "Ceramic Planter", None, None, None),
        ("SKU-GIFT-50", "Gift Card £50", 5000, InStock, "Gift Card £50", None, None, None),
        (
            "SKU-TEE-GRN",
            "Organic Cotton Tee, green",
            2200,
            OutOfStock,
            "Organic Cotton Tee",
            None,
            Some("green"),
            Some(14),
        ),
        ("SKU-JEAN-30", "Straight Leg Jeans, 30", 6900, InStock, "Straight Leg Jeans", Some("30"), None, None),
        ("SKU-JEAN-34", "Straight Leg Jeans, 34", 6900, OutOfStock, "Straight Leg Jeans", Some("34"), None, Some(6)),
        ("SKU-JEAN-36", "Straight Leg Jeans, 36", 6900, InStock, "Straight Leg Jeans", Some("36"), None, None),
        ("SKU-HOOD-NVY", "Heavyweight Hoodie, navy", 5900, InStock, "Heavyweight Hoodie", None, Some("navy"), None),
        ("SKU-RUNNER-40", "Trail Runners, EU 40", 11900, InStock, "Trail Runners", Some("EU 40"), None, None),
        ("SKU-RUNNER-41", "Trail Runners, EU 41", 11900, InStock, "Trail Runners", Some("EU 41"), None, None),
        ("SKU-RUNNER-43", "Trail Runners, EU 43", 11900, OutOfStock, "Trail Runners", Some("EU 43"), None, Some(9)),
        ("SKU-RUNNER-44", "Trail Runners, EU 44", 11900, InStock, "Trail Runners", Some("EU 44"), None, None),
        ("SKU-RUNNER-45", "Trail Runners, EU 45", 11900, OutOfStock, "Trail Runners", Some("EU 45"), None, None),
        ("SKU-RUNNER-46", "Trail Runners, EU 46", 11900, InStock, "Trail Runners", Some("EU 46"), None, None),
        ("SKU-LAMP", "Rattan Table Lamp", 6400, Discontinued, "Rattan Table Lamp", None, None, None),
        ("SKU-APRON", "Waxed Canvas Apron", 3400, InStock, "Waxed Canvas Apron", None, None, None),
    ];
    // The demo store runs on Shopify (ids made up): a reorder gives a Shopify cart permalink.
    let mut products: Vec<&str> = Vec::new();
    items
        .into_iter()
        .enumerate()
        .map(|(i, (sku, name, price, availability, product, size, colour, back_in_days))| Product {
            sku: sku.into(),
            name: name.into(),
            price_cents: price,
            currency: "GBP".into(),
            availability,
            product: Some(product.into()),
            size: size.map(str::to_string),
            colour: colour.map(str::to_string),
            restock_at: back_in_days.map(|d| now + d * DAY),
            details: details(product),
            updated_at: None,
            listing: Some(Listing {
                platform: Platform::Shopify,
                product_id: {
                    let index = products.iter().position(|p| *p == product).unwrap_or_else(|| {
                        products.push(product);
                        products.len() - 1
                    });
                    format!("{}", 8_100_000_000_u64 + index as u64)
                },
                variant_id: format!("{}", 4_200_000_000_u64 + i as u64),
            }),
        })
        .collect()
}

/// What the demo store says about some of its products (others have nothing, so questions
/// about them go to a person).
fn details(product: &str) -> ProductDetails {
    let text = |s: &str| Some(s.to_string());
    match product {
        "Trail Runners" => ProductDetails {
            material: text("A recycled mesh upper on a grippy rubber sole; no leather or other animal materials."),
            care: text(
                "Brush off dried mud and wipe them with a damp cloth. Please don't put them in the washing machine.",
            ),
            sizing: text("They come up about half a size small, so if you're between sizes, take the larger one."),
            compatibility: None,
        },
        "Organic Cotton Tee" => ProductDetails {
            material: text("100% organic cotton jersey, 180 g/m²."),
            care: text("Machine wash at 30 °C inside out, and dry it flat rather than in the tumble dryer."),
            sizing: text("A regular fit that is true to size; the model is 1.85 m tall and wears a medium."),
            compatibility: None,
        },
        "Straight Leg Jeans" => ProductDetails {
            material: text("Organic cotton denim with 2% elastane for a little stretch."),
            care: text("Wash cold, inside out, as rarely as you can, and hang them to dry."),
            sizing: text("Sizes are the waist in inches; every size has a 32-inch inside leg."),
            compatibility: None,
        },
        "Stoneware Mug" => ProductDetails {
            material: text("Glazed stoneware, made in Portugal. It holds 350 ml."),
            care: text("It's dishwasher and microwave safe."),
            sizing: None,
            compatibility: None,
        },
        "Insulated Bottle" => ProductDetails {
            material: text(
                "Double-walled stainless steel, free of BPA; it keeps drinks cold for 24 hours and hot for 12.",
            ),
            care: text("Hand wash only: the dishwasher damages the vacuum seal."),
            sizing: text("It's 26 cm tall and 7.5 cm across."),
            compatibility: text("It fits most car and bike cup holders, and the lid fits our other bottles."),
        },
        "Ribbed Beanie" => ProductDetails {
            material: text("Soft merino wool, knitted in Scotland."),
            care: text("Hand wash cool and dry it flat."),
            sizing: text("One size, with plenty of stretch."),
            compatibility: None,
        },
        _ => ProductDetails::default(),
    }
}

fn customers() -> Vec<Customer> {
    (0..50)
        .map(|i| {
            let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]);
            let email = if i == 0 {
                "alex.morgan@example.com".to_string()
            } else {
                format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i)
            };
            Customer { id: format!("cust_{:04}", i + 1), email, name: format!("{first} {last}"), updated_at: None }
        })
        .collect()
}

/// Statuses for the generated orders, cycled so every state appears many times.
const STATUSES: [OrderStatus; 11] = [
    OrderStatus::Ordered,
    OrderStatus::Paid,
    OrderStatus::Packed,
    OrderStatus::Shipped,
    OrderStatus::InTransit,
    OrderStatus::OutForDelivery,
    OrderStatus::Delivered,
    OrderStatus::DeliveryFailed,
    OrderStatus::Cancelled,
    OrderStatus::Refunded,
    OrderStatus::PartiallyRefunded,
];

fn order(
    number: u32,
    customer: Option<&Customer>,
    email: &str,
    status: OrderStatus,
    items: Vec<OrderItem>,
    now: i64,
    rng: &mut StdRng,
) -> Order {
    let age_days = match status {
        OrderStatus::Ordered | OrderStatus::Paid | OrderStatus::Packed => rng.random_range(0..2),
        OrderStatus::Shipped | OrderStatus::InTransit | OrderStatus::OutForDelivery | OrderStatus::DeliveryFailed => {
            rng.random_range(1..5)
        }
        _ => rng.random_range(6..90),
    };
    let placed_at = now - age_days * DAY - rng.random_range(0..DAY / 2);
    let total: i64 = items.iter().map(|i| i.unit_price_cents * i.quantity).sum();
    let shipped = status.in_delivery()
        || matches!(status, OrderStatus::Delivered | OrderStatus::Refunded | OrderStatus::PartiallyRefunded);
    let delivered_at =
        matches!(status, OrderStatus::Delivered | OrderStatus::Refunded | OrderStatus::PartiallyRefunded)
            .then(|| placed_at + 3 * DAY);
    let estimated = placed_at + 4 * DAY;
    let shipments = if shipped {
        let (carrier, base) = CARRIERS[number as usize % CARRIERS.len()];
        let tracking = format!("{}{:08}", &carrier[..1], rng.random_range(10_000_000..99_999_999));
        vec![Shipment {
            carrier: carrier.into(),
            tracking_url: format!("{base}{tracking}"),
            tracking_number: tracking,
            status: status.name().into(),
            shipped_at: Some(placed_at + DAY),
            estimated_delivery: Some(estimated),
            delivered_at,
            platform_id: None,
        }]
    } else {
        Vec::new()
    };
    let refunds = match status {
        OrderStatus::Refunded => vec![Refund {
            amount_cents: total,
            status: RefundStatus::Completed,
            reason: "returned".into(),
            created_at: placed_at + 6 * DAY,
            completed_at: Some(placed_at + 8 * DAY),
        }],
        OrderStatus::PartiallyRefunded => vec![Refund {
            amount_cents: items[0].unit_price_cents,
            status: if number.is_multiple_of(2) { RefundStatus::Processing } else { RefundStatus::Completed },
            reason: "one item returned".into(),
            created_at: placed_at + 6 * DAY,
            completed_at: (!number.is_multiple_of(2)).then_some(placed_at + 8 * DAY),
        }],
        _ => Vec::new(),
    };
    Order {
        number: number.to_string(),
        customer_id: customer.map(|c| c.id.clone()),
        email: email.into(),
        status,
        placed_at,
        total_cents: total,
        currency: "GBP".into(),
        shipping_address: format!("{} Market Street, London", 10 + number % 90),
        estimated_delivery: (!matches!(status, OrderStatus::Cancelled)).then_some(estimated),
        delivered_at,
        source_order_number: None,
        checkout_url: None,
        items,
        shipments,
        refunds,
        updated_at: None,
        origin: None,
    }
}

fn line(p: &Product, quantity: i64) -> OrderItem {
    OrderItem { sku: p.sku.clone(), name: p.name.clone(), quantity, unit_price_cents: p.price_cents }
}

/// The demo store's orders for a given "now".
pub fn orders(now: i64) -> (Vec<Product>, Vec<Customer>, Vec<Order>) {
    let mut rng = StdRng::seed_from_u64(1042);
    let products = catalogue(now);
    let ordered = &products[..ORDERED_VARIANTS];
    let customers = customers();
    let alex = &customers[0];
    let p = |sku: &str| products.iter().find(|p| p.sku == sku).expect("demo sku");
    let mut orders = vec![
        order(
            10001,
            Some(alex),
            &alex.email,
            OrderStatus::InTransit,
            vec![line(p("SKU-RUNNER-42"), 1), line(p("SKU-SOCK-3"), 2)],
            now,
            &mut rng,
        ),
        order(
            10002,
            Some(alex),
            &alex.email,
            OrderStatus::Delivered,
            vec![line(p("SKU-TEE-WHT"), 2), line(p("SKU-CANDLE"), 1), line(p("SKU-MUG-CER"), 1)],
            now,
            &mut rng,
        ),
        order(
            10003,
            Some(alex),
            &alex.email,
            OrderStatus::PartiallyRefunded,
            vec![line(p("SKU-SCARF"), 1), line(p("SKU-BEANIE"), 1)],
            now,
            &mut rng,
        ),
        order(
            10004,
            None,
            DEMO_GUEST_EMAIL,
            OrderStatus::Shipped,
            vec![line(p("SKU-BOTTLE"), 1), line(p("SKU-TOTE"), 1)],
            now,
            &mut rng,
        ),
    ];
    for n in 10005..=10200u32 {
        let status = STATUSES[(n as usize) % STATUSES.len()];
        let guest = n % 9 == 0;
        let customer = &customers[1 + (n as usize * 7) % 49];
        let count = rng.random_range(1..=3);
        let items =
            (0..count).map(|_| line(&ordered[rng.random_range(0..ordered.len())], rng.random_range(1..=2))).collect();
        let (owner, email) =
            if guest { (None, format!("guest{n}@example.com")) } else { (Some(customer), customer.email.clone()) };
        orders.push(order(n, owner, &email, status, items, now, &mut rng));
    }
    (products, customers, orders)
}

/// Seeds the demo store into an empty database; does nothing if customers already exist.
pub async fn seed(store: &Store) -> Result<bool, StoreError> {
    if store.customer_count().await? > 0 {
        return Ok(false);
    }
    let (products, customers, orders) = orders(crate::store::now_ms());
    store.import(&products, &customers, &orders).await?;
    let hash = crate::agents::password::hash(DEMO_AGENT_PASSWORD).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut tx = store.begin().await?;
    tx.create_agent(DEMO_AGENT_EMAIL, "Riley (demo agent)", &hash, false).await?;
    tx.create_agent(DEMO_ADMIN_EMAIL, "Sam (demo admin)", &hash, true).await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validation::{validate_customer, validate_order, validate_product};

    #[test]
    fn the_demo_store_is_deterministic_and_valid() {
        let (p1, c1, o1) = orders(1_700_000_000_000);
        let (_, _, o2) = orders(1_700_000_000_000);
        assert_eq!(o1, o2);
        assert_eq!((c1.len(), o1.len()), (50, 200));
        assert!(p1.iter().all(|p| validate_product(p).is_ok()));
        assert!(c1.iter().all(|c| validate_customer(c).is_ok()));
        for o in &o1 {
            validate_order(o).unwrap_or_else(|e| panic!("{}: {e}", o.number));
        }
    }

    #[test]
    fn every_status_and_availability_appears() {
        let (products, _, orders) = orders(1_700_000_000_000);
        for s in STATUSES {
            assert!(orders.iter().any(|o| o.status == s), "{s:?}");
        }
        for a in [Availability::InStock, Availability::OutOfStock, Availability::Discontinued] {
            assert!(products.iter().any(|p| p.availability == a));
        }
        assert!(orders.iter().any(|o| o.refunds.iter().any(|r| r.amount_cents < o.total_cents)), "a partial refund");
    }
}
