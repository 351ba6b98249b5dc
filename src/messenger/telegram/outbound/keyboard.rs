//! MG's quick replies as Telegram buttons.

use crate::messenger::html::{is_blank, is_web_url};
use crate::messenger::telegram::{
    InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, ReplyMarkup,
};
use crate::mg::{Suggestion, SuggestionType};

/// MG's quick replies as buttons under the message.
///
/// When every suggestion is a link, they become inline URL buttons: one tap opens the page. Any
/// other mix becomes a reply keyboard (one button per row, hidden after use, sized to fit),
/// because a message carries one kind of keyboard: there a `url` suggestion is a text button
/// with its title (pressing it sends the title to the operator, who can answer with the link),
/// a `phone` one asks Telegram to share the customer's contact, and `email` and unknown kinds
/// send their text. Suggestions without any text to show are left out.
pub fn keyboard(suggestions: &[Suggestion]) -> Option<ReplyMarkup> {
    let label = |s: &Suggestion| {
        s.title
            .as_deref()
            .filter(|t| !is_blank(t))
            .or(s.payload.as_deref().filter(|p| !is_blank(p)))
            .map(|t| t.trim().to_owned())
    };
    let shown: Vec<&Suggestion> = suggestions.iter().filter(|s| label(s).is_some()).collect();
    if shown.is_empty() {
        return None;
    }
    let all_links = shown
        .iter()
        .all(|s| s.r#type == SuggestionType::Url && s.payload.as_deref().is_some_and(is_web_url));
    if all_links {
        let rows = shown
            .iter()
            .map(|s| {
                vec![InlineKeyboardButton {
                    text: label(s).unwrap_or_default(),
                    url: s.payload.as_deref().map(|p| p.trim().to_owned()),
                    callback_data: None,
                }]
            })
            .collect();
        return Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup {
            inline_keyboard: rows,
        }));
    }
    let rows = shown
        .iter()
        .map(|s| {
            let mut button = KeyboardButton::text(label(s).unwrap_or_default());
            if s.r#type == SuggestionType::Phone {
                button.request_contact = Some(true);
            }
            vec![button]
        })
        .collect();
    Some(ReplyMarkup::Keyboard(ReplyKeyboardMarkup {
        keyboard: rows,
        resize_keyboard: Some(true),
        one_time_keyboard: Some(true),
        is_persistent: None,
        input_field_placeholder: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggestion(kind: SuggestionType, title: Option<&str>, payload: Option<&str>) -> Suggestion {
        Suggestion {
            r#type: kind,
            title: title.map(Into::into),
            payload: payload.map(Into::into),
        }
    }

    #[test]
    fn suggestions_become_a_reply_keyboard() {
        let markup = keyboard(&[
            suggestion(SuggestionType::Text, Some("Order now"), None),
            suggestion(
                SuggestionType::Url,
                Some("Open catalog"),
                Some("https://shop.example/red"),
            ),
            suggestion(SuggestionType::Phone, Some("Share phone"), None),
            suggestion(SuggestionType::Email, None, Some("me@example.com")),
            suggestion(SuggestionType::Text, Some("  "), None),
        ])
        .unwrap();
        assert_eq!(
            serde_json::to_value(markup).unwrap(),
            serde_json::json!({
                "keyboard": [[{"text": "Order now"}], [{"text": "Open catalog"}],
                             [{"text": "Share phone", "request_contact": true}], [{"text": "me@example.com"}]],
                "resize_keyboard": true, "one_time_keyboard": true
            })
        );
        assert_eq!(keyboard(&[]), None);
        assert_eq!(
            keyboard(&[suggestion(SuggestionType::Text, None, None)]),
            None
        );
    }

    #[test]
    fn link_only_suggestions_become_url_buttons() {
        let markup = keyboard(&[
            suggestion(
                SuggestionType::Url,
                Some("Catalog"),
                Some("https://shop.example/"),
            ),
            suggestion(SuggestionType::Url, None, Some("https://shop.example/sale")),
        ])
        .unwrap();
        assert_eq!(
            serde_json::to_value(markup).unwrap(),
            serde_json::json!({"inline_keyboard": [
                [{"text": "Catalog", "url": "https://shop.example/"}],
                [{"text": "https://shop.example/sale", "url": "https://shop.example/sale"}]
            ]})
        );
    }
}
