//! Business accounts (Telegram Business) as channels: a connection that is on and may reply is
//! an active MG channel of its own, named after the account; one switched off, or without the
//! right to reply, is deactivated, and turning it on again re-activates the same MG channel.

use super::channels::{AddBotError, Channels};
use crate::bridge::mg_access::MgAccessError;
use crate::messenger::{BusinessAccount, Messengers};
use crate::mg::{ActivateChannelRequest, MgChannelId, MgError};
use crate::store::{Account, Channel, ChannelId, NewBusinessLink};

impl Channels {
    /// Brings the business account's channel in line with its connection; `None` when a
    /// connection never on was switched off (nothing to keep).
    #[tracing::instrument(skip_all, fields(crm = %account.crm_url, bot = %bot.bot_username))]
    pub async fn link_business(
        &self,
        account: &mut Account,
        bot: &Channel,
        business: &BusinessAccount,
    ) -> Result<Option<ChannelId>, AddBotError> {
        let _guard = self.account_locks.lock(account).await;
        let existing = self
            .store
            .find_business_link(&bot.id, &business.connection_id)
            .await?;
        let live = business.enabled && business.can_reply;
        let settings = Messengers::channel_settings(bot.messenger);
        let mg_channel_id = if live {
            let request = ActivateChannelRequest {
                id: existing.as_ref().map(|l| MgChannelId(l.mg_channel_id)),
                r#type: bot.messenger.mg_channel_type().into(),
                name: Some(business.owner_name.clone()),
                external_id: Some(format!("business:{}", business.connection_id)),
                avatar_url: None,
                settings: Some(settings.clone()),
            };
            let activated = self
                .mg
                .call(account, |api| {
                    let request = request.clone();
                    async move { api.activate_channel(&request).await }
                })
                .await;
            match activated {
                Ok(answer) => answer.id.0,
                Err(MgAccessError::NeedsReconnect) => return Err(AddBotError::NeedsReconnect),
                Err(e) => return Err(AddBotError::MgUnreachable(e.to_string())),
            }
        } else {
            let Some(existing) = &existing else {
                tracing::info!("a business connection that was never on is off; nothing kept");
                return Ok(None);
            };
            if existing.enabled && existing.can_reply {
                let id = MgChannelId(existing.mg_channel_id);
                match self
                    .mg
                    .call(
                        account,
                        |api| async move { api.deactivate_channel(id).await },
                    )
                    .await
                {
                    Ok(_)
                    | Err(MgAccessError::Mg(MgError::Api {
                        status: 400 | 404, ..
                    })) => {}
                    Err(MgAccessError::NeedsReconnect) => return Err(AddBotError::NeedsReconnect),
                    Err(e) => return Err(AddBotError::MgUnreachable(e.to_string())),
                }
            }
            existing.mg_channel_id
        };
        let (key, secret) = (
            super::channels::random_hex(16),
            super::channels::random_hex(32),
        );
        let saved = self
            .store
            .save_business_link(&NewBusinessLink {
                bot,
                connection_id: &business.connection_id,
                owner_user_id: &business.owner_user_id,
                owner_name: &business.owner_name,
                can_reply: business.can_reply,
                can_read: business.can_read,
                enabled: business.enabled,
                mg_channel_id,
                settings_hash: &self.declared_hash(bot.messenger),
                webhook_key: &key,
                webhook_secret: &secret,
            })
            .await?;
        tracing::info!(
            mg_channel = mg_channel_id,
            live,
            "business connection brought in line"
        );
        Ok(Some(saved))
    }
}
