//! What one delivery step needs and how it can end. The queue worker (`bridge::worker`) builds a
//! [`Delivery`] for the job's account and channel and hands it to the mapping code:
//! `bridge::inbound` (Telegram update → MG) and `bridge::outbound` (MG webhook → Telegram).
//! The worker owns the job's fate: success marks it done, [`DeliveryError::Retry`] schedules it
//! again with backoff, [`DeliveryError::Failed`] reports it (to MG with an ack error for an
//! operator's message, in logs and metrics always) and moves on.

use std::time::Duration;

use crate::bridge::avatar::AvatarLinks;
use crate::bridge::file_budget::FileBudget;
use crate::bridge::mg_access::{MgAccess, MgAccessError};
use crate::bridge::telegram_rate::TelegramRate;
use crate::messenger::telegram::{Bot, TelegramError};
use crate::mg::{MgError, SendingErrorCode};
use crate::store::{Account, Channel, Store, StoreError};

/// Everything a delivery step may use, for one account and one of its channels.
pub struct Delivery<'a> {
    /// The account, opened; `MgAccess::call` may replace its token in place.
    pub account: &'a mut Account,
    pub channel: &'a Channel,
    pub mg: &'a MgAccess,
    /// The channel's bot (token inside; never printed).
    pub bot: &'a Bot,
    pub store: &'a Store,
    /// Telegram's per-chat and per-bot limits: wait on it before every Bot API send.
    pub telegram_rate: &'a TelegramRate,
    /// Signed, expiring avatar URLs served by us (the bot token never reaches MG).
    pub avatars: &'a AvatarLinks,
    /// Memory for attachments held between download and upload: reserve before downloading.
    pub files: &'a FileBudget,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Worth trying again: no answer, flood control, the other side's 5xx, our database.
    /// `after` is the wait the other side asked for (Telegram `retry_after`), if any.
    #[error("will retry: {reason}")]
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Trying again will not help; `code` is what MG is told for an operator's message.
    #[error("failed ({code:?}): {reason}")]
    Failed {
        code: SendingErrorCode,
        reason: String,
    },
}

impl DeliveryError {
    pub fn retry(reason: impl Into<String>) -> Self {
        Self::Retry {
            after: None,
            reason: reason.into(),
        }
    }

    pub fn failed(reason: impl Into<String>) -> Self {
        Self::Failed {
            code: SendingErrorCode::General,
            reason: reason.into(),
        }
    }
}

impl From<MgError> for DeliveryError {
    fn from(e: MgError) -> Self {
        if e.is_transient() {
            Self::retry(e.to_string())
        } else {
            Self::failed(e.to_string())
        }
    }
}

impl From<MgAccessError> for DeliveryError {
    fn from(e: MgAccessError) -> Self {
        match e {
            MgAccessError::Mg(e) => e.into(),
            // The account waits for a reconnect; its jobs wait with it (they are retried with
            // backoff until the merchant connects again or the job's age limit is reached).
            MgAccessError::NeedsReconnect => Self::retry(e.to_string()),
            MgAccessError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for DeliveryError {
    fn from(e: StoreError) -> Self {
        Self::retry(format!("database: {}", crate::telemetry::chain(&e)))
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
