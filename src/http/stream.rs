//! Server-sent events: new messages and state changes of a conversation, in order, resuming
//! after `Last-Event-ID` (or `?after=`). The database is the truth; in-process hints only say
//! when to look. Each connection has a bounded buffer: a client that does not read is dropped.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::limits::{ClientAddress, StreamSlot};
use super::shopper::bearer;
use super::{ApiError, AppState};
use crate::chat::ConversationWatch;

const BUFFER: usize = 64;

#[derive(Deserialize)]
pub struct Resume {
    #[serde(default)]
    after: Option<i64>,
}

pub async fn shopper_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    client: ClientAddress,
    resume: Result<Query<Resume>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let token = bearer(&headers)?;
    let Query(resume) = resume.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let conversation = state.chat.authorize(&id, token).await?;
    let slot = state.limits.open_stream(&conversation.id, client.0)?;
    let last_event_id = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i64>().ok());
    let after = last_event_id.or(resume.after).unwrap_or(0).max(0);
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(BUFFER);
    let watch = state.chat.events().watch(&conversation.id);
    tokio::spawn(pump(state, conversation.id, after, watch, tx, slot));
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Sends everything after `after`, then waits for its conversation to change; ends on
/// shutdown, on a full buffer or when the client is gone. A change published while the
/// database is read wakes the next wait, so nothing is missed.
async fn pump(
    state: AppState,
    conversation_id: String,
    mut after: i64,
    mut watch: ConversationWatch,
    tx: mpsc::Sender<Result<Event, Infallible>>,
    _slot: StreamSlot,
) {
    let _open = super::ops::OpenStream::new("shopper");
    let mut shutdown = state.shutdown.clone();
    loop {
        if *shutdown.borrow_and_update() {
            let _ = tx.try_send(Ok(Event::default().event("reconnect").data("{}")));
            return;
        }
        let messages = match state.chat.messages_since(&conversation_id, after).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(conversation = %conversation_id, error = %e, "stream read failed");
                return;
            }
        };
        for m in messages {
            let data = serde_json::to_string(&m).unwrap_or_default();
            let event = Event::default().id(m.seq.to_string()).event("message").data(data);
            if tx.try_send(Ok(event)).is_err() {
                tracing::info!(conversation = %conversation_id, "stream client too slow or gone; dropping it");
                return;
            }
            after = m.seq;
        }
        tokio::select! {
            changed = watch.changed() => if !changed { return },
            _ = shutdown.changed() => {
                let _ = tx.try_send(Ok(Event::default().event("reconnect").data("{}")));
                return;
            }
            () = tx.closed() => return,
        }
    }
}
