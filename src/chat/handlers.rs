//! The order handlers (SPEC section 3): answers from the store's order data for a verified
//! shopper. An order that is not the shopper's gets exactly the reply a missing one gets.

use super::replies;
use super::service::{ChatError, ChatService};
use super::turn::{QUICK_NO, QUICK_ORDER_PREFIX, QUICK_YES, Turn, quick, talk_to_person};
use crate::domain::conversation::{Conversation, Identity, Pending};
use crate::domain::intent::Action;
use crate::domain::orders::{Availability, Order, OrderItem, OrderStatus, money};
use crate::domain::triage::HandoffReason;
use crate::store::{Tx, now_ms};

/// How many recent orders a handler looks at.
const RECENT_ORDERS: i64 = 20;

impl ChatService {
    /// The shopper's own orders, newest first.
    async fn visible_orders(&self, identity: &Identity) -> Result<Vec<Order>, ChatError> {
        if let Some(customer) = &identity.customer_id {
            return Ok(self.store.orders_of_customer(customer, RECENT_ORDERS).await?);
        }
        // A verified guest without a customer account sees orders placed with the same email.
        let Some(number) = &identity.order else {
            return Ok(Vec::new());
        };
        match self.store.order(number).await? {
            Some(order) => Ok(self.store.orders_of_email(&order.email, RECENT_ORDERS).await?),
            None => Ok(Vec::new()),
        }
    }

    async fn own_order(&self, identity: &Identity, number: &str) -> Result<Option<Order>, ChatError> {
        let Some(order) = self.store.order(number).await? else {
            return Ok(None);
        };
        let own = match (&identity.customer_id, &identity.order) {
            (Some(customer), _) => order.customer_id.as_deref() == Some(customer.as_str()),
            (None, Some(verified)) => {
                let verified_email = self.store.order(verified).await?.map(|o| o.email);
                verified_email.as_deref() == Some(order.email.as_str())
            }
            (None, None) => false,
        };
        Ok(own.then_some(order))
    }

    /// Runs an order handler for a verified conversation.
    pub(super) async fn run_handler(
        &self,
        conversation: &mut Conversation,
        action: Action,
        order_number: Option<&str>,
        turn: &mut Turn,
    ) -> Result<(), ChatError> {
        let Some(identity) = conversation.identity.clone() else {
            return Err(ChatError::Invalid("not_verified", "order data needs a verified shopper".into()));
        };
        let named = match order_number {
            Some(number) => match self.own_order(&identity, number).await? {
                Some(order) => Some(order),
                None => {
                    turn.say_with(replies::order_not_found(number), vec![talk_to_person()]);
                    return Ok(());
                }
            },
            None => None,
        };
        let orders = if named.is_some() { Vec::new() } else { self.visible_orders(&identity).await? };
        if named.is_none() && orders.is_empty() {
            turn.say("I couldn't find any orders for you. If you ordered as a guest with another email address, tell me that order's number.");
            return Ok(());
        }
        match action {
            Action::OrderStatus => {
                let open: Vec<&Order> = orders.iter().filter(|o| o.status.is_open()).collect();
                match (&named, open.as_slice()) {
                    (Some(order), _) => turn.say(replies::order_status(order)),
                    (None, [_, _, ..]) => {
                        // The next message may be just one of these numbers, or a click.
                        conversation.pending = Some(Pending::OrderChoice { intent: action.name().to_string() });
                        let choices = open
                            .iter()
                            .take(5)
                            .map(|o| quick(&format!("#{}", o.number), &format!("{QUICK_ORDER_PREFIX}{}", o.number)))
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
                        .into_iter()
                        .find(|o| o.status != OrderStatus::AwaitingPayment && o.status != OrderStatus::Cancelled)
                });
                match source {
                    Some(order) => self.propose_reorder(conversation, &order, turn).await?,
                    None => turn.say("I couldn't find a past order to repeat."),
                }
            }
            Action::RefundStatus => {
                let order = named
                    .or_else(|| orders.iter().find(|o| !o.refunds.is_empty()).cloned())
                    .or_else(|| self.first(&orders));
                if let Some(order) = order {
                    let offer = if order.refunds.is_empty() { vec![talk_to_person()] } else { Vec::new() };
                    turn.say_with(replies::refund_status(&order), offer);
                }
            }
            Action::InvoiceRequest => {
                if let Some(order) = named.or_else(|| self.first(&orders)) {
                    turn.say(replies::invoice(&order, &self.profile));
                }
            }
            Action::CancelOrder | Action::ChangeShippingAddress => {
                let order = named
                    .or_else(|| orders.iter().find(|o| o.status.is_open()).cloned())
                    .or_else(|| self.first(&orders));
                if let Some(order) = order {
                    self.order_change(conversation, action, &order, turn);
                }
            }
            Action::Answer | Action::Handoff => {}
        }
        Ok(())
    }

    fn first(&self, orders: &[Order]) -> Option<Order> {
        orders.first().cloned()
    }

    /// Cancel or re-address: before shipping a person does it (with the order attached);
    /// after, explain what can be done instead.
    fn order_change(&self, conversation: &mut Conversation, action: Action, order: &Order, turn: &mut Turn) {
        let intent = action.name();
        if order.status.before_shipping() {
            turn.say(replies::change_requested(action, order));
            self.hand_off(conversation, HandoffReason::CustomerRequested, Some(intent), None, turn);
            conversation.attached_order = Some(order.number.clone());
        } else {
            turn.say_with(replies::change_too_late(action, order, &self.profile), vec![talk_to_person()]);
            conversation.attached_order = Some(order.number.clone());
        }
    }

    /// Summarises a reorder at today's prices and asks for an explicit yes.
    async fn propose_reorder(
        &self,
        conversation: &mut Conversation,
        source: &Order,
        turn: &mut Turn,
    ) -> Result<(), ChatError> {
        let (available, unavailable) = self.reorder_lines(source).await?;
        if available.is_empty() {
            turn.say(replies::nothing_to_reorder(source, &unavailable));
            return Ok(());
        }
        let key = crate::util::random_hex(16);
        conversation.pending = Some(Pending::ReorderConfirmation { source: source.number.clone(), key });
        conversation.attached_order = Some(source.number.clone());
        turn.say_with(
            replies::reorder_summary(source, &available, &unavailable),
            vec![quick("Yes, place it", QUICK_YES), quick("No", QUICK_NO)],
        );
        Ok(())
    }

    /// The source order's items at current prices, split into available and unavailable.
    async fn reorder_lines(&self, source: &Order) -> Result<(Vec<OrderItem>, Vec<(String, Availability)>), ChatError> {
        let skus: Vec<String> = source.items.iter().map(|i| i.sku.clone()).collect();
        let products = self.store.products(&skus).await?;
        let mut available = Vec::new();
        let mut unavailable = Vec::new();
        for item in &source.items {
            match products.iter().find(|p| p.sku == item.sku) {
                Some(p) if p.availability == Availability::InStock => available.push(OrderItem {
                    sku: p.sku.clone(),
                    name: p.name.clone(),
                    quantity: item.quantity,
                    unit_price_cents: p.price_cents,
                }),
                Some(p) => unavailable.push((p.name.clone(), p.availability)),
                None => unavailable.push((item.name.clone(), Availability::Discontinued)),
            }
        }
        Ok((available, unavailable))
    }

    /// Places the reorder once per proposal, however often "yes" arrives.
    pub(super) async fn confirm_reorder(
        &self,
        tx: &mut Tx,
        conversation: &mut Conversation,
        source_number: &str,
        key: &str,
        turn: &mut Turn,
    ) -> Result<(), ChatError> {
        let Some(identity) = conversation.identity.clone() else {
            return Err(ChatError::Invalid("not_verified", "order data needs a verified shopper".into()));
        };
        let Some(source) = self.own_order(&identity, source_number).await? else {
            turn.say(replies::order_not_found(source_number));
            conversation.pending = None;
            return Ok(());
        };
        let (available, _) = self.reorder_lines(&source).await?;
        if available.is_empty() {
            turn.say("Sorry, none of those items can be ordered any more.");
            conversation.pending = None;
            return Ok(());
        }
        let number = reorder_number(key);
        let currency = source.currency.clone();
        let total = available.iter().map(|i| i.unit_price_cents * i.quantity).sum();
        let draft = Order {
            number: number.clone(),
            customer_id: source.customer_id.clone(),
            email: source.email.clone(),
            status: OrderStatus::AwaitingPayment,
            placed_at: now_ms(),
            total_cents: total,
            currency,
            shipping_address: source.shipping_address.clone(),
            estimated_delivery: None,
            delivered_at: None,
            source_order_number: Some(source.number.clone()),
            checkout_url: Some(format!("{}/checkout/{number}", self.profile.store_url)),
            items: available,
            shipments: Vec::new(),
            refunds: Vec::new(),
        };
        let order = tx.create_reorder(&draft, &format!("{}:{key}", conversation.id)).await?;
        tx.audit(
            "bot",
            "reorder",
            Some(&conversation.id),
            serde_json::json!({"order": order.number, "source": source.number}),
        )
        .await?;
        turn.say(format!(
            "Done! Your new order #{} ({}) is waiting for payment. Complete it here: {}",
            order.number,
            money(order.total_cents, &order.currency),
            order.checkout_url.as_deref().unwrap_or(&self.profile.store_url)
        ));
        conversation.attached_order = Some(order.number.clone());
        Ok(())
    }
}

/// A new order number derived from the proposal key: the same key always gives the same number.
fn reorder_number(key: &str) -> String {
    let digest = crate::util::sha256_hex(key.as_bytes());
    let n = u64::from_str_radix(&digest[..12], 16).unwrap_or(0) % 90_000_000 + 10_000_000;
    format!("R{n}")
}
