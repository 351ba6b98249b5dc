//! A fake MessageGateway speaking the Transport API (`protocol/transport-api.md`) over real
//! HTTP on loopback: channels, templates, messages, ack, reads, reactions and files, with
//! MG's per-token rate limit (429 past N requests in any sliding window, measured at
//! arrival), knobs for refused tokens and failing answers, and a record of every request.

// Handlers return early with a ready `Response` as the error, the usual axum way.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

mod channels;
mod files;
mod front_door;
mod messages;

use channels::*;
use files::*;
use front_door::*;
use messages::*;

pub const PREFIX: &str = "/api/transport/v1";
pub const TOKEN: &str = "mg-token-0123456789abcdef0123456789abcdef";
pub const DUPLICATE: &str = "Message with passed external_id already exists";
const CHANNEL_TYPES: &[&str] = &[
    "avito",
    "consultant",
    "custom",
    "drom",
    "fbmessenger",
    "instagram",
    "max",
    "mega_market",
    "odnoklassniki",
    "ozon",
    "skype",
    "telegram",
    "viber",
    "vk",
    "whatsapp",
    "wildberries",
    "yandex_chat",
    "yandex_market",
    "youla",
];

/// The fingerprint the fake records instead of a token (first 8 bytes of its SHA-256, hex).
pub fn fingerprint(token: &str) -> String {
    hex::encode(&Sha256::digest(token.as_bytes())[..8])
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    /// Path below `/api/transport/v1`, percent-decoding not applied (`/channels/3/templates/a%23b`).
    pub path: String,
    pub query: Option<String>,
    /// `fingerprint(token)`, or `None` without `X-Transport-Token`.
    pub token: Option<String>,
    pub content_type: Option<String>,
    /// The body parsed as JSON, when it was JSON.
    pub body: Option<Value>,
    pub body_len: usize,
    /// When the request's head arrived.
    pub at: Instant,
    pub status: u16,
    /// Refused by the fake's own rate limit (not by an injected answer).
    /// `status` is 0 while the request is still being answered.
    pub rate_limited: bool,
}

/// An answer given instead of the real one (see `fail_next`).
#[derive(Clone, Debug)]
pub struct Injected {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u64>,
    /// Only requests to this path (below the prefix) get it; `None`: the next request.
    pub path: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FakeChannel {
    pub id: i64,
    pub token: String,
    pub r#type: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub avatar_url: Option<String>,
    pub settings: Value,
    pub is_active: bool,
    pub created_at: String,
    pub activated_at: String,
    pub updated_at: Option<String>,
    pub deactivated_at: Option<String>,
    /// How many times `POST /channels` activated it.
    pub activations: u32,
}

#[derive(Clone, Debug)]
pub struct FakeMessage {
    pub id: i64,
    pub channel: i64,
    pub external_id: Option<String>,
    pub external_chat_id: String,
    pub customer_external_id: Option<String>,
    pub r#type: String,
    pub text: Option<String>,
    pub deleted: bool,
    pub read: bool,
    pub reactions: Vec<String>,
    pub acked: bool,
}

#[derive(Clone, Debug)]
pub struct FakeFile {
    pub id: String,
    pub mime_type: String,
    pub bytes: Bytes,
    pub source_url: Option<String>,
}

/// A download of a file's bytes from its (token-less) URL.
#[derive(Clone, Debug)]
pub struct Download {
    pub file_id: String,
    /// Whether the request carried `X-Transport-Token` (it must not: the URL is public).
    pub had_token: bool,
}

#[derive(Clone, Debug)]
pub struct FakeTemplate {
    pub channel: i64,
    pub code: String,
    pub body: Value,
    pub active: bool,
}

#[derive(Debug)]
pub struct FakeMgState {
    /// Requests allowed per token in any `rate_window`; `None` turns the limit off.
    pub rate_limit: Option<u32>,
    pub rate_window: Duration,
    /// `Retry-After` (seconds) on the fake's own 429s.
    pub retry_after: Option<u64>,
    /// Fingerprints of tokens answered 401.
    pub refused_tokens: HashSet<String>,
    /// Answers given to the next requests, in order, instead of the real ones.
    pub injected: VecDeque<Injected>,
    /// How long every answer waits.
    pub delay: Duration,
    /// Keep parsed bodies in the record (the benchmark turns this off to save memory).
    pub record_bodies: bool,
    pub requests: Vec<Recorded>,
    pub channels: Vec<FakeChannel>,
    pub messages: Vec<FakeMessage>,
    pub files: Vec<FakeFile>,
    pub templates: Vec<FakeTemplate>,
    /// Downloads of files by the URL `GET /files/{id}` gives, in order.
    pub downloads: Vec<Download>,
    admitted: HashMap<String, VecDeque<Instant>>,
    /// (channel, external_id) of every message, for the duplicate check.
    message_keys: HashSet<(i64, String)>,
    next_channel_id: i64,
    next_message_id: i64,
}

#[derive(Clone)]
pub struct FakeMg {
    /// What the CRM would give as `endpointUrl` (no `/api/transport/v1`).
    pub url: String,
    pub state: Arc<Mutex<FakeMgState>>,
}

type Shared = Arc<Mutex<FakeMgState>>;

/// What the middleware hands the handlers: the caller's fingerprint and the body.
#[derive(Clone)]
struct Call {
    token: String,
    body: Option<Value>,
    raw: Bytes,
    content_type: Option<String>,
}

impl FakeMg {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeMgState {
            rate_limit: Some(30),
            rate_window: Duration::from_secs(1),
            retry_after: None,
            refused_tokens: HashSet::new(),
            injected: VecDeque::new(),
            delay: Duration::ZERO,
            record_bodies: true,
            requests: Vec::new(),
            channels: Vec::new(),
            messages: Vec::new(),
            files: Vec::new(),
            templates: Vec::new(),
            downloads: Vec::new(),
            admitted: HashMap::new(),
            message_keys: HashSet::new(),
            next_channel_id: 1,
            next_message_id: 1,
        }));
        let api = Router::new()
            .route("/channels", get(list_channels).post(activate_channel))
            .route(
                "/channels/{id}",
                put(update_channel).delete(deactivate_channel),
            )
            .route("/channels/{id}/templates", post(activate_template))
            .route(
                "/channels/{id}/templates/{code}",
                put(update_template).delete(deactivate_template),
            )
            .route("/templates", get(list_templates))
            .route(
                "/messages",
                post(send_message).put(edit_message).delete(delete_message),
            )
            .route("/messages/history", post(send_history_message))
            .route("/messages/restore", post(restore_message))
            .route("/messages/ack", post(ack_message))
            .route("/messages/read", post(mark_read))
            .route("/messages/read_until", post(mark_read_until))
            .route(
                "/messages/reaction",
                post(add_reaction).delete(delete_reaction),
            )
            .route("/files/upload", post(upload_file))
            .route("/files/upload_by_url", post(upload_file_by_url))
            .route("/files/{id}", get(get_file));
        // Files are served outside the API (no token, no rate limit), as MG's storage does.
        let downloads = Router::new()
            .route("/download/files/{id}", get(download_file))
            .with_state(state.clone());
        let app = Router::new()
            .nest(PREFIX, api)
            .fallback(|| async { error(StatusCode::NOT_FOUND, "Not found") })
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                front_door,
            ))
            .with_state(state.clone())
            .merge(downloads);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    pub fn set(&self, change: impl FnOnce(&mut FakeMgState)) {
        change(&mut self.state.lock().unwrap());
    }

    /// The next `k` requests get `status`: an empty body for 5xx (as MG sometimes sends),
    /// MG's error shape otherwise.
    pub fn fail_next(&self, k: usize, status: u16) {
        self.fail_next_with(k, status, &error_body(status), None);
    }

    pub fn fail_next_with(&self, k: usize, status: u16, body: &str, retry_after: Option<u64>) {
        let mut s = self.state.lock().unwrap();
        for _ in 0..k {
            s.injected.push_back(Injected {
                status,
                body: body.to_owned(),
                retry_after,
                path: None,
            });
        }
    }

    /// Like `fail_next`, for requests to `path` only (below the prefix, e.g. `/messages`);
    /// other requests (a background reconcile's) pass.
    pub fn fail_next_on(&self, path: &str, k: usize, status: u16) {
        let mut s = self.state.lock().unwrap();
        for _ in 0..k {
            s.injected.push_back(Injected {
                status,
                body: error_body(status),
                retry_after: None,
                path: Some(path.to_owned()),
            });
        }
    }

    /// Every request with this token gets 401 from now on.
    pub fn refuse_token(&self, token: &str) {
        self.set(|s| {
            s.refused_tokens.insert(fingerprint(token));
        });
    }

    /// An active channel of `token`, as if activated before; returns its id.
    pub fn add_channel(&self, token: &str, kind: &str) -> i64 {
        let mut s = self.state.lock().unwrap();
        let id = s.next_channel_id;
        s.next_channel_id += 1;
        let now = now_rfc3339();
        s.channels.push(FakeChannel {
            id,
            token: fingerprint(token),
            r#type: kind.to_owned(),
            name: None,
            external_id: None,
            avatar_url: None,
            settings: json!({}),
            is_active: true,
            created_at: now.clone(),
            activated_at: now,
            updated_at: None,
            deactivated_at: None,
            activations: 1,
        });
        id
    }

    /// A file as if uploaded before (an operator's attachment); returns its id.
    pub fn add_file(&self, mime_type: &str, bytes: impl Into<Bytes>) -> String {
        let mut s = self.state.lock().unwrap();
        let file = FakeFile {
            id: new_file_id(s.files.len() + 1),
            mime_type: mime_type.to_owned(),
            bytes: bytes.into(),
            source_url: None,
        };
        let id = file.id.clone();
        s.files.push(file);
        id
    }

    pub fn downloads(&self) -> Vec<Download> {
        self.state.lock().unwrap().downloads.clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn requests_of(&self, token: &str) -> Vec<Recorded> {
        let fp = fingerprint(token);
        self.requests()
            .into_iter()
            .filter(|r| r.token.as_deref() == Some(fp.as_str()))
            .collect()
    }

    /// Requests to `method path` (path below the prefix, without query).
    pub fn requests_to(&self, method: &Method, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == *method && r.path == path)
            .collect()
    }

    pub fn channels(&self) -> Vec<FakeChannel> {
        self.state.lock().unwrap().channels.clone()
    }

    pub fn channels_of(&self, token: &str) -> Vec<FakeChannel> {
        let fp = fingerprint(token);
        self.channels()
            .into_iter()
            .filter(|c| c.token == fp)
            .collect()
    }

    pub fn messages(&self) -> Vec<FakeMessage> {
        self.state.lock().unwrap().messages.clone()
    }

    /// The texts of the messages in external chat `chat`, in arrival order.
    pub fn texts_in(&self, chat: i64) -> Vec<String> {
        self.messages()
            .into_iter()
            .filter(|m| m.external_chat_id == chat.to_string())
            .map(|m| m.text.unwrap_or_default())
            .collect()
    }

    pub fn files(&self) -> Vec<FakeFile> {
        self.state.lock().unwrap().files.clone()
    }

    pub fn templates(&self) -> Vec<FakeTemplate> {
        self.state.lock().unwrap().templates.clone()
    }

    /// Arrival times of `token`'s requests that MG counted (all but the fake's own 429s).
    pub fn arrivals(&self, token: &str) -> Vec<Instant> {
        let fp = fingerprint(token);
        let s = self.state.lock().unwrap();
        let mut times: Vec<Instant> = s
            .requests
            .iter()
            .filter(|r| r.token.as_deref() == Some(fp.as_str()) && !r.rate_limited)
            .map(|r| r.at)
            .collect();
        times.sort();
        times
    }

    /// The most requests of `token` MG counted in any window `[t, t + width)`.
    pub fn max_in_any_window(&self, token: &str, width: Duration) -> usize {
        max_in_window(&self.arrivals(token), width)
    }

    /// How many of `token`'s requests the fake's rate limit refused with 429.
    pub fn rate_limited(&self, token: &str) -> usize {
        let fp = fingerprint(token);
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.rate_limited && r.token.as_deref() == Some(fp.as_str()))
            .count()
    }
}

/// Largest number of the sorted `times` in any window `[t, t + width)`.
pub fn max_in_window(times: &[Instant], width: Duration) -> usize {
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi].duration_since(times[lo]) >= width {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

/// A customer's text message, as the tests and the benchmark send it.
pub fn text_message(
    channel: mgbridge::mg::MgChannelId,
    external_id: &str,
) -> mgbridge::mg::SendMessageRequest {
    mgbridge::mg::SendMessageRequest {
        channel,
        external_chat_id: "chat-99001".into(),
        secondary_external_chat_ids: None,
        customer: Some(mgbridge::mg::Customer {
            external_id: "u-5001".into(),
            nickname: "anna_k".into(),
            ..Default::default()
        }),
        message: mgbridge::mg::NewMessage::text(external_id, "Is it available in blue?"),
        originator: None,
        quote: None,
        reply_deadline: None,
    }
}
