//! Telegram Business connections: each is a channel row of its own (`bot_id` =
//! `business:{connection id}`, the bot's token, the bot's channel as parent) and a
//! `business_connection` row saying whose account it is and what the owner allowed.

use secrecy::ExposeSecret;
use sqlx::Row;

use super::channels::CHANNEL_COLUMNS;
use super::{now_unix, Store, StoreError};
use crate::domain::AccountId;
use crate::store::{Channel, ChannelId};

/// A connection as the settings page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessLink {
    pub channel_id: ChannelId,
    pub bot_channel_id: ChannelId,
    pub connection_id: String,
    pub owner_user_id: String,
    /// `@username`, or the owner's name.
    pub owner_name: String,
    pub can_reply: bool,
    pub can_read: bool,
    pub enabled: bool,
    pub mg_channel_id: i64,
    pub connected_at: i64,
}

/// What a `business_connection` update says, for [`Store::save_business_link`].
pub struct NewBusinessLink<'a> {
    pub bot: &'a Channel,
    pub connection_id: &'a str,
    pub owner_user_id: &'a str,
    pub owner_name: &'a str,
    pub can_reply: bool,
    pub can_read: bool,
    pub enabled: bool,
    pub mg_channel_id: i64,
    pub settings_hash: &'a str,
    /// Its channel row's webhook key and secret: unused (updates come through the bot's), but
    /// the columns are unique and required.
    pub webhook_key: &'a str,
    pub webhook_secret: &'a str,
}

const LINK_COLUMNS: &str = "b.channel_id, b.bot_channel_id, b.connection_id, b.owner_user_id, \
     b.owner_name, b.can_reply, b.can_read, b.enabled, b.connected_at, c.mg_channel_id";

impl Store {
    /// The channel of the bot's connection `connection_id`, if it was seen before.
    pub async fn find_business_link(
        &self,
        bot_channel: &ChannelId,
        connection_id: &str,
    ) -> Result<Option<BusinessLink>, StoreError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM business_connection b \
             JOIN channel c ON c.channel_id = b.channel_id \
             WHERE b.bot_channel_id = $1 AND b.connection_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(bot_channel.as_str())
            .bind(connection_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| link_from_row(&r)).transpose()
    }

    /// The account's business connections, newest first.
    pub async fn list_business_links(
        &self,
        account: &AccountId,
    ) -> Result<Vec<BusinessLink>, StoreError> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM business_connection b \
             JOIN channel c ON c.channel_id = b.channel_id \
             WHERE c.account_id = $1 ORDER BY b.connected_at DESC, b.channel_id"
        );
        let rows = sqlx::query(&sql)
            .bind(account.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(link_from_row).collect()
    }

    /// Stores the connection and its channel (active when enabled and allowed to reply), or
    /// updates the ones it had: turning a connection on again keeps its channel.
    pub async fn save_business_link(
        &self,
        link: &NewBusinessLink<'_>,
    ) -> Result<ChannelId, StoreError> {
        let now = now_unix();
        let active = i64::from(link.enabled && link.can_reply);
        let mut tx = self.pool.begin().await?;
        let id: String = sqlx::query_scalar(
            "INSERT INTO channel (channel_id, account_id, messenger, bot_id, bot_username, bot_token_enc, \
                 webhook_key, webhook_secret_enc, mg_channel_id, settings_hash, active, created_at, updated_at, \
                 business_connection_id, parent_channel_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14) \
             ON CONFLICT (account_id, messenger, bot_id) DO UPDATE SET \
                 bot_username = excluded.bot_username, bot_token_enc = excluded.bot_token_enc, \
                 mg_channel_id = excluded.mg_channel_id, settings_hash = excluded.settings_hash, \
                 active = excluded.active, updated_at = excluded.updated_at \
             RETURNING channel_id",
        )
        .bind(ChannelId::generate().as_str())
        .bind(link.bot.account_id.as_str())
        .bind(link.bot.messenger.as_str())
        .bind(format!("business:{}", link.connection_id))
        .bind(link.owner_name)
        .bind(self.seal_bot_token(link.bot.token.expose_secret()))
        .bind(link.webhook_key)
        .bind(self.seal_webhook_secret(link.webhook_secret))
        .bind(link.mg_channel_id)
        .bind(link.settings_hash)
        .bind(active)
        .bind(now)
        .bind(link.connection_id)
        .bind(link.bot.id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO business_connection (channel_id, connection_id, bot_channel_id, owner_user_id, \
                 owner_name, can_reply, can_read, enabled, connected_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (channel_id) DO UPDATE SET owner_name = excluded.owner_name, \
                 can_reply = excluded.can_reply, can_read = excluded.can_read, \
                 enabled = excluded.enabled, updated_at = excluded.updated_at",
        )
        .bind(id.as_str())
        .bind(link.connection_id)
        .bind(link.bot.id.as_str())
        .bind(link.owner_user_id)
        .bind(link.owner_name)
        .bind(i64::from(link.can_reply))
        .bind(i64::from(link.can_read))
        .bind(i64::from(link.enabled))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ChannelId(id))
    }

    /// The business channels a bot's channel has (to remove with the bot).
    pub async fn business_channels_of(
        &self,
        bot_channel: &ChannelId,
    ) -> Result<Vec<Channel>, StoreError> {
        let sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM channel WHERE parent_channel_id = $1 AND active = 1 \
             ORDER BY channel_id"
        );
        let rows = sqlx::query(&sql)
            .bind(bot_channel.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| self.channel_from_row(row)).collect()
    }
}

fn link_from_row(row: &sqlx::any::AnyRow) -> Result<BusinessLink, StoreError> {
    let flag = |name: &str| -> Result<bool, StoreError> { Ok(row.try_get::<i64, _>(name)? != 0) };
    Ok(BusinessLink {
        channel_id: ChannelId(row.try_get("channel_id")?),
        bot_channel_id: ChannelId(row.try_get("bot_channel_id")?),
        connection_id: row.try_get("connection_id")?,
        owner_user_id: row.try_get("owner_user_id")?,
        owner_name: row.try_get("owner_name")?,
        can_reply: flag("can_reply")?,
        can_read: flag("can_read")?,
        enabled: flag("enabled")?,
        mg_channel_id: row.try_get("mg_channel_id")?,
        connected_at: row.try_get("connected_at")?,
    })
}
