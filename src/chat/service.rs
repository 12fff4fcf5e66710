//! The shopper-facing operations: start, send, read, verify, ask for a person, rate. Every
//! message and decision is stored, in one transaction, before the reply is returned.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::events::EventHub;
use super::identity::IdentityKeys;
use super::turn::{Input, Turn, hand_off, respond};
use super::verify::verify_guest;
use crate::classifier::{Classified, ClassifierError, HeadMetadata, IntentClassifier, RankWorkers};
use crate::config::StoreProfile;
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::conversation::{Conversation, ConversationState, Identity, Message};
use crate::domain::intent::IntentCatalog;
use crate::domain::model::Guess;
use crate::domain::outcome::RatingError;
use crate::domain::quick_reply::QuickReplyValue;
use crate::domain::text::{TextError, validate_message};
use crate::domain::triage::{
    DecisionKind, HandoffReason, History, IntentScore, Ranking, TriageReason, TriageRecord, decide,
};
use crate::intents::SensitiveRules;
use crate::store::{Change, NewMessage, Store, StoreError, Tx, now_ms};
use crate::util::{AddressKey, random_hex, sha256_hex};

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// Unknown id, wrong token, or someone else's conversation: all look the same.
    #[error("no such conversation")]
    NotFound,
    #[error("{1}")]
    Invalid(&'static str, String),
    #[error("{1}")]
    Conflict(&'static str, String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Classifier(#[from] ClassifierError),
}

impl From<TextError> for ChatError {
    fn from(e: TextError) -> Self {
        ChatError::Invalid("invalid_message", e.to_string())
    }
}

/// A new conversation, with the token the shopper must present from now on.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub conversation_id: String,
    pub conversation_token: String,
    pub state: ConversationState,
    pub verified: bool,
    pub messages: Vec<Message>,
}

/// What a shopper sent.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageInput {
    pub text: String,
    pub client_message_id: String,
    /// The value of a quick-reply button, when the shopper clicked one.
    pub quick_reply: Option<String>,
}

/// The stored outcome of one shopper message (also what a retry gets back).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TurnResult {
    pub message: Option<Message>,
    pub replies: Vec<Message>,
    pub state: ConversationState,
    pub triage: Option<TriageRecord>,
    #[serde(default)]
    pub verified: bool,
    /// The widget asks for a rating: the conversation is resolved, had an answer, is unrated.
    #[serde(default)]
    pub can_rate: bool,
}

/// A conversation's state and messages, as the shopper reads them.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    pub state: ConversationState,
    pub verified: bool,
    pub rating: Option<i64>,
    /// The widget asks for a rating: the conversation is resolved, had an answer, is unrated.
    pub can_rate: bool,
    pub messages: Vec<Message>,
}

/// What triage makes of a text as the first message of a conversation.
#[derive(Debug, Clone, Serialize)]
pub struct Classification {
    pub intents: Vec<IntentScore>,
    pub decision: DecisionKind,
    pub reason: TriageReason,
    pub sensitive_phrase: Option<String>,
    pub model_version: String,
}

/// What the bot knows while it handles a turn: the store's data and words, the intents, the
/// sensitive-phrase rules, and who is online.
pub(super) struct Bot {
    pub store: Store,
    pub catalog: Arc<IntentCatalog>,
    pub rules: Arc<SensitiveRules>,
    pub profile: StoreProfile,
    pub events: EventHub,
}

impl Bot {
    /// The first response template of an intent, filled from the store profile.
    pub fn template(&self, intent: &str) -> Option<String> {
        self.catalog.get(intent).and_then(|i| i.responses.first()).map(|t| self.profile.fill(t))
    }
}

pub struct ChatService {
    pub(super) bot: Bot,
    classifier: Arc<dyn IntentClassifier>,
    rank_workers: RankWorkers,
    identity: IdentityKeys,
    address_key: AddressKey,
}

const MAX_CLIENT_MESSAGE_ID: usize = 100;

impl ChatService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        classifier: Arc<dyn IntentClassifier>,
        catalog: Arc<IntentCatalog>,
        rules: Arc<SensitiveRules>,
        identity: IdentityKeys,
        profile: StoreProfile,
        events: EventHub,
        address_key: AddressKey,
    ) -> Self {
        let rank_workers = RankWorkers::start(classifier.clone());
        let bot = Bot { store, catalog, rules, profile, events };
        Self { bot, classifier, rank_workers, identity, address_key }
    }

    pub fn events(&self) -> &EventHub {
        &self.bot.events
    }

    pub fn catalog(&self) -> &IntentCatalog {
        &self.bot.catalog
    }

    pub fn identity_keys(&self) -> &IdentityKeys {
        &self.identity
    }

    /// The live model's version.
    pub fn model_version(&self) -> String {
        self.classifier.live().version.clone()
    }

    /// Whether the database answers within `limit`.
    pub async fn ready(&self, limit: std::time::Duration) -> Result<(), ChatError> {
        Ok(self.bot.store.ping(limit).await?)
    }

    /// Ranks the intents of `text` on the classifier's threads, in arrival order, and says
    /// what triage would do with it as a conversation's first message.
    pub async fn classify(&self, text: &str) -> Result<Classification, ChatError> {
        validate_message(text)?;
        let Classified { ranking, model, .. } = self.classify_timed(text).await?;
        let (decision, phrase) = self.bot.rules.first_message(text, &ranking, &model.thresholds, &self.bot.catalog);
        Ok(Classification {
            intents: ranking.top_n(5).to_vec(),
            decision: decision.kind(),
            reason: decision.reason(),
            sensitive_phrase: phrase.map(|m| m.category.to_string()),
            model_version: model.version.clone(),
        })
    }

    /// Starts a conversation. A valid customer token makes it verified for that customer; a
    /// bad or expired one just means an anonymous shopper.
    pub async fn start(&self, customer_token: Option<&str>) -> Result<Started, ChatError> {
        let identity = match customer_token {
            Some(token) => self.identity_from_token(token).await?,
            None => None,
        };
        let id = random_hex(16);
        let token = random_hex(32);
        let mut tx = self.bot.store.begin().await?;
        let mut conversation = tx.create_conversation(&id, &hash_token(&token), identity.as_ref()).await?;
        let store_name = &self.bot.profile.store_name;
        let greeting = match &identity {
            Some(_) => format!(
                "Hi! I'm the {store_name} assistant. I can track your orders, order something again, and answer questions about delivery, returns and payment. How can I help?"
            ),
            None => format!(
                "Hi! I'm the {store_name} assistant. I can help with orders, delivery, returns and payment. How can I help?"
            ),
        };
        let message = tx.append(&mut conversation, NewMessage::bot(greeting, Vec::new())).await?;
        tx.save_conversation(&conversation).await?;
        tx.commit().await?;
        tracing::info!(conversation = %id, verified = identity.is_some(), "conversation started");
        Ok(Started {
            conversation_id: id,
            conversation_token: token,
            state: conversation.state,
            verified: identity.is_some(),
            messages: vec![message],
        })
    }

    async fn identity_from_token(&self, token: &str) -> Result<Option<Identity>, ChatError> {
        let now = chrono::Utc::now().timestamp();
        let claims = match self.identity.verify(token, now) {
            Ok(claims) => claims,
            Err(e) => {
                tracing::info!(reason = %e, "customer token refused; continuing as a guest");
                return Ok(None);
            }
        };
        // The customer must exist in the store's data, or the token names no one we know.
        if self.bot.store.customer(&claims.customer_id).await?.is_none() {
            tracing::info!("customer token names an unknown customer; continuing as a guest");
            return Ok(None);
        }
        Ok(Some(Identity::signed_in(claims.customer_id)))
    }

    /// The conversation behind an id and token, or `NotFound`.
    pub async fn authorize(&self, id: &str, token: &str) -> Result<Conversation, ChatError> {
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || token.is_empty() {
            return Err(ChatError::NotFound);
        }
        self.bot.store.conversation_for_token(id, &hash_token(token)).await?.ok_or(ChatError::NotFound)
    }

    /// The shopper's view of their conversation: its state and the messages after `after`.
    pub async fn transcript(&self, id: &str, token: &str, after: i64) -> Result<Transcript, ChatError> {
        let conversation = self.authorize(id, token).await?;
        let messages = self.messages_since(id, after).await?;
        Ok(Transcript {
            state: conversation.state,
            verified: conversation.verified(),
            rating: conversation.rating,
            can_rate: conversation.rating_wanted(),
            messages,
        })
    }

    /// Messages the shopper may see after `after`, for a conversation already authorized.
    pub async fn messages_since(&self, conversation_id: &str, after: i64) -> Result<Vec<Message>, ChatError> {
        Ok(self.bot.store.messages_after(conversation_id, after.max(0), false).await?)
    }

    /// Handles one shopper message. The same `client_message_id` again returns the stored
    /// result and stores nothing new.
    pub async fn send(
        &self,
        id: &str,
        token: &str,
        input: MessageInput,
        address: IpAddr,
    ) -> Result<TurnResult, ChatError> {
        validate_message(&input.text)?;
        let cmid = input.client_message_id.trim();
        if cmid.is_empty() || cmid.len() > MAX_CLIENT_MESSAGE_ID || cmid.chars().any(char::is_control) {
            return Err(ChatError::Invalid(
                "invalid_client_message_id",
                format!("client_message_id must be 1 to {MAX_CLIENT_MESSAGE_ID} printable characters"),
            ));
        }
        let quick_reply = match input.quick_reply.as_deref() {
            Some(value) => Some(QuickReplyValue::parse(value).ok_or_else(|| {
                ChatError::Invalid("invalid_quick_reply", "quick_reply is not a value the bot offered".into())
            })?),
            None => None,
        };
        let reading = Instant::now();
        let conversation = self.authorize(id, token).await?;
        let request_hash =
            sha256_hex(format!("{}\u{0}{}", input.text, input.quick_reply.as_deref().unwrap_or("")).as_bytes());
        if let Some(result) = replay(self.bot.store.idempotent_response(id, cmid).await?, &request_hash)? {
            return Ok(result);
        }
        let read = reading.elapsed();
        let classified = self.classify_timed(&input.text).await?;
        let turn_started = Instant::now();
        let (mut tx, mut turn) = self.open_turn(&conversation.id).await?;
        if let Some(result) = replay(tx.idempotent_response(id, cmid).await?, &request_hash)? {
            return Ok(result);
        }
        let shadow = classified.shadow.as_ref().map(|(ranking, model)| {
            let guess =
                |ranking: &Ranking, model: &HeadMetadata| self.guess(&input.text, ranking, model, &turn.conversation);
            ShadowGuess {
                version: model.version.clone(),
                guess: guess(ranking, model),
                live_version: classified.model.version.clone(),
                live: guess(&classified.ranking, &classified.model),
            }
        });
        let ip_hash = self.address_key.hash(address);
        let turn_input = Input {
            text: &input.text,
            quick_reply: quick_reply.as_ref(),
            ip_hash: &ip_hash,
            ranking: &classified.ranking,
            thresholds: &classified.model.thresholds,
        };
        let start = turn.conversation.start_shopper_turn();
        let outcome = respond(&self.bot, &mut tx, &mut turn, &turn_input).await?;
        let now = now_ms();
        turn.ask_whether_it_helped(now);
        let small_talk_only = turn.small_talk;
        turn.conversation.finish_shopper_turn(start, small_talk_only, now);
        let triage = TriageRecord::new(&classified.ranking, outcome, &classified.model.version);
        let shopper = Shopper { message: NewMessage::shopper(input.text, cmid, triage), cmid, request_hash, shadow };
        let (result, notified) = self.commit_timed(tx, turn, Some(shopper)).await?;
        Stage::Database.record(read + turn_started.elapsed().saturating_sub(notified));
        tracing::info!(conversation = %id, decision = %outcome.decision, reason = %outcome.reason, "message handled");
        Ok(result)
    }

    /// Guest verification from the widget's form.
    pub async fn verify(
        &self,
        id: &str,
        token: &str,
        order_number: &str,
        email: &str,
        address: IpAddr,
    ) -> Result<TurnResult, ChatError> {
        if order_number.trim().is_empty() || order_number.len() > 64 || email.trim().is_empty() || email.len() > 254 {
            return Err(ChatError::Invalid("invalid_verification", "order_number and email are required".into()));
        }
        let conversation = self.authorize(id, token).await?;
        let (mut tx, mut turn) = self.open_turn(&conversation.id).await?;
        // While a person has the conversation the bot neither checks details nor speaks (and a
        // conversation handed off for failed attempts is not re-queued or unlocked).
        if turn.conversation.state.bot_is_silent() {
            let c = &turn.conversation;
            return Ok(TurnResult {
                message: None,
                replies: Vec::new(),
                state: c.state,
                triage: None,
                verified: c.verified(),
                can_rate: c.rating_wanted(),
            });
        }
        // Like a message: it starts the conversation for the figures and reopens a settled one.
        tx.mark_started(&conversation.id, now_ms(), None, None).await?;
        let start = turn.conversation.start_shopper_turn();
        verify_guest(&self.bot, &mut tx, &mut turn, order_number, email, &self.address_key.hash(address)).await?;
        let now = now_ms();
        turn.ask_whether_it_helped(now);
        turn.conversation.finish_shopper_turn(start, false, now);
        self.commit(tx, turn, None).await
    }

    /// The shopper pressed "Talk to a person".
    pub async fn request_handoff(&self, id: &str, token: &str) -> Result<TurnResult, ChatError> {
        let conversation = self.authorize(id, token).await?;
        let (mut tx, mut turn) = self.open_turn(&conversation.id).await?;
        if !turn.conversation.state.bot_is_silent() {
            // Like a message: it starts the conversation for the figures, and reopens a settled
            // one (a re-contact if the bot resolved it).
            tx.mark_started(&conversation.id, now_ms(), None, None).await?;
            let start = turn.conversation.start_shopper_turn();
            hand_off(&self.bot, &mut turn, HandoffReason::CustomerRequested, None, None);
            turn.conversation.finish_shopper_turn(start, false, now_ms());
        }
        self.commit(tx, turn, None).await
    }

    /// A 1-5 rating with an optional comment, once, for a conversation that had an answer.
    pub async fn rate(
        &self,
        id: &str,
        token: &str,
        score: i64,
        comment: Option<&str>,
    ) -> Result<TurnResult, ChatError> {
        if !(1..=5).contains(&score) {
            return Err(ChatError::Invalid("invalid_score", "score must be a whole number from 1 to 5".into()));
        }
        if let Some(c) = comment {
            validate_message(c).map_err(|e| ChatError::Invalid("invalid_comment", e.to_string()))?;
        }
        let conversation = self.authorize(id, token).await?;
        let (mut tx, mut turn) = self.open_turn(&conversation.id).await?;
        turn.conversation.check_rateable().map_err(|e| {
            let code = match e {
                RatingError::AlreadyRated => "already_rated",
                RatingError::NoAnswer => "nothing_to_rate",
            };
            ChatError::Conflict(code, e.to_string())
        })?;
        turn.conversation.rating = Some(score);
        tx.save_rating_details(id, comment).await?;
        turn.say("Thank you for your feedback!");
        tx.audit(&Actor::Shopper, AuditAction::Rate, Some(id), serde_json::json!({"score": score})).await?;
        let customer = turn.conversation.identity.as_ref().and_then(|i| i.customer_id.clone());
        let rating =
            serde_json::json!({"conversation_id": id, "score": score, "comment": comment, "customer_id": customer});
        tx.emit(crate::domain::outbound::EventKind::RatingCreated, rating).await?;
        self.commit(tx, turn, None).await
    }

    /// Ranks the intents of a text on the classifier's threads, timing it for `/metrics`.
    async fn classify_timed(&self, text: &str) -> Result<Classified, ChatError> {
        let started = Instant::now();
        let ranked = self.rank_workers.classify(text.to_string()).await?;
        metrics::histogram!("switchboard_classify_seconds").record(started.elapsed().as_secs_f64());
        Stage::ClassifyWait.record(ranked.waited);
        Stage::Classify.record(ranked.ran);
        Ok(ranked.classified)
    }

    /// Starts the transaction of a turn, holding the conversation's lock until commit.
    pub(super) async fn open_turn(&self, conversation_id: &str) -> Result<(Tx, Turn), ChatError> {
        let mut tx = self.bot.store.begin().await?;
        let conversation = tx.lock_conversation(conversation_id).await?.ok_or(ChatError::NotFound)?;
        Ok((tx, Turn::new(conversation)))
    }

    /// What a model would decide for `text` in this conversation, the way triage decides
    /// (for comparing the live model with one in shadow).
    fn guess(&self, text: &str, ranking: &Ranking, model: &HeadMetadata, conversation: &Conversation) -> Guess {
        let history = History {
            clarified_last_turn: conversation.clarified_last,
            out_of_scope_last_turn: conversation.out_of_scope_last,
        };
        let phrase = self.bot.rules.find(text).map(|m| m.category);
        let decision = decide(ranking, phrase, &model.thresholds, &self.bot.catalog, history);
        let top = ranking.top();
        Guess {
            intent: top.map_or_else(String::new, |t| t.intent.clone()),
            confidence: top.map_or(0.0, |t| t.confidence),
            decision: decision.kind(),
        }
    }

    /// Stores the shopper message (with what a model in shadow made of it), the replies and
    /// the conversation, then publishes.
    pub(super) async fn commit(
        &self,
        tx: Tx,
        turn: Turn,
        shopper: Option<Shopper<'_>>,
    ) -> Result<TurnResult, ChatError> {
        Ok(self.commit_timed(tx, turn, shopper).await?.0)
    }

    /// [`Self::commit`], also saying how long telling the open streams took.
    async fn commit_timed(
        &self,
        mut tx: Tx,
        turn: Turn,
        shopper: Option<Shopper<'_>>,
    ) -> Result<(TurnResult, Duration), ChatError> {
        let Turn { mut conversation, replies: new_replies, .. } = turn;
        let triage = shopper.as_ref().and_then(|s| s.message.triage.clone());
        let message = match &shopper {
            Some(s) => Some(tx.append(&mut conversation, s.message.clone()).await?),
            None => None,
        };
        if let (Some(m), Some(Shopper { shadow: Some(shadow), .. })) = (&message, &shopper) {
            tx.record_shadow(&m.id, &shadow.version, &shadow.guess, &shadow.live_version, &shadow.live).await?;
        }
        let mut replies = Vec::with_capacity(new_replies.len());
        for event in new_replies.iter().filter_map(|m| m.event.as_ref()) {
            count_event(event);
        }
        for m in new_replies {
            replies.push(tx.append(&mut conversation, m).await?);
        }
        tx.save_conversation(&conversation).await?;
        let result = TurnResult {
            message,
            replies,
            state: conversation.state,
            triage,
            verified: conversation.verified(),
            can_rate: conversation.rating_wanted(),
        };
        if let Some(s) = &shopper {
            let response = serde_json::to_string(&result).map_err(|e| StoreError::Invalid(e.to_string()))?;
            tx.save_idempotency(&conversation.id, s.cmid, &s.request_hash, &response).await?;
        }
        let change = Change::of(&conversation);
        tx.notify(&change).await?;
        tx.commit().await?;
        let publishing = Instant::now();
        self.bot.events.publish(change);
        let notified = publishing.elapsed();
        Stage::Notify.record(notified);
        Ok((result, notified))
    }
}

/// The stored result of an earlier request with this client_message_id, if there is one;
/// the same id for a different message is a conflict.
fn replay(stored: Option<(String, String)>, request_hash: &str) -> Result<Option<TurnResult>, ChatError> {
    let Some((hash, response)) = stored else {
        return Ok(None);
    };
    if hash != request_hash {
        return Err(ChatError::Conflict(
            "conflict",
            "this client_message_id was already used for a different message".into(),
        ));
    }
    serde_json::from_str(&response)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("idempotency record: {e}")).into())
}

/// A shopper's message to store with its turn, and how to recognise a retry of it.
pub(super) struct Shopper<'a> {
    message: NewMessage,
    cmid: &'a str,
    request_hash: String,
    shadow: Option<ShadowGuess>,
}

/// The live model's and the shadow's guesses about one message.
struct ShadowGuess {
    version: String,
    guess: Guess,
    live_version: String,
    live: Guess,
}

/// Where a shopper message's time goes, for `/metrics` (`switchboard_chat_stage_seconds`).
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Waiting for a classifier thread (and for the batch to fill).
    ClassifyWait,
    /// The encoder and head run that ranked it (shared with its batch-mates).
    Classify,
    /// Reading the conversation, locking it, the turn's own reads and logic, writing, committing.
    Database,
    /// Telling this instance's open streams.
    Notify,
}

impl Stage {
    fn record(self, took: Duration) {
        let stage = match self {
            Stage::ClassifyWait => "classify_wait",
            Stage::Classify => "classify",
            Stage::Database => "database",
            Stage::Notify => "notify",
        };
        metrics::histogram!("switchboard_chat_stage_seconds", "stage" => stage).record(took.as_secs_f64());
    }
}

/// Hand-offs by reason and outcomes, for `/metrics`.
fn count_event(event: &crate::domain::events::ConversationEvent) {
    use crate::domain::events::{ConversationEvent, StateChange};
    match event {
        ConversationEvent::State(StateChange::Queued { reason, released_by: None }) => {
            metrics::counter!("switchboard_handoffs_total", "reason" => reason.name()).increment(1);
        }
        ConversationEvent::Outcome { outcome } => {
            metrics::counter!("switchboard_outcomes_total", "outcome" => outcome.name()).increment(1);
        }
        _ => {}
    }
}

/// Only a token's hash is stored.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}
