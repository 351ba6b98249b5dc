//! A fake MAX Bot API (schema v0.0.30, `max-bot-api.schema.yaml`) over real HTTP on loopback.
//! It knows its bots' tokens (`Authorization: <token>`, or the legacy `access_token` query
//! parameter, which is recorded as used), limits each token to 30 requests a second, keeps
//! each bot's webhook subscriptions, uploads and sent messages, serves uploaded files and
//! avatars, fails routes on demand, and records every call so tests can assert exact requests.
//!
//! Routes are named as `"METHOD /path"` with the schema's path templates: `"POST /messages"`,
//! `"GET /messages/{messageId}"`, `"GET /chats/{chatId}/members"`, and the fake's own
//! `"POST /upload/{id}"` (the upload URL `POST /uploads` hands out) and `"GET /files/{name}"`
//! (downloads of media and avatars). Neither of the last two needs a token, as at MAX, whose
//! upload and media hosts are separate from the API.
//!
//! The other side, MAX delivering updates to the service's webhook, is in [`updates`]: builders
//! of `Update` JSON and [`updates::deliver`].

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};

mod bots;
mod messages;
mod serving;
#[cfg(test)]
mod tests;
pub mod updates;
mod uploads;

use serving::{bad_request, error, route_matches, success, Refusal};

/// A token of the shape MAX hands out (43+ characters of `[A-Za-z0-9_-]`), for the bot
/// `BOT_ID`/`BOT_USERNAME`.
pub const TOKEN: &str = "f9LHodD0cOKpPZrUGw1QbY7sJ3n_xVt4mE8kA2yHcR-5iWzTq6uLo";
pub const BOT_ID: i64 = 218_375_604;
pub const BOT_USERNAME: &str = "acme_shop_max_bot";
/// A second, well-formed token the fake does not know until told.
pub const OTHER_TOKEN: &str = "Kq2xR7vN_b3TzLw9YhPc-E1mUsJ5gDf8aQo4iVnX6kBy0tHeZrMl";

/// Requests a second each bot token may make (about 30 rps at MAX; see platform-2026.md §5.1).
pub const DEFAULT_RATE_LIMIT: u32 = 30;

/// How a call authenticated, whatever the token's worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthVia {
    /// `Authorization: <token>`, as MAX wants it now.
    Header,
    /// The legacy `?access_token=` parameter (tolerated; tests can assert it is not used).
    Query,
    Missing,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub http_method: Method,
    /// As requested: `/messages/mid.00…1`.
    pub path: String,
    /// The route with the schema's template: `GET /messages/{messageId}`.
    pub route: String,
    /// The query parameters, `access_token` left out (see `auth`).
    pub query: BTreeMap<String, String>,
    /// The JSON body, `Null` when there was none (uploads are recorded in `uploads()`).
    pub body: Value,
    /// The known bot token the call authenticated as; `None` if it did not (or needs none).
    pub token: Option<String>,
    pub auth: AuthVia,
    /// When the request reached the fake (before its body was read).
    pub at: Instant,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub url: String,
    pub secret: Option<String>,
    /// `None` when the request named none (all types).
    pub update_types: Option<Vec<String>>,
    pub version: Option<String>,
    /// Unix milliseconds.
    pub time: i64,
}

/// A file posted to an upload URL.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The bot that asked for the upload URL.
    pub token: String,
    /// `image`, `video`, `audio` or `file`, as asked in `POST /uploads?type=`.
    pub upload_type: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
    /// The token to attach it with (for images, the one in `photos`).
    pub attachment_token: String,
    /// Where the fake serves it (the `url` of the attachment in sent messages).
    pub url: String,
}

/// A message a bot sent, as the fake keeps it (edits change it, deletes mark it).
#[derive(Clone, Debug)]
pub struct SentMessage {
    pub token: String,
    pub mid: String,
    pub seq: i64,
    /// The recipient as the send named it (`?user_id=` or `?chat_id=`).
    pub user_id: Option<i64>,
    pub chat_id: Option<i64>,
    pub text: Option<String>,
    pub format: Option<String>,
    /// The attachment requests as sent (`{"type":"image","payload":{"token":…}}`).
    pub attachments: Vec<Value>,
    /// `link` as sent (`{"type":"reply","mid":…}`).
    pub link: Option<Value>,
    pub notify: bool,
    /// The `Message` the fake answered (and `GET /messages/{mid}` returns).
    pub json: Value,
    pub edited: bool,
    pub deleted: bool,
}

/// How a route fails, when told to.
#[derive(Clone, Debug)]
pub enum Failure {
    /// `{"code": code, "message": message}` with HTTP `status`.
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// Never answers (for timeout tests); the connection stays open.
    Hang,
    /// Answers normally, after this long.
    Slow(Duration),
}

impl Failure {
    pub fn api(status: u16, code: &str, message: &str) -> Self {
        Self::Api {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    pub fn too_many_requests() -> Self {
        Self::api(429, "too.many.requests", "Too many requests")
    }

    pub fn server_error() -> Self {
        Self::api(500, "internal.error", "Internal server error")
    }

    pub fn hang() -> Self {
        Self::Hang
    }
}

#[derive(Clone, Debug)]
struct Rule {
    /// `METHOD /template`, `METHOD /literal/path`, or `*` for every route.
    route: String,
    failure: Failure,
    remaining: Option<u32>,
}

#[derive(Clone, Debug)]
struct FakeBot {
    id: i64,
    username: String,
    subscriptions: Vec<Subscription>,
}

/// An upload URL handed out by `POST /uploads`.
#[derive(Clone, Debug)]
struct Endpoint {
    token: String,
    upload_type: String,
    /// Issued with the URL for video and audio, with the upload for the others.
    attachment_token: String,
}

#[derive(Debug, Default)]
pub struct FakeMaxState {
    /// `http://127.0.0.1:PORT`, for the URLs the fake hands out.
    base: String,
    bots: HashMap<String, FakeBot>,
    calls: Vec<Call>,
    rules: Vec<Rule>,
    rate_limit: Option<u32>,
    /// Each token's accepted requests in the last second.
    recent: HashMap<String, VecDeque<Instant>>,
    /// Upload id → the URL's owner and type.
    endpoints: HashMap<String, Endpoint>,
    uploads: Vec<Upload>,
    messages: Vec<SentMessage>,
    /// Incoming messages a `link` may point at (the bots' own are known anyway).
    known_mids: HashSet<String>,
    blocked_users: HashSet<i64>,
    /// User id → the id of the bot's dialog with them.
    dialogs: HashMap<i64, i64>,
    /// User id → the name of their avatar in `files`.
    avatars: HashMap<i64, String>,
    files: HashMap<String, Vec<u8>>,
    /// Sends with media still to refuse as "attachment not ready".
    not_ready: u32,
    next: u64,
}

#[derive(Clone)]
pub struct FakeMax {
    /// `http://127.0.0.1:PORT`, the MAX API base URL to configure.
    pub url: String,
    state: Arc<Mutex<FakeMaxState>>,
}

type Shared = Arc<Mutex<FakeMaxState>>;

impl FakeMax {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(FakeMaxState {
            base: url.clone(),
            rate_limit: Some(DEFAULT_RATE_LIMIT),
            next: 1,
            ..Default::default()
        }));
        let app = Router::new()
            .fallback(serving::handle)
            // MAX takes uploads up to 2 GB; tests send far less.
            .layer(DefaultBodyLimit::max(60 * 1024 * 1024))
            .with_state(state.clone());
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
                subscriptions: Vec::new(),
            },
        );
    }

    /// As when the token is revoked through @MasterBot: 401 from now on.
    pub fn revoke(&self, token: &str) {
        self.state().bots.remove(token);
    }

    /// Requests a second per token past which the fake answers 429; `None` for no limit.
    pub fn set_rate_limit(&self, per_second: Option<u32>) {
        self.state().rate_limit = per_second;
    }

    /// Every call to `route` (`"POST /messages"`, a literal path, or `*`) fails so.
    pub fn fail(&self, route: &str, failure: Failure) {
        self.add_rule(route, failure, None);
    }

    /// The next `times` calls to `route` fail so, then it works again.
    pub fn fail_times(&self, route: &str, failure: Failure, times: u32) {
        self.add_rule(route, failure, Some(times));
    }

    pub fn clear_failures(&self) {
        self.state().rules.clear();
    }

    /// The next `times` sends that carry media (image, video, audio, file) are refused as
    /// MAX refuses a file it is still processing.
    pub fn not_ready_times(&self, times: u32) {
        self.state().not_ready = times;
    }

    /// The user stopped the bot: sends to them (or their dialog) get 403.
    pub fn block_user(&self, user_id: i64) {
        self.state().blocked_users.insert(user_id);
    }

    /// The bot's dialog with `user_id` is `chat_id`: sends to either are the same recipient.
    pub fn set_dialog(&self, user_id: i64, chat_id: i64) {
        self.state().dialogs.insert(user_id, chat_id);
    }

    /// An incoming message `link` may point at.
    pub fn know_message(&self, mid: &str) {
        self.state().known_mids.insert(mid.to_owned());
    }

    /// Makes `bytes` downloadable (GET, no token) and returns the URL, for inbound media.
    pub fn put_file(&self, bytes: impl Into<Vec<u8>>) -> String {
        let mut s = self.state();
        let name = format!("file-{}", s.next);
        s.next += 1;
        s.files.insert(name.clone(), bytes.into());
        format!("{}/files/{name}", s.base)
    }

    /// Gives `user_id` an avatar: `GET /chats/{chatId}/members` lists it. Returns its
    /// `full_avatar_url`; `avatar_url` is the same with `?size=small` (same bytes).
    pub fn set_avatar(&self, user_id: i64, bytes: impl Into<Vec<u8>>) -> String {
        let url = self.put_file(bytes);
        let name = url.rsplit('/').next().unwrap().to_owned();
        self.state().avatars.insert(user_id, name);
        url
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// The calls after the first `from`.
    pub fn calls_since(&self, from: usize) -> Vec<Call> {
        let s = self.state();
        s.calls.get(from..).unwrap_or_default().to_vec()
    }

    /// The calls to `route`: `"POST /messages"` (template or literal path).
    pub fn calls_to(&self, route: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| route_matches(route, &c.http_method, &c.route, &c.path))
            .collect()
    }

    pub fn last_call_to(&self, route: &str) -> Option<Call> {
        self.calls_to(route).pop()
    }

    pub fn subscriptions_of(&self, token: &str) -> Vec<Subscription> {
        self.state()
            .bots
            .get(token)
            .map(|bot| bot.subscriptions.clone())
            .unwrap_or_default()
    }

    pub fn messages(&self) -> Vec<SentMessage> {
        self.state().messages.clone()
    }

    /// Messages sent to `user_id`, by `?user_id=` or to their dialog's `?chat_id=`.
    pub fn messages_to_user(&self, user_id: i64) -> Vec<SentMessage> {
        let dialog = self.state().dialogs.get(&user_id).copied();
        self.messages()
            .into_iter()
            .filter(|m| m.user_id == Some(user_id) || (dialog.is_some() && m.chat_id == dialog))
            .collect()
    }

    pub fn message(&self, mid: &str) -> Option<SentMessage> {
        self.messages().into_iter().find(|m| m.mid == mid)
    }

    pub fn uploads(&self) -> Vec<Upload> {
        self.state().uploads.clone()
    }

    fn add_rule(&self, route: &str, failure: Failure, remaining: Option<u32>) {
        self.state().rules.push(Rule {
            route: route.to_owned(),
            failure,
            remaining,
        });
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FakeMaxState> {
        self.state.lock().unwrap()
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
