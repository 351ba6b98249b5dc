//! Messages (`protocol/transport-api.md` §4.2–4.3, §6): what we send, edit, delete, ack and
//! mark read, and the cards (products, orders) a message may carry.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{lenient, lenient_list, lenient_time, MgChannelId, MgFileId, MgMessageId};

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
