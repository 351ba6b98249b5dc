//! Errors of the HTML pages. Users see a short page; the cause goes to the log, inside the
//! request span. A 500 never shows its cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::pages::{render, MessagePage};

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
            Self::NotFound => ("Page not found", "There is nothing at this address. If you followed a link from your CRM, connect the CRM again.".to_owned()),
            Self::Csrf => ("Form expired", "This form expired or was sent from another site. Open the page again and resubmit.".to_owned()),
            Self::BadRequest(reason) => ("Bad request", reason.clone()),
            Self::Internal(e) => {
                tracing::error!(error = %crate::telemetry::chain(e.as_ref()), "request failed");
                ("Something went wrong", "Something went wrong on our side. Try again in a few minutes.".to_owned())
            }
        };
        // The module name is not at hand here; pages that fail use the product name.
        render(
            self.status(),
            &MessagePage {
                module_name: "mgbridge",
                heading,
                message: &message,
            },
        )
    }
}
