//! Telegram → MG: one update from a customer, delivered to MessageGateway.
//!
//! - `message` → `POST /messages` (text with its markup, files through `media`, the rest as
//!   readable text: nothing is dropped but a blank text);
//! - `edited_message` → `PUT /messages`;
//! - `message_reaction` → `POST`/`DELETE /messages/reaction`, one call per emoji changed;
//! - `my_chat_member` → nothing to MG: the customer blocked the bot (`kicked`) or unblocked it
//!   (`member`), and the chat is marked so (`store::chats`); operators' messages to a blocked
//!   chat are refused at once (`outbound`).
//!
//! Messages are named in MG by `"{chat_id}:{message_id}"` (`content::message_external_id`),
//! the same form the operators' messages we sent to Telegram get, so replies and reactions to
//! either map alike. Only private chats are bridged.

mod accept;
mod business;
mod content;
mod customer;
mod long;
mod media;
mod payload;
mod text;

use std::collections::BTreeSet;

use crate::bridge::delivery::DeliveryError;
use crate::bridge::mg_access::MgAccessError;
use crate::messenger::telegram::delivery::TgDelivery;
use crate::messenger::telegram::markup;
use crate::messenger::telegram::{
    Chat, ChatMemberStatus, ChatMemberUpdated, ChatType, Message, MessageReactionUpdated,
    ReactionType, Update,
};
use crate::mg::{
    AddReactionRequest, DeleteReactionRequest, EditMessageRequest, EditedMessage,
    MessageIdentifier, MgChannelId, MgError, NewMessage, SendMessageRequest,
};

pub use accept::{accept_update, Accepted, Carried};
pub use content::{message_external_id, DOWNLOAD_LIMIT};
pub use payload::{decode_update, encode_update};
pub use text::full_name;

use content::{content_of, media_message, text_message, Content};
use customer::{customer_of, user_of_chat};
use media::Fetched;

/// Delivers one update. Kinds the bridge does not carry end in `Ok` with a log line.
pub async fn deliver_update(d: &mut TgDelivery<'_>, update: &Update) -> Result<(), DeliveryError> {
    if let Some(message) = &update.message {
        if is_private(&message.chat, update.update_id) {
            return deliver_message(d, message).await;
        }
    } else if let Some(message) = &update.edited_message {
        if is_private(&message.chat, update.update_id) {
            return deliver_edit(d, message).await;
        }
    } else if let Some(reaction) = &update.message_reaction {
        if is_private(&reaction.chat, update.update_id) {
            return deliver_reaction(d, reaction).await;
        }
    } else if let Some(message) = &update.business_message {
        if is_private(&message.chat, update.update_id) {
            return deliver_message(d, message).await;
        }
    } else if let Some(message) = &update.edited_business_message {
        if is_private(&message.chat, update.update_id) {
            return deliver_edit(d, message).await;
        }
    } else if let Some(deleted) = &update.deleted_business_messages {
        return business::deliver_deleted(d, deleted).await;
    } else if let Some(change) = &update.my_chat_member {
        if is_private(&change.chat, update.update_id) {
            return deliver_member_change(d, change).await;
        }
    } else {
        tracing::info!(
            update_id = update.update_id,
            kind = update.kind(),
            "this kind of update is not bridged; skipped"
        );
    }
    Ok(())
}

/// The ingest filters other chats already; this is the second line.
fn is_private(chat: &Chat, update_id: i64) -> bool {
    if chat.kind == ChatType::Private {
        return true;
    }
    tracing::info!(
        update_id,
        chat_id = chat.id,
        chat_type = ?chat.kind,
        "group chats are not bridged; update skipped"
    );
    false
}

async fn deliver_message(d: &mut TgDelivery<'_>, message: &Message) -> Result<(), DeliveryError> {
    let Some(content) = content_of(message) else {
        tracing::info!(
            chat_id = message.chat.id,
            message_id = message.message_id,
            "the message has only a blank text; skipped"
        );
        return Ok(());
    };
    let new = match content {
        Content::Text(text) => text_message(message, text),
        Content::Media(media) => match media::upload(d, &media).await? {
            Fetched::Uploaded(file) => media_message(message, &media, file),
            Fetched::TooLarge(size) => text_message(message, media.too_large_notice(size)),
        },
    };
    // Past MG's text limit: several messages, in order (`long`).
    for (k, part) in long::split_long(new).into_iter().enumerate() {
        let mut request = send_request(d, message, part);
        if k > 0 {
            request.quote = None;
        }
        send(d, request).await?;
    }
    Ok(())
}

/// The whole `POST /messages` body for a message and its mapped content.
fn send_request(d: &TgDelivery<'_>, message: &Message, new: NewMessage) -> SendMessageRequest {
    // In a business chat the owner writes too, from their phone: the customer is then the
    // chat's user, and the message is the channel's own (`business::is_owners`).
    let owners = business::is_owners(message);
    let user = match (&message.from, owners) {
        (Some(from), false) => from.clone(),
        _ => user_of_chat(&message.chat),
    };
    let avatar = d.avatars.url_for(&d.channel.id, &user.id.to_string());
    SendMessageRequest {
        channel: MgChannelId(d.channel.mg_channel_id),
        external_chat_id: message.chat.id.to_string(),
        secondary_external_chat_ids: None,
        customer: Some(customer_of(&user, Some(avatar))),
        message: new,
        originator: owners.then_some(crate::mg::Originator::Channel),
        quote: quote_of(message),
        reply_deadline: business::reply_deadline(message, owners),
    }
}

/// The replied-to message, by our external id (replies stay within the chat).
fn quote_of(message: &Message) -> Option<MessageIdentifier> {
    message.reply_to_message.as_deref().map(|replied| {
        MessageIdentifier::external_id(message_external_id(message.chat.id, replied.message_id))
    })
}

/// `POST /messages`; a duplicate external id means an earlier attempt got through.
async fn send(
    d: &mut TgDelivery<'_>,
    mut request: SendMessageRequest,
) -> Result<(), DeliveryError> {
    match send_once(d, &request).await {
        Err(MgAccessError::Mg(MgError::Api { status, .. }))
            if (400..500).contains(&status) && request.quote.is_some() =>
        {
            // A reply to a message MG does not know (older than the bridge, or one it refused)
            // is refused whole (UNVERIFIED which error MG gives, so any 4xx): deliver the
            // message without its quote rather than lose it.
            tracing::info!(
                channel = d.channel.mg_channel_id,
                external_chat_id = %request.external_chat_id,
                "MG refused the message with its quote; sending it without"
            );
            request.quote = None;
            send_once(d, &request).await.map_err(Into::into)
        }
        other => other.map_err(Into::into),
    }
}

async fn send_once(
    d: &mut TgDelivery<'_>,
    request: &SendMessageRequest,
) -> Result<(), MgAccessError> {
    match d
        .mg
        .call(
            d.account,
            |api| async move { api.send_message(request).await },
        )
        .await
    {
        Ok(_) => {
            d.new_message_posted();
            Ok(())
        }
        Err(MgAccessError::Mg(e)) if e.is_duplicate_external_id() => {
            tracing::debug!(
                external_id = request.message.external_id.as_deref(),
                "MG already has this message (a redelivery)"
            );
            d.new_message_posted();
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The customer edited a message: its new text, or its media's new caption. MG documents
/// text edits only; a caption edit is sent the same way (UNVERIFIED whether MG applies it to
/// a media message's note) rather than dropped.
async fn deliver_edit(d: &mut TgDelivery<'_>, message: &Message) -> Result<(), DeliveryError> {
    let Some(text) = [
        (&message.text, &message.entities),
        (&message.caption, &message.caption_entities),
    ]
    .into_iter()
    .find_map(|(text, entities)| {
        let text = text.as_deref().filter(|t| !t.trim().is_empty())?;
        Some(markup::to_mg(text, entities))
    }) else {
        tracing::debug!(
            chat_id = message.chat.id,
            message_id = message.message_id,
            "an edit without text (media replaced, live location moved, caption removed); skipped"
        );
        return Ok(());
    };
    let text = long::cut_long(text);
    let request = edit_request(MgChannelId(d.channel.mg_channel_id), message, text);
    let request = &request;
    d.mg.call(
        d.account,
        |api| async move { api.edit_message(request).await },
    )
    .await?;
    Ok(())
}

fn edit_request(channel: MgChannelId, message: &Message, text: String) -> EditMessageRequest {
    EditMessageRequest {
        channel,
        message: EditedMessage {
            id: None,
            external_id: Some(message_external_id(message.chat.id, message.message_id)),
            text,
            edited_at: message.edit_date,
            page_link: None,
        },
    }
}

/// The customer blocked or unblocked the bot. Other statuses (`left`, …) do not happen to a
/// bot in a private chat; they are logged and change nothing.
async fn deliver_member_change(
    d: &mut TgDelivery<'_>,
    change: &ChatMemberUpdated,
) -> Result<(), DeliveryError> {
    let chat = change.chat.id.to_string();
    match change.new_chat_member.status {
        ChatMemberStatus::Kicked => {
            d.store.block_chat(&d.channel.id, &chat).await?;
            tracing::info!(chat = %chat, "the customer blocked the Telegram bot: the chat is blocked");
        }
        ChatMemberStatus::Member => {
            d.store.unblock_chat(&d.channel.id, &chat).await?;
            tracing::info!(chat = %chat, "the customer unblocked the Telegram bot: the chat is open");
        }
        status => {
            tracing::info!(chat = %chat, ?status, "the bot's status in a private chat changed; nothing to do");
        }
    }
    Ok(())
}

/// Reactions changed: each emoji taken away is deleted in MG, then each one added is added.
async fn deliver_reaction(
    d: &mut TgDelivery<'_>,
    update: &MessageReactionUpdated,
) -> Result<(), DeliveryError> {
    let channel = MgChannelId(d.channel.mg_channel_id);
    let message =
        MessageIdentifier::external_id(message_external_id(update.chat.id, update.message_id));
    let (removed, added) = reaction_changes(&update.old_reaction, &update.new_reaction);
    for reaction in removed {
        let request = DeleteReactionRequest {
            channel,
            message: message.clone(),
            reaction: Some(reaction),
        };
        let request = &request;
        d.mg.call(d.account, |api| async move {
            api.delete_reaction(request).await
        })
        .await?;
    }
    for reaction in added {
        let request = AddReactionRequest {
            channel,
            message: message.clone(),
            reaction,
        };
        let request = &request;
        d.mg.call(
            d.account,
            |api| async move { api.add_reaction(request).await },
        )
        .await?;
    }
    Ok(())
}

/// (removed, added) emoji between two reaction lists. Custom-emoji and paid reactions have no
/// MG counterpart and are skipped.
fn reaction_changes(old: &[ReactionType], new: &[ReactionType]) -> (Vec<String>, Vec<String>) {
    let emoji = |list: &[ReactionType]| -> BTreeSet<String> {
        list.iter()
            .filter_map(|r| match r {
                ReactionType::Emoji { emoji } => Some(emoji.clone()),
                other => {
                    tracing::debug!(reaction = ?other, "not an emoji reaction; MG has no such reaction");
                    None
                }
            })
            .collect()
    };
    let (old, new) = (emoji(old), emoji(new));
    (
        old.difference(&new).cloned().collect(),
        new.difference(&old).cloned().collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(value: serde_json::Value) -> Message {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_reply_quotes_the_replied_message_by_our_id() {
        let m = message(json!({
            "message_id": 50, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "yes",
            "reply_to_message": {"message_id": 49, "date": 1, "chat": {"id": 5, "type": "private"}}
        }));
        assert_eq!(quote_of(&m), Some(MessageIdentifier::external_id("5:49")));
        let plain =
            message(json!({"message_id": 50, "date": 1, "chat": {"id": 5, "type": "private"}}));
        assert_eq!(quote_of(&plain), None);
    }

    #[test]
    fn an_edit_names_the_message_and_its_edit_time() {
        let m = message(json!({
            "message_id": 42, "date": 1735689600, "edit_date": 1735689660,
            "chat": {"id": 7012345678_i64, "type": "private"}, "text": "red one"
        }));
        assert_eq!(
            serde_json::to_value(edit_request(MgChannelId(3), &m, "red one".into())).unwrap(),
            json!({"channel": 3, "message": {"external_id": "7012345678:42", "text": "red one",
                   "edited_at": 1735689660}})
        );
    }

    #[test]
    fn reaction_changes_are_per_emoji_and_skip_other_kinds() {
        let (removed, added) = reaction_changes(
            &[ReactionType::emoji("👍"), ReactionType::emoji("🔥")],
            &[
                ReactionType::emoji("🔥"),
                ReactionType::emoji("❤"),
                ReactionType::CustomEmoji {
                    custom_emoji_id: "1".into(),
                },
                ReactionType::Paid,
                ReactionType::Unknown,
            ],
        );
        assert_eq!(removed, ["👍"]);
        assert_eq!(added, ["❤"]);
        let (removed, added) = reaction_changes(&[ReactionType::emoji("👍")], &[]);
        assert_eq!((removed, added), (vec!["👍".to_owned()], vec![]));
    }
}
