//! Channels (`protocol/transport-api.md` §3): their settings, and the `/channels` bodies.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{lenient, lenient_time, MgChannelId};

/// What the transport does with one kind of event: `send` = we report it to MG (the customer
/// did it in the messenger), `receive` = MG tells us (an operator did it in the CRM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelFeature {
    None,
    Receive,
    Send,
    Both,
}

/// `settings` of a channel: what MG lets operators do in it (§3.5). Every key is optional;
/// what is left out MG treats as not supported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<MediaSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<MediaSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<CardSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<CardSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactions: Option<ReactionsSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<SuggestionsSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_external_id: Option<CustomerExternalId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_policy: Option<SendingPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateSetting>,
    /// WhatsApp channels only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<WhatsAppSetting>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<ChannelFeature>,
}

/// `text`. `markup_formats` is known to MG's newest client (v0.0.13), not to the OpenAPI
/// document; kept as text so a format newer than this code survives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editing: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoting: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chars_count: Option<u16>,
    /// `bold`, `italic`, `underline`, `strikethrough`, `link`, `inline_monospace`,
    /// `block_monospace`; absent or empty: no markup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markup_formats: Option<Vec<String>>,
}

/// `image` and `file`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editing: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoting: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<ChannelFeature>,
    /// Attachments per message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items_count: Option<u32>,
    /// Caption length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_max_chars_count: Option<u16>,
    /// Bytes per attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_item_size: Option<u64>,
}

/// `audio`: like media, without editing and captions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AudioSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoting: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_item_size: Option<u64>,
}

/// `product` and `order` cards.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editing: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoting: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction: Option<ChannelFeature>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReactionsSetting {
    /// The emoji operators may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dictionary: Option<Vec<String>>,
    /// How many reactions an operator may put on one message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u32>,
}

/// Quick-reply button kinds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SuggestionsSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<ChannelFeature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<ChannelFeature>,
}

/// What a customer's `external_id` is: anything, or a phone number (operators may then start
/// chats by phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerExternalId {
    Any,
    Phone,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SendingPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_customer: Option<NewCustomerPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_reply_timeout: Option<AfterReplyTimeoutPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outgoing: Option<OutgoingPolicy>,
}

/// What operators may send to a customer who has no chat yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NewCustomerPolicy {
    No,
    Template,
    Text,
}

/// What operators may send once `reply_deadline` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AfterReplyTimeoutPolicy {
    No,
    Template,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutgoingPolicy {
    Allowed,
    Restricted,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateSetting {
    /// Operators may create templates in the CRM (the module then gets `template_*` webhooks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WhatsAppSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_quality: Option<WhatsAppQuality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_status: Option<WhatsAppStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhatsAppQuality {
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhatsAppStatus {
    Connected,
    Flagged,
    Offline,
    Pending,
    Restricted,
}

/// `GET /channels` query. Everything optional; `Default` lists this token's channels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListChannelsQuery {
    pub id: Option<MgChannelId>,
    pub active: Option<bool>,
    /// Channel types, e.g. `telegram` (sent as repeated `types=`).
    pub types: Vec<String>,
    /// Bounds on the channels' last update time.
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// 1..=1000; MG's default is 100.
    pub limit: Option<u32>,
}

/// One channel of `GET /channels`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Channel {
    pub id: MgChannelId,
    #[serde(default)]
    pub external_id: Option<String>,
    /// A `ChannelType` (`telegram`, `custom`, …); kept as text so a new type does not break
    /// the listing.
    #[serde(rename = "type")]
    pub r#type: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `None` when missing or when MG sends values this code does not know.
    #[serde(default, deserialize_with = "lenient")]
    pub settings: Option<ChannelSettings>,
    #[serde(default)]
    pub is_active: bool,
    #[serde(default, deserialize_with = "lenient_time")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub activated_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub updated_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub deactivated_at: Option<OffsetDateTime>,
}

/// `POST /channels`: creates a channel, or re-activates the one with `id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivateChannelRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<MgChannelId>,
    /// A `ChannelType`: `telegram`, `custom`, … (§3.1).
    #[serde(rename = "type")]
    pub r#type: String,
    /// Shown to operators, ≤ 100 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Our id of the channel, ≤ 64 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<ChannelSettings>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ActivateChannelResponse {
    pub id: MgChannelId,
    #[serde(default, deserialize_with = "lenient_time")]
    pub activated_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub external_id: Option<String>,
}

/// `PUT /channels/{id}`: the activation fields minus `id`, all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdateChannelRequest {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<ChannelSettings>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UpdateChannelResponse {
    pub id: MgChannelId,
    #[serde(default, deserialize_with = "lenient_time")]
    pub updated_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeactivateChannelResponse {
    pub id: MgChannelId,
    #[serde(default, deserialize_with = "lenient_time")]
    pub deactivated_at: Option<OffsetDateTime>,
}
