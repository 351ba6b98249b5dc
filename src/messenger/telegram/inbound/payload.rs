//! A Telegram update as its job stores it (inside `bridge::ingest`'s payload, beside our
//! channel id). The webhook stores the typed `Update` re-serialized, not the body it was sent,
//! so the worker reads back exactly what was accepted: unknown fields (which may nest past any
//! parser's depth limit or hold escapes a generic JSON value refuses) are gone, and the
//! customer's words are all that is kept. Updates stored by older versions (the raw body) read
//! the same way, through the same typed parse.

use serde_json::value::RawValue;

use crate::bridge::delivery::DeliveryError;
use crate::messenger::telegram::{Message, MessageReactionUpdated, ReactionType, Update};

/// The update to store, as accepted.
pub fn encode_update(update: &Update) -> Result<Box<RawValue>, serde_json::Error> {
    let mut update = update.clone();
    // Kinds the bridge does not carry, kept raw: not needed once the update is accepted.
    update.other.clear();
    for message in [
        &mut update.message,
        &mut update.edited_message,
        &mut update.channel_post,
        &mut update.edited_channel_post,
    ]
    .into_iter()
    .flatten()
    {
        keep_one_reply_level(message);
    }
    if let Some(reaction) = &mut update.message_reaction {
        drop_unknown_reactions(reaction);
    }
    serde_json::value::to_raw_value(&update)
}

/// Reads a stored update, of this version or an older one.
pub fn decode_update(stored: &str) -> Result<Update, DeliveryError> {
    serde_json::from_str(stored)
        .map_err(|e| DeliveryError::failed(format!("stored update unreadable: {e}")))
}

/// Telegram never nests a reply inside a reply; a sender that does could build a payload
/// deeper than the JSON parser reads back, so the stored one stops at one level.
fn keep_one_reply_level(message: &mut Message) {
    if let Some(reply) = &mut message.reply_to_message {
        reply.reply_to_message = None;
    }
}

/// Reactions of kinds newer than this code have no MG counterpart and do not serialize.
fn drop_unknown_reactions(reaction: &mut MessageReactionUpdated) {
    reaction
        .old_reaction
        .retain(|r| *r != ReactionType::Unknown);
    reaction
        .new_reaction
        .retain(|r| *r != ReactionType::Unknown);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_update_reads_back_as_parsed() {
        let body = r#"{"update_id": 7, "callback_query": {"id": "1"},
            "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"},
                        "text": "hi", "x": [[[[{"y": "\ud800"}]]]],
                        "reply_to_message": {"message_id": 0, "date": 1, "chat": {"id": 5, "type": "private"},
                            "reply_to_message": {"message_id": -1, "date": 1, "chat": {"id": 5, "type": "private"}}}}}"#;
        let update: Update = serde_json::from_str(body).unwrap();
        let stored = encode_update(&update).unwrap();
        assert!(!stored.get().contains("callback_query") && !stored.get().contains("ud800"));
        let read = decode_update(stored.get()).unwrap();
        let message = read.message.unwrap();
        assert_eq!(message.text.as_deref(), Some("hi"));
        let reply = message.reply_to_message.unwrap();
        assert_eq!((reply.message_id, reply.reply_to_message), (0, None));
    }

    #[test]
    fn a_payload_stored_raw_by_an_older_version_still_reads() {
        let old = r#"{"update_id":3,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"text":"old","x_new":{"deep":[1]}}}"#;
        let update = decode_update(old).unwrap();
        assert_eq!(update.message.unwrap().text.as_deref(), Some("old"));
    }
}
