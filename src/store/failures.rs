//! Failed jobs, for the merchant's failed list and the operator's CLI: listing them with their
//! attempts, sending them back to their lanes, and discarding them.
//!
//! **A retried job goes to the end of its lane.** It takes a new `job_id` (acceptance order), so
//! it runs after every job of its chat accepted before the retry, including those accepted
//! after it failed: per-chat order stays the order in which jobs became queued, and nothing
//! that was already moving on waits for it. Its attempt history moves to the new id with it.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::lanes::{LaneTouch, Params};
use super::queue::{next_job_id, now_ms};
use super::{Store, StoreError};
use crate::domain::{AccountId, Direction};

/// A job reported as failed, as the failed list shows it.
#[derive(Debug, Clone)]
pub struct FailedJob {
    pub job_id: i64,
    pub account_id: AccountId,
    pub direction: Direction,
    pub lane: String,
    /// The webhook's body, kept for a retry.
    pub payload: String,
    /// When it was accepted, and when it failed (unix ms).
    pub created_at: i64,
    pub failed_at: i64,
    /// The kind of failure (`bridge::failures::Reason`), None for jobs failed before 0011.
    pub reason: Option<String>,
    /// The other side's words for the last failure.
    pub error: Option<String>,
    /// Attempts that did not deliver, oldest first.
    pub attempts: Vec<Attempt>,
}

/// One attempt that did not deliver.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub job_id: i64,
    pub attempt: i64,
    /// Unix ms.
    pub at: i64,
    /// "retry" or "failed".
    pub outcome: String,
    pub error: String,
}

impl Attempt {
    pub(super) fn new(job_id: i64, attempt: i64, at: i64, outcome: &str, error: &str) -> Self {
        Self {
            job_id,
            attempt,
            at,
            outcome: outcome.to_owned(),
            error: error.to_owned(),
        }
    }
}

/// Which failed jobs to send back.
#[derive(Debug, Clone, Copy)]
pub enum FailedSelection<'a> {
    /// One job, of this account when one is named (the settings page names it; the CLI may not).
    Job {
        job_id: i64,
        account: Option<&'a AccountId>,
    },
    Account(&'a AccountId),
    All,
}

/// Jobs sent back per transaction.
const RETRY_CHUNK: i64 = 500;
/// Errors are cut to this many characters in the history (an HTML error page can be long).
const ERROR_CHARS: usize = 500;

impl Store {
    /// An account's failed jobs (every account's when None), newest first, `limit` from
    /// `offset`, with their attempts.
    pub async fn failed_jobs(
        &self,
        account: Option<&AccountId>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<FailedJob>, StoreError> {
        const COLUMNS: &str = "SELECT job_id, account_id, kind, lane, payload, created_at, \
            finished_at, failure_reason, last_error FROM job WHERE state = 'failed'";
        let rows = match account {
            Some(account) => {
                let sql = format!(
                    "{COLUMNS} AND account_id = $1 ORDER BY finished_at DESC, job_id DESC LIMIT $2 OFFSET $3"
                );
                sqlx::query(&sql)
                    .bind(account.as_str())
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql =
                    format!("{COLUMNS} ORDER BY finished_at DESC, job_id DESC LIMIT $1 OFFSET $2");
                sqlx::query(&sql)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut jobs: Vec<FailedJob> =
            rows.iter().map(failed_from_row).collect::<Result<_, _>>()?;
        let ids: Vec<i64> = jobs.iter().map(|j| j.job_id).collect();
        let mut attempts = self.attempts_of(&ids).await?;
        for job in &mut jobs {
            job.attempts = attempts.remove(&job.job_id).unwrap_or_default();
        }
        Ok(jobs)
    }

    /// How many failed jobs an account has (every account when None).
    pub async fn count_failed_jobs(&self, account: Option<&AccountId>) -> Result<i64, StoreError> {
        let row = match account {
            Some(account) => {
                sqlx::query(
                    "SELECT COUNT(*) AS n FROM job WHERE state = 'failed' AND account_id = $1",
                )
                .bind(account.as_str())
                .fetch_one(&self.pool)
                .await?
            }
            None => {
                sqlx::query("SELECT COUNT(*) AS n FROM job WHERE state = 'failed'")
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok(row.try_get("n")?)
    }

    async fn attempts_of(
        &self,
        job_ids: &[i64],
    ) -> Result<BTreeMap<i64, Vec<Attempt>>, StoreError> {
        let mut by_job: BTreeMap<i64, Vec<Attempt>> = BTreeMap::new();
        if job_ids.is_empty() {
            return Ok(by_job);
        }
        let mut p = Params::new(self.backend);
        let sql = format!(
            "SELECT job_id, attempt, at, outcome, error FROM delivery_attempt \
             WHERE job_id IN ({}) ORDER BY job_id, at, attempt",
            p.list(job_ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in job_ids {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&self.pool).await? {
            let attempt = Attempt {
                job_id: row.try_get("job_id")?,
                attempt: row.try_get("attempt")?,
                at: row.try_get("at")?,
                outcome: row.try_get("outcome")?,
                error: row.try_get("error")?,
            };
            by_job.entry(attempt.job_id).or_default().push(attempt);
        }
        Ok(by_job)
    }

    /// Records attempts that did not deliver, in the settling transaction.
    pub(super) async fn record_attempts(
        &self,
        tx: &mut Transaction<'static, Any>,
        attempts: &[Attempt],
    ) -> Result<(), StoreError> {
        for chunk in attempts.chunks(100) {
            let mut p = Params::new(self.backend);
            let rows: Vec<String> = chunk.iter().map(|_| p.row(5)).collect();
            let sql = format!(
                "INSERT INTO delivery_attempt (job_id, attempt, at, outcome, error) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for a in chunk {
                let error: String = a.error.chars().take(ERROR_CHARS).collect();
                query = query
                    .bind(a.job_id)
                    .bind(a.attempt)
                    .bind(a.at)
                    .bind(a.outcome.as_str())
                    .bind(error);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Sends the selected failed jobs back to the end of their lanes (see the module's rule),
    /// due now, with a fresh age limit and backoff. Returns how many went back. Jobs whose
    /// payload is gone (discarded) are not failed any more and are not selected.
    pub async fn retry_failed_jobs(&self, which: FailedSelection<'_>) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            // Chosen outside the transaction, which opens with a write: on SQLite a transaction
            // that reads first and then writes fails with SQLITE_BUSY when another writer (the
            // worker) committed in between, and busy_timeout cannot help it.
            let chosen = self.select_failed(which).await?;
            if chosen.is_empty() {
                return Ok(total);
            }
            let now = now_ms();
            let mut tx = self.pool.begin().await?;
            let mut touches: BTreeMap<&str, LaneTouch> = BTreeMap::new();
            for (old_id, account, direction, lane) in &chosen {
                let new_id = next_job_id();
                let moved = sqlx::query(
                    "UPDATE job SET job_id = $1, state = 'queued', run_at = $2, attempts = 0, \
                     finished_at = NULL, retried_at = $3, failure_reason = NULL, \
                     lease_owner = NULL, lease_until = 0 WHERE job_id = $4 AND state = 'failed'",
                )
                .bind(new_id)
                .bind(now)
                .bind(now)
                .bind(*old_id)
                .execute(&mut *tx)
                .await?;
                if moved.rows_affected() == 0 {
                    // Retried or discarded by someone else meanwhile.
                    continue;
                }
                sqlx::query("UPDATE delivery_attempt SET job_id = $1 WHERE job_id = $2")
                    .bind(new_id)
                    .bind(*old_id)
                    .execute(&mut *tx)
                    .await?;
                touches
                    .entry(lane.as_str())
                    .or_insert_with(|| LaneTouch::new(account, *direction))
                    .head(new_id);
                total += 1;
            }
            if !touches.is_empty() {
                self.touch_lanes(&mut tx, &touches, now).await?;
            }
            tx.commit().await?;
            if matches!(which, FailedSelection::Job { .. }) {
                return Ok(total);
            }
        }
    }

    /// Up to `RETRY_CHUNK` selected failed jobs, oldest first (so retried jobs of one lane keep
    /// their order among themselves): (job_id, account, direction, lane).
    async fn select_failed(
        &self,
        which: FailedSelection<'_>,
    ) -> Result<Vec<(i64, AccountId, Direction, String)>, StoreError> {
        let query = match which {
            FailedSelection::Job {
                job_id,
                account: Some(account),
            } => sqlx::query(
                "SELECT job_id, account_id, kind, lane FROM job \
                 WHERE state = 'failed' AND job_id = $1 AND account_id = $2",
            )
            .bind(job_id)
            .bind(account.as_str()),
            FailedSelection::Job {
                job_id,
                account: None,
            } => sqlx::query(
                "SELECT job_id, account_id, kind, lane FROM job WHERE state = 'failed' AND job_id = $1",
            )
            .bind(job_id),
            FailedSelection::Account(account) => sqlx::query(
                "SELECT job_id, account_id, kind, lane FROM job \
                 WHERE state = 'failed' AND account_id = $1 ORDER BY job_id LIMIT $2",
            )
            .bind(account.as_str())
            .bind(RETRY_CHUNK),
            FailedSelection::All => sqlx::query(
                "SELECT job_id, account_id, kind, lane FROM job \
                 WHERE state = 'failed' ORDER BY job_id LIMIT $1",
            )
            .bind(RETRY_CHUNK),
        };
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                let direction = Direction::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown job kind {kind:?}")))?;
                Ok((
                    row.try_get("job_id")?,
                    AccountId::from_stored(row.try_get::<String, _>("account_id")?),
                    direction,
                    row.try_get("lane")?,
                ))
            })
            .collect()
    }

    /// Discards one of the account's failed jobs: its words are deleted at once, and the row
    /// stays as a discarded job until the dedupe window ends (a repeated webhook is still
    /// recognised). Returns false when there was no such failed job.
    pub async fn discard_failed_job(
        &self,
        account: &AccountId,
        job_id: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let discarded = sqlx::query(
            "UPDATE job SET state = 'discarded', payload = '', finished_at = $1 \
             WHERE job_id = $2 AND account_id = $3 AND state = 'failed'",
        )
        .bind(now_ms())
        .bind(job_id)
        .bind(account.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM delivery_attempt WHERE job_id = $1")
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(discarded.rows_affected() > 0)
    }

    /// Attempts of jobs that are gone (the janitor deleted them).
    pub(super) async fn delete_orphan_attempts(&self) -> Result<u64, StoreError> {
        let gone = sqlx::query(
            "DELETE FROM delivery_attempt WHERE NOT EXISTS \
             (SELECT 1 FROM job WHERE job.job_id = delivery_attempt.job_id)",
        )
        .execute(&self.pool)
        .await?;
        Ok(gone.rows_affected())
    }
}

fn failed_from_row(row: &AnyRow) -> Result<FailedJob, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(FailedJob {
        job_id: row.try_get("job_id")?,
        account_id: AccountId::from_stored(row.try_get::<String, _>("account_id")?),
        direction: Direction::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown job kind {kind:?}")))?,
        lane: row.try_get("lane")?,
        payload: row.try_get("payload")?,
        created_at: row.try_get("created_at")?,
        failed_at: row.try_get("finished_at")?,
        reason: row.try_get("failure_reason")?,
        error: row.try_get("last_error")?,
        attempts: Vec::new(),
    })
}
