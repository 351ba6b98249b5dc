//! `GET /avatar/{channel_id}/{user_id}?expires=…&sig=…`: a customer's profile photo, for the
//! signed links MG gets (`bridge::avatar`), streamed back from the channel's messenger, whose
//! own file URLs may hold the bot token: MG never sees them.
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
use crate::bridge::avatar::AvatarError;

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
    let photo = state
        .avatars
        .photo(
            &channel_id,
            &user_id,
            signature.expires,
            signature.sig.as_deref(),
        )
        .await;
    match photo {
        Ok(photo) => {
            let mut response = Response::new(Body::new(photo.body));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(photo.content_type),
            );
            headers.insert(
                header::CACHE_CONTROL,
                "public, max-age=86400".parse().unwrap(),
            );
            response
        }
        Err(e) => {
            let status = match &e {
                AvatarError::NotSigned => StatusCode::FORBIDDEN,
                AvatarError::NoSuchChannel | AvatarError::NoPhoto => StatusCode::NOT_FOUND,
                AvatarError::Store(_) => {
                    tracing::error!(error = %crate::telemetry::chain(&e), "avatar: loading the channel failed");
                    return plain(StatusCode::SERVICE_UNAVAILABLE, "try again later");
                }
                AvatarError::Messenger(_) => StatusCode::BAD_GATEWAY,
            };
            let text = match &e {
                AvatarError::Messenger(_) => "the photo could not be fetched",
                AvatarError::NotSigned => "this avatar link is not valid",
                AvatarError::NoSuchChannel => "no such bot",
                _ => "no profile photo",
            };
            plain(status, text)
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}
