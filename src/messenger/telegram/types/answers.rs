//! What Bot API methods answer with (besides `Message`).

use serde::Deserialize;

use super::PhotoSize;

/// `getFile`: where to download a file from (`file_path`, valid for at least an hour).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct File {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    pub file_size: Option<u64>,
    /// Missing when the file is too big to download (over 20 MB on the hosted Bot API).
    #[serde(default)]
    pub file_path: Option<String>,
}

/// `getUserProfilePhotos`: each photo is its sizes, smallest first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserProfilePhotos {
    #[serde(default)]
    pub total_count: u32,
    #[serde(default)]
    pub photos: Vec<Vec<PhotoSize>>,
}

/// `getWebhookInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookInfo {
    /// Empty when no webhook is set.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub has_custom_certificate: bool,
    #[serde(default)]
    pub pending_update_count: u32,
    #[serde(default)]
    pub ip_address: Option<String>,
    /// Unix time of the last failed delivery to our webhook.
    #[serde(default)]
    pub last_error_date: Option<i64>,
    #[serde(default)]
    pub last_error_message: Option<String>,
    #[serde(default)]
    pub max_connections: Option<u32>,
    #[serde(default)]
    pub allowed_updates: Option<Vec<String>>,
}
