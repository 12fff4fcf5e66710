//! Conversations and their messages, and the rules of a conversation's life: who may read and
//! change it, and what queueing, claiming, releasing, returning to the bot and resolving do.

use serde::{Deserialize, Serialize};

use super::agent::Agent;
use super::catalogue::ProductAsk;
use super::events::{ConversationEvent, StateChange};
use super::intent::Priority;
use super::orders::Order;
use super::outcome::Settled;
use super::quick_reply::QuickReply;
use super::triage::{HandoffReason, TriageRecord};

named_enum! {
    pub enum ConversationState {
        /// The bot answers.
        Bot = "bot",
        /// Waiting for a person.
        Queued = "queued",
        /// A person has it.
        Assigned = "assigned",
        Resolved = "resolved",
    }
}

impl ConversationState {
    /// The bot stays silent while a person has (or is about to have) the conversation.
    pub fn bot_is_silent(self) -> bool {
        matches!(self, Self::Queued | Self::Assigned)
    }
}

named_enum! {
    pub enum Sender {
        Shopper = "shopper",
        Bot = "bot",
        Agent = "agent",
        /// A private agent note, never shown to the shopper.
        Note = "note",
        /// A conversation event (hand-off, agent joined, resolved), shown as a status line.
        Event = "event",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub seq: i64,
    pub sender: Sender,
    /// Empty for events, which carry `event` instead.
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quick_replies: Vec<QuickReply>,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<ConversationEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// For agents: how a shopper message was labelled as a training example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<MessageLabel>,
}

/// An agent's label on a shopper message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageLabel {
    pub intent: String,
    pub status: super::agent::ExampleStatus,
    pub source: super::model::ExampleSource,
}

/// What the bot is waiting for from the shopper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Pending {
    /// An order number and email, to verify a guest before an order handler runs.
    Verification { intent: String, order_number: Option<String>, email: Option<String> },
    /// A yes or no for re-ordering `source`; `key` makes the new order unique.
    ReorderConfirmation { source: String, key: String },
    /// Which of several listed orders the shopper means, for `intent`'s handler.
    OrderChoice { intent: String },
    /// Whether the bot's answer about `intent` helped.
    AnswerFeedback { intent: String },
    /// Which of several matching `products` a stock or product question (`intent`) is about.
    ProductChoice { intent: String, products: Vec<String>, ask: ProductAsk },
}

named_enum! {
    /// How a shopper proved who they are.
    pub enum IdentitySource {
        /// A customer token signed by the store (signed in on the storefront).
        Token = "token",
        /// An order number with that order's email address.
        Guest = "guest",
    }
}

/// Who the conversation's shopper is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub customer_id: Option<String>,
    pub via: IdentitySource,
    /// For guests: the order they verified with.
    pub order: Option<String>,
}

impl Identity {
    pub fn signed_in(customer_id: impl Into<String>) -> Self {
        Self { customer_id: Some(customer_id.into()), via: IdentitySource::Token, order: None }
    }

    /// A guest who proved they placed `order` (which may belong to a customer account).
    pub fn guest(order: &Order) -> Self {
        Self { customer_id: order.customer_id.clone(), via: IdentitySource::Guest, order: Some(order.number.clone()) }
    }

    /// Whose orders this shopper may see. A customer sees their account's orders; a guest
    /// without an account sees the orders placed with the email of the order they verified
    /// with (`verified_order`, looked up by the caller), and nothing if it is gone.
    pub fn order_owner(&self, verified_order: Option<&Order>) -> Option<OrderOwner> {
        match (&self.customer_id, verified_order) {
            (Some(customer), _) => Some(OrderOwner::Customer(customer.clone())),
            (None, Some(order)) => Some(OrderOwner::Email(order.email.clone())),
            (None, None) => None,
        }
    }
}

/// The owner of the orders a verified shopper may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderOwner {
    Customer(String),
    Email(String),
}

impl OrderOwner {
    pub fn owns(&self, order: &Order) -> bool {
        match self {
            OrderOwner::Customer(id) => order.customer_id.as_deref() == Some(id.as_str()),
            OrderOwner::Email(email) => order.email == *email,
        }
    }
}

/// Why and how urgently a conversation waits for a person, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    /// The reason it was first queued; releasing or reassigning does not change it.
    pub reason: HandoffReason,
    pub priority: Priority,
    /// The model's guess at what the shopper wants.
    pub intent: Option<String>,
    /// When it (last) joined the queue, in Unix milliseconds.
    pub queued_at: i64,
}

/// A conversation as the service works with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: String,
    pub state: ConversationState,
    pub identity: Option<Identity>,
    pub contact_email: Option<String>,
    pub pending: Option<Pending>,
    pub clarified_last: bool,
    pub out_of_scope_last: bool,
    pub handoff: Option<Handoff>,
    pub attached_order: Option<String>,
    pub assigned_agent: Option<String>,
    pub rating: Option<i64>,
    pub last_seq: i64,
    pub created_at: i64,
    /// How it ended, while it is settled (a new shopper message opens it again).
    pub outcome: Option<Settled>,
    /// The bot's answer whose outcome is still open.
    pub answered_at: Option<i64>,
    /// The shopper wrote again within 24 hours of a resolution by the bot.
    pub recontacted: bool,
    /// The shopper got an answer from the bot or an agent.
    pub got_answer: bool,
    pub last_message_at: Option<i64>,
}

/// An agent action the conversation's rules do not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("this conversation is assigned to another agent")]
    AssignedToAnother,
    #[error("this conversation is not assigned to you; claim it first")]
    NotYours,
    #[error("only admins can reassign")]
    AdminOnly,
    #[error("someone else has already claimed this conversation, or it is not queued")]
    NotQueued,
    #[error("only a conversation assigned to you can be changed")]
    NotAssigned,
}

impl RuleError {
    /// Refused for who the agent is (403), rather than for the conversation's state (409).
    pub fn is_forbidden(self) -> bool {
        matches!(self, RuleError::AssignedToAnother | RuleError::NotYours | RuleError::AdminOnly)
    }
}

impl Conversation {
    pub fn verified(&self) -> bool {
        self.identity.is_some()
    }

    pub fn is_assigned_to(&self, agent: &Agent) -> bool {
        self.assigned_agent.as_deref() == Some(agent.id.as_str())
    }

    /// Agents read any conversation except one assigned to somebody else; admins read all.
    pub fn check_readable_by(&self, agent: &Agent) -> Result<(), RuleError> {
        let others = self.state == ConversationState::Assigned && !self.is_assigned_to(agent);
        if others && !agent.is_admin { Err(RuleError::AssignedToAnother) } else { Ok(()) }
    }

    /// An agent writes to and changes only conversations assigned to them; admins any.
    pub fn check_changeable_by(&self, agent: &Agent) -> Result<(), RuleError> {
        if agent.is_admin || self.is_assigned_to(agent) { Ok(()) } else { Err(RuleError::NotYours) }
    }

    /// Queues the conversation for a person: what the bot was waiting for is dropped.
    pub fn queue_for_person(
        &mut self,
        reason: HandoffReason,
        priority: Priority,
        intent: Option<String>,
        now: i64,
    ) -> ConversationEvent {
        self.state = ConversationState::Queued;
        self.pending = None;
        self.answered_at = None;
        self.clarified_last = false;
        self.out_of_scope_last = false;
        self.handoff = Some(Handoff { reason, priority, intent, queued_at: now });
        StateChange::Queued { reason, released_by: None }.into()
    }

    /// A queued conversation goes to `agent`: claimed by them, or given to them (`auto`).
    pub fn claim(&mut self, agent: &Agent, auto: bool) -> Result<ConversationEvent, RuleError> {
        if self.state != ConversationState::Queued {
            return Err(RuleError::NotQueued);
        }
        self.state = ConversationState::Assigned;
        self.assigned_agent = Some(agent.id.clone());
        Ok(StateChange::Assigned { agent: agent.into(), auto, reassigned_by: None }.into())
    }

    /// An admin moves the conversation to another agent.
    pub fn reassign(&mut self, to: &Agent, by: &Agent) -> Result<ConversationEvent, RuleError> {
        if !by.is_admin {
            return Err(RuleError::AdminOnly);
        }
        self.state = ConversationState::Assigned;
        self.assigned_agent = Some(to.id.clone());
        Ok(StateChange::Assigned { agent: to.into(), auto: false, reassigned_by: Some(by.into()) }.into())
    }

    /// The agent puts the conversation back in the queue; it keeps its hand-off reason and
    /// priority and waits from now.
    pub fn release(&mut self, by: &Agent, now: i64) -> Result<ConversationEvent, RuleError> {
        self.check_open_with(by)?;
        let handoff = self.handoff.get_or_insert(Handoff {
            reason: HandoffReason::CustomerRequested,
            priority: Priority::Normal,
            intent: None,
            queued_at: now,
        });
        handoff.queued_at = now;
        let reason = handoff.reason;
        self.state = ConversationState::Queued;
        self.assigned_agent = None;
        Ok(StateChange::Queued { reason, released_by: Some(by.into()) }.into())
    }

    /// The agent hands the conversation back to the bot, which starts afresh.
    pub fn return_to_bot(&mut self, by: &Agent) -> Result<ConversationEvent, RuleError> {
        self.check_open_with(by)?;
        self.state = ConversationState::Bot;
        self.assigned_agent = None;
        self.handoff = None;
        self.clarified_last = false;
        self.out_of_scope_last = false;
        Ok(StateChange::Bot { returned_by: by.into() }.into())
    }

    pub fn resolve(&mut self, by: &Agent, now: i64) -> Result<ConversationEvent, RuleError> {
        self.check_open_with(by)?;
        self.resolved_by_agent(now);
        Ok(StateChange::Resolved { resolved_by: by.into() }.into())
    }

    /// Replies, notes and state changes need the conversation assigned (to the agent, unless
    /// they are an admin).
    pub fn check_open_with(&self, agent: &Agent) -> Result<(), RuleError> {
        self.check_changeable_by(agent)?;
        if self.state == ConversationState::Assigned { Ok(()) } else { Err(RuleError::NotAssigned) }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::orders::OrderStatus;

    fn agent(id: &str, is_admin: bool) -> Agent {
        Agent {
            id: id.into(),
            email: format!("{id}@example.com"),
            name: id.to_uppercase(),
            is_admin,
            disabled: false,
            sessions_valid_after: 0,
            locked: false,
        }
    }

    pub fn conversation() -> Conversation {
        Conversation {
            id: "c1".into(),
            state: ConversationState::Bot,
            identity: None,
            contact_email: None,
            pending: Some(Pending::OrderChoice { intent: "order_status".into() }),
            clarified_last: true,
            out_of_scope_last: false,
            handoff: None,
            attached_order: None,
            assigned_agent: None,
            rating: None,
            last_seq: 3,
            created_at: 0,
            outcome: None,
            answered_at: None,
            recontacted: false,
            got_answer: false,
            last_message_at: None,
        }
    }

    fn queued() -> Conversation {
        let mut c = conversation();
        c.queue_for_person(HandoffReason::Sensitive, Priority::High, Some("complaint".into()), 100);
        c
    }

    fn order(number: &str, customer: Option<&str>, email: &str) -> Order {
        Order {
            number: number.into(),
            customer_id: customer.map(str::to_string),
            email: email.into(),
            status: OrderStatus::Paid,
            placed_at: 0,
            total_cents: 100,
            currency: "EUR".into(),
            shipping_address: String::new(),
            estimated_delivery: None,
            delivered_at: None,
            source_order_number: None,
            checkout_url: None,
            items: vec![],
            shipments: vec![],
            refunds: vec![],
            updated_at: None,
            origin: None,
        }
    }

    #[test]
    fn queueing_for_a_person_drops_what_the_bot_waited_for() {
        let mut c = conversation();
        let event = c.queue_for_person(HandoffReason::LowConfidence, Priority::Normal, None, 42);
        assert_eq!(c.state, ConversationState::Queued);
        assert_eq!(c.pending, None);
        assert!(!c.clarified_last);
        assert_eq!(c.handoff.as_ref().map(|h| (h.reason, h.queued_at)), Some((HandoffReason::LowConfidence, 42)));
        assert_eq!(event, StateChange::Queued { reason: HandoffReason::LowConfidence, released_by: None }.into());
    }

    #[test]
    fn only_a_queued_conversation_can_be_claimed() {
        let sam = agent("sam", false);
        let mut c = queued();
        assert!(c.claim(&sam, false).is_ok());
        assert_eq!((c.state, c.assigned_agent.as_deref()), (ConversationState::Assigned, Some("sam")));
        assert_eq!(c.claim(&agent("kim", false), false), Err(RuleError::NotQueued));
        assert_eq!(conversation().claim(&sam, true), Err(RuleError::NotQueued));
    }

    #[test]
    fn release_keeps_the_first_reason_and_waits_from_now() {
        let sam = agent("sam", false);
        let mut c = queued();
        c.claim(&sam, false).unwrap();
        let event = c.release(&sam, 500).unwrap();
        assert_eq!(c.state, ConversationState::Queued);
        assert_eq!(c.assigned_agent, None);
        let handoff = c.handoff.as_ref().unwrap();
        assert_eq!(
            (handoff.reason, handoff.priority, handoff.queued_at),
            (HandoffReason::Sensitive, Priority::High, 500)
        );
        assert_eq!(
            event,
            StateChange::Queued { reason: HandoffReason::Sensitive, released_by: Some((&sam).into()) }.into()
        );
    }

    #[test]
    fn returning_to_the_bot_starts_afresh() {
        let sam = agent("sam", false);
        let mut c = queued();
        c.claim(&sam, false).unwrap();
        c.out_of_scope_last = true;
        c.return_to_bot(&sam).unwrap();
        assert_eq!(c.state, ConversationState::Bot);
        assert_eq!((c.assigned_agent.as_ref(), c.handoff.as_ref()), (None, None));
        assert!(!c.out_of_scope_last);
    }

    #[test]
    fn only_the_assigned_agent_or_an_admin_changes_a_conversation() {
        let (sam, kim, admin) = (agent("sam", false), agent("kim", false), agent("root", true));
        let mut c = queued();
        assert_eq!(c.resolve(&sam, 1), Err(RuleError::NotYours), "not claimed yet");
        assert_eq!(c.resolve(&admin, 1), Err(RuleError::NotAssigned), "an admin, but nobody has it");
        c.claim(&sam, false).unwrap();
        assert_eq!(c.release(&kim, 1), Err(RuleError::NotYours));
        assert_eq!(c.reassign(&kim, &kim), Err(RuleError::AdminOnly));
        assert!(RuleError::NotYours.is_forbidden() && !RuleError::NotAssigned.is_forbidden());
        c.reassign(&kim, &admin).unwrap();
        assert!(c.is_assigned_to(&kim));
        assert_eq!(c.resolve(&sam, 1), Err(RuleError::NotYours), "the former owner is refused");
        assert!(c.resolve(&kim, 1).is_ok());
        assert_eq!(c.state, ConversationState::Resolved);
    }

    #[test]
    fn a_conversation_assigned_to_someone_else_is_hidden_from_other_agents() {
        let (sam, kim, admin) = (agent("sam", false), agent("kim", false), agent("root", true));
        let mut c = queued();
        assert!(c.check_readable_by(&kim).is_ok(), "the queue is open to every agent");
        c.claim(&sam, false).unwrap();
        assert!(c.check_readable_by(&sam).is_ok());
        assert_eq!(c.check_readable_by(&kim), Err(RuleError::AssignedToAnother));
        assert!(c.check_readable_by(&admin).is_ok());
    }

    #[test]
    fn a_customer_sees_their_account_orders_and_a_guest_those_of_their_orders_email() {
        let mine = order("1001", Some("cust_1"), "a@example.com");
        let same_email_no_account = order("1002", None, "a@example.com");
        let someone_else = order("1003", Some("cust_2"), "b@example.com");

        let customer = Identity::signed_in("cust_1").order_owner(None).unwrap();
        assert!(customer.owns(&mine));
        assert!(!customer.owns(&same_email_no_account) && !customer.owns(&someone_else));

        let guest = Identity::guest(&same_email_no_account);
        assert_eq!(guest.via, IdentitySource::Guest);
        let owner = guest.order_owner(Some(&same_email_no_account)).unwrap();
        assert!(owner.owns(&same_email_no_account) && owner.owns(&mine) && !owner.owns(&someone_else));
        assert_eq!(guest.order_owner(None), None, "the verified order is gone: nothing to see");

        // A guest whose order belongs to an account is that customer.
        assert_eq!(Identity::guest(&mine).order_owner(None), Some(OrderOwner::Customer("cust_1".into())));
    }
}
