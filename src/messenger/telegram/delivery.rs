//! Telegram's side of the messenger seam (`messenger::Messengers`): what a delivery needs of
//! its own (the channel's bot, Telegram's flood limits), and how Telegram's refusals end a
//! delivery.

use secrecy::{ExposeSecret, SecretString};

use crate::bridge::delivery::{Delivery, DeliveryError};
use crate::config::TelegramSettings;
use crate::mg::{MessageSent, MgWebhook, SendingErrorCode};
use crate::store::Channel;

use super::rate::TelegramRate;
use super::{
    inbound, outbound, Bot, BotToken, BotTokenError, TelegramClient, TelegramError, Update,
};

/// One per service: the Bot API client and the flood limits every bot shares it with.
#[derive(Debug)]
pub struct Telegram {
    pub client: TelegramClient,
    pub rate: TelegramRate,
}

/// Telegram's part of a delivery (`Delivery::via`).
pub struct Via<'a> {
    /// The channel's bot (token inside; never printed).
    pub bot: Bot,
    /// Wait on it before every Bot API send.
    pub rate: &'a TelegramRate,
}

/// A delivery on a Telegram channel.
pub type TgDelivery<'a> = Delivery<'a, Via<'a>>;

impl Telegram {
    pub fn new(client: TelegramClient, settings: &TelegramSettings) -> Self {
        Self {
            client,
            rate: TelegramRate::new(settings),
        }
    }

    /// The bot of a token as it is kept (a stored channel's, or one checked at adding).
    pub fn bot_for(&self, token: &SecretString) -> Result<Bot, BotTokenError> {
        BotToken::parse(token.expose_secret()).map(|token| self.client.bot(&token))
    }

    /// The bot of a stored Telegram channel.
    pub fn bot(&self, channel: &Channel) -> Result<Bot, DeliveryError> {
        self.bot_for(&channel.token)
            .map_err(|_| DeliveryError::failed("the stored bot token is not a bot token"))
    }

    /// Who wrote a stored update, for the failed list; None when it names no one.
    pub fn customer_name(update: &str) -> Option<String> {
        let update: Update = inbound::decode_update(update).ok()?;
        let message = [
            update.message,
            update.edited_message,
            update.business_message,
            update.edited_business_message,
        ]
        .into_iter()
        .flatten()
        .next()?;
        let user = message.from?;
        let name = inbound::full_name(&user.first_name, user.last_name.as_deref());
        (!name.is_empty()).then_some(name)
    }

    /// A business account's channel acts through its connection.
    fn via(&self, channel: &Channel) -> Result<Via<'_>, DeliveryError> {
        let bot = self.bot(channel)?;
        let bot = match &channel.business_connection_id {
            Some(connection) => bot.for_business(connection),
            None => bot,
        };
        Ok(Via {
            bot,
            rate: &self.rate,
        })
    }

    /// A customer's update, as the webhook stored it (`inbound::encode_update`), to MG.
    pub async fn deliver_to_mg(
        &self,
        d: &mut Delivery<'_>,
        update: &str,
    ) -> Result<(), DeliveryError> {
        let update: Update = inbound::decode_update(update)?;
        let via = self.via(d.channel)?;
        inbound::deliver_update(&mut d.with(via), &update).await
    }

    /// An operator's message, sent; returns its id for MG.
    pub async fn send_message(
        &self,
        d: &mut Delivery<'_>,
        sent: &MessageSent,
    ) -> Result<String, DeliveryError> {
        let via = self.via(d.channel)?;
        let business = d.channel.business_connection_id.is_some();
        outbound::send_message(&mut d.with(via), sent)
            .await
            .map_err(|e| match e {
                // A business bot may answer only within 24 hours of the customer's last
                // message; Telegram's words for that refusal are UNVERIFIED, so any refusal
                // of the right to write that is not a block reads as the window having closed.
                DeliveryError::Failed {
                    code: SendingErrorCode::AccessRestricted,
                    reason,
                } if business && !reason.contains("blocked") => DeliveryError::Failed {
                    code: SendingErrorCode::ReplyTimedOut,
                    reason,
                },
                other => other,
            })
    }

    /// An operator's edit, delete or reaction, done.
    pub async fn apply(&self, d: &mut Delivery<'_>, hook: &MgWebhook) -> Result<(), DeliveryError> {
        let via = self.via(d.channel)?;
        outbound::apply(&mut d.with(via), hook).await
    }

    /// The janitor's turn: forget limiter keys of bots and chats that went quiet.
    pub fn sweep(&self) {
        self.rate.shrink();
    }
}

impl From<TelegramError> for DeliveryError {
    fn from(e: TelegramError) -> Self {
        if e.is_transient() {
            return Self::Retry {
                after: e.retry_after(),
                reason: e.to_string(),
            };
        }
        let code = if e.is_forbidden() {
            // Blocked by the user, or the user deactivated: MG shows "access restricted".
            SendingErrorCode::AccessRestricted
        } else if e.is_chat_not_found() {
            SendingErrorCode::CustomerNotExists
        } else {
            SendingErrorCode::General
        };
        Self::Failed {
            code,
            reason: e.to_string(),
        }
    }
}
