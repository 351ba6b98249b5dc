//! How much memory operators' attachments may take at once. A file from MG is held whole
//! between its download and its upload to the messenger (a multipart body needs its length),
//! so without a bound `queue.concurrency` deliveries of 10-file albums of 50 MB each could ask
//! for tens of gigabytes. Each delivery reserves what its files will take before downloading
//! any of them, all in one acquisition: a delivery never holds part of the budget while
//! waiting for the rest, so two albums cannot deadlock. A reservation larger than the whole
//! budget takes the whole budget, which lets it run alone rather than never.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The semaphore counts KiB: a 10 × 50 MB album is 512,000 permits, well inside `u32`.
const UNIT: u64 = 1024;

#[derive(Debug, Clone)]
pub struct FileBudget {
    permits: Arc<Semaphore>,
    total: u32,
}

/// Memory reserved for one delivery's files; given back when dropped.
#[derive(Debug)]
pub struct FileReservation {
    _permit: OwnedSemaphorePermit,
    bytes: u64,
}

impl FileReservation {
    /// What was reserved (after clamping to the budget).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl FileBudget {
    /// `megabytes` from `queue.file_memory_mb`; at least 1 MiB.
    pub fn new(megabytes: u64) -> Self {
        let total = (megabytes.max(1) * 1024).min(u64::from(u32::MAX)) as u32;
        Self {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until `bytes` (clamped to the budget) are free, then holds them.
    pub async fn reserve(&self, bytes: u64) -> FileReservation {
        let units = bytes.div_ceil(UNIT).clamp(1, u64::from(self.total)) as u32;
        let permit = self
            .permits
            .clone()
            .acquire_many_owned(units)
            .await
            .expect("the file budget's semaphore is never closed");
        FileReservation {
            _permit: permit,
            bytes: u64::from(units) * UNIT,
        }
    }

    /// Bytes free now (for metrics and tests).
    pub fn available(&self) -> u64 {
        self.permits.available_permits() as u64 * UNIT
    }

    pub fn total(&self) -> u64 {
        u64::from(self.total) * UNIT
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const MB: u64 = 1024 * 1024;

    #[tokio::test]
    async fn a_second_delivery_waits_until_the_first_gives_its_memory_back() {
        let budget = FileBudget::new(10);
        let first = budget.reserve(6 * MB).await;
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(6 * MB).await.bytes() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "12 MB would exceed a 10 MB budget");
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("memory given back wakes the waiter")
            .unwrap();
        assert_eq!(second, 6 * MB);
    }

    #[tokio::test]
    async fn more_than_the_budget_runs_alone_instead_of_never() {
        let budget = FileBudget::new(10);
        let album = tokio::time::timeout(Duration::from_secs(1), budget.reserve(500 * MB))
            .await
            .expect("an album larger than the budget still runs");
        assert_eq!(album.bytes(), 10 * MB);
        assert_eq!(budget.available(), 0);
        drop(album);
        assert_eq!(budget.available(), budget.total());
    }

    #[tokio::test]
    async fn a_waiting_large_album_is_not_overtaken_forever_by_small_files() {
        // tokio's semaphore is fair: a queued large request is served before later small ones.
        let budget = FileBudget::new(10);
        let small = budget.reserve(MB).await;
        let large = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(10 * MB).await.bytes() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let later_small = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(MB).await.bytes() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !later_small.is_finished(),
            "the later small file queues behind the album"
        );
        drop(small);
        assert_eq!(large.await.unwrap(), 10 * MB);
        assert_eq!(later_small.await.unwrap(), MB);
    }
}
