//! Accepting webhooks durably and fast: group commit.
//!
//! A webhook is answered only after its job is committed. One transaction per request would
//! cap ingest at the database's commits per second (an fsync each), so handlers hand their job
//! to one writer task, which commits whatever has arrived meanwhile in one transaction and then
//! answers every handler of that batch. Under load the batches grow and the commits stay few;
//! when idle a batch is one job and adds no delay. After each commit the workers are woken.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Notify};

use crate::store::{NewJob, Store};

/// Jobs waiting for the writer; past this, handlers wait (backpressure, not memory growth).
const PENDING: usize = 16_384;
/// Jobs per transaction at most.
const BATCH: usize = 1_024;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("the queue could not store the job")]
    Store,
    #[error("the service is shutting down")]
    Closed,
}

/// The handlers' side: `accept(job)` returns once the job is durable.
#[derive(Clone, Debug)]
pub struct Ingest {
    to_writer: mpsc::Sender<(NewJob, oneshot::Sender<Result<(), IngestError>>)>,
}

impl Ingest {
    /// Starts the writer task. `wake` is notified after every commit.
    pub fn start(store: Store, wake: Arc<Notify>) -> Self {
        let (to_writer, from_handlers) = mpsc::channel(PENDING);
        tokio::spawn(write_batches(store, from_handlers, wake));
        Self { to_writer }
    }

    /// Stores the job (or recognises it as a duplicate) and returns when that is committed.
    pub async fn accept(&self, job: NewJob) -> Result<(), IngestError> {
        let (reply, answer) = oneshot::channel();
        self.to_writer
            .send((job, reply))
            .await
            .map_err(|_| IngestError::Closed)?;
        answer.await.map_err(|_| IngestError::Closed)?
    }
}

async fn write_batches(
    store: Store,
    mut from_handlers: mpsc::Receiver<(NewJob, oneshot::Sender<Result<(), IngestError>>)>,
    wake: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while from_handlers.recv_many(&mut batch, BATCH).await > 0 {
        let (jobs, replies): (Vec<NewJob>, Vec<_>) = batch.drain(..).unzip();
        let outcome = store.enqueue_jobs(&jobs).await;
        if let Err(e) = &outcome {
            tracing::error!(error = %e, jobs = jobs.len(), "storing webhooks failed: answering 503 so their senders repeat them");
        }
        for reply in replies {
            // A handler that gave up (client gone) no longer listens; the job is stored anyway.
            let _ = reply.send(outcome.as_ref().map(|_| ()).map_err(|_| IngestError::Store));
        }
        if outcome.is_ok() {
            wake.notify_one();
        }
    }
}
