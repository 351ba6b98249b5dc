//! What is particular to a business account's chats (Telegram Business): the owner writes in
//! them too, the bot may answer only within 24 hours of the customer's last message, and
//! Telegram reports deletions, which regular bot chats never do.

use time::{Duration, OffsetDateTime};

use super::content::message_external_id;
use crate::bridge::delivery::DeliveryError;
use crate::messenger::telegram::delivery::TgDelivery;
use crate::messenger::telegram::{BusinessMessagesDeleted, Message};

/// `can_reply` lets a business bot answer chats with an incoming message in the last 24 hours.
const REPLY_WINDOW: Duration = Duration::hours(24);

/// A message the account's owner wrote (from their phone): in a private business chat the
/// customer is the chat, so a sender who is not the chat is the owner. It goes to MG as the
/// channel's own outgoing message (`originator: channel`, which transport-api.md §4.2 gives
/// for messages the business sent from the messenger's app), never as the customer's.
pub fn is_owners(message: &Message) -> bool {
    message.business_connection_id.is_some()
        && message
            .from
            .as_ref()
            .is_some_and(|from| from.id != message.chat.id)
}

/// The last moment an operator may answer a customer's business message: MG shows it, and
/// holds replies past it (the channel declares `after_reply_timeout: no`).
pub fn reply_deadline(message: &Message, owners: bool) -> Option<OffsetDateTime> {
    if message.business_connection_id.is_none() || owners {
        return None;
    }
    OffsetDateTime::from_unix_timestamp(message.date)
        .ok()
        .map(|sent| sent + REPLY_WINDOW)
}

/// The customer (or the owner) deleted messages: each is deleted in MG. One MG never had is
/// already as it should be.
pub async fn deliver_deleted(
    d: &mut TgDelivery<'_>,
    deleted: &BusinessMessagesDeleted,
) -> Result<(), DeliveryError> {
    for message_id in &deleted.message_ids {
        d.delete_in_mg(message_external_id(deleted.chat.id, *message_id))
            .await?;
    }
    Ok(())
}
