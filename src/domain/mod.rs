//! Pure types and rules: intents, text validation and the triage policy. No I/O here.

pub mod intent;
pub mod text;
pub mod triage;
