//! MG → MAX: what operators do in the CRM's chat, done by the MAX bot.
//!
//! - [`send_message`]: one MAX message carries the operator's files (uploaded through
//!   `POST /uploads`) and the first piece of the text, in MAX's `html` format (escaped; cards as
//!   the same lines Telegram gets); text past MAX's 4,000 characters follows in more messages;
//!   suggestions are an inline keyboard on the last one (`message` buttons send their text,
//!   `link` buttons open a URL). A quote becomes `link: {type: reply}`. Each MAX message is
//!   recorded as a part at once (`store::sent`), so a redelivery sends only what is missing.
//!   Its id for MG is the first message's `mid`.
//! - [`apply`]: edits (`PUT /messages`, the first part) and deletes (`DELETE /messages`, every
//!   part). MAX has no bot reactions: reactions are skipped with a log line.
//!
//! A chat whose customer stopped the bot (`bot_stopped`) is refused at once with
//! `access_restricted`, before any call.

use bytes::Bytes;

use super::client::To;
use super::delivery::MaxDelivery;
use super::types::{
    AttachmentRequest, Button, Keyboard, NewMessageBody, NewMessageLink, TextFormat, UploadType,
};
use crate::bridge::delivery::DeliveryError;
use crate::messenger::cards::{order_card, product_card, template_text};
use crate::messenger::html::{is_blank, is_web_url, pack_lines, text_messages};
use crate::mg::{
    MessageSent, MessageType, MessageUpdated, MgWebhook, SendingErrorCode, Suggestion,
    SuggestionType, WebhookItem,
};
use crate::store::SentPart;

/// MAX's limit on a message's text.
const TEXT_LIMIT: usize = 4000;
/// The most we send one file of (MAX takes up to 2 GB; MG's own files are far smaller).
const FILE_LIMIT: u64 = 100 * 1024 * 1024;
/// A keyboard's buttons, at most (MAX allows 210; a chat suggests a few).
const BUTTONS_MAX: usize = 30;

/// Sends an operator's message to MAX and returns its id for MG: the first message's `mid`.
pub async fn send_message(
    d: &mut MaxDelivery<'_>,
    msg: &MessageSent,
) -> Result<String, DeliveryError> {
    let (to, chat) = target(msg)?;
    if d.store.is_chat_blocked(&d.channel.id, &chat).await? {
        return Err(DeliveryError::Failed {
            code: SendingErrorCode::AccessRestricted,
            reason: "the customer stopped the MAX bot".into(),
        });
    }
    let texts = texts_of(msg, d.account.language);
    let keyboard = msg
        .attachments
        .as_ref()
        .and_then(|a| keyboard(&a.suggestions));
    if texts.is_empty() && msg.items.is_empty() {
        return Err(DeliveryError::failed(
            "the message has nothing MAX can show",
        ));
    }
    let done = d.store.sent_parts(&d.channel.id, msg.id).await?;
    let count = texts.len().max(1);
    let mut first = done
        .iter()
        .find(|p| p.part == 0)
        .map(|p| p.message_id.clone());
    for part in 0..count {
        if done.iter().any(|p| p.part == part as i64) {
            continue;
        }
        let mut attachments = Vec::new();
        if part == 0 {
            for item in &msg.items {
                attachments.push(upload(d, msg.r#type, item).await?);
            }
        }
        if part == count - 1 {
            if let Some(keyboard) = keyboard.clone() {
                attachments.push(AttachmentRequest::InlineKeyboard { payload: keyboard });
            }
        }
        let body = NewMessageBody {
            text: texts.get(part).cloned(),
            attachments: (!attachments.is_empty()).then_some(attachments),
            link: (part == 0)
                .then(|| msg.quote_external_id.clone())
                .flatten()
                .filter(|mid| !is_blank(mid))
                .map(NewMessageLink::reply),
            format: Some(TextFormat::Html),
        };
        let sent = send(d, to, body).await?;
        let record = SentPart {
            part: part as i64,
            chat_id: chat.clone(),
            message_id: sent.clone(),
        };
        d.store
            .record_sent_part(&d.channel.id, msg.id, &record)
            .await?;
        if part == 0 {
            first = Some(sent);
        }
    }
    first.ok_or_else(|| DeliveryError::failed("MAX returned no message for the first send"))
}

/// Sends, and drops a reply link MAX refuses (a quote of a message it does not know) rather
/// than the message.
async fn send(
    d: &mut MaxDelivery<'_>,
    to: To,
    mut body: NewMessageBody,
) -> Result<String, DeliveryError> {
    loop {
        d.via.rate.until_ready(&d.channel.bot_id).await;
        match d.via.bot.send_message(to, &body).await {
            Ok(sent) => return Ok(sent.body.mid),
            Err(e @ super::MaxError::Api { status: 400, .. })
                if body.link.is_some() && !e.is_attachment_not_ready() =>
            {
                tracing::info!(error = %e, "MAX refused the message with its reply; sending it without");
                body.link = None;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The chat MG names: a dialog's id, else the customer's user id.
fn target(msg: &MessageSent) -> Result<(To, String), DeliveryError> {
    if let Ok(chat) = msg.external_chat_id.trim().parse::<i64>() {
        return Ok((To::Chat(chat), chat.to_string()));
    }
    if let Ok(user) = msg.external_user_id.trim().parse::<i64>() {
        return Ok((To::User(user), user.to_string()));
    }
    Err(DeliveryError::Failed {
        code: SendingErrorCode::CustomerNotExists,
        reason: "the message names no MAX chat".into(),
    })
}

/// The message's text as MAX messages (HTML), in order.
fn texts_of(msg: &MessageSent, lang: crate::i18n::Lang) -> Vec<String> {
    let content = msg.content.as_deref().unwrap_or_default();
    let card = match msg.r#type {
        Some(MessageType::Product) => msg.product.as_ref().map(|p| product_card(p, lang)),
        Some(MessageType::Order) => msg.order.as_ref().map(|o| order_card(o, lang)),
        _ => None,
    };
    if let Some(lines) = card {
        return pack_lines(&lines, TEXT_LIMIT);
    }
    if !is_blank(content) {
        return text_messages(content, TEXT_LIMIT);
    }
    msg.template
        .as_ref()
        .and_then(template_text)
        .map(|t| text_messages(&t, TEXT_LIMIT))
        .unwrap_or_default()
}

/// Suggestions as an inline keyboard: URL ones open the link, the others send their text.
fn keyboard(suggestions: &[Suggestion]) -> Option<Keyboard> {
    let rows: Vec<Vec<Button>> = suggestions
        .iter()
        .filter_map(|s| {
            let label = s
                .title
                .as_deref()
                .filter(|t| !is_blank(t))
                .or(s.payload.as_deref().filter(|p| !is_blank(p)))?
                .trim()
                .chars()
                .take(128)
                .collect::<String>();
            let url = s
                .payload
                .as_deref()
                .map(str::trim)
                .filter(|p| is_web_url(p));
            Some(vec![match (s.r#type, url) {
                (SuggestionType::Url, Some(url)) => Button::Link {
                    text: label,
                    url: url.to_owned(),
                },
                _ => Button::Message { text: label },
            }])
        })
        .take(BUTTONS_MAX)
        .collect();
    (!rows.is_empty()).then_some(Keyboard { buttons: rows })
}

/// Fetches one of the operator's files from MG (within the memory budget) and uploads it.
async fn upload(
    d: &mut MaxDelivery<'_>,
    kind: Option<MessageType>,
    item: &WebhookItem,
) -> Result<AttachmentRequest, DeliveryError> {
    let described = d
        .describe_file(
            item,
            FILE_LIMIT,
            "the file is larger than the bridge sends to MAX",
        )
        .await?;
    // One file at a time: it is uploaded and let go before the next is reserved.
    let _memory = d.reserve_files(described.reserve).await;
    let bytes: Bytes = d.download_file(&described).await?;
    let (url, info_mime) = (described.url, described.mime_type);
    // Header values cannot hold control characters: a stray newline would fail every attempt.
    let mime = info_mime
        .as_deref()
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| "application/octet-stream".into());
    let upload_type = match kind {
        Some(MessageType::Image) if mime.starts_with("image/") => UploadType::Image,
        Some(MessageType::Audio) => UploadType::Audio,
        _ if mime.starts_with("video/") => UploadType::Video,
        _ => UploadType::File,
    };
    let name = file_name(item.caption.as_deref(), &url);
    d.via.rate.until_ready(&d.channel.bot_id).await;
    let uploaded = d.via.bot.upload(upload_type, &name, &mime, bytes).await?;
    Ok(match upload_type {
        UploadType::Image => AttachmentRequest::Image { payload: uploaded },
        UploadType::Video => AttachmentRequest::Video { payload: uploaded },
        UploadType::Audio => AttachmentRequest::Audio { payload: uploaded },
        UploadType::File => AttachmentRequest::File { payload: uploaded },
    })
}

/// The caption MG gave a file (its name, from our inbound side and the CRM's), else the last
/// segment of its URL, cleaned of what a header cannot carry, at most 255 characters.
fn file_name(caption: Option<&str>, url: &str) -> String {
    let from_url = url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|s| !s.is_empty());
    let raw = caption
        .filter(|c| !is_blank(c))
        .or(from_url)
        .unwrap_or("file");
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/'))
        .take(255)
        .collect();
    if cleaned.trim().is_empty() {
        "file".into()
    } else {
        cleaned.trim().to_owned()
    }
}

/// Does on MAX what an operator did to a message already sent.
pub async fn apply(d: &mut MaxDelivery<'_>, hook: &MgWebhook) -> Result<(), DeliveryError> {
    match hook {
        MgWebhook::MessageSent(msg) => send_message(d, msg).await.map(|_| ()),
        MgWebhook::MessageUpdated(update) => edit(d, update).await,
        MgWebhook::MessageDeleted(deleted) => {
            for mid in parts_of(d, &deleted.external_chat_id, &deleted.external_message_id).await? {
                d.via.rate.until_ready(&d.channel.bot_id).await;
                match d.via.bot.delete_message(&mid).await {
                    // Already gone.
                    Err(e) if e.is_not_found() => {}
                    other => other?,
                }
            }
            Ok(())
        }
        MgWebhook::ReactionAdd(_) | MgWebhook::ReactionDelete(_) => {
            tracing::debug!("MAX bots cannot react to messages; reaction skipped");
            Ok(())
        }
        MgWebhook::MessageRead(_)
        | MgWebhook::TemplateCreate(_)
        | MgWebhook::TemplateUpdate(_)
        | MgWebhook::TemplateDelete(_)
        | MgWebhook::Unknown(_) => Ok(()),
    }
}

/// Every MAX message of the MG message whose id for MG is `mid` (just `mid` when we did not
/// record its parts, or they expired).
async fn parts_of(
    d: &MaxDelivery<'_>,
    chat: &str,
    mid: &str,
) -> Result<Vec<String>, DeliveryError> {
    if is_blank(mid) {
        return Err(DeliveryError::failed("the message id is empty"));
    }
    let parts = d
        .store
        .sent_parts_of_message(&d.channel.id, chat.trim(), mid)
        .await?;
    Ok(if parts.is_empty() {
        vec![mid.to_owned()]
    } else {
        parts.into_iter().map(|p| p.message_id).collect()
    })
}

/// `message_updated`: the first part gets the new text's first piece; its files stay.
async fn edit(d: &mut MaxDelivery<'_>, update: &MessageUpdated) -> Result<(), DeliveryError> {
    let parts = parts_of(d, &update.external_chat_id, &update.external_message_id).await?;
    let lang = d.account.language;
    let card = match update.r#type {
        Some(MessageType::Product) => update.product.as_ref().map(|p| product_card(p, lang)),
        Some(MessageType::Order) => update.order.as_ref().map(|o| order_card(o, lang)),
        _ => None,
    };
    let text = match card {
        Some(lines) => pack_lines(&lines, TEXT_LIMIT).into_iter().next(),
        None => text_messages(update.content.as_deref().unwrap_or_default(), TEXT_LIMIT)
            .into_iter()
            .next(),
    };
    let Some(text) = text else {
        return Err(DeliveryError::failed("MAX cannot show an empty text"));
    };
    let body = NewMessageBody {
        text: Some(text),
        attachments: None,
        link: None,
        format: Some(TextFormat::Html),
    };
    d.via.rate.until_ready(&d.channel.bot_id).await;
    d.via.bot.edit_message(&parts[0], &body).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_become_message_and_link_buttons() {
        let suggestions: Vec<Suggestion> = serde_json::from_value(serde_json::json!([
            {"type": "text", "title": "Yes"},
            {"type": "url", "title": "Track", "payload": "https://t.example/1"},
            {"type": "url", "title": "Bad", "payload": "javascript:x"},
            {"type": "text", "title": "  "}
        ]))
        .unwrap();
        let keyboard = keyboard(&suggestions).unwrap();
        assert_eq!(
            serde_json::to_value(&keyboard).unwrap(),
            serde_json::json!({"buttons": [
                [{"type": "message", "text": "Yes"}],
                [{"type": "link", "text": "Track", "url": "https://t.example/1"}],
                [{"type": "message", "text": "Bad"}]
            ]})
        );
        assert!(keyboard_of_nothing().is_none());
    }

    fn keyboard_of_nothing() -> Option<Keyboard> {
        keyboard(&[])
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(file_name(Some("a\nb.pdf"), "https://x/y"), "ab.pdf");
        assert_eq!(file_name(None, "https://x/files/c.png?sig=1"), "c.png");
        assert_eq!(file_name(None, "https://x/"), "file");
    }
}
