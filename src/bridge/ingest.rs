//! Accepting webhooks durably and fast: a webhook is answered only after its job is committed.
//! One transaction per request would cap ingest at the database's commits per second (an fsync
//! each), so handlers' jobs are group-committed (`group_commit`). After each commit the workers
//! are woken.
//!
//! What a job is (its direction, lane, dedupe key and payload) is decided here, for every
//! messenger alike: the webhook handlers only authenticate and parse.
//! - A customer's update (`accept_customer_update`) goes in its chat's lane to MG. Its payload
//!   is our channel id and the update as its messenger stored it (`read_customer_update`).
//! - An operator's event (`accept_operator_event`) goes in the MG chat's lane to the
//!   messenger; its payload is MG's webhook body as received.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio_util::task::TaskTracker;

use crate::bridge::delivery::DeliveryError;
use crate::bridge::group_commit::GroupCommit;
use crate::bridge::schedule::Wake;
use crate::domain::{AccountId, Direction, MessengerKind};
use crate::mg::MgWebhook;
use crate::store::{ChannelId, NewJob, Store};

/// Jobs waiting for the writer; past this, handlers wait (backpressure, not memory growth).
const PENDING: usize = 16_384;
/// Jobs per transaction at most.
const BATCH: usize = 1_024;

#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    #[error("the queue could not store the job")]
    Store,
    #[error("the service is shutting down")]
    Closed,
    #[error("the update could not be stored: {0}")]
    Unstorable(String),
}

/// A customer's update, as a messenger's webhook accepted it on one of our channels.
pub struct CustomerUpdate<'a> {
    pub account: &'a AccountId,
    pub channel: &'a ChannelId,
    pub messenger: MessengerKind,
    /// MG's id of the channel: the operators' replies into the chat name it.
    pub mg_channel_id: i64,
    /// The chat's id as MG knows it (`external_chat_id`): one chat's updates go in order, and
    /// the operators' replies into the same chat are warmed by it.
    pub chat: &'a str,
    /// The messenger's id of the update: a repeated delivery of it is dropped.
    pub update_id: &'a str,
    /// The update as the messenger wants it back at delivery.
    pub update: Box<RawValue>,
}

/// An event of MG's webhook that acts on a chat (`MgWebhook::target_chat`).
pub struct OperatorEvent<'a> {
    pub account: &'a AccountId,
    pub hook: &'a MgWebhook,
    pub mg_channel_id: i64,
    pub chat: &'a str,
    /// The webhook's body, as received.
    pub body: &'a [u8],
}

#[derive(Serialize, Deserialize)]
struct ToMgPayload<'a> {
    channel_id: &'a str,
    #[serde(borrow)]
    update: &'a RawValue,
}

/// The lane of a chat's customer updates. "tg" is what the Telegram-only versions named the
/// to-MG direction; kept, so jobs stored before and after an upgrade share their lane.
fn customer_lane(channel: &ChannelId, chat: &str) -> String {
    format!("tg:{}:{chat}", channel.as_str())
}

/// The chat of a customer's lane (`customer_lane`), if the lane is one of `channel`'s.
pub fn chat_of_customer_lane<'a>(lane: &'a str, channel: &ChannelId) -> Option<&'a str> {
    lane.strip_prefix("tg:")?
        .strip_prefix(channel.as_str())?
        .strip_prefix(':')
}

/// The lane of an MG chat's operator events.
fn operator_lane(mg_channel_id: i64, chat: &str) -> String {
    format!("mg:{mg_channel_id}:{chat}")
}

/// The payload of a customer update's job (read back by [`read_customer_update`]).
pub fn customer_update_payload(
    channel: &ChannelId,
    update: &RawValue,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&ToMgPayload {
        channel_id: channel.as_str(),
        update,
    })
}

/// Reads a customer update's payload back: the channel it came in on, and the update as its
/// messenger stored it (payloads of older versions read the same: the shape is unchanged).
pub fn read_customer_update(payload: &str) -> Result<(ChannelId, &RawValue), DeliveryError> {
    let unreadable =
        |what: &str| DeliveryError::failed(format!("stored update unreadable: {what}"));
    let stored: ToMgPayload<'_> =
        serde_json::from_str(payload).map_err(|e| unreadable(&e.to_string()))?;
    let channel_id = ChannelId::parse(stored.channel_id).ok_or_else(|| unreadable("channel id"))?;
    Ok((channel_id, stored.update))
}

/// The handlers' side: `accept(job)` returns once the job is durable.
#[derive(Clone, Debug)]
pub struct Ingest {
    writer: GroupCommit<NewJob, Result<(), IngestError>>,
}

impl Ingest {
    /// Starts the writer task. `wake` is told after every commit.
    pub fn start(store: Store, wake: Arc<Wake>, tasks: &TaskTracker) -> Self {
        let writer = GroupCommit::start(tasks, PENDING, BATCH, move |jobs: Vec<NewJob>| {
            let (store, wake) = (store.clone(), wake.clone());
            async move {
                let outcome = match store.enqueue_jobs(&jobs).await {
                    Ok(_) => {
                        wake.new_jobs();
                        Ok(())
                    }
                    Err(e) => {
                        tracing::error!(error = %crate::telemetry::chain(&e), jobs = jobs.len(), "storing webhooks failed: answering 503 so their senders repeat them");
                        Err(IngestError::Store)
                    }
                };
                vec![outcome; jobs.len()]
            }
        });
        Self { writer }
    }

    /// Stores a customer's update (or recognises it as a repeat) for delivery to MG.
    pub async fn accept_customer_update(
        &self,
        update: CustomerUpdate<'_>,
    ) -> Result<(), IngestError> {
        let payload = customer_update_payload(update.channel, &update.update)
            .map_err(|e| IngestError::Unstorable(e.to_string()))?;
        self.accept(NewJob {
            account_id: update.account.clone(),
            direction: Direction::ToMg,
            lane: customer_lane(update.channel, update.chat),
            // Operators' replies to this chat go before the account's cold sends for a while.
            warms: Some(operator_lane(update.mg_channel_id, update.chat)),
            dedupe_key: Some(format!(
                "{}:{}:{}",
                update.messenger.as_str(),
                update.channel.as_str(),
                update.update_id
            )),
            payload,
        })
        .await
    }

    /// Stores an operator's event (or recognises a repeated message) for the messenger.
    pub async fn accept_operator_event(&self, event: OperatorEvent<'_>) -> Result<(), IngestError> {
        // MG may repeat a webhook (UNVERIFIED); an operator's message is one job per MG id.
        let dedupe_key = match event.hook {
            MgWebhook::MessageSent(sent) => Some(format!(
                "mg:{}:message_sent:{}",
                event.account.as_str(),
                sent.id
            )),
            _ => None,
        };
        self.accept(NewJob {
            account_id: event.account.clone(),
            direction: Direction::ToMessenger,
            lane: operator_lane(event.mg_channel_id, event.chat),
            dedupe_key,
            warms: None,
            payload: String::from_utf8_lossy(event.body).into_owned(),
        })
        .await
    }

    /// Stores the job (or recognises it as a duplicate) and returns when that is committed.
    async fn accept(&self, job: NewJob) -> Result<(), IngestError> {
        self.writer
            .submit(job)
            .await
            .unwrap_or(Err(IngestError::Closed))
    }
}
