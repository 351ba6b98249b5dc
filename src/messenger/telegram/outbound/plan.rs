//! What an operator's message becomes on Telegram, decided before anything is sent: an ordered
//! list of sends, each taking a fixed number of parts (one per Telegram message it makes).
//!
//! The plan depends on the webhook alone, so a redelivered job makes the same plan, and the
//! parts recorded by an earlier attempt (`store::sent`) name the same sends. That is what lets
//! `send_message` skip what was already sent.

use crate::messenger::telegram::{markup, ReplyMarkup};
use crate::mg::{MessageSent, MessageType, WebhookItem};

use super::ids::parse_message_ref;
use super::keyboard::keyboard;
use super::{CAPTION_LIMIT, TEXT_LIMIT};
use crate::i18n::Lang;
use crate::messenger::cards::{order_card, product_card, template_text};
use crate::messenger::html::{is_web_url, pack_lines, text_messages, visible_len};

/// Items per album (Telegram takes 2–10).
pub const ALBUM_MAX: usize = 10;
/// The text of a message that exists only to carry the keyboard (see `plan`): no words, so no
/// language to get wrong.
pub const KEYBOARD_CARRIER: &str = "👇";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Photo,
    Document,
    /// A voice message or a track, by the file's type (known once MG describes the file).
    Audio,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step<'a> {
    /// `sendMessage`, HTML.
    Text(String),
    /// One file; the caption is HTML.
    File {
        kind: Media,
        item: &'a WebhookItem,
        caption: Option<String>,
    },
    /// `sendMediaGroup` of 2–10 files of one kind; the caption goes on the first.
    Album {
        kind: Media,
        items: Vec<&'a WebhookItem>,
        caption: Option<String>,
    },
    /// A card's picture by URL (Telegram fetches it) with the card as its caption; sent as text
    /// with the same HTML when Telegram cannot use the picture.
    CardPhoto { url: String, caption: String },
}

impl Step<'_> {
    /// Telegram messages this send makes.
    pub fn parts(&self) -> usize {
        match self {
            Self::Album { items, .. } => items.len(),
            _ => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan<'a> {
    pub steps: Vec<Step<'a>>,
    /// The Telegram message the first send replies to.
    pub reply_to: Option<i64>,
    /// Quick replies, on the last send.
    pub keyboard: Option<ReplyMarkup>,
}

/// The sends for `msg` into chat `chat_id`; cards labelled in `lang` (the account's).
pub fn plan(msg: &MessageSent, chat_id: i64, lang: Lang) -> Plan<'_> {
    let content = msg.content.as_deref().unwrap_or_default();
    let mut steps = Vec::new();
    let media = match msg.r#type {
        Some(MessageType::Image) => Some(Media::Photo),
        Some(MessageType::Audio) => Some(Media::Audio),
        Some(MessageType::File) => Some(Media::Document),
        _ => None,
    };
    let card = match msg.r#type {
        Some(MessageType::Product) => msg
            .product
            .as_ref()
            .map(|p| (product_card(p, lang), p.img.as_deref())),
        Some(MessageType::Order) => msg.order.as_ref().map(|o| (order_card(o, lang), None)),
        _ => None,
    };
    if !msg.items.is_empty() && (media.is_some() || card.is_none()) {
        // Files of a type without files (or of no known type) are sent as documents.
        let kind = media.unwrap_or(Media::Document);
        let fits = !content.trim().is_empty() && markup::visible_len(content) <= CAPTION_LIMIT;
        media_steps(
            &mut steps,
            kind,
            &msg.items,
            fits.then(|| markup::html(content)),
        );
        if !fits {
            steps.extend(
                markup::html_messages(content, TEXT_LIMIT)
                    .into_iter()
                    .map(Step::Text),
            );
        }
    } else if let Some((lines, img)) = card {
        // The card is the message; MG's `content` for a card repeats it, so it is not added.
        match img.filter(|url| is_web_url(url)) {
            Some(url) if visible_len(&lines) <= CAPTION_LIMIT => steps.push(Step::CardPhoto {
                url: url.to_owned(),
                caption: pack_lines(&lines, CAPTION_LIMIT).concat(),
            }),
            _ => steps.extend(pack_lines(&lines, TEXT_LIMIT).into_iter().map(Step::Text)),
        }
    } else if !content.trim().is_empty() {
        // Operators' text carries MG's markup (`telegram::markup`); cards and templates do not.
        steps.extend(
            markup::html_messages(content, TEXT_LIMIT)
                .into_iter()
                .map(Step::Text),
        );
    } else if let Some(text) = msg.template.as_ref().and_then(template_text) {
        steps.extend(text_messages(&text, TEXT_LIMIT).into_iter().map(Step::Text));
    }

    let keyboard = msg
        .attachments
        .as_ref()
        .and_then(|a| keyboard(&a.suggestions));
    if keyboard.is_some() {
        // An album cannot carry a keyboard (`sendMediaGroup` has no `reply_markup`), nor can
        // nothing: end with a text message that can, the album's caption when it has one.
        match steps.last_mut() {
            Some(Step::Album { caption, .. }) => {
                let text = caption
                    .take()
                    .unwrap_or_else(|| KEYBOARD_CARRIER.to_owned());
                steps.push(Step::Text(text));
            }
            None => steps.push(Step::Text(KEYBOARD_CARRIER.to_owned())),
            Some(_) => {}
        }
    }

    // A reply only within this chat: our ids name their chat, and a quote from elsewhere is
    // not one Telegram could show here.
    let reply_to = msg
        .quote_external_id
        .as_deref()
        .and_then(parse_message_ref)
        .filter(|(chat, _)| *chat == chat_id)
        .map(|(_, message)| message);
    Plan {
        steps,
        reply_to,
        keyboard,
    }
}

/// One file alone; photos and documents in albums of up to ten (a last one left over goes
/// alone); audio one by one (voice messages do not group). The caption goes on the first send.
fn media_steps<'a>(
    steps: &mut Vec<Step<'a>>,
    kind: Media,
    items: &'a [WebhookItem],
    mut caption: Option<String>,
) {
    if kind == Media::Audio || items.len() == 1 {
        for item in items {
            steps.push(Step::File {
                kind,
                item,
                caption: caption.take(),
            });
        }
        return;
    }
    for group in items.chunks(ALBUM_MAX) {
        match group {
            [item] => steps.push(Step::File {
                kind,
                item,
                caption: caption.take(),
            }),
            _ => steps.push(Step::Album {
                kind,
                items: group.iter().collect(),
                caption: caption.take(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mg::{MgFileId, MgWebhook};
    use serde_json::{json, Value};

    fn message(data: Value) -> MessageSent {
        let mut data = data;
        data["id"] = json!(1);
        data["channel_id"] = json!(305);
        match MgWebhook::from_value(json!({"type": "message_sent", "data": data})).unwrap() {
            MgWebhook::MessageSent(m) => m,
            other => panic!("{other:?}"),
        }
    }

    fn items(n: usize) -> Value {
        (0..n)
            .map(|i| json!({"id": format!("file-{i}")}))
            .collect::<Vec<_>>()
            .into()
    }

    fn kinds(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|s| match s {
                Step::Text(_) => "text".to_owned(),
                Step::File { kind, .. } => format!("{kind:?}"),
                Step::Album { kind, items, .. } => format!("album {kind:?} x{}", items.len()),
                Step::CardPhoto { .. } => "card photo".to_owned(),
            })
            .collect()
    }

    #[test]
    fn text_is_escaped_and_split() {
        let msg = message(json!({"type": "text", "content": format!("<b>{}", "a".repeat(5000))}));
        let plan = plan(&msg, 5, Lang::En);
        assert_eq!(kinds(&plan), ["text", "text"]);
        let Step::Text(first) = &plan.steps[0] else {
            unreachable!()
        };
        assert!(first.starts_with("&lt;b&gt;"));
        assert_eq!(plan.reply_to, None);
        assert_eq!(plan.keyboard, None);
    }

    #[test]
    fn media_take_the_caption_or_are_followed_by_the_text() {
        let one = message(json!({"type": "image", "content": "look", "items": items(1)}));
        let plan = plan(&one, 5, Lang::En);
        assert_eq!(kinds(&plan), ["Photo"]);
        assert!(
            matches!(&plan.steps[0], Step::File { caption: Some(c), item, .. } if c == "look" && item.id == MgFileId("file-0".into()))
        );

        let long = "x".repeat(1500);
        let album = message(json!({"type": "image", "content": long, "items": items(3)}));
        let plan = super::plan(&album, 5, Lang::En);
        assert_eq!(kinds(&plan), ["album Photo x3", "text"]);
        assert!(matches!(&plan.steps[0], Step::Album { caption: None, .. }));
        assert_eq!(plan.steps.iter().map(Step::parts).sum::<usize>(), 4);

        let many = message(json!({"type": "file", "items": items(21)}));
        assert_eq!(
            kinds(&super::plan(&many, 5, Lang::En)),
            ["album Document x10", "album Document x10", "Document"]
        );
        let audio = message(json!({"type": "audio", "content": "hi", "items": items(2)}));
        let plan = super::plan(&audio, 5, Lang::En);
        assert_eq!(kinds(&plan), ["Audio", "Audio"]);
        assert!(matches!(&plan.steps[1], Step::File { caption: None, .. }));
        let untyped = message(json!({"type": "video", "items": items(1)}));
        assert_eq!(kinds(&super::plan(&untyped, 5, Lang::En)), ["Document"]);
    }

    #[test]
    fn cards_with_a_picture_are_a_photo_else_text() {
        let product = message(json!({"type": "product", "content": "Red dress",
            "product": {"name": "Red dress", "img": "https://shop.example/1.jpg", "cost": {"value": 10, "currency": "EUR"}}}));
        let plan = plan(&product, 5, Lang::En);
        assert_eq!(
            plan.steps,
            [Step::CardPhoto {
                url: "https://shop.example/1.jpg".into(),
                caption: "<b>Red dress</b>\n10 €".into()
            }]
        );
        let no_img = message(json!({"type": "product", "product": {"name": "Red dress"}}));
        assert_eq!(
            super::plan(&no_img, 5, Lang::En).steps,
            [Step::Text("<b>Red dress</b>".into())]
        );
        let order = message(json!({"type": "order", "order": {"number": "7"}}));
        assert_eq!(
            super::plan(&order, 5, Lang::En).steps,
            [Step::Text("<b>Order 7</b>".into())]
        );
    }

    #[test]
    fn a_template_without_content_is_rendered() {
        let msg = message(
            json!({"type": "text", "template": {"code": "a#hello#en", "variables": {"body": {"args": ["Anna"]}}}}),
        );
        assert_eq!(
            plan(&msg, 5, Lang::En).steps,
            [Step::Text("hello\nAnna".into())]
        );
        let with_content = message(
            json!({"type": "text", "content": "Hello, Anna", "template": {"code": "a#hello#en"}}),
        );
        assert_eq!(
            plan(&with_content, 5, Lang::En).steps,
            [Step::Text("Hello, Anna".into())]
        );
        assert!(plan(&message(json!({"type": "text"})), 5, Lang::En)
            .steps
            .is_empty());
    }

    #[test]
    fn quotes_reply_within_the_chat_only() {
        let msg = message(json!({"type": "text", "content": "yes", "quote_external_id": "5:42"}));
        assert_eq!(plan(&msg, 5, Lang::En).reply_to, Some(42));
        assert_eq!(plan(&msg, 6, Lang::En).reply_to, None);
        let foreign =
            message(json!({"type": "text", "content": "yes", "quote_external_id": "m-777"}));
        assert_eq!(plan(&foreign, 5, Lang::En).reply_to, None);
    }

    #[test]
    fn a_keyboard_never_ends_up_on_an_album() {
        let suggestions = json!({"suggestions": [{"type": "text", "title": "Yes"}]});
        let album = message(
            json!({"type": "image", "content": "pick one", "items": items(2), "attachments": suggestions}),
        );
        let plan = plan(&album, 5, Lang::En);
        assert_eq!(kinds(&plan), ["album Photo x2", "text"]);
        assert!(matches!(&plan.steps[0], Step::Album { caption: None, .. }));
        assert_eq!(plan.steps[1], Step::Text("pick one".into()));
        assert!(plan.keyboard.is_some());

        let bare = message(json!({"type": "image", "items": items(2), "attachments": suggestions}));
        assert_eq!(
            super::plan(&bare, 5, Lang::En).steps[1],
            Step::Text(KEYBOARD_CARRIER.into())
        );
        let empty = message(json!({"type": "text", "attachments": suggestions}));
        assert_eq!(
            super::plan(&empty, 5, Lang::En).steps,
            [Step::Text(KEYBOARD_CARRIER.into())]
        );
        let photo =
            message(json!({"type": "image", "items": items(1), "attachments": suggestions}));
        assert_eq!(kinds(&super::plan(&photo, 5, Lang::En)), ["Photo"]);
    }
}
