//! What a Telegram channel can do, as declared to MessageGateway (`ChannelSettings`,
//! `protocol/transport-api.md` §3.5). Directions are the transport's: `send` = we report it to
//! MG (the customer did it in Telegram), `receive` = MG tells us (an operator did it in the CRM).
//!
//! The declaration is hashed; at start and on re-activation every channel whose stored hash
//! differs is updated in MG, so changing this file is all it takes to change live channels.

use serde_json::{json, Value};

use crate::messenger::telegram::markup::MARKUP_FORMATS;
use crate::mg::ChannelSettings;

/// Telegram's limits: a message is at most 4,096 characters, a caption 1,024; a bot downloads
/// at most 20 MB and uploads photos up to 10 MB; an album has at most 10 items.
const TEXT_MAX_CHARS: u32 = 4096;
const CAPTION_MAX_CHARS: u32 = 1024;
const PHOTO_MAX_BYTES: u64 = 10 * 1024 * 1024;
const FILE_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// The emoji a bot may set with `setMessageReaction` (Telegram's standard reaction list); a
/// bot sets at most one.
const REACTIONS: &[&str] = &[
    "👍",
    "👎",
    "❤",
    "🔥",
    "🥰",
    "👏",
    "😁",
    "🤔",
    "🤯",
    "😱",
    "🤬",
    "😢",
    "🎉",
    "🤩",
    "🤮",
    "💩",
    "🙏",
    "👌",
    "🕊",
    "🤡",
    "🥱",
    "🥴",
    "😍",
    "🐳",
    "❤‍🔥",
    "🌚",
    "🌭",
    "💯",
    "🤣",
    "⚡",
    "🍌",
    "🏆",
    "💔",
    "🤨",
    "😐",
    "🍓",
    "🍾",
    "💋",
    "🖕",
    "😈",
    "😴",
    "😭",
    "🤓",
    "👻",
    "👨‍💻",
    "👀",
    "🎃",
    "🙈",
    "😇",
    "😨",
    "🤝",
    "✍",
    "🤗",
    "🫡",
    "🎅",
    "🎄",
    "☃",
    "💅",
    "🤪",
    "🗿",
    "🆒",
    "💘",
    "🙉",
    "🦄",
    "😘",
    "💊",
    "🙊",
    "😎",
    "👾",
    "🤷‍♂",
    "🤷",
    "🤷‍♀",
    "😡",
];

/// The settings every Telegram channel declares.
pub fn telegram_channel_settings() -> ChannelSettings {
    serde_json::from_value(declared())
        .expect("the declared settings use only keys and values ChannelSettings knows")
}

/// The declaration as written: JSON reads closest to MG's documentation.
fn declared() -> Value {
    json!({
        // We confirm delivery of operator messages (ack); bots never learn about reads.
        "status": {"delivered": "send", "read": "none"},
        "text": {
            "creating": "both",
            "editing": "both",
            "quoting": "both",
            // Bots are not told when a customer deletes; operators' deletes we carry out.
            "deleting": "receive",
            "reaction": "both",
            "max_chars_count": TEXT_MAX_CHARS,
            // Converted to and from Telegram's entities (`telegram::markup`).
            "markup_formats": MARKUP_FORMATS
        },
        "image": {
            "creating": "both",
            "editing": "none",
            "quoting": "both",
            "deleting": "receive",
            "reaction": "both",
            "max_items_count": 10,
            "note_max_chars_count": CAPTION_MAX_CHARS,
            "max_item_size": PHOTO_MAX_BYTES
        },
        "file": {
            "creating": "both",
            "editing": "none",
            "quoting": "both",
            "deleting": "receive",
            "reaction": "both",
            "max_items_count": 1,
            "note_max_chars_count": CAPTION_MAX_CHARS,
            "max_item_size": FILE_MAX_BYTES
        },
        "audio": {
            "creating": "both",
            "quoting": "both",
            "deleting": "receive",
            "reaction": "both",
            "max_items_count": 1,
            "max_item_size": FILE_MAX_BYTES
        },
        // Product and order cards come from operators and are rendered as text.
        "product": {"creating": "receive", "editing": "none", "deleting": "receive", "quoting": "none", "reaction": "none"},
        "order": {"creating": "receive", "editing": "none", "deleting": "receive", "quoting": "none", "reaction": "none"},
        "reactions": {"dictionary": REACTIONS, "max_count": 1},
        // Quick replies become keyboard buttons.
        "suggestions": {"text": "receive", "phone": "receive", "email": "receive", "url": "receive"},
        // A customer is a Telegram user id, not a phone number.
        "customer_external_id": "any",
        // A bot cannot write first to someone who never wrote to it.
        "sending_policy": {"new_customer": "no", "after_reply_timeout": "no", "outgoing": "allowed"},
        "template": {"creation": false}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::channels::settings_hash;

    #[test]
    fn every_declared_key_survives_the_typed_settings() {
        // A key the type does not know would be dropped silently; this catches typos.
        let typed = serde_json::to_value(telegram_channel_settings()).unwrap();
        assert_eq!(typed, declared());
    }

    #[test]
    fn the_hash_changes_with_the_settings_and_only_then() {
        let a = telegram_channel_settings();
        assert_eq!(
            settings_hash(&a),
            settings_hash(&telegram_channel_settings())
        );
        let mut changed = declared();
        changed["text"]["max_chars_count"] = json!(100);
        let b: ChannelSettings = serde_json::from_value(changed).unwrap();
        assert_ne!(settings_hash(&a), settings_hash(&b));
    }
}
