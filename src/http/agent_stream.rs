//! The agents' stream: hints about hand-offs, queue changes and messages in conversations the
//! agent may see (queued ones, and those assigned to them). The console re-reads details over
//! the API. An open stream marks the agent online. The stream closes within seconds of its
//! session ending (log-out, a new log-in, a disabled agent, expiry); a client that does not
//! read is dropped.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tower_sessions::Session;

use super::agent::current_agent;
use super::{ApiError, AppState};
use crate::chat::RESYNC;
use crate::domain::agent::Agent;
use crate::domain::conversation::{Conversation, ConversationState};
use crate::domain::intent::Priority;
use crate::domain::triage::HandoffReason;
use crate::store::Change;

const BUFFER: usize = 128;
const RECHECK: Duration = Duration::from_secs(2);

pub async fn agent_events(
    State(state): State<AppState>,
    session: Session,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let (agent, _) = current_agent(&state, &session).await?;
    let (tx, rx) = mpsc::channel(BUFFER);
    let hints = state.chat.events().subscribe();
    tokio::spawn(pump(state, agent, session, hints, tx));
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn pump(
    state: AppState,
    agent: Agent,
    session: Session,
    mut hints: broadcast::Receiver<Change>,
    tx: mpsc::Sender<Result<Event, Infallible>>,
) {
    let _online = state.chat.events().agent_online(&agent.id);
    let _open = super::ops::OpenStream::new("agent");
    let mut shutdown = state.shutdown.clone();
    let mut recheck = tokio::time::interval(RECHECK);
    let send = |event: Event| tx.try_send(Ok(event)).is_ok();
    if !send(Event::default().event("ready").data(json!({"agent": agent.id}).to_string())) {
        return;
    }
    // Queued conversations this agent can see: when one leaves the queue for someone else,
    // the agent is told it left (id and state only), so its queue does not go stale.
    let mut queued: HashSet<String> = match state.agents.queued_ids().await {
        Ok(ids) => ids.into_iter().collect(),
        Err(_) => HashSet::new(),
    };
    loop {
        tokio::select! {
            hint = hints.recv() => match hint {
                Ok(changed) if changed.conversation_id == RESYNC => {
                    if !send(Event::default().event("resync").data("{}")) { return; }
                }
                Ok(changed) => {
                    if !concerns(&changed, &agent, &queued) {
                        continue;
                    }
                    let Ok(Some(c)) = state.agents.conversation(&changed.conversation_id).await else { continue };
                    let mine = c.assigned_agent.as_deref() == Some(agent.id.as_str());
                    let visible = c.state == ConversationState::Queued || mine || agent.is_admin;
                    let left_queue = if c.state == ConversationState::Queued {
                        queued.insert(c.id.clone());
                        false
                    } else {
                        queued.remove(&c.id)
                    };
                    if !visible && left_queue {
                        let data = json!({"conversation_id": c.id, "state": c.state});
                        if !send(Event::default().event("conversation").data(data.to_string())) {
                            return;
                        }
                    }
                    if visible {
                        let data = ConversationChanged::new(&c, changed.seq);
                        let data = serde_json::to_string(&data).unwrap_or_default();
                        if !send(Event::default().event("conversation").id(changed.seq.to_string()).data(data)) {
                            tracing::info!(agent = %agent.id, "agent stream too slow or gone; dropping it");
                            return;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !send(Event::default().event("resync").data("{}")) { return; }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = recheck.tick() => {
                // The session itself, re-read from the store: a log-out, a new log-in (which
                // rotates the id), a disabled agent or an expired session ends the stream.
                let still_allowed = match session.load().await {
                    Ok(()) => match current_agent(&state, &session).await {
                        Ok((now, _)) => now.id == agent.id,
                        Err(ApiError::Internal(e)) => {
                            tracing::warn!(agent = %agent.id, error = %e, "agent stream: cannot re-check the session");
                            true
                        }
                        Err(_) => false,
                    },
                    Err(e) => {
                        tracing::warn!(agent = %agent.id, error = %e, "agent stream: cannot reload the session");
                        true
                    }
                };
                if !still_allowed {
                    let _ = tx.try_send(Ok(Event::default().event("logged_out").data("{}")));
                    return;
                }
            }
            _ = shutdown.changed() => {
                let _ = tx.try_send(Ok(Event::default().event("reconnect").data("{}")));
                return;
            }
            () = tx.closed() => return,
        }
    }
}

/// Whether a change may matter to this agent's console, judged from the state and assignee it
/// was committed with, without reading the database: most changes are shoppers talking to the
/// bot, which only admins see. A change that does not say (an older instance's) is read.
fn concerns(change: &Change, agent: &Agent, queued: &HashSet<String>) -> bool {
    let Some(state) = change.state else { return true };
    agent.is_admin
        || state == ConversationState::Queued
        || change.assigned_agent.as_deref() == Some(agent.id.as_str())
        || queued.contains(&change.conversation_id)
}

/// What the console is told about a conversation it may see; it reads details over the API.
#[derive(Serialize)]
struct ConversationChanged<'a> {
    conversation_id: &'a str,
    state: ConversationState,
    seq: i64,
    assigned_agent: Option<&'a str>,
    reason: Option<HandoffReason>,
    priority: Option<Priority>,
}

impl<'a> ConversationChanged<'a> {
    fn new(c: &'a Conversation, seq: i64) -> Self {
        let handoff = c.handoff.as_ref();
        Self {
            conversation_id: &c.id,
            state: c.state,
            seq,
            assigned_agent: c.assigned_agent.as_deref(),
            reason: handoff.map(|h| h.reason),
            priority: handoff.map(|h| h.priority),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, is_admin: bool) -> Agent {
        Agent {
            id: id.into(),
            email: format!("{id}@example.com"),
            name: id.into(),
            is_admin,
            disabled: false,
            sessions_valid_after: 0,
            locked: false,
        }
    }

    fn change(state: Option<ConversationState>, assigned: Option<&str>) -> Change {
        Change { conversation_id: "c1".into(), seq: 3, state, assigned_agent: assigned.map(str::to_string) }
    }

    #[test]
    fn a_shopper_talking_to_the_bot_concerns_only_admins() {
        let none = HashSet::new();
        let bot = change(Some(ConversationState::Bot), None);
        assert!(!concerns(&bot, &agent("riley", false), &none));
        assert!(concerns(&bot, &agent("sam", true), &none));
    }

    #[test]
    fn queued_assigned_and_leaving_the_queue_concern_the_agent() {
        let riley = agent("riley", false);
        let none = HashSet::new();
        assert!(concerns(&change(Some(ConversationState::Queued), None), &riley, &none));
        assert!(concerns(&change(Some(ConversationState::Assigned), Some("riley")), &riley, &none));
        assert!(!concerns(&change(Some(ConversationState::Assigned), Some("alex")), &riley, &none));
        let was_queued: HashSet<String> = ["c1".to_string()].into();
        assert!(concerns(&change(Some(ConversationState::Assigned), Some("alex")), &riley, &was_queued));
        assert!(concerns(&change(None, None), &riley, &none), "a change that does not say is read");
    }
}
