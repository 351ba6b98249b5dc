//! Channels: the messenger bots of an account, each one MessageGateway channel.

use secrecy::{ExposeSecret, SecretString};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_unix, Store, StoreError};
use crate::domain::{AccountId, MessengerKind};

const BOT_TOKEN: &str = "channel.bot_token";
const WEBHOOK_SECRET: &str = "channel.webhook_secret";

/// Our id of a channel row (a UUID; not secret).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChannelId(pub(super) String);

impl ChannelId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// Accepts only the UUID shape `generate` makes.
    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::parse_str(text)
            .ok()
            .map(|u| Self(u.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored channel with its secrets opened.
#[derive(Debug, Clone)]
pub struct Channel {
    pub id: ChannelId,
    pub account_id: AccountId,
    pub messenger: MessengerKind,
    /// The messenger's id of the bot.
    pub bot_id: String,
    pub bot_username: String,
    /// The bot's token, as the messenger issued it (its folder parses it).
    pub token: SecretString,
    pub webhook_key: String,
    pub webhook_secret: SecretString,
    pub mg_channel_id: i64,
    pub settings_hash: String,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// A Telegram Business connection's channel: every call for it names the connection.
    pub business_connection_id: Option<String>,
}

/// What adding a bot stores.
pub struct NewChannel<'a> {
    pub account_id: &'a AccountId,
    pub messenger: MessengerKind,
    pub bot_id: &'a str,
    pub bot_username: &'a str,
    pub bot_token: &'a str,
    pub webhook_key: &'a str,
    pub webhook_secret: &'a str,
    pub mg_channel_id: i64,
    pub settings_hash: &'a str,
}

impl std::fmt::Debug for NewChannel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token and the webhook secret are left out.
        f.debug_struct("NewChannel")
            .field("account_id", self.account_id)
            .field("messenger", &self.messenger)
            .field("bot_id", &self.bot_id)
            .field("bot_username", &self.bot_username)
            .field("mg_channel_id", &self.mg_channel_id)
            .finish_non_exhaustive()
    }
}

pub(super) const CHANNEL_COLUMNS: &str =
    "channel_id, account_id, messenger, bot_id, bot_username, bot_token_enc, \
     webhook_key, webhook_secret_enc, mg_channel_id, settings_hash, active, created_at, updated_at, \
     business_connection_id";

impl Store {
    /// The account's channels, newest first (removed ones included, marked inactive).
    #[tracing::instrument(skip_all, fields(account = account_id.as_str()))]
    pub async fn list_channels(&self, account_id: &AccountId) -> Result<Vec<Channel>, StoreError> {
        let sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM channel WHERE account_id = $1 \
             ORDER BY created_at DESC, channel_id"
        );
        let rows = sqlx::query(&sql)
            .bind(account_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| self.channel_from_row(row)).collect()
    }

    #[tracing::instrument(skip_all, fields(account = account_id.as_str(), channel = channel_id.as_str()))]
    pub async fn find_channel(
        &self,
        account_id: &AccountId,
        channel_id: &ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        let sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM channel WHERE account_id = $1 AND channel_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(account_id.as_str())
            .bind(channel_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| self.channel_from_row(&row)).transpose()
    }

    #[tracing::instrument(skip_all, fields(account = account_id.as_str(), messenger = messenger.as_str(), bot_id = %bot_id))]
    pub async fn find_channel_by_bot(
        &self,
        account_id: &AccountId,
        messenger: MessengerKind,
        bot_id: &str,
    ) -> Result<Option<Channel>, StoreError> {
        let sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM channel \
             WHERE account_id = $1 AND messenger = $2 AND bot_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(account_id.as_str())
            .bind(messenger.as_str())
            .bind(bot_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| self.channel_from_row(&row)).transpose()
    }

    /// The channel with this id, whichever account it belongs to (the avatar route's links
    /// name only the channel).
    pub async fn find_channel_by_id(
        &self,
        channel_id: &ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channel WHERE channel_id = $1");
        let row = sqlx::query(&sql)
            .bind(channel_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| self.channel_from_row(&row)).transpose()
    }

    /// The channel whose webhook path ends in `{webhook_key}` (active or not: the caller
    /// decides what an update for a removed bot means).
    pub async fn find_channel_by_webhook_key(
        &self,
        webhook_key: &str,
    ) -> Result<Option<Channel>, StoreError> {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channel WHERE webhook_key = $1");
        let row = sqlx::query(&sql)
            .bind(webhook_key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| self.channel_from_row(&row)).transpose()
    }

    /// The account's channel that is MG channel `mg_channel_id` (newest first if a bot was
    /// removed and added again).
    pub async fn find_channel_by_mg_id(
        &self,
        account_id: &AccountId,
        mg_channel_id: i64,
    ) -> Result<Option<Channel>, StoreError> {
        let sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM channel WHERE account_id = $1 AND mg_channel_id = $2 \
             ORDER BY active DESC, updated_at DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(account_id.as_str())
            .bind(mg_channel_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| self.channel_from_row(&row)).transpose()
    }

    /// The account an active bot currently serves, if any.
    #[tracing::instrument(skip_all, fields(messenger = messenger.as_str(), bot_id = %bot_id))]
    pub async fn account_of_active_bot(
        &self,
        messenger: MessengerKind,
        bot_id: &str,
    ) -> Result<Option<AccountId>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT account_id FROM channel WHERE messenger = $1 AND bot_id = $2 AND active = 1",
        )
        .bind(messenger.as_str())
        .bind(bot_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(AccountId::from_stored))
    }

    /// Every active channel, for the start-up settings check.
    #[tracing::instrument(skip_all)]
    pub async fn list_active_channels(&self) -> Result<Vec<Channel>, StoreError> {
        let sql =
            format!("SELECT {CHANNEL_COLUMNS} FROM channel WHERE active = 1 ORDER BY channel_id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(|row| self.channel_from_row(row)).collect()
    }

    /// Inserts the channel, or updates and re-activates the account's row for the same bot.
    #[tracing::instrument(skip_all, fields(account = channel.account_id.as_str(), bot_id = %channel.bot_id))]
    pub async fn save_channel(&self, channel: &NewChannel<'_>) -> Result<ChannelId, StoreError> {
        let now = now_unix();
        let id: String = sqlx::query_scalar(
            "INSERT INTO channel (channel_id, account_id, messenger, bot_id, bot_username, bot_token_enc, \
                 webhook_key, webhook_secret_enc, mg_channel_id, settings_hash, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) \
             ON CONFLICT (account_id, messenger, bot_id) DO UPDATE SET \
                 bot_username = excluded.bot_username, bot_token_enc = excluded.bot_token_enc, \
                 webhook_key = excluded.webhook_key, webhook_secret_enc = excluded.webhook_secret_enc, \
                 mg_channel_id = excluded.mg_channel_id, settings_hash = excluded.settings_hash, \
                 active = 1, updated_at = excluded.updated_at \
             RETURNING channel_id",
        )
        .bind(ChannelId::generate().as_str())
        .bind(channel.account_id.as_str())
        .bind(channel.messenger.as_str())
        .bind(channel.bot_id)
        .bind(channel.bot_username)
        .bind(self.cipher.seal(BOT_TOKEN, channel.bot_token))
        .bind(channel.webhook_key)
        .bind(self.cipher.seal(WEBHOOK_SECRET, channel.webhook_secret))
        .bind(channel.mg_channel_id)
        .bind(channel.settings_hash)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(ChannelId(id))
    }

    #[tracing::instrument(skip_all, fields(channel = channel_id.as_str()))]
    pub async fn deactivate_channel(&self, channel_id: &ChannelId) -> Result<(), StoreError> {
        sqlx::query("UPDATE channel SET active = 0, updated_at = $1 WHERE channel_id = $2")
            .bind(now_unix())
            .bind(channel_id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(channel = channel_id.as_str()))]
    pub async fn set_channel_settings_hash(
        &self,
        channel_id: &ChannelId,
        settings_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE channel SET settings_hash = $1, updated_at = $2 WHERE channel_id = $3")
            .bind(settings_hash)
            .bind(now_unix())
            .bind(channel_id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) fn seal_bot_token(&self, token: &str) -> String {
        self.cipher.seal(BOT_TOKEN, token)
    }

    pub(super) fn seal_webhook_secret(&self, secret: &str) -> String {
        self.cipher.seal(WEBHOOK_SECRET, secret)
    }

    pub(super) fn channel_from_row(&self, row: &AnyRow) -> Result<Channel, StoreError> {
        Ok(Channel {
            id: ChannelId(row.try_get("channel_id")?),
            account_id: AccountId::from_stored(row.try_get("account_id")?),
            messenger: {
                let kind: String = row.try_get("messenger")?;
                MessengerKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown messenger {kind:?}")))?
            },
            bot_id: row.try_get("bot_id")?,
            bot_username: row.try_get("bot_username")?,
            token: self
                .cipher
                .open(BOT_TOKEN, &row.try_get::<String, _>("bot_token_enc")?)?,
            webhook_key: row.try_get("webhook_key")?,
            webhook_secret: self.cipher.open(
                WEBHOOK_SECRET,
                &row.try_get::<String, _>("webhook_secret_enc")?,
            )?,
            mg_channel_id: row.try_get("mg_channel_id")?,
            settings_hash: row.try_get("settings_hash")?,
            active: row.try_get::<i64, _>("active")? != 0,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            business_connection_id: row.try_get("business_connection_id")?,
        })
    }
}

/// Compares a stored secret with a presented one in constant time (webhook secret tokens).
pub fn secret_eq(stored: &SecretString, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    stored
        .expose_secret()
        .as_bytes()
        .ct_eq(given.as_bytes())
        .into()
}
