//! Failed deliveries the merchant can see and repair: why a job failed, in words a page can
//! translate, and the failed list's rows, retry and discard (`store::failures` keeps them; a
//! retried job goes to the end of its lane).

use std::collections::HashMap;
use std::sync::Arc;

use crate::bridge::ingest::read_customer_update;
use crate::bridge::schedule::Wake;
use crate::domain::{AccountId, Direction, MessengerKind};
use crate::messenger::Messengers;
use crate::mg::{MgWebhook, SendingErrorCode};
use crate::store::{Attempt, ChannelId, FailedJob, FailedSelection, Store, StoreError};

/// The kind of a failure, stored with the job (`job.failure_reason`) and a label of
/// `mgbridge_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// MG refused a customer's message with an answer no retry changes (a 4xx).
    RefusedByMg,
    /// The messenger refused an operator's message for good (a 4xx other than a block).
    RefusedByMessenger,
    /// The customer blocked the bot or cannot be written to.
    CustomerUnreachable,
    /// The messenger's reply window closed (Telegram Business: 24 h after the customer wrote).
    ReplyWindowClosed,
    /// The messenger took it for spam.
    SpamSuspicion,
    /// It kept failing for a reason that might have passed, until `queue.max_age_hours`.
    GaveUp,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::RefusedByMg,
        Reason::RefusedByMessenger,
        Reason::CustomerUnreachable,
        Reason::ReplyWindowClosed,
        Reason::SpamSuspicion,
        Reason::GaveUp,
    ];

    /// A delivery that ended with `code` (the worker's `DeliveryError::Failed`), or that ran out
    /// of time (`gave_up`).
    pub fn of(direction: Direction, code: SendingErrorCode, gave_up: bool) -> Self {
        if gave_up {
            return Self::GaveUp;
        }
        match (code, direction) {
            (SendingErrorCode::CustomerNotExists | SendingErrorCode::AccessRestricted, _) => {
                Self::CustomerUnreachable
            }
            (SendingErrorCode::ReplyTimedOut, _) => Self::ReplyWindowClosed,
            (SendingErrorCode::SpamSuspicion, _) => Self::SpamSuspicion,
            (SendingErrorCode::General, Direction::ToMg) => Self::RefusedByMg,
            (SendingErrorCode::General, Direction::ToMessenger) => Self::RefusedByMessenger,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RefusedByMg => "refused_by_mg",
            Self::RefusedByMessenger => "refused_by_messenger",
            Self::CustomerUnreachable => "customer_unreachable",
            Self::ReplyWindowClosed => "reply_window_closed",
            Self::SpamSuspicion => "spam_suspicion",
            Self::GaveUp => "gave_up",
        }
    }

    pub fn index(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// A row of the failed list, as the settings page and the CLI show it. No message text: the
/// customer's name and where, not what they wrote.
#[derive(Debug, Clone)]
pub struct FailedDelivery {
    pub job_id: i64,
    pub account_id: AccountId,
    pub direction: Direction,
    /// Unix ms.
    pub accepted_at: i64,
    pub failed_at: i64,
    pub customer: Option<String>,
    /// The chat's id with its middle hidden.
    pub chat: String,
    /// `Reason::as_str`, or "unknown" for jobs failed before reasons were kept.
    pub reason: String,
    pub error: String,
    pub attempts: Vec<Attempt>,
}

/// The failed list's operations, for the settings page and the CLI.
pub struct Failures {
    pub store: Store,
    /// Told when jobs go back to their lanes (None in the CLI, whose jobs the service's poll
    /// finds).
    pub wake: Option<Arc<Wake>>,
}

impl Failures {
    /// An account's failed deliveries (every account's when None), newest first, and how many
    /// there are in all.
    pub async fn list(
        &self,
        account: Option<&AccountId>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<FailedDelivery>, i64), StoreError> {
        let total = self.store.count_failed_jobs(account).await?;
        let jobs = self.store.failed_jobs(account, limit, offset).await?;
        let mut rows = Vec::with_capacity(jobs.len());
        let mut kinds: HashMap<ChannelId, Option<MessengerKind>> = HashMap::new();
        for job in jobs {
            let customer = self.customer_of(&job, &mut kinds).await?;
            rows.push(row(job, customer));
        }
        Ok((rows, total))
    }

    pub async fn retry(&self, which: FailedSelection<'_>) -> Result<u64, StoreError> {
        let n = self.store.retry_failed_jobs(which).await?;
        if n > 0 {
            if let Some(wake) = &self.wake {
                wake.new_jobs();
            }
        }
        Ok(n)
    }

    pub async fn discard(&self, account: &AccountId, job_id: i64) -> Result<bool, StoreError> {
        self.store.discard_failed_job(account, job_id).await
    }

    /// The customer's name from the stored webhook: a customer's update names its sender (read
    /// by the messenger of the channel it came in on, looked up once per list), MG's
    /// `message_sent` may name the chat's customer.
    async fn customer_of(
        &self,
        job: &FailedJob,
        kinds: &mut HashMap<ChannelId, Option<MessengerKind>>,
    ) -> Result<Option<String>, StoreError> {
        Ok(match job.direction {
            Direction::ToMg => {
                let Ok((channel, update)) = read_customer_update(&job.payload) else {
                    return Ok(None);
                };
                let kind = match kinds.get(&channel) {
                    Some(kind) => *kind,
                    None => {
                        let found = self.store.find_channel_by_id(&channel).await?;
                        let kind = found.map(|c| c.messenger);
                        kinds.insert(channel, kind);
                        kind
                    }
                };
                kind.and_then(|kind| Messengers::customer_name(kind, update.get()))
            }
            Direction::ToMessenger => match MgWebhook::parse(job.payload.as_bytes()) {
                Ok(MgWebhook::MessageSent(sent)) => sent.customer.and_then(|c| {
                    let name = format!(
                        "{} {}",
                        c.first_name.unwrap_or_default().trim(),
                        c.last_name.unwrap_or_default().trim()
                    );
                    let name = name.trim();
                    (!name.is_empty()).then(|| name.to_owned())
                }),
                _ => None,
            },
        })
    }
}

fn row(job: FailedJob, customer: Option<String>) -> FailedDelivery {
    let chat = job.lane.splitn(3, ':').nth(2).unwrap_or_default();
    FailedDelivery {
        job_id: job.job_id,
        account_id: job.account_id,
        direction: job.direction,
        accepted_at: job.created_at,
        failed_at: job.failed_at,
        customer,
        chat: mask_chat(chat),
        reason: job.reason.unwrap_or_else(|| "unknown".to_owned()),
        error: job.error.unwrap_or_default(),
        attempts: job.attempts,
    }
}

/// `1234567890` → `12••••90`: enough to tell chats apart on the page, not enough to write to
/// one. Short ids keep only their last character.
pub fn mask_chat(chat: &str) -> String {
    let chars: Vec<char> = chat.chars().collect();
    match chars.len() {
        0 => String::new(),
        n if n <= 4 => format!("••{}", chars[n - 1]),
        n => format!(
            "{}{}{}",
            chars[..2].iter().collect::<String>(),
            "•".repeat((n - 4).min(6)),
            chars[n - 2..].iter().collect::<String>()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_ids_are_masked_in_the_middle() {
        assert_eq!(mask_chat("1234567890"), "12••••••90");
        assert_eq!(mask_chat("-100123"), "-1•••23");
        assert_eq!(mask_chat("42"), "••2");
        assert_eq!(mask_chat(""), "");
    }

    #[test]
    fn reasons_follow_the_code_and_direction() {
        use Direction::*;
        assert_eq!(
            Reason::of(ToMg, SendingErrorCode::General, false),
            Reason::RefusedByMg
        );
        assert_eq!(
            Reason::of(ToMessenger, SendingErrorCode::General, false),
            Reason::RefusedByMessenger
        );
        assert_eq!(
            Reason::of(ToMessenger, SendingErrorCode::AccessRestricted, false),
            Reason::CustomerUnreachable
        );
        assert_eq!(
            Reason::of(ToMg, SendingErrorCode::General, true),
            Reason::GaveUp
        );
    }
}
