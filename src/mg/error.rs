//! What a Transport API call can end in, besides success. Messages never carry the endpoint
//! URL or the token: these errors end up in logs and on the settings page.

use serde_json::Value;

/// The text MG answers (400) when `message.external_id` was already used in the channel
/// (`protocol/transport-api.md` §6.7): the message is already there.
const DUPLICATE_EXTERNAL_ID: &str = "Message with passed external_id already exists";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MgError {
    /// 401 or 403: MG does not accept the token. The caller asks the CRM for the current one.
    #[error("MessageGateway refused the transport token")]
    Unauthorized,
    /// Any other non-2xx answer, with MG's `errors` list (possibly empty).
    #[error("MessageGateway answered HTTP {status}{}", describe(errors))]
    Api { status: u16, errors: Vec<String> },
    /// Still 429 after every attempt.
    #[error("MessageGateway is rate limiting this account")]
    RateLimited,
    /// No HTTP answer: DNS, refused connection, TLS, timeout.
    #[error("MessageGateway could not be reached: {0}")]
    Unreachable(String),
    /// A 2xx answer whose body is not what the Transport API documents.
    #[error("MessageGateway's answer could not be read: {0}")]
    Decode(String),
    /// The request could not be built (a header value or URL that HTTP cannot carry): it would
    /// fail the same way on every attempt, so it is never repeated.
    #[error("the request to MessageGateway could not be built: {0}")]
    Request(String),
}

impl MgError {
    /// MG already has a message with this `external_id`: for `send_message` that means the
    /// message was delivered before (a retry after a lost answer), so treat it as success.
    pub fn is_duplicate_external_id(&self) -> bool {
        matches!(self, Self::Api { errors, .. } if errors.iter().any(|e| e.contains(DUPLICATE_EXTERNAL_ID)))
    }

    /// A failure on MG's side or on the way to it, worth trying again later.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::RateLimited | Self::Unreachable(_) => true,
            Self::Api { status, .. } => *status >= 500,
            Self::Unauthorized | Self::Decode(_) | Self::Request(_) => false,
        }
    }

    /// Builds the error for a non-2xx answer from its status and raw body. The body is
    /// `{"errors": [...]}`, but may be empty (5xx), not JSON (a proxy's page), have no
    /// `errors`, or an empty list (the Go client panics on that one; we do not).
    pub(crate) fn from_answer(status: u16, body: &[u8]) -> Self {
        if status == 401 || status == 403 {
            return Self::Unauthorized;
        }
        let errors = match serde_json::from_slice::<Value>(body) {
            Ok(value) => match value.get("errors") {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
                Some(Value::String(text)) => vec![text.clone()],
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        };
        Self::Api { status, errors }
    }
}

fn describe(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {}", errors.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_parsed_tolerantly() {
        let api = |status, body: &str| MgError::from_answer(status, body.as_bytes());
        assert_eq!(
            api(400, r#"{"errors":["Channel not found"]}"#),
            MgError::Api {
                status: 400,
                errors: vec!["Channel not found".into()]
            }
        );
        for body in [
            r#"{"errors":[]}"#,
            "{}",
            "",
            "<html>bad gateway</html>",
            "null",
        ] {
            assert_eq!(
                api(502, body),
                MgError::Api {
                    status: 502,
                    errors: vec![]
                },
                "{body}"
            );
        }
        assert_eq!(api(401, ""), MgError::Unauthorized);
        assert_eq!(
            api(403, r#"{"errors":["Forbidden"]}"#),
            MgError::Unauthorized
        );
    }

    #[test]
    fn a_duplicate_external_id_is_recognised() {
        let dup = MgError::from_answer(
            400,
            br#"{"errors":["Message with passed external_id already exists"]}"#,
        );
        assert!(dup.is_duplicate_external_id());
        assert!(
            !MgError::from_answer(400, br#"{"errors":["Channel not found"]}"#)
                .is_duplicate_external_id()
        );
        assert!(!MgError::RateLimited.is_duplicate_external_id());
        assert_eq!(
            dup.to_string(),
            "MessageGateway answered HTTP 400: Message with passed external_id already exists"
        );
    }
}
