//! The messengers a CRM chat is bridged to, and the seam between them and the bridge.
//!
//! The core (`bridge`, `store`) speaks of a messenger kind, a direction, and chats and messages
//! with string ids; everything one messenger needs (its API client, parsing its updates,
//! mapping them to MG and MG's messages to its API, its limits) lives in its folder.
//! [`Messengers`] is the seam: one method per thing the core asks of a messenger, and in each
//! one arm per [`MessengerKind`].
//!
//! An enum rather than a trait: the set of messengers is closed and known at build time, the
//! seam's methods are async (a trait object would need boxed futures or `async-trait`), and a
//! `match` shows every messenger's arm side by side. Adding a messenger is a folder beside
//! `telegram/`, a variant of `MessengerKind`, and one arm in each method below.

pub mod cards;
pub mod html;
pub mod max;
pub mod telegram;

use secrecy::SecretString;

use crate::bridge::delivery::{Delivery, DeliveryError};
use crate::domain::MessengerKind;
use crate::mg::{ChannelSettings, MessageSent, MgWebhook};
use crate::store::Channel;

pub use telegram::avatar::{Photo, PhotoError};

/// What a messenger's webhook makes of a body it was posted, once the request is
/// authenticated. Nothing is stored by deciding.
pub enum Accepted {
    /// To be queued for MG.
    Carry(Carried),
    /// Answered 200 and dropped (a kind the bridge does not carry, a group chat); logged.
    Ignore,
    /// Answered 400.
    Malformed(String),
    /// An account connected the bot to itself, or changed that connection (Telegram
    /// Business): its own channel is made, switched or kept before the answer.
    Connection(BusinessAccount),
}

/// A business account the bot answers for (Telegram Business): each is an MG channel of its
/// own, and the bot's calls for it name the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessAccount {
    pub connection_id: String,
    pub owner_user_id: String,
    /// `@username`, or the owner's name: the channel's name in the CRM.
    pub owner_name: String,
    pub can_reply: bool,
    pub can_read: bool,
    pub enabled: bool,
}

/// An update the bridge carries, ready for `bridge::ingest`.
pub struct Carried {
    /// The chat's id, which is also how MG names the chat.
    pub chat: String,
    /// The messenger's id of the update (or of what it did): repeats are dropped by it.
    pub update_id: String,
    /// The update as it is stored: what was parsed, so the worker reads back exactly that.
    pub update: Box<serde_json::value::RawValue>,
    /// The business connection it came through (Telegram Business): it belongs to that
    /// connection's channel, not the bot's.
    pub connection: Option<String>,
}

/// A bot as its messenger names it, once its token checks out.
pub struct BotIdentity {
    pub bot_id: String,
    pub username: String,
    /// The token in the messenger's own form (trimmed, checked).
    pub token: SecretString,
}

/// Why a messenger would not take a bot's token or webhook.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// What the merchant pasted is not a token of this messenger (the text says why).
    #[error("{0}")]
    BadToken(crate::i18n::Text),
    /// The messenger does not know the token (revoked, or mistyped).
    #[error("the token was rejected")]
    Rejected,
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Refused(String),
}

/// What a bot's messenger says of its token and webhook (`bridge::monitor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookState {
    /// False when the messenger refuses the token (401): revoked.
    pub token_valid: bool,
    /// The webhook is this service's URL for the bot.
    pub points_here: bool,
    /// The messenger's last failed delivery to the webhook: when (unix seconds) and why.
    pub last_error: Option<(i64, String)>,
    pub pending_updates: u32,
}

impl WebhookState {
    pub fn revoked() -> Self {
        Self {
            token_valid: false,
            points_here: false,
            last_error: None,
            pending_updates: 0,
        }
    }
}

/// One of each messenger's service-wide parts (clients, limiters).
#[derive(Debug)]
pub struct Messengers {
    pub telegram: telegram::Telegram,
    pub max: max::Max,
}

impl Messengers {
    /// A customer's update, stored by the messenger's webhook, delivered to MG.
    pub async fn deliver_to_mg(
        &self,
        d: &mut Delivery<'_>,
        update: &str,
    ) -> Result<(), DeliveryError> {
        match d.channel.messenger {
            MessengerKind::Telegram => self.telegram.deliver_to_mg(d, update).await,
            MessengerKind::Max => self.max.deliver_to_mg(d, update).await,
        }
    }

    /// An operator's message, sent in the messenger; returns its id for MG.
    pub async fn send_message(
        &self,
        d: &mut Delivery<'_>,
        sent: &MessageSent,
    ) -> Result<String, DeliveryError> {
        match d.channel.messenger {
            MessengerKind::Telegram => self.telegram.send_message(d, sent).await,
            MessengerKind::Max => self.max.send_message(d, sent).await,
        }
    }

    /// An operator's edit, delete or reaction, done in the messenger.
    pub async fn apply(&self, d: &mut Delivery<'_>, hook: &MgWebhook) -> Result<(), DeliveryError> {
        match d.channel.messenger {
            MessengerKind::Telegram => self.telegram.apply(d, hook).await,
            MessengerKind::Max => self.max.apply(d, hook).await,
        }
    }

    /// Who wrote a customer's update as its webhook stored it (for the failed list).
    pub fn customer_name(kind: MessengerKind, update: &str) -> Option<String> {
        match kind {
            MessengerKind::Telegram => telegram::Telegram::customer_name(update),
            MessengerKind::Max => max::Max::customer_name(update),
        }
    }

    /// A token as the merchant pasted it, in the messenger's form; else why it is not one.
    pub fn parse_token(
        &self,
        kind: MessengerKind,
        raw: &str,
    ) -> Result<SecretString, crate::i18n::Text> {
        match kind {
            MessengerKind::Telegram => telegram::BotToken::parse(raw)
                .map(|t| t.expose().to_owned().into())
                .map_err(|e| e.text()),
            MessengerKind::Max => max::MaxToken::parse(raw)
                .map(|t| t.expose().to_owned().into())
                .map_err(|e| e.text()),
        }
    }

    /// The bot a token belongs to, if the messenger accepts it.
    pub async fn identify(
        &self,
        kind: MessengerKind,
        token: &SecretString,
    ) -> Result<BotIdentity, LinkError> {
        match kind {
            MessengerKind::Telegram => self.telegram.identify(token).await,
            MessengerKind::Max => self.max.identify(token).await,
        }
    }

    /// Has the messenger send the bot's updates to `url`, with `secret` in each.
    pub async fn set_webhook(
        &self,
        kind: MessengerKind,
        token: &SecretString,
        url: url::Url,
        secret: &str,
    ) -> Result<(), LinkError> {
        match kind {
            MessengerKind::Telegram => self.telegram.set_webhook(token, url, secret).await,
            MessengerKind::Max => self.max.set_webhook(token, url, secret).await,
        }
    }

    /// Stops the bot's updates.
    pub async fn delete_webhook(
        &self,
        kind: MessengerKind,
        token: &SecretString,
    ) -> Result<(), LinkError> {
        match kind {
            MessengerKind::Telegram => self.telegram.delete_webhook(token).await,
            MessengerKind::Max => self.max.delete_webhook(token).await,
        }
    }

    /// The update kinds a bot's webhook asks for: a change re-sets live bots' webhooks at the
    /// start-up reconcile, as a change of the channel settings updates MG.
    pub fn update_kinds(kind: MessengerKind) -> &'static [&'static str] {
        match kind {
            MessengerKind::Telegram => &telegram::BRIDGE_UPDATES,
            MessengerKind::Max => max::inbound::BRIDGE_UPDATES,
        }
    }

    /// What the messenger's channels can do, as declared to MG.
    pub fn channel_settings(kind: MessengerKind) -> ChannelSettings {
        match kind {
            MessengerKind::Telegram => telegram::channel_settings::telegram_channel_settings(),
            MessengerKind::Max => max::channel_settings::max_channel_settings(),
        }
    }

    /// A customer's profile photo, fetched with the channel's credentials.
    pub async fn profile_photo(
        &self,
        channel: &Channel,
        user_id: &str,
    ) -> Result<Option<Photo>, PhotoError> {
        match channel.messenger {
            MessengerKind::Telegram => {
                telegram::avatar::profile_photo(&self.telegram, channel, user_id).await
            }
            MessengerKind::Max => self.max.profile_photo(channel, user_id).await,
        }
    }

    /// The bot's token and webhook as its messenger sees them; `Err` when it did not answer.
    pub async fn check_bot(
        &self,
        channel: &Channel,
        webhook_url: &str,
    ) -> Result<WebhookState, String> {
        match channel.messenger {
            MessengerKind::Telegram => self.telegram.check_bot(channel, webhook_url).await,
            MessengerKind::Max => self.max.check_bot(channel, webhook_url).await,
        }
    }

    /// The janitor's turn: each messenger forgets what went quiet.
    pub fn sweep(&self) {
        self.telegram.sweep();
        self.max.sweep();
    }
}
