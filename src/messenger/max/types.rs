//! The MAX Bot API's types the bridge reads and writes, from its OpenAPI file
//! (`protocol/max-bot-api.schema.yaml`, v0.0.30). Read tolerantly: every field a bridge can do
//! without is optional, an attachment of a kind we do not know (or that does not parse) is
//! [`Attachment::Other`] rather than a refused update, and unknown fields are skipped. What the
//! webhook parsed is what it stores (`Serialize`), so the worker reads back exactly that.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One webhook delivery. The schema's `Update` is a `oneOf` on `update_type`; flat here, since
/// the kinds we carry share their few fields and the rest are skipped.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Update {
    pub update_type: String,
    /// Unix milliseconds.
    #[serde(default)]
    pub timestamp: i64,
    /// `message_created`, `message_edited`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// `message_removed`: the removed message's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// `message_removed`, `bot_started`, `bot_stopped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    /// `bot_started`, `bot_stopped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// `bot_started`: the deep link's payload (≤ 512 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// IETF BCP 47, in dialogs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_locale: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub user_id: i64,
    #[serde(default)]
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default)]
    pub is_bot: bool,
    /// Deprecated in the schema, still sent by some versions: the display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `GET /me`.
#[derive(Debug, Clone, Deserialize)]
pub struct BotInfo {
    pub user_id: i64,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A chat member (`GET /chats/{chatId}/members`): a user with their avatar.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMember {
    pub user_id: i64,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub full_avatar_url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChatMembersList {
    #[serde(default)]
    pub members: Vec<ChatMember>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Message {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<User>,
    #[serde(default)]
    pub recipient: Recipient,
    #[serde(default)]
    pub timestamp: i64,
    /// What the message replies to or forwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkedMessage>,
    #[serde(default)]
    pub body: MessageBody,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Recipient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
    /// `dialog`, `chat` or `channel`; only dialogs are bridged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MessageBody {
    /// The message's id, e.g. `mid.…`: unique across MAX.
    #[serde(default)]
    pub mid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_attachments",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkedMessage {
    /// `reply` or `forward`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<i64>,
    #[serde(default)]
    pub message: MessageBody,
}

/// What a message carries besides text. Keyboards and data attachments are the bot's own and
/// never need carrying to MG.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Attachment {
    Image {
        payload: MediaPayload,
    },
    Video {
        payload: MediaPayload,
    },
    Audio {
        payload: MediaPayload,
    },
    File {
        payload: MediaPayload,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
    },
    Sticker {
        payload: MediaPayload,
    },
    Contact {
        payload: ContactPayload,
    },
    Location {
        latitude: f64,
        longitude: f64,
    },
    Share {
        #[serde(default)]
        payload: MediaPayload,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    #[serde(other)]
    Other,
}

/// The payload of an image, video, audio, file, sticker or share: where to fetch it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MediaPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Stickers: the sticker's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContactPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcf_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_info: Option<User>,
}

/// Each attachment on its own: one that does not parse is `Other`, the rest are kept.
fn lenient_attachments<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Attachment>, D::Error> {
    let values = Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default();
    Ok(values
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap_or(Attachment::Other))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Requests

/// `POST /messages` and `PUT /messages`. `attachments: None` on an edit keeps the message's.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewMessageBody {
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentRequest>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<NewMessageLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    Html,
}

#[derive(Debug, Clone, Serialize)]
pub struct NewMessageLink {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub mid: String,
}

impl NewMessageLink {
    pub fn reply(mid: impl Into<String>) -> Self {
        Self {
            kind: "reply",
            mid: mid.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AttachmentRequest {
    Image { payload: Uploaded },
    Video { payload: Uploaded },
    Audio { payload: Uploaded },
    File { payload: Uploaded },
    InlineKeyboard { payload: Keyboard },
}

/// What an upload gave back: a token to attach, or for images the `photos` map as it came.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Uploaded {
    Token { token: String },
    Photos { photos: Value },
}

#[derive(Debug, Clone, Serialize)]
pub struct Keyboard {
    pub buttons: Vec<Vec<Button>>,
}

/// `message` buttons send their text as the customer's message: quick replies.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Button {
    Message { text: String },
    Link { text: String, url: String },
}

/// `POST /uploads?type=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadType {
    Image,
    Video,
    Audio,
    File,
}

impl UploadType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::File => "file",
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct SubscriptionRequest<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub update_types: &'a [&'a str],
}

#[derive(Debug, Deserialize)]
pub(crate) struct Subscriptions {
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Subscription {
    pub url: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SendMessageResult {
    pub message: Message,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UploadEndpoint {
    pub url: String,
    /// Video and audio: the token to attach, given before the upload.
    #[serde(default)]
    pub token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_odd_attachment_does_not_refuse_the_message() {
        let body: MessageBody = serde_json::from_value(serde_json::json!({
            "mid": "mid.1", "seq": 1, "text": "hi",
            "attachments": [
                {"type": "image", "payload": {"url": "https://i/1", "token": "t", "photo_id": 1}},
                {"type": "location"},
                {"type": "hologram", "payload": {}},
                {"type": "file", "payload": {"url": "https://f"}, "filename": "a.pdf", "size": 3}
            ]
        }))
        .unwrap();
        assert!(matches!(body.attachments[0], Attachment::Image { .. }));
        assert!(matches!(body.attachments[1], Attachment::Other));
        assert!(matches!(body.attachments[2], Attachment::Other));
        assert!(matches!(
            body.attachments[3],
            Attachment::File { size: Some(3), .. }
        ));
    }

    #[test]
    fn what_is_stored_reads_back_the_same() {
        let update: Update = serde_json::from_value(serde_json::json!({
            "update_type": "message_created", "timestamp": 1,
            "message": {"sender": {"user_id": 5, "first_name": "Ann", "extra": {"deep": [1]}},
                        "recipient": {"chat_id": 9, "chat_type": "dialog"},
                        "timestamp": 1, "body": {"mid": "mid.a", "seq": 1, "text": "x\u{0}"}}
        }))
        .unwrap();
        let stored = serde_json::to_string(&update).unwrap();
        let back: Update = serde_json::from_str(&stored).unwrap();
        assert_eq!(back.message.unwrap().body.text.as_deref(), Some("x\u{0}"));
    }

    #[test]
    fn requests_have_the_schemas_shape() {
        let body = NewMessageBody {
            text: Some("<b>hi</b>".into()),
            attachments: Some(vec![
                AttachmentRequest::File {
                    payload: Uploaded::Token {
                        token: "tok".into(),
                    },
                },
                AttachmentRequest::InlineKeyboard {
                    payload: Keyboard {
                        buttons: vec![vec![Button::Message { text: "Yes".into() }]],
                    },
                },
            ]),
            link: Some(NewMessageLink::reply("mid.9")),
            format: Some(TextFormat::Html),
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({
                "text": "<b>hi</b>",
                "attachments": [
                    {"type": "file", "payload": {"token": "tok"}},
                    {"type": "inline_keyboard", "payload": {"buttons": [[{"type": "message", "text": "Yes"}]]}}
                ],
                "link": {"type": "reply", "mid": "mid.9"},
                "format": "html"
            })
        );
    }
}
