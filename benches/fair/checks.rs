//! The broken-run checks: every webhook accepted, nothing delivered twice, order per chat,
//! no failed job, job rows = accepted.

use std::collections::{HashMap, HashSet};

use axum::http::Method;
use sqlx::Connection;

use crate::fake_mg::FakeMg;
use crate::setup::job_states;
use crate::traffic::Answers;

// ---- Checks ----------------------------------------------------------------------------------

/// The run's broken-run checks, as text, and whether all passed.
#[derive(Default)]
pub(crate) struct Checks {
    failed: Vec<String>,
    passed: Vec<String>,
}

impl Checks {
    pub(crate) fn check(&mut self, ok: bool, passed: impl Into<String>, failed: impl Into<String>) {
        if ok {
            self.passed.push(passed.into());
        } else {
            self.failed.push(format!("FAILED: {}", failed.into()));
        }
    }

    pub(crate) fn ok(&self) -> bool {
        self.failed.is_empty()
    }

    pub(crate) fn cell(&self) -> String {
        if self.failed.is_empty() {
            self.passed.join("; ")
        } else {
            self.failed.join("; ")
        }
    }

    pub(crate) fn answers(&mut self, what: &str, answers: &Answers) {
        self.check(
            answers.all_ok(),
            format!("{} {what} accepted", answers.ok),
            format!(
                "{} of {} {what} accepted; e.g. {:?}",
                answers.ok, answers.posted, answers.errors
            ),
        );
    }

    /// No job failed, and the job table holds what was accepted.
    pub(crate) async fn jobs(&mut self, url: &str, accepted: usize) -> HashMap<String, i64> {
        let states = job_states(url).await;
        let total: i64 = states.values().sum();
        let failed = states.get("failed").copied().unwrap_or(0);
        self.check(
            failed == 0 && total == accepted as i64,
            format!("job rows {total} = accepted, 0 failed"),
            format!("job rows {total} (accepted {accepted}), {failed} failed"),
        );
        states
    }
}

/// `POST /messages` the fake MG answered 400: a message sent again with the external id of one
/// it already has (a redelivery, which MG refuses as a duplicate), or a malformed one.
pub(crate) fn refused_400(mg: &FakeMg) -> usize {
    let s = mg.state.lock().unwrap();
    s.requests
        .iter()
        .filter(|r| r.method == Method::POST && r.path == "/messages" && r.status == 400)
        .count()
}

/// Customers' messages the fake MG stored more than once (by text).
pub(crate) fn stored_twice(mg: &FakeMg) -> usize {
    let s = mg.state.lock().unwrap();
    let mut texts = HashSet::new();
    s.messages
        .iter()
        .filter_map(|m| m.text.as_deref())
        .filter(|t| !texts.insert(*t))
        .count()
}

/// The service's acceptance order: each lane's Telegram update ids, in job order (the
/// dedupe key of a Telegram job is `telegram:{channel}:{update_id}`). Customers' jobs are
/// kind 'to_mg' since the messenger seam, 'telegram' in builds before it (`MGBRIDGE_BENCH_BIN`).
pub(crate) async fn lanes(url: &str) -> Vec<Vec<i64>> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT lane, dedupe_key FROM job WHERE kind IN ('to_mg', 'telegram') ORDER BY job_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;
    let mut lanes: HashMap<String, Vec<i64>> = HashMap::new();
    for (lane, key) in rows {
        if let Some(id) = key
            .as_deref()
            .and_then(|k| k.rsplit(':').next()?.parse().ok())
        {
            lanes.entry(lane).or_default().push(id);
        }
    }
    lanes.into_values().collect()
}

/// Every lane delivered in acceptance order. `delivered(update_id)` is `None` for updates this
/// check leaves out, `Some(None)` for one not delivered, `Some(Some(p))` for one delivered at
/// position `p` (arrival time, or index in the receiver's record): along each lane the
/// delivered come first, in increasing position.
pub(crate) fn lanes_in_order<P: PartialOrd + Copy>(
    lanes: &[Vec<i64>],
    delivered: impl Fn(i64) -> Option<Option<P>>,
) -> bool {
    lanes.iter().all(|lane| {
        let positions: Vec<Option<P>> = lane.iter().filter_map(|id| delivered(*id)).collect();
        let prefix: Vec<P> = positions.iter().map_while(|p| *p).collect();
        prefix.len() == positions.iter().filter(|p| p.is_some()).count()
            && prefix.windows(2).all(|w| w[0] <= w[1])
    })
}

/// Where each message the fake MG stored is in its record, by the update id in its external id
/// (`{chat}:{message_id}`; the bench's message ids are the update ids).
pub(crate) fn stored_positions(mg: &FakeMg) -> HashMap<i64, usize> {
    let s = mg.state.lock().unwrap();
    s.messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let id = m.external_id.as_deref()?.rsplit(':').next()?.parse().ok()?;
            Some((id, i))
        })
        .collect()
}
