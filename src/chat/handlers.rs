//! The order handlers: answers from the store's order data for a verified shopper. An order
//! that is not the shopper's gets exactly the reply a missing one gets.

use super::replies;
use super::service::{Bot, ChatError};
use super::turn::{Turn, hand_off};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::cart;
use crate::domain::conversation::{Identity, Pending};
use crate::domain::intent::Action;
use crate::domain::orders::{Availability, Order, OrderItem, OrderStatus, Product};
use crate::domain::outbound::EventKind;
use crate::domain::quick_reply::{QuickReply, QuickReplyValue};
use crate::domain::triage::HandoffReason;
use crate::store::Tx;

/// How many recent orders a handler looks at.
const RECENT_ORDERS: i64 = 20;

/// Work that reads a verified shopper's orders (and, for a confirmed reorder, records the cart
/// link given).
pub(super) enum OrderTask {
    /// An intent's handler, about the named order or the shopper's recent ones.
    Run { action: Action, order_number: Option<String> },
    /// Gives the cart link for the proposed reorder of `source` (made once per proposal `key`).
    ConfirmReorder { source: String, key: String },
}

/// Runs an order task for a verified conversation; the caller hands off if it fails.
pub(super) async fn run(bot: &Bot, tx: &mut Tx, turn: &mut Turn, task: OrderTask) -> Result<(), ChatError> {
    let identity = turn
        .conversation
        .identity
        .clone()
        .ok_or_else(|| ChatError::Invalid("not_verified", "order data needs a verified shopper".into()))?;
    match task {
        OrderTask::Run { action, order_number } => answer(bot, turn, &identity, action, order_number.as_deref()).await,
        OrderTask::ConfirmReorder { source, key } => confirm_reorder(bot, tx, turn, &identity, &source, &key).await,
    }
}

/// The shopper's own recent orders, newest first.
async fn visible_orders(bot: &Bot, identity: &Identity) -> Result<Vec<Order>, ChatError> {
    match bot.store.order_owner(identity).await? {
        Some(owner) => Ok(bot.store.orders_of(&owner, RECENT_ORDERS).await?),
        None => Ok(Vec::new()),
    }
}

/// The shopper's most recent order that has left the warehouse (shipped, on its way or
/// delivered), for a person looking into a delivery problem.
pub(super) async fn latest_shipped_order(bot: &Bot, identity: &Identity) -> Result<Option<String>, ChatError> {
    let orders = visible_orders(bot, identity).await?;
    Ok(orders.into_iter().find(|o| o.status.in_delivery() || o.status == OrderStatus::Delivered).map(|o| o.number))
}

/// The order with this number, if it is the shopper's.
async fn own_order(bot: &Bot, identity: &Identity, number: &str) -> Result<Option<Order>, ChatError> {
    let Some(order) = bot.store.order(number).await? else {
        return Ok(None);
    };
    let owner = bot.store.order_owner(identity).await?;
    Ok(owner.filter(|o| o.owns(&order)).map(|_| order))
}

async fn answer(
    bot: &Bot,
    turn: &mut Turn,
    identity: &Identity,
    action: Action,
    order_number: Option<&str>,
) -> Result<(), ChatError> {
    let named = match order_number {
        Some(number) => match own_order(bot, identity, number).await? {
            Some(order) => Some(order),
            None => {
                turn.say_with(replies::order_not_found(number), vec![QuickReply::talk_to_person()]);
                turn.no_answer = true;
                return Ok(());
            }
        },
        None => None,
    };
    let orders = if named.is_some() { Vec::new() } else { visible_orders(bot, identity).await? };
    if named.is_none() && orders.is_empty() {
        turn.say("I couldn't find any orders for you. If you ordered as a guest with another email address, tell me that order's number.");
        turn.no_answer = true;
        return Ok(());
    }
    let first = || orders.first().cloned();
    match action {
        Action::OrderStatus => {
            let open: Vec<&Order> = orders.iter().filter(|o| o.status.is_open()).collect();
            match (&named, open.as_slice()) {
                (Some(order), _) => turn.say(replies::order_status(order)),
                (None, [_, _, ..]) => {
                    // The next message may be just one of these numbers, or a click.
                    turn.conversation.pending = Some(Pending::OrderChoice { intent: action.name().to_string() });
                    let choices = open
                        .iter()
                        .take(5)
                        .map(|o| QuickReply::new(format!("#{}", o.number), QuickReplyValue::Order(o.number.clone())))
                        .collect();
                    turn.say_with(replies::open_orders(&open), choices);
                }
                (None, [only]) => turn.say(replies::order_status(only)),
                (None, []) => turn.say(replies::order_status(&orders[0])),
            }
        }
        Action::Reorder => {
            let source = named.or_else(|| {
                orders
                    .iter()
                    .find(|o| o.status != OrderStatus::AwaitingPayment && o.status != OrderStatus::Cancelled)
                    .cloned()
            });
            match source {
                Some(order) => propose_reorder(bot, turn, &order).await?,
                None => turn.say("I couldn't find a past order to repeat."),
            }
        }
        Action::RefundStatus => {
            let order = named.or_else(|| orders.iter().find(|o| !o.refunds.is_empty()).cloned()).or_else(first);
            if let Some(order) = order {
                let offer = if order.refunds.is_empty() { vec![QuickReply::talk_to_person()] } else { Vec::new() };
                turn.say_with(replies::refund_status(&order), offer);
            }
        }
        Action::InvoiceRequest => {
            if let Some(order) = named.or_else(first) {
                turn.say(replies::invoice(&order, &bot.profile));
            }
        }
        Action::CancelOrder | Action::ChangeShippingAddress => {
            let order = named.or_else(|| orders.iter().find(|o| o.status.is_open()).cloned()).or_else(first);
            if let Some(order) = order {
                order_change(bot, turn, action, &order);
            }
        }
        Action::Answer
        | Action::Handoff
        | Action::ProductAvailability
        | Action::ProductQuestion
        | Action::ShippingInternational => {}
    }
    Ok(())
}

/// Cancel or re-address: before shipping a person does it (with the order attached);
/// after, explain what can be done instead.
fn order_change(bot: &Bot, turn: &mut Turn, action: Action, order: &Order) {
    if order.status.before_shipping() {
        turn.say(replies::change_requested(action, order));
        hand_off(bot, turn, HandoffReason::CustomerRequested, Some(action.name()), None);
    } else {
        turn.say_with(replies::change_too_late(action, order, &bot.profile), vec![QuickReply::talk_to_person()]);
    }
    turn.conversation.attached_order = Some(order.number.clone());
}

/// Summarises a reorder at today's prices and asks whether to make the cart.
async fn propose_reorder(bot: &Bot, turn: &mut Turn, source: &Order) -> Result<(), ChatError> {
    let (available, unavailable) = reorder_lines(bot, source).await?;
    if available.is_empty() {
        turn.say(replies::nothing_to_reorder(source, &unavailable));
        return Ok(());
    }
    let key = crate::util::random_hex(16);
    turn.conversation.pending = Some(Pending::ReorderConfirmation { source: source.number.clone(), key });
    turn.conversation.attached_order = Some(source.number.clone());
    let items: Vec<OrderItem> = available
        .iter()
        .map(|(p, quantity)| OrderItem {
            sku: p.sku.clone(),
            name: p.name.clone(),
            quantity: *quantity,
            unit_price_cents: p.price_cents,
        })
        .collect();
    turn.say_with(
        replies::reorder_summary(source, &items, &unavailable),
        vec![QuickReply::new("Yes, make the cart", QuickReplyValue::Yes), QuickReply::new("No", QuickReplyValue::No)],
    );
    Ok(())
}

/// The source order's products that are for sale today (with the quantities ordered), and the
/// names of those that are not.
async fn reorder_lines(
    bot: &Bot,
    source: &Order,
) -> Result<(Vec<(Product, i64)>, Vec<(String, Availability)>), ChatError> {
    let skus: Vec<String> = source.items.iter().map(|i| i.sku.clone()).collect();
    let products = bot.store.products(&skus).await?;
    let mut available = Vec::new();
    let mut unavailable = Vec::new();
    for item in &source.items {
        match products.iter().find(|p| p.sku == item.sku) {
            Some(p) if p.availability == Availability::InStock => available.push((p.clone(), item.quantity)),
            Some(p) => unavailable.push((p.name.clone(), p.availability)),
            None => unavailable.push((item.name.clone(), Availability::Discontinued)),
        }
    }
    Ok((available, unavailable))
}

/// Gives the cart link for the proposal, made once however often "yes" arrives. Nothing is
/// ordered here: the shopper checks out on the store.
async fn confirm_reorder(
    bot: &Bot,
    tx: &mut Tx,
    turn: &mut Turn,
    identity: &Identity,
    source_number: &str,
    key: &str,
) -> Result<(), ChatError> {
    let Some(source) = own_order(bot, identity, source_number).await? else {
        turn.say(replies::order_not_found(source_number));
        return Ok(());
    };
    let (available, unavailable) = reorder_lines(bot, &source).await?;
    if available.is_empty() {
        turn.say(replies::nothing_to_reorder(&source, &unavailable));
        return Ok(());
    }
    let lines: Vec<(&Product, i64)> = available.iter().map(|(p, q)| (p, *q)).collect();
    let built = cart::build(&bot.profile.store_url, &bot.profile.cart, &lines);
    turn.conversation.attached_order = Some(source.number.clone());
    if built.links.is_empty() {
        // Nothing here can be named in a link on this store: a person makes the order.
        turn.say_with(replies::no_cart_link(&source), vec![QuickReply::talk_to_person()]);
        turn.no_answer = true;
        return Ok(());
    }
    let conversation_id = turn.conversation.id.clone();
    let (cart, created) = tx.record_cart(&conversation_id, key, &source.number, &built).await?;
    if created {
        let detail = serde_json::json!({"source": source.number, "links": cart.links.len()});
        tx.audit(&Actor::Bot, AuditAction::Reorder, Some(&conversation_id), detail).await?;
        let customer = identity.customer_id.clone();
        let event = serde_json::json!({
            "conversation_id": conversation_id,
            "customer_id": customer,
            "source_order": source.number,
            "currency": source.currency,
            "total_cents": cart.total_cents(),
            "links": cart.links,
            "left_out": unavailable.iter().map(|(name, _)| name).chain(&cart.unlinkable).collect::<Vec<_>>(),
        });
        tx.emit(EventKind::ReorderLinkCreated, event).await?;
    }
    turn.say(replies::cart_links(&source, &cart, &unavailable, created));
    Ok(())
}
