//! What one delivery step needs and how it can end. The worker (`bridge::worker`) builds a
//! [`Delivery`] for the job's account and channel and hands it, through the messenger seam
//! (`messenger::Messengers`), to the channel's messenger: its `inbound` (an update → MG) or
//! `outbound` (an MG webhook → the messenger). The messenger adds what it needs of its own
//! (`via`: Telegram's bot and rate limits) with [`Delivery::with`].
//! The worker owns the job's fate: success marks it done, [`DeliveryError::Retry`] schedules it
//! again with backoff, [`DeliveryError::Failed`] reports it (to MG with an ack error for an
//! operator's message, in logs and metrics always) and moves on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::bridge::avatar::AvatarLinks;
use crate::bridge::file_budget::{FileBudget, FileReservation};
use crate::bridge::mg_access::{MgAccess, MgAccessError};
use crate::bridge::worker::Seat;
use crate::mg::{DeleteMessageRequest, MessageIdentifier, MgChannelId, MgError, SendingErrorCode};
use crate::store::{Account, Channel, Store, StoreError};

/// Everything a delivery step may use, for one account and one of its channels; `via` is the
/// messenger's own part (nothing, in the core).
pub struct Delivery<'a, M = ()> {
    /// The account, opened; `MgAccess::call` may replace its token in place.
    pub account: &'a mut Account,
    pub channel: &'a Channel,
    pub mg: &'a MgAccess,
    pub store: &'a Store,
    /// Signed, expiring avatar URLs served by us (a messenger's file URL may hold its token).
    pub avatars: &'a AvatarLinks,
    /// Memory for attachments held between download and upload: reserve before downloading
    /// (`reserve_files`).
    pub files: &'a FileBudget,
    /// The worker slot this delivery runs in (none in the webhook's sync mode).
    pub seat: Option<&'a Seat>,
    /// Set once a customer's new message is in MG (`new_message_posted`): its chat now waits
    /// for a reply (`chat_clock`). Edits, reactions and the like leave it unset.
    pub posted: &'a AtomicBool,
    pub via: M,
}

impl<M> Delivery<'_, M> {
    /// A customer's new message was posted to MG (or MG already had it).
    pub fn new_message_posted(&self) {
        self.posted.store(true, Ordering::Relaxed);
    }

    /// Holds `bytes` of the file budget for files about to be downloaded. While the budget is
    /// used up, the delivery waits for it off its worker slot, so the deliveries queued behind
    /// it (other chats' texts) run meanwhile.
    pub async fn reserve_files(&self, bytes: u64) -> FileReservation {
        if let Some(now) = self.files.try_reserve(bytes) {
            return now;
        }
        if let Some(seat) = self.seat {
            seat.step_aside();
        }
        self.files.reserve(bytes).await
    }
}

impl<M> Delivery<'_, M> {
    /// The customer deleted a message: it is deleted in MG, by our id for it. One MG never had
    /// (older than the bridge, or never carried) is already as it should be.
    pub async fn delete_in_mg(&mut self, external_id: String) -> Result<(), DeliveryError> {
        let request = DeleteMessageRequest {
            channel: MgChannelId(self.channel.mg_channel_id),
            message: MessageIdentifier::external_id(external_id),
        };
        let request = &request;
        match self
            .mg
            .call(self.account, |api| async move {
                api.delete_message(request).await
            })
            .await
        {
            Ok(_) | Err(MgAccessError::Mg(MgError::Api { status: 404, .. })) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl<'a> Delivery<'a> {
    /// The same delivery, lent to a messenger with its own part added.
    pub fn with<M>(&mut self, via: M) -> Delivery<'_, M> {
        Delivery {
            account: &mut *self.account,
            channel: self.channel,
            mg: self.mg,
            store: self.store,
            avatars: self.avatars,
            files: self.files,
            seat: self.seat,
            posted: self.posted,
            via,
        }
    }
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
