//! The customer MG files a Telegram user under, sent with every message so MG keeps the
//! profile fresh (§6.2).

use crate::messenger::telegram::{Chat, User};
use crate::mg::Customer;

use super::text::{full_name, truncate_chars};

/// MG's limits on a customer's names.
const NAME_MAX: usize = 255;

/// `avatar` is our signed avatar URL (never Telegram's: that one holds the bot token).
pub fn customer_of(user: &User, avatar: Option<String>) -> Customer {
    let username = user
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    Customer {
        // Telegram user ids exceed 32 bits; as text they fit MG's 64 characters easily.
        external_id: user.id.to_string(),
        nickname: nickname(user),
        first_name: name_part(&user.first_name),
        last_name: user.last_name.as_deref().and_then(name_part),
        avatar,
        profile_url: username.map(|u| format!("https://t.me/{u}")),
        language: user.language_code.as_deref().and_then(language),
        ..Default::default()
    }
}

/// The user of a private chat when a message names no sender (it always does in private
/// chats; this is only tolerance): the chat's id is the user's id.
pub fn user_of_chat(chat: &Chat) -> User {
    User {
        id: chat.id,
        is_bot: false,
        first_name: chat.first_name.clone().unwrap_or_default(),
        last_name: chat.last_name.clone(),
        username: chat.username.clone(),
        language_code: None,
        can_join_groups: None,
        can_read_all_group_messages: None,
    }
}

/// The username, else the full name, else the id: MG requires 1..=255 characters.
pub fn nickname(user: &User) -> String {
    let name = match user
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(username) => username.to_owned(),
        None => full_name(&user.first_name, user.last_name.as_deref()),
    };
    if name.is_empty() {
        user.id.to_string()
    } else {
        truncate_chars(&name, NAME_MAX)
    }
}

fn name_part(name: &str) -> Option<String> {
    let name = name.trim();
    (!name.is_empty()).then(|| truncate_chars(name, NAME_MAX))
}

/// MG wants a two-letter code; Telegram sends an IETF tag (`en`, `pt-br`). The primary subtag
/// when it has two letters, else nothing.
fn language(code: &str) -> Option<String> {
    let primary = code.split(['-', '_']).next()?.trim();
    (primary.len() == 2 && primary.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(value: serde_json::Value) -> User {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_user_with_a_username_is_filed_under_it() {
        let u = user(
            json!({"id": 7012345678_i64, "is_bot": false, "first_name": "Анна",
            "last_name": "K", "username": "anna_k", "language_code": "pt-br"}),
        );
        let c = customer_of(&u, Some("https://transport.example.com/avatar/x/1".into()));
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({
                "external_id": "7012345678", "nickname": "anna_k", "first_name": "Анна",
                "last_name": "K", "avatar": "https://transport.example.com/avatar/x/1",
                "profile_url": "https://t.me/anna_k", "language": "pt"
            })
        );
    }

    #[test]
    fn the_nickname_falls_back_to_the_name_then_the_id() {
        let u = user(json!({"id": 5, "first_name": "Bo", "last_name": "Smith"}));
        assert_eq!(nickname(&u), "Bo Smith");
        let c = customer_of(&u, None);
        assert_eq!(c.profile_url, None);
        assert_eq!(c.language, None);
        assert_eq!(nickname(&user(json!({"id": 5, "first_name": "Bo"}))), "Bo");
        assert_eq!(nickname(&user(json!({"id": 5, "first_name": " "}))), "5");
        assert_eq!(language("english"), None);
    }
}
