//! What operators do to messages already in the chat: edits, deletes, reactions.

use super::{cards, ids, text, wait, CAPTION_LIMIT, TEXT_LIMIT};
use crate::bridge::delivery::DeliveryError;
use crate::messenger::telegram::delivery::TgDelivery;
use crate::messenger::telegram::markup;
use crate::messenger::telegram::{
    EditMessageCaption, EditMessageText, ParseMode, ReactionType, SetMessageReaction, TelegramError,
};
use crate::mg::{MessageRef, MessageType, MessageUpdated, ReactionChange};

/// The Telegram message MG names; `Failed` for an id this bridge did not give.
fn target(external_message_id: &str) -> Result<(i64, i64), DeliveryError> {
    ids::parse_message_ref(external_message_id)
        .ok_or_else(|| DeliveryError::failed("the message id is not one this bridge gave"))
}

/// `message_updated`: the new text replaces the message's text, or its caption for media
/// (by `type`, or when Telegram says the message has no text). A message sent in several parts
/// gets its first part edited with the first piece of the new text: the rest of a long text
/// stays as it was (good enough for the short corrections operators make).
pub(super) async fn edit(
    d: &mut TgDelivery<'_>,
    update: &MessageUpdated,
) -> Result<(), DeliveryError> {
    let (chat_id, message_id) = target(&update.external_message_id)?;
    let parts = d
        .store
        .sent_parts_of_message(&d.channel.id, &chat_id.to_string(), &message_id.to_string())
        .await?;
    let (chat_id, message_id) = parts
        .first()
        .and_then(ids::telegram_ids)
        .unwrap_or((chat_id, message_id));
    let lang = d.account.language;
    let card = match update.r#type {
        Some(MessageType::Product) => update
            .product
            .as_ref()
            .map(|p| cards::product_card(p, lang)),
        Some(MessageType::Order) => update.order.as_ref().map(|o| cards::order_card(o, lang)),
        _ => None,
    };
    let first_piece = |limit| match &card {
        Some(lines) => text::pack_lines(lines, limit).into_iter().next(),
        None => markup::html_messages(update.content.as_deref().unwrap_or_default(), limit)
            .into_iter()
            .next(),
    };
    let text = EditMessageText {
        chat_id,
        message_id,
        text: first_piece(TEXT_LIMIT).unwrap_or_default(),
        parse_mode: Some(ParseMode::Html),
        reply_markup: None,
    };
    let caption = first_piece(CAPTION_LIMIT);
    let caption = EditMessageCaption {
        chat_id,
        message_id,
        parse_mode: caption.as_ref().map(|_| ParseMode::Html),
        caption,
        reply_markup: None,
    };
    let media = matches!(
        update.r#type,
        Some(MessageType::Image | MessageType::File | MessageType::Audio)
    );
    let mut result = if media {
        edit_caption(d, &caption).await
    } else {
        edit_text(d, &text).await
    };
    if let Err(e) = &result {
        if !media && e.describes(400, "there is no text in the message") {
            result = edit_caption(d, &caption).await;
        } else if media && e.describes(400, "there is no caption in the message") {
            result = edit_text(d, &text).await;
        }
    }
    match result {
        Ok(()) => Ok(()),
        // The same text again: already as MG wants it.
        Err(e) if e.describes(400, "message is not modified") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn edit_text(d: &TgDelivery<'_>, request: &EditMessageText) -> Result<(), TelegramError> {
    if request.text.trim().is_empty() {
        // Telegram cannot show an empty text; what it refuses, say as it would.
        return Err(TelegramError::Api {
            code: 400,
            description: "Bad Request: message text is empty".into(),
            retry_after: None,
            migrate_to_chat_id: None,
        });
    }
    wait(d, request.chat_id).await;
    d.via.bot.edit_message_text(request).await.map(|_| ())
}

async fn edit_caption(
    d: &TgDelivery<'_>,
    request: &EditMessageCaption,
) -> Result<(), TelegramError> {
    wait(d, request.chat_id).await;
    d.via.bot.edit_message_caption(request).await.map(|_| ())
}

/// `message_deleted`: every Telegram message of the MG message goes. One already gone counts as
/// deleted; a refusal (older than 48 hours) does not stop the other parts.
pub(super) async fn delete(
    d: &mut TgDelivery<'_>,
    deleted: &MessageRef,
) -> Result<(), DeliveryError> {
    let (chat_id, message_id) = target(&deleted.external_message_id)?;
    let parts = d
        .store
        .sent_parts_of_message(&d.channel.id, &chat_id.to_string(), &message_id.to_string())
        .await?;
    let targets: Vec<(i64, i64)> = if parts.is_empty() {
        vec![(chat_id, message_id)]
    } else {
        parts.iter().filter_map(ids::telegram_ids).collect()
    };
    let mut refused = None;
    for (chat_id, message_id) in targets {
        wait(d, chat_id).await;
        match d.via.bot.delete_message(chat_id, message_id).await {
            Ok(_) => {}
            Err(e) if e.describes(400, "message to delete not found") => {}
            // Whatever is left is deleted when the job runs again.
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(e) => {
                refused.get_or_insert(e);
            }
        }
    }
    refused.map_or(Ok(()), |e| Err(e.into()))
}

/// `reaction_add` sets the bot's reaction (a bot has one) to the new one; `reaction_delete`
/// clears it.
pub(super) async fn react(
    d: &mut TgDelivery<'_>,
    change: &ReactionChange,
    add: bool,
) -> Result<(), DeliveryError> {
    let (chat_id, message_id) = target(&change.external_message_id)?;
    let reaction = if add {
        let emoji = change
            .new_reaction
            .as_deref()
            .map(ids::reaction_emoji)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| DeliveryError::failed("reaction_add without a reaction"))?;
        vec![ReactionType::emoji(emoji)]
    } else {
        Vec::new()
    };
    let request = SetMessageReaction {
        chat_id,
        message_id,
        reaction,
        is_big: None,
    };
    wait(d, chat_id).await;
    d.via.bot.set_message_reaction(&request).await?;
    Ok(())
}

/// `message_read`: in a business chat whose connection may read messages, the customer's
/// message is marked read in Telegram (`readBusinessMessage`). Bots' own chats have no read
/// marks; a connection without the right is refused by Telegram, which ends here too.
pub(super) async fn read(d: &mut TgDelivery<'_>, read: &MessageRef) -> Result<(), DeliveryError> {
    if d.channel.business_connection_id.is_none() {
        return Ok(());
    }
    let Some((chat_id, message_id)) = ids::parse_message_ref(&read.external_message_id) else {
        return Ok(());
    };
    wait(d, chat_id).await;
    match d.via.bot.read_business_message(chat_id, message_id).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_transient() => Err(e.into()),
        Err(e) => {
            tracing::info!(error = %e, "Telegram did not mark the business message read");
            Ok(())
        }
    }
}
