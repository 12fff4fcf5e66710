//! Pure types and rules: intents, text validation and the triage policy. No I/O here.

pub mod agent;
pub mod conversation;
pub mod intent;
pub mod orders;
pub mod parse;
pub mod text;
pub mod triage;
pub mod validation;
