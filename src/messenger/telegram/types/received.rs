//! Updates as Telegram delivers them. Each optional field is read through `Lenient`: one odd
//! sub-field (`"photo": null`, a thumbnail without `file_id`) is dropped and logged instead of
//! refusing the whole update, which Telegram would then redeliver for a day. The types also
//! serialize, so the webhook stores what it parsed and the worker reads exactly that
//! (`bridge::inbound::payload`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::serde_as;

use super::kinds::*;
use super::lenient::Lenient;
use super::media::*;
use super::{BusinessConnection, BusinessMessagesDeleted};

/// One webhook delivery. Exactly one kind is set; kinds we do not model land in `other`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Update {
    pub update_id: i64,
    // The kinds themselves are strict: lenient fields are buffered before they are read,
    // which would put the whole message under the JSON parser's depth limit and strict
    // escapes again (the fields inside a message are lenient one by one).
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
    #[serde(default)]
    pub business_connection: Option<BusinessConnection>,
    /// A message in a chat of a business account the bot is connected to (a customer's, or
    /// one the owner wrote).
    #[serde(default)]
    pub business_message: Option<Message>,
    #[serde(default)]
    pub edited_business_message: Option<Message>,
    #[serde(default)]
    pub deleted_business_messages: Option<BusinessMessagesDeleted>,
    /// The bot's own membership changed: in a private chat, the customer blocked (`kicked`) or
    /// unblocked (`member`) it.
    #[serde(default)]
    pub my_chat_member: Option<ChatMemberUpdated>,
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
        } else if self.business_connection.is_some() {
            "business_connection"
        } else if self.business_message.is_some() {
            "business_message"
        } else if self.edited_business_message.is_some() {
            "edited_business_message"
        } else if self.deleted_business_messages.is_some() {
            "deleted_business_messages"
        } else if self.my_chat_member.is_some() {
            "my_chat_member"
        } else {
            self.other.keys().next().map_or("unknown", String::as_str)
        }
    }
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub is_bot: bool,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub first_name: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub last_name: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub username: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub language_code: Option<String>,
    /// Only in `getMe`.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub can_join_groups: Option<bool>,
    /// Only in `getMe`: privacy mode off.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub can_read_all_group_messages: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatType {
    Private,
    Group,
    Supergroup,
    Channel,
    #[serde(other)]
    Unknown,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: ChatType,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub title: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub username: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub first_name: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub last_name: Option<String>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message_id: i64,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub message_thread_id: Option<i64>,
    /// Empty for messages sent on behalf of a chat (channels, anonymous admins).
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub from: Option<User>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub sender_chat: Option<Chat>,
    pub date: i64,
    pub chat: Chat,
    /// Set on messages of a business account's chats.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub business_connection_id: Option<String>,
    /// The bot that sent it on the business account's behalf (our own replies, echoed).
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub sender_business_bot: Option<User>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub edit_date: Option<i64>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub reply_to_message: Option<Box<Message>>,
    /// The part of the replied-to message the user quoted (Bot API 7.0).
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub quote: Option<TextQuote>,
    /// Photos and videos sent together share this id; each arrives as its own update.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub media_group_id: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub text: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub entities: Vec<MessageEntity>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub caption: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub caption_entities: Vec<MessageEntity>,
    /// Sizes of one photo, smallest first.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub photo: Vec<PhotoSize>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub document: Option<Document>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub voice: Option<Voice>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub audio: Option<Audio>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub video: Option<Video>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub animation: Option<Animation>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub sticker: Option<Sticker>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub video_note: Option<VideoNote>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub contact: Option<Contact>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub location: Option<Location>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub venue: Option<Venue>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub poll: Option<Poll>,
    /// Set on a forwarded message: who or what it came from.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub forward_origin: Option<MessageOrigin>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub dice: Option<Dice>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub story: Option<Story>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub checklist: Option<Checklist>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub paid_media: Option<PaidMediaInfo>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub giveaway: Option<Giveaway>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub giveaway_winners: Option<GiveawayWinners>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub web_app_data: Option<WebAppData>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub game: Option<Game>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub invoice: Option<Payment>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub successful_payment: Option<Payment>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub refunded_payment: Option<Payment>,
    /// Service messages of a private chat we only name (`Message::service_kind`).
    #[serde(default)]
    pub pinned_message: Option<Present>,
    #[serde(default)]
    pub message_auto_delete_timer_changed: Option<Present>,
    #[serde(default)]
    pub users_shared: Option<Present>,
    #[serde(default)]
    pub chat_shared: Option<Present>,
    #[serde(default)]
    pub write_access_allowed: Option<Present>,
    #[serde(default)]
    pub connected_website: Option<Present>,
    #[serde(default)]
    pub passport_data: Option<Present>,
    #[serde(default)]
    pub gift: Option<Present>,
    #[serde(default)]
    pub unique_gift: Option<Present>,
    #[serde(default)]
    pub checklist_tasks_done: Option<Present>,
    #[serde(default)]
    pub checklist_tasks_added: Option<Present>,
    #[serde(default)]
    pub chat_background_set: Option<Present>,
    #[serde(default)]
    pub paid_message_price_changed: Option<Present>,
    #[serde(default)]
    pub direct_message_price_changed: Option<Present>,
    #[serde(default)]
    pub suggested_post_info: Option<Present>,
}

impl Message {
    /// The biggest size of a photo message (Telegram lists them smallest first).
    pub fn largest_photo(&self) -> Option<&PhotoSize> {
        self.photo
            .iter()
            .max_by_key(|p| (u64::from(p.width) * u64::from(p.height), p.file_size))
    }

    /// The Bot API name of a service message we only name in a note, if this is one.
    pub fn service_kind(&self) -> Option<&'static str> {
        [
            (self.pinned_message, "pinned_message"),
            (
                self.message_auto_delete_timer_changed,
                "message_auto_delete_timer_changed",
            ),
            (self.users_shared, "users_shared"),
            (self.chat_shared, "chat_shared"),
            (self.write_access_allowed, "write_access_allowed"),
            (self.connected_website, "connected_website"),
            (self.passport_data, "passport_data"),
            (self.gift, "gift"),
            (self.unique_gift, "unique_gift"),
            (self.checklist_tasks_done, "checklist_tasks_done"),
            (self.checklist_tasks_added, "checklist_tasks_added"),
            (self.chat_background_set, "chat_background_set"),
            (
                self.paid_message_price_changed,
                "paid_message_price_changed",
            ),
            (
                self.direct_message_price_changed,
                "direct_message_price_changed",
            ),
            (self.suggested_post_info, "suggested_post_info"),
        ]
        .into_iter()
        .find_map(|(field, name)| field.map(|_| name))
    }
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextQuote {
    pub text: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub position: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub is_manual: bool,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEntity {
    /// `bold`, `italic`, `text_link`, `mention`, … (kept as text: new kinds keep coming).
    #[serde(rename = "type")]
    pub kind: String,
    /// In UTF-16 code units, as Telegram counts.
    pub offset: u32,
    pub length: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub url: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub user: Option<User>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub language: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub custom_emoji_id: Option<String>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub phone_number: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub first_name: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub last_name: Option<String>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub user_id: Option<i64>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub vcard: Option<String>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub horizontal_accuracy: Option<f64>,
    /// Set for live locations (seconds they stay live).
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub live_period: Option<u32>,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Venue {
    pub location: Location,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub title: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub address: String,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    pub id: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub question: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub options: Vec<PollOption>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub total_voter_count: u32,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub is_closed: bool,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub is_anonymous: bool,
    /// `regular` or `quiz`.
    #[serde(rename = "type", default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub kind: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub allows_multiple_answers: bool,
}

#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollOption {
    pub text: String,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub voter_count: u32,
}

/// Someone changed their reactions to a message (delivered only when `message_reaction` is in
/// `allowed_updates`, and in groups only to admin bots).
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageReactionUpdated {
    pub chat: Chat,
    pub message_id: i64,
    /// Empty when the reaction is anonymous (then `actor_chat` is set).
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub user: Option<User>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub actor_chat: Option<Chat>,
    pub date: i64,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub old_reaction: Vec<ReactionType>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
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

/// A member's status in a chat changed; as `my_chat_member`, the member is the bot itself.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMemberUpdated {
    pub chat: Chat,
    /// Who made the change (in a private chat, the customer).
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub from: Option<User>,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub date: i64,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub old_chat_member: Option<ChatMember>,
    pub new_chat_member: ChatMember,
}

/// One of Telegram's `ChatMember*` objects, of which the bridge reads the status only.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMember {
    pub status: ChatMemberStatus,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub user: Option<User>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatMemberStatus {
    Creator,
    Administrator,
    Member,
    Restricted,
    Left,
    /// Banned; for a bot in a private chat: the user blocked it.
    Kicked,
    #[serde(other)]
    Unknown,
}
