//! Draining a backlog promptly once a peer is back. While MG (or Telegram) is down, every lane
//! that tries it backs off, each on its own full-jitter schedule, which grows to
//! `queue.retry_max_ms`: after a minute's outage the last waiting lane could sit idle for tens
//! of seconds after the peer recovered. So the worker notes each lane it backs off, per account
//! and direction, and on that account's first success in the same direction makes those lanes
//! due at once (`Store::hasten_lanes`).
//!
//! Only backoffs are noted, never a wait the peer asked for (Telegram's `retry_after`): those
//! keep their time. MG's 429s end up here only after the MG client's own retries, and a
//! hastened lane still passes the token's limiter, which holds MG's `Retry-After`.
//!
//! In memory, per process: an account's lanes are worked by the one replica that leases it,
//! and after a restart the lanes simply keep their backoff.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::domain::AccountId;
use crate::domain::Direction;

/// Lanes remembered per account and direction at most (a bound on memory, not on
/// correctness: a lane left out keeps its backoff).
const MAX_NOTED: usize = 10_000;

/// A lane and its head job.
type LaneHead = (String, i64);

/// Lanes backing off (each once, with its head job), by the account and direction whose
/// success would make them due.
#[derive(Default)]
pub struct Recovery {
    waiting: Mutex<HashMap<(AccountId, Direction), BTreeMap<String, i64>>>,
}

impl Recovery {
    /// The head `job_id` of `lane` backs off after a failure towards the peer.
    pub fn backed_off(&self, account: &AccountId, direction: Direction, lane: &str, job_id: i64) {
        let mut waiting = self.waiting.lock().unwrap();
        let lanes = waiting.entry((account.clone(), direction)).or_default();
        // A lane backing off again is noted once: its head is the same job.
        if lanes.len() < MAX_NOTED || lanes.contains_key(lane) {
            lanes.insert(lane.to_owned(), job_id);
        }
    }

    /// A delivery of `account` in `direction` went through: the lanes it noted, to be
    /// made due now, in lane order (none when nothing was backing off, the usual case).
    pub fn succeeded(&self, account: &AccountId, direction: Direction) -> Vec<LaneHead> {
        let mut waiting = self.waiting.lock().unwrap();
        if waiting.is_empty() {
            return Vec::new();
        }
        waiting
            .remove(&(account.clone(), direction))
            .map(|lanes| lanes.into_iter().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_releases_only_its_own_account_and_direction() {
        let recovery = Recovery::default();
        let (a, b) = (
            AccountId::from_stored("a".into()),
            AccountId::from_stored("b".into()),
        );
        recovery.backed_off(&a, Direction::ToMg, "tg:1", 1);
        recovery.backed_off(&a, Direction::ToMg, "tg:2", 2);
        // Backing off again notes the lane once.
        recovery.backed_off(&a, Direction::ToMg, "tg:1", 1);
        recovery.backed_off(&a, Direction::ToMessenger, "mg:1", 3);
        recovery.backed_off(&b, Direction::ToMg, "tg:3", 4);
        assert_eq!(
            recovery.succeeded(&a, Direction::ToMg),
            [("tg:1".to_owned(), 1), ("tg:2".to_owned(), 2)]
        );
        // Released once: the next success finds nothing left.
        assert!(recovery.succeeded(&a, Direction::ToMg).is_empty());
        assert_eq!(recovery.succeeded(&b, Direction::ToMg).len(), 1);
        assert_eq!(recovery.succeeded(&a, Direction::ToMessenger).len(), 1);
    }
}
