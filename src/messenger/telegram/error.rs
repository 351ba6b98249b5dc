//! What can go wrong talking to the Bot API. Texts never contain the bot token: the client
//! builds them from status codes, Telegram's own `description`, and transport errors stripped of
//! their URL (see `client.rs`).

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// HTTP 401: the token was revoked in @BotFather, or was never right.
    #[error("Telegram refused the bot token: it was revoked or is wrong (HTTP 401)")]
    Unauthorized,
    /// `{"ok":false,"error_code":..,"description":..,"parameters":{..}}`, or an HTTP error status
    /// without a Bot API body (then `description` says so).
    #[error("Telegram answered {code}: {description}")]
    Api {
        code: i64,
        description: String,
        /// Seconds to wait before repeating the request (429 flood control).
        retry_after: Option<u64>,
        /// The group became a supergroup with this id: address it from now on.
        migrate_to_chat_id: Option<i64>,
    },
    /// No HTTP answer at all: DNS, refused connection, TLS, timeout.
    #[error("Telegram could not be reached: {0}")]
    Unreachable(String),
    /// An answer that is not the Bot API's JSON, or not the shape the method returns.
    #[error("Telegram's answer could not be read: {0}")]
    Decode(String),
    /// The request could not be built (a header value or URL that HTTP cannot carry): it would
    /// fail the same way on every attempt, so it is never repeated.
    #[error("the request to Telegram could not be built: {0}")]
    Request(String),
}

impl TelegramError {
    /// How long Telegram asked us to wait (429 `parameters.retry_after`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api {
                retry_after: Some(secs),
                ..
            } => Some(Duration::from_secs(*secs)),
            _ => None,
        }
    }

    /// The group was upgraded to a supergroup with this new chat id.
    pub fn migrate_to_chat_id(&self) -> Option<i64> {
        match self {
            Self::Api {
                migrate_to_chat_id, ..
            } => *migrate_to_chat_id,
            _ => None,
        }
    }

    /// 403 "Forbidden: bot was blocked by the user": sending again will not help until the user
    /// unblocks the bot.
    pub fn is_blocked_by_user(&self) -> bool {
        self.describes(403, "bot was blocked by the user")
    }

    /// Any 403: blocked, kicked from the group, user deactivated, no rights in the chat.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::Api { code: 403, .. })
    }

    /// 400 "Bad Request: chat not found": the chat is gone or the bot was never in it.
    pub fn is_chat_not_found(&self) -> bool {
        self.describes(400, "chat not found")
    }

    /// Worth repeating later: no answer, flood control, or Telegram's own server errors. The
    /// client never repeats anything itself; the caller decides.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Api { code, .. } => *code == 429 || *code >= 500,
            Self::Unauthorized | Self::Decode(_) | Self::Request(_) => false,
        }
    }

    /// Telegram answered `wanted` with a description containing `text`, ignoring case: the
    /// Bot API tells its refusals apart only by these texts.
    pub fn describes(&self, wanted: i64, text: &str) -> bool {
        match self {
            Self::Api {
                code, description, ..
            } => *code == wanted && description.to_lowercase().contains(&text.to_lowercase()),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64, description: &str) -> TelegramError {
        TelegramError::Api {
            code,
            description: description.to_owned(),
            retry_after: None,
            migrate_to_chat_id: None,
        }
    }

    #[test]
    fn telegram_error_helpers_read_codes_and_descriptions() {
        let blocked = api(403, "Forbidden: bot was blocked by the user");
        assert!(blocked.is_blocked_by_user());
        assert!(blocked.is_forbidden());
        assert!(!blocked.is_transient());
        assert!(!api(403, "Forbidden: bot was kicked from the group chat").is_blocked_by_user());
        assert!(api(400, "Bad Request: chat not found").is_chat_not_found());
        assert!(!api(400, "Bad Request: message text is empty").is_chat_not_found());
        assert!(api(502, "Bad Gateway").is_transient());
        assert!(TelegramError::Unreachable("timed out".into()).is_transient());
        assert!(!TelegramError::Unauthorized.is_transient());

        let flood = TelegramError::Api {
            code: 429,
            description: "Too Many Requests: retry after 7".into(),
            retry_after: Some(7),
            migrate_to_chat_id: None,
        };
        assert!(flood.is_transient());
        assert_eq!(flood.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(api(400, "x").retry_after(), None);
    }
}
