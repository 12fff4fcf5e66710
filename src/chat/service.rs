//! The shopper-facing operations: start, send, read, verify, ask for a person, rate.
//! Every message and decision is stored (in one transaction) before the reply is returned.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::events::EventHub;
use super::identity::IdentityKeys;
use super::turn::{Input, Turn};
use crate::classifier::{ClassifierError, IntentClassifier, RankWorkers};
use crate::config::{Secret, StoreProfile};
use crate::domain::conversation::{Conversation, ConversationState, Identity, Message, Sender, TriageRecord};
use crate::domain::intent::IntentCatalog;
use crate::domain::text::{TextError, validate_message};
use crate::domain::triage::Ranking;
use crate::intents::SensitiveRules;
use crate::store::{NewMessage, Store, StoreError};
use crate::util::{random_hex, sha256_hex};

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// Unknown id, wrong token, or someone else's conversation: all look the same.
    #[error("no such conversation")]
    NotFound,
    #[error("{1}")]
    Invalid(&'static str, String),
    #[error("{0}")]
    Conflict(String),
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
}

pub struct ChatService {
    pub(super) store: Store,
    pub(super) classifier: Arc<dyn IntentClassifier>,
    pub(super) catalog: Arc<IntentCatalog>,
    pub(super) rules: Arc<SensitiveRules>,
    pub(super) identity: IdentityKeys,
    pub(super) profile: StoreProfile,
    pub(super) events: EventHub,
    ip_key: Secret,
    rank_workers: RankWorkers,
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
        ip_key: Secret,
    ) -> Self {
        let rank_workers = RankWorkers::start(classifier.clone());
        Self { store, classifier, catalog, rules, identity, profile, events, ip_key, rank_workers }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn events(&self) -> &EventHub {
        &self.events
    }

    pub fn classifier(&self) -> &Arc<dyn IntentClassifier> {
        &self.classifier
    }

    pub fn catalog(&self) -> &IntentCatalog {
        &self.catalog
    }

    pub fn rules(&self) -> &SensitiveRules {
        &self.rules
    }

    pub fn identity_keys(&self) -> &IdentityKeys {
        &self.identity
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
        let mut tx = self.store.begin().await?;
        let mut conversation = tx.create_conversation(&id, &hash_token(&token), identity.as_ref()).await?;
        let greeting = match &identity {
            Some(_) => format!(
                "Hi! I'm the {} assistant. I can track your orders, order something again, and answer questions about delivery, returns and payment. How can I help?",
                self.profile.store_name
            ),
            None => format!(
                "Hi! I'm the {} assistant. I can help with orders, delivery, returns and payment. How can I help?",
                self.profile.store_name
            ),
        };
        let message = tx
            .append(&mut conversation, NewMessage { sender: Some(Sender::Bot), text: greeting, ..Default::default() })
            .await?;
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
        if self.store.customer(&claims.customer_id).await?.is_none() {
            tracing::info!("customer token names an unknown customer; continuing as a guest");
            return Ok(None);
        }
        Ok(Some(Identity { customer_id: Some(claims.customer_id), via: "token".into(), order: None }))
    }

    /// The conversation behind an id and token, or `NotFound`.
    pub async fn authorize(&self, id: &str, token: &str) -> Result<Conversation, ChatError> {
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || token.is_empty() {
            return Err(ChatError::NotFound);
        }
        self.store.conversation_for_token(id, &hash_token(token)).await?.ok_or(ChatError::NotFound)
    }

    pub async fn messages_after(
        &self,
        id: &str,
        token: &str,
        after: i64,
    ) -> Result<(Conversation, Vec<Message>), ChatError> {
        let conversation = self.authorize(id, token).await?;
        let messages = self.store.messages_after(id, after.max(0), false).await?;
        Ok((conversation, messages))
    }

    /// Handles one shopper message. The same `client_message_id` again returns the stored
    /// result and stores nothing new.
    pub async fn send(&self, id: &str, token: &str, input: MessageInput, ip: &str) -> Result<TurnResult, ChatError> {
        validate_message(&input.text)?;
        let cmid = input.client_message_id.trim();
        if cmid.is_empty() || cmid.len() > MAX_CLIENT_MESSAGE_ID || cmid.chars().any(char::is_control) {
            return Err(ChatError::Invalid(
                "invalid_client_message_id",
                format!("client_message_id must be 1 to {MAX_CLIENT_MESSAGE_ID} printable characters"),
            ));
        }
        if let Some(q) = &input.quick_reply
            && (q.len() > 100 || q.chars().any(char::is_control))
        {
            return Err(ChatError::Invalid("invalid_quick_reply", "quick_reply is not a value the bot offered".into()));
        }
        let conversation = self.authorize(id, token).await?;
        let request_hash =
            sha256_hex(format!("{}\u{0}{}", input.text, input.quick_reply.as_deref().unwrap_or("")).as_bytes());
        if let Some(result) = self.replay(self.store.idempotent_response(id, cmid).await?, &request_hash)? {
            return Ok(result);
        }
        let ranking = self.classify(&input.text).await?;
        let mut tx = self.store.begin().await?;
        let Some(mut conversation) = tx.lock_conversation(&conversation.id).await? else {
            return Err(ChatError::NotFound);
        };
        if let Some(result) = self.replay(tx.idempotent_response(id, cmid).await?, &request_hash)? {
            return Ok(result);
        }
        let mut turn = Turn::default();
        let ip_hash = self.hash_ip(ip);
        let input = Input { text: &input.text, quick_reply: input.quick_reply.as_deref(), ip_hash: &ip_hash };
        let triage = self.respond(&mut tx, &mut conversation, &input, &ranking, &mut turn).await?;
        let shopper = NewMessage {
            sender: Some(Sender::Shopper),
            text: input.text.to_string(),
            client_message_id: Some(cmid.to_string()),
            triage: Some(triage.clone()),
            ..Default::default()
        };
        let result = self.commit_turn(tx, conversation, Some(shopper), turn, Some((cmid, request_hash))).await?;
        tracing::info!(conversation = %id, decision = %triage.decision, reason = %triage.reason, "message handled");
        Ok(result)
    }

    /// Guest verification from the widget's form.
    pub async fn verify(
        &self,
        id: &str,
        token: &str,
        order_number: &str,
        email: &str,
        ip: &str,
    ) -> Result<TurnResult, ChatError> {
        if order_number.trim().is_empty() || order_number.len() > 64 || email.trim().is_empty() || email.len() > 254 {
            return Err(ChatError::Invalid("invalid_verification", "order_number and email are required".into()));
        }
        let conversation = self.authorize(id, token).await?;
        let mut tx = self.store.begin().await?;
        let Some(mut conversation) = tx.lock_conversation(&conversation.id).await? else {
            return Err(ChatError::NotFound);
        };
        if conversation.state.bot_is_silent() {
            // A person has the conversation: the bot neither checks details nor speaks (and a
            // conversation handed off for failed attempts is not re-queued or unlocked).
            return Ok(TurnResult {
                message: None,
                replies: Vec::new(),
                state: conversation.state,
                triage: None,
                verified: conversation.identity.is_some(),
            });
        }
        let mut turn = Turn::default();
        let ip_hash = self.hash_ip(ip);
        self.verify_guest(&mut tx, &mut conversation, order_number, email, &ip_hash, &mut turn).await?;
        self.commit_turn(tx, conversation, None, turn, None).await
    }

    /// The shopper pressed "Talk to a person".
    pub async fn request_handoff(&self, id: &str, token: &str) -> Result<TurnResult, ChatError> {
        let conversation = self.authorize(id, token).await?;
        let mut tx = self.store.begin().await?;
        let Some(mut conversation) = tx.lock_conversation(&conversation.id).await? else {
            return Err(ChatError::NotFound);
        };
        let mut turn = Turn::default();
        if !conversation.state.bot_is_silent() {
            let reason = crate::domain::triage::HandoffReason::CustomerRequested;
            self.hand_off(&mut conversation, reason, None, None, &mut turn);
        }
        self.commit_turn(tx, conversation, None, turn, None).await
    }

    /// A 1-5 rating with an optional comment; only once the conversation has been handled.
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
        let mut tx = self.store.begin().await?;
        let Some(mut conversation) = tx.lock_conversation(&conversation.id).await? else {
            return Err(ChatError::NotFound);
        };
        conversation.rating = Some(score);
        tx.save_rating_comment(id, comment).await?;
        let mut turn = Turn::default();
        turn.say("Thank you for your feedback!");
        tx.audit("shopper", "rate", Some(id), serde_json::json!({"score": score})).await?;
        self.commit_turn(tx, conversation, None, turn, None).await
    }

    fn replay(&self, stored: Option<(String, String)>, request_hash: &str) -> Result<Option<TurnResult>, ChatError> {
        let Some((hash, response)) = stored else {
            return Ok(None);
        };
        if hash != request_hash {
            return Err(ChatError::Conflict("this client_message_id was already used for a different message".into()));
        }
        serde_json::from_str(&response)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("idempotency record: {e}")).into())
    }

    /// Ranks the intents of `text` on the classifier's threads, in arrival order.
    pub async fn classify(&self, text: &str) -> Result<Ranking, ChatError> {
        Ok(self.rank_workers.rank(text.to_string()).await?)
    }

    /// Stores the shopper message, the replies and the conversation, then publishes.
    async fn commit_turn(
        &self,
        mut tx: crate::store::Tx,
        mut conversation: Conversation,
        shopper: Option<NewMessage>,
        turn: Turn,
        idempotency: Option<(&str, String)>,
    ) -> Result<TurnResult, ChatError> {
        let triage = shopper.as_ref().and_then(|m| m.triage.clone());
        let message = match shopper {
            Some(m) => Some(tx.append(&mut conversation, m).await?),
            None => None,
        };
        let mut replies = Vec::with_capacity(turn.messages.len());
        for m in turn.messages {
            replies.push(tx.append(&mut conversation, m).await?);
        }
        tx.save_conversation(&conversation).await?;
        let result = TurnResult {
            message,
            replies,
            state: conversation.state,
            triage,
            verified: conversation.identity.is_some(),
        };
        if let Some((cmid, hash)) = idempotency {
            let response = serde_json::to_string(&result).map_err(|e| StoreError::Invalid(e.to_string()))?;
            tx.save_idempotency(&conversation.id, cmid, &hash, &response).await?;
        }
        tx.notify(&conversation.id, conversation.last_seq).await?;
        tx.commit().await?;
        self.events.publish(&conversation.id, conversation.last_seq);
        Ok(result)
    }

    fn hash_ip(&self, ip: &str) -> String {
        sha256_hex(format!("{}\u{0}{ip}", self.ip_key.expose()).as_bytes())
    }
}

/// Only a token's hash is stored.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}
