//! A fake CRM speaking the System API v5 (`protocol/system-api.md`) over real HTTP on
//! loopback, with knobs for every answer the connect flow must handle, and a record of every
//! request it received.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub const API_KEY: &str = "Qw3rTy0123456789abcdefABCDEF0123";
pub const MG_ENDPOINT: &str = "https://mg-s1.retailcrm.pro";
pub const MG_TOKEN: &str = "6f2c1d0e9b8a7f6e5d4c3b2a1908f7e6d5c4b3a2";

/// What `/api/credentials` answers for the right key.
#[derive(Clone, Debug)]
pub enum CredentialsMode {
    Scopes(Vec<&'static str>),
    /// An old key: `credentials` (method paths) only.
    Legacy(Vec<&'static str>),
}

/// What `integration-modules/{code}/edit` answers.
#[derive(Clone, Debug)]
pub enum EditMode {
    Success,
    /// 402 with the billing body of test vector T9.
    PaymentRequired,
    /// 400 with an error message, as when chats are not enabled.
    Refused(&'static str),
    /// success, but `info` is `[]`: no MG part was made.
    NoMgTransport,
    ServerError,
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub api_key: Option<String>,
    pub form: HashMap<String, String>,
}

#[derive(Debug)]
pub struct FakeCrmState {
    pub credentials: CredentialsMode,
    pub versions: Vec<&'static str>,
    pub edit: EditMode,
    pub mg_token: String,
    /// `info.mgTransport.endpointUrl` (tests point it at the fake MG).
    pub mg_endpoint: String,
    /// Every route answers like nginx for an unknown account.
    pub not_a_crm: bool,
    /// `settings.system_language.value` of `GET /api/v5/settings` (`None`: the key may not
    /// read the settings, answered 403 as the CRM does).
    pub system_language: Option<&'static str>,
    /// How long every answer waits (for tests of in-flight requests).
    pub delay: std::time::Duration,
    pub requests: Vec<Recorded>,
    /// The next this many `notifications/send` calls answer 503 (then they are taken).
    pub refuse_notifications: u32,
    /// The `notification` objects taken by `notifications/send`, parsed.
    pub notifications: Vec<Value>,
}

#[derive(Clone)]
pub struct FakeCrm {
    pub url: String,
    pub state: Arc<Mutex<FakeCrmState>>,
}

impl FakeCrm {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeCrmState {
            credentials: CredentialsMode::Scopes(vec![
                "integration_read",
                "integration_write",
                "reference_read",
            ]),
            versions: vec!["3.0", "4.0", "5.0"],
            edit: EditMode::Success,
            mg_token: MG_TOKEN.to_owned(),
            mg_endpoint: MG_ENDPOINT.to_owned(),
            not_a_crm: false,
            system_language: None,
            delay: std::time::Duration::ZERO,
            requests: Vec::new(),
            refuse_notifications: 0,
            notifications: Vec::new(),
        }));
        let app = Router::new()
            .route("/api/credentials", get(credentials))
            .route("/api/api-versions", get(api_versions))
            .route("/api/v5/integration-modules/{code}/edit", post(edit_module))
            .route("/api/v5/integration-modules/{code}", get(get_module))
            .route("/api/v5/settings", get(system_settings))
            .route("/api/v5/notifications/send", post(send_notification))
            .fallback(|| async {
                (
                    StatusCode::NOT_FOUND,
                    Json(json!({"success": false, "errorMsg": "API method not found"})),
                )
            })
            .layer(axum::middleware::from_fn_with_state(state.clone(), record))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, state }
    }

    pub fn set(&self, change: impl FnOnce(&mut FakeCrmState)) {
        change(&mut self.state.lock().unwrap());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn requests_to(&self, path_suffix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(path_suffix))
            .collect()
    }

    /// The notifications the CRM took, in order.
    pub fn notifications(&self) -> Vec<Value> {
        self.state.lock().unwrap().notifications.clone()
    }

    /// The `integrationModule` JSON of every edit call, parsed.
    pub fn registered_modules(&self) -> Vec<Value> {
        self.requests_to("/edit")
            .iter()
            .map(|r| serde_json::from_str(&r.form["integrationModule"]).unwrap())
            .collect()
    }
}

type Shared = Arc<Mutex<FakeCrmState>>;

/// Records the request (with its form body) before the handlers see it; answers like nginx
/// when the fake plays an unknown account.
async fn record(
    State(state): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let form: HashMap<String, String> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let (not_a_crm, delay) = {
        let mut s = state.lock().unwrap();
        s.requests.push(Recorded {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            api_key: key_of(&parts.headers, &parts.uri),
            form,
        });
        (s.not_a_crm, s.delay)
    };
    tokio::time::sleep(delay).await;
    if not_a_crm {
        return (
            StatusCode::NOT_FOUND,
            Html("<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>"),
        )
            .into_response();
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

fn key_of(headers: &HeaderMap, _uri: &Uri) -> Option<String> {
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The System API's answer to a missing or wrong key, or `None` for the right one.
fn key_rejection(headers: &HeaderMap) -> Option<Response> {
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        Some(API_KEY) => None,
        Some(_) => Some(
            (
                StatusCode::FORBIDDEN,
                Json(json!({"success": false, "errorMsg": "Wrong \"apiKey\" value."})),
            )
                .into_response(),
        ),
        None => Some(
            (
                StatusCode::FORBIDDEN,
                Json(json!({"success": false, "errorMsg": "\"apiKey\" is missing."})),
            )
                .into_response(),
        ),
    }
}

async fn credentials(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(r) = key_rejection(&headers) {
        return r;
    }
    let mode = state.lock().unwrap().credentials.clone();
    match mode {
        CredentialsMode::Scopes(scopes) => Json(json!({
            "success": true, "scopes": scopes, "siteAccess": "access_full", "sitesAvailable": ["main"]
        }))
        .into_response(),
        CredentialsMode::Legacy(methods) => {
            Json(json!({"success": true, "credentials": methods})).into_response()
        }
    }
}

async fn api_versions(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(r) = key_rejection(&headers) {
        return r;
    }
    let versions = state.lock().unwrap().versions.clone();
    Json(json!({"success": true, "versions": versions})).into_response()
}

/// `GET /api/v5/settings` (`protocol/system-api.md` §5.2 names its keys).
async fn system_settings(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(r) = key_rejection(&headers) {
        return r;
    }
    match state.lock().unwrap().system_language {
        Some(language) => Json(json!({"success": true, "settings": {
            "default_currency": {"value": "RUB", "updated_at": "2026-01-10 12:00:00"},
            "system_language": {"value": language, "updated_at": "2026-01-10 12:00:00"},
            "timezone": {"value": "Europe/Moscow", "updated_at": "2026-01-10 12:00:00"}
        }}))
        .into_response(),
        None => (
            StatusCode::FORBIDDEN,
            Json(json!({"success": false, "errorMsg": "Access denied"})),
        )
            .into_response(),
    }
}

/// `GET integration-modules/{code}` (test vector T11): carries the current MG token.
async fn get_module(
    State(state): State<Shared>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = key_rejection(&headers) {
        return r;
    }
    let token = state.lock().unwrap().mg_token.clone();
    Json(json!({"success": true, "integrationModule": {
        "code": code, "integrationCode": code, "active": true, "freeze": false, "native": false,
        "integrations": {"mgTransport": {"token": token, "isActive": true}}
    }}))
    .into_response()
}

async fn edit_module(
    State(state): State<Shared>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(r) = key_rejection(&headers) {
        return r;
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let Some(module) = form
        .get("integrationModule")
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "errorMsg": "Parameter 'integrationModule' is missing"})),
        )
            .into_response();
    };
    if module["code"] != code {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "errorMsg": "Errors in the entity format", "errors": {"code": "code in the URL differs"}})),
        )
            .into_response();
    }
    let (mode, token, endpoint) = {
        let s = state.lock().unwrap();
        (s.edit.clone(), s.mg_token.clone(), s.mg_endpoint.clone())
    };
    match mode {
        EditMode::Success => (
            StatusCode::CREATED,
            Json(json!({"success": true, "info": {"mgTransport": {"endpointUrl": endpoint, "token": token}}})),
        )
            .into_response(),
        EditMode::PaymentRequired => (
            StatusCode::PAYMENT_REQUIRED,
            Json(json!({"success": false, "errorMsg": "Failed to activate module", "errors": ["Your account has insufficient funds to activate integration module"]})),
        )
            .into_response(),
        EditMode::Refused(message) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "errorMsg": message})),
        )
            .into_response(),
        EditMode::NoMgTransport => {
            (StatusCode::OK, Json(json!({"success": true, "info": []}))).into_response()
        }
        EditMode::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response(),
    }
}

/// `POST /api/v5/notifications/send` (`protocol/system-api.md` §4): the form field
/// `notification` is JSON with `userGroups` or `userIds`, `type` and `message`.
async fn send_notification(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(r) = key_rejection(&headers) {
        return r;
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let notification = form
        .get("notification")
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .filter(|n| {
            n["message"].as_str().is_some_and(|m| !m.is_empty())
                && matches!(n["type"].as_str(), Some("api.error" | "api.info"))
                && (n["userGroups"].is_array() || n["userIds"].is_array())
        });
    let Some(notification) = notification else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "errorMsg": "Errors in the entity format"})),
        )
            .into_response();
    };
    let mut s = state.lock().unwrap();
    if s.refuse_notifications > 0 {
        s.refuse_notifications -= 1;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"success": false, "errorMsg": "Service temporarily unavailable"})),
        )
            .into_response();
    }
    s.notifications.push(notification);
    Json(json!({"success": true})).into_response()
}
