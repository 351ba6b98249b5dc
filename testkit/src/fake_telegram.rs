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
            },
        );
    }

    /// As when the merchant revokes the token in @BotFather: 401 from now on.
    pub fn revoke(&self, token: &str) {
        self.state().bots.remove(token);
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

// ---------------------------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------------------------

enum Target {
    Method(String),
    File(String),
}

async fn handle(State(state): State<Shared>, request: Request) -> Response {
    let at = Instant::now();
    let path = request.uri().path().to_owned();
    let (token, target) = if let Some(rest) = path.strip_prefix("/file/bot") {
        match rest.split_once('/') {
            Some((token, file)) => (token.to_owned(), Target::File(file.to_owned())),
            None => return not_found(),
        }
    } else if let Some(rest) = path.strip_prefix("/bot") {
        match rest.split_once('/') {
            Some((token, method)) if !method.is_empty() && !method.contains('/') => {
                (token.to_owned(), Target::Method(method.to_owned()))
            }
            _ => return not_found(),
        }
    } else {
        return not_found();
    };

    let http_method = request.method().clone();
    let (params, files) = match read_params(request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let method = match &target {
        Target::Method(method) => method.clone(),
        Target::File(file) => format!("file/{file}"),
    };
    let (known, failure) = {
        let mut s = state.lock().unwrap();
        s.calls.push(Call {
            token: token.clone(),
            http_method,
            method: method.clone(),
            params: params.clone(),
            files: files.clone(),
            at,
        });
        let known = s.bots.contains_key(&token);
        (known, take_failure(&mut s, &target))
    };
    if !known {
        return api_error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    match failure {
        Some(Failure::Api {
            code,
            description,
            retry_after,
            migrate_to_chat_id,
        }) => {
            let mut parameters = Map::new();
            if let Some(secs) = retry_after {
                parameters.insert("retry_after".into(), json!(secs));
            }
            if let Some(id) = migrate_to_chat_id {
                parameters.insert("migrate_to_chat_id".into(), json!(id));
            }
            let status = StatusCode::from_u16(code).unwrap();
            return api_error(
                status,
                &description,
                (!parameters.is_empty()).then_some(Value::Object(parameters)),
            );
        }
        Some(Failure::Down) => {
            return (
                StatusCode::BAD_GATEWAY,
                Html("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.18.0</center></body></html>"),
            )
                .into_response();
        }
        Some(Failure::NotJson) => {
            return Html("<html><body>Welcome to nginx!</body></html>").into_response();
        }
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let mut s = state.lock().unwrap();
    match target {
        Target::File(file) => serve_file(&s, &file),
        Target::Method(method) => answer(&mut s, &token, &method, &params, &files),
    }
}

fn take_failure(state: &mut FakeTelegramState, target: &Target) -> Option<Failure> {
    let name = match target {
        Target::Method(method) => method.to_ascii_lowercase(),
        Target::File(_) => "file".to_owned(),
    };
    let index = state
        .rules
        .iter()
        .position(|rule| rule.method == "*" || rule.method == name)?;
    let rule = &mut state.rules[index];
    let failure = rule.failure.clone();
    if let Some(remaining) = &mut rule.remaining {
        *remaining -= 1;
        if *remaining == 0 {
            state.rules.remove(index);
        }
    }
    Some(failure)
}

async fn read_params(request: Request) -> Result<(Value, Vec<UploadedFile>), Response> {
    let mut params = Map::new();
    if let Some(query) = request.uri().query() {
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            params.insert(key.into_owned(), form_value(&value));
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut files = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|_| bad_request("Bad Request: can't parse multipart body"))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|_| bad_request("Bad Request: can't parse multipart body"))?
        {
            let name = field.name().unwrap_or("").to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let part_type = field.content_type().map(str::to_owned);
            let bytes = field
                .bytes()
                .await
                .map_err(|_| bad_request("Bad Request: can't parse multipart body"))?;
            if file_name.is_some() {
                files.push(UploadedFile {
                    field: name,
                    file_name,
                    content_type: part_type,
                    bytes: bytes.to_vec(),
                });
            } else {
                params.insert(name, form_value(&String::from_utf8_lossy(&bytes)));
            }
        }
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), 60 * 1024 * 1024)
            .await
            .map_err(|_| bad_request("Bad Request: can't read body"))?;
        if content_type.starts_with("application/json") {
            if !bytes.is_empty() {
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(Value::Object(map)) => params.extend(map),
                    _ => return Err(bad_request("Bad Request: can't parse JSON object")),
                }
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            for (key, value) in url::form_urlencoded::parse(&bytes) {
                params.insert(key.into_owned(), form_value(&value));
            }
        }
    }
    Ok((Value::Object(params), files))
}

/// A form field: a JSON array or object is recorded parsed, anything else as the string.
fn form_value(text: &str) -> Value {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        if let Ok(value) = serde_json::from_str(text) {
            return value;
        }
    }
    Value::String(text.to_owned())
}

fn answer(
    s: &mut FakeTelegramState,
    token: &str,
    method: &str,
    params: &Value,
    files: &[UploadedFile],
) -> Response {
    let bot = s.bots[token].clone();
    match method.to_ascii_lowercase().as_str() {
        "getme" => ok(bot_user(&bot, true)),
        "setwebhook" => set_webhook(s, token, params),
        "deletewebhook" => {
            let had = s.bots.get_mut(token).unwrap().webhook.take().is_some();
            ok_described(
                json!(true),
                if had {
                    "Webhook was deleted"
                } else {
                    "Webhook is already deleted"
                },
            )
        }
        "getwebhookinfo" => ok(match &bot.webhook {
            Some(w) => json!({
                "url": w.url, "has_custom_certificate": false, "pending_update_count": 0,
                "max_connections": w.max_connections, "ip_address": "149.154.167.220",
                "allowed_updates": w.allowed_updates,
            }),
            None => json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}),
        }),
        "sendmessage" => send(s, token, &bot, method, params, files, None),
        "sendphoto" => send(s, token, &bot, method, params, files, Some("photo")),
        "senddocument" => send(s, token, &bot, method, params, files, Some("document")),
        "sendaudio" => send(s, token, &bot, method, params, files, Some("audio")),
        "sendvoice" => send(s, token, &bot, method, params, files, Some("voice")),
        "sendvideo" => send(s, token, &bot, method, params, files, Some("video")),
        "sendanimation" => send(s, token, &bot, method, params, files, Some("animation")),
        "sendmediagroup" => send_media_group(s, token, &bot, params, files),
        "editmessagetext" => edit(s, token, params, "text"),
        "editmessagecaption" => edit(s, token, params, "caption"),
        "deletemessage" => {
            let (Some(chat_id), Some(message_id)) =
                (int(params, "chat_id"), int(params, "message_id"))
            else {
                return bad_request("Bad Request: message identifier is not specified");
            };
            match find_message(s, token, chat_id, message_id) {
                Some(index) => {
                    s.messages[index].deleted = true;
                    ok(json!(true))
                }
                None => bad_request("Bad Request: message to delete not found"),
            }
        }
        "setmessagereaction" => {
            let (Some(chat_id), Some(message_id)) =
                (int(params, "chat_id"), int(params, "message_id"))
            else {
                return bad_request("Bad Request: message identifier is not specified");
            };
            let reaction = params.get("reaction").cloned().unwrap_or(json!([]));
            if reaction.as_array().is_some_and(|r| r.len() > 1) {
                return bad_request("Bad Request: REACTIONS_TOO_MANY");
            }
            s.reactions.push(Reaction {
                token: token.to_owned(),
                chat_id,
                message_id,
                reaction,
            });
            ok(json!(true))
        }
        "getuserprofilephotos" => {
            let Some(user_id) = int(params, "user_id") else {
                return bad_request("Bad Request: user_id is empty");
            };
            let photos: Vec<Value> = s
                .profile_photos
                .get(&user_id)
                .map(|sizes| {
                    let sizes = sizes
                        .iter()
                        .map(|(side, file_id)| {
                            let size = s.files.iter().find(|f| &f.file_id == file_id);
                            json!({
                                "file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                                "width": side, "height": side,
                                "file_size": size.map_or(0, |f| f.bytes.len()),
                            })
                        })
                        .collect();
                    vec![Value::Array(sizes)]
                })
                .unwrap_or_default();
            ok(json!({"total_count": photos.len(), "photos": photos}))
        }
        "getfile" => {
            let id = string(params, "file_id").unwrap_or_default();
            match s.files.iter().find(|f| f.file_id == id) {
                Some(file) => ok(json!({
                    "file_id": file.file_id, "file_unique_id": format!("u-{}", file.file_id),
                    "file_size": file.bytes.len(), "file_path": file.path,
                })),
                None => bad_request("Bad Request: invalid file_id"),
            }
        }
        _ => api_error(StatusCode::NOT_FOUND, "Not Found", None),
    }
}

fn set_webhook(s: &mut FakeTelegramState, token: &str, params: &Value) -> Response {
    let url = string(params, "url").unwrap_or_default();
    let bot = s.bots.get_mut(token).unwrap();
    if url.is_empty() {
        bot.webhook = None;
        return ok_described(json!(true), "Webhook was deleted");
    }
    let Ok(parsed) = url::Url::parse(&url) else {
        return bad_request(
            "Bad Request: bad webhook: Failed to resolve host: Name or service not known",
        );
    };
    if parsed.scheme() != "https" {
        return bad_request("Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    }
    if !matches!(parsed.port_or_known_default(), Some(443 | 80 | 88 | 8443)) {
        return bad_request(
            "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        );
    }
    let secret = string(params, "secret_token");
    if let Some(secret) = &secret {
        let fine = (1..=256).contains(&secret.len())
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !fine {
            return bad_request("Bad Request: secret token contains unallowed characters");
        }
    }
    // Telegram keeps the previous list when none is given.
    let allowed_updates = match params.get("allowed_updates") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => bot
            .webhook
            .as_ref()
            .map(|w| w.allowed_updates.clone())
            .unwrap_or_default(),
    };
    let webhook = Webhook {
        url,
        secret_token: secret,
        allowed_updates,
        max_connections: int(params, "max_connections").map_or(40, |n| n as u32),
    };
    let same = bot.webhook.as_ref() == Some(&webhook);
    bot.webhook = Some(webhook);
    ok_described(
        json!(true),
        if same {
            "Webhook is already set"
        } else {
            "Webhook was set"
        },
    )
}

fn send(
    s: &mut FakeTelegramState,
    token: &str,
    bot: &FakeBot,
    method: &str,
    params: &Value,
    files: &[UploadedFile],
    field: Option<&str>,
) -> Response {
    let Some(chat_id) = int(params, "chat_id") else {
        return bad_request("Bad Request: chat_id is empty");
    };
    if s.blocked_chats.contains(&chat_id) {
        return api_error(
            StatusCode::FORBIDDEN,
            "Forbidden: bot was blocked by the user",
            None,
        );
    }
    let mut content = Map::new();
    let mut file_ids = Vec::new();
    let text = string(params, "text");
    let caption = string(params, "caption");
    let html = string(params, "parse_mode").is_some_and(|m| m.eq_ignore_ascii_case("html"));
    if let Some(error) = [&text, &caption]
        .into_iter()
        .flatten()
        .find_map(|t| html.then(|| html_error(t)).flatten())
    {
        return bad_request(&format!("Bad Request: can't parse entities: {error}"));
    }
    match field {
        None => match &text {
            None => return bad_request("Bad Request: message text is empty"),
            Some(t) if t.trim().is_empty() => {
                return bad_request("Bad Request: message text is empty")
            }
            Some(t) if shown_len(t, html) > 4096 => {
                return bad_request("Bad Request: message is too long")
            }
            Some(t) => {
                content.insert("text".into(), json!(t));
            }
        },
        Some(field) => {
            if caption.as_ref().is_some_and(|c| shown_len(c, html) > 1024) {
                return bad_request("Bad Request: message caption is too long");
            }
            let Some(file) = input_file(s, params.get(field), files, field) else {
                return bad_request(&format!("Bad Request: there is no {field} in the request"));
            };
            file_ids.push(file.file_id.clone());
            content.insert(field.into(), media_json(field, &file));
            if let Some(c) = &caption {
                content.insert("caption".into(), json!(c));
            }
        }
    }
    let reply = match reply_of(s, token, chat_id, params) {
        Ok(reply) => reply,
        Err(description) => return bad_request(description),
    };
    let message = store_message(
        s, token, bot, method, chat_id, params, content, reply, text, caption, file_ids,
    );
    ok(message)
}

/// Telegram's limits count the text shown: with HTML, without tags and with entities decoded.
fn shown_len(text: &str, html: bool) -> usize {
    if !html {
        return text.chars().count();
    }
    let mut shown = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => shown.push(c),
            _ => {}
        }
    }
    shown
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .chars()
        .count()
}

/// Why Telegram would refuse `text` as HTML: a `<` that opens no supported tag, or a `&` that
/// starts no entity (so unescaped user text is caught).
fn html_error(text: &str) -> Option<String> {
    const TAGS: &str =
        "b strong i em u ins s strike del span tg-spoiler a tg-emoji code pre blockquote";
    for (at, c) in text.char_indices() {
        let rest = &text[at..];
        if c == '<' {
            let name: String = rest[1..]
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !TAGS.split(' ').any(|t| t == name) || !rest.contains('>') {
                return Some(format!(
                    "Unsupported start tag \"{name}\" at byte offset {at}"
                ));
            }
        } else if c == '&' {
            let entity = ["&lt;", "&gt;", "&amp;", "&quot;", "&#"]
                .iter()
                .any(|e| rest.starts_with(e));
            if !entity {
                return Some(format!(
                    "Can't find end of the entity starting at byte offset {at}"
                ));
            }
        }
    }
    None
}

fn send_media_group(
    s: &mut FakeTelegramState,
    token: &str,
    bot: &FakeBot,
    params: &Value,
    files: &[UploadedFile],
) -> Response {
    let Some(chat_id) = int(params, "chat_id") else {
        return bad_request("Bad Request: chat_id is empty");
    };
    if s.blocked_chats.contains(&chat_id) {
        return api_error(
            StatusCode::FORBIDDEN,
            "Forbidden: bot was blocked by the user",
            None,
        );
    }
    let Some(items) = params.get("media").and_then(Value::as_array).cloned() else {
        return bad_request("Bad Request: can't parse media JSON object");
    };
    if !(2..=10).contains(&items.len()) {
        return bad_request("Bad Request: media must include 2-10 items");
    }
    let reply = match reply_of(s, token, chat_id, params) {
        Ok(reply) => reply,
        Err(description) => return bad_request(description),
    };
    let group_id = format!("group-{}", s.next_message_id);
    let mut answers = Vec::new();
    for item in items {
        let kind = item["type"].as_str().unwrap_or("").to_owned();
        if !matches!(kind.as_str(), "photo" | "video" | "document" | "audio") {
            return bad_request("Bad Request: unsupported media type");
        }
        let Some(file) = input_file(s, item.get("media"), files, "") else {
            return bad_request("Bad Request: wrong file identifier/HTTP URL specified");
        };
        let caption = item
            .get("caption")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut content = Map::new();
        content.insert(kind.clone(), media_json(&kind, &file));
        content.insert("media_group_id".into(), json!(group_id));
        if let Some(c) = &caption {
            content.insert("caption".into(), json!(c));
        }
        answers.push(store_message(
            s,
            token,
            bot,
            "sendMediaGroup",
            chat_id,
            &item,
            content,
            reply.clone(),
            None,
            caption,
            vec![file.file_id.clone()],
        ));
    }
    ok(Value::Array(answers))
}

fn edit(s: &mut FakeTelegramState, token: &str, params: &Value, what: &str) -> Response {
    let (Some(chat_id), Some(message_id)) = (int(params, "chat_id"), int(params, "message_id"))
    else {
        return bad_request("Bad Request: message identifier is not specified");
    };
    let Some(index) = find_message(s, token, chat_id, message_id) else {
        return bad_request("Bad Request: message to edit not found");
    };
    let new = string(params, what);
    let message = &mut s.messages[index];
    let current = if what == "text" {
        if message.text.is_none() {
            return bad_request("Bad Request: there is no text in the message to edit");
        }
        &mut message.text
    } else {
        if message.file_ids.is_empty() {
            return bad_request("Bad Request: there is no caption in the message to edit");
        }
        &mut message.caption
    };
    if what == "text" && new.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return bad_request("Bad Request: message text is empty");
    }
    if *current == new {
        return bad_request("Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message");
    }
    *current = new.clone();
    message.edited = true;
    match new {
        Some(value) => message.json[what] = json!(value),
        None => {
            message.json.as_object_mut().unwrap().remove(what);
        }
    }
    message.json["edit_date"] = json!(now());
    ok(message.json.clone())
}

#[allow(clippy::too_many_arguments)]
fn store_message(
    s: &mut FakeTelegramState,
    token: &str,
    bot: &FakeBot,
    method: &str,
    chat_id: i64,
    params: &Value,
    content: Map<String, Value>,
    reply: Option<Value>,
    text: Option<String>,
    caption: Option<String>,
    file_ids: Vec<String>,
) -> Value {
    let message_id = s.next_message_id;
    s.next_message_id += 1;
    let mut message = json!({
        "message_id": message_id,
        "from": bot_user(bot, false),
        "chat": chat_json(chat_id),
        "date": now(),
    });
    message.as_object_mut().unwrap().extend(content);
    if let Some(reply) = reply {
        message["reply_to_message"] = reply;
    }
    s.messages.push(SentMessage {
        token: token.to_owned(),
        method: method.to_owned(),
        chat_id,
        message_id,
        text,
        caption,
        file_ids,
        params: params.clone(),
        json: message.clone(),
        edited: false,
        deleted: false,
    });
    message
}

/// The replied-to message for the answer, or Telegram's error description when it is unknown
/// and the request did not allow sending without it.
fn reply_of(
    s: &FakeTelegramState,
    token: &str,
    chat_id: i64,
    params: &Value,
) -> Result<Option<Value>, &'static str> {
    let reply = match params.get("reply_parameters") {
        Some(Value::Object(reply)) => reply.clone(),
        _ => return Ok(None),
    };
    let Some(message_id) = reply.get("message_id").and_then(Value::as_i64) else {
        return Err("Bad Request: message to be replied not found");
    };
    if let Some(index) = find_message(s, token, chat_id, message_id) {
        return Ok(Some(s.messages[index].json.clone()));
    }
    if s.known_messages.contains(&(chat_id, message_id)) {
        return Ok(Some(json!({
            "message_id": message_id, "chat": chat_json(chat_id), "date": now(),
        })));
    }
    if reply.get("allow_sending_without_reply") == Some(&json!(true)) {
        Ok(None)
    } else {
        Err("Bad Request: message to be replied not found")
    }
}

/// The file a send names: an uploaded part (under the field's name or `attach://name`), a
/// known file id, or a URL (kept as an empty file).
fn input_file(
    s: &mut FakeTelegramState,
    value: Option<&Value>,
    files: &[UploadedFile],
    field: &str,
) -> Option<StoredFile> {
    let upload = match value.and_then(Value::as_str) {
        Some(reference) if reference.starts_with("attach://") => {
            let name = &reference["attach://".len()..];
            Some(files.iter().find(|f| f.field == name)?)
        }
        Some(_) => None,
        None => files.iter().find(|f| f.field == field),
    };
    if let Some(upload) = upload {
        let n = s.next_file;
        s.next_file += 1;
        let name = upload.file_name.clone().unwrap_or_else(|| "file".into());
        let stored = StoredFile {
            file_id: format!("fake-file-{n}"),
            path: format!("uploads/file_{n}_{name}"),
            bytes: upload.bytes.clone(),
        };
        s.files.push(stored.clone());
        return Some(stored);
    }
    let reference = value?.as_str()?.to_owned();
    if let Some(known) = s.files.iter().find(|f| f.file_id == reference) {
        return Some(known.clone());
    }
    if reference.starts_with("http://") || reference.starts_with("https://") {
        let n = s.next_file;
        s.next_file += 1;
        let stored = StoredFile {
            file_id: format!("fake-file-{n}"),
            path: format!("from-url/file_{n}"),
            bytes: Vec::new(),
        };
        s.files.push(stored.clone());
        return Some(stored);
    }
    None
}

fn media_json(kind: &str, file: &StoredFile) -> Value {
    let base = json!({
        "file_id": file.file_id,
        "file_unique_id": format!("u-{}", file.file_id),
        "file_size": file.bytes.len(),
    });
    if kind == "photo" {
        let mut size = base;
        size["width"] = json!(800);
        size["height"] = json!(600);
        json!([size])
    } else {
        base
    }
}

fn find_message(
    s: &FakeTelegramState,
    token: &str,
    chat_id: i64,
    message_id: i64,
) -> Option<usize> {
    s.messages.iter().position(|m| {
        m.token == token && m.chat_id == chat_id && m.message_id == message_id && !m.deleted
    })
}

fn serve_file(s: &FakeTelegramState, path: &str) -> Response {
    match s.files.iter().find(|f| f.path == path) {
        Some(file) => Response::builder()
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, file.bytes.len())
            .body(Body::from(file.bytes.clone()))
            .unwrap(),
        None => api_error(StatusCode::NOT_FOUND, "Not Found", None),
    }
}

fn bot_user(bot: &FakeBot, get_me: bool) -> Value {
    let mut user = json!({
        "id": bot.id, "is_bot": true, "first_name": "Acme Shop", "username": bot.username,
    });
    if get_me {
        user["can_join_groups"] = json!(true);
        user["can_read_all_group_messages"] = json!(false);
        user["supports_inline_queries"] = json!(false);
    }
    user
}

/// Private chats have the user's (positive) id; `-100…` are supergroups, other negatives groups.
fn chat_json(chat_id: i64) -> Value {
    if chat_id > 0 {
        json!({"id": chat_id, "type": "private", "first_name": "Customer"})
    } else if chat_id.to_string().starts_with("-100") {
        json!({"id": chat_id, "type": "supergroup", "title": "Support group"})
    } else {
        json!({"id": chat_id, "type": "group", "title": "Small group"})
    }
}

fn int(params: &Value, key: &str) -> Option<i64> {
    match params.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn string(params: &Value, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn ok_described(result: Value, description: &str) -> Response {
    Json(json!({"ok": true, "result": result, "description": description})).into_response()
}

fn api_error(status: StatusCode, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": status.as_u16(), "description": description});
    if let Some(parameters) = parameters {
        body["parameters"] = parameters;
    }
    (status, Json(body)).into_response()
}

fn bad_request(description: &str) -> Response {
    api_error(StatusCode::BAD_REQUEST, description, None)
}

fn not_found() -> Response {
    api_error(StatusCode::NOT_FOUND, "Not Found", None)
}
