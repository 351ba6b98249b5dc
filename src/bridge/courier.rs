//! Carrying one job: the account and channel it names are loaded, a [`Delivery`] is built, and
//! the channel's messenger does the work behind the seam (`messenger::Messengers`). An
//! operator's message is then acknowledged to MG with the messenger's id, or with why it
//! failed. Used by the queue worker (`worker`) and by the MG webhook in sync mode.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::bridge::avatar::AvatarLinks;
use crate::bridge::chat_clock::ChatClock;
use crate::bridge::delivery::{Delivery, DeliveryError};
use crate::bridge::file_budget::FileBudget;
use crate::bridge::ingest::{chat_of_customer_lane, read_customer_update};
use crate::bridge::mg_access::MgAccess;
use crate::bridge::worker::Seat;
use crate::domain::{AccountId, Direction};
use crate::messenger::Messengers;
use crate::mg::{
    AckMessageRequest, MessageIdentifier, MessageSent, MgChannelId, MgMessageId, MgWebhook,
    SendingError, SendingErrorCode,
};
use crate::store::{Account, Channel, ClaimedJob, Store};

pub struct Courier {
    pub store: Store,
    pub mg: MgAccess,
    /// The same, for delivering customers' messages (ahead of acks in the token's queue).
    pub mg_for_customers: MgAccess,
    pub messengers: Arc<Messengers>,
    pub avatars: AvatarLinks,
    /// Memory for operators' attachments in flight (`queue.file_memory_mb`).
    pub files: FileBudget,
    /// Response times: customers' messages in, operators' replies out.
    pub clock: ChatClock,
}

impl Courier {
    /// Delivers one claimed job, run in the worker's `seat`.
    pub async fn deliver(&self, job: &ClaimedJob, seat: &Seat) -> Result<(), DeliveryError> {
        let mut account = self.account(&job.account_id).await?;
        match job.direction {
            Direction::ToMg => {
                let (channel_id, update) = read_customer_update(&job.payload)?;
                let channel = self
                    .store
                    .find_channel(&account.id, &channel_id)
                    .await?
                    .ok_or_else(|| DeliveryError::failed("the bot's channel no longer exists"))?;
                let posted = AtomicBool::new(false);
                let mut d = self.delivery(&mut account, &channel, Some(seat), &posted);
                // A customer is waiting for this one: ahead of the token's acks at MG.
                d.mg = &self.mg_for_customers;
                self.messengers.deliver_to_mg(&mut d, update.get()).await?;
                if posted.load(Ordering::Relaxed) {
                    if let Some(chat) = chat_of_customer_lane(&job.lane, &channel.id) {
                        self.clock
                            .customer_wrote(&channel.id, chat, crate::store::now_ms());
                    }
                }
                Ok(())
            }
            Direction::ToMessenger => {
                let hook = read_operator_event(&job.payload)?;
                let (mg_channel_id, _) = hook.target_chat().ok_or_else(|| {
                    DeliveryError::failed("a stored webhook that acts on no chat")
                })?;
                let channel = self.active_channel(&account, mg_channel_id).await?;
                let posted = AtomicBool::new(false);
                let mut d = self.delivery(&mut account, &channel, Some(seat), &posted);
                match &hook {
                    MgWebhook::MessageSent(sent) => {
                        let transport_id = self.messengers.send_message(&mut d, sent).await?;
                        if let Some((_, chat)) = hook.target_chat() {
                            self.clock
                                .operator_replied(&channel.id, chat, crate::store::now_ms());
                        }
                        // The parts are recorded: a failed ack repeats only the ack.
                        self.ack(&mut account, sent, Ok(transport_id)).await
                    }
                    other => self.messengers.apply(&mut d, other).await,
                }
            }
        }
    }

    /// Sends an operator's message inside the webhook request (`mg.delivery = "sync"`) and
    /// returns the messenger's message id, with the same idempotent parts record as the queue.
    pub async fn send_now(
        &self,
        account: &mut Account,
        sent: &MessageSent,
    ) -> Result<String, DeliveryError> {
        let channel = self.active_channel(account, sent.channel_id).await?;
        let posted = AtomicBool::new(false);
        let mut d = self.delivery(account, &channel, None, &posted);
        let id = self.messengers.send_message(&mut d, sent).await?;
        self.clock
            .operator_replied(&channel.id, sent.chat(), crate::store::now_ms());
        Ok(id)
    }

    /// Tells MG that an operator's message (the job's, if it is one) failed for good.
    pub async fn ack_failure(
        &self,
        job: &ClaimedJob,
        code: SendingErrorCode,
        reason: &str,
    ) -> Result<(), DeliveryError> {
        let Ok(MgWebhook::MessageSent(sent)) = read_operator_event(&job.payload) else {
            return Ok(());
        };
        let mut account = self.account(&job.account_id).await?;
        let error = SendingError {
            code,
            message: Some(truncate(reason, 255)),
            external_code: None,
        };
        self.ack(&mut account, &sent, Err(error)).await
    }

    /// `POST /messages/ack` for an operator's message: its messenger id, or why it failed.
    async fn ack(
        &self,
        account: &mut Account,
        sent: &MessageSent,
        outcome: Result<String, SendingError>,
    ) -> Result<(), DeliveryError> {
        let (transport_message_id, error) = match outcome {
            Ok(id) => (Some(id), None),
            Err(error) => (None, Some(error)),
        };
        let request = AckMessageRequest {
            channel: MgChannelId(sent.channel_id),
            message: Some(MessageIdentifier::id(MgMessageId(sent.id))),
            created_at: transport_message_id
                .is_some()
                .then(time::OffsetDateTime::now_utc),
            transport_message_id,
            error,
            external_message_id: None,
        };
        self.mg
            .call(account, |api| {
                let request = request.clone();
                async move { api.ack_message(&request).await }
            })
            .await?;
        Ok(())
    }

    /// The account's active channel that is MG channel `mg_channel_id`.
    async fn active_channel(
        &self,
        account: &Account,
        mg_channel_id: i64,
    ) -> Result<Channel, DeliveryError> {
        self.store
            .find_channel_by_mg_id(&account.id, mg_channel_id)
            .await?
            .filter(|channel| channel.active)
            .ok_or_else(|| DeliveryError::failed("this MG channel has no active bot"))
    }

    fn delivery<'a>(
        &'a self,
        account: &'a mut Account,
        channel: &'a Channel,
        seat: Option<&'a Seat>,
        posted: &'a AtomicBool,
    ) -> Delivery<'a> {
        Delivery {
            account,
            channel,
            mg: &self.mg,
            store: &self.store,
            avatars: &self.avatars,
            files: &self.files,
            seat,
            posted,
            via: (),
        }
    }

    async fn account(&self, id: &AccountId) -> Result<Account, DeliveryError> {
        self.store
            .find_account(id)
            .await?
            .ok_or_else(|| DeliveryError::failed("the account no longer exists"))
    }
}

/// An operator event's payload: MG's webhook body as received.
fn read_operator_event(payload: &str) -> Result<MgWebhook, DeliveryError> {
    MgWebhook::parse(payload.as_bytes())
        .map_err(|e| DeliveryError::failed(format!("stored webhook unreadable: {e}")))
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
