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

/// What MG answers with a failure status: an empty body for 5xx (as MG sometimes sends), its
/// error shape otherwise.
fn error_body(status: u16) -> String {
    if status >= 500 {
        String::new()
    } else if status == 429 {
        r#"{"errors":["Too many requests"]}"#.to_owned()
    } else {
        r#"{"errors":["Injected failure"]}"#.to_owned()
    }
}

/// Arrival time, token check, rate limit, injected answers, delay, and the record.
async fn front_door(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let at = Instant::now();
    let (mut parts, body) = request.into_parts();
    let token = parts
        .headers
        .get("x-transport-token")
        .and_then(|v| v.to_str().ok())
        .map(fingerprint);
    let raw = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let parsed: Option<Value> = serde_json::from_slice(&raw).ok();
    let path = parts
        .uri
        .path()
        .strip_prefix(PREFIX)
        .unwrap_or(parts.uri.path())
        .to_owned();

    let method = parts.method.clone();
    let query = parts.uri.query().map(str::to_owned);
    let (early, delay, index) = {
        let mut s = state.lock().unwrap();
        let early = match &token {
            None => Some((error(StatusCode::UNAUTHORIZED, "Token is missing"), false)),
            Some(fp) if s.refused_tokens.contains(fp) => {
                Some((error(StatusCode::UNAUTHORIZED, "Invalid token"), false))
            }
            Some(fp) => {
                let (limit, window, retry_after) = (s.rate_limit, s.rate_window, s.retry_after);
                let arrivals = s.admitted.entry(fp.clone()).or_default();
                while arrivals
                    .front()
                    .is_some_and(|t| at.duration_since(*t) >= window)
                {
                    arrivals.pop_front();
                }
                if limit.is_some_and(|limit| arrivals.len() >= limit as usize) {
                    let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
                    if let Some(seconds) = retry_after {
                        r.headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                    }
                    Some((r, true))
                } else {
                    arrivals.push_back(at);
                    let first = s
                        .injected
                        .iter()
                        .position(|i| i.path.as_deref().is_none_or(|p| p == path));
                    first
                        .and_then(|i| s.injected.remove(i))
                        .map(|i| (injected(i), false))
                }
            }
        };
        // Recorded on arrival (status 0 until answered), so a request whose caller gave up
        // is on record too.
        let record_bodies = s.record_bodies;
        s.requests.push(Recorded {
            method,
            path,
            query,
            token: token.clone(),
            content_type: content_type.clone(),
            body: if record_bodies { parsed.clone() } else { None },
            body_len: raw.len(),
            at,
            status: 0,
            rate_limited: early.as_ref().is_some_and(|(_, limited)| *limited),
        });
        (early.map(|(r, _)| r), s.delay, s.requests.len() - 1)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = match early {
        Some(early) => early,
        None => {
            parts.extensions.insert(Call {
                token: token.unwrap_or_default(),
                body: parsed,
                raw,
                content_type,
            });
            next.run(Request::from_parts(parts, axum::body::Body::empty()))
                .await
        }
    };
    state.lock().unwrap().requests[index].status = response.status().as_u16();
    response
}

fn injected(i: Injected) -> Response {
    let mut response = (
        StatusCode::from_u16(i.status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        i.body,
    )
        .into_response();
    if let Some(seconds) = i.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "errors": [message] }))).into_response()
}

fn bad(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn int(body: &Value, field: &str) -> Result<i64, Response> {
    body.get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| bad(&format!("'{field}' is required")))
}

fn text<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body.get(field).and_then(Value::as_str)
}

fn body_of(call: &Call) -> Result<&Value, Response> {
    call.body
        .as_ref()
        .filter(|b| b.is_object())
        .ok_or_else(|| bad("The request body is not a JSON object"))
}

/// The caller's active channel `id`, or MG's error.
fn own_channel(s: &FakeMgState, token: &str, id: i64) -> Result<usize, Response> {
    s.channels
        .iter()
        .position(|c| c.id == id && c.token == token && c.is_active)
        .ok_or_else(|| bad("Channel not found"))
}

fn channel_json(c: &FakeChannel) -> Value {
    json!({
        "id": c.id, "external_id": c.external_id, "type": c.r#type, "name": c.name,
        "settings": c.settings, "is_active": c.is_active, "created_at": c.created_at,
        "activated_at": c.activated_at, "updated_at": c.updated_at,
        "deactivated_at": c.deactivated_at,
    })
}

fn check_channel_fields(body: &Value, type_required: bool) -> Result<(), Response> {
    match text(body, "type") {
        Some(t) if CHANNEL_TYPES.contains(&t) => {}
        Some(t) => return Err(bad(&format!("'type' has an unknown value {t:?}"))),
        None if type_required => return Err(bad("'type' is required")),
        None => {}
    }
    if text(body, "name").is_some_and(|n| n.chars().count() > 100) {
        return Err(bad("'name' is longer than 100"));
    }
    if text(body, "external_id").is_some_and(|n| n.chars().count() > 64) {
        return Err(bad("'external_id' is longer than 64"));
    }
    Ok(())
}

// ---- Channels ---------------------------------------------------------------------------

async fn list_channels(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let s = state.lock().unwrap();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let types: Vec<&str> = query
        .iter()
        .filter(|(n, _)| n == "types")
        .map(|(_, v)| v.as_str())
        .collect();
    let active = get("active").map(|v| v == "true" || v == "1");
    let id = get("id").and_then(|v| v.parse::<i64>().ok());
    let limit = get("limit")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(100);
    let list: Vec<Value> = s
        .channels
        .iter()
        .filter(|c| c.token == call.token)
        .filter(|c| active.is_none_or(|a| c.is_active == a))
        .filter(|c| id.is_none_or(|id| c.id == id))
        .filter(|c| types.is_empty() || types.contains(&c.r#type.as_str()))
        .take(limit)
        .map(channel_json)
        .collect();
    Json(list).into_response()
}

async fn activate_channel(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b.clone(),
        Err(r) => return r,
    };
    if let Err(r) = check_channel_fields(&body, true) {
        return r;
    }
    let mut s = state.lock().unwrap();
    let now = now_rfc3339();
    let requested = body.get("id").and_then(Value::as_i64).filter(|id| *id > 0);
    let index = match requested {
        Some(id) => match s
            .channels
            .iter()
            .position(|c| c.id == id && c.token == call.token)
        {
            Some(i) => i,
            None => return bad("Channel not found"),
        },
        None => {
            let id = s.next_channel_id;
            s.next_channel_id += 1;
            s.channels.push(FakeChannel {
                id,
                token: call.token.clone(),
                r#type: String::new(),
                name: None,
                external_id: None,
                avatar_url: None,
                settings: json!({}),
                is_active: false,
                created_at: now.clone(),
                activated_at: now.clone(),
                updated_at: None,
                deactivated_at: None,
                activations: 0,
            });
            s.channels.len() - 1
        }
    };
    let c = &mut s.channels[index];
    c.r#type = text(&body, "type").unwrap_or_default().to_owned();
    c.name = text(&body, "name").map(str::to_owned);
    c.external_id = text(&body, "external_id").map(str::to_owned);
    c.avatar_url = text(&body, "avatar_url").map(str::to_owned);
    c.settings = body.get("settings").cloned().unwrap_or_else(|| json!({}));
    c.is_active = true;
    c.activated_at = now.clone();
    c.deactivated_at = None;
    c.activations += 1;
    (
        StatusCode::CREATED,
        Json(json!({"id": c.id, "external_id": c.external_id, "activated_at": now})),
    )
        .into_response()
}

async fn update_channel(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Path(id): Path<i64>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b.clone(),
        Err(r) => return r,
    };
    if let Err(r) = check_channel_fields(&body, false) {
        return r;
    }
    let mut s = state.lock().unwrap();
    let index = match own_channel(&s, &call.token, id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let now = now_rfc3339();
    let c = &mut s.channels[index];
    if let Some(t) = text(&body, "type") {
        c.r#type = t.to_owned();
    }
    if let Some(v) = text(&body, "name") {
        c.name = Some(v.to_owned());
    }
    if let Some(v) = text(&body, "external_id") {
        c.external_id = Some(v.to_owned());
    }
    if let Some(v) = text(&body, "avatar_url") {
        c.avatar_url = Some(v.to_owned());
    }
    if let Some(v) = body.get("settings") {
        c.settings = v.clone();
    }
    c.updated_at = Some(now.clone());
    Json(json!({"id": id, "external_id": c.external_id, "updated_at": now})).into_response()
}

async fn deactivate_channel(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Path(id): Path<i64>,
) -> Response {
    let mut s = state.lock().unwrap();
    let index = match own_channel(&s, &call.token, id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let now = now_rfc3339();
    let c = &mut s.channels[index];
    c.is_active = false;
    c.deactivated_at = Some(now.clone());
    Json(json!({"id": id, "deactivated_at": now})).into_response()
}

// ---- Templates ----------------------------------------------------------------------------

async fn list_templates(State(state): State<Shared>, Extension(call): Extension<Call>) -> Response {
    let s = state.lock().unwrap();
    let ours: Vec<i64> = s
        .channels
        .iter()
        .filter(|c| c.token == call.token)
        .map(|c| c.id)
        .collect();
    let list: Vec<Value> = s
        .templates
        .iter()
        .filter(|t| ours.contains(&t.channel))
        .enumerate()
        .map(|(i, t)| {
            let mut v = t.body.clone();
            v["id"] = json!(i + 1);
            v["channel_id"] = json!(t.channel);
            v["code"] = json!(t.code);
            v["enabled"] = json!(t.active);
            v
        })
        .collect();
    Json(list).into_response()
}

async fn activate_template(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Path(id): Path<i64>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b.clone(),
        Err(r) => return r,
    };
    for field in ["code", "type", "name"] {
        if text(&body, field).is_none_or(str::is_empty) {
            return bad(&format!("'{field}' is required"));
        }
    }
    let mut s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, id) {
        return r;
    }
    let code = text(&body, "code").unwrap().to_owned();
    s.templates.retain(|t| !(t.channel == id && t.code == code));
    s.templates.push(FakeTemplate {
        channel: id,
        code,
        body,
        active: true,
    });
    (StatusCode::CREATED, Json(json!({}))).into_response()
}

async fn update_template(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    Path((id, code)): Path<(i64, String)>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b.clone(),
        Err(r) => return r,
    };
    if text(&body, "name").is_none_or(str::is_empty) {
        return bad("'name' is required");
    }
    let mut s = state.lock().unwrap();
    match s
        .templates
        .iter_mut()
        .find(|t| t.channel == id && t.code == code)
    {
        Some(t) => {
            if let (Some(old), Some(new)) = (t.body.as_object_mut(), body.as_object()) {
                old.extend(new.clone());
            }
            Json(json!({})).into_response()
        }
        None => bad("Template not found"),
    }
}

async fn deactivate_template(
    State(state): State<Shared>,
    Path((id, code)): Path<(i64, String)>,
) -> Response {
    let mut s = state.lock().unwrap();
    match s
        .templates
        .iter_mut()
        .find(|t| t.channel == id && t.code == code)
    {
        Some(t) => {
            t.active = false;
            Json(json!({})).into_response()
        }
        None => bad("Template not found"),
    }
}

// ---- Messages ---------------------------------------------------------------------------

async fn send_message(State(state): State<Shared>, Extension(call): Extension<Call>) -> Response {
    new_message(&state, &call, "channel", false)
}

async fn send_history_message(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    new_message(&state, &call, "channel_id", true)
}

fn new_message(
    state: &Shared,
    call: &Call,
    channel_field: &str,
    customer_required: bool,
) -> Response {
    let body = match body_of(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let channel = match int(body, channel_field) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(message) = body.get("message").filter(|m| m.is_object()) else {
        return bad("'message' is required");
    };
    let Some(kind) = text(message, "type") else {
        return bad("'message.type' is required");
    };
    if !["text", "image", "file", "audio", "order", "product"].contains(&kind) {
        return bad(&format!("'message.type' has an unknown value {kind:?}"));
    }
    if (kind == "order" || kind == "product") && message.get(kind).is_none() {
        return bad(&format!("'message.{kind}' is required"));
    }
    let customer = body.get("customer").or_else(|| body.get("user"));
    if customer_required && customer.is_none() {
        return bad("'customer' is required");
    }
    if let Some(customer) = customer {
        for field in ["external_id", "nickname"] {
            if text(customer, field).is_none_or(str::is_empty) {
                return bad(&format!("'customer.{field}' is required"));
            }
        }
    }
    let mut s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, channel) {
        return r;
    }
    let external_id = text(message, "external_id")
        .filter(|e| !e.is_empty())
        .map(str::to_owned);
    if let Some(ext) = &external_id {
        if !s.message_keys.insert((channel, ext.clone())) {
            return bad(DUPLICATE);
        }
    }
    let id = s.next_message_id;
    s.next_message_id += 1;
    s.messages.push(FakeMessage {
        id,
        channel,
        external_id,
        external_chat_id: text(body, "external_chat_id")
            .unwrap_or_default()
            .to_owned(),
        customer_external_id: customer
            .and_then(|c| text(c, "external_id"))
            .map(str::to_owned),
        r#type: kind.to_owned(),
        text: text(message, "text").map(str::to_owned),
        deleted: false,
        read: false,
        reactions: Vec::new(),
        acked: false,
    });
    Json(json!({"message_id": id, "time": now_rfc3339()})).into_response()
}

/// The message named by `body.message` (`id` or `external_id`) in `channel`.
fn find_message(s: &FakeMgState, channel: i64, body: &Value) -> Result<usize, Response> {
    let Some(message) = body.get("message").filter(|m| m.is_object()) else {
        return Err(bad("'message' is required"));
    };
    let id = message.get("id").and_then(Value::as_i64);
    let external_id = text(message, "external_id");
    if id.is_none() && external_id.is_none() {
        return Err(bad("'message.id' or 'message.external_id' is required"));
    }
    s.messages
        .iter()
        .position(|m| {
            m.channel == channel
                && (id.is_some_and(|id| m.id == id)
                    || external_id.is_some_and(|e| m.external_id.as_deref() == Some(e)))
        })
        .ok_or_else(|| bad("Message not found"))
}

/// Channel (named `field`) and message of a request, checked.
fn locate(state: &Shared, call: &Call, field: &str) -> Result<(usize, i64), Response> {
    let body = body_of(call)?;
    let channel = int(body, field)?;
    let s = state.lock().unwrap();
    own_channel(&s, &call.token, channel)?;
    Ok((find_message(&s, channel, body)?, channel))
}

fn message_json(m: &FakeMessage) -> Value {
    json!({
        "id": m.id, "message_id": m.id, "chat_id": 1, "time": now_rfc3339(), "type": m.r#type,
        "scope": "public", "status": if m.read { "seen" } else { "received" },
        "is_read": m.read, "is_edit": false, "content": m.text,
    })
}

async fn edit_message(State(state): State<Shared>, Extension(call): Extension<Call>) -> Response {
    let (index, _) = match locate(&state, &call, "channel") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(new_text) = call
        .body
        .as_ref()
        .and_then(|b| b["message"]["text"].as_str())
    else {
        return bad("'message.text' is required");
    };
    state.lock().unwrap().messages[index].text = Some(new_text.to_owned());
    Json(json!({})).into_response()
}

async fn delete_message(State(state): State<Shared>, Extension(call): Extension<Call>) -> Response {
    let (index, _) = match locate(&state, &call, "channel") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut s = state.lock().unwrap();
    s.messages[index].deleted = true;
    Json(message_json(&s.messages[index])).into_response()
}

async fn restore_message(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let (index, _) = match locate(&state, &call, "channel_id") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let mut s = state.lock().unwrap();
    s.messages[index].deleted = false;
    Json(message_json(&s.messages[index])).into_response()
}

async fn ack_message(State(state): State<Shared>, Extension(call): Extension<Call>) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let channel = match int(body, "channel") {
        Ok(c) => c,
        Err(r) => return r,
    };
    if body.get("message").is_none() && body.get("external_message_id").is_none() {
        return bad("'message' is required");
    }
    if let Some(code) = body.get("error").map(|e| &e["code"]) {
        let known = [
            "general",
            "customer_not_exists",
            "reply_timed_out",
            "spam_suspicion",
            "access_restricted",
        ];
        if !code.as_str().is_some_and(|c| known.contains(&c)) {
            return bad("'error.code' has an unknown value");
        }
    }
    let mut s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, channel) {
        return r;
    }
    // Acks name operators' messages, which this fake does not keep: accept any.
    if let Ok(index) = find_message(&s, channel, body) {
        s.messages[index].acked = true;
    }
    Json(json!({})).into_response()
}

async fn mark_read(State(state): State<Shared>, Extension(call): Extension<Call>) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let channel = match int(body, "channel_id") {
        Ok(c) => c,
        Err(r) => return r,
    };
    if body.get("message").is_none() {
        return bad("'message' is required");
    }
    let s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, channel) {
        return r;
    }
    Json(json!({})).into_response()
}

async fn mark_read_until(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let body = match body_of(&call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let channel = match int(body, "channel_id") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(customer) = text(body, "customer_external_id") else {
        return bad("'customer_external_id' is required");
    };
    if text(body, "until").is_none() {
        return bad("'until' is required");
    }
    let mut s = state.lock().unwrap();
    if let Err(r) = own_channel(&s, &call.token, channel) {
        return r;
    }
    let mut ids = Vec::new();
    for m in s.messages.iter_mut().filter(|m| {
        m.channel == channel && m.customer_external_id.as_deref() == Some(customer) && !m.read
    }) {
        m.read = true;
        ids.push(m.id);
    }
    Json(json!({ "ids": ids })).into_response()
}

async fn add_reaction(State(state): State<Shared>, Extension(call): Extension<Call>) -> Response {
    let (index, _) = match locate(&state, &call, "channel") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(reaction) = call.body.as_ref().and_then(|b| text(b, "reaction")) else {
        return bad("'reaction' is required");
    };
    state.lock().unwrap().messages[index]
        .reactions
        .push(reaction.to_owned());
    // MG's first client's tests answer this one with an empty body.
    StatusCode::OK.into_response()
}

async fn delete_reaction(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
) -> Response {
    let (index, _) = match locate(&state, &call, "channel") {
        Ok(found) => found,
        Err(r) => return r,
    };
    let reaction = call.body.as_ref().and_then(|b| text(b, "reaction"));
    let mut s = state.lock().unwrap();
    let reactions = &mut s.messages[index].reactions;
    let position = match reaction {
        Some(r) => reactions.iter().position(|x| x == r),
        None => (!reactions.is_empty()).then_some(0),
    };
    if let Some(p) = position {
        reactions.remove(p);
    }
    Json(json!({})).into_response()
}

// ---- Files ------------------------------------------------------------------------------

fn file_json(base: &str, f: &FakeFile) -> Value {
    let kind = match f.mime_type.split('/').next() {
        Some("image") => "image",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "file",
    };
    let url = format!("{base}/files/{}", f.id);
    json!({
        "id": f.id, "type": kind, "mime_type": f.mime_type, "size": f.bytes.len(),
        "url": url, "Url": url, "hash": hex::encode(Sha256::digest(&f.bytes)),
        "meta": {}, "source_url": f.source_url, "created_at": now_rfc3339(),
    })
}

fn new_file_id(n: usize) -> String {
    format!("aa4ff988-bafb-43a0-9551-{n:012x}")
}

async fn upload_file(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    headers: HeaderMap,
) -> Response {
    if call.raw.is_empty() {
        return bad("The file is empty");
    }
    // Raw bodies (v1) and multipart (the OpenAPI form) are both taken as they come.
    let mime_type = call
        .content_type
        .clone()
        .filter(|c| !c.starts_with("application/json") && !c.starts_with("multipart/"))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let mut s = state.lock().unwrap();
    let file = FakeFile {
        id: new_file_id(s.files.len() + 1),
        mime_type,
        bytes: call.raw.clone(),
        source_url: None,
    };
    s.files.push(file.clone());
    Json(file_json(&base_of(&headers), &file)).into_response()
}

async fn upload_file_by_url(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    headers: HeaderMap,
) -> Response {
    let Some(url) = call.body.as_ref().and_then(|b| text(b, "url")) else {
        return bad("'url' is required");
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return bad("'url' is not a web URL");
    }
    let mut s = state.lock().unwrap();
    let file = FakeFile {
        id: new_file_id(s.files.len() + 1),
        mime_type: "image/jpeg".to_owned(),
        bytes: Bytes::from_static(b"\xff\xd8\xff fake jpeg"),
        source_url: Some(url.to_owned()),
    };
    s.files.push(file.clone());
    Json(file_json(&base_of(&headers), &file)).into_response()
}

async fn get_file(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = state.lock().unwrap();
    match s.files.iter().find(|f| f.id == id) {
        Some(f) => Json(file_json(&base_of(&headers), f)).into_response(),
        None => error(StatusCode::NOT_FOUND, "File not found"),
    }
}

/// The bytes at the URL `file_json` gives.
async fn download_file(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock().unwrap();
    s.downloads.push(Download {
        file_id: id.clone(),
        had_token: headers.contains_key("x-transport-token"),
    });
    match s.files.iter().find(|f| f.id == id) {
        Some(f) => (
            [(header::CONTENT_TYPE, f.mime_type.clone())],
            f.bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/download")
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
