//! The health monitor: a background task that checks each bot's token and webhook at most every
//! `health.poll_seconds` (the oldest checks first, `health.bots_per_tick` per tick,
//! `health.concurrency` at a time, so thousands of bots are spread over the interval), keeps
//! the accounts' failure states (`alert_state`) open or closed, and tells each account's CRM
//! administrators once per failure (`POST /api/v5/notifications/send`).
//!
//! A failure state is a row: opened when the failure is seen (an insert that is a no-op while
//! it is open), notified once (claimed by one replica, retried with backoff when the CRM does
//! not take it), and deleted on recovery, so the next failure notifies again. Kinds:
//! - `token_revoked` (per bot): the messenger answers 401;
//! - `webhook_failing` (per bot): its last error delivering to us is recent and updates wait;
//! - `mg_token_refused`: MG refused the token and the CRM had no new one (`needs_reconnect`);
//! - `delivery_failures`: over `failure_percent` % of at least `failure_min_deliveries`
//!   deliveries failed in the last `failure_window_minutes` (every `failed` job counts, those
//!   refused because the customer blocked the bot too: nothing in the job row tells them apart
//!   yet).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::bridge::chat_clock;
use crate::config::HealthSettings;
use crate::crm::{CrmClient, Notification};
use crate::domain::{AccountId, MessengerKind};
use crate::i18n::Text;
use crate::messenger::Messengers;
use crate::store::{now_ms, Account, BotCheck, Channel, ChannelId, Store};
use crate::telemetry::chain;

pub const TOKEN_REVOKED: &str = "token_revoked";
pub const WEBHOOK_FAILING: &str = "webhook_failing";
pub const MG_TOKEN_REFUSED: &str = "mg_token_refused";
pub const DELIVERY_FAILURES: &str = "delivery_failures";
/// Every kind, for `/metrics` (a kind with no open state shows 0).
pub const KINDS: [&str; 4] = [
    TOKEN_REVOKED,
    WEBHOOK_FAILING,
    MG_TOKEN_REFUSED,
    DELIVERY_FAILURES,
];

/// Notifications sent per tick at most.
const NOTIFY_PER_TICK: i64 = 50;
/// The longest wait between two tries of one notification.
const NOTIFY_RETRY_MAX_MS: i64 = 3_600_000;
/// Old response-time records are pruned this often.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

pub struct Monitor {
    pub store: Store,
    pub crm: CrmClient,
    pub messengers: Arc<Messengers>,
    pub settings: HealthSettings,
    /// `server.public_url` without the trailing slash: webhook and settings URLs.
    pub base_url: String,
    pub module_name: String,
}

impl Monitor {
    /// Ticks every `health.tick_ms` until `stop` turns true (a tick in progress is cut off:
    /// each of its writes stands alone).
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let tick = Duration::from_millis(self.settings.tick_ms.max(50));
        let mut last_prune: Option<tokio::time::Instant> = None;
        while !*stop.borrow() {
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(tick) => {}
            }
            tokio::select! {
                _ = stop.changed() => break,
                _ = self.tick() => {}
            }
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                last_prune = Some(tokio::time::Instant::now());
                match self
                    .store
                    .prune_chat_clock(now_ms() - chat_clock::WINDOW_MS)
                    .await
                {
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %chain(&e), "pruning response times failed"),
                }
            }
        }
    }

    /// One round: the bots that are due, the accounts' states, the notifications due.
    pub async fn tick(self: &Arc<Self>) {
        self.check_bots().await;
        if let Err(e) = self.check_accounts().await {
            tracing::warn!(error = %chain(&e), "checking the accounts' failure states failed");
        }
        if let Err(e) = self.notify_due().await {
            tracing::warn!(error = %chain(&e), "sending due notifications failed");
        }
    }

    async fn check_bots(self: &Arc<Self>) {
        let poll_ms = (self.settings.poll_seconds * 1000) as i64;
        let due = match self
            .store
            .bots_due_for_check(now_ms() - poll_ms, i64::from(self.settings.bots_per_tick))
            .await
        {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %chain(&e), "listing the bots to check failed");
                return;
            }
        };
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1) as usize));
        let mut checks = JoinSet::new();
        for channel in due {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let this = self.clone();
            checks.spawn(async move {
                let _slot = slot;
                if let Err(e) = this.check_bot(&channel).await {
                    tracing::warn!(error = %chain(&e), channel = channel.id.as_str(), "recording a bot's health failed");
                }
            });
        }
        while checks.join_next().await.is_some() {}
    }

    /// Asks the bot's messenger, stores what it said, and opens or closes the bot's states.
    async fn check_bot(&self, channel: &Channel) -> Result<(), crate::store::StoreError> {
        let url = format!(
            "{}/{}/{}",
            self.base_url,
            channel.messenger.webhook_segment(),
            channel.webhook_key
        );
        let now = now_ms();
        let state = match self.messengers.check_bot(channel, &url).await {
            Ok(state) => state,
            Err(reason) => {
                // No answer says nothing of the token or webhook: the last known stays, and so
                // do the states.
                tracing::info!(channel = channel.id.as_str(), reason = %reason, "a bot's health check got no answer");
                let mut check = match self.store.bot_health(&channel.id).await? {
                    Some(last) => last.check,
                    None => BotCheck {
                        token_ok: true,
                        webhook_ours: true,
                        ..BotCheck::default()
                    },
                };
                check.check_error = Some(reason);
                return self.store.save_bot_check(&channel.id, now, &check).await;
            }
        };
        let check = BotCheck {
            token_ok: state.token_valid,
            webhook_ours: state.points_here,
            webhook_error: state.last_error.map(|(at, m)| (at * 1000, m)),
            pending_updates: i64::from(state.pending_updates),
            check_error: None,
        };
        self.store.save_bot_check(&channel.id, now, &check).await?;
        let subject = channel.id.as_str();
        let account = &channel.account_id;
        self.set_state(account, TOKEN_REVOKED, subject, !check.token_ok)
            .await?;
        let failing = webhook_failing(&check, now, &self.settings);
        self.set_state(account, WEBHOOK_FAILING, subject, failing)
            .await
    }

    /// The account-wide states: MG's refusal of the token, and the failure rate.
    async fn check_accounts(&self) -> Result<(), crate::store::StoreError> {
        let now = now_ms();
        let window = (self.settings.failure_window_minutes * 60_000) as i64;
        let failing: HashSet<AccountId> = self
            .store
            .delivery_counts_by_account(now - window)
            .await?
            .into_iter()
            .filter(|(_, c)| {
                let total = c.done + c.failed;
                total >= i64::from(self.settings.failure_min_deliveries)
                    && c.failed * 100 > i64::from(self.settings.failure_percent) * total
            })
            .map(|(account, _)| account)
            .collect();
        self.sync_states(DELIVERY_FAILURES, failing).await?;
        let refused = self.store.accounts_needing_reconnect().await?;
        self.sync_states(MG_TOKEN_REFUSED, refused.into_iter().collect())
            .await?;
        // A removed bot's states end with it.
        for kind in [TOKEN_REVOKED, WEBHOOK_FAILING] {
            for alert in self.store.open_alerts_of_kind(kind).await? {
                let active = match ChannelId::parse(&alert.subject) {
                    Some(id) => self
                        .store
                        .find_channel(&alert.account_id, &id)
                        .await?
                        .is_some_and(|c| c.active),
                    None => false,
                };
                if !active {
                    self.set_state(&alert.account_id, kind, &alert.subject, false)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Opens `kind` for the accounts in `open` and closes it for every other account.
    async fn sync_states(
        &self,
        kind: &str,
        open: HashSet<AccountId>,
    ) -> Result<(), crate::store::StoreError> {
        for alert in self.store.open_alerts_of_kind(kind).await? {
            if !open.contains(&alert.account_id) {
                self.set_state(&alert.account_id, kind, "", false).await?;
            }
        }
        for account in &open {
            self.set_state(account, kind, "", true).await?;
        }
        Ok(())
    }

    async fn set_state(
        &self,
        account: &AccountId,
        kind: &str,
        subject: &str,
        open: bool,
    ) -> Result<(), crate::store::StoreError> {
        if open {
            if self
                .store
                .open_alert(account, kind, subject, now_ms())
                .await?
            {
                tracing::warn!(
                    account = account.as_str(),
                    kind,
                    subject,
                    "a failure state opened"
                );
            }
        } else if self.store.close_alert(account, kind, subject).await? {
            tracing::info!(
                account = account.as_str(),
                kind,
                subject,
                "a failure state recovered"
            );
        }
        Ok(())
    }

    /// Tells the CRM's administrators of each state not told yet. A failure to tell them is
    /// logged (never with the API key) and tried again later.
    async fn notify_due(&self) -> Result<(), crate::store::StoreError> {
        let now = now_ms();
        for alert in self.store.due_notifications(now, NOTIFY_PER_TICK).await? {
            let base = (self.settings.notify_retry_seconds.max(1) * 1000) as i64;
            let wait = base
                .saturating_mul(1 << alert.attempts.clamp(0, 20))
                .min(NOTIFY_RETRY_MAX_MS);
            if !self.store.claim_notification(&alert, now + wait).await? {
                continue; // another replica has it
            }
            let Some(account) = self.store.find_account(&alert.account_id).await? else {
                self.store
                    .close_alert(&alert.account_id, &alert.kind, &alert.subject)
                    .await?;
                continue;
            };
            if !account.activity.is_enabled() {
                continue; // switched off in the CRM: tried again after the wait
            }
            let channel = match ChannelId::parse(&alert.subject) {
                Some(id) => self.store.find_channel(&account.id, &id).await?,
                None => None,
            };
            let problem = alert_text(&alert.kind, channel.as_ref(), &self.settings);
            let message = account.language.text(
                &Text::new("health-notify")
                    .arg("module", self.module_name.clone())
                    .text("problem", problem)
                    .arg("url", self.settings_url(&account)),
            );
            let notification = Notification {
                user_groups: vec!["superadmins".into()],
                kind: "api.error".into(),
                message,
            };
            match self
                .crm
                .send_notification(&account.crm_url, &account.api_key, &notification)
                .await
            {
                Ok(()) => {
                    self.store.mark_notified(&alert, now_ms()).await?;
                    tracing::info!(account = account.id.as_str(), kind = %alert.kind, "the CRM's administrators were told of a failure");
                }
                Err(e) => {
                    tracing::warn!(account = account.id.as_str(), kind = %alert.kind, attempt = alert.attempts + 1, retry_in_ms = wait, error = %e, "telling the CRM's administrators failed; trying again later")
                }
            }
        }
        Ok(())
    }

    /// The settings page, as the CRM opens it (`accountUrl`, `bridge::connect`).
    fn settings_url(&self, account: &Account) -> String {
        format!("{}/settings/{}", self.base_url, account.client_id.as_str())
    }
}

/// Whether the check shows a webhook that keeps failing: the messenger's last error delivering
/// to it is recent and updates are waiting (an old error with nothing waiting has passed).
pub fn webhook_failing(check: &BotCheck, now: i64, settings: &HealthSettings) -> bool {
    let recent = now - (settings.webhook_error_minutes * 60_000) as i64;
    check.token_ok
        && check.pending_updates > 0
        && check
            .webhook_error
            .as_ref()
            .is_some_and(|(at, _)| *at >= recent)
}

/// What the merchant reads of a failure state, and what to do about it.
pub fn alert_text(kind: &str, channel: Option<&Channel>, settings: &HealthSettings) -> Text {
    let bot = channel
        .map(|c| format!("@{}", c.bot_username))
        .unwrap_or_default();
    match kind {
        TOKEN_REVOKED => match channel.map(|c| c.messenger) {
            Some(MessengerKind::Max) => Text::new("health-token-revoked-max").arg("bot", bot),
            _ => Text::new("health-token-revoked").arg("bot", bot),
        },
        WEBHOOK_FAILING => Text::new("health-webhook-failing-short").arg("bot", bot),
        MG_TOKEN_REFUSED => Text::new("health-mg-refused"),
        _ => Text::new("health-delivery-failures")
            .num("percent", i64::from(settings.failure_percent))
            .num("minutes", settings.failure_window_minutes as i64),
    }
}
