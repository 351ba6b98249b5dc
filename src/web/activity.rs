//! The CRM's `activity` callback (`protocol/system-api.md` §5.1): the module was switched on
//! or off, frozen or unfrozen, or the CRM moved to a new address. Authenticated only by the
//! clientId, which is why clientIds are 256 random bits.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use crate::crm::guard::{self, GuardError};
use crate::domain::{Activity, ClientId, CrmUrl};

pub fn router() -> Router<AppState> {
    Router::new().route("/activity", post(record_activity))
}

#[derive(Deserialize)]
struct ActivityForm {
    #[serde(rename = "clientId", default)]
    client_id: String,
    #[serde(default)]
    activity: String,
    #[serde(rename = "systemUrl", default)]
    system_url: String,
}

#[derive(Deserialize)]
struct ActivityJson {
    active: bool,
    // Tolerant: a CRM that omits `freeze` means "not frozen".
    #[serde(default)]
    freeze: bool,
}

/// Refuses an address on an internal network. A name that does not resolve now is let through:
/// the guarded resolver judges it on every connection, and a CRM may announce its move first.
async fn check_public(url: &CrmUrl) -> Result<(), String> {
    let Ok(parsed) = url::Url::parse(url.as_str()) else {
        return Err("systemUrl is not a valid URL".into());
    };
    match guard::check_url(&parsed).await {
        Err(e @ GuardError::Forbidden { .. }) => Err(format!(
            "systemUrl: {e}; this module only connects to CRMs on the public internet"
        )),
        Ok(_) | Err(GuardError::Unresolvable { .. }) => Ok(()),
    }
}

fn failure(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"success": false, "errorMsg": message}))).into_response()
}

#[tracing::instrument(skip_all)]
async fn record_activity(
    State(state): State<AppState>,
    form: Result<Form<ActivityForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return failure(
            StatusCode::BAD_REQUEST,
            "expected a form with clientId and activity",
        );
    };
    if form.client_id.trim().is_empty() {
        return failure(StatusCode::BAD_REQUEST, "clientId is missing");
    }
    let Ok(activity) = serde_json::from_str::<ActivityJson>(&form.activity) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "activity must be JSON like {\"active\":true,\"freeze\":false}",
        );
    };
    let activity = Activity {
        active: activity.active,
        freeze: activity.freeze,
    };
    // systemUrl is optional (mg-transport-telegram); when present it must be a CRM address we
    // would accept on the connect form.
    let new_url = match form.system_url.trim() {
        "" => None,
        raw => match state.connector.policy.parse(raw) {
            Ok(url) => Some(url),
            Err(e) => return failure(StatusCode::BAD_REQUEST, &format!("systemUrl: {e}")),
        },
    };
    // Every later CRM call goes to the new address: the SSRF guard judges it as the connect
    // form does, before anything is stored.
    if let Some(url) = &new_url {
        if !state.connector.policy.allow_private_networks {
            if let Err(message) = check_public(url).await {
                return failure(StatusCode::BAD_REQUEST, &message);
            }
        }
    }
    let Some(client_id) = ClientId::parse(form.client_id.trim()) else {
        return failure(StatusCode::NOT_FOUND, "unknown clientId");
    };
    match state
        .activity
        .record(&client_id, activity, new_url.as_ref())
        .await
    {
        Ok(true) => Json(json!({"success": true})).into_response(),
        Ok(false) => failure(StatusCode::NOT_FOUND, "unknown clientId"),
        Err(e) if e.is_unique_violation() => failure(
            StatusCode::CONFLICT,
            "systemUrl belongs to another connected account",
        ),
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(&e), "recording activity failed");
            failure(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}
