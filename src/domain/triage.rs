//! The triage policy: from a ranking of intents and the conversation's recent history to one
//! decision. Pure: the caller stores the decision and carries out the action.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::intent::{Action, IntentCatalog, OUT_OF_SCOPE, TALK_TO_HUMAN};

/// One intent and the model's confidence in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentScore {
    pub intent: String,
    pub confidence: f32,
}

/// The classifier's output: intents ranked by confidence, highest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub scores: Vec<IntentScore>,
}

impl Ranking {
    pub fn top(&self) -> Option<&IntentScore> {
        self.scores.first()
    }

    /// Top-1 minus top-2 confidence (top-1 alone when there is no second).
    pub fn margin(&self) -> f32 {
        match self.scores.as_slice() {
            [a, b, ..] => a.confidence - b.confidence,
            [a] => a.confidence,
            [] => 0.0,
        }
    }

    pub fn top_n(&self, n: usize) -> &[IntentScore] {
        &self.scores[..n.min(self.scores.len())]
    }
}

/// Calibrated decision thresholds, written by `switchboard train` into the model's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Below this confidence the bot does not act on its guess.
    pub global: f32,
    /// Below this top-1 minus top-2 gap the guess is ambiguous.
    pub margin: f32,
    /// Per-intent thresholds that reach the target precision of automatic answers.
    pub per_intent: BTreeMap<String, f32>,
    /// The precision the per-intent thresholds were chosen for.
    pub target_precision: f32,
}

impl Thresholds {
    pub fn for_intent(&self, intent: &str, catalog: &IntentCatalog) -> f32 {
        catalog
            .get(intent)
            .and_then(|i| i.threshold)
            .or_else(|| self.per_intent.get(intent).copied())
            .unwrap_or(self.global)
    }
}

named_enum! {
    /// Why a conversation was handed to a person. A conversation keeps the reason of its
    /// hand-off while agents release or reassign it; those are events, not new reasons.
    pub enum HandoffReason {
        Sensitive = "sensitive",
        LowConfidence = "low_confidence",
        Ambiguous = "ambiguous",
        CustomerRequested = "customer_requested",
        HandlerError = "handler_error",
        VerificationFailed = "verification_failed",
        /// Out of scope twice in a row, and the shopper took the offer of a person.
        OutOfScopeTwice = "out_of_scope_twice",
        /// The shopper said the bot's answer did not help.
        NotAnswered = "not_answered",
        /// The store's catalogue or profile has no answer to the question.
        NoAnswerInData = "no_answer_in_data",
    }
}

/// Why the bot could not act on its guess this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unclear {
    LowConfidence,
    Ambiguous,
}

impl Unclear {
    fn handoff_reason(self) -> HandoffReason {
        match self {
            Unclear::LowConfidence => HandoffReason::LowConfidence,
            Unclear::Ambiguous => HandoffReason::Ambiguous,
        }
    }
}

/// What the bot does with one shopper message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Run the intent's action.
    Answer { intent: String, action: Action },
    /// Ask once which of these the shopper meant (plus "Talk to a person").
    Clarify { reason: Unclear, options: Vec<String> },
    /// Hand the conversation to a person.
    Handoff { reason: HandoffReason, intent: Option<String> },
    /// Not something the bot handles; say what it can do, offering a person the second time.
    OutOfScope { offer_person: bool },
}

impl Decision {
    /// The kind of decision, as stored with the message and shown in reports.
    pub fn kind(&self) -> DecisionKind {
        match self {
            Decision::Answer { .. } => DecisionKind::Answer,
            Decision::Clarify { .. } => DecisionKind::Clarify,
            Decision::Handoff { .. } => DecisionKind::Handoff,
            Decision::OutOfScope { .. } => DecisionKind::OutOfScope,
        }
    }

    /// Why: the hand-off or clarification reason, or `confident` / `out_of_scope`.
    pub fn reason(&self) -> TriageReason {
        match self {
            Decision::Answer { .. } => TriageReason::Confident,
            Decision::Clarify { reason: Unclear::LowConfidence, .. } => TriageReason::LowConfidence,
            Decision::Clarify { reason: Unclear::Ambiguous, .. } => TriageReason::Ambiguous,
            Decision::Handoff { reason, .. } => TriageReason::from(*reason),
            Decision::OutOfScope { .. } => TriageReason::OutOfScope,
        }
    }

    pub fn outcome(&self) -> TurnOutcome {
        TurnOutcome { decision: self.kind(), reason: self.reason() }
    }
}

named_enum! {
    /// The kind of a triage decision; `none` when a person has the conversation.
    pub enum DecisionKind {
        Answer = "answer",
        Clarify = "clarify",
        Handoff = "handoff",
        OutOfScope = "out_of_scope",
        None = "none",
    }
}

named_enum! {
    /// Why a message got its decision.
    pub enum TriageReason {
        /// The model was sure enough to answer.
        Confident = "confident",
        /// The shopper clicked one of the bot's quick replies.
        QuickReply = "quick_reply",
        /// A yes to what the bot asked (a reorder, whether its answer helped).
        Confirmed = "confirmed",
        /// A no to a pending reorder.
        Declined = "declined",
        /// The shopper chose one of several listed orders.
        OrderChoice = "order_choice",
        /// The shopper chose one of several matching products.
        ProductChoice = "product_choice",
        /// Order number or email for a pending verification.
        Verification = "verification",
        LowConfidence = "low_confidence",
        Ambiguous = "ambiguous",
        Sensitive = "sensitive",
        CustomerRequested = "customer_requested",
        HandlerError = "handler_error",
        VerificationFailed = "verification_failed",
        OutOfScopeTwice = "out_of_scope_twice",
        NotAnswered = "not_answered",
        NoAnswerInData = "no_answer_in_data",
        OutOfScope = "out_of_scope",
        /// A person has the conversation; the bot stays silent.
        WithAgent = "with_agent",
    }
}

impl From<HandoffReason> for TriageReason {
    fn from(reason: HandoffReason) -> Self {
        match reason {
            HandoffReason::Sensitive => TriageReason::Sensitive,
            HandoffReason::LowConfidence => TriageReason::LowConfidence,
            HandoffReason::Ambiguous => TriageReason::Ambiguous,
            HandoffReason::CustomerRequested => TriageReason::CustomerRequested,
            HandoffReason::HandlerError => TriageReason::HandlerError,
            HandoffReason::VerificationFailed => TriageReason::VerificationFailed,
            HandoffReason::OutOfScopeTwice => TriageReason::OutOfScopeTwice,
            HandoffReason::NotAnswered => TriageReason::NotAnswered,
            HandoffReason::NoAnswerInData => TriageReason::NoAnswerInData,
        }
    }
}

/// What came of one shopper message: the kind of decision and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnOutcome {
    pub decision: DecisionKind,
    pub reason: TriageReason,
}

impl TurnOutcome {
    pub const fn new(decision: DecisionKind, reason: TriageReason) -> Self {
        Self { decision, reason }
    }

    pub fn handed_off(reason: HandoffReason) -> Self {
        Self::new(DecisionKind::Handoff, reason.into())
    }

    pub const fn answered(reason: TriageReason) -> Self {
        Self::new(DecisionKind::Answer, reason)
    }
}

/// What the classifier and the policy made of a shopper message, stored with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageRecord {
    /// The top three intents.
    pub intents: Vec<IntentScore>,
    pub decision: DecisionKind,
    pub reason: TriageReason,
    pub model_version: String,
}

impl TriageRecord {
    pub fn new(ranking: &Ranking, outcome: TurnOutcome, model_version: &str) -> Self {
        Self {
            intents: ranking.top_n(3).to_vec(),
            decision: outcome.decision,
            reason: outcome.reason,
            model_version: model_version.to_string(),
        }
    }
}

/// What the policy needs to know about the conversation so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// The previous bot turn asked the shopper to clarify.
    pub clarified_last_turn: bool,
    /// The previous message was out of scope.
    pub out_of_scope_last_turn: bool,
}

/// Decides what to do with a message. `sensitive_phrase` is the category of a matching
/// sensitive-phrase rule, if any.
pub fn decide(
    ranking: &Ranking,
    sensitive_phrase: Option<&str>,
    thresholds: &Thresholds,
    catalog: &IntentCatalog,
    history: History,
) -> Decision {
    let top = ranking.top();
    let top_intent = top.map(|s| s.intent.clone());
    if sensitive_phrase.is_some() {
        return Decision::Handoff { reason: HandoffReason::Sensitive, intent: top_intent };
    }
    let Some(top) = top else {
        return unclear(Unclear::LowConfidence, ranking, history);
    };
    let intent = catalog.get(&top.intent);
    if intent.is_some_and(|i| i.sensitive) {
        return Decision::Handoff { reason: HandoffReason::Sensitive, intent: top_intent };
    }
    if top.intent == OUT_OF_SCOPE {
        return Decision::OutOfScope { offer_person: history.out_of_scope_last_turn };
    }
    if top.confidence < thresholds.for_intent(&top.intent, catalog) {
        return unclear(Unclear::LowConfidence, ranking, history);
    }
    if ranking.margin() < thresholds.margin {
        return unclear(Unclear::Ambiguous, ranking, history);
    }
    if top.intent == TALK_TO_HUMAN {
        return Decision::Handoff { reason: HandoffReason::CustomerRequested, intent: top_intent };
    }
    match intent {
        Some(intent) if intent.action == Action::Handoff => {
            Decision::Handoff { reason: HandoffReason::CustomerRequested, intent: top_intent }
        }
        Some(intent) => Decision::Answer { intent: intent.name.clone(), action: intent.action },
        // An intent the catalog does not know (a benchmark label) is answered as such.
        None => Decision::Answer { intent: top.intent.clone(), action: Action::Answer },
    }
}

fn unclear(reason: Unclear, ranking: &Ranking, history: History) -> Decision {
    if history.clarified_last_turn {
        let intent = ranking.top().map(|s| s.intent.clone());
        return Decision::Handoff { reason: reason.handoff_reason(), intent };
    }
    let options = ranking
        .scores
        .iter()
        .filter(|s| s.intent != OUT_OF_SCOPE && s.intent != TALK_TO_HUMAN)
        .take(2)
        .map(|s| s.intent.clone())
        .collect();
    Decision::Clarify { reason, options }
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
            intent("reorder", Action::Reorder, false),
            intent("complaint", Action::Handoff, true),
            intent(TALK_TO_HUMAN, Action::Handoff, false),
            intent(OUT_OF_SCOPE, Action::Answer, false),
        ])
    }

    fn thresholds() -> Thresholds {
        Thresholds {
            global: 0.5,
            margin: 0.1,
            per_intent: BTreeMap::from([("reorder".to_string(), 0.8)]),
            target_precision: 0.95,
        }
    }

    fn ranking(scores: &[(&str, f32)]) -> Ranking {
        Ranking { scores: scores.iter().map(|(i, c)| IntentScore { intent: i.to_string(), confidence: *c }).collect() }
    }

    fn decide_fresh(r: &Ranking) -> Decision {
        decide(r, None, &thresholds(), &catalog(), History::default())
    }

    #[test]
    fn confident_routine_message_is_answered() {
        let d = decide_fresh(&ranking(&[("order_status", 0.9), ("reorder", 0.05)]));
        assert_eq!(d, Decision::Answer { intent: "order_status".into(), action: Action::OrderStatus });
    }

    #[test]
    fn sensitive_phrase_hands_off_whatever_the_model_says() {
        let r = ranking(&[("order_status", 0.99)]);
        let d = decide(&r, Some("legal_threat"), &thresholds(), &catalog(), History::default());
        assert_eq!(d.kind(), DecisionKind::Handoff);
        assert_eq!(d.reason(), TriageReason::Sensitive);
    }

    #[test]
    fn sensitive_intent_is_handed_off() {
        let d = decide_fresh(&ranking(&[("complaint", 0.7), ("order_status", 0.2)]));
        assert_eq!(d.reason(), TriageReason::Sensitive);
    }

    #[test]
    fn low_confidence_message_is_clarified_once_then_handed_off() {
        let r = ranking(&[("order_status", 0.4), ("reorder", 0.3), (OUT_OF_SCOPE, 0.2)]);
        let first = decide_fresh(&r);
        assert_eq!(
            first,
            Decision::Clarify {
                reason: Unclear::LowConfidence,
                options: vec!["order_status".into(), "reorder".into()]
            }
        );
        let again = History { clarified_last_turn: true, ..History::default() };
        let second = decide(&r, None, &thresholds(), &catalog(), again);
        assert_eq!(second.kind(), DecisionKind::Handoff);
        assert_eq!(second.reason(), TriageReason::LowConfidence);
    }

    #[test]
    fn per_intent_threshold_is_used_over_the_global_one() {
        let d = decide_fresh(&ranking(&[("reorder", 0.7), ("order_status", 0.1)]));
        assert_eq!(d.reason(), TriageReason::LowConfidence);
    }

    #[test]
    fn close_top_two_is_ambiguous() {
        let d = decide_fresh(&ranking(&[("order_status", 0.52), ("reorder", 0.46)]));
        assert_eq!(d.reason(), TriageReason::Ambiguous);
        assert_eq!(d.kind(), DecisionKind::Clarify);
    }

    #[test]
    fn talk_to_human_is_a_customer_request() {
        let d = decide_fresh(&ranking(&[(TALK_TO_HUMAN, 0.95)]));
        assert_eq!(d.reason(), TriageReason::CustomerRequested);
    }

    #[test]
    fn out_of_scope_offers_a_person_the_second_time() {
        let r = ranking(&[(OUT_OF_SCOPE, 0.9)]);
        assert_eq!(decide_fresh(&r), Decision::OutOfScope { offer_person: false });
        let again = History { out_of_scope_last_turn: true, ..History::default() };
        let d = decide(&r, None, &thresholds(), &catalog(), again);
        assert_eq!(d, Decision::OutOfScope { offer_person: true });
    }
}
