use super::*;
use serde_json::{json, Value};

fn update(value: Value) -> Update {
    serde_json::from_value(value).unwrap()
}

#[test]
fn telegram_text_message_update() {
    let u = update(json!({
        "update_id": 912345678,
        "message": {
            "message_id": 42,
            "from": {"id": 111222333, "is_bot": false, "first_name": "Анна", "last_name": "K",
                     "username": "anna_k", "language_code": "ru"},
            "chat": {"id": 111222333, "first_name": "Анна", "last_name": "K",
                     "username": "anna_k", "type": "private"},
            "date": 1735689600,
            "text": "Hello, is the blue one in stock? /start",
            "entities": [{"offset": 34, "length": 6, "type": "bot_command"}],
            "link_preview_options": {"is_disabled": true}
        }
    }));
    assert_eq!(u.kind(), "message");
    let m = u.message.unwrap();
    assert_eq!(m.message_id, 42);
    assert_eq!(
        m.text.as_deref(),
        Some("Hello, is the blue one in stock? /start")
    );
    assert_eq!(m.chat.kind, ChatType::Private);
    let from = m.from.unwrap();
    assert_eq!(from.first_name, "Анна");
    assert_eq!(from.username.as_deref(), Some("anna_k"));
    assert_eq!(from.language_code.as_deref(), Some("ru"));
    assert_eq!(m.entities[0].kind, "bot_command");
    assert!(u.other.is_empty());
}

#[test]
fn telegram_photo_with_caption_update() {
    let u = update(json!({
        "update_id": 2,
        "message": {
            "message_id": 43, "date": 1735689601,
            "from": {"id": 5, "is_bot": false, "first_name": "Bo"},
            "chat": {"id": 5, "first_name": "Bo", "type": "private"},
            "media_group_id": "13612345678901234",
            "photo": [
                {"file_id": "AgACAgIAAxkBAAIBsmall", "file_unique_id": "AQADs", "file_size": 1234, "width": 90, "height": 67},
                {"file_id": "AgACAgIAAxkBAAIBlarge", "file_unique_id": "AQADl", "file_size": 98765, "width": 1280, "height": 960},
                {"file_id": "AgACAgIAAxkBAAIBmid", "file_unique_id": "AQADm", "file_size": 23456, "width": 320, "height": 240}
            ],
            "caption": "this one, size M",
            "caption_entities": [{"offset": 10, "length": 6, "type": "bold"}]
        }
    }));
    let m = u.message.unwrap();
    assert_eq!(m.caption.as_deref(), Some("this one, size M"));
    assert_eq!(m.photo.len(), 3);
    assert_eq!(m.largest_photo().unwrap().file_id, "AgACAgIAAxkBAAIBlarge");
    assert_eq!(m.media_group_id.as_deref(), Some("13612345678901234"));
    assert!(m.text.is_none());
}

#[test]
fn telegram_reply_update_with_quote() {
    let u = update(json!({
        "update_id": 3,
        "message": {
            "message_id": 50, "date": 1735689700,
            "from": {"id": 5, "is_bot": false, "first_name": "Bo"},
            "chat": {"id": 5, "first_name": "Bo", "type": "private"},
            "text": "yes please",
            "quote": {"text": "size M", "position": 10, "is_manual": true},
            "reply_to_message": {
                "message_id": 49, "date": 1735689650,
                "from": {"id": 7012345678_i64, "is_bot": true, "first_name": "Shop", "username": "shop_bot"},
                "chat": {"id": 5, "first_name": "Bo", "type": "private"},
                "text": "We have it in size M",
                "reply_to_message": {
                    "message_id": 48, "date": 1735689600,
                    "chat": {"id": 5, "first_name": "Bo", "type": "private"},
                    "document": {"file_id": "BQACAgIAAx", "file_unique_id": "AgADd",
                                 "file_name": "price list.pdf", "mime_type": "application/pdf", "file_size": 204800}
                }
            }
        }
    }));
    let m = u.message.unwrap();
    let replied = m.reply_to_message.as_deref().unwrap();
    assert_eq!(replied.message_id, 49);
    assert!(replied.from.as_ref().unwrap().is_bot);
    let doc = replied
        .reply_to_message
        .as_deref()
        .unwrap()
        .document
        .as_ref()
        .unwrap();
    assert_eq!(doc.file_name.as_deref(), Some("price list.pdf"));
    assert_eq!(doc.file_size, Some(204_800));
    assert_eq!(m.quote.unwrap().text, "size M");
}

#[test]
fn telegram_edited_message_update() {
    let u = update(json!({
        "update_id": 4,
        "edited_message": {
            "message_id": 42, "date": 1735689600, "edit_date": 1735689660,
            "from": {"id": 5, "is_bot": false, "first_name": "Bo"},
            "chat": {"id": 5, "first_name": "Bo", "type": "private"},
            "text": "Hello, is the red one in stock?"
        }
    }));
    assert_eq!(u.kind(), "edited_message");
    assert!(u.message.is_none());
    let m = u.edited_message.unwrap();
    assert_eq!(m.edit_date, Some(1735689660));
    assert_eq!(m.text.as_deref(), Some("Hello, is the red one in stock?"));
}

#[test]
fn telegram_reaction_update_tolerates_unknown_reaction_kinds() {
    let u = update(json!({
        "update_id": 5,
        "message_reaction": {
            "chat": {"id": 5, "first_name": "Bo", "type": "private"},
            "message_id": 49,
            "user": {"id": 5, "is_bot": false, "first_name": "Bo"},
            "date": 1735689800,
            "old_reaction": [{"type": "emoji", "emoji": "👍"}],
            "new_reaction": [
                {"type": "emoji", "emoji": "❤"},
                {"type": "custom_emoji", "custom_emoji_id": "5368324170671202286"},
                {"type": "paid"},
                {"type": "something_from_bot_api_12", "whatever": 1}
            ]
        }
    }));
    assert_eq!(u.kind(), "message_reaction");
    let r = u.message_reaction.unwrap();
    assert_eq!(r.message_id, 49);
    assert_eq!(r.old_reaction, vec![ReactionType::emoji("👍")]);
    assert_eq!(
        r.new_reaction,
        vec![
            ReactionType::emoji("❤"),
            ReactionType::CustomEmoji {
                custom_emoji_id: "5368324170671202286".into()
            },
            ReactionType::Paid,
            ReactionType::Unknown,
        ]
    );
    assert_eq!(
        serde_json::to_value(ReactionType::emoji("👍")).unwrap(),
        json!({"type": "emoji", "emoji": "👍"})
    );
}

#[test]
fn telegram_unknown_update_kind_is_kept_not_refused() {
    let u = update(json!({
        "update_id": 6,
        "guest_message": {"id": "abc", "from": {"id": 5, "is_bot": false, "first_name": "Bo"}}
    }));
    assert_eq!(u.kind(), "guest_message");
    assert!(u.message.is_none() && u.edited_message.is_none() && u.message_reaction.is_none());
    assert_eq!(u.other["guest_message"]["id"], "abc");

    // A business connection is a kind the bridge reads now.
    let u = update(json!({
        "update_id": 8,
        "business_connection": {"id": "abc", "user": {"id": 5, "is_bot": false, "first_name": "Bo"},
                                 "user_chat_id": 5, "date": 1, "can_reply": true, "is_enabled": true}
    }));
    assert_eq!(u.kind(), "business_connection");
    let connection = u.business_connection.unwrap();
    assert!(
        connection.can_reply(),
        "the pre-9.0 top-level right is read"
    );

    // Unknown chat types and content kinds inside a known update are tolerated too.
    let u = update(json!({
        "update_id": 7,
        "message": {"message_id": 1, "date": 1, "chat": {"id": 9, "type": "forum_v2"},
                    "dice": {"emoji": "🎲", "value": 4}}
    }));
    let m = u.message.unwrap();
    assert_eq!(m.chat.kind, ChatType::Unknown);
    assert!(m.text.is_none() && m.photo.is_empty());
}

#[test]
fn telegram_ids_beyond_32_bits_survive() {
    let u = update(json!({
        "update_id": 8,
        "message": {
            "message_id": 3, "date": 1735689600,
            "from": {"id": 7012345678_i64, "is_bot": false, "first_name": "Big"},
            "chat": {"id": -1001234567890_i64, "title": "Shop support", "type": "supergroup"},
            "text": "hi"
        }
    }));
    let m = u.message.unwrap();
    assert_eq!(m.chat.id, -1_001_234_567_890);
    assert!(m.chat.id.unsigned_abs() > u64::from(u32::MAX));
    assert_eq!(m.from.unwrap().id, 7_012_345_678);
    assert_eq!(m.chat.kind, ChatType::Supergroup);
}

#[test]
fn telegram_media_kinds_deserialize() {
    let m: Message = serde_json::from_value(json!({
        "message_id": 9, "date": 1, "chat": {"id": 5, "type": "private"},
        "voice": {"file_id": "v", "file_unique_id": "vu", "duration": 3, "mime_type": "audio/ogg", "file_size": 5000},
        "audio": {"file_id": "a", "file_unique_id": "au", "duration": 200, "performer": "P", "title": "T"},
        "video": {"file_id": "vi", "file_unique_id": "viu", "width": 640, "height": 360, "duration": 5},
        "animation": {"file_id": "an", "file_unique_id": "anu", "width": 1, "height": 1, "duration": 1},
        "sticker": {"file_id": "s", "file_unique_id": "su", "type": "regular", "width": 512, "height": 512,
                    "is_animated": false, "is_video": true, "emoji": "😀"},
        "video_note": {"file_id": "n", "file_unique_id": "nu", "length": 240, "duration": 7},
        "contact": {"phone_number": "+4915112345678", "first_name": "Eve", "user_id": 7012345678_i64},
        "location": {"latitude": 52.52, "longitude": 13.405},
        "venue": {"location": {"latitude": 52.52, "longitude": 13.405}, "title": "Shop", "address": "Main St 1"},
        "poll": {"id": "p", "question": "Colour?", "options": [{"text": "red", "voter_count": 1}],
                 "total_voter_count": 1, "is_closed": false, "is_anonymous": true, "type": "regular",
                 "allows_multiple_answers": false}
    }))
    .unwrap();
    assert_eq!(m.voice.unwrap().duration, 3);
    assert_eq!(m.audio.unwrap().title.as_deref(), Some("T"));
    assert_eq!(m.video.unwrap().width, 640);
    assert_eq!(m.animation.unwrap().file_id, "an");
    assert!(m.sticker.unwrap().is_video);
    assert_eq!(m.video_note.unwrap().length, 240);
    assert_eq!(m.contact.unwrap().user_id, Some(7_012_345_678));
    assert_eq!(m.location.unwrap().latitude, 52.52);
    assert_eq!(m.venue.unwrap().title, "Shop");
    assert_eq!(m.poll.unwrap().options[0].text, "red");
}

#[test]
fn telegram_send_message_serializes_only_what_is_set() {
    let request = SendMessage {
        parse_mode: Some(ParseMode::Html),
        reply_parameters: Some(ReplyParameters::to(49)),
        reply_markup: Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup {
            inline_keyboard: vec![vec![InlineKeyboardButton {
                text: "Track order".into(),
                url: Some("https://shop.example/track/1".into()),
                callback_data: None,
            }]],
        })),
        ..SendMessage::new(-1001234567890, "<b>Shipped</b>")
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({
            "chat_id": -1001234567890_i64,
            "text": "<b>Shipped</b>",
            "parse_mode": "HTML",
            "reply_parameters": {"message_id": 49, "allow_sending_without_reply": true},
            "reply_markup": {"inline_keyboard": [[{"text": "Track order", "url": "https://shop.example/track/1"}]]}
        })
    );
    let keyboard = ReplyMarkup::Keyboard(ReplyKeyboardMarkup {
        keyboard: vec![vec![
            KeyboardButton::text("Yes"),
            KeyboardButton::text("No"),
        ]],
        resize_keyboard: Some(true),
        one_time_keyboard: Some(true),
        is_persistent: None,
        input_field_placeholder: None,
    });
    assert_eq!(
        serde_json::to_value(keyboard).unwrap(),
        json!({"keyboard": [[{"text": "Yes"}, {"text": "No"}]], "resize_keyboard": true, "one_time_keyboard": true})
    );
}

#[test]
fn my_chat_member_reads_the_status_and_tolerates_odd_fields() {
    let u = update(json!({
        "update_id": 7,
        "my_chat_member": {
            "chat": {"id": 5, "type": "private"},
            "from": "not a user",
            "date": 1735689600,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": true}},
            "new_chat_member": {"status": "kicked", "user": {"id": 1}, "until_date": 0}
        }
    }));
    assert_eq!(u.kind(), "my_chat_member");
    let change = u.my_chat_member.unwrap();
    assert_eq!(change.new_chat_member.status, ChatMemberStatus::Kicked);
    assert_eq!(change.from, None);
    let newer = update(json!({
        "update_id": 8,
        "my_chat_member": {"chat": {"id": 5, "type": "private"}, "date": 1,
                           "new_chat_member": {"status": "something_new"}}
    }));
    assert_eq!(
        newer.my_chat_member.unwrap().new_chat_member.status,
        ChatMemberStatus::Unknown
    );
}
