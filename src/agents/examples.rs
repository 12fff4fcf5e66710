//! Training examples: agents label shopper messages (one example per message, labelling again
//! changes it) or mark a resolved hand-off as one "the bot could have answered"; admins
//! approve, reject or change the intent. Personal data is masked before anything is stored.

use std::collections::BTreeMap;

use super::accounts::require_admin;
use super::{AgentError, AgentService, NOT_FOUND};
use crate::domain::agent::{Agent, ExampleStatus, TrainingExample};
use crate::domain::audit::{Actor, AuditAction};
use crate::domain::conversation::Conversation;
use crate::domain::masking::{mask_personal_data, name_candidates};
use crate::domain::model::ExampleSource;
use crate::store::{NewExample, Tx};

/// The most examples one bulk review may change.
pub const MAX_BULK: usize = 500;

/// Approve or reject, and/or move to another intent.
#[derive(Debug, Clone)]
pub struct Review {
    pub status: Option<ExampleStatus>,
    pub intent: Option<String>,
}

impl AgentService {
    fn check_intent(&self, intent: &str) -> Result<(), AgentError> {
        if self.catalog.get(intent).is_none() {
            return Err(AgentError::Unprocessable("unknown_intent", format!("there is no intent `{intent}`")));
        }
        Ok(())
    }

    /// Labels a shopper message with the intent it really was: a pending training example.
    pub async fn label(&self, agent: &Agent, message_id: &str, intent: &str) -> Result<String, AgentError> {
        self.check_intent(intent)?;
        let (conversation_id, text) = self.store.shopper_message(message_id).await?.ok_or(NOT_FOUND)?;
        let conversation = self.store.conversation(&conversation_id).await?.ok_or(NOT_FOUND)?;
        conversation.check_readable_by(agent)?;
        let mut tx = self.store.begin().await?;
        let id =
            self.store_example(&mut tx, &conversation, message_id, &text, intent, ExampleSource::Label, agent).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// At resolution, "the bot could have answered this" with `intent`: the shopper message
    /// that was handed off becomes a pending example, in the resolution's transaction.
    pub(super) async fn mark_could_have_answered(
        &self,
        tx: &mut Tx,
        conversation: &Conversation,
        agent: &Agent,
        intent: &str,
    ) -> Result<(), AgentError> {
        self.check_intent(intent)?;
        let (message_id, text) =
            self.store.last_shopper_message(&conversation.id, conversation.last_seq + 1).await?.ok_or_else(|| {
                AgentError::Conflict("conflict", "the conversation has no shopper message to learn from".into())
            })?;
        self.store_example(tx, conversation, &message_id, &text, intent, ExampleSource::Resolution, agent).await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn store_example(
        &self,
        tx: &mut Tx,
        conversation: &Conversation,
        message_id: &str,
        text: &str,
        intent: &str,
        source: ExampleSource,
        agent: &Agent,
    ) -> Result<String, AgentError> {
        let mut names = self.store.customer_names_with(&name_candidates(text)).await?;
        if let Some(customer) = conversation.identity.as_ref().and_then(|i| i.customer_id.as_deref())
            && let Some(c) = self.store.customer(customer).await?
        {
            names.push(c.name);
        }
        let masked = mask_personal_data(text, &names);
        let example = NewExample {
            text: &masked,
            intent,
            source,
            message_id,
            conversation_id: &conversation.id,
            agent_id: &agent.id,
        };
        let id = tx.upsert_example(&example).await?;
        let detail = serde_json::json!({"message": message_id, "intent": intent, "source": source});
        tx.audit(&Actor::Agent(agent.id.clone()), AuditAction::Label, Some(&conversation.id), detail).await?;
        Ok(id)
    }

    /// Examples in one review state (the oldest thousand), and how many are in each.
    pub async fn training_examples(
        &self,
        admin: &Agent,
        status: ExampleStatus,
    ) -> Result<(Vec<TrainingExample>, BTreeMap<ExampleStatus, i64>), AgentError> {
        require_admin(admin)?;
        Ok((self.store.training_examples(status).await?, self.store.example_counts().await?))
    }

    /// Reviews examples, all or none: each must exist, and be pending unless its intent changes.
    pub async fn review_examples(&self, admin: &Agent, ids: &[String], review: &Review) -> Result<usize, AgentError> {
        require_admin(admin)?;
        if ids.is_empty() || ids.len() > MAX_BULK {
            return Err(AgentError::Invalid("invalid_ids", format!("give 1 to {MAX_BULK} example ids")));
        }
        if review.status == Some(ExampleStatus::Pending) || (review.status.is_none() && review.intent.is_none()) {
            return Err(AgentError::Invalid("invalid_review", "approve, reject, or give a new intent".into()));
        }
        if let Some(intent) = &review.intent {
            self.check_intent(intent)?;
        }
        let action = match review.status {
            Some(ExampleStatus::Rejected) => AuditAction::TrainingExampleRejected,
            Some(_) => AuditAction::TrainingExampleApproved,
            None => AuditAction::TrainingExampleChanged,
        };
        let mut tx = self.store.begin().await?;
        for id in ids {
            if !tx.review_example(id, review.status, review.intent.as_deref(), &admin.id).await? {
                return Err(AgentError::Conflict("not_pending", format!("no pending training example with id {id}")));
            }
            let detail = serde_json::json!({"example": id, "status": review.status, "intent": review.intent});
            tx.audit(&Actor::Agent(admin.id.clone()), action, None, detail).await?;
        }
        tx.commit().await?;
        Ok(ids.len())
    }
}
