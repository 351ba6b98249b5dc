//! A fake Telegram Bot API over real HTTP on loopback: `/bot{token}/{method}` (GET or POST;
//! query, JSON, form or multipart parameters, as Telegram accepts them) and
//! `/file/bot{token}/{path}`. It knows its bots' tokens (others get Telegram's 401), keeps each
//! bot's webhook and the messages it sent, serves files, fails methods on demand, and records
//! every call so tests can assert exact parameters.
//!
//! Parameters are recorded as one JSON object: a JSON body as sent; form and multipart fields
//! as strings, except that a field holding a JSON array or object (`allowed_updates`,
//! `reply_markup`, …) is recorded parsed. Uploaded files are recorded apart, in `files`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

mod methods;
mod serving;

use methods::*;
use serving::*;

/// A token of the shape @BotFather hands out, for the bot `BOT_ID`/`BOT_USERNAME`.
pub const TOKEN: &str = "7012345678:AAFq3xQ-7dMkhw_9ZyB1cVn0pTr5sUe2LoI";
pub const BOT_ID: i64 = 7_012_345_678;
pub const BOT_USERNAME: &str = "acme_shop_bot";
/// A second, well-formed token the fake does not know until told.
pub const OTHER_TOKEN: &str = "6012345678:AAGz8yW-1nLkqv_4XcB7mDp2sHr9tUe6QoJ";

#[derive(Clone, Debug)]
pub struct Call {
    pub token: String,
    pub http_method: Method,
    /// As written in the path (`setWebhook`); for downloads `file/{path}`.
    pub method: String,
    pub params: Value,
    pub files: Vec<UploadedFile>,
    /// When the request reached the fake (before its body was read).
    pub at: Instant,
}

#[derive(Clone, Debug)]
pub struct UploadedFile {
    pub field: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
    pub allowed_updates: Vec<String>,
    pub max_connections: u32,
}

/// A message a bot sent, as the fake keeps it (edits change it, deletes mark it).
#[derive(Clone, Debug)]
pub struct SentMessage {
    pub token: String,
    pub method: String,
    pub chat_id: i64,
    pub message_id: i64,
    pub text: Option<String>,
    pub caption: Option<String>,
    /// The file ids of what it carries (photo, document, …).
    pub file_ids: Vec<String>,
    pub params: Value,
    pub json: Value,
    pub edited: bool,
    pub deleted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    pub token: String,
    pub chat_id: i64,
    pub message_id: i64,
    pub reaction: Value,
}

/// How a method fails, when told to.
#[derive(Clone, Debug)]
pub enum Failure {
    /// `{"ok":false,"error_code":code,"description":..,"parameters":{..}}` with HTTP `code`.
    Api {
        code: u16,
        description: String,
        retry_after: Option<u64>,
        migrate_to_chat_id: Option<i64>,
    },
    /// 502 with nginx's HTML page, as when the Bot API behind Telegram's front is down.
    Down,
    /// HTTP 200 with an HTML body.
    NotJson,
    /// Answers normally, after this long.
    Slow(Duration),
}

impl Failure {
    pub fn api(code: u16, description: &str) -> Self {
        Self::Api {
            code,
            description: description.to_owned(),
            retry_after: None,
            migrate_to_chat_id: None,
        }
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        Self::Api {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
            migrate_to_chat_id: None,
        }
    }

    pub fn server_error() -> Self {
        Self::api(500, "Internal Server Error")
    }

    pub fn blocked_by_user() -> Self {
        Self::api(403, "Forbidden: bot was blocked by the user")
    }

    pub fn chat_not_found() -> Self {
        Self::api(400, "Bad Request: chat not found")
    }

    pub fn migrated_to(chat_id: i64) -> Self {
        Self::Api {
            code: 400,
            description: "Bad Request: group chat was upgraded to a supergroup chat".into(),
            retry_after: None,
            migrate_to_chat_id: Some(chat_id),
        }
    }
}

#[derive(Clone, Debug)]
struct Rule {
    /// Lowercase method name, or `*` for every method (and downloads).
    method: String,
    failure: Failure,
    remaining: Option<u32>,
}

#[derive(Clone, Debug)]
struct FakeBot {
    id: i64,
    username: String,
    webhook: Option<Webhook>,
    /// What `getWebhookInfo` reports of failed deliveries: last_error_date (unix s),
    /// last_error_message, pending_update_count.
    webhook_trouble: Option<(i64, String, u32)>,
}

#[derive(Clone, Debug)]
struct StoredFile {
    file_id: String,
    path: String,
    bytes: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct FakeTelegramState {
    bots: HashMap<String, FakeBot>,
    calls: Vec<Call>,
    rules: Vec<Rule>,
    messages: Vec<SentMessage>,
    reactions: Vec<Reaction>,
    files: Vec<StoredFile>,
    /// Chats whose user blocked the bots (403 on sends).
    blocked_chats: Vec<i64>,
    /// Incoming messages a reply may point at (the bots' own are known anyway).
    known_messages: Vec<(i64, i64)>,
    /// Each user's profile photo: (side in pixels, file id) per size, smallest first.
    profile_photos: HashMap<i64, Vec<(u32, String)>>,
    next_message_id: i64,
    next_file: u64,
}

#[derive(Clone)]
pub struct FakeTelegram {
    /// `http://127.0.0.1:PORT`, the `telegram.api_url` to configure.
    pub url: String,
    state: Arc<Mutex<FakeTelegramState>>,
}

type Shared = Arc<Mutex<FakeTelegramState>>;

impl FakeTelegram {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeTelegramState {
            next_message_id: 1,
            next_file: 1,
            ..Default::default()
        }));
        let app = Router::new()
            .fallback(handle)
            // Uploads go up to 50 MB at Telegram.
            .layer(DefaultBodyLimit::max(60 * 1024 * 1024))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    /// A fake with the bot `TOKEN` (`BOT_ID`, `@BOT_USERNAME`) known.
    pub async fn with_bot() -> Self {
        let fake = Self::start().await;
        fake.add_bot(TOKEN, BOT_ID, BOT_USERNAME);
        fake
    }

    pub fn api_url(&self) -> url::Url {
        self.url.parse().unwrap()
    }

    pub fn add_bot(&self, token: &str, id: i64, username: &str) {
        self.state().bots.insert(
            token.to_owned(),
            FakeBot {
                id,
                username: username.to_owned(),
                webhook: None,
                webhook_trouble: None,
            },
        );
    }

    /// As when the merchant revokes the token in @BotFather: 401 from now on.
    pub fn revoke(&self, token: &str) {
        self.state().bots.remove(token);
    }

    /// `getWebhookInfo` reports that delivering to the webhook failed at `date` (unix seconds)
    /// with `message`, `pending` updates waiting; `None` clears it.
    pub fn set_webhook_trouble(&self, token: &str, trouble: Option<(i64, &str, u32)>) {
        if let Some(bot) = self.state().bots.get_mut(token) {
            bot.webhook_trouble = trouble.map(|(date, m, pending)| (date, m.to_owned(), pending));
        }
    }

    /// Every call to `method` (case-insensitive; `*` for all, downloads included) fails so.
    pub fn fail(&self, method: &str, failure: Failure) {
        self.add_rule(method, failure, None);
    }

    /// The next `times` calls to `method` fail so, then it works again.
    pub fn fail_times(&self, method: &str, failure: Failure, times: u32) {
        self.add_rule(method, failure, Some(times));
    }

    pub fn clear_failures(&self) {
        self.state().rules.clear();
    }

    /// The user of this private chat blocked the bot: sends get 403.
    pub fn block_chat(&self, chat_id: i64) {
        self.state().blocked_chats.push(chat_id);
    }

    /// An incoming message replies may point at.
    pub fn know_message(&self, chat_id: i64, message_id: i64) {
        self.state().known_messages.push((chat_id, message_id));
    }

    /// Makes a file downloadable at `path` and returns its `file_id`.
    pub fn put_file(&self, path: &str, bytes: impl Into<Vec<u8>>) -> String {
        let mut state = self.state();
        let file_id = format!("fake-file-{}", state.next_file);
        state.next_file += 1;
        state.files.push(StoredFile {
            file_id: file_id.clone(),
            path: path.to_owned(),
            bytes: bytes.into(),
        });
        file_id
    }

    /// Gives `user_id` a profile photo in these sizes (square side in pixels, the file's
    /// bytes), smallest first, as `getUserProfilePhotos` lists them; returns the file ids.
    pub fn set_profile_photo(&self, user_id: i64, sizes: &[(u32, &[u8])]) -> Vec<String> {
        let sizes: Vec<(u32, String)> = sizes
            .iter()
            .map(|(side, bytes)| {
                let path = format!("profile_photos/{user_id}_{side}.jpg");
                (*side, self.put_file(&path, bytes.to_vec()))
            })
            .collect();
        let ids = sizes.iter().map(|(_, id)| id.clone()).collect();
        self.state().profile_photos.insert(user_id, sizes);
        ids
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// The calls after the first `from` (a benchmark reads new calls without copying all).
    pub fn calls_since(&self, from: usize) -> Vec<Call> {
        let s = self.state();
        s.calls.get(from..).unwrap_or_default().to_vec()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .collect()
    }

    pub fn last_call_to(&self, method: &str) -> Option<Call> {
        self.calls_to(method).pop()
    }

    pub fn webhook_of(&self, token: &str) -> Option<Webhook> {
        self.state()
            .bots
            .get(token)
            .and_then(|bot| bot.webhook.clone())
    }

    /// Sets a webhook as if an earlier `setWebhook` had.
    pub fn set_webhook_of(&self, token: &str, webhook: Webhook) {
        if let Some(bot) = self.state().bots.get_mut(token) {
            bot.webhook = Some(webhook);
        }
    }

    pub fn messages(&self) -> Vec<SentMessage> {
        self.state().messages.clone()
    }

    pub fn messages_to(&self, chat_id: i64) -> Vec<SentMessage> {
        self.messages()
            .into_iter()
            .filter(|m| m.chat_id == chat_id)
            .collect()
    }

    pub fn reactions(&self) -> Vec<Reaction> {
        self.state().reactions.clone()
    }

    fn add_rule(&self, method: &str, failure: Failure, remaining: Option<u32>) {
        self.state().rules.push(Rule {
            method: method.to_ascii_lowercase(),
            failure,
            remaining,
        });
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FakeTelegramState> {
        self.state.lock().unwrap()
    }
}
