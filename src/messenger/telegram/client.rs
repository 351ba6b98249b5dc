//! The HTTP side: `POST {api_url}/bot{token}/{method}` with a JSON body (multipart when a file
//! is uploaded), answers judged by `ok`/`error_code`/`description`/`parameters`.
//!
//! The token is in every URL, so the rules here are: a URL is built only to be handed to
//! reqwest, never formatted into a message, span or error; reqwest errors lose their URL
//! (`without_url`) before anything reads them; `reqwest::Response` (whose `Debug` prints its
//! URL) never leaves this file; redirects are refused (they would carry the token to another
//! host, and reqwest logs both URLs); and as a last line every error text is scrubbed of the
//! token's secret part.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::multipart::Form;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::error::TelegramError;
use super::token::BotToken;
use super::types::{
    EditMessageCaption, EditMessageText, File, InputFile, Message, SendMedia, SendMediaGroup,
    SendMessage, SetMessageReaction, SetWebhook, User, UserProfilePhotos, WebhookInfo,
};
use crate::http::{client_builder, describe_transport_error, read_bounded, BodyError};
use multipart::{file_part, form_of};

mod business;
mod multipart;
#[cfg(test)]
mod tests;

/// Biggest method answer we read. Ours are small; `sendMediaGroup` returns ten messages.
const MAX_ANSWER: usize = 4 * 1024 * 1024;
/// Downloads stream for as long as they make progress (the client's read timeout catches a
/// stall); this only bounds the whole transfer.
const DOWNLOAD_TIME_LIMIT: Duration = Duration::from_secs(30 * 60);
/// Longest error text we keep from a decoder.
const MAX_ERROR_TEXT: usize = 300;

/// The shared HTTP client and the Bot API's address; one per service, cloned freely.
#[derive(Clone)]
pub struct TelegramClient {
    http: reqwest::Client,
    /// `api_url` without its trailing slash (it may have a path, for a Bot API server behind a
    /// prefix).
    base: Arc<str>,
}

impl TelegramClient {
    /// `timeout` bounds each method call and each read of a download.
    pub fn new(api_url: &url::Url, timeout: Duration) -> anyhow::Result<Self> {
        Self::with_proxy(api_url, timeout, None)
    }

    /// [`Self::new`], every call going through `proxy` (`telegram.proxy_url`: http, https or
    /// socks5, credentials in the URL) when one is given. A configured proxy replaces the
    /// `HTTP(S)_PROXY` environment (reqwest reads it only when no proxy is set); without one
    /// the environment applies as it does to the other clients. The URL holds a password, so
    /// it is never part of an error.
    pub fn with_proxy(
        api_url: &url::Url,
        timeout: Duration,
        proxy: Option<&SecretString>,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            matches!(api_url.scheme(), "http" | "https")
                && api_url.host_str().is_some()
                && api_url.query().is_none()
                && api_url.fragment().is_none(),
            "telegram.api_url must be an http(s) URL without query, got {api_url}"
        );
        // Redirects are refused (`client_builder`): Telegram never sends one, and following
        // it would send the token elsewhere.
        let mut builder = client_builder(timeout).read_timeout(timeout);
        if let Some(proxy) = proxy {
            // reqwest takes the credentials from the URL (percent-decoded): Basic for an
            // http(s) proxy, username/password for SOCKS5.
            // reqwest would take any scheme and fail only at the first call.
            let refused =
                || anyhow::anyhow!("telegram.proxy_url is not a proxy URL (http, https or socks5)");
            let url = url::Url::parse(proxy.expose_secret()).map_err(|_| refused())?;
            if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
                return Err(refused());
            }
            builder = builder.proxy(reqwest::Proxy::all(url).map_err(|_| refused())?);
        }
        let http = builder.build()?;
        Ok(Self {
            http,
            base: api_url.as_str().trim_end_matches('/').into(),
        })
    }

    /// A handle for calls as one bot.
    pub fn bot(&self, token: &BotToken) -> Bot {
        Bot {
            client: self.clone(),
            token: token.clone(),
            business: None,
        }
    }
}

impl fmt::Debug for TelegramClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramClient")
            .field("api_url", &self.base)
            .finish()
    }
}

/// One bot's calls. Cheap to clone; no retries inside (the caller decides, with
/// [`TelegramError::retry_after`] and [`TelegramError::is_transient`]).
#[derive(Clone)]
pub struct Bot {
    client: TelegramClient,
    token: BotToken,
    /// The business connection its calls act for (Telegram Business), if any.
    business: Option<Arc<str>>,
}

impl fmt::Debug for Bot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bot").field("id", &self.id()).finish()
    }
}

#[derive(Serialize)]
struct NoParams {}

impl Bot {
    /// The bot's user id (the digits of its token).
    pub fn id(&self) -> i64 {
        self.token.bot_id()
    }

    /// Checks the token and says which bot it belongs to.
    pub async fn get_me(&self) -> Result<User, TelegramError> {
        self.call("getMe", &NoParams {}).await
    }

    pub async fn set_webhook(&self, request: &SetWebhook) -> Result<bool, TelegramError> {
        self.call("setWebhook", request).await
    }

    pub async fn delete_webhook(&self, drop_pending_updates: bool) -> Result<bool, TelegramError> {
        self.call(
            "deleteWebhook",
            &json!({ "drop_pending_updates": drop_pending_updates }),
        )
        .await
    }

    pub async fn get_webhook_info(&self) -> Result<WebhookInfo, TelegramError> {
        self.call("getWebhookInfo", &NoParams {}).await
    }

    pub async fn send_message(&self, request: &SendMessage) -> Result<Message, TelegramError> {
        self.call("sendMessage", request).await
    }

    pub async fn send_photo(&self, request: &SendMedia) -> Result<Message, TelegramError> {
        self.send_media("sendPhoto", "photo", request).await
    }

    /// Any file, shown as a file (no preview or player).
    pub async fn send_document(&self, request: &SendMedia) -> Result<Message, TelegramError> {
        self.send_media("sendDocument", "document", request).await
    }

    /// MP3 or M4A, shown in the music player.
    pub async fn send_audio(&self, request: &SendMedia) -> Result<Message, TelegramError> {
        self.send_media("sendAudio", "audio", request).await
    }

    /// OGG/Opus (also MP3 and M4A), shown as a voice message.
    pub async fn send_voice(&self, request: &SendMedia) -> Result<Message, TelegramError> {
        self.send_media("sendVoice", "voice", request).await
    }

    /// MP4, shown with a player.
    pub async fn send_video(&self, request: &SendMedia) -> Result<Message, TelegramError> {
        self.send_media("sendVideo", "video", request).await
    }

    /// GIF or soundless MP4, looped.
    pub async fn send_animation(&self, request: &SendMedia) -> Result<Message, TelegramError> {
        self.send_media("sendAnimation", "animation", request).await
    }

    /// An album; Telegram answers with one message per item.
    pub async fn send_media_group(
        &self,
        request: &SendMediaGroup,
    ) -> Result<Vec<Message>, TelegramError> {
        let mut uploads = Vec::new();
        let mut items = Vec::with_capacity(request.media.len());
        for (index, item) in request.media.iter().enumerate() {
            let media = match &item.media {
                InputFile::Url(text) | InputFile::FileId(text) => text.clone(),
                InputFile::Upload(file) => {
                    let name = format!("file{index}");
                    let reference = format!("attach://{name}");
                    uploads.push((name, file));
                    reference
                }
            };
            let mut object = json!({ "type": item.kind, "media": media });
            if let Some(caption) = &item.caption {
                object["caption"] = json!(caption);
            }
            if let Some(mode) = item.parse_mode {
                object["parse_mode"] = json!(mode);
            }
            items.push(object);
        }
        let mut params = Map::new();
        params.insert("chat_id".into(), json!(request.chat_id));
        params.insert("media".into(), Value::Array(items));
        if let Some(reply) = &request.reply_parameters {
            params.insert("reply_parameters".into(), json!(reply));
        }
        if let Some(silent) = request.disable_notification {
            params.insert("disable_notification".into(), json!(silent));
        }
        if uploads.is_empty() {
            return self.call("sendMediaGroup", &params).await;
        }
        let mut form = form_of(params);
        for (name, file) in uploads {
            form = form.part(name, file_part(file));
        }
        self.call_multipart("sendMediaGroup", form).await
    }

    pub async fn edit_message_text(
        &self,
        request: &EditMessageText,
    ) -> Result<Message, TelegramError> {
        self.call("editMessageText", request).await
    }

    pub async fn edit_message_caption(
        &self,
        request: &EditMessageCaption,
    ) -> Result<Message, TelegramError> {
        self.call("editMessageCaption", request).await
    }

    /// Bots delete their own messages up to 48 hours old (and incoming ones in private chats).
    /// In a business chat that is `deleteBusinessMessages` (Bot API 9.0).
    pub async fn delete_message(
        &self,
        chat_id: i64,
        message_id: i64,
    ) -> Result<bool, TelegramError> {
        if self.business.is_some() {
            return self
                .call(
                    "deleteBusinessMessages",
                    &json!({ "message_ids": [message_id] }),
                )
                .await;
        }
        self.call(
            "deleteMessage",
            &json!({ "chat_id": chat_id, "message_id": message_id }),
        )
        .await
    }

    pub async fn set_message_reaction(
        &self,
        request: &SetMessageReaction,
    ) -> Result<bool, TelegramError> {
        self.call("setMessageReaction", request).await
    }

    /// Where to download a file from (`file_path`), for files up to 20 MB.
    pub async fn get_file(&self, file_id: &str) -> Result<File, TelegramError> {
        self.call("getFile", &json!({ "file_id": file_id })).await
    }

    /// A user's profile pictures, newest first (`limit` 1..=100). Bots see the photos the
    /// user's privacy settings show to everyone.
    pub async fn get_user_profile_photos(
        &self,
        user_id: i64,
        limit: u32,
    ) -> Result<UserProfilePhotos, TelegramError> {
        self.call(
            "getUserProfilePhotos",
            &json!({ "user_id": user_id, "limit": limit.clamp(1, 100) }),
        )
        .await
    }

    /// Starts downloading `file_path` (from [`Bot::get_file`]); the body is streamed, never
    /// held whole. Never hand the download URL to anyone else: it contains the token.
    #[tracing::instrument(name = "telegram_download", skip_all, fields(bot = self.id()))]
    pub async fn download_file(&self, file_path: &str) -> Result<FileDownload, TelegramError> {
        // Paths come from Telegram (`photos/file_12.jpg`); anything else could rewrite the URL.
        let plausible = !file_path.is_empty()
            && !file_path.starts_with('/')
            && !file_path.split('/').any(|segment| segment == "..")
            && !file_path
                .chars()
                .any(|c| matches!(c, '?' | '#' | '%' | '\\') || c.is_control());
        if !plausible {
            return Err(TelegramError::Decode(
                "that is not a file path Telegram gives".into(),
            ));
        }
        let url = format!(
            "{}/file/bot{}/{file_path}",
            self.client.base,
            self.token.expose()
        );
        let mut response = self
            .client
            .http
            .get(url)
            .timeout(DOWNLOAD_TIME_LIMIT)
            .send()
            .await
            .map_err(|e| transport_error(e, &self.token))?;
        let status = response.status();
        if !status.is_success() {
            let body = read_limited(&mut response, 64 * 1024, &self.token).await?;
            return Err(self.failure("download", status, &body));
        }
        Ok(FileDownload {
            response,
            token: self.token.clone(),
        })
    }

    async fn send_media(
        &self,
        method: &'static str,
        field: &'static str,
        request: &SendMedia,
    ) -> Result<Message, TelegramError> {
        let mut params = object_of(method, request, &self.token)?;
        match &request.file {
            InputFile::Url(text) | InputFile::FileId(text) => {
                params.insert(field.into(), json!(text));
                self.call(method, &params).await
            }
            InputFile::Upload(file) => {
                let form = form_of(params).part(field, file_part(file));
                self.call_multipart(method, form).await
            }
        }
    }

    fn method_url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.client.base, self.token.expose())
    }

    async fn call<P: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: &P,
    ) -> Result<T, TelegramError> {
        // Encoded here rather than by reqwest so that a failure is ours to word.
        let encode = |e: serde_json::Error| {
            TelegramError::Decode(scrub(&format!("{method}: cannot encode: {e}"), &self.token))
        };
        let body = match self.business_of(method) {
            Some(connection) => {
                let mut value = serde_json::to_value(params).map_err(encode)?;
                if let Value::Object(fields) = &mut value {
                    fields.insert("business_connection_id".into(), json!(connection));
                }
                serde_json::to_vec(&value)
            }
            None => serde_json::to_vec(params),
        }
        .map_err(encode)?;
        let request = self
            .client
            .http
            .post(self.method_url(method))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.execute(method, request).await
    }

    async fn call_multipart<T: DeserializeOwned>(
        &self,
        method: &'static str,
        form: Form,
    ) -> Result<T, TelegramError> {
        let form = match self.business_of(method) {
            Some(connection) => form.text("business_connection_id", connection.to_owned()),
            None => form,
        };
        let request = self
            .client
            .http
            .post(self.method_url(method))
            .multipart(form);
        self.execute(method, request).await
    }

    #[tracing::instrument(name = "telegram", skip_all, fields(bot = self.id(), method = method))]
    async fn execute<T: DeserializeOwned>(
        &self,
        method: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, TelegramError> {
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_error(e, &self.token))?;
        let status = response.status();
        let body = read_limited(&mut response, MAX_ANSWER, &self.token).await?;
        drop(response);
        let result = self.interpret(method, status, &body);
        if let Err(error) = &result {
            tracing::debug!(%error, "telegram call failed");
        }
        result
    }

    fn interpret<T: DeserializeOwned>(
        &self,
        method: &str,
        status: StatusCode,
        body: &[u8],
    ) -> Result<T, TelegramError> {
        if !status.is_success() {
            return Err(self.failure(method, status, body));
        }
        let envelope: Envelope = serde_json::from_slice(body).map_err(|_| {
            TelegramError::Decode(format!(
                "{method}: HTTP {}, not a Bot API answer",
                status.as_u16()
            ))
        })?;
        if !envelope.ok {
            return Err(self.failure(method, status, body));
        }
        serde_json::from_value(envelope.result).map_err(|e| {
            let text = format!("{method}: unexpected result: {e}");
            TelegramError::Decode(scrub(&truncate(&text), &self.token))
        })
    }

    /// An error answer: the Bot API's JSON when there is one, else the bare status.
    fn failure(&self, method: &str, status: StatusCode, body: &[u8]) -> TelegramError {
        let envelope = serde_json::from_slice::<Envelope>(body)
            .ok()
            .filter(|e| !e.ok);
        let code = envelope
            .as_ref()
            .and_then(|e| e.error_code)
            .unwrap_or(i64::from(status.as_u16()));
        if code == 401 || status == StatusCode::UNAUTHORIZED {
            return TelegramError::Unauthorized;
        }
        let Some(envelope) = envelope else {
            // An nginx page in front of a failing Bot API, or not a Bot API at all.
            return TelegramError::Api {
                code,
                description: format!(
                    "{method}: HTTP {} without a Bot API answer",
                    status.as_u16()
                ),
                retry_after: None,
                migrate_to_chat_id: None,
            };
        };
        let parameters = envelope.parameters.unwrap_or_default();
        TelegramError::Api {
            code,
            description: scrub(
                &truncate(
                    envelope
                        .description
                        .as_deref()
                        .unwrap_or("no description given"),
                ),
                &self.token,
            ),
            retry_after: parameters.retry_after,
            migrate_to_chat_id: parameters.migrate_to_chat_id,
        }
    }
}

/// A file being downloaded. Read it with [`FileDownload::chunk`], or pass it on whole with
/// [`FileDownload::into_body`] (as an upload body, or an axum body with `Body::new`).
pub struct FileDownload {
    response: reqwest::Response,
    token: BotToken,
}

impl FileDownload {
    /// The size Telegram announced, when it did.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The next piece of the file; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, TelegramError> {
        self.response
            .chunk()
            .await
            .map_err(|e| transport_error(e, &self.token))
    }

    /// The rest of the file as a streaming body. Its errors come from reqwest's body reader,
    /// which never attaches a URL.
    pub fn into_body(self) -> reqwest::Body {
        reqwest::Body::from(self.response)
    }
}

impl fmt::Debug for FileDownload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the response's own Debug: it prints the URL, token included.
        f.debug_struct("FileDownload")
            .field("bot", &self.token.bot_id())
            .field("content_length", &self.content_length())
            .finish()
    }
}

/// `{"ok":…, "result":…}` or `{"ok":false, "error_code":…, "description":…, "parameters":…}`.
#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: Value,
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<ResponseParameters>,
}

#[derive(Default, Deserialize)]
struct ResponseParameters {
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    migrate_to_chat_id: Option<i64>,
}

async fn read_limited(
    response: &mut reqwest::Response,
    limit: usize,
    token: &BotToken,
) -> Result<Vec<u8>, TelegramError> {
    read_bounded(response, limit).await.map_err(|e| match e {
        BodyError::TooBig => {
            TelegramError::Decode(format!("the answer is bigger than {limit} bytes"))
        }
        BodyError::Transport(e) => transport_error(e, token),
    })
}

/// What went wrong on the wire, from an error stripped of its URL (the shared description
/// keeps the kind of failure and the innermost cause), scrubbed of the token besides.
fn transport_error(error: reqwest::Error, token: &BotToken) -> TelegramError {
    let error = error.without_url();
    let text = scrub(&truncate(&describe_transport_error(&error)), token);
    // A request that could not be built (a header value or URL HTTP cannot carry) fails the
    // same way every time: not "Telegram unreachable", so never repeated.
    if error.is_builder() {
        TelegramError::Request(text)
    } else {
        TelegramError::Unreachable(text)
    }
}

/// The last line of defence: no text we build may carry the token's secret.
fn scrub(text: &str, token: &BotToken) -> String {
    text.replace(token.secret_part(), "[redacted]")
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_TEXT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn object_of<P: Serialize>(
    method: &str,
    params: &P,
    token: &BotToken,
) -> Result<Map<String, Value>, TelegramError> {
    match serde_json::to_value(params) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(TelegramError::Decode(format!(
            "{method}: parameters are not an object"
        ))),
        Err(e) => Err(TelegramError::Decode(scrub(
            &format!("{method}: cannot encode: {e}"),
            token,
        ))),
    }
}
