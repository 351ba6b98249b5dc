//! The simple (one-step) connection (`protocol/system-api.md` §5.4): the CRM's server asks
//! `/simple-connection` what to do, then posts a signed API key to
//! `/simple-connection/register`, which runs the connect flow of the form (`Connector`), checks
//! and registration alike. Called by the CRM, not a browser: no CSRF, answers are JSON.
//! Both routes exist only while `module.simple_connection_secret` is set (404 otherwise).

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use crate::bridge::connect::{ConnectError, REQUIRED_SCOPES};
use crate::bridge::simple_connection::RegisterRequest;
use crate::i18n::Lang;

const CONFIG_PATH: &str = "/simple-connection";
const REGISTER_PATH: &str = "/simple-connection/register";

pub fn router(enabled: bool) -> Router<AppState> {
    if !enabled {
        return Router::new();
    }
    // The configuration request's method is UNVERIFIED (`protocol/platform-2026.md` §2.4):
    // RetailCRM's own modules serve GET; POST is accepted too.
    Router::new()
        .route(CONFIG_PATH, get(configuration).post(configuration))
        .route(REGISTER_PATH, post(register))
}

#[derive(Deserialize)]
struct RegisterForm {
    #[serde(default)]
    register: String,
}

/// What the CRM creates the API key with, and where it sends it.
async fn configuration(State(state): State<AppState>) -> Response {
    Json(json!({
        "success": true,
        "scopes": REQUIRED_SCOPES,
        "registerUrl": format!("{}{REGISTER_PATH}", state.connector.module.base_url),
    }))
    .into_response()
}

fn failure(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"success": false, "errorMsg": message}))).into_response()
}

// Spans and logs carry neither the apiKey nor the token: `skip_all`, and only reasons logged.
#[tracing::instrument(skip_all)]
async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<RegisterForm>, FormRejection>,
) -> Response {
    // The CRM's server calls: no cookie, no `?lang=`; its Accept-Language if it sends one.
    let lang = headers
        .get_all(header::ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(Lang::from_accept_language)
        .unwrap_or_default();
    let Some(secret) = state.simple_connection.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let field = match form {
        Ok(Form(form)) => form.register,
        // The body limit of every form post stays.
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return failure(e.status(), &lang.t("error-register-too-large"))
        }
        // Like mg-transport-core (gin's `PostForm`): a body that is not a form has no field.
        Err(_) => String::new(),
    };
    // Bad or missing data is answered 200 with `success: false`, as mg-transport-core does.
    let request = match RegisterRequest::parse(&field) {
        Ok(request) => request,
        Err(e) => {
            tracing::info!(reason = %e, "simple connection refused");
            return failure(StatusCode::OK, &lang.text(&e.text()));
        }
    };
    if !secret.signs(&request.api_key, &request.token) {
        tracing::warn!("simple connection refused: the token is not signed with our secret");
        return (StatusCode::UNAUTHORIZED, Json(json!({}))).into_response();
    }
    match state
        .connector
        .connect(&request.system_url, &request.api_key, lang)
        .await
    {
        Ok(client_id) => Json(json!({
            "success": true,
            "accountUrl": state.connector.module.account_url(&client_id),
        }))
        .into_response(),
        Err(ConnectError::Internal(e)) => {
            tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "simple connection failed");
            let message = lang.text(&ConnectError::Internal(e).text());
            failure(StatusCode::INTERNAL_SERVER_ERROR, &message)
        }
        // The form page's messages, so the CRM can show the merchant what to do.
        Err(error) => {
            tracing::info!(reason = %error, "simple connection refused");
            failure(StatusCode::OK, &lang.text(&error.text()))
        }
    }
}
