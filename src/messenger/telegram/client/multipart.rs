//! Multipart bodies for uploads (`sendPhoto` & co., albums): the parameters as form fields
//! and each file as a part with a name Telegram reads whole.

use reqwest::multipart::{Form, Part};
use serde_json::{Map, Value};

use crate::messenger::telegram::types::UploadFile;

/// Multipart fields as the Bot API reads them: strings as they are, anything else as JSON.
pub(super) fn form_of(params: Map<String, Value>) -> Form {
    params
        .into_iter()
        .fold(Form::new(), |form, (name, value)| match value {
            Value::Null => form,
            Value::String(text) => form.text(name, text),
            other => form.text(name, other.to_string()),
        })
}

pub(super) fn file_part(file: &UploadFile) -> Part {
    let name = safe_file_name(&file.file_name);
    let make = || {
        Part::stream_with_length(
            reqwest::Body::from(file.bytes.clone()),
            file.bytes.len() as u64,
        )
        .file_name(name.clone())
    };
    match &file.mime_type {
        // An unparsable MIME type is dropped rather than failing the send: Telegram sniffs.
        Some(mime) => make().mime_str(mime).unwrap_or_else(|_| make()),
        None => make(),
    }
}

/// Telegram reads the multipart `filename` as raw UTF-8 and cuts it at `;`; reqwest passes
/// CR and LF through. Keep the name readable and the header whole.
const MAX_FILE_NAME: usize = 255;

pub(super) fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\\' | ';' | '/') {
                '_'
            } else {
                c
            }
        })
        .collect();
    // Capped: a name longer than any file system allows only makes the header huge.
    let cleaned: String = cleaned.trim().chars().take(MAX_FILE_NAME).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}
