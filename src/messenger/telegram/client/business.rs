//! A bot acting for a Telegram Business connection: the chat methods name the connection.

use serde_json::json;

use super::{Bot, TelegramError};

/// The methods that act in a chat and so must name the business connection in a business
/// chat (without it Telegram answers "bot can't initiate conversation with a user").
pub(super) const BUSINESS_METHODS: &[&str] = &[
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendAudio",
    "sendVoice",
    "sendVideo",
    "sendAnimation",
    "sendMediaGroup",
    "sendChatAction",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "deleteBusinessMessages",
    "readBusinessMessage",
];

impl Bot {
    /// The same bot, acting for a business account's connection.
    pub fn for_business(&self, connection_id: &str) -> Bot {
        Bot {
            business: Some(connection_id.into()),
            ..self.clone()
        }
    }

    /// Marks a business chat's message read (the connection needs `can_read_messages`).
    pub async fn read_business_message(
        &self,
        chat_id: i64,
        message_id: i64,
    ) -> Result<bool, TelegramError> {
        self.call(
            "readBusinessMessage",
            &json!({ "chat_id": chat_id, "message_id": message_id }),
        )
        .await
    }

    /// The connection to name in `method`'s parameters, for a business bot's chat methods.
    pub(super) fn business_of(&self, method: &str) -> Option<&str> {
        self.business
            .as_deref()
            .filter(|_| BUSINESS_METHODS.contains(&method))
    }
}
