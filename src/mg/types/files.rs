//! Files (`protocol/transport-api.md` §4.4).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{lenient, lenient_time, MgFileId};

/// `POST /files/upload_by_url`: MG downloads the file itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UploadFileByUrlRequest {
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    None,
    Image,
    Video,
    File,
    Audio,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FileMeta {
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
}

/// What MG knows of a file: the answer of the three file calls.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FileInfo {
    pub id: MgFileId,
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub r#type: Option<FileType>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    /// Download URL (public or pre-signed: fetched without the token).
    #[serde(default)]
    pub url: Option<String>,
    /// The deprecated spelling of `url`; read by `download_url`.
    #[serde(rename = "Url", default)]
    pub legacy_url: Option<String>,
    #[serde(default)]
    pub hash: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub meta: Option<FileMeta>,
    #[serde(default)]
    pub source_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<OffsetDateTime>,
}

impl FileInfo {
    pub fn download_url(&self) -> Option<&str> {
        self.url
            .as_deref()
            .or(self.legacy_url.as_deref())
            .filter(|u| !u.is_empty())
    }
}
