//! `GET /avatar/{channel_id}/{user_id}?expires=…&sig=…`: a customer's Telegram profile photo,
//! fetched with the channel's bot and streamed back, for the signed links MG gets
//! (`bridge::avatar`). Telegram's own file URL holds the bot token, so MG never sees it.
//!
//! A link that is not signed by us, or has expired, gets 403 before anything is looked up.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::AppState;
use crate::messenger::telegram::{PhotoSize, TelegramError};
use crate::store::ChannelId;

/// MG shows avatars small; this is the smallest size Telegram makes that still looks sharp.
const MIN_SIDE: u32 = 160;

pub fn router() -> Router<AppState> {
    Router::new().route("/avatar/{channel_id}/{user_id}", get(avatar))
}

#[derive(Deserialize)]
struct Signature {
    expires: Option<i64>,
    sig: Option<String>,
}

async fn avatar(
    State(state): State<AppState>,
    Path((channel_id, user_id)): Path<(String, String)>,
    Query(signature): Query<Signature>,
) -> Response {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed = match (user_id.parse::<i64>(), signature.expires, &signature.sig) {
        (Ok(user), Some(expires), Some(sig)) => state
            .worker
            .avatars
            .verify(&channel_id, user, expires, sig, now)
            .then_some(user),
        _ => None,
    };
    let Some(user_id) = signed else {
        return plain(StatusCode::FORBIDDEN, "this avatar link is not valid");
    };
    let channel = match ChannelId::parse(&channel_id) {
        Some(id) => state.store.find_channel_by_id(&id).await,
        None => Ok(None),
    };
    let channel = match channel {
        Ok(Some(channel)) if channel.active => channel,
        Ok(_) => return plain(StatusCode::NOT_FOUND, "no such bot"),
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(&e), "avatar: loading the channel failed");
            return plain(StatusCode::SERVICE_UNAVAILABLE, "try again later");
        }
    };
    let bot = state.worker.telegram.bot(&channel.bot_token);
    match photo(&bot, user_id).await {
        Ok(Some(download)) => {
            let mut response = Response::new(Body::new(download.into_body()));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, "image/jpeg".parse().unwrap());
            headers.insert(
                header::CACHE_CONTROL,
                "public, max-age=86400".parse().unwrap(),
            );
            response
        }
        Ok(None) => plain(StatusCode::NOT_FOUND, "no profile photo"),
        // The user is unknown to the bot, or hides the photo: nothing to show.
        Err(TelegramError::Api { code: 400, .. }) => {
            plain(StatusCode::NOT_FOUND, "no profile photo")
        }
        Err(e) => {
            tracing::warn!(channel = channel.id.as_str(), error = %e, "avatar: Telegram failed");
            plain(StatusCode::BAD_GATEWAY, "the photo could not be fetched")
        }
    }
}

/// The newest profile photo, in the size to serve, being downloaded; `None` without one.
async fn photo(
    bot: &crate::messenger::telegram::Bot,
    user_id: i64,
) -> Result<Option<crate::messenger::telegram::FileDownload>, TelegramError> {
    let photos = bot.get_user_profile_photos(user_id, 1).await?;
    let Some(size) = photos.photos.first().and_then(|sizes| pick_size(sizes)) else {
        return Ok(None);
    };
    let file = bot.get_file(&size.file_id).await?;
    let Some(path) = file.file_path.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    bot.download_file(&path).await.map(Some)
}

/// The smallest size at least `MIN_SIDE` on both sides, else the largest there is.
fn pick_size(sizes: &[PhotoSize]) -> Option<&PhotoSize> {
    let area = |p: &&PhotoSize| u64::from(p.width) * u64::from(p.height);
    sizes
        .iter()
        .filter(|p| p.width.min(p.height) >= MIN_SIDE)
        .min_by_key(area)
        .or_else(|| sizes.iter().max_by_key(area))
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(id: &str, side: u32) -> PhotoSize {
        PhotoSize {
            file_id: id.into(),
            file_unique_id: id.into(),
            width: side,
            height: side,
            file_size: None,
        }
    }

    #[test]
    fn the_avatar_size_is_the_smallest_sharp_one() {
        let sizes = [size("s", 160), size("m", 320), size("l", 640)];
        assert_eq!(pick_size(&sizes).unwrap().file_id, "s");
        let sizes = [size("l", 640), size("m", 320)];
        assert_eq!(pick_size(&sizes).unwrap().file_id, "m");
        let tiny = [size("a", 80), size("b", 120)];
        assert_eq!(pick_size(&tiny).unwrap().file_id, "b");
        assert!(pick_size(&[]).is_none());
    }
}
