//! Group commit: many tasks' small writes become one transaction. Callers hand their item to one
//! writer task, which commits whatever has arrived meanwhile together and then answers each
//! caller. Under load the batches grow and the commits (an fsync each) stay few; when idle a
//! batch is one item and adds no delay. Used for accepting webhooks (`ingest`) and for
//! recording how deliveries ended (`worker`).

use std::future::Future;
use tokio_util::task::TaskTracker;

use tokio::sync::{mpsc, oneshot};

/// The callers' side. Cloning is cheap.
pub struct GroupCommit<T, R> {
    to_writer: mpsc::Sender<(T, oneshot::Sender<R>)>,
}

impl<T, R> Clone for GroupCommit<T, R> {
    fn clone(&self) -> Self {
        Self {
            to_writer: self.to_writer.clone(),
        }
    }
}

impl<T, R> std::fmt::Debug for GroupCommit<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// Starts the writer. `commit` stores a batch (at most `batch` items) and returns one answer
    /// per item, in order. Past `pending` waiting items, callers wait (backpressure).
    /// The writer runs on `tasks`, so shutdown waits for its last commit.
    pub fn start<F, Fut>(tasks: &TaskTracker, pending: usize, batch: usize, mut commit: F) -> Self
    where
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<R>> + Send,
    {
        let (to_writer, mut from_callers) = mpsc::channel::<(T, oneshot::Sender<R>)>(pending);
        tasks.spawn(async move {
            let mut waiting = Vec::with_capacity(batch);
            while from_callers.recv_many(&mut waiting, batch).await > 0 {
                let (items, replies): (Vec<T>, Vec<_>) = waiting.drain(..).unzip();
                let answers = commit(items).await;
                debug_assert_eq!(answers.len(), replies.len());
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // A caller that gave up no longer listens; its item is stored anyway.
                    let _ = reply.send(answer);
                }
            }
        });
        Self { to_writer }
    }

    /// Hands `item` to the writer without waiting for it to be stored; false (and the item
    /// dropped) when the writer is full or gone. For records nobody waits on.
    pub fn offer(&self, item: T) -> bool {
        let (reply, _) = oneshot::channel();
        self.to_writer.try_send((item, reply)).is_ok()
    }

    /// Hands `item` to the writer and waits for its answer; `None` when the writer is gone
    /// (shutting down).
    pub async fn submit(&self, item: T) -> Option<R> {
        let (reply, answer) = oneshot::channel();
        self.to_writer.send((item, reply)).await.ok()?;
        answer.await.ok()
    }
}
