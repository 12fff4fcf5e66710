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
    let mut lines = vec![format!(
        "Order #{} (placed {}) is {}.",
        order.number,
        day(order.placed_at),
        order.status.customer_facing()
    )];
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
    let mut lines = vec![format!("You have {} orders on the way:", orders.len())];
    for o in orders {
        let eta = o.shipments.iter().find_map(|s| s.estimated_delivery).or(o.estimated_delivery);
        let eta = eta.map(|e| format!(", expected {}", day(e))).unwrap_or_default();
        lines.push(format!("• #{}: {}{eta}", o.number, o.status.customer_facing()));
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
