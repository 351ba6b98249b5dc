//! The HTTP side of the MAX Bot API: `{api_url}/{path}` with the token in the `Authorization`
//! header (never in a URL: the old `?access_token=` form is not used), JSON bodies, answers
//! judged by status and MAX's `{code, message}`. No retries inside, except the short one the
//! official client makes when a just-uploaded file is not processed yet.
//!
//! Uploads go to the URL `POST /uploads` hands out, on MAX's storage host: that request
//! carries no token.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::MaxError;
use super::token::MaxToken;
use super::types::{
    BotInfo, ChatMember, ChatMembersList, Message, NewMessageBody, SendMessageResult,
    SubscriptionRequest, Subscriptions, UploadEndpoint, UploadType, Uploaded,
};
use crate::http::{client_builder, describe_transport_error, read_bounded, BodyError};

/// Biggest answer we read from a method (ours are small).
const MAX_ANSWER: usize = 1024 * 1024;
/// Uploads and downloads may take this long in all.
const TRANSFER_TIME_LIMIT: Duration = Duration::from_secs(10 * 60);
/// The official client's waits when an attachment is not ready (1 s, then 2 s), then ours.
const NOT_READY_WAITS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];
/// The longest error text we keep from MAX's `message`.
const MAX_ERROR_TEXT: usize = 300;

/// The shared HTTP client and the Bot API's address; one per service.
#[derive(Clone)]
pub struct MaxClient {
    http: reqwest::Client,
    base: Arc<str>,
}

impl MaxClient {
    pub fn new(api_url: &url::Url, timeout: Duration) -> anyhow::Result<Self> {
        anyhow::ensure!(
            matches!(api_url.scheme(), "http" | "https")
                && api_url.host_str().is_some()
                && api_url.query().is_none(),
            "max.api_url must be an http(s) URL without query, got {api_url}"
        );
        let http = client_builder(timeout).read_timeout(timeout).build()?;
        Ok(Self {
            http,
            base: api_url.as_str().trim_end_matches('/').into(),
        })
    }

    pub fn bot(&self, token: &MaxToken) -> MaxBot {
        MaxBot {
            client: self.clone(),
            token: token.clone(),
        }
    }
}

impl fmt::Debug for MaxClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaxClient")
            .field("api_url", &self.base)
            .finish()
    }
}

/// One bot's calls. Cheap to clone.
#[derive(Clone)]
pub struct MaxBot {
    client: MaxClient,
    token: MaxToken,
}

impl fmt::Debug for MaxBot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MaxBot([token redacted])")
    }
}

/// Where a message goes: a dialog or chat by its id (what MG's `external_chat_id` holds).
#[derive(Debug, Clone, Copy)]
pub enum To {
    Chat(i64),
    User(i64),
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct UploadAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    photos: Option<Value>,
}

impl MaxBot {
    /// Checks the token and says which bot it belongs to.
    pub async fn me(&self) -> Result<BotInfo, MaxError> {
        self.call(Method::GET, "/me", &[], None::<&()>).await
    }

    pub async fn subscribe(&self, url: &str, secret: &str, types: &[&str]) -> Result<(), MaxError> {
        let body = SubscriptionRequest {
            url,
            secret,
            update_types: types,
        };
        let _: Value = self
            .call(Method::POST, "/subscriptions", &[], Some(&body))
            .await?;
        Ok(())
    }

    /// The URLs MAX posts this bot's updates to.
    pub async fn subscriptions(&self) -> Result<Vec<String>, MaxError> {
        let list: Subscriptions = self
            .call(Method::GET, "/subscriptions", &[], None::<&()>)
            .await?;
        Ok(list.subscriptions.into_iter().map(|s| s.url).collect())
    }

    pub async fn unsubscribe(&self, url: &str) -> Result<(), MaxError> {
        let _: Value = self
            .call(
                Method::DELETE,
                "/subscriptions",
                &[("url", url)],
                None::<&()>,
            )
            .await?;
        Ok(())
    }

    /// Sends a message; when its attachment is still being processed, waits and tries again
    /// a few times (the official client does the same), then gives up with the refusal.
    pub async fn send_message(&self, to: To, body: &NewMessageBody) -> Result<Message, MaxError> {
        let (key, id) = match to {
            To::Chat(id) => ("chat_id", id.to_string()),
            To::User(id) => ("user_id", id.to_string()),
        };
        let query = [(key, id.as_str())];
        let mut waits = NOT_READY_WAITS.iter();
        loop {
            let sent: Result<SendMessageResult, _> = self
                .call(Method::POST, "/messages", &query, Some(body))
                .await;
            match sent {
                Err(e) if e.is_attachment_not_ready() => match waits.next() {
                    Some(wait) => tokio::time::sleep(*wait).await,
                    None => return Err(e),
                },
                other => return other.map(|r| r.message),
            }
        }
    }

    pub async fn edit_message(&self, mid: &str, body: &NewMessageBody) -> Result<(), MaxError> {
        let _: Value = self
            .call(Method::PUT, "/messages", &[("message_id", mid)], Some(body))
            .await?;
        Ok(())
    }

    pub async fn delete_message(&self, mid: &str) -> Result<(), MaxError> {
        let _: Value = self
            .call(
                Method::DELETE,
                "/messages",
                &[("message_id", mid)],
                None::<&()>,
            )
            .await?;
        Ok(())
    }

    /// A chat member with their avatar (a dialog's customer), if MAX names one.
    pub async fn chat_member(
        &self,
        chat_id: i64,
        user_id: i64,
    ) -> Result<Option<ChatMember>, MaxError> {
        let user = user_id.to_string();
        let list: ChatMembersList = self
            .call(
                Method::GET,
                &format!("/chats/{chat_id}/members"),
                &[("user_ids", user.as_str())],
                None::<&()>,
            )
            .await?;
        Ok(list.members.into_iter().find(|m| m.user_id == user_id))
    }

    /// Uploads a file in one multipart request and returns what to attach.
    pub async fn upload(
        &self,
        kind: UploadType,
        file_name: &str,
        mime_type: &str,
        bytes: Bytes,
    ) -> Result<Uploaded, MaxError> {
        let endpoint: UploadEndpoint = self
            .call(
                Method::POST,
                "/uploads",
                &[("type", kind.as_str())],
                None::<&()>,
            )
            .await?;
        let part = reqwest::multipart::Part::stream(bytes)
            .file_name(file_name.to_owned())
            .mime_str(mime_type)
            .map_err(|e| MaxError::Request(format!("the file's type: {e}")))?;
        let request = self
            .client
            .http
            .post(&endpoint.url)
            .timeout(TRANSFER_TIME_LIMIT)
            .multipart(reqwest::multipart::Form::new().part("data", part));
        let (status, body) = self.exchange(request).await?;
        if !status.is_success() {
            return Err(failure(status, &body, None));
        }
        // Tolerant reading: video and audio get their token from the endpoint (schema), the
        // others from the upload's answer; take whichever is there.
        let answer: UploadAnswer = serde_json::from_slice(&body).unwrap_or(UploadAnswer {
            token: None,
            photos: None,
        });
        match (kind, answer.photos, answer.token.or(endpoint.token)) {
            (UploadType::Image, Some(photos), _) => Ok(Uploaded::Photos { photos }),
            (_, _, Some(token)) => Ok(Uploaded::Token { token }),
            _ => Err(MaxError::Decode("the upload gave no token".into())),
        }
    }

    /// Fetches a file MAX serves (an avatar), up to `limit` bytes.
    pub async fn download(&self, url: &str, limit: usize) -> Result<Bytes, MaxError> {
        let request = self.client.http.get(url).timeout(TRANSFER_TIME_LIMIT);
        let mut response = request
            .send()
            .await
            .map_err(|e| MaxError::Unreachable(describe_transport_error(&e)))?;
        if !response.status().is_success() {
            return Err(failure(response.status(), &[], None));
        }
        read_bounded(&mut response, limit)
            .await
            .map(Bytes::from)
            .map_err(|e| body_error(e, limit))
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<T, MaxError> {
        let mut url = url::Url::parse(&format!("{}{path}", self.client.base))
            .map_err(|e| MaxError::Request(e.to_string()))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let auth = reqwest::header::HeaderValue::from_str(self.token.expose())
            .map_err(|_| MaxError::Request("the token cannot be sent in a header".into()))?;
        let mut request = self
            .client
            .http
            .request(method.clone(), url)
            .header(reqwest::header::AUTHORIZATION, auth);
        if let Some(body) = body {
            let encoded = serde_json::to_vec(body)
                .map_err(|e| MaxError::Request(format!("cannot encode: {e}")))?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(encoded);
        }
        let (status, answer) = self.exchange(request).await?;
        if status == StatusCode::UNAUTHORIZED {
            return Err(MaxError::Unauthorized);
        }
        if !status.is_success() {
            let error = failure(status, &answer, None);
            tracing::debug!(%error, %method, path, "MAX call failed");
            return Err(error);
        }
        serde_json::from_slice(&answer).map_err(|e| {
            MaxError::Decode(truncate(&format!(
                "{method} {path}: unexpected answer: {e}"
            )))
        })
    }

    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Vec<u8>), MaxError> {
        let mut response = request
            .send()
            .await
            .map_err(|e| MaxError::Unreachable(describe_transport_error(&e)))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = read_bounded(&mut response, MAX_ANSWER)
            .await
            .map_err(|e| body_error(e, MAX_ANSWER))?;
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(failure(status, &body, retry_after));
        }
        Ok((status, body))
    }
}

/// An error answer: MAX's `{code, message}` when there is one, else the bare status.
fn failure(status: StatusCode, body: &[u8], retry_after: Option<u64>) -> MaxError {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let (code, message) = match parsed {
        Some(e) => (truncate(&e.code), truncate(&e.message)),
        None => (String::new(), format!("HTTP {}", status.as_u16())),
    };
    MaxError::Api {
        status: status.as_u16(),
        code,
        message,
        retry_after,
    }
}

fn body_error(e: BodyError, limit: usize) -> MaxError {
    match e {
        BodyError::TooBig => MaxError::Decode(format!("an answer over {limit} bytes")),
        BodyError::Transport(e) => MaxError::Unreachable(describe_transport_error(&e)),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_ERROR_TEXT).collect()
}
