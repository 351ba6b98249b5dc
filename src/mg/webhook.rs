//! Webhooks MG sends us (`protocol/transport-api.md` §5): `{"type", "meta", "data"}`, one event
//! per request, typed by `type`.
//!
//! Read tolerantly, like every MG answer: unknown fields are ignored, `null` reads as absent,
//! ids MG may leave out (`meta.id`, `data.id` outside `message_sent`) are optional, and a card
//! (`order`, `product`) keeps whatever of it parses rather than failing the whole webhook. An
//! unknown `type` parses too, as [`MgWebhook::Unknown`]: MG adds kinds, and those must be
//! answered, not refused. What fails is only what we cannot act on at all: a body that is not
//! JSON, no `type`, or a `message_sent` without its `id` or `channel_id`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::types::{
    MessageOrder, MessageProduct, MessageType, MgFileId, OrderItem, OrderPayment, TemplateButtons,
    TemplateExample, TemplateHeader,
};

/// One webhook, by its `type`.
// One value per request, parsed and dropped: boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum MgWebhook {
    /// An operator (or a bot, or the system) sent a message: deliver it to Telegram.
    MessageSent(MessageSent),
    /// An operator edited a message.
    MessageUpdated(MessageUpdated),
    /// An operator deleted a message.
    MessageDeleted(MessageRef),
    /// An operator read the customer's message.
    MessageRead(MessageRef),
    ReactionAdd(ReactionChange),
    ReactionDelete(ReactionChange),
    TemplateCreate(TemplateData),
    TemplateUpdate(TemplateData),
    TemplateDelete(TemplateData),
    /// A `type` this code does not know, kept for the log.
    Unknown(String),
}

/// The chat an event names: `external_chat_id`, or `external_user_id` when the chat id is empty.
fn chat_or_user<'a>(chat: &'a str, user: &'a str) -> &'a str {
    if chat.is_empty() {
        user
    } else {
        chat
    }
}

impl MessageSent {
    /// The chat it goes to, by the rule of [`MgWebhook::target_chat`].
    pub fn chat(&self) -> &str {
        chat_or_user(&self.external_chat_id, &self.external_user_id)
    }
}

impl MgWebhook {
    pub fn parse(body: &[u8]) -> Result<Self, serde_json::Error> {
        Self::from_value(serde_json::from_slice(body)?)
    }

    pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "type")]
            kind: String,
            // `meta` ({timestamp, id?}) is not needed to act on a webhook: MG gives no sequence
            // to order by (§6.6).
            #[serde(default)]
            data: Value,
        }
        let envelope: Envelope = serde_json::from_value(value)?;
        // A missing or null `data` reads as `{}`: the kinds that need fields say so below.
        let data = match envelope.data {
            Value::Null => Value::Object(Map::new()),
            data => data,
        };
        Ok(match envelope.kind.as_str() {
            "message_sent" => Self::MessageSent(serde_json::from_value(data)?),
            "message_updated" => Self::MessageUpdated(serde_json::from_value(data)?),
            "message_deleted" => Self::MessageDeleted(serde_json::from_value(data)?),
            "message_read" => Self::MessageRead(serde_json::from_value(data)?),
            "reaction_add" => Self::ReactionAdd(serde_json::from_value(data)?),
            "reaction_delete" => Self::ReactionDelete(serde_json::from_value(data)?),
            "template_create" => Self::TemplateCreate(serde_json::from_value(data)?),
            "template_update" => Self::TemplateUpdate(serde_json::from_value(data)?),
            "template_delete" => Self::TemplateDelete(serde_json::from_value(data)?),
            _ => Self::Unknown(envelope.kind),
        })
    }

    /// For the webhooks that act on a messenger chat (send, edit, delete, react): the MG
    /// channel and the chat, `external_chat_id`, or `external_user_id` when the chat id is
    /// empty (phone-keyed channels; a private Telegram chat's id is its user's id). `None` for
    /// the rest, which are answered without touching the messenger.
    pub fn target_chat(&self) -> Option<(i64, &str)> {
        let (channel, chat, user) = match self {
            Self::MessageSent(m) => (m.channel_id, &m.external_chat_id, &m.external_user_id),
            Self::MessageUpdated(m) => (m.channel_id, &m.external_chat_id, &m.external_user_id),
            Self::MessageDeleted(m) => (m.channel_id, &m.external_chat_id, &m.external_user_id),
            Self::ReactionAdd(m) | Self::ReactionDelete(m) => {
                (m.channel_id, &m.external_chat_id, &m.external_user_id)
            }
            // Read marks are carried only where they name their chat (a Telegram Business
            // chat marks them read in Telegram); others are answered and dropped.
            Self::MessageRead(m) if m.channel_id > 0 && !m.external_chat_id.is_empty() => {
                (m.channel_id, &m.external_chat_id, &m.external_user_id)
            }
            Self::MessageRead(_)
            | Self::TemplateCreate(_)
            | Self::TemplateUpdate(_)
            | Self::TemplateDelete(_)
            | Self::Unknown(_) => return None,
        };
        Some((channel, chat_or_user(chat, user)))
    }

    /// The webhook's `type`, as MG spells it.
    pub fn kind(&self) -> &str {
        match self {
            Self::MessageSent(_) => "message_sent",
            Self::MessageUpdated(_) => "message_updated",
            Self::MessageDeleted(_) => "message_deleted",
            Self::MessageRead(_) => "message_read",
            Self::ReactionAdd(_) => "reaction_add",
            Self::ReactionDelete(_) => "reaction_delete",
            Self::TemplateCreate(_) => "template_create",
            Self::TemplateUpdate(_) => "template_update",
            Self::TemplateDelete(_) => "template_delete",
            Self::Unknown(kind) => kind,
        }
    }
}

/// `message_sent` (§5.3).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageSent {
    /// MG's id of the message: acks name it, and it keys the record of parts sent.
    pub id: i64,
    pub channel_id: i64,
    /// Empty on phone-keyed channels; then `external_user_id` names the customer.
    #[serde(default, deserialize_with = "or_default")]
    pub external_chat_id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub external_user_id: String,
    /// v1 only (omitempty); not used to deliver.
    #[serde(default)]
    pub external_message_id: Option<String>,
    /// `None` when missing or a kind this code does not know.
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub r#type: Option<MessageType>,
    /// The text, or the caption of media.
    #[serde(default)]
    pub content: Option<String>,
    /// Our external id of the message replied to (`"{chat}:{message}"` for ours).
    #[serde(default)]
    pub quote_external_id: Option<String>,
    #[serde(default)]
    pub quote_content: Option<String>,
    /// Meaning UNVERIFIED; kept for the log.
    #[serde(default, deserialize_with = "lenient")]
    pub in_app_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient")]
    pub user: Option<WebhookUser>,
    #[serde(default, deserialize_with = "lenient")]
    pub bot: Option<WebhookBot>,
    #[serde(default, deserialize_with = "lenient")]
    pub customer: Option<WebhookCustomer>,
    /// Attachments, to resolve with `GET /files/{id}`.
    #[serde(default, deserialize_with = "lenient_items")]
    pub items: Vec<WebhookItem>,
    #[serde(default, deserialize_with = "salvaged_product")]
    pub product: Option<MessageProduct>,
    #[serde(default, deserialize_with = "salvaged_order")]
    pub order: Option<MessageOrder>,
    #[serde(default, deserialize_with = "lenient")]
    pub template: Option<WebhookTemplate>,
    #[serde(default, deserialize_with = "lenient")]
    pub attachments: Option<Attachments>,
}

/// `message_updated`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MessageUpdated {
    /// v1 sends it; the OpenAPI document does not.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "or_default")]
    pub channel_id: i64,
    #[serde(default, deserialize_with = "or_default")]
    pub external_chat_id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub external_user_id: String,
    /// Our id of the edited message (`"{chat}:{message}"`).
    #[serde(default, deserialize_with = "or_default")]
    pub external_message_id: String,
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub r#type: Option<MessageType>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub attachments: Option<Attachments>,
    #[serde(default, deserialize_with = "salvaged_product")]
    pub product: Option<MessageProduct>,
    #[serde(default, deserialize_with = "salvaged_order")]
    pub order: Option<MessageOrder>,
}

/// `message_deleted` and `message_read`: which message.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MessageRef {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "or_default")]
    pub channel_id: i64,
    #[serde(default, deserialize_with = "or_default")]
    pub external_chat_id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub external_user_id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub external_message_id: String,
}

/// `reaction_add` and `reaction_delete`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ReactionChange {
    #[serde(default, deserialize_with = "or_default")]
    pub channel_id: i64,
    #[serde(default, deserialize_with = "or_default")]
    pub external_chat_id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub external_user_id: String,
    #[serde(default, deserialize_with = "or_default")]
    pub external_message_id: String,
    /// The reaction added (absent on delete).
    #[serde(default)]
    pub new_reaction: Option<String>,
    /// The reaction replaced (on add) or removed (on delete).
    #[serde(default)]
    pub old_reaction: Option<String>,
    /// The message's whole set after the change.
    #[serde(default, deserialize_with = "lenient_list")]
    pub all_reactions: Vec<ReactionItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReactionItem {
    pub reaction: String,
}

/// `template_create` (no `code` yet), `template_update` and `template_delete` (§5.4).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TemplateData {
    #[serde(default, deserialize_with = "or_default")]
    pub channel_id: i64,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub header: Option<TemplateHeader>,
    #[serde(default)]
    pub footer: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub buttons: Option<TemplateButtons>,
    #[serde(default, deserialize_with = "lenient")]
    pub example: Option<TemplateExample>,
}

/// The operator who sent a message (v1 has no `id`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct WebhookUser {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<i64>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
}

/// The chat bot that sent a message.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct WebhookBot {
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct WebhookCustomer {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
}

/// One attachment of `message_sent`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WebhookItem {
    pub id: MgFileId,
    #[serde(default, deserialize_with = "lenient")]
    pub size: Option<u64>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub height: Option<u32>,
    #[serde(default, deserialize_with = "lenient")]
    pub width: Option<u32>,
}

/// `template` of `message_sent`: the operator sent a template with these values.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct WebhookTemplate {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub variables: Option<TemplateVariables>,
    /// Deprecated: the body's arguments before `variables`.
    #[serde(default, deserialize_with = "text_list")]
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TemplateVariables {
    #[serde(default, deserialize_with = "lenient")]
    pub header: Option<TemplateHeaderVariables>,
    #[serde(default, deserialize_with = "lenient")]
    pub body: Option<TemplateBodyVariables>,
    #[serde(default, deserialize_with = "lenient_list")]
    pub buttons: Vec<TemplateButtonVariables>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TemplateHeaderVariables {
    #[serde(rename = "type", default)]
    pub r#type: Option<String>,
    #[serde(default, deserialize_with = "text_list")]
    pub args: Vec<String>,
    /// Media of a media header, as MG gives them (shape UNVERIFIED; not delivered).
    #[serde(default, deserialize_with = "lenient_list")]
    pub attachments: Vec<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TemplateBodyVariables {
    #[serde(default, deserialize_with = "text_list")]
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TemplateButtonVariables {
    #[serde(rename = "type", default)]
    pub r#type: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "text_list")]
    pub args: Vec<String>,
}

/// `attachments` of a message: quick-reply buttons.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Attachments {
    #[serde(default, deserialize_with = "lenient_list")]
    pub suggestions: Vec<Suggestion>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Suggestion {
    #[serde(rename = "type", default)]
    pub r#type: SuggestionType,
    /// Required for `text`.
    #[serde(default)]
    pub title: Option<String>,
    /// The phone, e-mail or URL (ignored for `text`).
    #[serde(default)]
    pub payload: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuggestionType {
    #[default]
    Text,
    Phone,
    Email,
    Url,
    /// A kind newer than this code: shown as a text button.
    #[serde(other)]
    Other,
}

// ---------------------------------------------------------------------------------------------
// Tolerant readers

/// `null` or missing reads as the type's default.
fn or_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `None` instead of an error when a value is `null` or not what we expect.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// A list without the elements that do not parse; empty when missing or not a list.
fn lenient_list<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect(),
        _ => Vec::new(),
    })
}

fn lenient_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<WebhookItem>, D::Error> {
    lenient_list(d)
}

/// Template arguments: strings, with numbers and booleans taken as their text.
fn text_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::String(text) => Some(text),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

fn salvaged_product<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MessageProduct>, D::Error> {
    Ok(salvage(Value::deserialize(d)?, &["name"]))
}

/// An order card keeps every field, item and payment that parses: v1 sends `date` as free text,
/// MG may add status codes, and one odd line must not cost the operator the whole card.
fn salvaged_order<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MessageOrder>, D::Error> {
    let mut value = Value::deserialize(d)?;
    if let Value::Object(order) = &mut value {
        if let Some(Value::Array(items)) = order.get_mut("items") {
            let kept = items
                .drain(..)
                .filter_map(|item| salvage::<OrderItem>(item, &[]))
                .map(|item| serde_json::to_value(item).unwrap_or_default())
                .collect();
            *items = kept;
        }
        if let Some(Value::Array(payments)) = order.get_mut("payments") {
            let kept = payments
                .drain(..)
                .filter_map(|payment| salvage::<OrderPayment>(payment, &[]))
                .map(|payment| serde_json::to_value(payment).unwrap_or_default())
                .collect();
            *payments = kept;
        }
    }
    Ok(salvage(value, &[]))
}

/// `value` as a `T`; failing that, a `T` of the fields that parse one by one (with `required`
/// always kept); `None` when not even that parses.
fn salvage<T: DeserializeOwned>(value: Value, required: &[&str]) -> Option<T> {
    if let Ok(whole) = serde_json::from_value(value.clone()) {
        return Some(whole);
    }
    let Value::Object(fields) = value else {
        return None;
    };
    let mut kept: Map<String, Value> = required
        .iter()
        .filter_map(|key| fields.get(*key).map(|v| ((*key).to_owned(), v.clone())))
        .collect();
    for (key, field) in fields {
        if kept.contains_key(&key) {
            continue;
        }
        let mut trial = kept.clone();
        trial.insert(key, field);
        if serde_json::from_value::<T>(Value::Object(trial.clone())).is_ok() {
            kept = trial;
        }
    }
    serde_json::from_value(Value::Object(kept)).ok()
}

#[cfg(test)]
mod tests;
