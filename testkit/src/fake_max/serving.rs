//! Serving: one handler for every request (route, token check, rate limit, injected
//! failures, the record), then the answer each route gets.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

use super::*;

/// The paths the fake serves, by the schema's templates.
pub(super) enum Route {
    Me,
    Subscriptions,
    Uploads,
    Upload(String),
    Messages,
    Message(String),
    Members(String),
    File(String),
}

impl Route {
    fn parse(path: &str) -> Option<Self> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        Some(match parts.as_slice() {
            ["me"] => Self::Me,
            ["subscriptions"] => Self::Subscriptions,
            ["uploads"] => Self::Uploads,
            ["upload", id] if !id.is_empty() => Self::Upload((*id).to_owned()),
            ["messages"] => Self::Messages,
            ["messages", mid] if !mid.is_empty() => Self::Message((*mid).to_owned()),
            ["chats", chat, "members"] => Self::Members((*chat).to_owned()),
            ["files", name] if !name.is_empty() => Self::File((*name).to_owned()),
            _ => return None,
        })
    }

    fn template(&self) -> &'static str {
        match self {
            Self::Me => "/me",
            Self::Subscriptions => "/subscriptions",
            Self::Uploads => "/uploads",
            Self::Upload(_) => "/upload/{id}",
            Self::Messages => "/messages",
            Self::Message(_) => "/messages/{messageId}",
            Self::Members(_) => "/chats/{chatId}/members",
            Self::File(_) => "/files/{name}",
        }
    }

    /// Upload URLs and media downloads are on other hosts at MAX and take no token.
    fn needs_token(&self) -> bool {
        !matches!(self, Self::Upload(_) | Self::File(_))
    }
}

/// The one part of an upload that matters: the multipart field `data`.
pub(super) struct Part {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

pub(super) async fn handle(State(state): State<Shared>, request: Request) -> Response {
    let at = Instant::now();
    let http_method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = Route::parse(&path);
    let template = match &route {
        Some(route) => format!("{http_method} {}", route.template()),
        None => format!("{http_method} {path}"),
    };

    let mut query = BTreeMap::new();
    let mut query_token = None;
    for (key, value) in url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
    {
        // Kept out of the record: a token never goes into recorded URLs.
        if key == "access_token" {
            query_token = Some(value.into_owned());
        } else {
            query.insert(key.into_owned(), value.into_owned());
        }
    }
    let header_token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (presented, auth) = match (header_token, query_token) {
        (Some(token), _) => (Some(token), AuthVia::Header),
        (None, Some(token)) => (Some(token), AuthVia::Query),
        (None, None) => (None, AuthVia::Missing),
    };

    let (body, part) = match read_body(&route, request).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let needs_token = route.as_ref().is_none_or(Route::needs_token);
    let (token, failure) = {
        let mut s = state.lock().unwrap();
        let token = presented.filter(|t| needs_token && s.bots.contains_key(t));
        s.calls.push(Call {
            http_method: http_method.clone(),
            path: path.clone(),
            route: template.clone(),
            query: query.clone(),
            body: match &body {
                Some(Ok(json) | Err(json)) => json.clone(),
                None => Value::Null,
            },
            token: token.clone(),
            auth,
            at,
        });
        if needs_token && token.is_none() {
            return error(
                StatusCode::UNAUTHORIZED,
                "verify.token",
                "Invalid access_token",
            );
        }
        if let Some(token) = &token {
            if !within_rate(&mut s, token, at) {
                return Failure::too_many_requests().respond_now();
            }
        }
        (token, take_failure(&mut s, &http_method, &template, &path))
    };
    match failure {
        Some(Failure::Hang) => std::future::pending::<()>().await,
        Some(Failure::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(failure) => return failure.respond_now(),
        None => {}
    }
    let Some(route) = route else {
        return error(StatusCode::NOT_FOUND, "not.found", "Path not found");
    };
    let Ok(body) = body.transpose() else {
        return bad_request("Invalid JSON in request body");
    };
    let mut s = state.lock().unwrap();
    let token = token.as_deref().unwrap_or("");
    let request = Incoming {
        token,
        query: &query,
        body: body.as_ref(),
    };
    match (http_method, route) {
        (Method::GET, Route::Me) => bots::me(&s, token),
        (Method::GET, Route::Subscriptions) => bots::subscriptions(&s, token),
        (Method::POST, Route::Subscriptions) => bots::subscribe(&mut s, &request),
        (Method::DELETE, Route::Subscriptions) => bots::unsubscribe(&mut s, &request),
        (Method::POST, Route::Uploads) => uploads::upload_url(&mut s, &request),
        (Method::POST, Route::Upload(id)) => uploads::upload(&mut s, &id, part),
        (Method::GET, Route::File(name)) => uploads::serve_file(&s, &name),
        (Method::GET, Route::Members(chat)) => bots::members(&s, &chat, &request),
        (Method::POST, Route::Messages) => messages::send(&mut s, &request),
        (Method::PUT, Route::Messages) => messages::edit(&mut s, &request),
        (Method::DELETE, Route::Messages) => messages::delete(&mut s, &request),
        (Method::GET, Route::Message(mid)) => messages::get(&s, token, &mid),
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method.not.allowed",
            "Method is not allowed",
        ),
    }
}

/// What a route handler reads of a request.
pub(super) struct Incoming<'a> {
    pub token: &'a str,
    pub query: &'a BTreeMap<String, String>,
    pub body: Option<&'a Value>,
}

impl Incoming<'_> {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }
}

/// The JSON body (`Some(Err(text))` when it is not JSON, kept for the record), or the
/// multipart `data` part of an upload.
type ReadBody = (Option<Result<Value, Value>>, Option<Part>);

async fn read_body(route: &Option<Route>, request: Request) -> Result<ReadBody, Response> {
    if matches!(route, Some(Route::Upload(_))) {
        return Ok((None, read_part(request).await?));
    }
    let bytes = axum::body::to_bytes(request.into_body(), 60 * 1024 * 1024)
        .await
        .map_err(|_| bad_request("Can't read request body"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((None, None));
    }
    let body = serde_json::from_slice::<Value>(&bytes)
        .map_err(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok((Some(body), None))
}

async fn read_part(request: Request) -> Result<Option<Part>, Response> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        // A resumable upload (Content-Range) at MAX; the fake supports multipart only.
        return Ok(None);
    }
    let unreadable = |_| bad_request("Can't parse multipart body");
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|_| bad_request("Can't parse multipart body"))?;
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        if field.name() != Some("data") {
            continue;
        }
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let bytes = field.bytes().await.map_err(unreadable)?.to_vec();
        return Ok(Some(Part {
            file_name,
            content_type,
            bytes,
        }));
    }
    Ok(None)
}

/// Sliding one-second window per token; refused requests do not count.
fn within_rate(s: &mut FakeMaxState, token: &str, at: Instant) -> bool {
    let Some(limit) = s.rate_limit else {
        return true;
    };
    let recent = s.recent.entry(token.to_owned()).or_default();
    while recent
        .front()
        .is_some_and(|t| at.duration_since(*t) >= Duration::from_secs(1))
    {
        recent.pop_front();
    }
    if recent.len() >= limit as usize {
        return false;
    }
    recent.push_back(at);
    true
}

fn take_failure(
    s: &mut FakeMaxState,
    method: &Method,
    template: &str,
    path: &str,
) -> Option<Failure> {
    let index = s
        .rules
        .iter()
        .position(|rule| route_matches(&rule.route, method, template, path))?;
    let rule = &mut s.rules[index];
    let failure = rule.failure.clone();
    if let Some(remaining) = &mut rule.remaining {
        *remaining -= 1;
        if *remaining == 0 {
            s.rules.remove(index);
        }
    }
    Some(failure)
}

impl Failure {
    /// The answer for an `Api` failure (the others wait instead; see `handle`).
    fn respond_now(self) -> Response {
        match self {
            Failure::Api {
                status,
                code,
                message,
            } => error(StatusCode::from_u16(status).unwrap(), &code, &message),
            Failure::Hang | Failure::Slow(_) => unreachable!("waits, then answers"),
        }
    }
}

/// Whether a rule's or a filter's `route` names this call: `*`, `METHOD /template` or
/// `METHOD /literal/path` (methods case-insensitive).
pub(super) fn route_matches(route: &str, method: &Method, template: &str, path: &str) -> bool {
    if route == "*" {
        return true;
    }
    let Some((want_method, want_path)) = route.split_once(' ') else {
        return false;
    };
    want_method.eq_ignore_ascii_case(method.as_str())
        && (template.split_once(' ').map(|(_, t)| t) == Some(want_path) || path == want_path)
}

/// MAX's error body, `{"code": "verify.token", "message": "Invalid access_token"}`.
pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// A refusal found deep in a request's checks, answered as [`error`].
pub(super) struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    pub(super) fn new(status: StatusCode, code: &'static str, message: String) -> Self {
        Self {
            status,
            code,
            message,
        }
    }

    pub(super) fn bad_request(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "proto.payload", message.to_owned())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.status, self.code, &self.message)
    }
}

pub(super) fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "proto.payload", message)
}

pub(super) fn success() -> Response {
    Json(json!({"success": true})).into_response()
}
