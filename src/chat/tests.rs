//! The turn logic with a fake classifier: the real intents, rules, demo store and a SQLite
//! file, but no model, so each test runs in milliseconds.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::handlers::OrderTask;
use super::service::{Bot, ChatService, MessageInput, TurnResult};
use super::turn::{Turn, with_order_data};
use super::{CustomerClaims, EventHub, IdentityKeys};
use crate::classifier::fake::FakeClassifier;
use crate::config::{DEMO_IDENTITY_KEYS, Secret, StoreProfile};
use crate::domain::conversation::{ConversationState, Pending, Sender};
use crate::domain::events::{ConversationEvent, StateChange};
use crate::domain::intent::{IntentCatalog, Priority};
use crate::domain::outcome::Outcome;
use crate::domain::triage::{DecisionKind, HandoffReason, Thresholds, TriageReason, TurnOutcome};
use crate::store::Store;

struct Harness {
    chat: ChatService,
    store: Store,
    keys: IdentityKeys,
    _dir: tempfile::TempDir,
}

fn classifier() -> FakeClassifier {
    let thresholds = Thresholds { global: 0.5, margin: 0.1, per_intent: BTreeMap::new(), target_precision: 0.95 };
    FakeClassifier::new(thresholds)
        .on("where is my order", &[("order_status", 0.95), ("reorder", 0.02)])
        .on("order it again", &[("reorder", 0.93), ("order_status", 0.03)])
        .on("hello", &[("greeting", 0.97)])
        .on("mumble", &[("order_status", 0.35), ("refund_status", 0.3), ("out_of_scope", 0.2)])
        .on("in stock", &[("product_availability", 0.95)])
        .on("coming back", &[("product_availability", 0.95)])
        .on("made of", &[("product_question", 0.95)])
        .on("ship to", &[("shipping_international", 0.95)])
        .on("promo code", &[("discount_code", 0.95)])
        .on("never arrived", &[("missing_parcel", 0.95)])
}

async fn harness() -> Harness {
    harness_with(StoreProfile::default()).await
}

async fn harness_with(profile: StoreProfile) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("chat.db").display())).await.unwrap();
    crate::demo::seed(&store).await.unwrap();
    let intents = Path::new(env!("CARGO_MANIFEST_DIR")).join("intents");
    let catalog =
        IntentCatalog::new(crate::intents::load_dir(&intents).unwrap().into_iter().map(|d| d.intent).collect());
    let rules = crate::intents::load_rules(&intents).unwrap();
    let keys = IdentityKeys::parse(DEMO_IDENTITY_KEYS).unwrap();
    let chat = ChatService::new(
        store.clone(),
        Arc::new(classifier()),
        Arc::new(catalog),
        Arc::new(rules),
        keys.clone(),
        profile,
        EventHub::new(),
        crate::util::AddressKey::new(Secret::new("test-ip-key")),
    );
    Harness { chat, store, keys, _dir: dir }
}

/// A started conversation's id and token.
struct Conv {
    id: String,
    token: String,
}

impl Harness {
    async fn start(&self, signed_in: bool) -> Conv {
        let token = signed_in.then(|| {
            let claims = CustomerClaims {
                customer_id: crate::demo::DEMO_CUSTOMER_ID.into(),
                email: crate::demo::DEMO_CUSTOMER_EMAIL.into(),
                exp: chrono::Utc::now().timestamp() + 3600,
                kid: "demo".into(),
            };
            self.keys.sign(&claims).unwrap()
        });
        let started = self.chat.start(token.as_deref()).await.unwrap();
        Conv { id: started.conversation_id, token: started.conversation_token }
    }

    async fn send(&self, conv: &Conv, text: &str, quick_reply: Option<&str>) -> TurnResult {
        let input = MessageInput {
            text: text.into(),
            client_message_id: crate::util::random_hex(8),
            quick_reply: quick_reply.map(str::to_string),
        };
        self.chat.send(&conv.id, &conv.token, input, std::net::Ipv4Addr::LOCALHOST.into()).await.unwrap()
    }
}

impl Harness {
    /// What the chat service hands its turn functions, for calling them directly.
    fn bot(&self) -> Bot {
        Bot {
            store: self.store.clone(),
            catalog: Arc::new(self.chat.catalog().clone()),
            rules: Arc::default(),
            profile: StoreProfile::default(),
            events: EventHub::new(),
        }
    }

    async fn stored(&self, conv: &Conv) -> crate::domain::conversation::Conversation {
        self.store.conversation(&conv.id).await.unwrap().unwrap()
    }
}

fn outcome(r: &TurnResult) -> (DecisionKind, TriageReason) {
    let t = r.triage.as_ref().expect("a triage record");
    (t.decision, t.reason)
}

fn bot_text(r: &TurnResult) -> String {
    r.replies.iter().filter(|m| m.sender == Sender::Bot).map(|m| m.text.as_str()).collect::<Vec<_>>().join("\n")
}

fn events(r: &TurnResult) -> Vec<ConversationEvent> {
    r.replies.iter().filter_map(|m| m.event.clone()).collect()
}

fn quick_values(r: &TurnResult) -> Vec<String> {
    r.replies.iter().flat_map(|m| m.quick_replies.iter().map(|q| q.value.clone())).collect()
}

#[tokio::test]
async fn a_signed_in_shopper_asking_where_their_order_is_gets_their_orders() {
    let h = harness().await;
    let conv = h.start(true).await;
    let r = h.send(&conv, "Where is my order?", None).await;
    assert_eq!(outcome(&r), (DecisionKind::Answer, TriageReason::Confident));
    assert_eq!(r.triage.as_ref().unwrap().model_version, "fake");
    assert!(bot_text(&r).contains('#'), "an order number from the demo store: {}", bot_text(&r));
    assert_eq!(r.state, ConversationState::Bot);
}

#[tokio::test]
async fn a_guest_is_asked_to_verify_before_any_order_data() {
    let h = harness().await;
    let conv = h.start(false).await;
    let r = h.send(&conv, "where is my order", None).await;
    assert!(bot_text(&r).contains("confirm it's your order"), "{}", bot_text(&r));
    assert!(quick_values(&r).contains(&"verify_form".to_string()));
    let stored = h.store.conversation(&conv.id).await.unwrap().unwrap();
    assert!(matches!(stored.pending, Some(Pending::Verification { .. })));
    assert!(!stored.verified());
}

#[tokio::test]
async fn an_unclear_message_is_clarified_once_then_handed_to_a_person() {
    let h = harness().await;
    let conv = h.start(false).await;
    let first = h.send(&conv, "mumble", None).await;
    assert_eq!(outcome(&first), (DecisionKind::Clarify, TriageReason::LowConfidence));
    assert_eq!(quick_values(&first), ["intent:order_status", "intent:refund_status", "handoff"]);
    let second = h.send(&conv, "mumble mumble", None).await;
    assert_eq!(outcome(&second), (DecisionKind::Handoff, TriageReason::LowConfidence));
    assert_eq!(second.state, ConversationState::Queued);
    let queued = StateChange::Queued { reason: HandoffReason::LowConfidence, released_by: None };
    assert_eq!(events(&second), vec![ConversationEvent::from(queued)]);
    // Queued: the bot stays silent and only keeps the message for the person.
    let third = h.send(&conv, "hello?", None).await;
    assert_eq!(outcome(&third), (DecisionKind::None, TriageReason::WithAgent));
    assert!(third.replies.is_empty());
}

#[tokio::test]
async fn a_clicked_clarification_runs_the_intent() {
    let h = harness().await;
    let conv = h.start(true).await;
    h.send(&conv, "mumble", None).await;
    let r = h.send(&conv, "Where is my order?", Some("intent:order_status")).await;
    assert_eq!(outcome(&r), (DecisionKind::Answer, TriageReason::QuickReply));
}

#[tokio::test]
async fn a_sensitive_phrase_goes_to_a_person_at_its_rules_priority_whatever_the_model_says() {
    let h = harness().await;
    let conv = h.start(false).await;
    let r = h.send(&conv, "hello, someone used my card on your site", None).await;
    assert_eq!(outcome(&r), (DecisionKind::Handoff, TriageReason::Sensitive));
    let stored = h.store.conversation(&conv.id).await.unwrap().unwrap();
    let handoff = stored.handoff.expect("queued");
    assert_eq!((handoff.reason, handoff.priority), (HandoffReason::Sensitive, Priority::Urgent));
}

#[tokio::test]
async fn out_of_scope_offers_a_person_the_second_time_in_a_row() {
    let h = harness().await;
    let conv = h.start(false).await;
    let first = h.send(&conv, "what's the capital of Peru", None).await;
    assert_eq!(outcome(&first), (DecisionKind::OutOfScope, TriageReason::OutOfScope));
    assert!(quick_values(&first).is_empty());
    let second = h.send(&conv, "and of Chile", None).await;
    assert_eq!(quick_values(&second), ["handoff:out_of_scope_twice"]);
    let taken = h.send(&conv, "Talk to a person", Some("handoff:out_of_scope_twice")).await;
    assert_eq!(outcome(&taken), (DecisionKind::Handoff, TriageReason::OutOfScopeTwice));
    let stored = h.store.conversation(&conv.id).await.unwrap().unwrap();
    assert_eq!(stored.handoff.map(|h| h.reason), Some(HandoffReason::OutOfScopeTwice));
}

#[tokio::test]
async fn after_an_answer_the_bot_asks_whether_it_helped_and_a_yes_resolves_it() {
    let h = harness().await;
    let conv = h.start(true).await;
    let r = h.send(&conv, "where is my order", None).await;
    assert!(bot_text(&r).ends_with("Did that answer your question?"), "{}", bot_text(&r));
    assert_eq!(quick_values(&r), ["feedback:yes", "handoff:not_answered"]);
    let stored = h.store.conversation(&conv.id).await.unwrap().unwrap();
    assert!(stored.answered_at.is_some() && stored.got_answer);
    let yes = h.send(&conv, "Yes", Some("feedback:yes")).await;
    assert_eq!(outcome(&yes), (DecisionKind::Answer, TriageReason::Confirmed));
    assert_eq!((yes.state, yes.can_rate), (ConversationState::Resolved, true));
    assert_eq!(events(&yes), [ConversationEvent::Outcome { outcome: Outcome::BotConfirmed }]);
}

#[tokio::test]
async fn small_talk_before_answering_the_question_leaves_it_open() {
    let h = harness().await;
    let conv = h.start(true).await;
    h.send(&conv, "where is my order", None).await;
    let hello = h.send(&conv, "hello", None).await;
    assert!(quick_values(&hello).is_empty());
    let yes = h.send(&conv, "yes", None).await;
    assert_eq!(outcome(&yes), (DecisionKind::Answer, TriageReason::Confirmed));
    let stored = h.stored(&conv).await;
    assert_eq!((stored.outcome.map(|s| s.outcome), stored.recontacted), (Some(Outcome::BotConfirmed), false));
}

#[tokio::test]
async fn a_no_hands_off_as_not_answered_and_small_talk_asks_nothing() {
    let h = harness().await;
    let conv = h.start(true).await;
    let hello = h.send(&conv, "hello", None).await;
    assert!(quick_values(&hello).is_empty(), "a greeting is not an answer to rate");
    h.send(&conv, "where is my order", None).await;
    let no = h.send(&conv, "no", None).await;
    assert_eq!(outcome(&no), (DecisionKind::Handoff, TriageReason::NotAnswered));
    let stored = h.store.conversation(&conv.id).await.unwrap().unwrap();
    let handoff = stored.handoff.expect("queued");
    assert_eq!((handoff.reason, handoff.intent.as_deref()), (HandoffReason::NotAnswered, Some("order_status")));
    assert_eq!(stored.outcome, None);
}

#[tokio::test]
async fn quiet_conversations_are_settled_as_assumed_or_abandoned() {
    let h = harness().await;
    let (answered, unanswered, empty) = (h.start(true).await, h.start(false).await, h.start(false).await);
    h.send(&answered, "where is my order", None).await;
    h.send(&unanswered, "mumble", None).await;
    assert_eq!(h.chat.settle_idle(std::time::Duration::from_secs(60)).await.unwrap(), 0, "not quiet long enough");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(h.chat.settle_idle(std::time::Duration::from_millis(10)).await.unwrap(), 2);
    let a = h.stored(&answered).await;
    assert_eq!((a.state, a.outcome.map(|s| s.outcome)), (ConversationState::Resolved, Some(Outcome::BotAssumed)));
    let u = h.stored(&unanswered).await;
    assert_eq!((u.state, u.outcome.map(|s| s.outcome)), (ConversationState::Bot, Some(Outcome::Abandoned)));
    assert_eq!(h.stored(&empty).await.outcome, None, "never written in: not a conversation yet");
    // Writing again within a day of the bot's resolution is a re-contact.
    let again = h.send(&answered, "order it again", None).await;
    assert_eq!(again.state, ConversationState::Bot);
    let a = h.stored(&answered).await;
    assert!(a.recontacted, "re-contacted");
}

#[tokio::test]
async fn a_confirmed_reorder_gives_one_cart_link_and_is_not_confirmed_again() {
    let h = harness().await;
    let conv = h.start(true).await;
    let proposal = h.send(&conv, "order it again please", None).await;
    assert!(quick_values(&proposal).contains(&"confirm:yes".to_string()), "{}", bot_text(&proposal));
    let Some(Pending::ReorderConfirmation { source, .. }) =
        h.store.conversation(&conv.id).await.unwrap().unwrap().pending
    else {
        panic!("a reorder waits for a yes");
    };
    let yes = h.send(&conv, "yes", Some("confirm:yes")).await;
    assert_eq!(outcome(&yes), (DecisionKind::Answer, TriageReason::Confirmed));
    assert!(bot_text(&yes).starts_with("Here's your cart"), "{}", bot_text(&yes));
    assert_eq!(h.store.cart_links_of(&conv.id).await.unwrap().len(), 1);
    assert!(h.store.orders_from_source(&source).await.unwrap().is_empty(), "no order is invented");
    // The proposal is used up: a later click says nothing new was done.
    let again = h.send(&conv, "yes", Some("confirm:yes")).await;
    assert!(!bot_text(&again).contains("Here's your cart"), "{}", bot_text(&again));
    assert!(bot_text(&again).contains("nothing new was done"), "{}", bot_text(&again));
    assert_eq!(h.store.cart_links_of(&conv.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_second_confirmation_of_one_proposal_gives_the_same_cart_again() {
    let h = harness().await;
    let conv = h.start(true).await;
    h.send(&conv, "order it again please", None).await;
    let Some(Pending::ReorderConfirmation { source, key }) = h.stored(&conv).await.pending else {
        panic!("a reorder waits for a yes");
    };
    let yes = h.send(&conv, "yes", Some("confirm:yes")).await;
    assert!(bot_text(&yes).starts_with("Here's your cart"), "{}", bot_text(&yes));
    let first = h.store.cart_links_of(&conv.id).await.unwrap();
    // The same proposal confirmed again (a retry, a second tab): the same link, said as such.
    let bot = h.bot();
    let mut tx = h.store.begin().await.unwrap();
    let mut turn = Turn::new(tx.lock_conversation(&conv.id).await.unwrap().unwrap());
    let task = OrderTask::ConfirmReorder { source: source.clone(), key };
    let confirmed = TurnOutcome::answered(TriageReason::Confirmed);
    with_order_data(&bot, &mut tx, &mut turn, "reorder", task, confirmed).await.unwrap();
    tx.commit().await.unwrap();
    let said = &turn.replies.last().unwrap().text;
    assert!(said.starts_with("Here's your cart again"), "{said}");
    assert!(said.contains(&first[0].links[0].url), "{said}");
    assert_eq!(h.store.cart_links_of(&conv.id).await.unwrap(), first, "one cart recorded");
}

#[tokio::test]
async fn stock_questions_are_answered_from_the_catalogue_without_verification() {
    let h = harness().await;
    let conv = h.start(false).await;
    for (question, expected) in [
        (
            "trail runners in size 47 in stock?",
            "Sorry, we don't have the Trail Runners in size 47. It comes in EU 40, EU 41",
        ),
        ("trail runners eu 44 in stock?", "Yes, we have the Trail Runners in EU 44 in stock, at £119.00."),
        ("is the beanie coming back?", "We're out of the Ribbed Beanie at the moment. We expect more on "),
        (
            "the grey hoodie in stock?",
            "We're out of the Heavyweight Hoodie in grey at the moment, and we don't have a date",
        ),
        ("fig candle in stock", "Sorry, we no longer sell the Fig & Cedar Candle."),
        (
            "jeans in stock",
            "Here's the Straight Leg Jeans (£69.00):\n• In stock: 30, 32, 36\n• Out of stock: 34 (more expected on",
        ),
    ] {
        let r = h.send(&conv, question, None).await;
        assert_eq!(outcome(&r), (DecisionKind::Answer, TriageReason::Confident), "{question}");
        assert!(bot_text(&r).starts_with(expected), "{question}: {}", bot_text(&r));
        assert!(quick_values(&r).contains(&"feedback:yes".to_string()), "asks whether it helped: {question}");
    }
    assert!(h.stored(&conv).await.identity.is_none(), "no verification asked for");
}

#[tokio::test]
async fn a_question_matching_several_products_asks_which_one() {
    let h = harness().await;
    let conv = h.start(false).await;
    let r = h.send(&conv, "is the cotton one in stock", None).await;
    assert_eq!(
        quick_values(&r),
        ["product:Organic Cotton Tee", "product:Washed Cotton Cap", "handoff"],
        "{}",
        bot_text(&r)
    );
    let chosen = h.send(&conv, "Washed Cotton Cap", Some("product:Washed Cotton Cap")).await;
    assert_eq!(outcome(&chosen), (DecisionKind::Answer, TriageReason::ProductChoice));
    assert!(bot_text(&chosen).starts_with("Sorry, we no longer sell the Washed Cotton Cap."), "{}", bot_text(&chosen));
    // Typing a name works as well as clicking it.
    h.send(&conv, "and is the cotton one in stock", None).await;
    let typed = h.send(&conv, "the tee", None).await;
    assert!(bot_text(&typed).starts_with("Here's the Organic Cotton Tee (£22.00):\n• In stock: black, white\n• Out of stock: green (more expected on "), "{}", bot_text(&typed));
}

#[tokio::test]
async fn product_questions_are_answered_from_product_details_or_go_to_a_person() {
    let h = harness().await;
    let conv = h.start(false).await;
    let r = h.send(&conv, "what are the trail runners made of", None).await;
    assert!(
        bot_text(&r).starts_with("About the material of the Trail Runners: A recycled mesh upper"),
        "{}",
        bot_text(&r)
    );
    let conv = h.start(false).await;
    let r = h.send(&conv, "what is the brass pen made of", None).await;
    assert_eq!(outcome(&r), (DecisionKind::Handoff, TriageReason::NoAnswerInData), "{}", bot_text(&r));
    assert!(bot_text(&r).contains("I don't have the details of the material of the Brass Pen"), "{}", bot_text(&r));
    assert_eq!(h.stored(&conv).await.handoff.map(|h| h.reason), Some(HandoffReason::NoAnswerInData));
}

#[tokio::test]
async fn delivery_abroad_is_answered_for_the_country_asked_about() {
    let h = harness().await;
    let conv = h.start(false).await;
    let r = h.send(&conv, "do you ship to canada?", None).await;
    assert!(
        bot_text(&r).starts_with("Yes, we deliver to Canada. Delivery abroad takes 5-10 working days."),
        "{}",
        bot_text(&r)
    );
    let r = h.send(&conv, "and do you ship to brazil", None).await;
    assert!(
        bot_text(&r)
            .starts_with("Sorry, we don't deliver to Brazil at the moment. We deliver to United Kingdom, Ireland"),
        "{}",
        bot_text(&r)
    );
}

#[tokio::test]
async fn an_answer_the_store_profile_has_no_words_for_goes_to_a_person() {
    let h = harness_with(StoreProfile {
        discount_codes: String::new(),
        shipping_countries: Vec::new(),
        ..StoreProfile::default()
    })
    .await;
    for question in ["my promo code SPRING20 doesnt work", "do you ship to canada"] {
        let conv = h.start(false).await;
        let r = h.send(&conv, question, None).await;
        assert_eq!(outcome(&r), (DecisionKind::Handoff, TriageReason::NoAnswerInData), "{question}: {}", bot_text(&r));
        assert!(!bot_text(&r).contains('{'), "no unfilled placeholder: {}", bot_text(&r));
    }
    let default = harness().await;
    let dconv = default.start(false).await;
    let r = default.send(&dconv, "my promo code SPRING20 doesnt work", None).await;
    assert!(bot_text(&r).starts_with("Enter the code in the \"Discount code\" box"), "{}", bot_text(&r));
}

#[tokio::test]
async fn a_missing_parcel_goes_to_a_person_first_with_the_order_attached() {
    let h = harness().await;
    let conv = h.start(true).await;
    let r = h.send(&conv, "tracking says delivered but the parcel never arrived", None).await;
    assert_eq!(outcome(&r).0, DecisionKind::Handoff, "{}", bot_text(&r));
    assert!(!bot_text(&r).contains("on its way"), "never answered with a status: {}", bot_text(&r));
    let stored = h.stored(&conv).await;
    let handoff = stored.handoff.expect("queued");
    assert_eq!(handoff.priority, Priority::High);
    let attached = stored.attached_order.expect("the shopper's latest shipped order is attached");
    let order = h.store.order(&attached).await.unwrap().unwrap();
    assert_eq!(order.customer_id.as_deref(), Some(crate::demo::DEMO_CUSTOMER_ID));
    assert!(order.status.in_delivery() || order.status == crate::domain::orders::OrderStatus::Delivered);
    // A guest's claim is kept as the number they gave, and nothing more.
    let guest = h.start(false).await;
    h.send(&guest, "my parcel never arrived", None).await;
    assert_eq!(h.stored(&guest).await.attached_order, None);
}

#[tokio::test]
async fn an_unknown_quick_reply_is_refused_and_nothing_is_stored() {
    let h = harness().await;
    let conv = h.start(false).await;
    let before = h.store.write_counts().await.unwrap();
    for value in ["intent:no_such_intent", "something the bot never offered"] {
        let input = MessageInput { text: "hi".into(), client_message_id: "q1".into(), quick_reply: Some(value.into()) };
        let err = h.chat.send(&conv.id, &conv.token, input, std::net::Ipv4Addr::LOCALHOST.into()).await.unwrap_err();
        assert!(matches!(err, super::ChatError::Invalid("invalid_quick_reply", _)), "{value}: {err:?}");
    }
    assert_eq!(h.store.write_counts().await.unwrap(), before);
}

#[tokio::test]
async fn a_failed_order_handler_takes_back_what_it_said_and_hands_off() {
    let h = harness().await;
    let conv = h.start(false).await;
    let bot = h.bot();
    let mut tx = h.store.begin().await.unwrap();
    let mut turn = Turn::new(tx.lock_conversation(&conv.id).await.unwrap().unwrap());
    turn.say("Let me look.");
    // An unverified conversation has no order data: the task fails.
    let task = OrderTask::ConfirmReorder { source: "10001".into(), key: "k".into() };
    let success = TurnOutcome::answered(TriageReason::Confirmed);
    let got = with_order_data(&bot, &mut tx, &mut turn, "reorder", task, success).await.unwrap();
    assert_eq!(got, TurnOutcome::handed_off(HandoffReason::HandlerError));
    assert_eq!(turn.conversation.state, ConversationState::Queued);
    assert_eq!(turn.replies[0].text, "Let me look.", "what was said before the task stays");
    assert!(turn.replies.iter().any(|m| m.event.is_some()), "the hand-off is recorded");
}
