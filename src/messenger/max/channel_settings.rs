//! What a MAX channel can do, as declared to MessageGateway. Directions are the transport's:
//! `send` = we report it to MG (the customer did it in MAX), `receive` = MG tells us (an
//! operator did it in the CRM). Exactly what `inbound` and `outbound` carry, nothing more.

use serde_json::{json, Value};

use crate::mg::ChannelSettings;

/// MAX's limit on a message's text.
const TEXT_MAX_CHARS: u32 = 4000;
/// What `outbound` sends of one file (MAX itself takes up to 2 GB).
const FILE_MAX_BYTES: u64 = 100 * 1024 * 1024;

pub fn max_channel_settings() -> ChannelSettings {
    serde_json::from_value(declared())
        .expect("the declared settings use only keys and values ChannelSettings knows")
}

fn declared() -> Value {
    json!({
        // We ack operators' messages; MAX tells bots nothing of reads.
        "status": {"delivered": "send", "read": "none"},
        "text": {
            "creating": "both",
            "editing": "both",
            "quoting": "both",
            // MAX tells bots of a customer's delete (`message_removed`).
            "deleting": "both",
            // Bots can neither react nor see reactions.
            "reaction": "none",
            "max_chars_count": TEXT_MAX_CHARS
        },
        "image": {
            "creating": "both",
            "editing": "none",
            "quoting": "both",
            "deleting": "both",
            "reaction": "none",
            "max_items_count": 10,
            "note_max_chars_count": TEXT_MAX_CHARS,
            "max_item_size": FILE_MAX_BYTES
        },
        "file": {
            "creating": "both",
            "editing": "none",
            "quoting": "both",
            "deleting": "both",
            "reaction": "none",
            "max_items_count": 10,
            "note_max_chars_count": TEXT_MAX_CHARS,
            "max_item_size": FILE_MAX_BYTES
        },
        "audio": {
            "creating": "both",
            "quoting": "both",
            "deleting": "both",
            "reaction": "none",
            "max_items_count": 1,
            "max_item_size": FILE_MAX_BYTES
        },
        "product": {"creating": "receive", "editing": "none", "deleting": "receive", "quoting": "none", "reaction": "none"},
        "order": {"creating": "receive", "editing": "none", "deleting": "receive", "quoting": "none", "reaction": "none"},
        // Quick replies become inline keyboard buttons (`message` and `link`).
        "suggestions": {"text": "receive", "phone": "receive", "email": "receive", "url": "receive"},
        "customer_external_id": "any",
        // A bot cannot write first to someone who never started it.
        "sending_policy": {"new_customer": "no", "after_reply_timeout": "no", "outgoing": "allowed"},
        "template": {"creation": false}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_key_survives_the_typed_settings() {
        let typed = serde_json::to_value(max_channel_settings()).unwrap();
        assert_eq!(typed, declared());
    }
}
