//! The bot's words for order data, in the store's voice.

use crate::config::StoreProfile;
use crate::domain::intent::Action;
use crate::domain::orders::{Availability, Order, OrderItem, day, money};

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
        lines.push(format!("Carrier: {}, tracking number {}: {}", s.carrier, s.tracking_number, s.tracking_url));
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
    let tracking =
        order.shipments.first().map(|s| format!(" You can follow it here: {}", s.tracking_url)).unwrap_or_default();
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
    lines.push("Shall I place this order?".into());
    lines.join("\n")
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

    #[test]
    fn the_prose_check_catches_what_it_is_for() {
        for bad in ["takes 2-4 working days working days.", "Order #1 is {status}.", "It is delivery attempt failed ."]
        {
            assert!(std::panic::catch_unwind(|| check_prose(bad)).is_err(), "{bad}");
        }
    }
}
