//! The bot's words for order data, in the store's voice.

use crate::config::{StoreProfile, list_in_words};
use crate::domain::cart::Cart;
use crate::domain::catalogue::{ProductAspect, ProductGroup, VariantWish};
use crate::domain::countries;
use crate::domain::intent::Action;
use crate::domain::orders::{Availability, Order, OrderItem, Product, day, money};

/// The same words whether the order does not exist or is someone else's.
pub fn order_not_found(number: &str) -> String {
    format!(
        "I couldn't find order #{number} among your orders. Please check the number, or ask for a person if you think it's right."
    )
}

fn items_line(items: &[OrderItem]) -> String {
    let names: Vec<String> = items.iter().map(|i| format!("{} × {}", i.quantity, i.name)).collect();
    names.join(", ")
}

pub fn order_status(order: &Order) -> String {
    let mut lines =
        vec![format!("Order #{} (placed {}): {}", order.number, day(order.placed_at), order.status.customer_facing())];
    if !order.items.is_empty() {
        lines.push(format!("Items: {}.", items_line(&order.items)));
    }
    for s in &order.shipments {
        lines.push(match (s.tracking_number.is_empty(), s.tracking_url.is_empty()) {
            (false, false) => {
                format!("Carrier: {}, tracking number {}: {}", s.carrier, s.tracking_number, s.tracking_url)
            }
            (false, true) => format!("Carrier: {}, tracking number {}.", s.carrier, s.tracking_number),
            (true, false) => format!("Carrier: {}, tracking: {}", s.carrier, s.tracking_url),
            (true, true) => format!("Carrier: {}.", s.carrier),
        });
    }
    let delivered = order.delivered_at.or_else(|| order.shipments.iter().find_map(|s| s.delivered_at));
    let estimate = order.shipments.iter().find_map(|s| s.estimated_delivery).or(order.estimated_delivery);
    match (delivered, estimate) {
        (Some(d), _) => lines.push(format!("Delivered on {}.", day(d))),
        (None, Some(e)) if order.status.is_open() => lines.push(format!("Estimated delivery: {}.", day(e))),
        _ => {}
    }
    lines.join("\n")
}

pub fn open_orders(orders: &[&Order]) -> String {
    // Not "on the way": some may be unpaid or still being prepared.
    let mut lines = vec![format!("You have {} open orders:", orders.len())];
    for o in orders {
        let eta = o.shipments.iter().find_map(|s| s.estimated_delivery).or(o.estimated_delivery);
        let eta = eta.map(|e| format!(" (expected {})", day(e))).unwrap_or_default();
        let status = o.status.customer_facing().trim_end_matches('.');
        lines.push(format!("• #{}: {status}{eta}.", o.number));
    }
    lines.push("Tell me an order number for the details and tracking link.".into());
    lines.join("\n")
}

pub fn refund_status(order: &Order) -> String {
    if order.refunds.is_empty() {
        return format!(
            "There is no refund on order #{}. If you'd like to ask for one, I can pass you to our team.",
            order.number
        );
    }
    let mut lines = vec![format!("Refunds on order #{}:", order.number)];
    for r in &order.refunds {
        let state = match r.status {
            crate::domain::orders::RefundStatus::Requested => "requested, waiting for review".to_string(),
            crate::domain::orders::RefundStatus::Processing => {
                "being processed; it usually reaches your account within 5 working days".to_string()
            }
            crate::domain::orders::RefundStatus::Completed => {
                format!("paid back{}", r.completed_at.map(|d| format!(" on {}", day(d))).unwrap_or_default())
            }
            crate::domain::orders::RefundStatus::Rejected => "not approved".to_string(),
        };
        lines.push(format!("• {}: {state}", money(r.amount_cents, &order.currency)));
    }
    lines.join("\n")
}

pub fn invoice(order: &Order, profile: &StoreProfile) -> String {
    if order.status == crate::domain::orders::OrderStatus::AwaitingPayment {
        return format!("Order #{} isn't paid yet; the invoice is issued once payment is complete.", order.number);
    }
    format!(
        "Here is the invoice for order #{}: {}/account/orders/{}/invoice",
        order.number, profile.store_url, order.number
    )
}

pub fn change_requested(action: Action, order: &Order) -> String {
    match action {
        Action::CancelOrder => format!(
            "Order #{} hasn't shipped yet, so it can still be cancelled. I'm passing your request to our team with the order attached.",
            order.number
        ),
        _ => format!(
            "Order #{} hasn't shipped yet, so the address can still be changed. I'm passing your request to our team with the order attached.",
            order.number
        ),
    }
}

pub fn change_too_late(action: Action, order: &Order, profile: &StoreProfile) -> String {
    use crate::domain::orders::OrderStatus as S;
    let tracking = order
        .shipments
        .iter()
        .find(|s| !s.tracking_url.is_empty())
        .map(|s| format!(" You can follow it here: {}", s.tracking_url))
        .unwrap_or_default();
    match (action, order.status) {
        (_, S::Cancelled) => format!("Order #{} is already cancelled.", order.number),
        (_, S::Refunded | S::PartiallyRefunded) => {
            format!("Order #{} has already been refunded.", order.number)
        }
        (Action::CancelOrder, S::Delivered) => format!(
            "Order #{} has already been delivered, so it can't be cancelled. You can return it within {} days: {}",
            order.number, profile.return_window_days, profile.returns_url
        ),
        (Action::CancelOrder, _) => format!(
            "Order #{} has already shipped, so it can't be cancelled any more. Once it arrives you can return it within {} days: {}{tracking}",
            order.number, profile.return_window_days, profile.returns_url
        ),
        (_, S::Delivered) => {
            format!("Order #{} has already been delivered, so its address can't be changed.", order.number)
        }
        _ => format!(
            "Order #{} is already with the carrier, so we can't change the address any more. The carrier may let you redirect it.{tracking}",
            order.number
        ),
    }
}

pub fn reorder_summary(source: &Order, available: &[OrderItem], unavailable: &[(String, Availability)]) -> String {
    let mut lines = vec![format!("I can order these from #{} again at today's prices:", source.number)];
    for i in available {
        lines.push(format!("• {} × {}: {} each", i.quantity, i.name, money(i.unit_price_cents, &source.currency)));
    }
    let total: i64 = available.iter().map(|i| i.unit_price_cents * i.quantity).sum();
    lines.push(format!("Total: {}", money(total, &source.currency)));
    if !unavailable.is_empty() {
        lines.push(format!("Not available, so left out: {}.", unavailable_names(unavailable)));
    }
    lines.push("Shall I put these in a cart for you? You check out on our shop as usual.".into());
    lines.join("\n")
}

/// The cart link(s) for a reorder: one for a whole cart, or one per item where the store adds
/// items one at a time. Names what was left out.
pub fn cart_links(source: &Order, cart: &Cart, unavailable: &[(String, Availability)], first_time: bool) -> String {
    let total = money(cart.total_cents(), &source.currency);
    let mut lines = Vec::new();
    match cart.links.as_slice() {
        [one] => {
            let opening = if first_time { "Here's your cart" } else { "Here's your cart again" };
            lines.push(format!(
                "{opening} with the items from #{} ({total} at today's prices): {}",
                source.number, one.url
            ));
        }
        links => {
            let opening = if first_time { "Here are your items" } else { "Here are your items again" };
            lines.push(format!(
                "{opening} from #{} ({total} at today's prices). Each link adds one to your cart:",
                source.number
            ));
            for link in links {
                let names: Vec<String> = link.items.iter().map(|i| format!("{} × {}", i.quantity, i.name)).collect();
                lines.push(format!("• {}: {}", names.join(", "), link.url));
            }
        }
    }
    if !unavailable.is_empty() {
        lines.push(format!("Left out: {}.", unavailable_names(unavailable)));
    }
    if !cart.unlinkable.is_empty() {
        lines.push(format!(
            "I couldn't add {} to the link; you'll find it in our shop.",
            crate::config::list_in_words(&cart.unlinkable)
        ));
    }
    lines.push("Nothing is ordered until you check out.".into());
    lines.join("\n")
}

pub fn no_cart_link(source: &Order) -> String {
    format!(
        "I can't make a cart link for the items from #{} on this shop. A person from our team can put the order together with you.",
        source.number
    )
}

pub fn nothing_to_reorder(source: &Order, unavailable: &[(String, Availability)]) -> String {
    format!(
        "Sorry, none of the items from order #{} can be ordered right now: {}.",
        source.number,
        unavailable_names(unavailable)
    )
}

fn unavailable_names(unavailable: &[(String, Availability)]) -> String {
    let names: Vec<String> = unavailable
        .iter()
        .map(|(name, a)| match a {
            Availability::Discontinued => format!("{name} (no longer sold)"),
            _ => format!("{name} (out of stock)"),
        })
        .collect();
    names.join(", ")
}

/// A variant as a reply names it: its size and colour ("black, M"), else its own name.
fn variant_label(v: &Product) -> String {
    match (v.colour.as_deref(), v.size.as_deref()) {
        (Some(c), Some(s)) => format!("{c}, {s}"),
        (Some(c), None) => c.to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) => v.name.clone(),
    }
}

/// "£22.00", or "from £19.00" when the variants' prices differ.
fn price_of(variants: &[&Product]) -> String {
    let low = variants.iter().min_by_key(|v| v.price_cents).expect("at least one variant");
    let same = variants.iter().all(|v| v.price_cents == low.price_cents);
    let price = money(low.price_cents, &low.currency);
    if same { price } else { format!("from {price}") }
}

/// The earliest future restock date of these variants.
fn restock(variants: &[&Product], now: i64) -> Option<i64> {
    variants.iter().filter_map(|v| v.restock_at).filter(|&at| at > now).min()
}

/// Stock of a product, of the size or colour asked for, in plain words: out of stock and no
/// longer sold said as such, with the restock date when the store has one.
pub fn stock(group: &ProductGroup, wish: &VariantWish, now: i64) -> String {
    let name = &group.name;
    let variants = group.matching(wish);
    // "in EU 44" as the catalogue names the one variant asked for, else as the shopper did.
    let asked = match (variants.as_slice(), wish.describe()) {
        (_, d) if d.is_empty() => String::new(),
        ([one], _) => format!(" in {}", variant_label(one)),
        (_, d) => format!(" {d}"),
    };
    if variants.is_empty() {
        let offered = if wish.size.is_some() { group.sizes() } else { group.colours() };
        let offered: Vec<String> = offered.into_iter().map(str::to_string).collect();
        return match offered.as_slice() {
            [] => format!("Sorry, the {name} only comes in one version, and not{asked}."),
            _ => format!("Sorry, we don't have the {name}{asked}. It comes in {}.", list_in_words(&offered)),
        };
    }
    let all = |a: Availability| variants.iter().all(|v| v.availability == a);
    if all(Availability::Discontinued) {
        return format!("Sorry, we no longer sell the {name}{asked}.");
    }
    if all(Availability::InStock) {
        let which = if variants.len() > 1 && wish.is_empty() {
            let labels: Vec<String> = variants.iter().map(|v| variant_label(v)).collect();
            format!(", in {}", list_in_words(&labels))
        } else {
            String::new()
        };
        return format!("Yes, we have the {name}{asked} in stock{which}, at {}.", price_of(&variants));
    }
    let stocked: Vec<&Product> =
        variants.iter().copied().filter(|v| v.availability != Availability::Discontinued).collect();
    if stocked.iter().all(|v| v.availability == Availability::OutOfStock) {
        return match restock(&stocked, now) {
            Some(at) => format!("We're out of the {name}{asked} at the moment. We expect more on {}.", day(at)),
            None => format!("We're out of the {name}{asked} at the moment, and we don't have a date for more yet."),
        };
    }
    let mut lines = vec![format!("Here's the {name}{asked} ({}):", price_of(&variants))];
    let labels = |a: Availability| -> Vec<String> {
        variants.iter().filter(|v| v.availability == a).map(|v| variant_label(v)).collect()
    };
    let in_stock = labels(Availability::InStock);
    lines.push(format!("• In stock: {}", in_stock.join(", ")));
    let out: Vec<String> = variants
        .iter()
        .filter(|v| v.availability == Availability::OutOfStock)
        .map(|v| match v.restock_at.filter(|&at| at > now) {
            Some(at) => format!("{} (more expected on {})", variant_label(v), day(at)),
            None => variant_label(v),
        })
        .collect();
    if !out.is_empty() {
        lines.push(format!("• Out of stock: {}", out.join(", ")));
    }
    let gone = labels(Availability::Discontinued);
    if !gone.is_empty() {
        lines.push(format!("• No longer sold: {}", gone.join(", ")));
    }
    lines.join("\n")
}

/// What the store says about one detail of a product.
pub fn product_detail(group: &ProductGroup, aspect: ProductAspect, detail: &str) -> String {
    format!("About the {} of the {}: {detail}", aspect.words(), group.name)
}

/// Why a product question goes to a person.
pub fn product_detail_missing(group: &ProductGroup, aspect: Option<ProductAspect>) -> String {
    match aspect {
        Some(a) => format!(
            "I don't have the details of the {} of the {} here, so I'm passing your question to our team.",
            a.words(),
            group.name
        ),
        None => {
            format!("That's a question about the {} I can't answer myself, so I'm passing it to our team.", group.name)
        }
    }
}

pub fn which_product() -> String {
    "Several products match. Which one do you mean?".into()
}

/// Delivery to the country a shopper named, from the store profile's countries.
pub fn shipping_to(profile: &StoreProfile, country: &str) -> String {
    let countries: Vec<&str> =
        profile.shipping_countries.iter().map(|c| countries::canonical(c).unwrap_or(c.as_str())).collect();
    if countries.first().is_some_and(|home| home.eq_ignore_ascii_case(country)) {
        return format!(
            "Yes, we deliver across {country}: standard delivery takes {}, express {}.",
            profile.standard_delivery_days, profile.express_delivery_days
        );
    }
    if !countries.iter().any(|d| d.eq_ignore_ascii_case(country)) {
        return format!(
            "Sorry, we don't deliver to {country} at the moment. We deliver to {}.",
            list_in_words(&profile.shipping_countries)
        );
    }
    let abroad = [
        (!profile.international_delivery_days.trim().is_empty())
            .then(|| format!("Delivery abroad takes {}.", profile.international_delivery_days)),
        (!profile.customs_duties.trim().is_empty()).then(|| profile.customs_duties.clone()),
    ];
    std::iter::once(format!("Yes, we deliver to {country}."))
        .chain(abroad.into_iter().flatten())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::domain::orders::{OrderStatus, Refund, RefundStatus, Shipment};

    /// What a person would never write: a word (or two) twice in a row, a placeholder left unfilled,
    /// a space before punctuation, doubled punctuation, or a status glued on with "is".
    fn check_prose(text: &str) {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        for pair in words.windows(2) {
            assert!(
                pair[0] != pair[1] || pair[0].chars().all(|c| c.is_ascii_digit()),
                "doubled {:?} in {text:?}",
                pair[0]
            );
        }
        for four in words.windows(4) {
            assert!(four[..2] != four[2..], "doubled {:?} in {text:?}", &four[..2]);
        }
        for bad in ["{", "}", " .", " ,", "..", ",.", ".,", ": is ", "is received:"] {
            assert!(!text.contains(bad), "{bad:?} in {text:?}");
        }
        // A sentence ends with punctuation (or an emoji, or a link); list items need not.
        let ended = text.trim_end().chars().last().is_some_and(|c| ".!?:".contains(c) || !c.is_ascii());
        assert!(ended || text.starts_with('•') || text.contains("http"), "no ending in {text:?}");
    }

    fn profiles() -> Vec<StoreProfile> {
        let other = StoreProfile {
            store_name: "Nordlys".into(),
            standard_delivery_days: "3-5 working days".into(),
            express_delivery_days: "next working day".into(),
            free_shipping_threshold: "€75".into(),
            return_window_days: 14,
            ..StoreProfile::default()
        };
        vec![StoreProfile::default(), other]
    }

    fn order(status: OrderStatus) -> Order {
        let shipped = status.in_delivery() || status == OrderStatus::Delivered;
        Order {
            number: "10006".into(),
            customer_id: Some("c1".into()),
            email: "a@example.com".into(),
            status,
            placed_at: 1_764_000_000_000,
            total_cents: 4_500,
            currency: "GBP".into(),
            shipping_address: String::new(),
            estimated_delivery: Some(1_764_300_000_000),
            delivered_at: (status == OrderStatus::Delivered).then_some(1_764_200_000_000),
            source_order_number: None,
            checkout_url: None,
            items: vec![OrderItem {
                sku: "S1".into(),
                name: "Trail Runner".into(),
                quantity: 1,
                unit_price_cents: 4_500,
            }],
            shipments: shipped
                .then(|| Shipment {
                    carrier: "DPD".into(),
                    tracking_number: "DP123".into(),
                    tracking_url: "https://track.example.com/DP123".into(),
                    status: "in_transit".into(),
                    shipped_at: Some(1_764_100_000_000),
                    estimated_delivery: Some(1_764_300_000_000),
                    delivered_at: None,
                    platform_id: None,
                })
                .into_iter()
                .collect(),
            refunds: matches!(status, OrderStatus::Refunded | OrderStatus::PartiallyRefunded)
                .then(|| Refund {
                    amount_cents: 1_000,
                    status: RefundStatus::Completed,
                    reason: String::new(),
                    created_at: 1_764_100_000_000,
                    completed_at: Some(1_764_200_000_000),
                })
                .into_iter()
                .collect(),
            updated_at: None,
            origin: None,
        }
    }

    #[test]
    fn every_order_reply_reads_as_sentences_for_every_status_and_profile() {
        for profile in profiles() {
            for status in OrderStatus::ALL {
                let o = order(status);
                let replies = [
                    order_status(&o),
                    refund_status(&o),
                    invoice(&o, &profile),
                    change_requested(Action::CancelOrder, &o),
                    change_requested(Action::ChangeShippingAddress, &o),
                    change_too_late(Action::CancelOrder, &o, &profile),
                    change_too_late(Action::ChangeShippingAddress, &o, &profile),
                    open_orders(&[&o, &o]),
                    order_not_found(&o.number),
                ];
                for reply in replies {
                    for line in reply.lines() {
                        check_prose(line);
                    }
                }
            }
        }
        assert!(
            order_status(&order(OrderStatus::DeliveryFailed)).contains("the carrier tried to deliver it but couldn't")
        );
        assert!(
            !open_orders(&[&order(OrderStatus::AwaitingPayment)]).contains("on the way"),
            "unpaid is not on its way"
        );
    }

    #[test]
    fn every_intent_template_reads_well_with_every_profile() {
        let intents = Path::new(env!("CARGO_MANIFEST_DIR")).join("intents");
        for definition in crate::intents::load_dir(&intents).unwrap() {
            for template in &definition.intent.responses {
                for profile in profiles() {
                    let filled = profile.fill(template);
                    for line in filled.lines() {
                        check_prose(line);
                    }
                }
            }
        }
    }

    fn variant(sku: &str, size: Option<&str>, colour: Option<&str>, a: Availability, back: Option<i64>) -> Product {
        Product {
            sku: sku.into(),
            name: format!("Trail Runners {sku}"),
            price_cents: 11_900,
            currency: "GBP".into(),
            availability: a,
            product: Some("Trail Runners".into()),
            size: size.map(str::to_string),
            colour: colour.map(str::to_string),
            restock_at: back,
            details: Default::default(),
            updated_at: None,
            listing: None,
        }
    }

    #[test]
    fn every_stock_reply_reads_as_sentences() {
        use crate::domain::catalogue::{ProductAspect, group};
        let now = 1_764_000_000_000;
        let later = Some(now + 9 * 86_400_000);
        let catalogues = [
            vec![variant("A", Some("EU 42"), None, Availability::InStock, None)],
            vec![variant("A", Some("EU 42"), None, Availability::OutOfStock, later)],
            vec![variant("A", Some("EU 42"), None, Availability::OutOfStock, Some(now - 1))],
            vec![variant("A", None, None, Availability::Discontinued, None)],
            vec![
                variant("A", Some("EU 42"), Some("black"), Availability::InStock, None),
                variant("B", Some("EU 43"), Some("black"), Availability::OutOfStock, later),
                variant("C", Some("EU 44"), Some("white"), Availability::OutOfStock, None),
                variant("D", Some("EU 45"), Some("white"), Availability::Discontinued, None),
            ],
        ];
        let wishes = [
            VariantWish::default(),
            VariantWish { size: Some("42".into()), colour: None },
            VariantWish { size: Some("47".into()), colour: None },
            VariantWish { size: None, colour: Some("black".into()) },
            VariantWish { size: None, colour: Some("red".into()) },
            VariantWish { size: Some("43".into()), colour: Some("black".into()) },
        ];
        for products in &catalogues {
            let groups = group(products);
            for wish in &wishes {
                let reply = stock(&groups[0], wish, now);
                for line in reply.lines() {
                    check_prose(line);
                }
                assert!(!reply.contains("expected on") || later.is_some(), "{reply}");
            }
            for aspect in ProductAspect::ALL {
                check_prose(&product_detail(&groups[0], *aspect, "It is made of recycled mesh."));
                check_prose(&product_detail_missing(&groups[0], Some(*aspect)));
            }
            check_prose(&product_detail_missing(&groups[0], None));
        }
        let past = group(&catalogues[2]);
        assert!(stock(&past[0], &VariantWish::default(), now).contains("don't have a date"), "a past date is no date");
        check_prose(&which_product());
        for profile in profiles() {
            for country in ["Canada", "United Kingdom", "Brazil"] {
                check_prose(&shipping_to(&profile, country));
            }
        }
    }

    #[test]
    fn the_prose_check_catches_what_it_is_for() {
        for bad in ["takes 2-4 working days working days.", "Order #1 is {status}.", "It is delivery attempt failed ."]
        {
            assert!(std::panic::catch_unwind(|| check_prose(bad)).is_err(), "{bad}");
        }
    }
}
