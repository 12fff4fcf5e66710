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

named_enum! {
    /// What the bot does when an intent is recognised with confidence.
    pub enum Action {
        /// Reply with the intent's response template.
        Answer = "answer",
        /// Hand the conversation to a person.
        Handoff = "handoff",
        OrderStatus = "order_status",
        Reorder = "reorder",
        RefundStatus = "refund_status",
        InvoiceRequest = "invoice_request",
        CancelOrder = "cancel_order",
        ChangeShippingAddress = "change_shipping_address",
        /// Stock of a product, its sizes and colours, from the catalogue.
        ProductAvailability = "product_availability",
        /// Material, care, sizing or compatibility, from the product's details.
        ProductQuestion = "product_question",
        /// Whether the store delivers to the country named, from the store profile.
        ShippingInternational = "shipping_international",
    }
}

impl Action {
    /// Order handlers read order data, so they need a verified shopper. Catalogue and store
    /// profile answers are public.
    pub fn needs_order_data(self) -> bool {
        matches!(
            self,
            Action::OrderStatus
                | Action::Reorder
                | Action::RefundStatus
                | Action::InvoiceRequest
                | Action::CancelOrder
                | Action::ChangeShippingAddress
        )
    }
}

named_enum! {
    /// Queue priority of a hand-off; higher is served first.
    #[derive(PartialOrd, Ord, Default)]
    pub enum Priority {
        Low = "low",
        #[default]
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

impl Priority {
    /// The number the queue sorts by (higher first).
    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn from_rank(rank: i64) -> Option<Priority> {
        Priority::ALL.iter().copied().find(|p| p.rank() == rank)
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
    /// Greetings, thanks and goodbyes: answered, but they neither resolve nor reopen anything.
    pub small_talk: bool,
    pub priority: Priority,
    /// A fixed confidence threshold that overrides the calibrated one.
    pub threshold: Option<f32>,
    pub responses: Vec<String>,
}

#[cfg(test)]
impl Intent {
    /// An intent with no words and normal priority, for tests of the rules.
    pub fn bare(name: &str, action: Action, sensitive: bool) -> Self {
        Intent {
            name: name.into(),
            label: name.into(),
            description: String::new(),
            action,
            sensitive,
            small_talk: false,
            priority: Priority::Normal,
            threshold: None,
            responses: vec![],
        }
    }
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
