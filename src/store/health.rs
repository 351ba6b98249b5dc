//! Bot health, open failure states and response times (migration 0012): what the monitor
//! (`bridge::monitor`) finds and the chat clock (`bridge::chat_clock`) records, read back by the
//! settings page (`web::bot_health`) and `/metrics`. Times are unix milliseconds.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::channels::CHANNEL_COLUMNS;
use super::{Channel, ChannelId, Store, StoreError};
use crate::domain::AccountId;

/// What one check of a bot found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotCheck {
    /// False when the messenger answered 401: the token was revoked.
    pub token_ok: bool,
    /// The webhook points at this service.
    pub webhook_ours: bool,
    /// The messenger's last error delivering to our webhook, and when (ms).
    pub webhook_error: Option<(i64, String)>,
    pub pending_updates: i64,
    /// The check itself failed (the messenger did not answer): the rest is the last known.
    pub check_error: Option<String>,
}

/// The last check of a bot.
#[derive(Debug, Clone)]
pub struct BotHealth {
    pub checked_at: i64,
    pub check: BotCheck,
}

/// One chat's clock ticking (`bridge::chat_clock`).
#[derive(Debug, Clone)]
pub enum ChatEvent {
    /// A customer's message reached MG: the chat waits for a reply, if it did not already.
    CustomerWrote {
        channel: ChannelId,
        chat: String,
        at: i64,
    },
    /// An operator's message reached the messenger: a waiting chat has its reply.
    OperatorReplied {
        channel: ChannelId,
        chat: String,
        at: i64,
    },
}

/// An open failure state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub account_id: AccountId,
    pub kind: String,
    pub subject: String,
    pub opened_at: i64,
    pub notified_at: Option<i64>,
    pub next_try_at: i64,
    pub attempts: i64,
}

/// Delivered (done) and failed jobs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub done: i64,
    pub failed: i64,
}

impl DeliveryCounts {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Self {
            done: row.try_get("done")?,
            failed: row.try_get("failed")?,
        })
    }
}

const ALERT_COLUMNS: &str =
    "account_id, kind, subject, opened_at, notified_at, next_try_at, attempts";

impl Store {
    /// Active bots (not business connections) of enabled accounts not checked since
    /// `checked_before`, or changed since their last check (added again), oldest check first.
    pub async fn bots_due_for_check(
        &self,
        checked_before: i64,
        limit: i64,
    ) -> Result<Vec<Channel>, StoreError> {
        let checked = "COALESCE((SELECT h.checked_at FROM bot_health h \
                       WHERE h.channel_id = channel.channel_id), 0)";
        let sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM channel WHERE active = 1 \
             AND business_connection_id IS NULL \
             AND account_id IN (SELECT account_id FROM account WHERE active = 1 AND frozen = 0) \
             AND ({checked} < $1 OR {checked} < updated_at * 1000) \
             ORDER BY {checked}, channel_id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(checked_before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| self.channel_from_row(row)).collect()
    }

    pub async fn save_bot_check(
        &self,
        channel: &ChannelId,
        checked_at: i64,
        check: &BotCheck,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO bot_health (channel_id, checked_at, token_ok, webhook_ours, webhook_error, \
                 webhook_error_at, pending_updates, check_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (channel_id) DO UPDATE SET checked_at = excluded.checked_at, \
                 token_ok = excluded.token_ok, webhook_ours = excluded.webhook_ours, \
                 webhook_error = excluded.webhook_error, webhook_error_at = excluded.webhook_error_at, \
                 pending_updates = excluded.pending_updates, check_error = excluded.check_error",
        )
        .bind(channel.as_str())
        .bind(checked_at)
        .bind(i64::from(check.token_ok))
        .bind(i64::from(check.webhook_ours))
        .bind(check.webhook_error.as_ref().map(|(_, m)| m.clone()))
        .bind(check.webhook_error.as_ref().map(|(at, _)| *at))
        .bind(check.pending_updates)
        .bind(check.check_error.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn bot_health(&self, channel: &ChannelId) -> Result<Option<BotHealth>, StoreError> {
        let row = sqlx::query(
            "SELECT checked_at, token_ok, webhook_ours, webhook_error, webhook_error_at, \
                 pending_updates, check_error FROM bot_health WHERE channel_id = $1",
        )
        .bind(channel.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let error: Option<String> = row.try_get("webhook_error")?;
        let error_at: Option<i64> = row.try_get("webhook_error_at")?;
        Ok(Some(BotHealth {
            checked_at: row.try_get("checked_at")?,
            check: BotCheck {
                token_ok: row.try_get::<i64, _>("token_ok")? != 0,
                webhook_ours: row.try_get::<i64, _>("webhook_ours")? != 0,
                webhook_error: error_at.zip(error),
                pending_updates: row.try_get("pending_updates")?,
                check_error: row.try_get("check_error")?,
            },
        }))
    }

    /// Opens the failure state; false when it was open already.
    pub async fn open_alert(
        &self,
        account: &AccountId,
        kind: &str,
        subject: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO alert_state (account_id, kind, subject, opened_at, next_try_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (account_id, kind, subject) DO NOTHING",
        )
        .bind(account.as_str())
        .bind(kind)
        .bind(subject)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Recovery: the state is closed; false when it was not open.
    pub async fn close_alert(
        &self,
        account: &AccountId,
        kind: &str,
        subject: &str,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "DELETE FROM alert_state WHERE account_id = $1 AND kind = $2 AND subject = $3",
        )
        .bind(account.as_str())
        .bind(kind)
        .bind(subject)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Every open state of one kind (for the account-wide kinds' recovery).
    pub async fn open_alerts_of_kind(&self, kind: &str) -> Result<Vec<Alert>, StoreError> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alert_state WHERE kind = $1");
        let rows = sqlx::query(&sql).bind(kind).fetch_all(&self.pool).await?;
        rows.iter().map(alert_from_row).collect()
    }

    pub async fn alerts_of_account(&self, account: &AccountId) -> Result<Vec<Alert>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alert_state WHERE account_id = $1 ORDER BY opened_at"
        );
        let rows = sqlx::query(&sql)
            .bind(account.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// States whose administrators are still to be told, due now.
    pub async fn due_notifications(&self, now: i64, limit: i64) -> Result<Vec<Alert>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alert_state WHERE notified_at IS NULL AND next_try_at <= $1 \
             ORDER BY next_try_at LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Takes the notification of `alert` (as read) and sets its next try: true for exactly one
    /// replica, so the administrators are told once.
    pub async fn claim_notification(
        &self,
        alert: &Alert,
        next_try_at: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE alert_state SET next_try_at = $1, attempts = attempts + 1 \
             WHERE account_id = $2 AND kind = $3 AND subject = $4 \
               AND notified_at IS NULL AND next_try_at = $5",
        )
        .bind(next_try_at)
        .bind(alert.account_id.as_str())
        .bind(&alert.kind)
        .bind(&alert.subject)
        .bind(alert.next_try_at)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn mark_notified(&self, alert: &Alert, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE alert_state SET notified_at = $1 \
             WHERE account_id = $2 AND kind = $3 AND subject = $4 AND opened_at = $5",
        )
        .bind(now)
        .bind(alert.account_id.as_str())
        .bind(&alert.kind)
        .bind(&alert.subject)
        .bind(alert.opened_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Open states per kind, for `/metrics`.
    pub async fn open_alert_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows =
            sqlx::query("SELECT kind, COUNT(*) AS n FROM alert_state GROUP BY kind ORDER BY kind")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?)))
            .collect()
    }

    /// Enabled accounts whose MG token was refused with no new one from the CRM.
    pub async fn accounts_needing_reconnect(&self) -> Result<Vec<AccountId>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id FROM account WHERE needs_reconnect = 1 AND active = 1 AND frozen = 0",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(AccountId::from_stored(r.try_get("account_id")?)))
            .collect()
    }

    /// Jobs finished since `since`, per account, for the failure-rate alert. A customer who
    /// blocked the bot or let the reply window close is no breakage an administrator can fix:
    /// those failures (`bridge::failures::Reason`) are not counted as failed.
    pub async fn delivery_counts_by_account(
        &self,
        since: i64,
    ) -> Result<Vec<(AccountId, DeliveryCounts)>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id, COUNT(CASE WHEN state = 'done' THEN 1 END) AS done, \
                 COUNT(CASE WHEN state = 'failed' AND COALESCE(failure_reason, '') NOT IN \
                   ('customer_unreachable', 'reply_window_closed') THEN 1 END) AS failed \
             FROM job WHERE state <> 'queued' AND finished_at >= $1 GROUP BY account_id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    AccountId::from_stored(r.try_get("account_id")?),
                    DeliveryCounts::from_row(r)?,
                ))
            })
            .collect()
    }

    /// One bot's jobs finished since `since`, both directions: its lanes are
    /// `tg:{channel}:{chat}` (to MG) and `mg:{mg channel}:{chat}` (to the messenger), each a
    /// range of the index `job_lane_finished`.
    pub async fn delivery_counts_of_channel(
        &self,
        channel: &Channel,
        since: i64,
    ) -> Result<DeliveryCounts, StoreError> {
        let mut total = DeliveryCounts::default();
        for prefix in [
            format!("tg:{}", channel.id.as_str()),
            format!("mg:{}", channel.mg_channel_id),
        ] {
            // A prefix range rather than LIKE (an id's `_` would be a wildcard): the lanes
            // from `prefix:` up to `prefix;` (';' follows ':').
            let row = sqlx::query(
                "SELECT COUNT(CASE WHEN state = 'done' THEN 1 END) AS done, \
                     COUNT(CASE WHEN state = 'failed' THEN 1 END) AS failed \
                 FROM job WHERE lane >= $1 AND lane < $2 AND state <> 'queued' \
                   AND finished_at >= $3",
            )
            .bind(format!("{prefix}:"))
            .bind(format!("{prefix};"))
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
            let counts = DeliveryCounts::from_row(&row)?;
            total.done += counts.done;
            total.failed += counts.failed;
        }
        Ok(total)
    }

    pub async fn blocked_chat_count(&self, channel: &ChannelId) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM blocked_chat WHERE channel_id = $1")
                .bind(channel.as_str())
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Records the chats' events in one transaction, in order.
    pub async fn record_chat_events(&self, events: &[ChatEvent]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for event in events {
            match event {
                ChatEvent::CustomerWrote { channel, chat, at } => {
                    sqlx::query(
                        "INSERT INTO chat_wait (channel_id, chat_id, waiting_since) VALUES ($1, $2, $3) \
                         ON CONFLICT (channel_id, chat_id) DO NOTHING",
                    )
                    .bind(channel.as_str())
                    .bind(chat)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                    touch_activity(&mut tx, channel, "last_in_at", *at).await?;
                }
                ChatEvent::OperatorReplied { channel, chat, at } => {
                    let since: Option<i64> = sqlx::query_scalar(
                        "DELETE FROM chat_wait WHERE channel_id = $1 AND chat_id = $2 \
                         RETURNING waiting_since",
                    )
                    .bind(channel.as_str())
                    .bind(chat)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(since) = since {
                        sqlx::query(
                            "INSERT INTO reply_sample (channel_id, replied_at, wait_ms) VALUES ($1, $2, $3)",
                        )
                        .bind(channel.as_str())
                        .bind(at)
                        .bind((at - since).max(0))
                        .execute(&mut *tx)
                        .await?;
                    }
                    touch_activity(&mut tx, channel, "last_out_at", *at).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The bot's times to first reply since `since` (ms, ascending), and how many of its chats
    /// have waited since before `unanswered_before` (and after `since`) with no reply.
    pub async fn response_times(
        &self,
        channel: &ChannelId,
        since: i64,
        unanswered_before: i64,
    ) -> Result<(Vec<i64>, i64), StoreError> {
        let waits: Vec<i64> = sqlx::query_scalar(
            "SELECT wait_ms FROM reply_sample WHERE channel_id = $1 AND replied_at >= $2 \
             ORDER BY wait_ms",
        )
        .bind(channel.as_str())
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let unanswered: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM chat_wait WHERE channel_id = $1 \
             AND waiting_since >= $2 AND waiting_since < $3",
        )
        .bind(channel.as_str())
        .bind(since)
        .bind(unanswered_before)
        .fetch_one(&self.pool)
        .await?;
        Ok((waits, unanswered))
    }

    /// When the bot last carried a customer's message in and an operator's out (0: never).
    pub async fn channel_activity(&self, channel: &ChannelId) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT last_in_at, last_out_at FROM channel_activity WHERE channel_id = $1",
        )
        .bind(channel.as_str())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok((row.try_get("last_in_at")?, row.try_get("last_out_at")?)),
            None => Ok((0, 0)),
        }
    }

    /// Forgets waits and samples older than `before` (the 7 days the page shows).
    pub async fn prune_chat_clock(&self, before: i64) -> Result<u64, StoreError> {
        let samples = sqlx::query("DELETE FROM reply_sample WHERE replied_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        let waits = sqlx::query("DELETE FROM chat_wait WHERE waiting_since < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(samples.rows_affected() + waits.rows_affected())
    }
}

async fn touch_activity(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    channel: &ChannelId,
    column: &str,
    at: i64,
) -> Result<(), StoreError> {
    // `column` is one of two names written above, never input.
    let sql = format!(
        "INSERT INTO channel_activity (channel_id, {column}) VALUES ($1, $2) \
         ON CONFLICT (channel_id) DO UPDATE SET {column} = excluded.{column} \
         WHERE channel_activity.{column} < excluded.{column}"
    );
    sqlx::query(&sql)
        .bind(channel.as_str())
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn alert_from_row(row: &AnyRow) -> Result<Alert, StoreError> {
    Ok(Alert {
        account_id: AccountId::from_stored(row.try_get("account_id")?),
        kind: row.try_get("kind")?,
        subject: row.try_get("subject")?,
        opened_at: row.try_get("opened_at")?,
        notified_at: row.try_get("notified_at")?,
        next_try_at: row.try_get("next_try_at")?,
        attempts: row.try_get("attempts")?,
    })
}
