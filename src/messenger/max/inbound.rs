//! MAX → MG: what the webhook accepts, and how a stored update is delivered.
//!
//! - `message_created` → `POST /messages`: text; images, files, audio, video and stickers
//!   uploaded to MG by their URL (MAX's file URLs hold no token, unlike Telegram's, so MG
//!   fetches them itself and nothing is held here); contacts, locations and shared links as
//!   readable text; a reply as `quote`, a forward as a line saying whose it was.
//! - `message_edited` → `PUT /messages`; `message_removed` → `DELETE /messages`.
//! - `bot_started` → the chat is open again, and MG gets `/start` with the deep link's payload,
//!   as Telegram's bots receive it, so the CRM's automations for it work alike.
//! - `bot_stopped` → the chat is marked blocked: operators' replies are then reported
//!   `access_restricted` at once (`outbound`).
//!
//! Messages are named in MG by their MAX `mid`, unique across MAX; a message whose files go
//! in several MG messages names the later ones `{mid}#{n}`. Only dialogs are bridged.

use crate::bridge::delivery::DeliveryError;
use crate::bridge::mg_access::MgAccessError;
use crate::i18n::{Lang, Text};
use crate::messenger::html::is_web_url;
use crate::messenger::{Accepted, Carried};
use crate::mg::{
    Customer, EditMessageRequest, EditedMessage, MessageIdentifier, MessageItem, MessageType,
    MgChannelId, MgError, NewMessage, SendMessageRequest, UploadFileByUrlRequest,
};

use super::delivery::MaxDelivery;
use super::types::{Attachment, Message, Update, User};

/// The update kinds the bridge asks MAX for (`POST /subscriptions`).
pub const BRIDGE_UPDATES: &[&str] = &[
    "message_created",
    "message_edited",
    "message_removed",
    "bot_started",
    "bot_stopped",
];
/// MG's limits on names and notes.
const NAME_MAX: usize = 255;
const TEXT_MAX: usize = 65_535;

/// What the webhook makes of a body: `bot_id` is the channel's bot, whose own messages MAX may
/// echo and are not the customer's.
pub fn accept_update(body: &[u8], bot_id: &str) -> Accepted {
    let update: Update = match serde_json::from_slice(body) {
        Ok(update) => update,
        Err(e) => return Accepted::Malformed(e.to_string()),
    };
    let Some((chat, key)) = carried(&update, bot_id) else {
        tracing::info!(
            kind = update.update_type.as_str(),
            "MAX update the bridge does not carry (a kind, a group chat or the bot's own): ignored"
        );
        return Accepted::Ignore;
    };
    match serde_json::value::to_raw_value(&update) {
        Ok(stored) => Accepted::Carry(Carried {
            chat: chat.to_string(),
            update_id: key,
            update: stored,
            connection: None,
        }),
        Err(e) => Accepted::Malformed(format!("cannot be stored: {e}")),
    }
}

/// The dialog an update belongs to and the key its repeats share (MAX gives updates no id,
/// and repeats a failed delivery for hours).
fn carried(update: &Update, bot_id: &str) -> Option<(i64, String)> {
    let kind = update.update_type.as_str();
    match kind {
        "message_created" | "message_edited" => {
            let message = update.message.as_ref()?;
            let dialog = message.recipient.chat_type.as_deref().unwrap_or("dialog") == "dialog";
            let ours = message
                .sender
                .as_ref()
                .is_some_and(|s| s.is_bot || s.user_id.to_string() == bot_id);
            let chat = message.recipient.chat_id?;
            let mid = &message.body.mid;
            (dialog && !ours && !mid.is_empty()).then(|| {
                let key = match kind {
                    "message_created" => format!("created:{mid}"),
                    _ => format!("edited:{mid}:{}", update.timestamp),
                };
                (chat, key)
            })
        }
        "message_removed" => {
            let mid = update.message_id.as_deref()?;
            Some((update.chat_id?, format!("removed:{mid}")))
        }
        "bot_started" | "bot_stopped" => {
            let chat = update.chat_id?;
            update.user.as_ref()?;
            Some((chat, format!("{kind}:{chat}:{}", update.timestamp)))
        }
        _ => None,
    }
}

/// Delivers one stored update to MG.
pub async fn deliver_update(d: &mut MaxDelivery<'_>, update: &Update) -> Result<(), DeliveryError> {
    let lang = update
        .user_locale
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or_default();
    match (update.update_type.as_str(), &update.message) {
        ("message_created", Some(message)) => deliver_message(d, message, lang).await,
        ("message_edited", Some(message)) => deliver_edit(d, message).await,
        ("message_removed", _) => deliver_removal(d, update).await,
        ("bot_started", _) => deliver_start(d, update).await,
        ("bot_stopped", _) => {
            let chat = update.chat_id.unwrap_or_default().to_string();
            d.store.block_chat(&d.channel.id, &chat).await?;
            tracing::info!(chat = %chat, "the customer stopped the MAX bot: the chat is blocked");
            Ok(())
        }
        (kind, _) => {
            tracing::info!(kind, "stored MAX update of a kind not delivered; skipped");
            Ok(())
        }
    }
}

async fn deliver_message(
    d: &mut MaxDelivery<'_>,
    message: &Message,
    lang: Lang,
) -> Result<(), DeliveryError> {
    let chat = message.recipient.chat_id.unwrap_or_default().to_string();
    let mid = message.body.mid.clone();
    let mut lines = Vec::new();
    if let Some(forwarded) = forward_line(message) {
        lines.push(forwarded);
    }
    if let Some(text) = message
        .body
        .text
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        lines.push(text.to_owned());
    }
    if let Some(link) = message.link.as_ref().filter(|l| l.kind == "forward") {
        lines.extend(link.message.text.clone().filter(|t| !t.trim().is_empty()));
    }
    let attachments = message
        .body
        .attachments
        .iter()
        .chain(forwarded_attachments(message));
    let mut media: Vec<(MessageType, String, Option<String>)> = Vec::new();
    for attachment in attachments {
        match media_of(attachment) {
            Some(file) => media.push(file),
            None => lines.extend(text_of(attachment, lang)),
        }
    }
    let text = truncate(&lines.join("\n"), TEXT_MAX);
    let quote = message
        .link
        .as_ref()
        .filter(|l| l.kind == "reply" && !l.message.mid.is_empty())
        .map(|l| MessageIdentifier::external_id(l.message.mid.clone()));
    let customer = customer_of(d, message.sender.as_ref(), &chat, lang);

    // One MG message per kind of file (MG's message has one type), the text with the first.
    let mut messages = Vec::new();
    for kind in [MessageType::Image, MessageType::File, MessageType::Audio] {
        let mut items = Vec::new();
        for (_, url, caption) in media.iter().filter(|(k, ..)| *k == kind) {
            let id = upload_by_url(d, url).await?;
            items.push(MessageItem {
                id,
                caption: caption.clone(),
            });
        }
        if !items.is_empty() {
            messages.push((kind, items));
        }
    }
    if messages.is_empty() {
        if text.is_empty() {
            tracing::info!(mid = %mid, "a MAX message with nothing the bridge carries; skipped");
            return Ok(());
        }
        let new = NewMessage {
            created_at: created_at(message.timestamp),
            ..NewMessage::text(mid, text)
        };
        return send(d, request(d, &chat, customer, new, quote)).await;
    }
    for (n, (kind, items)) in messages.into_iter().enumerate() {
        let external_id = if n == 0 {
            mid.clone()
        } else {
            format!("{mid}#{n}")
        };
        let new = NewMessage {
            r#type: kind,
            created_at: created_at(message.timestamp),
            text: None,
            note: (n == 0 && !text.is_empty()).then(|| text.clone()),
            items: Some(items),
            ..NewMessage::text(external_id, "")
        };
        let quote = if n == 0 { quote.clone() } else { None };
        send(d, request(d, &chat, customer.clone(), new, quote)).await?;
    }
    Ok(())
}

/// "↪ Forwarded from Ann Lee": whose words a forward carries.
fn forward_line(message: &Message) -> Option<String> {
    let link = message.link.as_ref().filter(|l| l.kind == "forward")?;
    let from = link
        .sender
        .as_ref()
        .map(display_name)
        .unwrap_or_else(|| "?".into());
    Some(format!("↪ Forwarded from {from}"))
}

fn forwarded_attachments(message: &Message) -> impl Iterator<Item = &Attachment> {
    message
        .link
        .iter()
        .filter(|l| l.kind == "forward")
        .flat_map(|l| l.message.attachments.iter())
}

/// A file MG can take by URL: its MG type, the URL, and a caption (a document's name).
fn media_of(attachment: &Attachment) -> Option<(MessageType, String, Option<String>)> {
    let (kind, payload, caption) = match attachment {
        Attachment::Image { payload } | Attachment::Sticker { payload } => {
            (MessageType::Image, payload, None)
        }
        Attachment::Video { payload } => (MessageType::File, payload, None),
        Attachment::Audio { payload } => (MessageType::Audio, payload, None),
        Attachment::File {
            payload, filename, ..
        } => (MessageType::File, payload, filename.clone()),
        _ => return None,
    };
    let url = payload.url.clone().filter(|u| is_web_url(u))?;
    Some((kind, url, caption.map(|c| truncate(&c, 1024))))
}

/// What MG has no message type for, as a readable line in the customer's language.
fn text_of(attachment: &Attachment, lang: Lang) -> Option<String> {
    match attachment {
        Attachment::Location {
            latitude,
            longitude,
        } => Some(
            lang.text(
                &Text::new("customer-location")
                    .arg("latitude", latitude.to_string())
                    .arg("longitude", longitude.to_string())
                    .arg(
                        "map",
                        format!("https://maps.google.com/?q={latitude},{longitude}"),
                    ),
            ),
        ),
        Attachment::Contact { payload } => {
            let name = payload.max_info.as_ref().map(display_name);
            let phone = payload.vcf_info.as_deref().and_then(vcard_phone);
            let text = match (name, phone) {
                (Some(name), Some(phone)) => Text::new("customer-contact")
                    .arg("name", name)
                    .arg("phone", phone),
                (None, Some(phone)) => Text::new("customer-contact-phone").arg("phone", phone),
                (Some(name), None) => Text::new("customer-contact-phone").arg("phone", name),
                (None, None) => return None,
            };
            Some(lang.text(&text))
        }
        Attachment::Share { payload, title } => {
            let url = payload.url.clone()?;
            Some(match title {
                Some(title) if !title.trim().is_empty() => format!("🔗 {title} {url}"),
                _ => format!("🔗 {url}"),
            })
        }
        Attachment::Image { .. } | Attachment::Sticker { .. } => Some(lang.t("customer-sticker")),
        Attachment::Video { .. }
        | Attachment::Audio { .. }
        | Attachment::File { .. }
        | Attachment::Other => None,
    }
}

/// The first `TEL` of a vCard.
fn vcard_phone(vcf: &str) -> Option<String> {
    vcf.lines()
        .find(|l| l.to_ascii_uppercase().starts_with("TEL"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, phone)| phone.trim().to_owned())
        .filter(|p| !p.is_empty())
}

async fn upload_by_url(
    d: &mut MaxDelivery<'_>,
    url: &str,
) -> Result<crate::mg::MgFileId, DeliveryError> {
    let request = UploadFileByUrlRequest {
        url: url.to_owned(),
    };
    let request = &request;
    let file =
        d.mg.call(d.account, |api| async move {
            api.upload_file_by_url(request).await
        })
        .await?;
    Ok(file.id)
}

fn request(
    d: &MaxDelivery<'_>,
    chat: &str,
    customer: Option<Customer>,
    message: NewMessage,
    quote: Option<MessageIdentifier>,
) -> SendMessageRequest {
    SendMessageRequest {
        channel: MgChannelId(d.channel.mg_channel_id),
        external_chat_id: chat.to_owned(),
        secondary_external_chat_ids: None,
        customer,
        message,
        originator: None,
        quote,
        reply_deadline: None,
    }
}

/// The customer MG files a MAX user under; the avatar is our signed URL (`{chat}:{user}`, as
/// MAX gives avatars per chat member).
fn customer_of(
    d: &MaxDelivery<'_>,
    user: Option<&User>,
    chat: &str,
    lang: Lang,
) -> Option<Customer> {
    let user = user?;
    let username = user
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let avatar = d
        .avatars
        .url_for(&d.channel.id, &format!("{chat}:{}", user.user_id));
    let first = user.first_name.trim();
    Some(Customer {
        external_id: user.user_id.to_string(),
        nickname: truncate(
            &username
                .map(str::to_owned)
                .unwrap_or_else(|| display_name(user)),
            NAME_MAX,
        ),
        first_name: (!first.is_empty()).then(|| truncate(first, NAME_MAX)),
        last_name: user
            .last_name
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| truncate(l, NAME_MAX)),
        avatar: Some(avatar),
        profile_url: username.map(|u| format!("https://max.ru/{u}")),
        language: Some(lang.code().to_owned()).filter(|_| lang != Lang::default()),
        ..Default::default()
    })
}

/// The full name, else the username, else the id: never empty.
pub(super) fn display_name(user: &User) -> String {
    let full = format!(
        "{} {}",
        user.first_name.trim(),
        user.last_name.as_deref().unwrap_or("").trim()
    );
    let full = full.trim();
    if !full.is_empty() {
        return full.to_owned();
    }
    user.name
        .clone()
        .or_else(|| user.username.clone())
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| user.user_id.to_string())
}

async fn deliver_edit(d: &mut MaxDelivery<'_>, message: &Message) -> Result<(), DeliveryError> {
    let Some(text) = message
        .body
        .text
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    else {
        tracing::debug!(mid = %message.body.mid, "a MAX edit without text; skipped");
        return Ok(());
    };
    let request = EditMessageRequest {
        channel: MgChannelId(d.channel.mg_channel_id),
        message: EditedMessage {
            id: None,
            external_id: Some(message.body.mid.clone()),
            text: truncate(text, TEXT_MAX),
            edited_at: None,
            page_link: None,
        },
    };
    let request = &request;
    d.mg.call(
        d.account,
        |api| async move { api.edit_message(request).await },
    )
    .await?;
    Ok(())
}

async fn deliver_removal(d: &mut MaxDelivery<'_>, update: &Update) -> Result<(), DeliveryError> {
    match update.message_id.clone() {
        Some(mid) => d.delete_in_mg(mid).await,
        None => Ok(()),
    }
}

async fn deliver_start(d: &mut MaxDelivery<'_>, update: &Update) -> Result<(), DeliveryError> {
    let chat = update.chat_id.unwrap_or_default().to_string();
    d.store.unblock_chat(&d.channel.id, &chat).await?;
    let lang = update
        .user_locale
        .as_deref()
        .and_then(Lang::from_tag)
        .unwrap_or_default();
    let text = match update.payload.as_deref().map(str::trim) {
        Some(payload) if !payload.is_empty() => format!("/start {payload}"),
        _ => "/start".to_owned(),
    };
    let customer = customer_of(d, update.user.as_ref(), &chat, lang);
    let new = NewMessage {
        created_at: created_at(update.timestamp),
        ..NewMessage::text(format!("start:{chat}:{}", update.timestamp), text)
    };
    send(d, request(d, &chat, customer, new, None)).await
}

/// `POST /messages`; a duplicate external id means an earlier attempt got through, and a
/// reply to a message MG does not know goes without its quote rather than not at all.
async fn send(
    d: &mut MaxDelivery<'_>,
    mut request: SendMessageRequest,
) -> Result<(), DeliveryError> {
    loop {
        let attempt = &request;
        let sent =
            d.mg.call(
                d.account,
                |api| async move { api.send_message(attempt).await },
            )
            .await;
        match sent {
            Ok(_) => {
                d.new_message_posted();
                return Ok(());
            }
            Err(MgAccessError::Mg(e)) if e.is_duplicate_external_id() => {
                d.new_message_posted();
                return Ok(());
            }
            Err(MgAccessError::Mg(MgError::Api { status, .. }))
                if (400..500).contains(&status) && request.quote.is_some() =>
            {
                request.quote = None;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn created_at(millis: i64) -> Option<time::OffsetDateTime> {
    (millis > 0)
        .then(|| time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000))
        .and_then(Result::ok)
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn accept(update: serde_json::Value) -> Option<(String, String)> {
        match accept_update(update.to_string().as_bytes(), "100") {
            Accepted::Carry(c) => Some((c.chat, c.update_id)),
            _ => None,
        }
    }

    fn created(sender: i64, chat_type: &str) -> serde_json::Value {
        json!({"update_type": "message_created", "timestamp": 5,
               "message": {"sender": {"user_id": sender, "first_name": "Ann"},
                           "recipient": {"chat_id": 9, "chat_type": chat_type},
                           "timestamp": 5, "body": {"mid": "mid.a", "seq": 1, "text": "hi"}}})
    }

    #[test]
    fn dialogs_are_carried_and_the_rest_ignored() {
        assert_eq!(
            accept(created(5, "dialog")),
            Some(("9".into(), "created:mid.a".into()))
        );
        assert_eq!(accept(created(5, "chat")), None);
        // The bot's own message, echoed.
        assert_eq!(accept(created(100, "dialog")), None);
        assert_eq!(
            accept(
                json!({"update_type": "bot_stopped", "timestamp": 7, "chat_id": 9,
                          "user": {"user_id": 5, "first_name": "Ann"}})
            ),
            Some(("9".into(), "bot_stopped:9:7".into()))
        );
        assert_eq!(
            accept(json!({"update_type": "dialog_muted", "timestamp": 7, "chat_id": 9})),
            None
        );
        assert!(matches!(
            accept_update(b"{not json", "100"),
            Accepted::Malformed(_)
        ));
    }

    #[test]
    fn a_vcard_gives_its_phone() {
        assert_eq!(
            vcard_phone("BEGIN:VCARD\nFN:Ann\nTEL;TYPE=cell:+7 900 000\nEND:VCARD"),
            Some("+7 900 000".into())
        );
        assert_eq!(vcard_phone("BEGIN:VCARD\nEND:VCARD"), None);
    }
}
