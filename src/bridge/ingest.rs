//! Accepting webhooks durably and fast: a webhook is answered only after its job is committed.
//! One transaction per request would cap ingest at the database's commits per second (an fsync
//! each), so handlers' jobs are group-committed (`group_commit`). After each commit the workers
//! are woken.

use std::sync::Arc;

use crate::bridge::group_commit::GroupCommit;
use crate::bridge::schedule::Wake;
use crate::store::{NewJob, Store};

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
}

/// The handlers' side: `accept(job)` returns once the job is durable.
#[derive(Clone, Debug)]
pub struct Ingest {
    writer: GroupCommit<NewJob, Result<(), IngestError>>,
}

impl Ingest {
    /// Starts the writer task. `wake` is told after every commit.
    pub fn start(store: Store, wake: Arc<Wake>) -> Self {
        let writer = GroupCommit::start(PENDING, BATCH, move |jobs: Vec<NewJob>| {
            let (store, wake) = (store.clone(), wake.clone());
            async move {
                let outcome = match store.enqueue_jobs(&jobs).await {
                    Ok(_) => {
                        wake.new_jobs();
                        Ok(())
                    }
                    Err(e) => {
                        tracing::error!(error = %e, jobs = jobs.len(), "storing webhooks failed: answering 503 so their senders repeat them");
                        Err(IngestError::Store)
                    }
                };
                vec![outcome; jobs.len()]
            }
        });
        Self { writer }
    }

    /// Stores the job (or recognises it as a duplicate) and returns when that is committed.
    pub async fn accept(&self, job: NewJob) -> Result<(), IngestError> {
        self.writer
            .submit(job)
            .await
            .unwrap_or(Err(IngestError::Closed))
    }
}
