//! Messenger bots as MessageGateway channels (integration guide steps 8–10): adding a bot,
//! removing it, and keeping MG's copy of each channel's settings in step with the code. The
//! same for every messenger: what differs (checking a token, setting a webhook, what a channel
//! can do) is asked of the messenger through the seam (`messenger::Messengers`).
//!
//! Adding touches three systems (Telegram, MG, our store); each step that fails undoes the
//! steps before it, so a failure leaves nothing half-made.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

pub use super::account_locks::AccountLocks;
use super::mg_access::{MgAccess, MgAccessError};
use crate::domain::AccountId;
use crate::domain::MessengerKind;
use crate::i18n::Text;
use crate::messenger::{LinkError, Messengers};
use crate::mg::{
    ActivateChannelRequest, ChannelSettings, MgChannelId, MgError, UpdateChannelRequest,
};
use crate::store::{Account, Channel, ChannelId, NewChannel, Store};
use crate::telemetry::chain;

/// An active MG channel we do not know is deactivated only once it is this old: a bot being
/// added right now (here or on another replica) is active in MG a moment before it is stored.
const STRAY_GRACE: Duration = Duration::from_secs(10 * 60);

#[derive(Clone, Debug)]
pub struct Channels {
    pub mg: MgAccess,
    pub messengers: Arc<Messengers>,
    pub store: Store,
    /// `server.public_url` without a trailing slash; webhooks are
    /// `{base_url}/{messenger}/{key}`.
    pub base_url: String,
    /// One account's channel changes (add, remove, reconcile) run one at a time in this
    /// process, so a reconcile never sees a half-added bot.
    pub account_locks: AccountLocks,
}

#[derive(Debug, thiserror::Error)]
pub enum AddBotError {
    /// Not a token of this messenger; the text says why.
    #[error("{0}")]
    Token(Text),
    #[error("The module is switched off or frozen in the CRM. Switch it on in the CRM's Marketplace, then add the bot.")]
    AccountDisabled,
    #[error("The chat gateway no longer accepts this account's token. Connect the CRM again, then add the bot.")]
    NeedsReconnect,
    #[error("{} does not accept this token. {}", .0.display_name(), .0.token_hint())]
    TokenRejected(MessengerKind),
    #[error("{} could not be reached ({}). Try again in a minute.", .0.display_name(), .1)]
    MessengerUnreachable(MessengerKind, String),
    #[error("{} refused: {}.", .0.display_name(), .1)]
    MessengerRefused(MessengerKind, String),
    #[error("The bot @{0} is already connected to another CRM account. Remove it there first.")]
    TakenByAnotherAccount(String),
    #[error("The chat gateway refused the channel: {0}.")]
    MgRefused(String),
    #[error("The chat gateway could not be reached ({0}). Try again in a minute.")]
    MgUnreachable(String),
    #[error("Something went wrong on our side. Try again in a few minutes.")]
    Internal(#[source] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum RemoveBotError {
    #[error("The chat gateway no longer accepts this account's token. Connect the CRM again, then remove the bot.")]
    NeedsReconnect,
    #[error(
        "The chat gateway could not be reached ({0}). Nothing was removed; try again in a minute."
    )]
    MgUnreachable(String),
    #[error("The chat gateway refused to remove the channel: {0}.")]
    MgRefused(String),
    #[error("Something went wrong on our side. Try again in a few minutes.")]
    Internal(#[source] anyhow::Error),
}

impl AddBotError {
    /// What the merchant reads, in their language (`Display` is the English, for logs).
    pub fn text(&self) -> Text {
        match self {
            Self::Token(text) => text.clone(),
            Self::AccountDisabled => Text::new("error-bot-account-disabled"),
            Self::NeedsReconnect => Text::new("error-bot-needs-reconnect"),
            Self::TokenRejected(kind) => Text::new("error-bot-token-rejected")
                .arg("messenger", kind.display_name())
                .text("hint", token_hint(*kind)),
            Self::MessengerUnreachable(kind, reason) => {
                Text::new("error-bot-messenger-unreachable")
                    .arg("messenger", kind.display_name())
                    .arg("reason", reason)
            }
            Self::MessengerRefused(kind, reason) => Text::new("error-bot-messenger-refused")
                .arg("messenger", kind.display_name())
                .arg("reason", reason),
            Self::TakenByAnotherAccount(bot) => Text::new("error-bot-taken").arg("bot", bot),
            Self::MgRefused(reason) => Text::new("error-bot-mg-refused").arg("reason", reason),
            Self::MgUnreachable(reason) => {
                Text::new("error-bot-mg-unreachable").arg("reason", reason)
            }
            Self::Internal(_) => Text::new("error-internal"),
        }
    }
}

/// Where a merchant gets a bot's token again (`MessengerKind::token_hint`, translated).
fn token_hint(kind: MessengerKind) -> Text {
    Text::new(match kind {
        MessengerKind::Telegram => "error-bot-token-hint-telegram",
        MessengerKind::Max => "error-bot-token-hint-max",
    })
}

impl RemoveBotError {
    /// What the merchant reads, in their language (`Display` is the English, for logs).
    pub fn text(&self) -> Text {
        match self {
            Self::NeedsReconnect => Text::new("error-remove-needs-reconnect"),
            Self::MgUnreachable(reason) => {
                Text::new("error-remove-mg-unreachable").arg("reason", reason)
            }
            Self::MgRefused(reason) => Text::new("error-remove-mg-refused").arg("reason", reason),
            Self::Internal(_) => Text::new("error-internal"),
        }
    }
}

impl From<crate::store::StoreError> for AddBotError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

impl From<crate::store::StoreError> for RemoveBotError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(e.into())
    }
}

impl AddBotError {
    /// Failures that come from what the merchant typed or did, rather than from a peer.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Self::Token(_)
                | Self::TokenRejected(_)
                | Self::TakenByAnotherAccount(_)
                | Self::AccountDisabled
        )
    }
}

pub(super) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

fn describe_mg(e: MgAccessError) -> (bool, String) {
    // (reachable, message)
    match e {
        MgAccessError::Mg(MgError::Unreachable(reason)) => (false, reason),
        MgAccessError::Mg(MgError::RateLimited) => (false, "it is busy".into()),
        MgAccessError::Mg(MgError::Api { status, errors }) if status >= 500 => {
            (false, format!("HTTP {status}{}", join_errors(&errors)))
        }
        MgAccessError::Mg(MgError::Api { errors, status }) => (
            true,
            if errors.is_empty() {
                format!("HTTP {status}")
            } else {
                errors.join("; ")
            },
        ),
        other => (true, other.to_string()),
    }
}

fn join_errors(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {}", errors.join("; "))
    }
}

/// A stable fingerprint of a channel's settings (serde_json's maps are sorted, so equal
/// settings serialize equally).
pub fn settings_hash(settings: &ChannelSettings) -> String {
    let value = serde_json::to_value(settings).expect("settings serialize");
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// The fingerprint of what the code declares for a messenger's channels: the settings MG gets
/// and the update kinds its webhooks ask for. Stored with each channel; the start-up reconcile
/// brings every channel whose fingerprint differs up to date. Fixed per build, so it is computed
/// once per messenger.
pub fn declared_hash(kind: MessengerKind) -> String {
    static HASHES: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = match kind {
        MessengerKind::Telegram => 0,
        MessengerKind::Max => 1,
    };
    HASHES[slot]
        .get_or_init(|| {
            let settings = settings_hash(&Messengers::channel_settings(kind));
            let kinds = Messengers::update_kinds(kind).join(",");
            hex::encode(Sha256::digest(format!("{settings}|{kinds}").as_bytes()))
        })
        .clone()
}

/// The name a channel has in MG: a bot's `@username`, a business account's own name.
fn channel_name(channel: &Channel) -> String {
    match channel.business_connection_id {
        Some(_) => channel.bot_username.clone(),
        None => format!("@{}", channel.bot_username),
    }
}

impl Channels {
    fn webhook_url(&self, kind: MessengerKind, key: &str) -> String {
        format!("{}/{}/{key}", self.base_url, kind.webhook_segment())
    }

    /// [`declared_hash`] (the same for every channel of a messenger).
    pub fn declared_hash(&self, kind: MessengerKind) -> String {
        declared_hash(kind)
    }

    /// Adds the bot whose token the merchant pasted, or updates and re-activates it when this
    /// account had it before. Returns the stored channel's id.
    #[tracing::instrument(skip_all, fields(crm = %account.crm_url, messenger = kind.as_str()))]
    pub async fn add_bot(
        &self,
        account: &mut Account,
        kind: MessengerKind,
        raw_token: &str,
    ) -> Result<ChannelId, AddBotError> {
        // What was typed is wrong whatever the account's state: said first.
        let token = self
            .messengers
            .parse_token(kind, raw_token)
            .map_err(AddBotError::Token)?;
        let _guard = self.account_locks.lock(account).await;
        if account.needs_reconnect {
            return Err(AddBotError::NeedsReconnect);
        }
        if !account.activity.is_enabled() {
            return Err(AddBotError::AccountDisabled);
        }
        let link_error = |e| from_link(kind, e);
        let me = self
            .messengers
            .identify(kind, &token)
            .await
            .map_err(link_error)?;
        let username = me.username.clone();
        if let Some(owner) = self.store.account_of_active_bot(kind, &me.bot_id).await? {
            if owner != account.id {
                return Err(AddBotError::TakenByAnotherAccount(username));
            }
        }
        let existing = self
            .store
            .find_channel_by_bot(&account.id, kind, &me.bot_id)
            .await?;
        let was_live = existing.as_ref().is_some_and(|c| c.active);
        // A known bot keeps its webhook address and secret: re-adding is idempotent.
        let (key, secret) = match &existing {
            Some(c) => (
                c.webhook_key.clone(),
                c.webhook_secret.expose_secret().to_owned(),
            ),
            None => (random_hex(16), random_hex(32)),
        };

        let url = url::Url::parse(&self.webhook_url(kind, &key))
            .map_err(|e| AddBotError::Internal(e.into()))?;
        self.messengers
            .set_webhook(kind, &me.token, url, &secret)
            .await
            .map_err(link_error)?;

        let settings = Messengers::channel_settings(kind);
        let request = ActivateChannelRequest {
            id: existing.as_ref().map(|c| MgChannelId(c.mg_channel_id)),
            r#type: kind.mg_channel_type().into(),
            name: Some(format!("@{username}")),
            external_id: Some(me.bot_id.clone()),
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
        let mg_channel_id = match activated {
            Ok(answer) => answer.id,
            Err(e) => {
                if !was_live {
                    self.undo_webhook(kind, &me.token).await;
                }
                return Err(match e {
                    MgAccessError::NeedsReconnect => AddBotError::NeedsReconnect,
                    e => match describe_mg(e) {
                        (true, msg) => AddBotError::MgRefused(msg),
                        (false, msg) => AddBotError::MgUnreachable(msg),
                    },
                });
            }
        };

        let saved = self
            .store
            .save_channel(&NewChannel {
                account_id: &account.id,
                messenger: kind,
                bot_id: &me.bot_id,
                bot_username: &username,
                bot_token: me.token.expose_secret(),
                webhook_key: &key,
                webhook_secret: &secret,
                mg_channel_id: mg_channel_id.0,
                settings_hash: &self.declared_hash(kind),
            })
            .await;
        let channel_id = match saved {
            Ok(id) => id,
            Err(e) => {
                if !was_live {
                    let _ = self.mg.api(account).deactivate_channel(mg_channel_id).await;
                    self.undo_webhook(kind, &me.token).await;
                }
                return Err(e.into());
            }
        };
        tracing::info!(bot = %username, mg_channel = mg_channel_id.0, "bot added");
        Ok(channel_id)
    }

    async fn undo_webhook(&self, kind: MessengerKind, token: &SecretString) {
        if let Err(e) = self.messengers.delete_webhook(kind, token).await {
            tracing::warn!(error = %e, "could not remove the webhook set for a bot that was not added");
        }
    }

    /// Deactivates the channel in MG, removes the bot's webhook, and marks it removed.
    #[tracing::instrument(skip_all, fields(crm = %account.crm_url))]
    pub async fn remove_bot(
        &self,
        account: &mut Account,
        channel: &Channel,
    ) -> Result<(), RemoveBotError> {
        let id = MgChannelId(channel.mg_channel_id);
        match self
            .mg
            .call(
                account,
                |api| async move { api.deactivate_channel(id).await },
            )
            .await
        {
            Ok(_) => {}
            // Already gone in MG: nothing left to deactivate there.
            Err(MgAccessError::Mg(MgError::Api { status, .. }))
                if status == 404 || status == 400 =>
            {
                tracing::warn!(
                    mg_channel = id.0,
                    "MG does not know the channel any more; removing it here"
                );
            }
            Err(MgAccessError::NeedsReconnect) => return Err(RemoveBotError::NeedsReconnect),
            Err(e) => {
                return Err(match describe_mg(e) {
                    (true, msg) => RemoveBotError::MgRefused(msg),
                    (false, msg) => RemoveBotError::MgUnreachable(msg),
                })
            }
        }
        if let Err(e) = self
            .messengers
            .delete_webhook(channel.messenger, &channel.token)
            .await
        {
            // The channel is gone in MG either way; a stale webhook only gets 404s.
            tracing::warn!(error = %e, bot = %channel.bot_username, "could not remove the bot's webhook");
        }
        self.store.deactivate_channel(&channel.id).await?;
        // The business accounts it answered for go with it.
        for business in self.store.business_channels_of(&channel.id).await? {
            let id = MgChannelId(business.mg_channel_id);
            if let Err(e) = self
                .mg
                .call(
                    account,
                    |api| async move { api.deactivate_channel(id).await },
                )
                .await
            {
                tracing::warn!(error = %e, mg_channel = id.0, "could not deactivate a business account's channel");
            }
            self.store.deactivate_channel(&business.id).await?;
        }
        tracing::info!(bot = %channel.bot_username, "bot removed");
        Ok(())
    }

    /// Brings MG's copy of the account's channels in line with the code: updates the settings
    /// of every active channel whose stored hash differs, and deactivates active MG channels we
    /// no longer know (RetailCRM's own transport does the same). Errors are logged, not fatal.
    #[tracing::instrument(skip_all, fields(crm = %account.crm_url))]
    pub async fn reconcile_account(&self, account: &mut Account) {
        if !account.activity.is_enabled() || account.needs_reconnect {
            return;
        }
        let _guard = self.account_locks.lock(account).await;
        let channels = match self.store.list_channels(&account.id).await {
            Ok(channels) => channels,
            Err(e) => {
                return tracing::error!(error = %chain(&e), "reconcile: listing channels failed")
            }
        };
        for channel in channels.iter().filter(|c| c.active) {
            let settings = Messengers::channel_settings(channel.messenger);
            let hash = self.declared_hash(channel.messenger);
            if channel.settings_hash == hash {
                continue;
            }
            // A bot's own channel: its webhook asks for the update kinds of this version.
            if channel.business_connection_id.is_none() {
                let url =
                    url::Url::parse(&self.webhook_url(channel.messenger, &channel.webhook_key));
                let set = match url {
                    Ok(url) => {
                        self.messengers
                            .set_webhook(
                                channel.messenger,
                                &channel.token,
                                url,
                                channel.webhook_secret.expose_secret(),
                            )
                            .await
                    }
                    Err(e) => Err(LinkError::Refused(e.to_string())),
                };
                if let Err(e) = set {
                    tracing::warn!(error = %e, bot = %channel.bot_username, "reconcile: re-setting the webhook failed");
                    continue;
                }
            }
            let id = MgChannelId(channel.mg_channel_id);
            let request = UpdateChannelRequest {
                r#type: Some(channel.messenger.mg_channel_type().into()),
                name: Some(channel_name(channel)),
                external_id: Some(channel.bot_id.clone()),
                avatar_url: None,
                settings: Some(settings.clone()),
            };
            let result = self
                .mg
                .call(account, |api| {
                    let request = request.clone();
                    async move { api.update_channel(id, &request).await }
                })
                .await;
            match result {
                Ok(_) => {
                    if let Err(e) = self
                        .store
                        .set_channel_settings_hash(&channel.id, &hash)
                        .await
                    {
                        tracing::error!(error = %chain(&e), "reconcile: storing the settings hash failed");
                    } else {
                        tracing::info!(bot = %channel.bot_username, "channel settings updated in MG");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, bot = %channel.bot_username, "reconcile: updating channel settings failed")
                }
            }
        }
        self.deactivate_strays(account, &channels).await;
    }

    async fn deactivate_strays(&self, account: &mut Account, ours: &[Channel]) {
        let listed = self
            .mg
            .call(account, |api| async move {
                api.list_channels(&Default::default()).await
            })
            .await;
        let Ok(listed) = listed else {
            return tracing::warn!("reconcile: listing MG channels failed");
        };
        let settled_before = time::OffsetDateTime::now_utc() - STRAY_GRACE;
        for mg_channel in listed.into_iter().filter(|c| c.is_active) {
            let known = ours
                .iter()
                .any(|c| c.active && c.mg_channel_id == mg_channel.id.0);
            // Without an activation time we cannot tell a stray from a bot being added.
            let settled = mg_channel.activated_at.is_some_and(|t| t < settled_before);
            if !known && settled {
                let id = mg_channel.id;
                match self.mg.api(account).deactivate_channel(id).await {
                    Ok(_) => tracing::info!(
                        mg_channel = id.0,
                        "deactivated an MG channel this module no longer knows"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, mg_channel = id.0, "reconcile: deactivating a stray channel failed")
                    }
                }
            }
        }
    }

    /// Reconciles every enabled account that has bots, at start and in the background, until
    /// done or until `stop` turns true (an account being reconciled then is finished). An
    /// account that never had a bot has no channel to bring in line.
    ///
    /// With thousands of accounts this is thousands of MG calls and as many secrets opened, so
    /// it is spread out: accounts are read a page at a time (only one page's secrets are open
    /// at once) and taken at most `per_second` a second. Live traffic does not wait for it
    /// (its calls are bulk calls on each account's own token) and readiness does not either.
    pub async fn reconcile_all(&self, per_second: u32, mut stop: watch::Receiver<bool>) {
        let started = std::time::Instant::now();
        let mut pace =
            tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(per_second.max(1))));
        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut after: Option<AccountId> = None;
        let mut done = 0usize;
        loop {
            let page = match self
                .store
                .enabled_accounts_with_channels_after(after.as_ref(), RECONCILE_PAGE)
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    return tracing::error!(error = %chain(&e), "reconcile: listing accounts failed")
                }
            };
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            let full = page.len() == RECONCILE_PAGE;
            for mut account in page {
                tokio::select! {
                    _ = pace.tick() => {}
                    _ = stop.wait_for(|stopped| *stopped) => {
                        return tracing::info!(accounts = done, "reconcile stopped by shutdown");
                    }
                }
                self.reconcile_account(&mut account).await;
                done += 1;
            }
            if !full {
                break;
            }
        }
        // Every account's token has limiter state now; nothing needs it once its window passed.
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.wait_for(|stopped| *stopped) => {}
        }
        self.mg.mg.forget_idle_tokens();
        tracing::info!(
            accounts = done,
            seconds = started.elapsed().as_secs(),
            "start-up reconcile done"
        );
    }
}

/// Accounts read (and their secrets opened) at a time by the start-up reconcile.
const RECONCILE_PAGE: usize = 100;

fn from_link(kind: MessengerKind, e: LinkError) -> AddBotError {
    match e {
        LinkError::BadToken(why) => AddBotError::Token(why),
        LinkError::Rejected => AddBotError::TokenRejected(kind),
        LinkError::Unreachable(reason) => AddBotError::MessengerUnreachable(kind, reason),
        LinkError::Refused(reason) => AddBotError::MessengerRefused(kind, reason),
    }
}
