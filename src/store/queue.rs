//! The durable queue: every accepted webhook is a `job` row before it is answered, and workers
//! deliver from here. Fair by construction: one account's backlog never delays another account,
//! and a customer's message never waits behind an operator's mailing.
//!
//! - **Order.** A job belongs to a *lane* (one chat of one channel, one direction). Only the
//!   lane's head (its queued job with the smallest `job_id`) can be claimed, and it stays the
//!   head until it is done or failed, so a lane runs one job at a time, in acceptance order,
//!   whichever process claims it. Each lane has a `lane` row holding its head, when the head is
//!   due (`run_at`) and its class; the row changes in the same transaction as the jobs.
//! - **Between accounts: round robin over the accounts with due work.** Each account has an
//!   `account_queue` row whose `due_at` is never later than its earliest due lane. A worker lists
//!   its leased accounts with `due_at <= now`, then hands its free delivery slots out one account
//!   at a time, starting after the account served last (`bridge::schedule`), and never gives an
//!   account more slots than `queue.account_concurrency`: about what its MG token (30 req/s) and
//!   its bots (30 sends/s) can use, so slots idling in one account's rate limiters cannot starve
//!   the others. An account with work therefore gets a slot within one round, whatever the other
//!   accounts have queued: a mailing costs another account nothing but its share of slots.
//! - **Inside an account: by class, then by due time.** Class 0 is a customer's message (to MG),
//!   class 1 an operator's reply into a chat whose customer wrote within
//!   `queue.warm_chat_minutes`, class 2 every other send to the messenger (a mailing, a cold
//!   chat). A customer's message marks the reply lane of its chat warm (`customer_at`). The class
//!   is set when a lane gets a new head or is warmed, so a reply lane that stays queued past the
//!   warm window keeps class 1 until its next head: a bounded favour.
//! - **Cost flat in the backlog.** A claim reads `account_queue` (accounts with due work), then,
//!   per account and class, the first rows of the index `lane_next (account_id, class, run_at,
//!   head_job_id)`;
//!   finishing a job reads the next head from `job_queued_lane (lane, job_id)`. Nothing scans the
//!   backlog: 100,000 queued jobs cost a claim what 100 do. An account whose `due_at` proved too
//!   early gets the exact value back from the same index (`lanes::recompute_due`).
//! - **Several replicas on one Postgres.** A replica first leases whole accounts
//!   (`account_queue.owner`), then claims only its accounts' lane heads, skipping lanes another
//!   replica is updating (`FOR UPDATE SKIP LOCKED`). One account's jobs are therefore delivered
//!   by one process at a time, which is what keeps the per-process limiters global: the MG
//!   client's 30 req/s per token (an account has one token) and Telegram's per-bot and per-chat
//!   limits (a bot belongs to one account). The round robin is per replica, over its own
//!   accounts; accounts are spread over replicas by whoever leases them first. A claimed lane's
//!   `run_at` is its holder's lease end, renewed by the holder's heartbeat: a killed replica's
//!   lanes and accounts fall due again after `queue.lease_seconds`, and another replica takes
//!   them over, starting with the job that was in flight. Every transaction takes its rows in one
//!   order (jobs, then lanes by key, then accounts by id), so replicas' transactions never wait
//!   on each other in a cycle.
//! - **SQLite** is one process's database: there are no rival replicas, and start-up frees the
//!   previous run's leases at once (`release_all_leases`), so a crashed run's in-flight jobs are
//!   taken up immediately after a restart.
//!
//! Times are unix milliseconds here (run_at and leases need finer steps than the seconds used
//! elsewhere).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::failures::Attempt;
use super::lanes::{LaneTouch, Params};
use super::{Store, StoreError};
use crate::domain::{AccountId, Direction};

/// A job as the webhook handlers hand it in.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub account_id: AccountId,
    pub direction: Direction,
    pub lane: String,
    /// A second job with the same key is ignored (a redelivered webhook).
    pub dedupe_key: Option<String>,
    /// The webhook's body, as received.
    pub payload: String,
    /// For a customer's message: the lane of the operators' replies into the same chat, which
    /// it makes warm (replies there go before cold sends).
    pub warms: Option<String>,
}

/// How a delivery ended, for `Store::settle_jobs`.
#[derive(Debug, Clone)]
pub enum Settlement {
    /// Delivered: the job is done and its lane moves on.
    Done { job_id: i64 },
    /// Reported as failed for good: it leaves its lane, for the failed list. `reason` is the
    /// kind of failure (`bridge::failures::Reason`), `error` the details.
    Failed {
        job_id: i64,
        reason: &'static str,
        error: String,
    },
    /// To be tried again after `delay_ms`, still at its lane's head.
    Retry {
        job_id: i64,
        delay_ms: i64,
        error: String,
    },
}

/// A job a worker holds the lease of.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub job_id: i64,
    pub account_id: AccountId,
    pub direction: Direction,
    pub lane: String,
    pub payload: String,
    /// Including this one.
    pub attempts: i64,
    /// When the webhook was accepted, or last sent back from the failed list (unix ms): the
    /// job's age limit counts from here.
    pub created_at: i64,
    /// When the job was due: accepted, or the end of its last backoff (unix ms).
    pub due_at: i64,
}

/// Counts for `/metrics`, per direction: index 0 is to MG, 1 to the messenger.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueStats {
    pub queued: [i64; 2],
    pub failed: i64,
    /// How long the longest-waiting due head has been due (ms), 0 when none is.
    pub oldest_due_ms: [i64; 2],
}

impl QueueStats {
    pub fn queued_total(&self) -> i64 {
        self.queued.iter().sum()
    }
}

/// Retries of one job recorded in its attempt history (`delivery_attempt`); its final failure
/// always is.
const RETRIES_IN_HISTORY: i64 = 10;

/// Rows per INSERT: well under SQLite's and Postgres's bound-parameter limits.
const INSERT_CHUNK: usize = 200;

impl Store {
    /// Stores the jobs atomically (durable when this returns) with their lanes' new heads, and
    /// returns how many were new; jobs whose `dedupe_key` is already stored are skipped.
    pub async fn enqueue_jobs(&self, jobs: &[NewJob]) -> Result<u64, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let mut touches: BTreeMap<&str, LaneTouch> = BTreeMap::new();
        let mut inserted = 0;
        for chunk in jobs.chunks(INSERT_CHUNK) {
            let ids: Vec<i64> = chunk.iter().map(|_| next_job_id()).collect();
            let stored = self.insert_jobs(&mut *tx, chunk, &ids, now).await?;
            inserted += stored.len() as u64;
            for (job, id) in chunk.iter().zip(&ids).filter(|(_, id)| stored.contains(id)) {
                touches
                    .entry(job.lane.as_str())
                    .or_insert_with(|| LaneTouch::new(&job.account_id, job.direction))
                    .head(*id);
                if let Some(reply_lane) = &job.warms {
                    touches
                        .entry(reply_lane.as_str())
                        .or_insert_with(|| LaneTouch::new(&job.account_id, Direction::ToMessenger))
                        .warm(now);
                }
            }
        }
        if !touches.is_empty() {
            self.touch_lanes(&mut tx, &touches, now).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// The INSERT of one chunk; returns the ids actually stored (duplicates are not).
    async fn insert_jobs<'c>(
        &self,
        executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
        jobs: &[NewJob],
        ids: &[i64],
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut p = Params::new(self.backend);
        let mut sql = String::from(
            "INSERT INTO job (job_id, account_id, kind, lane, dedupe_key, payload, run_at, created_at) VALUES ",
        );
        for i in 0..jobs.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&p.row(8));
        }
        sql.push_str(" ON CONFLICT (dedupe_key) DO NOTHING RETURNING job_id");
        let mut query = sqlx::query(&sql);
        for (job, id) in jobs.iter().zip(ids) {
            query = query
                .bind(*id)
                .bind(job.account_id.as_str())
                .bind(job.direction.as_str())
                .bind(job.lane.as_str())
                .bind(job.dedupe_key.as_deref())
                .bind(job.payload.as_str())
                .bind(now)
                .bind(now);
        }
        let rows = query.fetch_all(executor).await?;
        rows.iter()
            .map(|row| row.try_get::<i64, _>("job_id").map_err(StoreError::from))
            .collect()
    }

    /// The job was delivered. Returns false when our lease had been lost (someone else may
    /// deliver it again; the receivers' dedupe covers that).
    pub async fn complete_job(&self, job_id: i64, owner: &str) -> Result<bool, StoreError> {
        self.settle_one(owner, Settlement::Done { job_id }).await
    }

    /// The job failed for good and was reported; it leaves its lane.
    pub async fn fail_job(
        &self,
        job_id: i64,
        owner: &str,
        reason: &'static str,
        error: &str,
    ) -> Result<bool, StoreError> {
        let error = error.to_owned();
        let settlement = Settlement::Failed {
            job_id,
            reason,
            error,
        };
        self.settle_one(owner, settlement).await
    }

    /// The job stays at its lane's head and is tried again after `delay_ms`.
    pub async fn retry_job(
        &self,
        job_id: i64,
        owner: &str,
        delay_ms: i64,
        error: &str,
    ) -> Result<bool, StoreError> {
        let error = error.to_owned();
        let settlement = Settlement::Retry {
            job_id,
            delay_ms,
            error,
        };
        self.settle_one(owner, settlement).await
    }

    async fn settle_one(&self, owner: &str, settlement: Settlement) -> Result<bool, StoreError> {
        Ok(self.settle_jobs(owner, &[settlement]).await?[0])
    }

    /// Records how each job ended, all in one transaction (one commit for a whole batch of
    /// deliveries), and moves their lanes on. For each: false when our lease had been lost.
    /// Rows are taken in one order everywhere (jobs, then lanes sorted, then accounts sorted).
    pub async fn settle_jobs(
        &self,
        owner: &str,
        settlements: &[Settlement],
    ) -> Result<Vec<bool>, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let mut settled = Vec::with_capacity(settlements.len());
        // lane → (the head that ended, when the lane is due again: None = its next job's time)
        let mut lanes: BTreeMap<String, (i64, Option<i64>)> = BTreeMap::new();
        let mut attempts = Vec::new();
        for settlement in settlements {
            let lane = match settlement {
                Settlement::Done { job_id } => self
                    .end_job(&mut tx, *job_id, owner, None, now)
                    .await?
                    .map(|(lane, _)| (lane, (*job_id, None))),
                Settlement::Failed {
                    job_id,
                    reason,
                    error,
                } => {
                    let ended = self
                        .end_job(&mut tx, *job_id, owner, Some((reason, error)), now)
                        .await?;
                    ended.map(|(lane, attempt)| {
                        attempts.push(Attempt::new(*job_id, attempt, now, "failed", error));
                        (lane, (*job_id, None))
                    })
                }
                Settlement::Retry {
                    job_id,
                    delay_ms,
                    error,
                } => {
                    let run_at = now + delay_ms;
                    let postponed = self
                        .postpone_job(&mut tx, *job_id, owner, run_at, error)
                        .await?;
                    postponed.map(|(lane, attempt)| {
                        // A day-long outage retries a lane head hundreds of times: the history
                        // keeps the first tries and the end, not each one.
                        if attempt <= RETRIES_IN_HISTORY {
                            attempts.push(Attempt::new(*job_id, attempt, now, "retry", error));
                        }
                        (lane, (*job_id, Some(run_at)))
                    })
                }
            };
            settled.push(lane.is_some());
            if let Some((lane, change)) = lane {
                lanes.insert(lane, change);
            }
        }
        self.record_attempts(&mut tx, &attempts).await?;
        let mut dues = Vec::with_capacity(lanes.len());
        for (lane, (job_id, retry_at)) in &lanes {
            let due = match retry_at {
                None => self.advance_lane(&mut tx, lane, now).await?,
                Some(run_at) => {
                    self.reschedule_lane(&mut tx, lane, *job_id, *run_at)
                        .await?
                }
            };
            dues.extend(due);
        }
        self.lower_dues(&mut tx, dues).await?;
        tx.commit().await?;
        Ok(settled)
    }

    /// Marks the job done, or failed with its reason and error; returns its lane and attempt
    /// count, or None when our lease had been lost. A delivered job's payload (the customer's
    /// or operator's words) is emptied in the same statement: only its dedupe key, lane and
    /// times stay, for the dedupe window. A failed job keeps its payload, for a retry from the
    /// failed list.
    async fn end_job(
        &self,
        tx: &mut Transaction<'static, Any>,
        job_id: i64,
        owner: &str,
        failure: Option<(&str, &str)>,
        now: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let state = if failure.is_some() { "failed" } else { "done" };
        let finished = sqlx::query(
            "UPDATE job SET state = $1, finished_at = $2, lease_owner = NULL, lease_until = 0, \
             failure_reason = $3, last_error = COALESCE($4, last_error), \
             payload = CASE WHEN $1 = 'done' THEN '' ELSE payload END \
             WHERE job_id = $5 AND lease_owner = $6 AND state = 'queued' RETURNING lane, attempts",
        )
        .bind(state)
        .bind(now)
        .bind(failure.map(|(reason, _)| reason))
        .bind(failure.map(|(_, error)| error))
        .bind(job_id)
        .bind(owner)
        .fetch_optional(&mut **tx)
        .await?;
        finished.as_ref().map(lane_and_attempts).transpose()
    }

    /// Leaves the job at its lane's head, to be tried again at `run_at`; returns its lane and
    /// attempt count, or None when our lease had been lost.
    async fn postpone_job(
        &self,
        tx: &mut Transaction<'static, Any>,
        job_id: i64,
        owner: &str,
        run_at: i64,
        error: &str,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let retried = sqlx::query(
            "UPDATE job SET run_at = $1, lease_owner = NULL, lease_until = 0, last_error = $2 \
             WHERE job_id = $3 AND lease_owner = $4 AND state = 'queued' RETURNING lane, attempts",
        )
        .bind(run_at)
        .bind(error)
        .bind(job_id)
        .bind(owner)
        .fetch_optional(&mut **tx)
        .await?;
        retried.as_ref().map(lane_and_attempts).transpose()
    }

    /// Deletes jobs finished more than `age_ms` ago (their dedupe keys go with them) and failed
    /// jobs older than `failed_age_ms` (kept longer, for the failed list), with their attempts;
    /// the records of parts sent to the messenger `age_ms` ago; and the rows of lanes that are
    /// empty and no longer warm. Returns how many jobs went.
    pub async fn delete_finished_jobs(
        &self,
        age_ms: i64,
        failed_age_ms: i64,
    ) -> Result<u64, StoreError> {
        let now = now_ms();
        self.delete_sent_parts_older_than(age_ms / 1_000).await?;
        let done = sqlx::query(
            "DELETE FROM job WHERE (state IN ('done', 'discarded') AND finished_at < $1) \
             OR (state = 'failed' AND finished_at < $2)",
        )
        .bind(now - age_ms)
        .bind(now - failed_age_ms)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            self.delete_orphan_attempts().await?;
        }
        sqlx::query(
            "DELETE FROM lane WHERE head_job_id IS NULL AND lease_owner IS NULL AND customer_at < $1",
        )
        .bind(now - self.warm_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

fn lane_and_attempts(row: &AnyRow) -> Result<(String, i64), StoreError> {
    Ok((row.try_get("lane")?, row.try_get("attempts")?))
}

pub(super) fn job_from_row(row: &AnyRow) -> Result<ClaimedJob, StoreError> {
    Ok(ClaimedJob {
        job_id: row.try_get("job_id")?,
        account_id: AccountId::from_stored(row.try_get::<String, _>("account_id")?),
        direction: {
            let kind: String = row.try_get("kind")?;
            Direction::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown job kind {kind:?}")))?
        },
        lane: row.try_get("lane")?,
        payload: row.try_get("payload")?,
        attempts: row.try_get("attempts")?,
        created_at: row.try_get("created_at")?,
        due_at: row.try_get("run_at")?,
    })
}

/// Unix milliseconds, the queue's clock.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Where job ids count from: 2025-01-01T00:00:00Z in unix microseconds. With 12 tag bits, an
/// i64 holds 2^51 microseconds past it, until May 2096 (from the unix epoch it was only until
/// 2041). Migration 0005 moved the ids stored before by the same amount.
const JOB_ID_EPOCH_MICROS: i64 = 1_735_689_600_000_000;
const TAG_BITS: u32 = 12;

/// Job ids in acceptance order: microseconds since `JOB_ID_EPOCH_MICROS`, never repeating
/// within a process, shifted left 12 bits, plus a random 12-bit tag per process so two replicas
/// accepting in the same microsecond still get different ids (a clash, 1 in 4,096 of those,
/// fails the insert and the webhook is answered 503 and repeated by its sender). Across replicas
/// the order is their clocks' order, which is the only order two replicas' acceptances have.
pub(super) fn next_job_id() -> i64 {
    static LAST_MICROS: AtomicI64 = AtomicI64::new(0);
    static TAG: OnceLock<i64> = OnceLock::new();
    let tag = *TAG.get_or_init(|| rand::random::<u16>() as i64 & ((1 << TAG_BITS) - 1));
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64;
    let micros = LAST_MICROS
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(now.max(last + 1))
        })
        .map(|last| now.max(last + 1))
        .expect("the closure always returns Some");
    job_id_at(micros, tag).expect("job ids fit in an i64 until May 2096")
}

/// The id of a job accepted at `unix_micros` by the process tagged `tag`; None past the range.
fn job_id_at(unix_micros: i64, tag: i64) -> Option<i64> {
    let since = unix_micros.checked_sub(JOB_ID_EPOCH_MICROS)?;
    Some(since.checked_mul(1 << TAG_BITS)? | tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_increase_and_fit_in_63_bits() {
        let ids: Vec<i64> = (0..10_000).map(|_| next_job_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|id| *id > 0));
    }

    fn unix_micros(year: i32) -> i64 {
        let date = time::Date::from_calendar_date(year, time::Month::January, 1).unwrap();
        (date.midnight().assume_utc().unix_timestamp_nanos() / 1_000) as i64
    }

    #[test]
    fn job_ids_last_until_2096() {
        let tag = (1 << TAG_BITS) - 1;
        // The old scheme (unix epoch) overflowed in 2041; this one has 70 years from 2025.
        assert!(job_id_at(unix_micros(2041), tag).is_some());
        assert!(job_id_at(unix_micros(2096), tag).is_some_and(|id| id > 0));
        // 2100 does not fit with 12 tag bits: 2^51 microseconds are 71.4 years.
        assert_eq!(job_id_at(unix_micros(2097), tag), None);
        assert_eq!(job_id_at(unix_micros(2100), tag), None);
        // The tag never reaches the time bits.
        assert!(job_id_at(unix_micros(2030), tag) < job_id_at(unix_micros(2030) + 1, 0));
    }

    #[test]
    fn migration_0005_moves_stored_ids_by_the_new_epoch() {
        // Old ids were `unix_micros << 12 | tag`; the migration subtracts this constant, so an old
        // id becomes exactly what `job_id_at` gives for the same time and tag.
        let shift = (JOB_ID_EPOCH_MICROS << TAG_BITS).to_string();
        let sql = include_str!("../../migrations/0005_retention_and_job_ids.sql");
        assert_eq!(sql.matches(shift.as_str()).count(), 2, "{shift}");
        let (micros, tag) = (unix_micros(2026) + 123, 77);
        let old = (micros << TAG_BITS) | tag;
        assert_eq!(
            old - (JOB_ID_EPOCH_MICROS << TAG_BITS),
            job_id_at(micros, tag).unwrap()
        );
    }
}
