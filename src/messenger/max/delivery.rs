//! MAX's side of the messenger seam (`messenger::Messengers`): the bot of a channel, the
//! limits, adding and removing a bot's webhook, avatars, and how MAX's refusals end a
//! delivery.

use secrecy::{ExposeSecret, SecretString};

use super::client::{MaxBot, MaxClient};
use super::inbound::{self, BRIDGE_UPDATES};
use super::rate::MaxRate;
use super::token::MaxToken;
use super::types::Update;
use super::{outbound, MaxError};
use crate::bridge::delivery::{Delivery, DeliveryError};
use crate::messenger::{BotIdentity, LinkError, Photo, PhotoError, WebhookState};
use crate::mg::{MessageSent, MgWebhook, SendingErrorCode};
use crate::store::Channel;

/// The most of an avatar we pass on.
const AVATAR_LIMIT: usize = 5 * 1024 * 1024;

/// One per service: the Bot API client and the per-bot limit.
#[derive(Debug)]
pub struct Max {
    pub client: MaxClient,
    pub rate: MaxRate,
}

/// MAX's part of a delivery (`Delivery::via`).
pub struct Via<'a> {
    pub bot: MaxBot,
    pub rate: &'a MaxRate,
}

pub type MaxDelivery<'a> = Delivery<'a, Via<'a>>;

impl Max {
    pub fn new(client: MaxClient, per_second: u32) -> Self {
        Self {
            client,
            rate: MaxRate::new(per_second),
        }
    }

    fn bot_for(&self, token: &SecretString) -> Result<MaxBot, LinkError> {
        MaxToken::parse(token.expose_secret())
            .map(|t| self.client.bot(&t))
            .map_err(|e| LinkError::BadToken(e.text()))
    }

    fn via(&self, channel: &Channel) -> Result<Via<'_>, DeliveryError> {
        let bot = self
            .bot_for(&channel.token)
            .map_err(|_| DeliveryError::failed("the stored token is not a MAX token"))?;
        Ok(Via {
            bot,
            rate: &self.rate,
        })
    }

    /// Who wrote a stored update, for the failed list; None when it names no one.
    pub fn customer_name(update: &str) -> Option<String> {
        let update: Update = serde_json::from_str(update).ok()?;
        let user = update.message.and_then(|m| m.sender).or(update.user)?;
        let name = inbound::display_name(&user);
        (!name.trim().is_empty()).then_some(name)
    }

    /// A customer's update, as the webhook stored it, to MG.
    pub async fn deliver_to_mg(
        &self,
        d: &mut Delivery<'_>,
        update: &str,
    ) -> Result<(), DeliveryError> {
        let update: Update = serde_json::from_str(update)
            .map_err(|e| DeliveryError::failed(format!("stored MAX update unreadable: {e}")))?;
        let via = self.via(d.channel)?;
        inbound::deliver_update(&mut d.with(via), &update).await
    }

    pub async fn send_message(
        &self,
        d: &mut Delivery<'_>,
        sent: &MessageSent,
    ) -> Result<String, DeliveryError> {
        let via = self.via(d.channel)?;
        outbound::send_message(&mut d.with(via), sent).await
    }

    pub async fn apply(&self, d: &mut Delivery<'_>, hook: &MgWebhook) -> Result<(), DeliveryError> {
        let via = self.via(d.channel)?;
        outbound::apply(&mut d.with(via), hook).await
    }

    /// The bot a pasted token belongs to, if MAX accepts it (`GET /me`).
    pub async fn identify(&self, token: &SecretString) -> Result<BotIdentity, LinkError> {
        let bot = self.bot_for(token)?;
        let me = bot.me().await.map_err(link_error)?;
        let username = me
            .username
            .filter(|u| !u.trim().is_empty())
            .or(me.name)
            .unwrap_or_else(|| me.user_id.to_string());
        Ok(BotIdentity {
            bot_id: me.user_id.to_string(),
            username,
            token: token.expose_secret().trim().to_owned().into(),
        })
    }

    /// `POST /subscriptions`: MAX posts the update kinds the bridge carries to `url`, with
    /// `secret` in `X-Max-Bot-Api-Secret`. MAX takes only ports 80, 8080, 443, 8443 and
    /// 16384–32383; `server.public_url` must use one (it is not checked here, so that tests
    /// and proxies on other ports work; MAX's refusal is shown to the merchant).
    pub async fn set_webhook(
        &self,
        token: &SecretString,
        url: url::Url,
        secret: &str,
    ) -> Result<(), LinkError> {
        let bot = self.bot_for(token)?;
        bot.subscribe(url.as_str(), secret, BRIDGE_UPDATES)
            .await
            .map_err(link_error)
    }

    /// Removes every subscription of the bot: MAX unsubscribes by URL, and the seam knows only
    /// the token (a bot belongs to one account, and its only subscription is ours).
    pub async fn delete_webhook(&self, token: &SecretString) -> Result<(), LinkError> {
        let bot = self.bot_for(token)?;
        for url in bot.subscriptions().await.map_err(link_error)? {
            bot.unsubscribe(&url).await.map_err(link_error)?;
        }
        Ok(())
    }

    /// The bot's token and webhook, for the health monitor: `GET /subscriptions` answers 401
    /// for a revoked token and lists where MAX posts. MAX's subscriptions carry no delivery
    /// errors or backlog (nor does the fake MAX), so a failing MAX webhook is not seen here.
    pub async fn check_bot(
        &self,
        channel: &Channel,
        webhook_url: &str,
    ) -> Result<WebhookState, String> {
        let bot = self.bot_for(&channel.token).map_err(|e| e.to_string())?;
        match bot.subscriptions().await {
            Ok(urls) => Ok(WebhookState {
                token_valid: true,
                points_here: urls.iter().any(|u| u == webhook_url),
                last_error: None,
                pending_updates: 0,
            }),
            Err(MaxError::Unauthorized) => Ok(WebhookState::revoked()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// A dialog member's avatar; `user` is `{chat_id}:{user_id}`, as `inbound` signs it.
    pub async fn profile_photo(
        &self,
        channel: &Channel,
        user: &str,
    ) -> Result<Option<Photo>, PhotoError> {
        let Some((chat, user)) = user
            .split_once(':')
            .and_then(|(c, u)| Some((c.parse::<i64>().ok()?, u.parse::<i64>().ok()?)))
        else {
            return Ok(None);
        };
        let bot = self
            .bot_for(&channel.token)
            .map_err(|_| PhotoError::BadCredentials)?;
        let fetched = async {
            let Some(member) = bot.chat_member(chat, user).await? else {
                return Ok(None);
            };
            let Some(url) = member.avatar_url.or(member.full_avatar_url) else {
                return Ok(None);
            };
            bot.download(&url, AVATAR_LIMIT).await.map(Some)
        };
        match fetched.await {
            Ok(bytes) => Ok(bytes.map(|b| Photo {
                content_type: "image/jpeg",
                body: reqwest::Body::from(b),
            })),
            Err(MaxError::Api {
                status: 403 | 404, ..
            }) => Ok(None),
            Err(e) => Err(PhotoError::Messenger(e.to_string())),
        }
    }

    pub fn sweep(&self) {
        self.rate.shrink();
    }
}

fn link_error(e: MaxError) -> LinkError {
    match e {
        MaxError::Unauthorized => LinkError::Rejected,
        MaxError::Unreachable(reason) => LinkError::Unreachable(reason),
        MaxError::Api { message, code, .. } => {
            LinkError::Refused(if message.is_empty() { code } else { message })
        }
        MaxError::Decode(reason) => {
            LinkError::Refused(format!("an answer we could not read ({reason})"))
        }
        MaxError::Request(reason) => LinkError::Refused(reason),
    }
}

impl From<MaxError> for DeliveryError {
    fn from(e: MaxError) -> Self {
        // Still processing after the client's waits: the job tries again later.
        if e.is_transient() || e.is_attachment_not_ready() {
            return Self::Retry {
                after: e.retry_after(),
                reason: e.to_string(),
            };
        }
        let code = if e.is_forbidden() {
            SendingErrorCode::AccessRestricted
        } else if e.is_not_found() {
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
