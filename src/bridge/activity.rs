//! What the CRM's `activity` callback does once it is parsed (`web::activity`): the account is
//! switched on or off, frozen or unfrozen, or moved to a new address; traffic that waited while
//! it was off flows again, and MG's channels are brought in line.

use std::sync::Arc;

use tokio_util::task::TaskTracker;

use crate::bridge::channels::Channels;
use crate::bridge::schedule::Wake;
use crate::domain::{Activity, ClientId, CrmUrl};
use crate::store::{Store, StoreError};

pub struct AccountActivity {
    pub store: Store,
    pub channels: Arc<Channels>,
    /// The delivery worker's wake-up: an enabled account's jobs are claimable again.
    pub wake: Arc<Wake>,
    /// Where the reconcile runs, so shutdown waits for it.
    pub tasks: TaskTracker,
}

impl AccountActivity {
    /// Records the account's new state; `false` when no account has this clientId.
    pub async fn record(
        &self,
        client_id: &ClientId,
        activity: Activity,
        new_url: Option<&CrmUrl>,
    ) -> Result<bool, StoreError> {
        if !self
            .store
            .record_activity(client_id, activity, new_url)
            .await?
        {
            return Ok(false);
        }
        tracing::info!(
            active = activity.active,
            freeze = activity.freeze,
            moved = new_url.is_some(),
            "CRM activity recorded"
        );
        if activity.is_enabled() {
            // Traffic that waited while the account was off flows again now.
            self.wake.new_jobs();
            // Re-activated: bring MG's channels in line, without making the CRM wait.
            let (store, channels, client_id) =
                (self.store.clone(), self.channels.clone(), client_id.clone());
            self.tasks.spawn(async move {
                if let Ok(Some(mut account)) = store.find_account_by_client_id(&client_id).await {
                    channels.reconcile_account(&mut account).await;
                }
            });
        }
        Ok(true)
    }
}
