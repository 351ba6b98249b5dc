//! The account's settings page, `/settings/{clientId}`: the `accountUrl` the CRM links to.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::pages::render;
use super::{AppState, PageError};
use crate::domain::ClientId;

pub fn router() -> Router<AppState> {
    Router::new().route("/settings/{client_id}", get(show_settings))
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage<'a> {
    module_name: &'a str,
    crm_url: &'a str,
    enabled: bool,
    status: &'static str,
    mg_endpoint: &'a str,
    connected_at: String,
}

async fn show_settings(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Response, PageError> {
    let client_id = ClientId::parse(&client_id).ok_or(PageError::NotFound)?;
    let account = state
        .store
        .find_account_by_client_id(&client_id)
        .await?
        .ok_or(PageError::NotFound)?;
    let status = match (account.activity.active, account.activity.freeze) {
        (_, true) => "Frozen by the CRM",
        (false, false) => "Switched off in the CRM",
        (true, false) => "Active",
    };
    Ok(render(
        StatusCode::OK,
        &SettingsPage {
            module_name: &state.module_name,
            crm_url: account.crm_url.as_str(),
            enabled: account.activity.is_enabled(),
            status,
            mg_endpoint: &account.mg_endpoint_url,
            connected_at: format_unix(account.created_at),
        },
    ))
}

fn format_unix(seconds: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "unknown".to_owned())
}
