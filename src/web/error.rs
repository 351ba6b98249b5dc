//! Errors of the HTML pages. Users see a short page; the cause goes to the log, inside the
//! request span. A 500 never shows its cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::pages::{message_page, MessageText, PRODUCT};
use crate::i18n::{Lang, Text};

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    /// The form's CSRF token is missing or does not match its cookie.
    #[error("the form's security token is missing or wrong")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (heading, message) = match &self {
            Self::NotFound => ("page-not-found", "page-not-found-reconnect"),
            Self::Csrf => ("page-form-expired", "page-form-expired-text"),
            Self::BadRequest(reason) => {
                tracing::info!(%reason, "request refused");
                ("page-bad-request", "page-bad-request-text")
            }
            Self::Internal(e) => {
                tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "request failed");
                ("page-internal", "page-internal-text")
            }
        };
        let text = MessageText {
            heading,
            message: Text::new(message),
        };
        // English here; `lang::remember` puts it in the page's language.
        let mut response = message_page(Lang::En, PRODUCT, self.status(), &text);
        response.extensions_mut().insert(text);
        response
    }
}
