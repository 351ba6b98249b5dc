//! Parts of operators' messages already sent to the messenger: the record that makes
//! redelivery after a crash skip what was sent, and that finds every part of a message to edit
//! or delete. Chats and messages are named by the messenger's ids, as text.

use sqlx::Row;

use super::{now_unix, Store, StoreError};
use crate::store::ChannelId;

/// One messenger message that carries (part of) an MG message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPart {
    /// 0 for the first message sent, then 1, 2, ...
    pub part: i64,
    pub chat_id: String,
    pub message_id: String,
}

impl Store {
    /// Records that `part` of MG message `mg_message_id` is the messenger's message in it.
    /// Recording the same part again keeps the first record.
    pub async fn record_sent_part(
        &self,
        channel: &ChannelId,
        mg_message_id: i64,
        part: &SentPart,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sent_part (channel_id, mg_message_id, part, chat_id, message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, mg_message_id, part) DO NOTHING",
        )
        .bind(channel.as_str())
        .bind(mg_message_id)
        .bind(part.part)
        .bind(part.chat_id.as_str())
        .bind(part.message_id.as_str())
        .bind(now_unix())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The parts of MG message `mg_message_id` sent so far, in order.
    pub async fn sent_parts(
        &self,
        channel: &ChannelId,
        mg_message_id: i64,
    ) -> Result<Vec<SentPart>, StoreError> {
        let rows = sqlx::query(
            "SELECT part, chat_id, message_id FROM sent_part \
             WHERE channel_id = $1 AND mg_message_id = $2 ORDER BY part",
        )
        .bind(channel.as_str())
        .bind(mg_message_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(part_from_row).collect()
    }

    /// Every part of the MG message one of whose parts is the messenger's message
    /// `message_id` in `chat_id` (the external id MG knows is the first part's); empty when we
    /// did not send it.
    pub async fn sent_parts_of_message(
        &self,
        channel: &ChannelId,
        chat_id: &str,
        message_id: &str,
    ) -> Result<Vec<SentPart>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.part, p.chat_id, p.message_id FROM sent_part p \
             JOIN sent_part m ON m.channel_id = p.channel_id AND m.mg_message_id = p.mg_message_id \
             WHERE m.channel_id = $1 AND m.chat_id = $2 AND m.message_id = $3 ORDER BY p.part",
        )
        .bind(channel.as_str())
        .bind(chat_id)
        .bind(message_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(part_from_row).collect()
    }

    /// Deletes the records of parts sent more than `age_secs` ago: they say which chat got
    /// which message, so they go when the queue forgets its jobs. An edit or deletion in MG of a
    /// message that old then reaches its first part only (its external id in MG).
    pub async fn delete_sent_parts_older_than(&self, age_secs: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sent_part WHERE created_at < $1")
            .bind(now_unix() - age_secs)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn part_from_row(row: &sqlx::any::AnyRow) -> Result<SentPart, StoreError> {
    Ok(SentPart {
        part: row.try_get("part")?,
        chat_id: row.try_get("chat_id")?,
        message_id: row.try_get("message_id")?,
    })
}
