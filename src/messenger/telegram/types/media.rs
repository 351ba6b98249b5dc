//! The files a message can carry, as Telegram describes them (read leniently, like the rest
//! of an update).

use serde::{Deserialize, Serialize};
use serde_with::serde_as;

use super::lenient::Lenient;

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub width: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub height: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_size: Option<u64>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub thumbnail: Option<PhotoSize>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_name: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub mime_type: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_size: Option<u64>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voice {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub duration: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub mime_type: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_size: Option<u64>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audio {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub duration: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub performer: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub title: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_name: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub mime_type: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_size: Option<u64>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub thumbnail: Option<PhotoSize>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Video {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub width: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub height: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub duration: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub thumbnail: Option<PhotoSize>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_name: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub mime_type: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_size: Option<u64>,
}

/// A GIF or soundless H.264 video. Telegram also sets `document` on such messages.
pub type Animation = Video;

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sticker {
    pub file_id: String,
    pub file_unique_id: String,
    /// `regular`, `mask` or `custom_emoji`.
    #[serde(rename = "type", default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub kind: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub width: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub height: u32,
    /// A `.tgs` (Lottie) file rather than an image.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub is_animated: bool,
    /// A `.webm` video rather than an image.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub is_video: bool,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub thumbnail: Option<PhotoSize>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub emoji: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub set_name: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_size: Option<u64>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoNote {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub length: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub duration: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub thumbnail: Option<PhotoSize>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub file_size: Option<u64>,
}
