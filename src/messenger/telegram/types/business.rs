//! Telegram Business (Bot API 7.2, rights since 9.0): an account owner connects the bot as
//! their account's chatbot, and the bot then receives that account's private chats.

use serde::{Deserialize, Serialize};
use serde_with::serde_as;

use super::lenient::Lenient;
use super::{Chat, User};

/// `business_connection`: the bot was connected to a business account, or the connection
/// changed (rights, switched off).
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessConnection {
    pub id: String,
    /// The business account's owner.
    pub user: User,
    /// The private chat with the owner (where the bot may write to them).
    pub user_chat_id: i64,
    #[serde(default)]
    pub date: i64,
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub rights: Option<BusinessBotRights>,
    /// Before Bot API 9.0 the only right, at the top level.
    #[serde(default)]
    #[serde_as(deserialize_as = "Lenient")]
    pub can_reply: Option<bool>,
    pub is_enabled: bool,
}

impl BusinessConnection {
    /// May the bot answer the account's customers (within 24 hours of their last message)?
    pub fn can_reply(&self) -> bool {
        self.rights
            .as_ref()
            .map(|r| r.can_reply)
            .or(self.can_reply)
            .unwrap_or(false)
    }

    pub fn can_read_messages(&self) -> bool {
        self.rights.as_ref().is_some_and(|r| r.can_read_messages)
    }
}

/// What the owner let the bot do (`BusinessBotRights`); the ones a chat bridge uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessBotRights {
    #[serde(default)]
    pub can_reply: bool,
    #[serde(default)]
    pub can_read_messages: bool,
    #[serde(default)]
    pub can_delete_outgoing_messages: bool,
    #[serde(default)]
    pub can_delete_all_messages: bool,
}

/// `deleted_business_messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessMessagesDeleted {
    pub business_connection_id: String,
    pub chat: Chat,
    #[serde(default)]
    pub message_ids: Vec<i64>,
}
