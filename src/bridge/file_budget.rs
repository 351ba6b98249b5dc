//! How much memory operators' attachments may take at once. A file from MG is held whole
//! between its download and its upload to the messenger (a multipart body needs its length),
//! so without a bound `queue.concurrency` deliveries of 10-file albums of 50 MB each could ask
//! for tens of gigabytes. Each delivery reserves what its files will take before downloading
//! any of them, all in one acquisition: a delivery never holds part of the budget while
//! waiting for the rest, so two albums cannot deadlock. A reservation larger than the whole
//! budget takes the whole budget, which lets it run alone rather than never. A queue delivery
//! that has to wait gives its worker slot back meanwhile (`Delivery::reserve_files`), so
//! deliveries without files are not held up behind it.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

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
        let total = megabytes
            .max(1)
            .saturating_mul(1024)
            .min(u64::from(u32::MAX)) as u32;
        Self {
            permits: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// Waits until `bytes` (clamped to the budget) are free, then holds them.
    pub async fn reserve(&self, bytes: u64) -> FileReservation {
        let units = self.units(bytes);
        let permit = self
            .permits
            .clone()
            .acquire_many_owned(units)
            .await
            .expect("the file budget's semaphore is never closed");
        Self::reservation(permit, units)
    }

    /// The same without waiting: `None` while the memory is taken.
    pub fn try_reserve(&self, bytes: u64) -> Option<FileReservation> {
        let units = self.units(bytes);
        match self.permits.clone().try_acquire_many_owned(units) {
            Ok(permit) => Some(Self::reservation(permit, units)),
            Err(TryAcquireError::NoPermits) => None,
            Err(TryAcquireError::Closed) => {
                unreachable!("the file budget's semaphore is never closed")
            }
        }
    }

    fn units(&self, bytes: u64) -> u32 {
        bytes.div_ceil(UNIT).clamp(1, u64::from(self.total)) as u32
    }

    fn reservation(permit: OwnedSemaphorePermit, units: u32) -> FileReservation {
        FileReservation {
            _permit: permit,
            bytes: u64::from(units) * UNIT,
        }
    }

    /// Bytes reserved now (`/metrics`).
    pub fn reserved(&self) -> u64 {
        self.total() - self.available()
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
    async fn trying_takes_only_free_memory_and_gives_it_back_on_drop() {
        let budget = FileBudget::new(1);
        let held = budget.try_reserve(700 * 1024).expect("the budget is free");
        assert_eq!(budget.reserved(), 700 * 1024);
        assert!(budget.try_reserve(400 * 1024).is_none(), "1.1 MB of 1 MB");
        assert_eq!(budget.reserved(), 700 * 1024, "a refused try holds nothing");
        drop(held);
        assert_eq!(budget.reserved(), 0);
        let all = budget.try_reserve(5 * MB).expect("clamped to the budget");
        assert_eq!(all.bytes(), MB);
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
