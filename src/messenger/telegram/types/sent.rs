//! Parameters of the Bot API methods the bridge calls.

use bytes::Bytes;
use serde::Serialize;

use super::ReactionType;

// ---------------------------------------------------------------------------------------------
// Sent
// ---------------------------------------------------------------------------------------------

/// The update kinds the bridge needs. `message_reaction` must be listed explicitly or Telegram
/// never sends it; `my_chat_member` tells us a customer blocked or unblocked the bot.
pub const BRIDGE_UPDATES: [&str; 8] = [
    "message",
    "edited_message",
    "message_reaction",
    "my_chat_member",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
];

/// `setWebhook`.
#[derive(Debug, Clone, Serialize)]
pub struct SetWebhook {
    /// https, on port 443, 80, 88 or 8443.
    pub url: url::Url,
    /// Sent back in `X-Telegram-Bot-Api-Secret-Token` with every update: 1–256 characters of
    /// `A-Z a-z 0-9 _ -`. Always set: it is what tells Telegram's calls from forged ones.
    #[serde(serialize_with = "expose_secret")]
    pub secret_token: secrecy::SecretString,
    /// Empty means "what you sent last time" to Telegram, so name the kinds every time.
    pub allowed_updates: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drop_pending_updates: Option<bool>,
}

fn expose_secret<S: serde::Serializer>(
    secret: &secrecy::SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    serializer.serialize_str(secret.expose_secret())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ParseMode {
    #[serde(rename = "HTML")]
    Html,
    MarkdownV2,
    /// Legacy; kept for completeness, prefer `Html`.
    Markdown,
}

/// Replies 2.0 (Bot API 7.0): which message this one answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyParameters {
    pub message_id: i64,
    /// Only to reply to a message in another chat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
    /// Send anyway when the replied-to message is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_sending_without_reply: Option<bool>,
    /// An exact piece of the replied-to message to quote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

impl ReplyParameters {
    /// A reply that is still delivered, as a plain message, when the original was deleted: a
    /// bridged message must not be lost because the customer deleted theirs.
    pub fn to(message_id: i64) -> Self {
        Self {
            message_id,
            chat_id: None,
            allow_sending_without_reply: Some(true),
            quote: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ReplyMarkup {
    InlineKeyboard(InlineKeyboardMarkup),
    Keyboard(ReplyKeyboardMarkup),
    Remove(ReplyKeyboardRemove),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InlineKeyboardMarkup {
    pub inline_keyboard: Vec<Vec<InlineKeyboardButton>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InlineKeyboardButton {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// 1–64 bytes, returned in a `callback_query` update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyKeyboardMarkup {
    pub keyboard: Vec<Vec<KeyboardButton>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resize_keyboard: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_keyboard: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_persistent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_field_placeholder: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyboardButton {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_contact: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_location: Option<bool>,
}

impl KeyboardButton {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            request_contact: None,
            request_location: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyKeyboardRemove {
    /// Always true: the field exists to say "remove".
    pub remove_keyboard: bool,
}

/// `sendMessage`.
#[derive(Debug, Clone, Serialize)]
pub struct SendMessage {
    pub chat_id: i64,
    /// 1–4096 characters after entity parsing.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<ReplyMarkup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_notification: Option<bool>,
}

impl SendMessage {
    pub fn new(chat_id: i64, text: impl Into<String>) -> Self {
        Self {
            chat_id,
            text: text.into(),
            parse_mode: None,
            reply_parameters: None,
            reply_markup: None,
            disable_notification: None,
        }
    }
}

/// A file to send: one Telegram can fetch by URL, one it already has, or bytes we upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFile {
    /// Telegram downloads it: at most 5 MB for photos and 20 MB for others; `sendDocument`
    /// by URL only for GIF, PDF and ZIP; `sendVoice` only OGG/Opus up to 1 MB.
    Url(String),
    /// A `file_id` this same bot received or sent before.
    FileId(String),
    /// Uploaded as multipart: at most 10 MB for photos and 50 MB for others.
    Upload(UploadFile),
}

#[derive(Clone, PartialEq, Eq)]
pub struct UploadFile {
    pub file_name: String,
    pub mime_type: Option<String>,
    pub bytes: Bytes,
}

impl UploadFile {
    pub fn new(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            file_name: file_name.into(),
            mime_type: None,
            bytes: bytes.into(),
        }
    }
}

impl std::fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadFile")
            .field("file_name", &self.file_name)
            .field("mime_type", &self.mime_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// `sendPhoto`, `sendDocument`, `sendAudio`, `sendVoice`, `sendVideo`, `sendAnimation`: the
/// parameters a bridge uses are the same for all of them.
#[derive(Debug, Clone, Serialize)]
pub struct SendMedia {
    pub chat_id: i64,
    /// Sent under the method's own field name (`photo`, `document`, …).
    #[serde(skip)]
    pub file: InputFile,
    /// 0–1024 characters after entity parsing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyParameters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<ReplyMarkup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_notification: Option<bool>,
}

impl SendMedia {
    pub fn new(chat_id: i64, file: InputFile) -> Self {
        Self {
            chat_id,
            file,
            caption: None,
            parse_mode: None,
            reply_parameters: None,
            reply_markup: None,
            disable_notification: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Photo,
    Video,
    Document,
    Audio,
}

/// One item of an album.
#[derive(Debug, Clone)]
pub struct InputMedia {
    pub kind: MediaKind,
    pub media: InputFile,
    pub caption: Option<String>,
    pub parse_mode: Option<ParseMode>,
}

impl InputMedia {
    pub fn new(kind: MediaKind, media: InputFile) -> Self {
        Self {
            kind,
            media,
            caption: None,
            parse_mode: None,
        }
    }
}

/// `sendMediaGroup`: 2–10 items; documents and audio only group with their own kind.
#[derive(Debug, Clone)]
pub struct SendMediaGroup {
    pub chat_id: i64,
    pub media: Vec<InputMedia>,
    pub reply_parameters: Option<ReplyParameters>,
    pub disable_notification: Option<bool>,
}

/// `editMessageText` of a message in a chat.
#[derive(Debug, Clone, Serialize)]
pub struct EditMessageText {
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// Only inline keyboards can be edited in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
}

/// `editMessageCaption`: `caption: None` removes the caption.
#[derive(Debug, Clone, Serialize)]
pub struct EditMessageCaption {
    pub chat_id: i64,
    pub message_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
}

/// `setMessageReaction`: an empty list removes the bot's reaction; bots may set one.
#[derive(Debug, Clone, Serialize)]
pub struct SetMessageReaction {
    pub chat_id: i64,
    pub message_id: i64,
    pub reaction: Vec<ReactionType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_big: Option<bool>,
}
