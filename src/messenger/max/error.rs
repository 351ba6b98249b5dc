//! What can go wrong talking to the MAX Bot API. The token travels in a header, so URLs are
//! safe to name; texts still never quote a header or a body we sent.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum MaxError {
    /// HTTP 401 (`verify.token`): the token was revoked or is wrong.
    #[error("MAX refused the bot token: it was revoked or is wrong (HTTP 401)")]
    Unauthorized,
    /// An HTTP error with MAX's `{code, message}` body, or without one (`code` is then empty).
    #[error("MAX answered {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        retry_after: Option<u64>,
    },
    /// No HTTP answer at all: DNS, refused connection, TLS, timeout.
    #[error("MAX could not be reached: {0}")]
    Unreachable(String),
    #[error("MAX's answer could not be read: {0}")]
    Decode(String),
    /// The request could not be built; it would fail the same way every time.
    #[error("the request to MAX could not be built: {0}")]
    Request(String),
}

impl MaxError {
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api {
                retry_after: Some(secs),
                ..
            } => Some(Duration::from_secs(*secs)),
            _ => None,
        }
    }

    /// Worth repeating later: no answer, rate limiting, MAX's own server errors.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Api { status, .. } => *status == 429 || *status >= 500,
            Self::Unauthorized | Self::Decode(_) | Self::Request(_) => false,
        }
    }

    /// 403: the customer stopped the bot, or the bot may not write into the chat.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Self::Api { status: 403, .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status: 404, .. })
    }

    /// The file sent with the message is still being processed after its upload (400
    /// `attachment.not.ready`, or `errors.process.attachment.file.not.processed` in the
    /// message: the official client matches both).
    pub fn is_attachment_not_ready(&self) -> bool {
        match self {
            Self::Api { code, message, .. } => {
                code == "attachment.not.ready" || message.contains("not.processed")
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str, message: &str) -> MaxError {
        MaxError::Api {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    #[test]
    fn errors_are_told_apart() {
        assert!(api(429, "too.many.requests", "").is_transient());
        assert!(api(503, "", "").is_transient());
        assert!(!api(400, "proto.payload", "").is_transient());
        assert!(api(403, "chat.denied", "").is_forbidden());
        assert!(api(400, "attachment.not.ready", "").is_attachment_not_ready());
        assert!(
            api(400, "", "Key: errors.process.attachment.file.not.processed")
                .is_attachment_not_ready()
        );
        assert!(!MaxError::Unauthorized.is_transient());
    }
}
