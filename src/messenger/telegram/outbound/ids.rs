//! Our ids of Telegram messages and chats, file names, and reactions as Telegram spells them.

use crate::messenger::html::is_blank;
use crate::store::SentPart;

/// Our external id of a Telegram message, `"{chat_id}:{message_id}"`.
pub fn message_ref(chat_id: i64, message_id: i64) -> String {
    format!("{chat_id}:{message_id}")
}

/// `"{chat_id}:{message_id}"` back into its numbers; `None` for any other id (an old
/// transport's, or one MG made up).
pub fn parse_message_ref(text: &str) -> Option<(i64, i64)> {
    let (chat, message) = text.trim().split_once(':')?;
    let chat = chat.parse().ok()?;
    let message: i64 = message.parse().ok()?;
    (message > 0).then_some((chat, message))
}

/// The record of Telegram message `message_id` in `chat_id`, carrying `part`.
pub fn sent_part(part: i64, chat_id: i64, message_id: i64) -> SentPart {
    SentPart {
        part,
        chat_id: chat_id.to_string(),
        message_id: message_id.to_string(),
    }
}

/// A record's Telegram ids, `(chat_id, message_id)`; `None` if they are not Telegram's.
pub fn telegram_ids(part: &SentPart) -> Option<(i64, i64)> {
    Some((part.chat_id.parse().ok()?, part.message_id.parse().ok()?))
}

/// The chat to send to: `external_chat_id`, or on phone-keyed channels (empty chat id) the
/// customer's id, which for a private chat is the same number.
pub fn chat_id(external_chat_id: &str, external_user_id: &str) -> Option<i64> {
    let chat = if is_blank(external_chat_id) {
        external_user_id
    } else {
        external_chat_id
    };
    chat.trim().parse().ok().filter(|id| *id != 0)
}

/// A file's name for Telegram: the one MG gave (the item's caption), else the URL's last path
/// segment, else `fallback`.
pub fn file_name(given: Option<&str>, url: &str, fallback: &str) -> String {
    if let Some(name) = given.map(str::trim).filter(|n| !n.is_empty()) {
        return name.to_owned();
    }
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.path_segments()?
                .next_back()
                .filter(|s| !s.is_empty())
                .map(percent_encoding_decode)
        })
        .filter(|n| !is_blank(n))
        .unwrap_or_else(|| fallback.to_owned())
}

fn percent_encoding_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("n={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| segment.to_owned())
}

/// MG writes emoji with the variation selector (`❤️`); Telegram's reaction list has them
/// without (`❤`, `❤‍🔥`), and refuses the other spelling.
pub fn reaction_emoji(emoji: &str) -> String {
    emoji.trim().chars().filter(|c| *c != '\u{fe0f}').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_refs_round_trip_and_others_are_refused() {
        assert_eq!(message_ref(-1001234567890, 42), "-1001234567890:42");
        assert_eq!(
            parse_message_ref("-1001234567890:42"),
            Some((-1001234567890, 42))
        );
        assert_eq!(parse_message_ref("5:7"), Some((5, 7)));
        for other in ["m-777", "out-556", "5:", ":7", "5:x", "5:0", "5:7:9", ""] {
            assert_eq!(parse_message_ref(other), None, "{other}");
        }
    }

    #[test]
    fn the_chat_is_the_chat_id_or_else_the_user_id() {
        assert_eq!(chat_id("123", "999"), Some(123));
        assert_eq!(chat_id("", "999"), Some(999));
        assert_eq!(chat_id("-100500", ""), Some(-100500));
        assert_eq!(chat_id("chat-99001", "u-5001"), None);
        assert_eq!(chat_id("", ""), None);
    }

    #[test]
    fn file_names_come_from_mg_or_the_url() {
        assert_eq!(
            file_name(Some("invoice.pdf"), "https://s3/x", "file"),
            "invoice.pdf"
        );
        assert_eq!(
            file_name(
                None,
                "https://s3.example/files/Price%20list.pdf?sig=abc",
                "file"
            ),
            "Price list.pdf"
        );
        assert_eq!(file_name(Some(" "), "https://s3.example/", "file"), "file");
        assert_eq!(file_name(None, "not a url", "photo.jpg"), "photo.jpg");
    }

    #[test]
    fn reactions_lose_the_variation_selector() {
        assert_eq!(reaction_emoji("❤️"), "❤");
        assert_eq!(reaction_emoji("👍"), "👍");
        assert_eq!(reaction_emoji("❤️‍🔥"), "❤‍🔥");
    }
}
