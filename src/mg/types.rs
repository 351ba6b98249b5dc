//! Request and answer bodies of the Transport API (`protocol/transport-api.md` §2–4, checked
//! against `protocol/mg-transport-api.openapi.json` by `tests/api/mg_client.rs`).
//!
//! Requests are strict: field names exactly as MG spells them (`channel` here, `channel_id`
//! there), optional fields left out rather than sent as `null`. Answers are tolerant: MG's two
//! clients disagree on several shapes, so unknown fields are ignored, timestamps that do not
//! parse become `None`, and lists may be missing.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// MG's id of a channel (one Telegram bot is one channel).
    MgChannelId(i64)
);
id_type!(
    /// MG's id of a message.
    MgMessageId(i64)
);
id_type!(
    /// MG's id of a template.
    MgTemplateId(i64)
);
id_type!(
    /// MG's id (a UUID) of an uploaded file, used in `message.items[].id`.
    MgFileId(String)
);

impl Copy for MgChannelId {}
impl Copy for MgMessageId {}
impl Copy for MgTemplateId {}

// ---------------------------------------------------------------------------------------------
// Channels (§3)

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

/// `text`. MG's newest client also knows `markup_formats`; the OpenAPI document does not, so
/// it is not sent.
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

// ---------------------------------------------------------------------------------------------
// Templates (§4.1)

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateType {
    Text,
    Media,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateVerificationStatus {
    Approved,
    Pending,
    Rejected,
    Paused,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateQuality {
    Pending,
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateRejectionReason {
    AbusiveContent,
    IncorrectCategory,
    InvalidFormat,
    Scam,
}

/// One chunk of a template body. On the wire (the form MG's first client has used for
/// years, §4.1): a string is literal text, `{}` a positional variable, `{"var": "first_name"}`
/// a named one. The OpenAPI document's object form (`{"text", "var": 0..3}`) is a code
/// generation artefact and is not sent; both forms are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateItem {
    Text(String),
    /// A positional variable, filled from the operator's arguments.
    Custom,
    Name,
    FirstName,
    LastName,
}

impl Serialize for TemplateItem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let var = match self {
            Self::Text(text) => return serializer.serialize_str(text),
            Self::Custom => None,
            Self::Name => Some("name"),
            Self::FirstName => Some("first_name"),
            Self::LastName => Some("last_name"),
        };
        let mut map = serializer.serialize_map(Some(usize::from(var.is_some())))?;
        if let Some(var) = var {
            map.serialize_entry("var", var)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TemplateItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        let value = Value::deserialize(deserializer)?;
        let var_item = |var: &Value| match var {
            Value::String(name) => match name.as_str() {
                "name" => Some(Self::Name),
                "first_name" => Some(Self::FirstName),
                "last_name" => Some(Self::LastName),
                _ => None,
            },
            Value::Number(n) => match n.as_u64() {
                Some(0) => Some(Self::Custom),
                Some(1) => Some(Self::Name),
                Some(2) => Some(Self::FirstName),
                Some(3) => Some(Self::LastName),
                _ => None,
            },
            _ => None,
        };
        match &value {
            Value::String(text) => Ok(Self::Text(text.clone())),
            Value::Object(map) => match (map.get("text"), map.get("var"), map.get("type")) {
                // The generated form: type 1 = text, 2 = variable.
                (Some(Value::String(text)), _, Some(t)) if t == 1 => Ok(Self::Text(text.clone())),
                (_, Some(var), _) => var_item(var)
                    .ok_or_else(|| serde::de::Error::custom("unknown template variable")),
                (Some(Value::String(text)), None, None) => Ok(Self::Text(text.clone())),
                _ => Ok(Self::Custom),
            },
            _ => Err(serde::de::Error::custom(
                "a template item is a string or an object",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateHeaderType {
    Text,
    Document,
    Image,
    Video,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateHeader {
    pub content: TemplateHeaderContent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateHeaderContent {
    #[serde(rename = "type")]
    pub r#type: TemplateHeaderType,
    /// Only for `text` headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateButtons {
    #[serde(default)]
    pub items: Vec<TemplateButton>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateButtonType {
    Plain,
    Phone,
    Url,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateButton {
    #[serde(rename = "type")]
    pub r#type: TemplateButtonType,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Example values shown while a template is reviewed (answers only: the OpenAPI document's
/// request bodies have no `example`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TemplateExample {
    #[serde(default)]
    pub body: Vec<String>,
    #[serde(default)]
    pub header: Vec<String>,
    #[serde(default)]
    pub buttons: Vec<Vec<String>>,
}

/// One template of `GET /templates`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Template {
    #[serde(default)]
    pub id: Option<MgTemplateId>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub channel_id: Option<MgChannelId>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub r#type: Option<TemplateType>,
    #[serde(default, deserialize_with = "lenient")]
    pub template: Option<Vec<TemplateItem>>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub example: Option<TemplateExample>,
    #[serde(default, deserialize_with = "lenient")]
    pub verification_status: Option<TemplateVerificationStatus>,
    #[serde(default, deserialize_with = "lenient")]
    pub quality: Option<TemplateQuality>,
    #[serde(default, deserialize_with = "lenient")]
    pub rejection_reason: Option<TemplateRejectionReason>,
    #[serde(default, deserialize_with = "lenient")]
    pub header: Option<TemplateHeader>,
    #[serde(default)]
    pub footer: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub buttons: Option<TemplateButtons>,
}

/// `POST /channels/{id}/templates`: syncs a template the messenger's provider approved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivateTemplateRequest {
    /// Unique code, 1..=512 characters (e.g. `namespace#name#lang`).
    pub code: String,
    #[serde(rename = "type")]
    pub r#type: TemplateType,
    pub name: String,
    #[serde(flatten)]
    pub fields: TemplateFields,
}

/// `PUT /channels/{id}/templates/{code}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateTemplateRequest {
    pub name: String,
    #[serde(flatten)]
    pub fields: TemplateFields,
}

/// The optional template fields activation and update share.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TemplateFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Vec<TemplateItem>>,
    /// The body with WhatsApp-style `{{1}}` placeholders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// `utility`, `marketing` or `authentication`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_status: Option<TemplateVerificationStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<TemplateQuality>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<TemplateRejectionReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<TemplateHeader>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buttons: Option<TemplateButtons>,
}

// ---------------------------------------------------------------------------------------------
// Messages (§4.2–4.3, §6)

/// A message by MG's id or by our `external_id` (give one of them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageIdentifier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<MgMessageId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

impl MessageIdentifier {
    pub fn id(id: MgMessageId) -> Self {
        Self {
            id: Some(id),
            external_id: None,
        }
    }

    pub fn external_id(external_id: impl Into<String>) -> Self {
        Self {
            id: None,
            external_id: Some(external_id.into()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Text,
    Image,
    File,
    Audio,
    Order,
    Product,
    /// Not for transports to send (MG's own kinds), listed so answers parse.
    Command,
    System,
}

/// Who wrote an incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Originator {
    /// The customer (MG's default).
    Customer,
    /// The business, from the messenger's own app (an echo; MG shows it as outgoing).
    Channel,
    User,
}

/// The customer of `POST /messages` and `/messages/history`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Customer {
    /// The messenger's stable user id, 1..=64 characters.
    pub external_id: String,
    /// Display name, 1..=255 characters.
    pub nickname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Two-letter code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_external_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utm: Option<Utm>,
}

/// Each value 1..=255 characters when present.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Utm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// `message` of `POST /messages` and `/messages/history`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewMessage {
    #[serde(rename = "type")]
    pub r#type: MessageType,
    /// Our id of the message (≤ 255): MG's dedup key and the handle for later edits, deletes,
    /// quotes and reads. Always send one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The messenger's timestamp.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Annotation of a media message, 1..=64000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Uploaded files, 1..=20.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<MessageItem>>,
    /// The web page the message was written on (web chats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_link: Option<String>,
    /// Required for `type = order`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<MessageOrder>,
    /// Required for `type = product`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<MessageProduct>,
}

impl NewMessage {
    /// A text message with our id; other fields can be set on the result.
    pub fn text(external_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            r#type: MessageType::Text,
            external_id: Some(external_id.into()),
            created_at: None,
            text: Some(text.into()),
            note: None,
            items: None,
            page_link: None,
            order: None,
            product: None,
        }
    }
}

/// An attachment: a file uploaded before (`upload_file*`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageItem {
    pub id: MgFileId,
    /// 1..=1024 characters when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub value: f64,
    /// ISO 4217, three letters.
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A product card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageProduct {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub img: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// An order card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageOrder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub date: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Cost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<OrderDelivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payments: Option<Vec<OrderPayment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<OrderItem>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatusCode {
    New,
    Approval,
    Assembling,
    Delivery,
    Complete,
    Cancel,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<OrderStatusCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderDelivery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Cost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderPayment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Cost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PaymentStatus>,
}

/// MG spells it `payed` (the OpenAPI document); its first client said `paid`. Both are read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaymentStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, alias = "paid", skip_serializing_if = "Option::is_none")]
    pub payed: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub img: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Cost>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Quantity>,
}

/// `POST /messages`: a message from the messenger (usually the customer's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendMessageRequest {
    pub channel: MgChannelId,
    /// The chat's id in the messenger, ≤ 64 characters (may be empty on phone-keyed channels).
    pub external_chat_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_external_chat_ids: Option<Vec<String>>,
    /// Optional for MG, but always sent: it keeps the customer's profile fresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    pub message: NewMessage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originator: Option<Originator>,
    /// The message this one replies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<MessageIdentifier>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub reply_deadline: Option<OffsetDateTime>,
}

/// `POST /messages/history`: imports an older message. Note `channel_id` and the required
/// customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendHistoryMessageRequest {
    pub channel_id: MgChannelId,
    pub external_chat_id: String,
    pub customer: Customer,
    pub message: NewMessage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originator: Option<Originator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<MessageIdentifier>,
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub reply_deadline: Option<OffsetDateTime>,
}

/// Answer to `POST /messages` and `/messages/history`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SendMessageResponse {
    pub message_id: MgMessageId,
    #[serde(default, deserialize_with = "lenient_time")]
    pub time: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "lenient")]
    pub warnings: Option<Vec<String>>,
}

/// `PUT /messages`: the customer edited a text message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EditMessageRequest {
    pub channel: MgChannelId,
    pub message: EditedMessage,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EditedMessage {
    /// MG's id or our `external_id` (give one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<MgMessageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The new text, 1..=65535 characters.
    pub text: String,
    /// Unix time in seconds (MG's one integer timestamp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_link: Option<String>,
}

/// `DELETE /messages` (JSON body): the customer deleted a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeleteMessageRequest {
    pub channel: MgChannelId,
    pub message: MessageIdentifier,
}

/// `POST /messages/restore`: undoes a delete. Note `channel_id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoreMessageRequest {
    pub channel_id: MgChannelId,
    pub message: MessageIdentifier,
}

/// A message as MG answers delete and restore with. MG's two clients disagree (a `Message`
/// object, or `{message_id, time}`), so every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MessageInfo {
    #[serde(default)]
    pub id: Option<MgMessageId>,
    #[serde(default)]
    pub message_id: Option<MgMessageId>,
    #[serde(default)]
    pub chat_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_time")]
    pub time: Option<OffsetDateTime>,
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub r#type: Option<MessageType>,
    /// `sending`, `sent`, `received`, `seen`, `failed` or `undefined`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub is_read: Option<bool>,
    #[serde(default)]
    pub is_edit: Option<bool>,
    #[serde(default)]
    pub content: Option<String>,
}

/// Why sending an operator's message failed (`SendingErrorCode`, §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendingErrorCode {
    General,
    CustomerNotExists,
    ReplyTimedOut,
    SpamSuspicion,
    AccessRestricted,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendingError {
    pub code: SendingErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The messenger's own error code, ≤ 100 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_code: Option<String>,
}

/// `POST /messages/ack`: confirms (or fails, with `error`) an operator's message we accepted
/// asynchronously.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AckMessageRequest {
    pub channel: MgChannelId,
    /// `id` = `data.id` of the `message_sent` webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<MessageIdentifier>,
    /// The message's id in the messenger, ≤ 255 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_message_id: Option<String>,
    /// When it was actually sent.
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SendingError>,
    /// Deprecated way to name the message (before `message`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_message_id: Option<String>,
}

/// `POST /messages/read`: the customer read an operator's message. Note `channel_id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarkReadRequest {
    pub channel_id: MgChannelId,
    pub message: MessageIdentifier,
}

/// `POST /messages/read_until`: the customer read everything up to `until`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarkReadUntilRequest {
    pub channel_id: MgChannelId,
    pub customer_external_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

/// The MG ids `read_until` marked.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MarkReadUntilResponse {
    #[serde(default, deserialize_with = "lenient_list")]
    pub ids: Vec<MgMessageId>,
}

/// `POST /messages/reaction`: the customer reacted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddReactionRequest {
    pub channel: MgChannelId,
    pub message: MessageIdentifier,
    pub reaction: String,
}

/// `DELETE /messages/reaction` (JSON body). Without `reaction`, MG removes the customer's first
/// reaction on the message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeleteReactionRequest {
    pub channel: MgChannelId,
    pub message: MessageIdentifier,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reaction: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Files (§4.4)

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

// ---------------------------------------------------------------------------------------------
// Tolerant readers for answers

/// `None` instead of an error when a value is `null` or not what we expect.
fn lenient<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// A list, or empty when missing, `null` or malformed.
fn lenient_list<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(lenient::<D, Vec<T>>(d)?.unwrap_or_default())
}

/// RFC 3339, or MG's examples' form without an offset (taken as UTC); `None` otherwise.
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d).ok().flatten() else {
        return Ok(None);
    };
    Ok(parse_time(&text))
}

pub(crate) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_names_follow_each_endpoint() {
        let message = MessageIdentifier::external_id("m-778");
        let delete = DeleteMessageRequest {
            channel: MgChannelId(305),
            message: message.clone(),
        };
        assert_eq!(
            serde_json::to_value(&delete).unwrap(),
            json!({"channel": 305, "message": {"external_id": "m-778"}})
        );
        let read = MarkReadRequest {
            channel_id: MgChannelId(305),
            message: MessageIdentifier::id(MgMessageId(123460)),
        };
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            json!({"channel_id": 305, "message": {"id": 123460}})
        );
    }

    #[test]
    fn the_activation_test_vector_round_trips() {
        // transport-api.md §9 V1.
        let v1 = json!({
          "type": "custom", "external_id": "acct42-bot7", "name": "@shop_support_bot",
          "avatar_url": "https://cdn.example.com/bot7.png",
          "settings": {
            "status": {"delivered": "send", "read": "both"},
            "text": {"creating": "both", "editing": "both", "quoting": "both", "deleting": "both",
                     "reaction": "both", "max_chars_count": 4096},
            "image": {"creating": "both", "editing": "none", "quoting": "both", "deleting": "receive",
                      "reaction": "both", "max_items_count": 10, "note_max_chars_count": 1024, "max_item_size": 10485760},
            "file": {"creating": "both", "editing": "none", "quoting": "both", "deleting": "receive",
                     "reaction": "none", "max_items_count": 1, "note_max_chars_count": 1024, "max_item_size": 52428800},
            "audio": {"creating": "both", "quoting": "receive", "deleting": "receive", "reaction": "none",
                      "max_items_count": 1, "max_item_size": 10485760},
            "product": {"creating": "receive", "editing": "receive", "deleting": "receive", "quoting": "none", "reaction": "none"},
            "order": {"creating": "receive", "editing": "receive", "deleting": "receive", "quoting": "none", "reaction": "none"},
            "reactions": {"dictionary": ["👍", "❤️", "😂"], "max_count": 1},
            "suggestions": {"text": "both", "phone": "none", "email": "none", "url": "both"},
            "sending_policy": {"new_customer": "no", "after_reply_timeout": "no", "outgoing": "allowed"},
            "customer_external_id": "any",
            "template": {"creation": false}
          }
        });
        let settings: ChannelSettings = serde_json::from_value(v1["settings"].clone()).unwrap();
        let request = ActivateChannelRequest {
            id: None,
            r#type: "custom".into(),
            name: Some("@shop_support_bot".into()),
            external_id: Some("acct42-bot7".into()),
            avatar_url: Some("https://cdn.example.com/bot7.png".into()),
            settings: Some(settings),
        };
        assert_eq!(serde_json::to_value(&request).unwrap(), v1);
    }

    #[test]
    fn answers_are_read_tolerantly() {
        // V3, with a feature value and a timestamp this code does not know.
        let channels: Vec<Channel> = serde_json::from_value(json!([{
            "id": 305, "external_id": "acct42-bot7", "type": "custom", "name": "@shop_support_bot",
            "settings": {"text": {"creating": "any", "max_chars_count": 4096}},
            "is_active": true, "created_at": "2026-07-01T10:00:00.123456Z",
            "activated_at": "2021-08-02T10:11:12", "updated_at": null, "deactivated_at": null
        }]))
        .unwrap();
        assert_eq!(channels[0].id, MgChannelId(305));
        assert!(channels[0].settings.is_none());
        assert!(channels[0].created_at.is_some());
        assert!(channels[0].activated_at.is_some());
        let file: FileInfo = serde_json::from_value(json!({
            "id": "aa4ff988-bafb-43a0-9551-b8e00f677e34", "type": "image", "mime_type": "image/jpeg",
            "size": 71984, "Url": "https://s3.mg.example/x", "url": "https://s3.mg.example/x"
        }))
        .unwrap();
        assert_eq!(file.download_url(), Some("https://s3.mg.example/x"));
        let paid: PaymentStatus =
            serde_json::from_value(json!({"name": "ok", "paid": true})).unwrap();
        assert_eq!(paid.payed, Some(true));
    }

    #[test]
    fn template_items_use_the_proven_wire_form_and_read_both() {
        let items = vec![
            TemplateItem::Text("Hi ".into()),
            TemplateItem::FirstName,
            TemplateItem::Text(", your order ".into()),
            TemplateItem::Custom,
        ];
        let wire = serde_json::to_value(&items).unwrap();
        assert_eq!(
            wire,
            json!(["Hi ", {"var": "first_name"}, ", your order ", {}])
        );
        let back: Vec<TemplateItem> = serde_json::from_value(wire).unwrap();
        assert_eq!(back, items);
        let generated: Vec<TemplateItem> =
            serde_json::from_value(json!([{"type": 1, "text": "Hi "}, {"type": 2, "var": 2}]))
                .unwrap();
        assert_eq!(generated, items[..2]);
    }
}
