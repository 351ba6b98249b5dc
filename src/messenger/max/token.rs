//! A MAX bot's access token, parsed at the edge and redacted in `Debug`. MAX documents no shape
//! beyond "a string from business.max.ru"; the tolerant reading is any run of printable ASCII
//! without spaces, within a generous length.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// The tokens seen are about 40–100 characters; the bounds only catch a paste gone wrong.
const MIN_LEN: usize = 16;
const MAX_LEN: usize = 512;

#[derive(Clone)]
pub struct MaxToken(SecretString);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MaxTokenError {
    #[error("the token is empty")]
    Empty,
    #[error("the token contains spaces or characters a token never has")]
    BadCharacters,
    #[error("the token is too short or too long")]
    Length,
}

impl MaxTokenError {
    pub fn text(&self) -> crate::i18n::Text {
        crate::i18n::Text::new(match self {
            Self::Empty => "error-max-token-empty",
            Self::BadCharacters => "error-max-token-characters",
            Self::Length => "error-max-token-length",
        })
    }
}

impl MaxToken {
    pub fn parse(raw: &str) -> Result<Self, MaxTokenError> {
        let token = raw.trim();
        if token.is_empty() {
            return Err(MaxTokenError::Empty);
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(MaxTokenError::BadCharacters);
        }
        if !(MIN_LEN..=MAX_LEN).contains(&token.len()) {
            return Err(MaxTokenError::Length);
        }
        Ok(Self(token.to_owned().into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for MaxToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MaxToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_trimmed_and_checked() {
        let token = MaxToken::parse("  f9LHodD0cOLx3l1XvMjmTBTJ0fxQ5uQ2kG7  ").unwrap();
        assert_eq!(token.expose(), "f9LHodD0cOLx3l1XvMjmTBTJ0fxQ5uQ2kG7");
        assert!(!format!("{token:?}").contains("f9LH"));
        assert_eq!(MaxToken::parse(" ").unwrap_err(), MaxTokenError::Empty);
        assert_eq!(
            MaxToken::parse("f9LHodD0cOLx 3l1XvMjmTBTJ0fxQ5uQ2kG7").unwrap_err(),
            MaxTokenError::BadCharacters
        );
        assert_eq!(MaxToken::parse("short").unwrap_err(), MaxTokenError::Length);
    }
}
