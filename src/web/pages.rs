//! Rendering askama templates into responses, the shared message page, and static assets.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::AppState;
use crate::i18n::{Lang, Text};

/// Renders a template, or answers an opaque 500 (and logs why) if rendering fails.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

/// The hidden-field value that proves a form came from our page (its cookie is set by
/// returning the `CsrfToken` with the response).
pub fn form_token(token: &axum_csrf::CsrfToken) -> Result<String, super::PageError> {
    token
        .authenticity_token()
        .map_err(|e| super::PageError::Internal(anyhow::anyhow!("CSRF token: {e:?}")))
}

/// The status of a form shown again with an error: 422 when the merchant's input was the
/// problem, 502 when a peer (CRM, MG, Telegram) was.
pub fn refusal_status(input_error: bool) -> StatusCode {
    if input_error {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::BAD_GATEWAY
    }
}

/// Error pages, where the module name is not at hand, show the product name.
pub const PRODUCT: &str = "mgbridge";

/// A page that only says something (errors, not found).
#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    lang: Lang,
    module_name: &'a str,
    heading: String,
    message: String,
}

/// What a message page says, before it is put in the page's language. Error responses carry
/// it so `lang::remember` can show them in the page's language.
#[derive(Debug, Clone)]
pub struct MessageText {
    pub heading: &'static str,
    pub message: Text,
}

/// A page that only says something.
pub fn message_page(
    lang: Lang,
    module_name: &str,
    status: StatusCode,
    text: &MessageText,
) -> Response {
    render(
        status,
        &MessagePage {
            lang,
            module_name,
            heading: lang.t(text.heading),
            message: lang.text(&text.message),
        },
    )
}

pub async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    lang: Lang,
) -> Response {
    let text = MessageText {
        heading: "page-not-found",
        message: Text::new("page-not-found-text"),
    };
    message_page(lang, &state.module_name, StatusCode::NOT_FOUND, &text)
}

const LOGO_SVG: &str = include_str!("../../static/logo.svg");

pub fn assets_router() -> Router<AppState> {
    Router::new().route(
        "/static/logo.svg",
        get(|| async {
            (
                [
                    (header::CONTENT_TYPE, "image/svg+xml"),
                    (header::CACHE_CONTROL, "public, max-age=86400"),
                ],
                LOGO_SVG,
            )
        }),
    )
}
