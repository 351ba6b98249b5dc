//! The failed list on the settings page (`templates/failures.html`): the account's failed
//! deliveries, newest first and paged, each with Retry and Discard, and Retry all. The forms are
//! CSRF-protected like every form of the settings page, and lead back to the list.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use axum_csrf::CsrfToken;

use super::settings::{account_of_form, format_unix, CsrfOnlyForm};
use super::{AppState, PageError};
use crate::bridge::failures::FailedDelivery;
use crate::domain::Direction;
use crate::i18n::Lang;
use crate::store::{Account, FailedSelection, StoreError};

/// Rows per page of the list.
pub const PAGE_SIZE: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/settings/{client_id}/failed/{job_id}/retry",
            post(retry_one),
        )
        .route(
            "/settings/{client_id}/failed/{job_id}/discard",
            post(discard_one),
        )
        .route("/settings/{client_id}/failed/retry-all", post(retry_all))
}

/// The list as the template shows it.
pub struct FailedSection {
    pub rows: Vec<FailedRow>,
    /// Failed deliveries in all (every page).
    pub total: i64,
    /// 1-based.
    pub page: i64,
    pub pages: i64,
}

pub struct FailedRow {
    pub job_id: i64,
    pub failed_at: String,
    pub accepted_at: String,
    pub direction: String,
    pub customer: String,
    pub chat: String,
    pub reason: String,
    pub error: String,
    /// Attempts in all; the history below keeps the first ones and the last.
    pub attempt_count: i64,
    pub attempts: Vec<AttemptRow>,
}

pub struct AttemptRow {
    pub number: i64,
    pub at: String,
    pub outcome: String,
    pub error: String,
}

impl FailedSection {
    /// Page `page` (1-based; out of range reads as the last page) of the account's list.
    pub async fn load(
        state: &AppState,
        lang: Lang,
        account: &Account,
        page: i64,
    ) -> Result<Self, StoreError> {
        let page = page.max(1);
        let (rows, total) = state
            .failures
            .list(Some(&account.id), PAGE_SIZE, (page - 1) * PAGE_SIZE)
            .await?;
        let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
        let rows = if rows.is_empty() && page > pages {
            // A page past the end (the list got shorter since the link was made): the last one.
            let offset = (pages - 1) * PAGE_SIZE;
            state
                .failures
                .list(Some(&account.id), PAGE_SIZE, offset)
                .await?
                .0
        } else {
            rows
        };
        Ok(Self {
            rows: rows.into_iter().map(|r| row(lang, r)).collect(),
            total,
            page: page.min(pages),
            pages,
        })
    }
}

fn row(lang: Lang, r: FailedDelivery) -> FailedRow {
    FailedRow {
        job_id: r.job_id,
        failed_at: format_unix(lang, r.failed_at / 1000),
        accepted_at: format_unix(lang, r.accepted_at / 1000),
        direction: lang.t(match r.direction {
            Direction::ToMg => "failed-direction-to-crm",
            Direction::ToMessenger => "failed-direction-to-messenger",
        }),
        customer: r
            .customer
            .unwrap_or_else(|| lang.t("failed-customer-unknown")),
        chat: r.chat,
        reason: lang.t(&format!("failed-reason-{}", r.reason.replace('_', "-"))),
        error: r.error,
        attempt_count: r.attempts.iter().map(|a| a.attempt).max().unwrap_or(0),
        attempts: r
            .attempts
            .into_iter()
            .map(|a| AttemptRow {
                number: a.attempt,
                at: format_unix(lang, a.at / 1000),
                outcome: lang.t(match a.outcome.as_str() {
                    "failed" => "failed-outcome-failed",
                    _ => "failed-outcome-retry",
                }),
                error: a.error,
            })
            .collect(),
    }
}

fn job_id(raw: &str) -> Result<i64, PageError> {
    raw.parse().map_err(|_| PageError::NotFound)
}

/// Back to the list, in the page's language.
fn back(client_id: &str, lang: Lang) -> Response {
    Redirect::to(&format!(
        "/settings/{client_id}?lang={}#failed",
        lang.code()
    ))
    .into_response()
}

#[tracing::instrument(skip_all)]
async fn retry_one(
    State(state): State<AppState>,
    lang: Lang,
    token: CsrfToken,
    Path((client_id, job)): Path<(String, String)>,
    form: Result<Form<CsrfOnlyForm>, FormRejection>,
) -> Result<Response, PageError> {
    let account = account_of_form(&state, &token, &client_id, form).await?;
    let job_id = job_id(&job)?;
    let which = FailedSelection::Job {
        job_id,
        account: Some(&account.id),
    };
    // None retried: not a failed job of this account (any more: a second click, another tab).
    if state.failures.retry(which).await? == 0 {
        return Err(PageError::NotFound);
    }
    tracing::info!(job = job_id, "failed delivery sent back by the merchant");
    Ok(back(&client_id, lang))
}

#[tracing::instrument(skip_all)]
async fn discard_one(
    State(state): State<AppState>,
    lang: Lang,
    token: CsrfToken,
    Path((client_id, job)): Path<(String, String)>,
    form: Result<Form<CsrfOnlyForm>, FormRejection>,
) -> Result<Response, PageError> {
    let account = account_of_form(&state, &token, &client_id, form).await?;
    let job_id = job_id(&job)?;
    if !state.failures.discard(&account.id, job_id).await? {
        return Err(PageError::NotFound);
    }
    tracing::info!(job = job_id, "failed delivery discarded by the merchant");
    Ok(back(&client_id, lang))
}

#[tracing::instrument(skip_all)]
async fn retry_all(
    State(state): State<AppState>,
    lang: Lang,
    token: CsrfToken,
    Path(client_id): Path<String>,
    form: Result<Form<CsrfOnlyForm>, FormRejection>,
) -> Result<Response, PageError> {
    let account = account_of_form(&state, &token, &client_id, form).await?;
    let n = state
        .failures
        .retry(FailedSelection::Account(&account.id))
        .await?;
    tracing::info!(jobs = n, "all failed deliveries sent back by the merchant");
    Ok(back(&client_id, lang))
}
