//! How a worker hands out its free delivery slots: round robin over the accounts with due work,
//! each capped at `queue.account_concurrency` slots in flight (the rules and why they are fair
//! are in `store::queue`). Pure bookkeeping, so it is tested without a database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

use crate::domain::AccountId;

/// Slots in flight per account, and where the next round starts.
#[derive(Debug)]
pub struct RoundRobin {
    per_account: usize,
    in_flight: HashMap<AccountId, usize>,
    /// The account served last: the next round starts after it.
    last: Option<AccountId>,
}

impl RoundRobin {
    pub fn new(per_account: usize) -> Self {
        Self {
            per_account: per_account.max(1),
            in_flight: HashMap::new(),
            last: None,
        }
    }

    /// Shares `free` slots among the `due` accounts: one slot each per pass, starting after the
    /// account served last, until the slots run out or every account is at its cap. Returns
    /// `(account, slots)` for the accounts that get any.
    pub fn share(&mut self, mut due: Vec<AccountId>, mut free: usize) -> Vec<(AccountId, usize)> {
        due.sort_unstable();
        due.dedup();
        if let Some(last) = &self.last {
            let start = due.partition_point(|a| a <= last);
            due.rotate_left(start);
        }
        let mut given = vec![0usize; due.len()];
        let mut progress = true;
        while free > 0 && progress {
            progress = false;
            for (i, account) in due.iter().enumerate() {
                if free == 0 {
                    break;
                }
                let busy = self.in_flight.get(account).copied().unwrap_or(0);
                if busy + given[i] < self.per_account {
                    given[i] += 1;
                    free -= 1;
                    progress = true;
                    self.last = Some(account.clone());
                }
            }
        }
        due.into_iter().zip(given).filter(|(_, n)| *n > 0).collect()
    }

    /// A delivery of `account` started.
    pub fn started(&mut self, account: &AccountId) {
        *self.in_flight.entry(account.clone()).or_insert(0) += 1;
    }

    /// A delivery of `account` ended.
    pub fn ended(&mut self, account: &AccountId) {
        if let Some(n) = self.in_flight.get_mut(account) {
            *n -= 1;
            if *n == 0 {
                self.in_flight.remove(account);
            }
        }
    }

    /// Deliveries in flight, all accounts.
    pub fn in_flight(&self) -> usize {
        self.in_flight.values().sum()
    }
}

/// Wakes the worker: after a commit of new jobs (which may belong to an account this replica
/// does not lease yet, so the worker takes leases before it claims) and after a delivery ends.
#[derive(Debug, Default)]
pub struct Wake {
    notify: Notify,
    new_jobs: AtomicBool,
}

impl Wake {
    pub fn new_jobs(&self) {
        self.new_jobs.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    pub fn slot_free(&self) {
        self.notify.notify_one();
    }

    /// Whether jobs were committed since the last call.
    pub fn take_new_jobs(&self) -> bool {
        self.new_jobs.swap(false, Ordering::AcqRel)
    }

    pub async fn notified(&self) {
        self.notify.notified().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<AccountId> {
        names
            .iter()
            .map(|n| AccountId::from_stored((*n).to_owned()))
            .collect()
    }

    fn names(shares: &[(AccountId, usize)]) -> Vec<(String, usize)> {
        shares
            .iter()
            .map(|(a, n)| (a.as_str().to_owned(), *n))
            .collect()
    }

    #[test]
    fn slots_go_one_account_at_a_time_and_the_next_round_starts_after_the_last() {
        let mut rr = RoundRobin::new(8);
        let first = rr.share(ids(&["a", "b", "c"]), 2);
        assert_eq!(names(&first), [("a".into(), 1), ("b".into(), 1)]);
        let second = rr.share(ids(&["a", "b", "c"]), 2);
        assert_eq!(names(&second), [("c".into(), 1), ("a".into(), 1)]);
    }

    #[test]
    fn a_busy_account_gets_no_more_than_its_cap_and_the_rest_go_to_others() {
        let mut rr = RoundRobin::new(3);
        let mailing = ids(&["mailer"]);
        for _ in 0..3 {
            rr.started(&mailing[0]);
        }
        assert!(rr.share(mailing.clone(), 60).is_empty());
        let shares = rr.share(ids(&["mailer", "quiet"]), 60);
        assert_eq!(names(&shares), [("quiet".into(), 3)]);
        rr.ended(&mailing[0]);
        assert_eq!(names(&rr.share(mailing, 60)), [("mailer".into(), 1)]);
        assert_eq!(rr.in_flight(), 2);
    }

    #[test]
    fn many_accounts_and_few_slots_are_served_in_turn() {
        let mut rr = RoundRobin::new(8);
        let all = ids(&["a", "b", "c", "d", "e"]);
        let mut served = Vec::new();
        for _ in 0..5 {
            for (account, n) in rr.share(all.clone(), 1) {
                assert_eq!(n, 1);
                served.push(account.as_str().to_owned());
            }
        }
        assert_eq!(served, ["a", "b", "c", "d", "e"]);
    }
}
