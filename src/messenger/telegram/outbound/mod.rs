//! MG → Telegram: what operators do in the CRM's chat, done by the bot.
//!
//! - [`send_message`]: an operator's message (`message_sent`) as one or more Telegram messages
//!   (`plan` decides which; `text`, `cards` and `keyboard` write them). Each Telegram message
//!   sent is recorded at once as a part of the MG message (`store::sent`), so a job delivered
//!   again after a crash sends only what is missing. Its id for MG is `"{chat_id}:{first message_id}"`, the form
//!   the inbound side names messages with, so later quotes, edits, deletes and reactions that
//!   name it can be read back.
//! - [`apply`]: edits, deletes and reactions on messages already in the chat.
//!
//! Before every Bot API call the delivery waits on Telegram's flood limits (`TelegramRate`).
//! Telegram's refusals become [`DeliveryError`]s through its `From` impl: blocked → access
//! restricted, chat not found → customer not exists, 429 → retry after Telegram's wait.

mod changes;
mod ids;
mod keyboard;
mod plan;

use crate::bridge::delivery::DeliveryError;
use crate::bridge::operator_files::MgFile;
use crate::messenger::telegram::delivery::TgDelivery;
use crate::messenger::telegram::{
    InputFile, InputMedia, MediaKind, ParseMode, ReplyMarkup, ReplyParameters, SendMedia,
    SendMediaGroup, SendMessage, TelegramError, UploadFile,
};
use crate::mg::{MessageSent, MgWebhook, SendingErrorCode, WebhookItem};

use crate::messenger::{cards, html as text};
pub use ids::{message_ref, parse_message_ref};
use plan::{Media, Step};

/// Telegram's limits on a message's text and a media caption (visible characters).
pub const TEXT_LIMIT: usize = 4096;
pub const CAPTION_LIMIT: usize = 1024;

/// The most Telegram takes from a bot per file (multipart upload).
const FILE_LIMIT: u64 = 50 * 1024 * 1024;
/// Photos above this go as documents (Telegram's photo upload limit).
const PHOTO_LIMIT: u64 = 10 * 1024 * 1024;

/// Sends an operator's message to Telegram and returns its id for MG:
/// `"{chat_id}:{message_id of the first Telegram message}"`.
pub async fn send_message(
    d: &mut TgDelivery<'_>,
    msg: &MessageSent,
) -> Result<String, DeliveryError> {
    let chat_id = ids::chat_id(&msg.external_chat_id, &msg.external_user_id).ok_or_else(|| {
        DeliveryError::Failed {
            code: SendingErrorCode::CustomerNotExists,
            reason: "the message names no Telegram chat".into(),
        }
    })?;
    // The customer blocked the bot (`my_chat_member`, or an earlier 403): Telegram would only
    // refuse again, so MG hears it at once and nothing is retried.
    if d.store
        .is_chat_blocked(&d.channel.id, &chat_id.to_string())
        .await?
    {
        return Err(DeliveryError::Failed {
            code: SendingErrorCode::AccessRestricted,
            reason: "the customer blocked the Telegram bot".into(),
        });
    }
    let plan = plan::plan(msg, chat_id, d.account.language);
    if plan.steps.is_empty() {
        return Err(DeliveryError::failed(
            "the message has nothing Telegram can show",
        ));
    }
    let done = d.store.sent_parts(&d.channel.id, msg.id).await?;
    let mut first = done
        .iter()
        .find(|p| p.part == 0)
        .and_then(ids::telegram_ids)
        .map(|(_, id)| id);
    let last = plan.steps.len() - 1;
    let mut part = 0;
    for (index, step) in plan.steps.iter().enumerate() {
        let parts = part..part + step.parts() as i64;
        part = parts.end;
        // One recorded part means the send happened (an album's parts are recorded together
        // after it; a crash between them loses only the later ones' record).
        if done.iter().any(|p| parts.contains(&p.part)) {
            continue;
        }
        let reply = (index == 0)
            .then_some(plan.reply_to)
            .flatten()
            .map(ReplyParameters::to);
        let markup = (index == last).then(|| plan.keyboard.clone()).flatten();
        let sent = match send_step(d, chat_id, step, reply, markup).await {
            Ok(sent) => sent,
            Err(StepError::Telegram(e)) => {
                if e.is_blocked_by_user() {
                    // Later messages to this chat need not even try.
                    d.store
                        .block_chat(&d.channel.id, &chat_id.to_string())
                        .await?;
                    tracing::info!(
                        chat_id,
                        "Telegram says the customer blocked the bot: the chat is blocked"
                    );
                }
                return Err(e.into());
            }
            Err(StepError::Delivery(e)) => return Err(e),
        };
        for (offset, message_id) in sent.into_iter().enumerate() {
            let record = ids::sent_part(parts.start + offset as i64, chat_id, message_id);
            d.store
                .record_sent_part(&d.channel.id, msg.id, &record)
                .await?;
            if record.part == 0 {
                first = Some(message_id);
            }
        }
    }
    tracing::debug!(
        mg_message = msg.id,
        parts = part,
        "operator's message sent to Telegram"
    );
    first
        .map(|id| ids::message_ref(chat_id, id))
        .ok_or_else(|| DeliveryError::failed("Telegram returned no message for the first send"))
}

/// Does on Telegram what an operator did to a message: `message_updated`, `message_deleted`,
/// `reaction_add`, `reaction_delete`. The others have nothing to do there (`message_read`:
/// Telegram has no read receipts for bots; templates: our channels do not create them).
pub async fn apply(d: &mut TgDelivery<'_>, hook: &MgWebhook) -> Result<(), DeliveryError> {
    match hook {
        // Callers use `send_message` for these (MG needs the id it returns); kept total.
        MgWebhook::MessageSent(msg) => send_message(d, msg).await.map(|_| ()),
        MgWebhook::MessageUpdated(update) => changes::edit(d, update).await,
        MgWebhook::MessageDeleted(deleted) => changes::delete(d, deleted).await,
        MgWebhook::ReactionAdd(change) => changes::react(d, change, true).await,
        MgWebhook::ReactionDelete(change) => changes::react(d, change, false).await,
        MgWebhook::MessageRead(read) => changes::read(d, read).await,
        MgWebhook::TemplateCreate(_)
        | MgWebhook::TemplateUpdate(_)
        | MgWebhook::TemplateDelete(_)
        | MgWebhook::Unknown(_) => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Sending

/// Why a planned send failed: Telegram's refusal is kept as it is, so `send_message` can tell
/// a customer who blocked the bot from other refusals.
enum StepError {
    Telegram(TelegramError),
    Delivery(DeliveryError),
}

impl From<TelegramError> for StepError {
    fn from(e: TelegramError) -> Self {
        Self::Telegram(e)
    }
}

impl From<DeliveryError> for StepError {
    fn from(e: DeliveryError) -> Self {
        Self::Delivery(e)
    }
}

/// Makes one planned send; returns the ids of the Telegram messages it made, in order.
async fn send_step(
    d: &mut TgDelivery<'_>,
    chat_id: i64,
    step: &Step<'_>,
    reply: Option<ReplyParameters>,
    markup: Option<ReplyMarkup>,
) -> Result<Vec<i64>, StepError> {
    match step {
        Step::Text(html) => {
            let request = SendMessage {
                parse_mode: Some(ParseMode::Html),
                reply_parameters: reply,
                reply_markup: markup,
                ..SendMessage::new(chat_id, html.clone())
            };
            wait(d, chat_id).await;
            Ok(vec![d.via.bot.send_message(&request).await?.message_id])
        }
        Step::File {
            kind,
            item,
            caption,
        } => {
            let described = describe(d, item, default_name(*kind)).await?;
            let _memory = d.reserve_files(described.reserve).await;
            let file = download(d, described).await?;
            let size = file.bytes.len() as u64;
            let voice = is_voice(file.mime_type.as_deref());
            let request = SendMedia {
                caption: caption.clone(),
                parse_mode: caption.as_ref().map(|_| ParseMode::Html),
                reply_parameters: reply,
                reply_markup: markup,
                ..SendMedia::new(chat_id, InputFile::Upload(file))
            };
            wait(d, chat_id).await;
            let sent = match kind {
                Media::Photo if size > PHOTO_LIMIT => d.via.bot.send_document(&request).await,
                Media::Photo => match d.via.bot.send_photo(&request).await {
                    // Sizes Telegram will not show as a photo still reach the customer.
                    Err(e) if photo_refused(&e) => {
                        wait(d, chat_id).await;
                        d.via.bot.send_document(&request).await
                    }
                    other => other,
                },
                Media::Document => d.via.bot.send_document(&request).await,
                Media::Audio if voice => d.via.bot.send_voice(&request).await,
                Media::Audio => d.via.bot.send_audio(&request).await,
            };
            Ok(vec![sent?.message_id])
        }
        Step::Album {
            kind,
            items,
            caption,
        } => {
            let mut described = Vec::with_capacity(items.len());
            for item in items {
                described.push(describe(d, item, default_name(*kind)).await?);
            }
            // The whole album's memory at once (see `bridge::file_budget`).
            let _memory = d
                .reserve_files(described.iter().map(|f| f.reserve).sum())
                .await;
            let mut files = Vec::with_capacity(items.len());
            for file in described {
                files.push(download(d, file).await?);
            }
            let kind = match kind {
                Media::Photo if files.iter().all(|f| f.bytes.len() as u64 <= PHOTO_LIMIT) => {
                    MediaKind::Photo
                }
                _ => MediaKind::Document,
            };
            let media = files
                .into_iter()
                .enumerate()
                .map(|(i, file)| InputMedia {
                    caption: if i == 0 { caption.clone() } else { None },
                    parse_mode: (i == 0 && caption.is_some()).then_some(ParseMode::Html),
                    ..InputMedia::new(kind, InputFile::Upload(file))
                })
                .collect();
            let request = SendMediaGroup {
                chat_id,
                media,
                reply_parameters: reply,
                disable_notification: None,
            };
            wait(d, chat_id).await;
            let sent = d.via.bot.send_media_group(&request).await?;
            Ok(sent.into_iter().map(|m| m.message_id).collect())
        }
        Step::CardPhoto { url, caption } => {
            let request = SendMedia {
                caption: Some(caption.clone()),
                parse_mode: Some(ParseMode::Html),
                reply_parameters: reply.clone(),
                reply_markup: markup.clone(),
                ..SendMedia::new(chat_id, InputFile::Url(url.clone()))
            };
            wait(d, chat_id).await;
            match d.via.bot.send_photo(&request).await {
                Ok(message) => Ok(vec![message.message_id]),
                // The shop's picture could not be fetched or used: the card without it.
                Err(e) if is_bad_request(&e) => {
                    tracing::info!(error = %e, "a card's picture was refused: sending the card as text");
                    let request = SendMessage {
                        parse_mode: Some(ParseMode::Html),
                        reply_parameters: reply,
                        reply_markup: markup,
                        ..SendMessage::new(chat_id, caption.clone())
                    };
                    wait(d, chat_id).await;
                    Ok(vec![d.via.bot.send_message(&request).await?.message_id])
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// An attachment MG has described, with the name Telegram shows it under.
struct Described {
    file: MgFile,
    name: String,
    reserve: u64,
}

/// Asks MG about an attachment; refuses one larger than Telegram takes before any download.
async fn describe(
    d: &mut TgDelivery<'_>,
    item: &WebhookItem,
    fallback_name: &str,
) -> Result<Described, DeliveryError> {
    let too_big = "the file is larger than the 50 MB Telegram accepts";
    let file = d.describe_file(item, FILE_LIMIT, too_big).await?;
    Ok(Described {
        name: ids::file_name(item.caption.as_deref(), &file.url, fallback_name),
        reserve: file.reserve,
        file,
    })
}

/// Downloads a described file (within what was reserved for it) for upload.
async fn download(
    d: &mut TgDelivery<'_>,
    described: Described,
) -> Result<UploadFile, DeliveryError> {
    let bytes = d.download_file(&described.file).await?;
    let mut upload = UploadFile::new(described.name, bytes);
    upload.mime_type = described.file.mime_type;
    Ok(upload)
}

fn default_name(kind: Media) -> &'static str {
    match kind {
        Media::Photo => "photo.jpg",
        Media::Document => "file",
        Media::Audio => "audio",
    }
}

/// OGG (Opus) is what Telegram plays as a voice message; other audio goes to the music player.
fn is_voice(mime: Option<&str>) -> bool {
    mime.is_some_and(|m| {
        let m = m.to_ascii_lowercase();
        m.starts_with("audio/ogg") || m.starts_with("audio/opus")
    })
}

fn photo_refused(e: &TelegramError) -> bool {
    [
        "PHOTO_INVALID_DIMENSIONS",
        "IMAGE_PROCESS_FAILED",
        "PHOTO_SAVE_FILE_INVALID",
    ]
    .iter()
    .any(|what| e.describes(400, what))
}

/// A 400 that is about the request itself (not "chat not found", which must fail the send).
fn is_bad_request(e: &TelegramError) -> bool {
    matches!(e, TelegramError::Api { code: 400, .. }) && !e.is_chat_not_found()
}

pub(super) async fn wait(d: &TgDelivery<'_>, chat_id: i64) {
    d.via.rate.until_ready(d.via.bot.id(), chat_id).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_is_ogg_only() {
        assert!(is_voice(Some("audio/ogg")));
        assert!(is_voice(Some("audio/ogg; codecs=opus")));
        assert!(is_voice(Some("Audio/OPUS")));
        assert!(!is_voice(Some("audio/mpeg")));
        assert!(!is_voice(None));
    }

    #[test]
    fn telegram_refusals_are_told_apart() {
        let api = |code, text: &str| TelegramError::Api {
            code,
            description: text.into(),
            retry_after: None,
            migrate_to_chat_id: None,
        };
        assert!(photo_refused(&api(
            400,
            "Bad Request: PHOTO_INVALID_DIMENSIONS"
        )));
        assert!(!photo_refused(&api(400, "Bad Request: chat not found")));
        assert!(is_bad_request(&api(
            400,
            "Bad Request: wrong file identifier/HTTP URL specified"
        )));
        assert!(!is_bad_request(&api(400, "Bad Request: chat not found")));
        assert!(!is_bad_request(&api(
            403,
            "Forbidden: bot was blocked by the user"
        )));
        assert!(api(
            400,
            "Bad Request: message is not modified: specified new message content"
        )
        .describes(400, "Message is not modified"));
    }
}
