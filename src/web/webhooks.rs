//! The webhooks: the messengers' updates (`POST /telegram/{webhook_key}`,
//! `POST /max/{webhook_key}`) and MessageGateway's events (`POST /webhook/mg`). Each authenticates, parses at the edge, hands what it accepted
//! to `bridge::ingest` (which makes it a job and commits it) and only then answers; the workers
//! deliver. Nothing is stored for a request that is refused.
//!
//! The body is read only after the request is authenticated, so a stranger's large body costs
//! nothing but its headers; and at most `server.webhook_concurrency` requests are handled at
//! once: past that, 503 at once (Telegram and MG repeat), so memory stays bounded.

use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{BoxError, Json, Router};
use serde_json::json;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;

use super::AppState;
use crate::bridge::delivery::DeliveryError;
use crate::bridge::ingest::{CustomerUpdate, OperatorEvent};
use crate::bridge::mg_reply::webhook_reply;
use crate::config::DeliveryMode;
use crate::domain::MessengerKind;
use crate::messenger::telegram::inbound;
use crate::messenger::{max, Accepted};
use crate::mg::{MgWebhook, SendingErrorCode};
use crate::store::secret_eq;

/// Telegram's updates and MG's events are small; an order card with many items is the largest
/// thing either sends.
const MAX_WEBHOOK_BODY: usize = 1024 * 1024;
const TELEGRAM_SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// MG names the account in this header (Go writes it `Clientid`; HTTP headers ignore case).
const CLIENT_ID_HEADER: &str = "clientid";

pub fn router(concurrency: usize) -> Router<AppState> {
    Router::new()
        .route("/telegram/{webhook_key}", post(telegram_update))
        .route("/max/{webhook_key}", post(max_update))
        .route("/webhook/mg", post(mg_webhook))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY))
        // One limit for both routes: `Router::layer` wraps each route on its own, and only
        // the global limit shares its semaphore between them.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(overloaded))
                .load_shed()
                .layer(GlobalConcurrencyLimitLayer::new(concurrency)),
        )
}

/// The load shedder refused the request: too many webhooks are being handled already.
async fn overloaded(error: BoxError) -> Response {
    tracing::warn!(error = %error, "webhook refused: too many at once");
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "too many requests at once, repeat later",
    )
}

/// Reads the body of an authenticated request, within the webhook body limit (413 past it).
async fn read_body(request: Request) -> Result<Bytes, Response> {
    Bytes::from_request(request, &())
        .await
        .map_err(|rejection| {
            tracing::warn!(error = %rejection, "webhook body not read");
            refuse(rejection.status(), "body too large or not readable")
        })
}

async fn telegram_update(
    State(state): State<AppState>,
    Path(webhook_key): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let given = secret_of(&headers, TELEGRAM_SECRET_HEADER);
    customer_update(
        &state,
        MessengerKind::Telegram,
        &webhook_key,
        &given,
        request,
    )
    .await
}

async fn max_update(
    State(state): State<AppState>,
    Path(webhook_key): Path<String>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let given = secret_of(&headers, max::SECRET_HEADER);
    customer_update(&state, MessengerKind::Max, &webhook_key, &given, request).await
}

fn secret_of(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A messenger's webhook: the path's channel and its secret (compared in constant time), then
/// the body, read only once authenticated and judged by the messenger, then the job committed
/// before the answer.
async fn customer_update(
    state: &AppState,
    kind: MessengerKind,
    webhook_key: &str,
    given: &str,
    request: Request,
) -> Response {
    let channel = match state.directory.channel(&state.store, webhook_key).await {
        Ok(Some(channel))
            if channel.messenger == kind && secret_eq(&channel.webhook_secret, given) =>
        {
            channel
        }
        Ok(_) => {
            tracing::warn!(
                messenger = kind.as_str(),
                "webhook refused: unknown path or wrong secret"
            );
            return refuse(
                StatusCode::UNAUTHORIZED,
                "unknown webhook or wrong secret token",
            );
        }
        Err(e) => return unavailable(&e),
    };
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let accepted = match kind {
        MessengerKind::Telegram => inbound::accept_update(&body),
        MessengerKind::Max => max::inbound::accept_update(&body, &channel.bot_id),
    };
    let carried = match accepted {
        Accepted::Carry(carried) => carried,
        Accepted::Ignore => return ok_empty(),
        Accepted::Malformed(e) => {
            tracing::warn!(messenger = kind.as_str(), error = %e, "malformed update refused");
            return refuse(StatusCode::BAD_REQUEST, "malformed update");
        }
        Accepted::Connection(business) if channel.active => {
            return link_business(state, &channel.id, &business).await
        }
        Accepted::Connection(_) => return ok_empty(),
    };
    if !channel.active {
        tracing::info!(
            channel = channel.id.as_str(),
            "update for a removed bot ignored"
        );
        return ok_empty();
    }
    // A business chat's update belongs to its connection's channel.
    let (channel_id, mg_channel_id) = match &carried.connection {
        None => (channel.id.clone(), channel.mg_channel_id),
        Some(connection) => match state
            .store
            .find_business_link(&channel.id, connection)
            .await
        {
            Ok(Some(link)) if link.enabled && link.can_reply => {
                (link.channel_id, link.mg_channel_id)
            }
            Ok(Some(_)) => {
                tracing::info!("update of a business connection that is off: ignored");
                return ok_empty();
            }
            Ok(None) => {
                // Its `business_connection` update has not been seen (yet): Telegram repeats
                // this one after a 503, by when it usually has.
                tracing::warn!("update of an unknown business connection: asking for a repeat");
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unknown business connection, repeat later",
                );
            }
            Err(e) => return unavailable(&e),
        },
    };
    let accepted = state
        .ingest
        .accept_customer_update(CustomerUpdate {
            account: &channel.account_id,
            channel: &channel_id,
            messenger: channel.messenger,
            mg_channel_id,
            chat: &carried.chat,
            update_id: &carried.update_id,
            update: carried.update,
        })
        .await;
    match accepted {
        Ok(()) => ok_empty(),
        Err(e) => unavailable(&e),
    }
}

/// A business account connected the bot, or changed the connection: its channel is brought in
/// line before the answer (a failure is a 503, and Telegram repeats the update).
async fn link_business(
    state: &AppState,
    bot_channel: &crate::store::ChannelId,
    business: &crate::messenger::BusinessAccount,
) -> Response {
    let found = async {
        let bot = state.store.find_channel_by_id(bot_channel).await?;
        let account = match &bot {
            Some(bot) => state.store.find_account(&bot.account_id).await?,
            None => None,
        };
        Ok::<_, crate::store::StoreError>(bot.zip(account))
    };
    let (bot, mut account) = match found.await {
        Ok(Some(found)) => found,
        Ok(None) => return ok_empty(),
        Err(e) => return unavailable(&e),
    };
    match state
        .channels
        .link_business(&mut account, &bot, business)
        .await
    {
        Ok(_) => ok_empty(),
        Err(e) => {
            tracing::warn!(error = %e, "a business connection could not be set up: asking for a repeat");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "repeat later")
        }
    }
}

async fn mg_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let given = headers
        .get(CLIENT_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let account = match state.directory.account(&state.store, given).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            tracing::warn!("MG webhook refused: unknown or missing Clientid");
            return refuse(StatusCode::UNAUTHORIZED, "unknown Clientid");
        }
        Err(e) => return unavailable(&e),
    };
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let hook = match MgWebhook::parse(&body) {
        Ok(hook) => hook,
        Err(e) => {
            tracing::warn!(error = %e, "malformed MG webhook refused");
            return refuse(StatusCode::BAD_REQUEST, "malformed webhook");
        }
    };
    let Some((mg_channel_id, chat)) = hook.target_chat() else {
        if let MgWebhook::Unknown(kind) = &hook {
            tracing::info!(kind = %kind, "MG webhook of an unknown type answered and ignored");
        }
        return (StatusCode::OK, Json(webhook_reply(&hook))).into_response();
    };
    // The chat names the job's lane as text: a NUL in it made Postgres refuse the whole
    // group-commit batch (503 for every webhook in it), and no chat id holds controls.
    if mg_channel_id <= 0 || chat.is_empty() || !plausible_chat(chat) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "channel_id and external_chat_id are required",
        );
    }
    // A read mark means something only in a Telegram Business chat; elsewhere it is answered
    // without a job.
    if matches!(hook, MgWebhook::MessageRead(_)) {
        match state
            .store
            .find_channel_by_mg_id(&account.id, mg_channel_id)
            .await
        {
            Ok(Some(channel)) if channel.business_connection_id.is_some() => {}
            Ok(_) => return (StatusCode::OK, Json(webhook_reply(&hook))).into_response(),
            Err(e) => return unavailable(&e),
        }
    }
    if let (DeliveryMode::Sync, MgWebhook::MessageSent(sent)) = (state.delivery_mode, &hook) {
        return send_now(&state, &account.id, sent).await;
    }
    let accepted = state
        .ingest
        .accept_operator_event(OperatorEvent {
            account: &account.id,
            hook: &hook,
            mg_channel_id,
            chat,
            body: &body,
        })
        .await;
    match accepted {
        Ok(()) if matches!(hook, MgWebhook::MessageSent(_)) => {
            (StatusCode::OK, Json(json!({ "async": true }))).into_response()
        }
        Ok(()) => ok_empty(),
        Err(e) => unavailable(&e),
    }
}

/// `mg.delivery = "sync"`: deliver inside the request and answer with the messenger's id, or
/// with the error in a 200 body (§5.6: the tolerant reading of where MG expects it).
async fn send_now(
    state: &AppState,
    account_id: &crate::domain::AccountId,
    sent: &crate::mg::MessageSent,
) -> Response {
    let mut account = match state.store.find_account(account_id).await {
        Ok(Some(account)) => account,
        Ok(None) => return refuse(StatusCode::UNAUTHORIZED, "unknown Clientid"),
        Err(e) => return unavailable(&e),
    };
    let answer = match state.courier.send_now(&mut account, sent).await {
        Ok(id) => json!({ "external_message_id": id, "async": false }),
        Err(e) => {
            let (code, reason) = match e {
                DeliveryError::Failed { code, reason } => (code, reason),
                // No second chance inside a request: the operator sees it failed and resends.
                DeliveryError::Retry { reason, .. } => (SendingErrorCode::General, reason),
            };
            tracing::warn!(code = ?code, reason = %reason, "operator's message not delivered (sync mode)");
            json!({ "async": false, "error": { "code": code, "message": reason } })
        }
    };
    (StatusCode::OK, Json(answer)).into_response()
}

/// A chat id as a messenger gives it: short, and no control characters.
fn plausible_chat(chat: &str) -> bool {
    chat.len() <= 128 && !chat.chars().any(char::is_control)
}

fn ok_empty() -> Response {
    (StatusCode::OK, Json(json!({}))).into_response()
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// The job could not be stored: 503 makes Telegram (and presumably MG) repeat the request.
fn unavailable(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %error, "webhook not accepted: storage unavailable");
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily unavailable, repeat later",
    )
}
