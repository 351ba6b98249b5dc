//! Response times without message texts: when a customer's message reaches MG, its chat starts
//! waiting (unless it already was); when an operator's message reaches the messenger, a waiting
//! chat's wait becomes a sample (time to first reply). The courier reports both, at the one
//! place every messenger's deliveries pass (`courier`), and does not wait: the events go to a
//! writer that stores whatever has arrived in one transaction (`group_commit`), so a delivery
//! costs one channel send, and a burst of them one commit. The settings page reads the samples
//! of the last 7 days (`web::bot_health`); the monitor prunes older ones.
//!
//! The times are the deliveries': a wait starts when the customer's message is in MG (the
//! operators can see it) and ends when the operator's reply is in the messenger (the customer
//! can), so it is what the customer waited for an answer once the CRM had the question.

use tokio_util::task::TaskTracker;

use crate::bridge::group_commit::GroupCommit;
use crate::store::{ChannelId, ChatEvent, Store};

/// Events waiting for the writer at most (past it they are dropped: figures, not deliveries);
/// and per commit.
const PENDING: usize = 8_192;
const BATCH: usize = 512;

/// How long samples and waits are kept: the page's window.
pub const WINDOW_MS: i64 = 7 * 24 * 3_600_000;

#[derive(Clone, Debug)]
pub struct ChatClock {
    writer: GroupCommit<ChatEvent, ()>,
}

impl ChatClock {
    pub fn start(store: Store, tasks: &TaskTracker) -> Self {
        let writer = GroupCommit::start(tasks, PENDING, BATCH, move |events: Vec<ChatEvent>| {
            let store = store.clone();
            async move {
                if let Err(e) = store.record_chat_events(&events).await {
                    tracing::warn!(error = %crate::telemetry::chain(&e), events = events.len(), "recording response times failed; these are not counted");
                }
                vec![(); events.len()]
            }
        });
        Self { writer }
    }

    /// A customer's message reached MG at `at` (unix ms).
    pub fn customer_wrote(&self, channel: &ChannelId, chat: &str, at: i64) {
        self.offer(ChatEvent::CustomerWrote {
            channel: channel.clone(),
            chat: chat.to_owned(),
            at,
        });
    }

    /// An operator's message reached the customer at `at`.
    pub fn operator_replied(&self, channel: &ChannelId, chat: &str, at: i64) {
        self.offer(ChatEvent::OperatorReplied {
            channel: channel.clone(),
            chat: chat.to_owned(),
            at,
        });
    }

    fn offer(&self, event: ChatEvent) {
        if !self.writer.offer(event) {
            tracing::debug!("response-time writer busy: an event is not counted");
        }
    }
}
