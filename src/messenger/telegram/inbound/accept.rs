//! What the Telegram webhook makes of a body it was posted (once the request is authenticated):
//! an update the bridge carries, for its chat's lane; one it answers and ignores; or a body it
//! refuses. Nothing is stored here.

use super::payload::encode_update;
use crate::messenger::telegram::{ChatType, Update};

pub use crate::messenger::{Accepted, Carried};

pub fn accept_update(body: &[u8]) -> Accepted {
    let update: Update = match serde_json::from_slice(body) {
        Ok(update) => update,
        Err(e) => return Accepted::Malformed(e.to_string()),
    };
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
        }),
        Err(e) => Accepted::Malformed(format!("cannot be stored: {e}")),
    }
}

/// The chat of an update the bridge carries (messages, edits, reactions, the bot blocked or
/// unblocked), with its type.
fn bridged_chat(update: &Update) -> Option<(i64, ChatType)> {
    if let Some(message) = update.message.as_ref().or(update.edited_message.as_ref()) {
        return Some((message.chat.id, message.chat.kind));
    }
    if let Some(reaction) = &update.message_reaction {
        return Some((reaction.chat.id, reaction.chat.kind));
    }
    update
        .my_chat_member
        .as_ref()
        .map(|change| (change.chat.id, change.chat.kind))
}
