//! Chats whose customer stopped or blocked the bot: operators' messages to them are reported
//! at once rather than retried against a messenger that refuses them.

use super::{now_unix, Store, StoreError};
use crate::store::ChannelId;

impl Store {
    /// Marks the chat blocked (again: the first time is kept).
    pub async fn block_chat(&self, channel: &ChannelId, chat_id: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO blocked_chat (channel_id, chat_id, blocked_at) VALUES ($1, $2, $3) \
             ON CONFLICT (channel_id, chat_id) DO NOTHING",
        )
        .bind(channel.as_str())
        .bind(chat_id)
        .bind(now_unix())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The customer is back: the chat is open again.
    pub async fn unblock_chat(&self, channel: &ChannelId, chat_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM blocked_chat WHERE channel_id = $1 AND chat_id = $2")
            .bind(channel.as_str())
            .bind(chat_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn is_chat_blocked(
        &self,
        channel: &ChannelId,
        chat_id: &str,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM blocked_chat WHERE channel_id = $1 AND chat_id = $2")
            .bind(channel.as_str())
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}
