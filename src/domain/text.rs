//! Validation of shopper text and the normalisation every matcher shares.

use thiserror::Error;

/// The longest message a shopper may send, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TextError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is {0} characters long; the limit is {MAX_MESSAGE_CHARS}")]
    TooLong(usize),
    #[error("the message contains a NUL or control character at position {0}")]
    ControlCharacter(usize),
}

/// Checks a shopper message: not blank, not too long, no NUL or control characters
/// (tab and newlines are allowed). Invalid UTF-8 cannot reach here: `&str` is UTF-8.
pub fn validate_message(text: &str) -> Result<(), TextError> {
    if text.trim().is_empty() {
        return Err(TextError::Empty);
    }
    let chars = text.chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(TextError::TooLong(chars));
    }
    if let Some((pos, _)) = text.chars().enumerate().find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(TextError::ControlCharacter(pos));
    }
    Ok(())
}

/// Lower-cases and collapses every run of non-alphanumeric characters to one space,
/// so that phrase rules and duplicate checks ignore punctuation and spacing.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '\'' {
            if c == '\'' {
                continue;
            }
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_message_is_valid() {
        assert_eq!(validate_message("where is my order #1042?\nthanks"), Ok(()));
    }

    #[test]
    fn blank_message_is_rejected() {
        assert_eq!(validate_message("  \n "), Err(TextError::Empty));
    }

    #[test]
    fn overlong_message_is_rejected_with_its_length() {
        let text = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(validate_message(&text), Err(TextError::TooLong(2001)));
    }

    #[test]
    fn nul_and_control_characters_are_rejected() {
        assert_eq!(validate_message("hi\0"), Err(TextError::ControlCharacter(2)));
        assert_eq!(validate_message("a\u{7}b"), Err(TextError::ControlCharacter(1)));
    }

    #[test]
    fn normalise_collapses_punctuation_and_case() {
        assert_eq!(normalise("  I'll SUE you!!  now "), "ill sue you now");
        assert_eq!(normalise("Order #1042, please"), "order 1042 please");
    }
}
