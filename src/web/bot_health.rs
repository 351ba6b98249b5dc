//! The settings page's health part (`templates/bot_health.html`): per bot, what its last check
//! found (`bridge::monitor`), its traffic and response times (`bridge::chat_clock`), and each
//! problem in words the merchant can act on; for the account, its open account-wide failures.
//! Also the open failure states in `/metrics`.

use std::fmt::Write;

use crate::bridge::chat_clock::WINDOW_MS;
use crate::bridge::monitor::{self, alert_text, webhook_failing};
use crate::config::HealthSettings;
use crate::i18n::{Lang, Text};
use crate::store::{now_ms, Account, Channel, Store, StoreError};

/// A chat still without a reply this long after its customer wrote counts as unanswered.
const UNANSWERED_AFTER_MS: i64 = 15 * 60_000;
const DAY_MS: i64 = 24 * 3_600_000;

/// One bot's health, ready to show.
pub struct BotHealthView {
    pub id: String,
    pub username: String,
    pub messenger: &'static str,
    /// What the merchant should do, if anything.
    pub problems: Vec<String>,
    /// None until the first check.
    pub checked_at: Option<String>,
    /// None until the first check.
    pub token_ok: Option<bool>,
    pub webhook: String,
    pub last_in: String,
    pub last_out: String,
    pub delivered: i64,
    pub failed: i64,
    pub blocked: i64,
    pub reply_p50: String,
    pub reply_p90: String,
    pub replies: i64,
    pub unanswered: i64,
}

/// The account's active bots' health (business connections share their bot's), and its open
/// account-wide problems.
pub async fn health_views(
    store: &Store,
    settings: &HealthSettings,
    lang: Lang,
    account: &Account,
    channels: &[Channel],
) -> Result<(Vec<BotHealthView>, Vec<String>), StoreError> {
    let now = now_ms();
    let mut views = Vec::new();
    for channel in channels
        .iter()
        .filter(|c| c.active && c.business_connection_id.is_none())
    {
        views.push(bot_view(store, settings, lang, channel, now).await?);
    }
    let problems = store
        .alerts_of_account(&account.id)
        .await?
        .into_iter()
        // MG's refusal has the page's own banner (`settings-reconnect`).
        .filter(|a| a.kind == monitor::DELIVERY_FAILURES)
        .map(|a| lang.text(&alert_text(&a.kind, None, settings)))
        .collect();
    Ok((views, problems))
}

async fn bot_view(
    store: &Store,
    settings: &HealthSettings,
    lang: Lang,
    channel: &Channel,
    now: i64,
) -> Result<BotHealthView, StoreError> {
    let health = store.bot_health(&channel.id).await?;
    let bot = format!("@{}", channel.bot_username);
    let mut problems = Vec::new();
    let (mut token_ok, mut webhook) = (None, lang.t("health-not-checked"));
    if let Some(h) = &health {
        let check = &h.check;
        token_ok = Some(check.token_ok);
        if !check.token_ok {
            let text = alert_text(monitor::TOKEN_REVOKED, Some(channel), settings);
            problems.push(lang.text(&text));
            webhook = lang.t("health-webhook-unknown");
        } else if webhook_failing(check, now, settings) {
            let error = check
                .webhook_error
                .as_ref()
                .map(|(_, m)| m.clone())
                .unwrap_or_default();
            let text = Text::new("health-webhook-failing")
                .arg("bot", bot.clone())
                .arg("error", error.clone())
                .num("pending", check.pending_updates);
            problems.push(lang.text(&text));
            webhook = lang.text(
                &Text::new("health-webhook-error")
                    .arg("error", error)
                    .num("pending", check.pending_updates),
            );
        } else if !check.webhook_ours {
            problems.push(lang.text(&Text::new("health-webhook-elsewhere").arg("bot", bot)));
            webhook = lang.t("health-webhook-not-ours");
        } else {
            webhook =
                lang.text(&Text::new("health-webhook-ok").num("pending", check.pending_updates));
        }
        if let Some(error) = &check.check_error {
            problems.push(lang.text(&Text::new("health-check-failed").arg("error", error.clone())));
        }
    }
    let (last_in, last_out) = store.channel_activity(&channel.id).await?;
    let counts = store
        .delivery_counts_of_channel(channel, now - DAY_MS)
        .await?;
    let (waits, unanswered) = store
        .response_times(&channel.id, now - WINDOW_MS, now - UNANSWERED_AFTER_MS)
        .await?;
    let quantile = |q: f64| {
        percentile(&waits, q)
            .map(|ms| duration(lang, ms))
            .unwrap_or_else(|| lang.t("health-no-replies"))
    };
    Ok(BotHealthView {
        id: channel.id.as_str().to_owned(),
        username: channel.bot_username.clone(),
        messenger: channel.messenger.display_name(),
        problems,
        checked_at: health.as_ref().map(|h| format_ms(lang, h.checked_at)),
        token_ok,
        webhook,
        last_in: format_ms(lang, last_in),
        last_out: format_ms(lang, last_out),
        delivered: counts.done,
        failed: counts.failed,
        blocked: store.blocked_chat_count(&channel.id).await?,
        reply_p50: quantile(0.5),
        reply_p90: quantile(0.9),
        replies: waits.len() as i64,
        unanswered,
    })
}

/// Nearest-rank percentile of sorted values: the smallest value with at least `q` of them at
/// or below it.
pub fn percentile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A wait as people say it: seconds under a minute, minutes under an hour, else hours and
/// minutes (rounded down: "5 min" is five full minutes).
fn duration(lang: Lang, ms: i64) -> String {
    let s = ms / 1000;
    let text = match s {
        0..60 => Text::new("health-duration-seconds").num("n", s),
        60..3600 => Text::new("health-duration-minutes").num("n", s / 60),
        _ => Text::new("health-duration-hours")
            .num("h", s / 3600)
            .num("m", s % 3600 / 60),
    };
    lang.text(&text)
}

fn format_ms(lang: Lang, ms: i64) -> String {
    if ms <= 0 {
        return lang.t("health-never");
    }
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| lang.t("settings-date-unknown"))
}

/// `/metrics`: open failure states by kind (every kind, 0 when none is open).
pub fn render_alert_metrics(open: &[(String, i64)]) -> String {
    let mut out = String::from(
        "# HELP mgbridge_failure_states_open Open failure states (bridge::monitor) by kind.\n\
         # TYPE mgbridge_failure_states_open gauge\n",
    );
    for kind in monitor::KINDS {
        let n = open
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        let _ = writeln!(out, "mgbridge_failure_states_open{{kind=\"{kind}\"}} {n}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.5), Some(7));
        assert_eq!(percentile(&[7], 0.9), Some(7));
        assert_eq!(percentile(&[1, 2], 0.5), Some(1));
        assert_eq!(percentile(&[1, 2], 0.9), Some(2));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 0.5), Some(50));
        assert_eq!(percentile(&hundred, 0.9), Some(90));
    }

    #[test]
    fn durations_read_in_the_largest_unit() {
        assert_eq!(duration(Lang::En, 42_500), "42 s");
        assert_eq!(duration(Lang::En, 5 * 60_000 + 900), "5 min");
        assert_eq!(
            duration(Lang::En, 2 * 3_600_000 + 10 * 60_000),
            "2 h 10 min"
        );
    }
}
