//! Telegram's side of adding and removing a bot (`bridge::channels` does the rest, the same
//! for every messenger): the token checked with `getMe`, the webhook set with the update kinds
//! the bridge carries, and removed again.

use secrecy::ExposeSecret;

use super::{BotToken, SetWebhook, Telegram, TelegramError, BRIDGE_UPDATES};
use crate::messenger::{BotIdentity, LinkError, WebhookState};

impl Telegram {
    /// The bot a pasted token belongs to, if Telegram accepts the token.
    pub async fn identify(&self, token: &secrecy::SecretString) -> Result<BotIdentity, LinkError> {
        let token = parse(token)?;
        let me = self.client.bot(&token).get_me().await.map_err(link_error)?;
        Ok(BotIdentity {
            bot_id: me.id.to_string(),
            username: me.username.unwrap_or_else(|| me.id.to_string()),
            token: token.expose().to_owned().into(),
        })
    }

    /// Points the bot's webhook at `url`, with `secret` sent back in every update.
    pub async fn set_webhook(
        &self,
        token: &secrecy::SecretString,
        url: url::Url,
        secret: &str,
    ) -> Result<(), LinkError> {
        let bot = self
            .bot_for(token)
            .map_err(|e| LinkError::BadToken(e.text()))?;
        bot.set_webhook(&SetWebhook {
            url,
            secret_token: secret.to_owned().into(),
            allowed_updates: BRIDGE_UPDATES.iter().map(|s| s.to_string()).collect(),
            max_connections: None,
            drop_pending_updates: None,
        })
        .await
        .map(|_| ())
        .map_err(link_error)
    }

    pub async fn delete_webhook(&self, token: &secrecy::SecretString) -> Result<(), LinkError> {
        let bot = self
            .bot_for(token)
            .map_err(|e| LinkError::BadToken(e.text()))?;
        bot.delete_webhook(false)
            .await
            .map(|_| ())
            .map_err(link_error)
    }
}

impl Telegram {
    /// The bot's token and webhook, for the health monitor (`getWebhookInfo`): a 401 means
    /// the token was revoked; Telegram reports its last failed delivery to the webhook and the
    /// updates waiting.
    pub async fn check_bot(
        &self,
        channel: &crate::store::Channel,
        webhook_url: &str,
    ) -> Result<WebhookState, String> {
        let bot = self.bot_for(&channel.token).map_err(|e| e.to_string())?;
        match bot.get_webhook_info().await {
            Ok(info) => Ok(WebhookState {
                token_valid: true,
                points_here: info.url == webhook_url,
                last_error: info
                    .last_error_date
                    .map(|date| (date, info.last_error_message.clone().unwrap_or_default())),
                pending_updates: info.pending_update_count,
            }),
            Err(TelegramError::Unauthorized) => Ok(WebhookState::revoked()),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn parse(token: &secrecy::SecretString) -> Result<BotToken, LinkError> {
    BotToken::parse(token.expose_secret()).map_err(|e| LinkError::BadToken(e.text()))
}

fn link_error(e: TelegramError) -> LinkError {
    match e {
        TelegramError::Unauthorized => LinkError::Rejected,
        TelegramError::Unreachable(reason) => LinkError::Unreachable(reason),
        TelegramError::Api { description, .. } => LinkError::Refused(description),
        TelegramError::Decode(reason) => {
            LinkError::Refused(format!("an answer we could not read ({reason})"))
        }
        TelegramError::Request(reason) => LinkError::Refused(reason),
    }
}
