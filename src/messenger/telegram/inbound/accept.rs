//! What the Telegram webhook makes of a body it was posted (once the request is authenticated):
//! an update the bridge carries, for its chat's lane; one it answers and ignores; or a body it
//! refuses. Nothing is stored here.

use super::payload::encode_update;
use crate::messenger::telegram::{ChatType, Update};

use crate::messenger::telegram::BusinessConnection;
use crate::messenger::BusinessAccount;
pub use crate::messenger::{Accepted, Carried};

pub fn accept_update(body: &[u8]) -> Accepted {
    let update: Update = match serde_json::from_slice(body) {
        Ok(update) => update,
        Err(e) => return Accepted::Malformed(e.to_string()),
    };
    if let Some(connection) = &update.business_connection {
        return Accepted::Connection(business_account(connection));
    }
    if business_echo(&update) {
        tracing::debug!(
            update_id = update.update_id,
            "the bot's own message in a business chat: not carried back"
        );
        return Accepted::Ignore;
    }
    let Some((chat_id, chat_type)) = bridged_chat(&update) else {
        tracing::info!(
            update_id = update.update_id,
            kind = update.kind(),
            "Telegram update of a kind the bridge does not carry: ignored"
        );
        return Accepted::Ignore;
    };
    if chat_type != ChatType::Private {
        tracing::info!(
            chat_id,
            "update from a group chat ignored: the bridge carries private chats only"
        );
        return Accepted::Ignore;
    }
    // What was parsed is stored, so the worker reads back exactly what was accepted.
    match encode_update(&update) {
        Ok(stored) => Accepted::Carry(Carried {
            chat: chat_id.to_string(),
            update_id: update.update_id.to_string(),
            update: stored,
            connection: business_connection_of(&update),
        }),
        Err(e) => Accepted::Malformed(format!("cannot be stored: {e}")),
    }
}

/// The chat of an update the bridge carries (messages, edits, reactions, the bot blocked or
/// unblocked), with its type.
fn bridged_chat(update: &Update) -> Option<(i64, ChatType)> {
    let message = [
        &update.message,
        &update.edited_message,
        &update.business_message,
        &update.edited_business_message,
    ]
    .into_iter()
    .find_map(Option::as_ref);
    if let Some(message) = message {
        return Some((message.chat.id, message.chat.kind));
    }
    if let Some(deleted) = &update.deleted_business_messages {
        return Some((deleted.chat.id, deleted.chat.kind));
    }
    if let Some(reaction) = &update.message_reaction {
        return Some((reaction.chat.id, reaction.chat.kind));
    }
    update
        .my_chat_member
        .as_ref()
        .map(|change| (change.chat.id, change.chat.kind))
}

/// The business connection a business update came through.
fn business_connection_of(update: &Update) -> Option<String> {
    let message = update
        .business_message
        .as_ref()
        .or(update.edited_business_message.as_ref());
    message
        .and_then(|m| m.business_connection_id.clone())
        .or_else(|| {
            update
                .deleted_business_messages
                .as_ref()
                .map(|d| d.business_connection_id.clone())
        })
}

/// A message the bot itself sent in a business chat, which Telegram reports back.
fn business_echo(update: &Update) -> bool {
    [&update.business_message, &update.edited_business_message]
        .into_iter()
        .flatten()
        .any(|m| m.sender_business_bot.is_some())
}

fn business_account(connection: &BusinessConnection) -> BusinessAccount {
    let user = &connection.user;
    let name = match user.username.as_deref().map(str::trim) {
        Some(username) if !username.is_empty() => format!("@{username}"),
        _ => format!(
            "{} {}",
            user.first_name.trim(),
            user.last_name.as_deref().unwrap_or("").trim()
        )
        .trim()
        .to_owned(),
    };
    BusinessAccount {
        connection_id: connection.id.clone(),
        owner_user_id: user.id.to_string(),
        owner_name: if name.is_empty() {
            user.id.to_string()
        } else {
            name
        },
        can_reply: connection.can_reply(),
        can_read: connection.can_read_messages(),
        enabled: connection.is_enabled,
    }
}
