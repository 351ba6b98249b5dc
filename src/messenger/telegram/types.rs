//! Bot API objects we receive (updates and what methods return) and send (method parameters),
//! limited to what a chat bridge uses. Received types are lenient: every field Telegram may
//! leave out is optional or defaulted, unknown fields are ignored, and unknown kinds of update,
//! chat or reaction deserialize instead of failing the whole update (Telegram adds new ones in
//! every Bot API release). Ids are i64: user and chat ids exceed 32 bits.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Received
// ---------------------------------------------------------------------------------------------

/// One webhook delivery. Exactly one kind is set; kinds we do not model land in `other`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub edited_message: Option<Message>,
    #[serde(default)]
    pub channel_post: Option<Message>,
    #[serde(default)]
    pub edited_channel_post: Option<Message>,
    #[serde(default)]
    pub message_reaction: Option<MessageReactionUpdated>,
    /// Any other kind (`callback_query`, `business_message`, … or ones newer than this code),
    /// kept raw so it can be logged by name and ignored.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Update {
    /// The kind's field name, e.g. `"message"`; for logs and metrics.
    pub fn kind(&self) -> &str {
        if self.message.is_some() {
            "message"
        } else if self.edited_message.is_some() {
            "edited_message"
        } else if self.channel_post.is_some() {
            "channel_post"
        } else if self.edited_channel_post.is_some() {
            "edited_channel_post"
        } else if self.message_reaction.is_some() {
            "message_reaction"
        } else {
            self.other.keys().next().map_or("unknown", String::as_str)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
    /// Only in `getMe`.
    #[serde(default)]
    pub can_join_groups: Option<bool>,
    /// Only in `getMe`: privacy mode off.
    #[serde(default)]
    pub can_read_all_group_messages: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatType {
    Private,
    Group,
    Supergroup,
    Channel,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Chat {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: ChatType,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message {
    pub message_id: i64,
    #[serde(default)]
    pub message_thread_id: Option<i64>,
    /// Empty for messages sent on behalf of a chat (channels, anonymous admins).
    #[serde(default)]
    pub from: Option<User>,
    #[serde(default)]
    pub sender_chat: Option<Chat>,
    pub date: i64,
    pub chat: Chat,
    #[serde(default)]
    pub edit_date: Option<i64>,
    #[serde(default)]
    pub reply_to_message: Option<Box<Message>>,
    /// The part of the replied-to message the user quoted (Bot API 7.0).
    #[serde(default)]
    pub quote: Option<TextQuote>,
    /// Photos and videos sent together share this id; each arrives as its own update.
    #[serde(default)]
    pub media_group_id: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub entities: Vec<MessageEntity>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub caption_entities: Vec<MessageEntity>,
    /// Sizes of one photo, smallest first.
    #[serde(default)]
    pub photo: Vec<PhotoSize>,
    #[serde(default)]
    pub document: Option<Document>,
    #[serde(default)]
    pub voice: Option<Voice>,
    #[serde(default)]
    pub audio: Option<Audio>,
    #[serde(default)]
    pub video: Option<Video>,
    #[serde(default)]
    pub animation: Option<Animation>,
    #[serde(default)]
    pub sticker: Option<Sticker>,
    #[serde(default)]
    pub video_note: Option<VideoNote>,
    #[serde(default)]
    pub contact: Option<Contact>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub venue: Option<Venue>,
    #[serde(default)]
    pub poll: Option<Poll>,
}

impl Message {
    /// The biggest size of a photo message (Telegram lists them smallest first).
    pub fn largest_photo(&self) -> Option<&PhotoSize> {
        self.photo
            .iter()
            .max_by_key(|p| (u64::from(p.width) * u64::from(p.height), p.file_size))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TextQuote {
    pub text: String,
    #[serde(default)]
    pub position: u32,
    #[serde(default)]
    pub is_manual: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageEntity {
    /// `bold`, `italic`, `text_link`, `mention`, … (kept as text: new kinds keep coming).
    #[serde(rename = "type")]
    pub kind: String,
    /// In UTF-16 code units, as Telegram counts.
    pub offset: u32,
    pub length: u32,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub custom_emoji_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Document {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    pub thumbnail: Option<PhotoSize>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Voice {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    pub duration: u32,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Audio {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    pub duration: u32,
    #[serde(default)]
    pub performer: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub thumbnail: Option<PhotoSize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Video {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub duration: u32,
    #[serde(default)]
    pub thumbnail: Option<PhotoSize>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A GIF or soundless H.264 video. Telegram also sets `document` on such messages.
pub type Animation = Video;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Sticker {
    pub file_id: String,
    pub file_unique_id: String,
    /// `regular`, `mask` or `custom_emoji`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    /// A `.tgs` (Lottie) file rather than an image.
    #[serde(default)]
    pub is_animated: bool,
    /// A `.webm` video rather than an image.
    #[serde(default)]
    pub is_video: bool,
    #[serde(default)]
    pub thumbnail: Option<PhotoSize>,
    #[serde(default)]
    pub emoji: Option<String>,
    #[serde(default)]
    pub set_name: Option<String>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VideoNote {
    pub file_id: String,
    pub file_unique_id: String,
    #[serde(default)]
    pub length: u32,
    #[serde(default)]
    pub duration: u32,
    #[serde(default)]
    pub thumbnail: Option<PhotoSize>,
    #[serde(default)]
    pub file_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Contact {
    pub phone_number: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub user_id: Option<i64>,
    #[serde(default)]
    pub vcard: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub horizontal_accuracy: Option<f64>,
    /// Set for live locations (seconds they stay live).
    #[serde(default)]
    pub live_period: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Venue {
    pub location: Location,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Poll {
    pub id: String,
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub options: Vec<PollOption>,
    #[serde(default)]
    pub total_voter_count: u32,
    #[serde(default)]
    pub is_closed: bool,
    #[serde(default)]
    pub is_anonymous: bool,
    /// `regular` or `quiz`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub allows_multiple_answers: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PollOption {
    pub text: String,
    #[serde(default)]
    pub voter_count: u32,
}

/// Someone changed their reactions to a message (delivered only when `message_reaction` is in
/// `allowed_updates`, and in groups only to admin bots).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageReactionUpdated {
    pub chat: Chat,
    pub message_id: i64,
    /// Empty when the reaction is anonymous (then `actor_chat` is set).
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub actor_chat: Option<Chat>,
    pub date: i64,
    #[serde(default)]
    pub old_reaction: Vec<ReactionType>,
    #[serde(default)]
    pub new_reaction: Vec<ReactionType>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReactionType {
    Emoji {
        emoji: String,
    },
    CustomEmoji {
        custom_emoji_id: String,
    },
    /// The paid star reaction.
    Paid,
    /// A kind newer than this code; received only, never sent.
    #[serde(other)]
    #[serde(skip_serializing)]
    Unknown,
}

impl ReactionType {
    pub fn emoji(emoji: impl Into<String>) -> Self {
        Self::Emoji {
            emoji: emoji.into(),
        }
    }
}

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

// ---------------------------------------------------------------------------------------------
// Sent
// ---------------------------------------------------------------------------------------------

/// The update kinds the bridge needs. `message_reaction` must be listed explicitly or Telegram
/// never sends it.
pub const BRIDGE_UPDATES: [&str; 3] = ["message", "edited_message", "message_reaction"];

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update(value: Value) -> Update {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn telegram_text_message_update() {
        let u = update(json!({
            "update_id": 912345678,
            "message": {
                "message_id": 42,
                "from": {"id": 111222333, "is_bot": false, "first_name": "Анна", "last_name": "K",
                         "username": "anna_k", "language_code": "ru"},
                "chat": {"id": 111222333, "first_name": "Анна", "last_name": "K",
                         "username": "anna_k", "type": "private"},
                "date": 1735689600,
                "text": "Hello, is the blue one in stock? /start",
                "entities": [{"offset": 34, "length": 6, "type": "bot_command"}],
                "link_preview_options": {"is_disabled": true}
            }
        }));
        assert_eq!(u.kind(), "message");
        let m = u.message.unwrap();
        assert_eq!(m.message_id, 42);
        assert_eq!(
            m.text.as_deref(),
            Some("Hello, is the blue one in stock? /start")
        );
        assert_eq!(m.chat.kind, ChatType::Private);
        let from = m.from.unwrap();
        assert_eq!(from.first_name, "Анна");
        assert_eq!(from.username.as_deref(), Some("anna_k"));
        assert_eq!(from.language_code.as_deref(), Some("ru"));
        assert_eq!(m.entities[0].kind, "bot_command");
        assert!(u.other.is_empty());
    }

    #[test]
    fn telegram_photo_with_caption_update() {
        let u = update(json!({
            "update_id": 2,
            "message": {
                "message_id": 43, "date": 1735689601,
                "from": {"id": 5, "is_bot": false, "first_name": "Bo"},
                "chat": {"id": 5, "first_name": "Bo", "type": "private"},
                "media_group_id": "13612345678901234",
                "photo": [
                    {"file_id": "AgACAgIAAxkBAAIBsmall", "file_unique_id": "AQADs", "file_size": 1234, "width": 90, "height": 67},
                    {"file_id": "AgACAgIAAxkBAAIBlarge", "file_unique_id": "AQADl", "file_size": 98765, "width": 1280, "height": 960},
                    {"file_id": "AgACAgIAAxkBAAIBmid", "file_unique_id": "AQADm", "file_size": 23456, "width": 320, "height": 240}
                ],
                "caption": "this one, size M",
                "caption_entities": [{"offset": 10, "length": 6, "type": "bold"}]
            }
        }));
        let m = u.message.unwrap();
        assert_eq!(m.caption.as_deref(), Some("this one, size M"));
        assert_eq!(m.photo.len(), 3);
        assert_eq!(m.largest_photo().unwrap().file_id, "AgACAgIAAxkBAAIBlarge");
        assert_eq!(m.media_group_id.as_deref(), Some("13612345678901234"));
        assert!(m.text.is_none());
    }

    #[test]
    fn telegram_reply_update_with_quote() {
        let u = update(json!({
            "update_id": 3,
            "message": {
                "message_id": 50, "date": 1735689700,
                "from": {"id": 5, "is_bot": false, "first_name": "Bo"},
                "chat": {"id": 5, "first_name": "Bo", "type": "private"},
                "text": "yes please",
                "quote": {"text": "size M", "position": 10, "is_manual": true},
                "reply_to_message": {
                    "message_id": 49, "date": 1735689650,
                    "from": {"id": 7012345678_i64, "is_bot": true, "first_name": "Shop", "username": "shop_bot"},
                    "chat": {"id": 5, "first_name": "Bo", "type": "private"},
                    "text": "We have it in size M",
                    "reply_to_message": {
                        "message_id": 48, "date": 1735689600,
                        "chat": {"id": 5, "first_name": "Bo", "type": "private"},
                        "document": {"file_id": "BQACAgIAAx", "file_unique_id": "AgADd",
                                     "file_name": "price list.pdf", "mime_type": "application/pdf", "file_size": 204800}
                    }
                }
            }
        }));
        let m = u.message.unwrap();
        let replied = m.reply_to_message.as_deref().unwrap();
        assert_eq!(replied.message_id, 49);
        assert!(replied.from.as_ref().unwrap().is_bot);
        let doc = replied
            .reply_to_message
            .as_deref()
            .unwrap()
            .document
            .as_ref()
            .unwrap();
        assert_eq!(doc.file_name.as_deref(), Some("price list.pdf"));
        assert_eq!(doc.file_size, Some(204_800));
        assert_eq!(m.quote.unwrap().text, "size M");
    }

    #[test]
    fn telegram_edited_message_update() {
        let u = update(json!({
            "update_id": 4,
            "edited_message": {
                "message_id": 42, "date": 1735689600, "edit_date": 1735689660,
                "from": {"id": 5, "is_bot": false, "first_name": "Bo"},
                "chat": {"id": 5, "first_name": "Bo", "type": "private"},
                "text": "Hello, is the red one in stock?"
            }
        }));
        assert_eq!(u.kind(), "edited_message");
        assert!(u.message.is_none());
        let m = u.edited_message.unwrap();
        assert_eq!(m.edit_date, Some(1735689660));
        assert_eq!(m.text.as_deref(), Some("Hello, is the red one in stock?"));
    }

    #[test]
    fn telegram_reaction_update_tolerates_unknown_reaction_kinds() {
        let u = update(json!({
            "update_id": 5,
            "message_reaction": {
                "chat": {"id": 5, "first_name": "Bo", "type": "private"},
                "message_id": 49,
                "user": {"id": 5, "is_bot": false, "first_name": "Bo"},
                "date": 1735689800,
                "old_reaction": [{"type": "emoji", "emoji": "👍"}],
                "new_reaction": [
                    {"type": "emoji", "emoji": "❤"},
                    {"type": "custom_emoji", "custom_emoji_id": "5368324170671202286"},
                    {"type": "paid"},
                    {"type": "something_from_bot_api_12", "whatever": 1}
                ]
            }
        }));
        assert_eq!(u.kind(), "message_reaction");
        let r = u.message_reaction.unwrap();
        assert_eq!(r.message_id, 49);
        assert_eq!(r.old_reaction, vec![ReactionType::emoji("👍")]);
        assert_eq!(
            r.new_reaction,
            vec![
                ReactionType::emoji("❤"),
                ReactionType::CustomEmoji {
                    custom_emoji_id: "5368324170671202286".into()
                },
                ReactionType::Paid,
                ReactionType::Unknown,
            ]
        );
        assert_eq!(
            serde_json::to_value(ReactionType::emoji("👍")).unwrap(),
            json!({"type": "emoji", "emoji": "👍"})
        );
    }

    #[test]
    fn telegram_unknown_update_kind_is_kept_not_refused() {
        let u = update(json!({
            "update_id": 6,
            "business_connection": {"id": "abc", "user": {"id": 5, "is_bot": false, "first_name": "Bo"},
                                     "user_chat_id": 5, "date": 1, "can_reply": true, "is_enabled": true}
        }));
        assert_eq!(u.kind(), "business_connection");
        assert!(u.message.is_none() && u.edited_message.is_none() && u.message_reaction.is_none());
        assert_eq!(u.other["business_connection"]["id"], "abc");

        // Unknown chat types and content kinds inside a known update are tolerated too.
        let u = update(json!({
            "update_id": 7,
            "message": {"message_id": 1, "date": 1, "chat": {"id": 9, "type": "forum_v2"},
                        "dice": {"emoji": "🎲", "value": 4}}
        }));
        let m = u.message.unwrap();
        assert_eq!(m.chat.kind, ChatType::Unknown);
        assert!(m.text.is_none() && m.photo.is_empty());
    }

    #[test]
    fn telegram_ids_beyond_32_bits_survive() {
        let u = update(json!({
            "update_id": 8,
            "message": {
                "message_id": 3, "date": 1735689600,
                "from": {"id": 7012345678_i64, "is_bot": false, "first_name": "Big"},
                "chat": {"id": -1001234567890_i64, "title": "Shop support", "type": "supergroup"},
                "text": "hi"
            }
        }));
        let m = u.message.unwrap();
        assert_eq!(m.chat.id, -1_001_234_567_890);
        assert!(m.chat.id.unsigned_abs() > u64::from(u32::MAX));
        assert_eq!(m.from.unwrap().id, 7_012_345_678);
        assert_eq!(m.chat.kind, ChatType::Supergroup);
    }

    #[test]
    fn telegram_media_kinds_deserialize() {
        let m: Message = serde_json::from_value(json!({
            "message_id": 9, "date": 1, "chat": {"id": 5, "type": "private"},
            "voice": {"file_id": "v", "file_unique_id": "vu", "duration": 3, "mime_type": "audio/ogg", "file_size": 5000},
            "audio": {"file_id": "a", "file_unique_id": "au", "duration": 200, "performer": "P", "title": "T"},
            "video": {"file_id": "vi", "file_unique_id": "viu", "width": 640, "height": 360, "duration": 5},
            "animation": {"file_id": "an", "file_unique_id": "anu", "width": 1, "height": 1, "duration": 1},
            "sticker": {"file_id": "s", "file_unique_id": "su", "type": "regular", "width": 512, "height": 512,
                        "is_animated": false, "is_video": true, "emoji": "😀"},
            "video_note": {"file_id": "n", "file_unique_id": "nu", "length": 240, "duration": 7},
            "contact": {"phone_number": "+4915112345678", "first_name": "Eve", "user_id": 7012345678_i64},
            "location": {"latitude": 52.52, "longitude": 13.405},
            "venue": {"location": {"latitude": 52.52, "longitude": 13.405}, "title": "Shop", "address": "Main St 1"},
            "poll": {"id": "p", "question": "Colour?", "options": [{"text": "red", "voter_count": 1}],
                     "total_voter_count": 1, "is_closed": false, "is_anonymous": true, "type": "regular",
                     "allows_multiple_answers": false}
        }))
        .unwrap();
        assert_eq!(m.voice.unwrap().duration, 3);
        assert_eq!(m.audio.unwrap().title.as_deref(), Some("T"));
        assert_eq!(m.video.unwrap().width, 640);
        assert_eq!(m.animation.unwrap().file_id, "an");
        assert!(m.sticker.unwrap().is_video);
        assert_eq!(m.video_note.unwrap().length, 240);
        assert_eq!(m.contact.unwrap().user_id, Some(7_012_345_678));
        assert_eq!(m.location.unwrap().latitude, 52.52);
        assert_eq!(m.venue.unwrap().title, "Shop");
        assert_eq!(m.poll.unwrap().options[0].text, "red");
    }

    #[test]
    fn telegram_send_message_serializes_only_what_is_set() {
        let request = SendMessage {
            parse_mode: Some(ParseMode::Html),
            reply_parameters: Some(ReplyParameters::to(49)),
            reply_markup: Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup {
                inline_keyboard: vec![vec![InlineKeyboardButton {
                    text: "Track order".into(),
                    url: Some("https://shop.example/track/1".into()),
                    callback_data: None,
                }]],
            })),
            ..SendMessage::new(-1001234567890, "<b>Shipped</b>")
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({
                "chat_id": -1001234567890_i64,
                "text": "<b>Shipped</b>",
                "parse_mode": "HTML",
                "reply_parameters": {"message_id": 49, "allow_sending_without_reply": true},
                "reply_markup": {"inline_keyboard": [[{"text": "Track order", "url": "https://shop.example/track/1"}]]}
            })
        );
        let keyboard = ReplyMarkup::Keyboard(ReplyKeyboardMarkup {
            keyboard: vec![vec![
                KeyboardButton::text("Yes"),
                KeyboardButton::text("No"),
            ]],
            resize_keyboard: Some(true),
            one_time_keyboard: Some(true),
            is_persistent: None,
            input_field_placeholder: None,
        });
        assert_eq!(
            serde_json::to_value(keyboard).unwrap(),
            json!({"keyboard": [[{"text": "Yes"}, {"text": "No"}]], "resize_keyboard": true, "one_time_keyboard": true})
        );
    }
}
