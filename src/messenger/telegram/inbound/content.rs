//! What a customer's Telegram message becomes in MG, decided before any file moves. Pure
//! functions: the tests below cover every kind.
//!
//! Captions go to MG's `note` ("annotation of a media message", §4.2; the official Telegram
//! transport does the same); the file's own name goes to the item's `caption`, since MG's raw
//! upload has no place for a name.

use crate::i18n::{Lang, Text};
use crate::messenger::telegram::{markup, Message};
use crate::mg::{MessageItem, MessageType, MgFileId, NewMessage};

use super::text;

/// Bots may download at most 20 MB from the hosted Bot API.
pub const DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;
/// MG's limit on an item caption.
const ITEM_CAPTION_MAX: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// A text message: the customer's own text, or a readable rendering of a contact, a place,
    /// a poll, an animated sticker, or a file too large to download.
    Text(String),
    /// A file to fetch from Telegram and upload to MG.
    Media(Media),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Media {
    pub kind: MessageType,
    pub file_id: String,
    /// As the message announced it.
    pub file_size: Option<u64>,
    /// Sent as the upload's content type.
    pub mime_type: String,
    /// The file's own name (documents, audio, video), kept as the item's caption.
    pub file_name: Option<String>,
    /// What to call it in a notice when it has no name.
    pub what: &'static str,
    /// The message's caption.
    pub caption: Option<String>,
    /// "↪ Forwarded from …", the first line of the note or notice of a forwarded file.
    pub forwarded: Option<String>,
    /// The customer's language, for the notice.
    pub lang: Lang,
}

impl Media {
    /// The text sent instead of a file the bot may not download.
    pub fn too_large_notice(&self, size: Option<u64>) -> String {
        let name = match self.file_name.as_deref() {
            Some(name) => name.to_owned(),
            None => text::file_kind(self.what, self.lang),
        };
        let notice = text::too_large_notice(
            &name,
            size.or(self.file_size),
            self.caption.as_deref(),
            self.lang,
        );
        match &self.forwarded {
            Some(line) => format!("{line}\n{notice}"),
            None => notice,
        }
    }

    /// The media message's note: the caption, after the forward's line.
    fn note(&self) -> Option<String> {
        match (&self.forwarded, &self.caption) {
            (Some(line), Some(caption)) => Some(format!("{line}\n{caption}")),
            (line, caption) => line.clone().or_else(|| caption.clone()),
        }
    }
}

/// The customer's language: Telegram's `language_code` of the sender, when we have texts in it.
pub fn customer_lang(message: &Message) -> Lang {
    message
        .from
        .as_ref()
        .and_then(|user| user.language_code.as_deref())
        .and_then(Lang::from_tag)
        .unwrap_or_default()
}

/// The content of `message`, or `None` when it carries nothing (an empty text). A message of
/// a kind MG has no type for becomes a readable note, so nothing the customer sends is lost
/// without a trace; a forward gets a first line saying where it came from.
pub fn content_of(message: &Message) -> Option<Content> {
    let lang = customer_lang(message);
    let content = own_content(message, lang)?;
    let Some(origin) = &message.forward_origin else {
        return Some(content);
    };
    let line = text::forwarded_line(origin, lang);
    Some(match content {
        Content::Text(text) => Content::Text(format!("{line}\n{text}")),
        Content::Media(media) => Content::Media(Media {
            forwarded: Some(line),
            ..media
        }),
    })
}

fn own_content(message: &Message, lang: Lang) -> Option<Content> {
    let content = if let Some(text) = non_empty(&message.text) {
        Content::Text(markup::to_mg(&text, &message.entities))
    } else if let Some(media) = media_of(message, lang) {
        match media.file_size {
            Some(size) if size > DOWNLOAD_LIMIT => Content::Text(media.too_large_notice(None)),
            _ => Content::Media(media),
        }
    } else if let Some(sticker) = &message.sticker {
        // Animated (.tgs) and video (.webm) stickers are no image MG could show: the emoji is.
        Content::Text(
            sticker
                .emoji
                .clone()
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| lang.t("customer-sticker")),
        )
    } else if let Some(contact) = &message.contact {
        Content::Text(text::contact_text(contact, lang))
    } else if let Some(venue) = &message.venue {
        // Before `location`: a venue message carries its location too.
        Content::Text(text::venue_text(venue, lang))
    } else if let Some(location) = &message.location {
        Content::Text(text::location_text(location, lang))
    } else if let Some(poll) = &message.poll {
        Content::Text(text::poll_text(poll, lang))
    } else {
        Content::Text(note_of(message, lang)?)
    };
    Some(content)
}

/// A readable note for a kind MG cannot show: dice, stories, checklists, paid media,
/// giveaways, web-app data, games, invoices, payments and the service messages of a private
/// chat; a generic one for anything newer. `None` only for a message with a blank text.
fn note_of(message: &Message, lang: Lang) -> Option<String> {
    let note = if let Some(dice) = &message.dice {
        text::dice_text(dice, lang)
    } else if let Some(story) = &message.story {
        text::story_text(story, lang)
    } else if let Some(checklist) = &message.checklist {
        text::checklist_text(checklist, lang)
    } else if let Some(paid) = &message.paid_media {
        text::paid_media_text(paid, message.caption.as_deref(), lang)
    } else if let Some(giveaway) = &message.giveaway {
        text::giveaway_text(giveaway, lang)
    } else if let Some(winners) = &message.giveaway_winners {
        text::giveaway_winners_text(winners, lang)
    } else if let Some(data) = &message.web_app_data {
        text::web_app_data_text(data, lang)
    } else if let Some(game) = &message.game {
        lang.text(&Text::new("customer-game").arg("title", game.title.as_str()))
    } else if let Some(invoice) = &message.invoice {
        text::payment_text("customer-invoice", invoice, lang)
    } else if let Some(payment) = &message.successful_payment {
        text::payment_text("customer-payment", payment, lang)
    } else if let Some(refund) = &message.refunded_payment {
        text::payment_text("customer-refund", refund, lang)
    } else if let Some(kind) = message.service_kind() {
        text::service_text(kind, lang)
    } else if message.text.is_some() && message.caption.is_none() {
        // A blank text: there is nothing to show.
        return None;
    } else {
        lang.t("customer-unsupported")
    };
    Some(note)
}

/// A sender's MIME type, usable as the upload's Content-Type header: trimmed, `type/subtype`
/// in visible ASCII, at most 255 characters (RFC 6838 allows 127 on each side). Anything else
/// would make the upload request unbuildable on every attempt, so it falls back to the
/// kind's default instead.
fn clean_mime(mime: &str) -> Option<String> {
    let mime = mime.trim();
    let visible = mime.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    (visible && mime.len() <= 255 && mime.contains('/')).then(|| mime.to_owned())
}

/// The file of a media message, with the MG type it becomes.
fn media_of(message: &Message, lang: Lang) -> Option<Media> {
    let caption = non_empty(&message.caption).map(|c| markup::to_mg(&c, &message.caption_entities));
    let media = |kind, file_id: &str, file_size, mime: Option<&String>, default_mime: &str| Media {
        kind,
        file_id: file_id.to_owned(),
        file_size,
        mime_type: mime
            .and_then(|m| clean_mime(m))
            .unwrap_or_else(|| default_mime.to_owned()),
        file_name: None,
        what: "file",
        caption: caption.clone(),
        forwarded: None,
        lang,
    };
    let named = |mut m: Media, name: Option<&String>, what| {
        m.file_name = name.filter(|n| !n.trim().is_empty()).cloned();
        m.what = what;
        m
    };
    if let Some(photo) = message.largest_photo() {
        let m = media(
            MessageType::Image,
            &photo.file_id,
            photo.file_size,
            None,
            "image/jpeg",
        );
        return Some(named(m, None, "photo"));
    }
    // Before `document`: Telegram sets both on an animation message.
    if let Some(a) = &message.animation {
        let m = media(
            MessageType::File,
            &a.file_id,
            a.file_size,
            a.mime_type.as_ref(),
            "video/mp4",
        );
        return Some(named(m, a.file_name.as_ref(), "animation"));
    }
    if let Some(d) = &message.document {
        let m = media(
            MessageType::File,
            &d.file_id,
            d.file_size,
            d.mime_type.as_ref(),
            "application/octet-stream",
        );
        return Some(named(m, d.file_name.as_ref(), "file"));
    }
    if let Some(v) = &message.video {
        let m = media(
            MessageType::File,
            &v.file_id,
            v.file_size,
            v.mime_type.as_ref(),
            "video/mp4",
        );
        return Some(named(m, v.file_name.as_ref(), "video"));
    }
    if let Some(v) = &message.video_note {
        let m = media(
            MessageType::File,
            &v.file_id,
            v.file_size,
            None,
            "video/mp4",
        );
        return Some(named(m, None, "video message"));
    }
    if let Some(v) = &message.voice {
        let m = media(
            MessageType::Audio,
            &v.file_id,
            v.file_size,
            v.mime_type.as_ref(),
            "audio/ogg",
        );
        return Some(named(m, None, "voice message"));
    }
    if let Some(a) = &message.audio {
        let m = media(
            MessageType::Audio,
            &a.file_id,
            a.file_size,
            a.mime_type.as_ref(),
            "audio/mpeg",
        );
        return Some(named(m, a.file_name.as_ref(), "audio"));
    }
    match &message.sticker {
        Some(s) if !s.is_animated && !s.is_video => {
            let m = media(
                MessageType::Image,
                &s.file_id,
                s.file_size,
                None,
                "image/webp",
            );
            Some(named(m, None, "sticker"))
        }
        _ => None,
    }
}

/// The `message` of `POST /messages` for text.
pub fn text_message(message: &Message, text: String) -> NewMessage {
    NewMessage {
        created_at: created_at(message),
        ..NewMessage::text(
            message_external_id(message.chat.id, message.message_id),
            text,
        )
    }
}

/// The `message` of `POST /messages` for an uploaded file.
pub fn media_message(message: &Message, media: &Media, file: MgFileId) -> NewMessage {
    NewMessage {
        r#type: media.kind,
        text: None,
        note: media.note(),
        items: Some(vec![MessageItem {
            id: file,
            caption: media
                .file_name
                .as_deref()
                .map(|name| text::truncate_chars(name, ITEM_CAPTION_MAX)),
        }]),
        ..text_message(message, String::new())
    }
}

/// Our id of a Telegram message in MG: message ids are unique only within a chat.
pub fn message_external_id(chat_id: i64, message_id: i64) -> String {
    format!("{chat_id}:{message_id}")
}

fn created_at(message: &Message) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(message.date).ok()
}

fn non_empty(text: &Option<String>) -> Option<String> {
    text.as_ref().filter(|t| !t.trim().is_empty()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn message(content: Value) -> Message {
        let mut value = json!({
            "message_id": 42, "date": 1735689600,
            "from": {"id": 5, "is_bot": false, "first_name": "Bo"},
            "chat": {"id": 5, "first_name": "Bo", "type": "private"},
        });
        value
            .as_object_mut()
            .unwrap()
            .extend(content.as_object().unwrap().clone());
        serde_json::from_value(value).unwrap()
    }

    fn media(content: Value) -> Media {
        match content_of(&message(content)) {
            Some(Content::Media(media)) => media,
            other => panic!("not media: {other:?}"),
        }
    }

    fn text(content: Value) -> String {
        match content_of(&message(content)) {
            Some(Content::Text(text)) => text,
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn the_largest_photo_size_is_taken_with_its_caption() {
        let m = media(json!({
            "photo": [
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 67, "file_size": 1234},
                {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960, "file_size": 98765},
                {"file_id": "mid", "file_unique_id": "m", "width": 320, "height": 240, "file_size": 23456}
            ],
            "caption": "this one, size M"
        }));
        assert_eq!(m.kind, MessageType::Image);
        assert_eq!(m.file_id, "large");
        assert_eq!(m.mime_type, "image/jpeg");
        assert_eq!(m.caption.as_deref(), Some("this one, size M"));
        assert_eq!(m.file_name, None);
    }

    #[test]
    fn media_kinds_map_to_mg_types_keeping_names_and_mime_types() {
        let doc = media(json!({"document": {"file_id": "d", "file_unique_id": "du",
            "file_name": "price list.pdf", "mime_type": "application/pdf", "file_size": 204800}}));
        assert_eq!(
            (doc.kind, doc.file_name.as_deref(), doc.mime_type.as_str()),
            (MessageType::File, Some("price list.pdf"), "application/pdf")
        );
        let voice =
            media(json!({"voice": {"file_id": "v", "file_unique_id": "vu", "duration": 3}}));
        assert_eq!(
            (voice.kind, voice.mime_type.as_str()),
            (MessageType::Audio, "audio/ogg")
        );
        let audio = media(
            json!({"audio": {"file_id": "a", "file_unique_id": "au", "duration": 3,
            "file_name": "song.mp3", "mime_type": "audio/mpeg"}}),
        );
        assert_eq!(audio.kind, MessageType::Audio);
        assert_eq!(audio.file_name.as_deref(), Some("song.mp3"));
        let video = media(
            json!({"video": {"file_id": "vi", "file_unique_id": "viu", "width": 1,
            "height": 1, "duration": 1}}),
        );
        assert_eq!(
            (video.kind, video.mime_type.as_str()),
            (MessageType::File, "video/mp4")
        );
        let note =
            media(json!({"video_note": {"file_id": "n", "file_unique_id": "nu", "length": 240}}));
        assert_eq!((note.kind, note.what), (MessageType::File, "video message"));
        // An animation also has `document`: the animation wins.
        let gif = media(json!({
            "animation": {"file_id": "an", "file_unique_id": "anu", "file_name": "giphy.mp4", "mime_type": "video/mp4"},
            "document": {"file_id": "an", "file_unique_id": "anu", "file_name": "giphy.mp4", "mime_type": "video/mp4"}
        }));
        assert_eq!((gif.kind, gif.what), (MessageType::File, "animation"));
        let sticker = media(json!({"sticker": {"file_id": "s", "file_unique_id": "su",
            "type": "regular", "width": 512, "height": 512, "emoji": "😀"}}));
        assert_eq!(
            (sticker.kind, sticker.mime_type.as_str()),
            (MessageType::Image, "image/webp")
        );
    }

    #[test]
    fn animated_and_video_stickers_become_their_emoji() {
        assert_eq!(
            text(
                json!({"sticker": {"file_id": "s", "file_unique_id": "su", "is_animated": true, "emoji": "🎉"}})
            ),
            "🎉"
        );
        assert_eq!(
            text(json!({"sticker": {"file_id": "s", "file_unique_id": "su", "is_video": true}})),
            "[sticker]"
        );
    }

    #[test]
    fn files_over_20_mb_become_a_notice_with_the_caption() {
        let notice = text(json!({
            "video": {"file_id": "vi", "file_unique_id": "viu", "file_name": "video.mp4",
                      "file_size": 36_909_875_u64},
            "caption": "the parcel"
        }));
        assert_eq!(
            notice,
            "📎 video.mp4 (35.2 MB) — too large for the bot to download; ask the customer to \
             send it another way\n\nthe parcel"
        );
        // Exactly 20 MB is still downloadable.
        let m = media(
            json!({"document": {"file_id": "d", "file_unique_id": "du", "file_size": DOWNLOAD_LIMIT}}),
        );
        assert_eq!(m.file_size, Some(DOWNLOAD_LIMIT));
        // Nameless files are named by kind.
        let voice = media(json!({"voice": {"file_id": "v", "file_unique_id": "vu"}}));
        assert!(voice
            .too_large_notice(Some(DOWNLOAD_LIMIT + 1))
            .starts_with("📎 voice message (20.0 MB)"));
    }

    #[test]
    fn places_contacts_and_polls_become_text() {
        assert_eq!(
            text(json!({"location": {"latitude": 55.75, "longitude": 37.61}})),
            "📍 Location: 55.75, 37.61 https://maps.google.com/?q=55.75,37.61"
        );
        assert!(text(json!({
            "venue": {"location": {"latitude": 52.52, "longitude": 13.405}, "title": "Shop", "address": "Main St 1"},
            "location": {"latitude": 52.52, "longitude": 13.405}
        }))
        .starts_with("📍 Shop, Main St 1"));
        assert!(
            text(json!({"contact": {"phone_number": "+491", "first_name": "Eve"}}))
                .contains("+491")
        );
        assert!(
            text(json!({"poll": {"id": "p", "question": "Colour?", "options": []}}))
                .contains("Colour?")
        );
    }

    #[test]
    fn a_forward_is_carried_with_where_it_came_from_first() {
        assert_eq!(
            text(
                json!({"text": "is this yours?", "forward_origin": {"type": "user", "date": 1,
                "sender_user": {"id": 9, "is_bot": false, "first_name": "Eve", "last_name": "Smith"}}})
            ),
            "↪ Forwarded from Eve Smith\nis this yours?"
        );
        assert_eq!(
            text(
                json!({"text": "hi", "forward_origin": {"type": "hidden_user", "date": 1,
                "sender_user_name": "Secret Sam"}})
            ),
            "↪ Forwarded from Secret Sam\nhi"
        );
        assert_eq!(
            text(
                json!({"text": "sale", "forward_origin": {"type": "channel", "date": 1,
                "chat": {"id": -100, "type": "channel", "title": "Shop News"},
                "message_id": 3, "author_signature": "Ann"}})
            ),
            "↪ Forwarded from Shop News (Ann)\nsale"
        );
        let photo = media(json!({
            "photo": [{"file_id": "p", "file_unique_id": "pu", "width": 1, "height": 1}],
            "forward_origin": {"type": "chat", "date": 1,
                "sender_chat": {"id": -5, "type": "supergroup", "title": "Buyers"}}
        }));
        let new = media_message(&message(json!({})), &photo, MgFileId("f".into()));
        assert_eq!(new.note.as_deref(), Some("↪ Forwarded from Buyers"));
        assert!(photo
            .too_large_notice(Some(DOWNLOAD_LIMIT + 1))
            .starts_with("↪ Forwarded from Buyers\n📎 photo (20.0 MB)"));
        // An origin that does not parse is dropped, not the message.
        assert_eq!(text(json!({"text": "hi", "forward_origin": 5})), "hi");
        // A kind newer than this code still says it is a forward.
        assert_eq!(
            text(json!({"text": "hi", "forward_origin": {"type": "bot", "date": 1}})),
            "↪ Forwarded\nhi"
        );
    }

    #[test]
    fn kinds_mg_cannot_show_become_readable_notes() {
        assert_eq!(
            text(json!({"dice": {"emoji": "🎯", "value": 6}})),
            "🎯 Dice: 6"
        );
        assert_eq!(
            text(
                json!({"story": {"chat": {"id": -7, "type": "channel", "title": "Shop"}, "id": 2}})
            ),
            "📰 A story from Shop (it opens only in Telegram)"
        );
        assert_eq!(
            text(json!({"checklist": {"title": "Order", "tasks": [
                {"id": 1, "text": "blue mug"},
                {"id": 2, "text": "gift wrap", "completion_date": 1735689700}
            ]}})),
            "☑️ Checklist: Order\n☐ blue mug\n☑ gift wrap"
        );
        assert_eq!(
            text(
                json!({"paid_media": {"star_count": 50, "paid_media": [{"type": "preview"}]},
                "caption": "the unboxing"})
            ),
            "⭐ Paid media for 50 Stars (it opens only in Telegram)\n\nthe unboxing"
        );
        assert_eq!(
            text(
                json!({"giveaway": {"chats": [], "winners_selection_date": 1, "winner_count": 3,
                "prize_description": "a mug"}})
            ),
            "🎁 Giveaway, winners: 3\n\na mug"
        );
        assert_eq!(
            text(json!({"giveaway_winners": {"winner_count": 2, "winners": [
                {"id": 1, "is_bot": false, "first_name": "Anna"},
                {"id": 2, "is_bot": false, "first_name": "", "username": "bo"}
            ]}})),
            "🏆 Giveaway winners (2): Anna, @bo"
        );
        assert_eq!(
            text(json!({"web_app_data": {"data": "{\"size\":\"M\"}", "button_text": "Order"}})),
            "🧩 Web app data (Order): {\"size\":\"M\"}"
        );
        assert_eq!(text(json!({"game": {"title": "Snake"}})), "🎮 Game: Snake");
        assert_eq!(
            text(
                json!({"successful_payment": {"currency": "EUR", "total_amount": 1250,
                "invoice_payload": "x", "telegram_payment_charge_id": "t"}})
            ),
            "💳 Payment: 12.50 EUR"
        );
        assert_eq!(
            text(json!({"refunded_payment": {"currency": "XTR", "total_amount": 50}})),
            "↩️ Refund: 50 XTR"
        );
        assert_eq!(
            text(
                json!({"pinned_message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"}}})
            ),
            "ℹ️ A Telegram service message the bridge cannot show (pinned_message)"
        );
        // A kind newer than this code.
        assert_eq!(
            text(json!({"hologram": {"id": 1}})),
            "ℹ️ A Telegram message the bridge cannot show; see the chat in Telegram"
        );
        // Only a blank text carries nothing.
        assert_eq!(content_of(&message(json!({"text": "  "}))), None);
    }

    #[test]
    fn notes_and_forwards_are_in_the_customers_language() {
        let mut m = message(json!({"dice": {"emoji": "🎲", "value": 4},
            "forward_origin": {"type": "hidden_user", "date": 1, "sender_user_name": "Ян"}}));
        m.from.as_mut().unwrap().language_code = Some("ru".into());
        assert_eq!(
            content_of(&m),
            Some(Content::Text("↪ Переслано от Ян\n🎲 Кубик: 4".into()))
        );
        m.from.as_mut().unwrap().language_code = Some("es".into());
        assert_eq!(
            content_of(&m),
            Some(Content::Text("↪ Reenviado de Ян\n🎲 Dado: 4".into()))
        );
    }

    #[test]
    fn new_messages_carry_our_namespaced_id_and_the_telegram_time() {
        let m = message(json!({"text": "hi"}));
        let new = text_message(&m, "hi".into());
        assert_eq!(new.external_id.as_deref(), Some("5:42"));
        assert_eq!(new.created_at.unwrap().unix_timestamp(), 1735689600);
        let doc = media(
            json!({"document": {"file_id": "d", "file_unique_id": "du", "file_name": "a.pdf"}, "caption": "see"}),
        );
        let new = media_message(&m, &doc, MgFileId("f-1".into()));
        assert_eq!(
            serde_json::to_value(&new).unwrap(),
            json!({"type": "file", "external_id": "5:42", "created_at": "2025-01-01T00:00:00Z",
                   "note": "see", "items": [{"id": "f-1", "caption": "a.pdf"}]})
        );
    }
}
