//! What an intent is: its action, sensitivity, queue priority and the words the bot uses for it.

use serde::{Deserialize, Serialize};

/// The label the classifier uses for "none of the store's intents".
pub const OUT_OF_SCOPE: &str = "out_of_scope";

/// Where the out-of-scope class sits among a model's labels, if it has one.
pub fn out_of_scope_index(labels: &[String]) -> Option<usize> {
    labels.iter().position(|l| l == OUT_OF_SCOPE)
}
/// The label benchmark files use for out-of-scope rows.
pub const BENCHMARK_OUT_OF_SCOPE: &str = "oos";
/// The intent of a shopper who asks for a person.
pub const TALK_TO_HUMAN: &str = "talk_to_human";

/// What the bot does when an intent is recognised with confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Reply with the intent's response template.
    Answer,
    /// Hand the conversation to a person.
    Handoff,
    OrderStatus,
    Reorder,
    RefundStatus,
    InvoiceRequest,
    CancelOrder,
    ChangeShippingAddress,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Answer,
        Action::Handoff,
        Action::OrderStatus,
        Action::Reorder,
        Action::RefundStatus,
        Action::InvoiceRequest,
        Action::CancelOrder,
        Action::ChangeShippingAddress,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Answer => "answer",
            Action::Handoff => "handoff",
            Action::OrderStatus => "order_status",
            Action::Reorder => "reorder",
            Action::RefundStatus => "refund_status",
            Action::InvoiceRequest => "invoice_request",
            Action::CancelOrder => "cancel_order",
            Action::ChangeShippingAddress => "change_shipping_address",
        }
    }

    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Order handlers read order data, so they need a verified shopper.
    pub fn needs_order_data(self) -> bool {
        !matches!(self, Action::Answer | Action::Handoff)
    }
}

/// Queue priority of a hand-off; higher is served first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub fn parse(name: &str) -> Option<Priority> {
        match name {
            "low" => Some(Priority::Low),
            "normal" => Some(Priority::Normal),
            "high" => Some(Priority::High),
            "urgent" => Some(Priority::Urgent),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// One intent as the product knows it (everything but the examples, which only training needs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    pub name: String,
    pub label: String,
    pub description: String,
    pub action: Action,
    pub sensitive: bool,
    pub priority: Priority,
    /// A fixed confidence threshold that overrides the calibrated one.
    pub threshold: Option<f32>,
    pub responses: Vec<String>,
}

/// An intent with its training examples, as loaded from `intents/`.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentDefinition {
    pub intent: Intent,
    pub examples: Vec<String>,
}

/// Every intent the product knows, by name.
#[derive(Debug, Clone, Default)]
pub struct IntentCatalog {
    intents: Vec<Intent>,
}

impl IntentCatalog {
    pub fn new(intents: Vec<Intent>) -> Self {
        Self { intents }
    }

    pub fn get(&self, name: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.name == name)
    }

    pub fn all(&self) -> &[Intent] {
        &self.intents
    }

    pub fn label_of<'a>(&'a self, name: &'a str) -> &'a str {
        self.get(name).map_or(name, |i| i.label.as_str())
    }
}
