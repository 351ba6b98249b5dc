//! A customer's Telegram profile photo, for the signed avatar links MG gets
//! (`bridge::avatar`): fetched with the channel's bot and streamed through us, since
//! Telegram's own file URL holds the bot token.

use super::{PhotoSize, Telegram, TelegramError};
use crate::store::Channel;

/// MG shows avatars small; this is the smallest size Telegram makes that still looks sharp.
const MIN_SIDE: u32 = 160;

/// A profile photo being downloaded (JPEG: Telegram's profile photos are).
pub struct Photo {
    pub content_type: &'static str,
    pub body: reqwest::Body,
}

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the channel's credentials are not valid")]
    BadCredentials,
    #[error("the messenger failed: {0}")]
    Messenger(String),
}

/// The newest profile photo of `user_id`, in the size to serve; `None` without one, or when
/// the user is unknown to the bot or hides the photo.
pub async fn profile_photo(
    telegram: &Telegram,
    channel: &Channel,
    user_id: &str,
) -> Result<Option<Photo>, PhotoError> {
    let Ok(user_id) = user_id.parse::<i64>() else {
        return Ok(None);
    };
    let bot = telegram
        .bot_for(&channel.token)
        .map_err(|_| PhotoError::BadCredentials)?;
    let fetched = async {
        let photos = bot.get_user_profile_photos(user_id, 1).await?;
        let Some(size) = photos.photos.first().and_then(|sizes| pick_size(sizes)) else {
            return Ok(None);
        };
        let file = bot.get_file(&size.file_id).await?;
        let Some(path) = file.file_path.filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        bot.download_file(&path).await.map(Some)
    };
    match fetched.await {
        Ok(download) => Ok(download.map(|d| Photo {
            content_type: "image/jpeg",
            body: d.into_body(),
        })),
        Err(TelegramError::Api { code: 400, .. }) => Ok(None),
        Err(e) => Err(PhotoError::Messenger(e.to_string())),
    }
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
