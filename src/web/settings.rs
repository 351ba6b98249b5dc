//! The account's settings page, `/settings/{clientId}` (the `accountUrl` the CRM links to):
//! the account's state, its Telegram and MAX bots, and the forms that add and remove them.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_csrf::CsrfToken;
use serde::Deserialize;

use super::bot_health::{health_views, BotHealthView};
use super::failures::FailedSection;
use super::pages::{form_token, refusal_status, render};
use super::{AppState, PageError};
use crate::bridge::channels::{AddBotError, RemoveBotError};
use crate::domain::{ClientId, MessengerKind};
use crate::i18n::Lang;
use crate::store::{Account, ChannelId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/{client_id}", get(show_settings))
        .route("/settings/{client_id}/bots", post(add_bot))
        .route(
            "/settings/{client_id}/bots/{channel_id}/remove",
            post(remove_bot),
        )
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage<'a> {
    lang: Lang,
    module_name: &'a str,
    client_id: &'a str,
    csrf_token: String,
    crm_url: &'a str,
    enabled: bool,
    needs_reconnect: bool,
    status: String,
    mg_endpoint: &'a str,
    connected_at: String,
    bots: Vec<BotRow>,
    business: Vec<BusinessRow>,
    /// The failed list (`web::failures`, `templates/failures.html`).
    failed: FailedSection,
    error: Option<String>,
    /// `templates/bot_health.html`: each active bot's health, and the account's problems.
    health: Vec<BotHealthView>,
    account_problems: Vec<String>,
}

/// A business account connected to one of the bots (Telegram Business).
struct BusinessRow {
    name: String,
    /// The bot it is connected to.
    bot: String,
    rights: String,
    enabled: bool,
    mg_channel_id: i64,
    connected_at: String,
}

struct BotRow {
    id: String,
    messenger: &'static str,
    /// Where the bot's chat opens for a customer.
    link: String,
    username: String,
    mg_channel_id: i64,
    active: bool,
    added_at: String,
}

/// One form per messenger, told apart by the token field's name: `bot_token` is a Telegram
/// bot's, `max_token` a MAX bot's.
#[derive(Deserialize)]
struct AddBotForm {
    #[serde(default)]
    bot_token: Option<String>,
    #[serde(default)]
    max_token: Option<String>,
    #[serde(default)]
    authenticity_token: String,
}

impl AddBotForm {
    fn token(&self) -> (MessengerKind, &str) {
        match (&self.max_token, &self.bot_token) {
            (Some(max), None) => (MessengerKind::Max, max),
            (_, token) => (
                MessengerKind::Telegram,
                token.as_deref().unwrap_or_default(),
            ),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfOnlyForm {
    #[serde(default)]
    authenticity_token: String,
}

/// The account of a form that carries nothing but its CSRF token, once the token checks out.
pub(super) async fn account_of_form(
    state: &AppState,
    token: &CsrfToken,
    client_id: &str,
    form: Result<Form<CsrfOnlyForm>, FormRejection>,
) -> Result<Account, PageError> {
    let account = account_of(state, client_id).await?;
    let Form(form) = form.map_err(|e| PageError::BadRequest(e.body_text()))?;
    if token.verify(&form.authenticity_token).is_err() {
        return Err(PageError::Csrf);
    }
    Ok(account)
}

pub(super) async fn account_of(state: &AppState, client_id: &str) -> Result<Account, PageError> {
    let client_id = ClientId::parse(client_id).ok_or(PageError::NotFound)?;
    state
        .store
        .find_account_by_client_id(&client_id)
        .await?
        .ok_or(PageError::NotFound)
}

/// `?failed_page=N`: which page of the failed list.
#[derive(Deserialize)]
struct SettingsQuery {
    #[serde(default)]
    failed_page: Option<String>,
}

async fn show_settings(
    State(state): State<AppState>,
    lang: Lang,
    token: CsrfToken,
    Path(client_id): Path<String>,
    Query(query): Query<SettingsQuery>,
) -> Result<Response, PageError> {
    let account = account_of(&state, &client_id).await?;
    // A page number that is not one reads as the first page.
    let page = query
        .failed_page
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1);
    settings_page(&state, lang, token, &account, StatusCode::OK, None, page).await
}

#[tracing::instrument(skip_all)]
async fn add_bot(
    State(state): State<AppState>,
    lang: Lang,
    token: CsrfToken,
    Path(client_id): Path<String>,
    form: Result<Form<AddBotForm>, FormRejection>,
) -> Result<Response, PageError> {
    let mut account = account_of(&state, &client_id).await?;
    let Form(form) = form.map_err(|e| PageError::BadRequest(e.body_text()))?;
    if token.verify(&form.authenticity_token).is_err() {
        return Err(PageError::Csrf);
    }
    let (kind, raw_token) = form.token();
    let added = state.channels.add_bot(&mut account, kind, raw_token).await;
    match added {
        // Step 10 of the integration guide: back to the CRM, where the new channel's chats live.
        Ok(_) => Ok(Redirect::to(account.crm_url.as_str()).into_response()),
        Err(AddBotError::Internal(e)) => Err(PageError::Internal(e)),
        Err(error) => {
            tracing::info!(reason = %error, "adding a bot refused");
            let status = refusal_status(error.is_input_error());
            settings_page(
                &state,
                lang,
                token,
                &account,
                status,
                Some(lang.text(&error.text())),
                1,
            )
            .await
        }
    }
}

#[tracing::instrument(skip_all)]
async fn remove_bot(
    State(state): State<AppState>,
    lang: Lang,
    token: CsrfToken,
    Path((client_id, channel_id)): Path<(String, String)>,
    form: Result<Form<CsrfOnlyForm>, FormRejection>,
) -> Result<Response, PageError> {
    let mut account = account_of_form(&state, &token, &client_id, form).await?;
    let channel_id = ChannelId::parse(&channel_id).ok_or(PageError::NotFound)?;
    let channel = state
        .store
        .find_channel(&account.id, &channel_id)
        .await?
        .ok_or(PageError::NotFound)?;
    if !channel.active {
        return Ok(Redirect::to(&format!("/settings/{client_id}")).into_response());
    }
    match state.channels.remove_bot(&mut account, &channel).await {
        Ok(()) => Ok(Redirect::to(&format!("/settings/{client_id}")).into_response()),
        Err(RemoveBotError::Internal(e)) => Err(PageError::Internal(e)),
        Err(error) => {
            settings_page(
                &state,
                lang,
                token,
                &account,
                StatusCode::BAD_GATEWAY,
                Some(lang.text(&error.text())),
                1,
            )
            .await
        }
    }
}

async fn settings_page(
    state: &AppState,
    lang: Lang,
    token: CsrfToken,
    account: &Account,
    status_code: StatusCode,
    error: Option<String>,
    failed_page: i64,
) -> Result<Response, PageError> {
    let status = lang.t(match (account.activity.active, account.activity.freeze) {
        (_, true) => "settings-status-frozen",
        (false, false) => "settings-status-off",
        (true, false) => "settings-status-active",
    });
    let channels = state.store.list_channels(&account.id).await?;
    let bot_name = |id: &crate::store::ChannelId| {
        channels
            .iter()
            .find(|c| &c.id == id)
            .map(|c| format!("@{}", c.bot_username))
            .unwrap_or_default()
    };
    let business = state
        .store
        .list_business_links(&account.id)
        .await?
        .into_iter()
        .map(|b| BusinessRow {
            bot: bot_name(&b.bot_channel_id),
            rights: [
                (b.can_reply, "settings-business-can-reply"),
                (b.can_read, "settings-business-can-read"),
            ]
            .into_iter()
            .filter(|(granted, _)| *granted)
            .map(|(_, key)| lang.t(key))
            .collect::<Vec<_>>()
            .join(", "),
            name: b.owner_name,
            enabled: b.enabled && b.can_reply,
            mg_channel_id: b.mg_channel_id,
            connected_at: format_unix(lang, b.connected_at),
        })
        .collect();
    let bots = channels
        .iter()
        .filter(|c| c.business_connection_id.is_none())
        .cloned()
        .map(|c| BotRow {
            id: c.id.as_str().to_owned(),
            messenger: c.messenger.display_name(),
            link: match c.messenger {
                MessengerKind::Telegram => format!("https://t.me/{}", c.bot_username),
                MessengerKind::Max => format!("https://max.ru/{}", c.bot_username),
            },
            username: c.bot_username,
            mg_channel_id: c.mg_channel_id,
            active: c.active,
            added_at: format_unix(lang, c.created_at),
        })
        .collect();
    let failed = FailedSection::load(state, lang, account, failed_page).await?;
    // The page's forms work without the health part.
    let (health, account_problems) = match health_views(
        &state.store,
        &state.health,
        lang,
        account,
        &channels,
    )
    .await
    {
        Ok(views) => views,
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "reading the bots' health failed");
            Default::default()
        }
    };
    let csrf_token = form_token(&token)?;
    let page = SettingsPage {
        lang,
        module_name: &state.module_name,
        client_id: account.client_id.as_str(),
        csrf_token,
        crm_url: account.crm_url.as_str(),
        enabled: account.activity.is_enabled(),
        needs_reconnect: account.needs_reconnect,
        status,
        mg_endpoint: &account.mg_endpoint_url,
        connected_at: format_unix(lang, account.created_at),
        bots,
        business,
        failed,
        error,
        health,
        account_problems,
    };
    Ok((token, render(status_code, &page)).into_response())
}

pub(super) fn format_unix(lang: Lang, seconds: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| lang.t("settings-date-unknown"))
}
