//! The connect page the Marketplace sends a merchant to (`GET /?account=https://…`), and its
//! form post. Works without JavaScript; protected by a CSRF cookie + hidden field.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_csrf::CsrfToken;
use serde::Deserialize;

use super::pages::{form_token, refusal_status, render};
use super::{AppState, PageError};
use crate::bridge::connect::ConnectError;
use crate::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_connect_form))
        .route("/connect", post(submit_connect_form))
}

#[derive(Template)]
#[template(path = "connect.html")]
struct ConnectPage<'a> {
    lang: Lang,
    module_name: &'a str,
    csrf_token: String,
    crm_url: &'a str,
    error: Option<String>,
}

/// The Marketplace passes the CRM's address in `account`.
#[derive(Deserialize)]
struct ConnectQuery {
    #[serde(default)]
    account: String,
}

#[derive(Deserialize)]
struct ConnectForm {
    #[serde(default)]
    crm_url: String,
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    authenticity_token: String,
}

async fn show_connect_form(
    State(state): State<AppState>,
    lang: Lang,
    token: CsrfToken,
    query: Result<Query<ConnectQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let account = query.map(|Query(q)| q.account).unwrap_or_default();
    let page = connect_page(
        &state,
        lang,
        &token,
        account.trim().trim_end_matches('/'),
        None,
    )?;
    Ok((token, render(StatusCode::OK, &page)).into_response())
}

#[tracing::instrument(skip_all)]
async fn submit_connect_form(
    State(state): State<AppState>,
    lang: Lang,
    token: CsrfToken,
    form: Result<Form<ConnectForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(|e| PageError::BadRequest(e.body_text()))?;
    if token.verify(&form.authenticity_token).is_err() {
        tracing::warn!("connect form refused: CSRF token missing or wrong");
        return Err(PageError::Csrf);
    }
    match state
        .connector
        .connect(&form.crm_url, &form.api_key, lang)
        .await
    {
        Ok(client_id) => {
            Ok(Redirect::to(&format!("/settings/{}", client_id.as_str())).into_response())
        }
        Err(ConnectError::Internal(e)) => Err(PageError::Internal(e)),
        Err(error) => {
            tracing::info!(reason = %error, "connect refused");
            let status = refusal_status(error.is_input_error());
            let page = connect_page(
                &state,
                lang,
                &token,
                form.crm_url.trim(),
                Some(lang.text(&error.text())),
            )?;
            Ok((token, render(status, &page)).into_response())
        }
    }
}

fn connect_page<'a>(
    state: &'a AppState,
    lang: Lang,
    token: &CsrfToken,
    crm_url: &'a str,
    error: Option<String>,
) -> Result<ConnectPage<'a>, PageError> {
    let csrf = form_token(token)?;
    Ok(ConnectPage {
        lang,
        module_name: &state.module_name,
        csrf_token: csrf,
        crm_url,
        error,
    })
}
