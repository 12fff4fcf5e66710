//! The conversation service: validate -> persist -> triage -> act -> publish.

mod events;
mod handlers;
pub mod identity;
mod listener;
mod presence;
mod replies;
mod service;
mod turn;
mod verify;

pub use events::{Changed, EventHub};
pub use identity::{CustomerClaims, IdentityKeys, TokenError};
pub use listener::{RESYNC, listen_postgres};
pub use presence::sync_presence;
pub use service::{ChatError, ChatService, MessageInput, Started, TurnResult};
