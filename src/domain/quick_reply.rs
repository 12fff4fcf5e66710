//! The buttons under a bot message, and what clicking one stands for.

use serde::{Deserialize, Serialize};

use super::intent::{Action, IntentCatalog};
use super::triage::{Decision, HandoffReason};

/// What a quick-reply button sends back as the message's `quick_reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuickReplyValue {
    /// "Talk to a person", with why the shopper was offered one: asked (`customer_requested`),
    /// after two questions out of scope, or after saying the bot's answer did not help.
    Handoff(HandoffReason),
    /// "Yes" to "Did that answer your question?".
    Helped,
    /// Opens the widget's order-details form; the widget handles it itself.
    VerifyForm,
    /// Yes or no to a pending confirmation.
    Yes,
    No,
    /// One of the intents offered when the bot was unsure.
    Intent(String),
    /// One of several listed orders.
    Order(String),
    /// One of several products that matched a question, by name.
    Product(String),
}

const INTENT_PREFIX: &str = "intent:";
const ORDER_PREFIX: &str = "order:";
const PRODUCT_PREFIX: &str = "product:";

impl QuickReplyValue {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "handoff" => Some(Self::Handoff(HandoffReason::CustomerRequested)),
            "handoff:out_of_scope_twice" => Some(Self::Handoff(HandoffReason::OutOfScopeTwice)),
            "handoff:not_answered" => Some(Self::Handoff(HandoffReason::NotAnswered)),
            "feedback:yes" => Some(Self::Helped),
            "verify_form" => Some(Self::VerifyForm),
            "confirm:yes" => Some(Self::Yes),
            "confirm:no" => Some(Self::No),
            _ => {
                let after = |prefix: &str| value.strip_prefix(prefix).filter(|n| !n.is_empty()).map(str::to_string);
                after(INTENT_PREFIX)
                    .map(Self::Intent)
                    .or_else(|| after(ORDER_PREFIX).map(Self::Order))
                    .or_else(|| after(PRODUCT_PREFIX).map(Self::Product))
            }
        }
    }

    /// The text the button sends.
    pub fn value(&self) -> String {
        match self {
            Self::Handoff(HandoffReason::CustomerRequested) => "handoff".into(),
            Self::Handoff(reason) => format!("handoff:{reason}"),
            Self::Helped => "feedback:yes".into(),
            Self::VerifyForm => "verify_form".into(),
            Self::Yes => "confirm:yes".into(),
            Self::No => "confirm:no".into(),
            Self::Intent(name) => format!("{INTENT_PREFIX}{name}"),
            Self::Order(number) => format!("{ORDER_PREFIX}{number}"),
            Self::Product(name) => format!("{PRODUCT_PREFIX}{name}"),
        }
    }

    /// Answers something the bot asked (a confirmation, feedback, a choice of order or product):
    /// meaningless once that question is no longer open.
    pub fn answers_a_question(&self) -> bool {
        matches!(self, Self::Yes | Self::No | Self::Helped | Self::Order(_) | Self::Product(_))
    }

    /// The decision a click stands for, when it stands for one: "Talk to a person" hands off,
    /// and an offered intent runs as if the model had been sure of it (a sensitive one still
    /// goes to a person). Other values answer something the bot asked and decide nothing here.
    pub fn decision(&self, catalog: &IntentCatalog) -> Result<Option<Decision>, UnknownIntent> {
        let name = match self {
            Self::Handoff(reason) => return Ok(Some(Decision::Handoff { reason: *reason, intent: None })),
            Self::Intent(name) => name,
            Self::VerifyForm | Self::Yes | Self::No | Self::Order(_) | Self::Product(_) | Self::Helped => {
                return Ok(None);
            }
        };
        let intent = catalog.get(name).ok_or(UnknownIntent)?;
        let intent_name = Some(intent.name.clone());
        Ok(Some(match intent.action {
            _ if intent.sensitive => Decision::Handoff { reason: HandoffReason::Sensitive, intent: intent_name },
            Action::Handoff => Decision::Handoff { reason: HandoffReason::CustomerRequested, intent: intent_name },
            action => Decision::Answer { intent: intent.name.clone(), action },
        }))
    }
}

/// A quick reply naming an intent the store does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("quick_reply is not a value the bot offered")]
pub struct UnknownIntent;

/// A button as the widget shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub label: String,
    pub value: String,
}

impl QuickReply {
    pub fn new(label: impl Into<String>, value: QuickReplyValue) -> Self {
        Self { label: label.into(), value: value.value() }
    }

    pub fn talk_to_person() -> Self {
        Self::new("Talk to a person", QuickReplyValue::Handoff(HandoffReason::CustomerRequested))
    }

    /// The offer of a person after two questions the bot does not handle.
    pub fn person_after_out_of_scope() -> Self {
        Self::new("Talk to a person", QuickReplyValue::Handoff(HandoffReason::OutOfScopeTwice))
    }

    /// The answers to "Did that answer your question?".
    pub fn answer_feedback() -> Vec<Self> {
        vec![
            Self::new("Yes", QuickReplyValue::Helped),
            Self::new("No, I need a person", QuickReplyValue::Handoff(HandoffReason::NotAnswered)),
        ]
    }

    pub fn order_details_form() -> Self {
        Self::new("Enter order details", QuickReplyValue::VerifyForm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::intent::Intent;

    fn intent(name: &str, action: Action, sensitive: bool) -> Intent {
        Intent::bare(name, action, sensitive)
    }

    fn catalog() -> IntentCatalog {
        IntentCatalog::new(vec![
            intent("order_status", Action::OrderStatus, false),
            intent("complaint", Action::Handoff, true),
            intent("talk_to_human", Action::Handoff, false),
        ])
    }

    #[test]
    fn every_value_round_trips_through_its_text() {
        for v in [
            QuickReplyValue::Handoff(HandoffReason::CustomerRequested),
            QuickReplyValue::Handoff(HandoffReason::OutOfScopeTwice),
            QuickReplyValue::Handoff(HandoffReason::NotAnswered),
            QuickReplyValue::Helped,
            QuickReplyValue::VerifyForm,
            QuickReplyValue::Yes,
            QuickReplyValue::No,
            QuickReplyValue::Intent("order_status".into()),
            QuickReplyValue::Order("10042".into()),
        ] {
            assert_eq!(QuickReplyValue::parse(&v.value()), Some(v));
        }
        assert_eq!(QuickReplyValue::parse("intent:"), None);
        assert_eq!(QuickReplyValue::parse("handoff"), Some(QuickReplyValue::Handoff(HandoffReason::CustomerRequested)));
        assert_eq!(QuickReplyValue::parse("handoff:sensitive"), None, "a shopper cannot choose any reason");
        assert_eq!(QuickReplyValue::parse("something else"), None);
    }

    #[test]
    fn an_offered_intent_runs_its_action() {
        let d = QuickReplyValue::Intent("order_status".into()).decision(&catalog());
        assert_eq!(d, Ok(Some(Decision::Answer { intent: "order_status".into(), action: Action::OrderStatus })));
    }

    #[test]
    fn a_sensitive_intent_clicked_still_goes_to_a_person() {
        let d = QuickReplyValue::Intent("complaint".into()).decision(&catalog()).unwrap().unwrap();
        assert_eq!(d, Decision::Handoff { reason: HandoffReason::Sensitive, intent: Some("complaint".into()) });
    }

    #[test]
    fn talk_to_a_person_hands_off_as_the_shoppers_request() {
        let d = QuickReplyValue::Handoff(HandoffReason::CustomerRequested).decision(&catalog()).unwrap().unwrap();
        assert_eq!(d, Decision::Handoff { reason: HandoffReason::CustomerRequested, intent: None });
        let d = QuickReplyValue::Handoff(HandoffReason::NotAnswered).decision(&catalog()).unwrap().unwrap();
        assert_eq!(d, Decision::Handoff { reason: HandoffReason::NotAnswered, intent: None });
        let d = QuickReplyValue::Intent("talk_to_human".into()).decision(&catalog()).unwrap().unwrap();
        assert_eq!(
            d,
            Decision::Handoff { reason: HandoffReason::CustomerRequested, intent: Some("talk_to_human".into()) }
        );
    }

    #[test]
    fn an_unknown_intent_is_refused_and_answers_decide_nothing() {
        assert_eq!(QuickReplyValue::Intent("nope".into()).decision(&catalog()), Err(UnknownIntent));
        assert_eq!(QuickReplyValue::Yes.decision(&catalog()), Ok(None));
        assert_eq!(QuickReplyValue::Helped.decision(&catalog()), Ok(None));
        assert_eq!(QuickReplyValue::Order("1".into()).decision(&catalog()), Ok(None));
    }
}
