//! The conversation service: validate -> persist -> triage -> act -> publish.

mod answers;
mod events;
mod handlers;
pub mod identity;
mod listener;
mod outcomes;
mod presence;
mod replies;
mod service;
mod turn;
mod verify;

#[cfg(test)]
mod tests;

pub use events::{ConversationWatch, EventHub, RESYNC};
pub use identity::{CustomerClaims, IdentityKeys, TokenError};
pub use listener::listen_postgres;
pub use outcomes::{DEFAULT_ASSUME_RESOLVED_AFTER, settle_outcomes};
pub use presence::sync_presence;
pub use service::{ChatError, ChatService, Classification, MessageInput, Started, Transcript, TurnResult};
