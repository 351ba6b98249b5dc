//! The bot token: the one secret of a Telegram channel. The Bot API puts it in the URL path, so
//! whoever sees a URL sees the token; it is parsed once at the edge and then only handed to the
//! client, never printed.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// `<bot id>:<secret>`, as @BotFather hands it out (e.g. `123456789:AAH…`, 35 characters after
/// the colon).
#[derive(Clone)]
pub struct BotToken(SecretString);

/// Why a pasted text is not a bot token; the texts are written for the merchant who pasted it,
/// and never repeat what was pasted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BotTokenError {
    #[error("Enter the bot token: @BotFather gives it when you create a bot (/newbot), or again with /token.")]
    Empty,
    #[error("That does not look like a bot token: it is the text @BotFather gave you, like 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw (digits, a colon, then letters and digits).")]
    Shape,
    #[error("That bot token contains spaces or other characters a bot token never has: copy it again from @BotFather, in one piece.")]
    BadCharacters,
    #[error("That bot token is cut short or has extra text: after the colon a bot token has about 35 letters, digits, dashes and underscores. Copy it again from @BotFather.")]
    Length,
}

impl BotTokenError {
    /// What the merchant reads, in their language.
    pub fn text(&self) -> crate::i18n::Text {
        crate::i18n::Text::new(match self {
            Self::Empty => "error-bot-token-empty",
            Self::Shape => "error-bot-token-shape",
            Self::BadCharacters => "error-bot-token-characters",
            Self::Length => "error-bot-token-length",
        })
    }
}

/// Bot ids fit in 52 bits today; 19 digits is where i64 ends.
const MAX_ID_DIGITS: usize = 19;
/// Telegram's secrets are 35 characters; a little slack either way in case that changes.
const SECRET_LEN: std::ops::RangeInclusive<usize> = 30..=50;

impl BotToken {
    pub fn parse(text: &str) -> Result<Self, BotTokenError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(BotTokenError::Empty);
        }
        let Some((id, secret)) = text.split_once(':') else {
            return Err(BotTokenError::Shape);
        };
        let id_ok = !id.is_empty()
            && id.len() <= MAX_ID_DIGITS
            && id.bytes().all(|b| b.is_ascii_digit())
            && id.parse::<i64>().is_ok_and(|n| n > 0);
        if !id_ok {
            return Err(BotTokenError::Shape);
        }
        // This check also keeps the token safe to put in a URL path as it is.
        if !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(BotTokenError::BadCharacters);
        }
        if !SECRET_LEN.contains(&secret.len()) {
            return Err(BotTokenError::Length);
        }
        Ok(Self(SecretString::from(text.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The digits before the colon: the bot's own user id (public, fine to log).
    pub fn bot_id(&self) -> i64 {
        self.expose()
            .split_once(':')
            .and_then(|(id, _)| id.parse().ok())
            .expect("checked by parse")
    }

    /// The part after the colon: what must never leave the process except to Telegram.
    pub(super) fn secret_part(&self) -> &str {
        self.expose()
            .split_once(':')
            .map(|(_, secret)| secret)
            .expect("checked by parse")
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BotToken({}:[redacted])", self.bot_id())
    }
}

impl PartialEq for BotToken {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.expose()
            .as_bytes()
            .ct_eq(other.expose().as_bytes())
            .into()
    }
}

impl Eq for BotToken {}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    #[test]
    fn a_botfather_token_parses_trimmed() {
        let token = BotToken::parse(&format!("  {TOKEN}\n")).unwrap();
        assert_eq!(token.expose(), TOKEN);
        assert_eq!(token.bot_id(), 123_456_789);
        assert_eq!(token, BotToken::parse(TOKEN).unwrap());
    }

    #[test]
    fn a_64_bit_bot_id_is_read_whole() {
        let token = BotToken::parse("7012345678901:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw").unwrap();
        assert_eq!(token.bot_id(), 7_012_345_678_901);
    }

    #[test]
    fn debug_shows_the_bot_id_but_not_the_secret() {
        let printed = format!("{:?}", BotToken::parse(TOKEN).unwrap());
        assert_eq!(printed, "BotToken(123456789:[redacted])");
        assert!(!printed.contains("AAHdq"));
    }

    #[test]
    fn wrong_texts_get_an_error_the_merchant_can_act_on() {
        let cases = [
            ("", BotTokenError::Empty),
            ("   ", BotTokenError::Empty),
            ("hello", BotTokenError::Shape),
            ("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", BotTokenError::Shape),
            (
                "bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
                BotTokenError::Shape,
            ),
            (":AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", BotTokenError::Shape),
            ("0:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", BotTokenError::Shape),
            (
                "99999999999999999999:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
                BotTokenError::Shape,
            ),
            (
                "123456789:AAHdqTcvCH1 vGWJxfSeofSAs0K5PALDsaw",
                BotTokenError::BadCharacters,
            ),
            (
                "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe",
                BotTokenError::BadCharacters,
            ),
            ("123456789:AAHdqTcvCH1", BotTokenError::Length),
            (
                "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawAAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
                BotTokenError::Length,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(BotToken::parse(text).unwrap_err(), expected, "{text:?}");
        }
        assert!(BotTokenError::Shape.to_string().contains("@BotFather"));
        assert!(BotTokenError::Shape.to_string().contains("123456789:AAH"));
    }
}
