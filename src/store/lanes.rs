//! The `lane` and `account_queue` rows the scheduler reads (see `queue.rs` for the rules): each
//! change to a lane's head, and the lower bound on when an account next has due work. Every
//! function here runs inside the caller's transaction, beside the job rows it follows.

use std::collections::BTreeMap;

use sqlx::{Any, Row, Transaction};

use super::{Backend, Store, StoreError};
use crate::domain::{AccountId, Direction};

/// Lane classes, in the order an account's lanes are served.
pub const CLASS_TO_MG: i64 = 0;
pub const CLASS_WARM_REPLY: i64 = 1;
pub const CLASS_COLD_SEND: i64 = 2;
/// Rows per multi-row statement.
const CHUNK: usize = 200;

/// What one enqueue batch does to one lane: a new job (the smallest new id is the head if the
/// lane was empty) and/or a customer's message that makes it warm.
#[derive(Debug)]
pub(super) struct LaneTouch {
    account_id: AccountId,
    to_mg: bool,
    head: Option<i64>,
    customer_at: i64,
}

impl LaneTouch {
    pub(super) fn new(account_id: &AccountId, direction: Direction) -> Self {
        Self {
            account_id: account_id.clone(),
            to_mg: direction == Direction::ToMg,
            head: None,
            customer_at: 0,
        }
    }

    pub(super) fn head(&mut self, job_id: i64) {
        self.head = Some(self.head.map_or(job_id, |h| h.min(job_id)));
    }

    pub(super) fn warm(&mut self, now: i64) {
        self.customer_at = now;
    }
}

/// Placeholders in order: `$1, $2, …` on Postgres, `?` on SQLite, which looks numbered
/// parameters up by name at a cost that grows with their number (measured: 6 % of the
/// service's CPU at 32-row batches), while `?` binds in order.
pub(super) struct Params {
    backend: Backend,
    next: usize,
}

impl Params {
    pub(super) fn new(backend: Backend) -> Self {
        Self { backend, next: 0 }
    }

    pub(super) fn one(&mut self) -> String {
        self.next += 1;
        match self.backend {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${}", self.next),
        }
    }

    /// `(?, ?, …)` with `columns` placeholders.
    pub(super) fn row(&mut self, columns: usize) -> String {
        let each: Vec<String> = (0..columns).map(|_| self.one()).collect();
        format!("({})", each.join(", "))
    }

    /// `?, ?, …` for an IN list.
    pub(super) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }
}

impl Store {
    /// Applies an enqueue batch's touches (sorted by lane, so concurrent batches lock rows in the
    /// same order) and lowers the due time of every account that got a new head.
    pub(super) async fn touch_lanes(
        &self,
        tx: &mut Transaction<'static, Any>,
        touches: &BTreeMap<&str, LaneTouch>,
        now: i64,
    ) -> Result<(), StoreError> {
        let warm_since = now - self.warm_ms;
        let rows: Vec<(&&str, &LaneTouch)> = touches.iter().collect();
        for chunk in rows.chunks(CHUNK) {
            let mut p = Params::new(self.backend);
            let mut sql = String::from(
                "INSERT INTO lane (lane, account_id, class, head_job_id, run_at, customer_at) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&p.row(6));
            }
            // A lane that already has a head keeps it; an empty one takes the new job. A to-MG
            // lane is always class 0; a reply lane is warm when either side says so.
            let w1 = p.one();
            let w2 = p.one();
            sql.push_str(&format!(
                " ON CONFLICT (lane) DO UPDATE SET \
                 head_job_id = COALESCE(lane.head_job_id, excluded.head_job_id), \
                 run_at = CASE WHEN lane.head_job_id IS NULL AND excluded.head_job_id IS NOT NULL \
                   THEN excluded.run_at ELSE lane.run_at END, \
                 customer_at = CASE WHEN excluded.customer_at > lane.customer_at \
                   THEN excluded.customer_at ELSE lane.customer_at END, \
                 class = CASE WHEN lane.class = {CLASS_TO_MG} THEN {CLASS_TO_MG} \
                   WHEN excluded.customer_at >= {w1} OR lane.customer_at >= {w2} THEN {CLASS_WARM_REPLY} \
                   WHEN lane.head_job_id IS NULL THEN {CLASS_COLD_SEND} ELSE lane.class END"
            ));
            let mut query = sqlx::query(&sql);
            for (lane, touch) in chunk {
                let class = if touch.to_mg {
                    CLASS_TO_MG
                } else if touch.customer_at >= warm_since {
                    CLASS_WARM_REPLY
                } else {
                    CLASS_COLD_SEND
                };
                query = query
                    .bind(**lane)
                    .bind(touch.account_id.as_str())
                    .bind(class)
                    .bind(touch.head)
                    .bind(now)
                    .bind(touch.customer_at);
            }
            query
                .bind(warm_since)
                .bind(warm_since)
                .execute(&mut **tx)
                .await?;
        }
        let mut accounts: Vec<&str> = touches
            .values()
            .filter(|t| t.head.is_some())
            .map(|t| t.account_id.as_str())
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        for chunk in accounts.chunks(CHUNK) {
            let mut p = Params::new(self.backend);
            let mut sql = String::from("INSERT INTO account_queue (account_id, due_at) VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&p.row(2));
            }
            sql.push_str(
                " ON CONFLICT (account_id) DO UPDATE SET due_at = CASE \
                 WHEN account_queue.due_at IS NOT NULL AND account_queue.due_at <= excluded.due_at \
                 THEN account_queue.due_at ELSE excluded.due_at END",
            );
            let mut query = sqlx::query(&sql);
            for account in chunk {
                query = query.bind(*account).bind(now);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// The lane's head finished: its next queued job (if any) becomes the head, due when that
    /// job is, and the lane is free. Returns the account and time to pass to `lower_dues`.
    pub(super) async fn advance_lane(
        &self,
        tx: &mut Transaction<'static, Any>,
        lane: &str,
        now: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        // Postgres: lock the lane first, so the next job is looked for after any enqueue that is
        // adding one to this lane has committed (its upsert holds the row). Looking before the
        // lock could miss that job and then empty the lane above it.
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT lane FROM lane WHERE lane = $1 FOR UPDATE")
                .bind(lane)
                .fetch_optional(&mut **tx)
                .await?;
        }
        let next = sqlx::query(
            "SELECT job_id, run_at FROM job WHERE lane = $1 AND state = 'queued' \
             ORDER BY job_id LIMIT 1",
        )
        .bind(lane)
        .fetch_optional(&mut **tx)
        .await?;
        let (head, run_at) = match &next {
            Some(row) => (
                Some(row.try_get::<i64, _>("job_id")?),
                row.try_get::<i64, _>("run_at")?,
            ),
            None => (None, 0),
        };
        let updated = sqlx::query(&format!(
            "UPDATE lane SET head_job_id = $1, run_at = $2, lease_owner = NULL, \
             class = CASE WHEN class = {CLASS_TO_MG} THEN {CLASS_TO_MG} \
               WHEN customer_at >= $3 THEN {CLASS_WARM_REPLY} ELSE {CLASS_COLD_SEND} END \
             WHERE lane = $4 RETURNING account_id"
        ))
        .bind(head)
        .bind(run_at)
        .bind(now - self.warm_ms)
        .bind(lane)
        .fetch_optional(&mut **tx)
        .await?;
        match (updated, head) {
            (Some(row), Some(_)) => Ok(Some((row.try_get("account_id")?, run_at))),
            _ => Ok(None),
        }
    }

    /// The head `job_id` is to be tried again at `run_at`; the lane is free until then. Returns
    /// the account and time to pass to `lower_dues`.
    pub(super) async fn reschedule_lane(
        &self,
        tx: &mut Transaction<'static, Any>,
        lane: &str,
        job_id: i64,
        run_at: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let updated = sqlx::query(
            "UPDATE lane SET run_at = $1, lease_owner = NULL WHERE lane = $2 AND head_job_id = $3 \
             RETURNING account_id",
        )
        .bind(run_at)
        .bind(lane)
        .bind(job_id)
        .fetch_optional(&mut **tx)
        .await?;
        match updated {
            Some(row) => Ok(Some((row.try_get("account_id")?, run_at))),
            None => Ok(None),
        }
    }

    /// Makes the given lane heads due now, where they are still the head, free and waiting
    /// (`bridge::recovery`: their peer answers again). Returns how many were.
    pub async fn hasten_lanes(&self, lanes: &[(String, i64)]) -> Result<u64, StoreError> {
        let now = super::now_ms();
        let mut sorted: Vec<&(String, i64)> = lanes.iter().collect();
        sorted.sort_unstable();
        let mut tx = self.pool.begin().await?;
        let mut dues = Vec::new();
        for (lane, job_id) in sorted {
            let row = sqlx::query(
                "UPDATE lane SET run_at = $1 WHERE lane = $2 AND head_job_id = $3 \
                 AND lease_owner IS NULL AND run_at > $4 RETURNING account_id",
            )
            .bind(now)
            .bind(lane.as_str())
            .bind(*job_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                dues.push((row.try_get::<String, _>("account_id")?, now));
            }
        }
        let hastened = dues.len() as u64;
        self.lower_dues(&mut tx, dues).await?;
        tx.commit().await?;
        Ok(hastened)
    }

    /// Makes sure each account is looked at no later than its time. Last in a transaction and
    /// in account order, as everywhere (lanes first, then accounts, each sorted), so that two
    /// transactions never wait on each other's rows in a cycle on Postgres.
    pub(super) async fn lower_dues(
        &self,
        tx: &mut Transaction<'static, Any>,
        dues: impl IntoIterator<Item = (String, i64)>,
    ) -> Result<(), StoreError> {
        let mut earliest: BTreeMap<String, i64> = BTreeMap::new();
        for (account, at) in dues {
            let entry = earliest.entry(account).or_insert(at);
            *entry = (*entry).min(at);
        }
        // The condition is in SET, not WHERE, so the row is always written and thus locked on
        // Postgres even when its bound is already low enough. A `recompute_due` running
        // meanwhile then waits for this commit and reads our lane change; with the condition in
        // WHERE it could read the lane before it, and raise the bound past it for good.
        for (account, at) in earliest {
            sqlx::query(
                "UPDATE account_queue SET due_at = CASE WHEN due_at IS NULL OR due_at > $1 \
                 THEN $2 ELSE due_at END WHERE account_id = $3",
            )
            .bind(at)
            .bind(at)
            .bind(account)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Sets the account's due time to exactly its earliest lane head's (NULL when it has none):
    /// after a claim found less than it asked for.
    ///
    /// On Postgres the account's row is locked first, so the MIN below is read after any
    /// enqueue that lowered the bound has committed; an enqueue that comes later lowers it
    /// again. Without the lock a bound lowered meanwhile could be raised past its new job.
    pub(super) async fn recompute_due(
        &self,
        tx: &mut Transaction<'static, Any>,
        account: &str,
    ) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT due_at FROM account_queue WHERE account_id = $1 FOR UPDATE")
                .bind(account)
                .fetch_optional(&mut **tx)
                .await?;
        }
        // One MIN per class walks lane_next's first entry for each (an index probe each). One
        // statement that writes: on SQLite it takes the write lock before it reads, where a
        // SELECT then an UPDATE would fail with "database is locked" if another writer
        // committed in between.
        let per_class = |c: i64| {
            format!(
                "SELECT MIN(run_at) AS due FROM lane \
                 WHERE account_id = $1 AND class = {c} AND head_job_id IS NOT NULL"
            )
        };
        let (a, b, c) = (
            per_class(CLASS_TO_MG),
            per_class(CLASS_WARM_REPLY),
            per_class(CLASS_COLD_SEND),
        );
        sqlx::query(&format!(
            "UPDATE account_queue SET due_at = \
             (SELECT MIN(due) FROM ({a} UNION ALL {b} UNION ALL {c}) AS heads) \
             WHERE account_id = $1"
        ))
        .bind(account)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
