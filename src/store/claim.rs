//! Claiming lane heads and holding accounts (the rules are in `queue.rs`): which of our
//! accounts have due work, the heads a round of the scheduler takes, and the leases that keep
//! each account in one replica.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use super::lanes::{Params, CLASS_COLD_SEND, CLASS_TO_MG, CLASS_WARM_REPLY};
use super::queue::{job_from_row, now_ms, ClaimedJob, QueueStats};
use super::{Backend, Store, StoreError};
use crate::domain::{AccountId, Direction};

/// Accounts per candidate query (three arms each; SQLite allows 500 per compound SELECT).
const ACCOUNTS_PER_QUERY: usize = 50;
/// Lanes per heartbeat statement (bound parameters stay far below both databases' limits).
const RENEW_CHUNK: usize = 500;

/// A due lane head found by the candidate query.
struct Candidate {
    lane: String,
    account_id: String,
    class: i64,
    run_at: i64,
    head: i64,
}

impl Store {
    /// Our leased, enabled accounts whose next lane may be due now (an early bound is corrected
    /// by the claim that finds nothing).
    pub async fn due_accounts(&self, owner: &str) -> Result<Vec<AccountId>, StoreError> {
        let now = now_ms();
        let rows = sqlx::query(
            "SELECT q.account_id FROM account_queue q \
             JOIN account a ON a.account_id = q.account_id AND a.active = 1 AND a.frozen = 0 \
             WHERE q.owner = $1 AND q.lease_until > $2 AND q.due_at <= $2",
        )
        .bind(owner)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AccountId::from_stored(
                    row.try_get::<String, _>("account_id")?,
                ))
            })
            .collect()
    }

    /// Claims, for each `(account, n)`, up to `n` of that account's due lane heads, best class
    /// first and oldest due first within a class, counting an attempt on each. An account that
    /// yields fewer than asked has its due time set exactly, so it drops out of `due_accounts`
    /// until it has work again.
    pub async fn claim_heads(
        &self,
        owner: &str,
        lease_ms: i64,
        wants: &[(AccountId, usize)],
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        let now = now_ms();
        let mut chosen: Vec<Candidate> = Vec::new();
        let mut short: Vec<&str> = Vec::new();
        for part in wants.chunks(ACCOUNTS_PER_QUERY) {
            let mut found = self.candidates(part, now).await?;
            for (account, n) in part {
                let mut theirs: Vec<Candidate> = Vec::new();
                let mut rest = Vec::with_capacity(found.len());
                for c in found {
                    if c.account_id == account.as_str() {
                        theirs.push(c);
                    } else {
                        rest.push(c);
                    }
                }
                found = rest;
                theirs.sort_by_key(|c| (c.class, c.run_at, c.head));
                theirs.truncate(*n);
                if theirs.len() < *n {
                    short.push(account.as_str());
                }
                chosen.extend(theirs);
            }
        }
        if chosen.is_empty() && short.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin().await?;
        let held = self
            .hold_lanes(&mut tx, owner, &chosen, now, lease_ms)
            .await?;
        let mut jobs = Vec::new();
        if !held.is_empty() {
            let mut p = Params::new(self.backend);
            let (o, u) = (p.one(), p.one());
            let sql = format!(
                "UPDATE job SET lease_owner = {o}, lease_until = {u}, attempts = attempts + 1 \
                 WHERE state = 'queued' AND job_id IN ({}) \
                 RETURNING job_id, account_id, kind, lane, payload, attempts, \
                 COALESCE(retried_at, created_at) AS created_at, run_at",
                p.list(held.len())
            );
            let mut query = sqlx::query(&sql).bind(owner).bind(now + lease_ms);
            for (_, head) in &held {
                query = query.bind(*head);
            }
            let rows = query.fetch_all(&mut *tx).await?;
            jobs = rows
                .iter()
                .map(job_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            // A head whose job is not queued would hold its lane for nothing: move it on.
            let got: HashSet<i64> = jobs.iter().map(|j| j.job_id).collect();
            let mut dues = Vec::new();
            for (lane, head) in &held {
                if !got.contains(head) {
                    tracing::warn!(lane = %lane, job = head, "a lane's head was not a queued job: repaired");
                    dues.extend(self.advance_lane(&mut tx, lane, now).await?);
                }
            }
            self.lower_dues(&mut tx, dues).await?;
        }
        // Accounts last and in order, as in every transaction here (`lanes::lower_dues`).
        short.sort_unstable();
        for account in short {
            self.recompute_due(&mut tx, account).await?;
        }
        tx.commit().await?;
        // Best class first, then oldest due, so slots go to the most urgent jobs first.
        let class_of: HashMap<&str, i64> =
            chosen.iter().map(|c| (c.lane.as_str(), c.class)).collect();
        jobs.sort_by_key(|j| (class_of.get(j.lane.as_str()).copied(), j.due_at, j.job_id));
        Ok(jobs)
    }

    /// Per account and class, the first `n` due heads of `lane_next`: a short index range each.
    async fn candidates(
        &self,
        wants: &[(AccountId, usize)],
        now: i64,
    ) -> Result<Vec<Candidate>, StoreError> {
        let mut p = Params::new(self.backend);
        let mut arms = Vec::new();
        let mut binds: Vec<(&str, i64, i64)> = Vec::new();
        for (account, n) in wants {
            for class in [CLASS_TO_MG, CLASS_WARM_REPLY, CLASS_COLD_SEND] {
                let (a, t, l) = (p.one(), p.one(), p.one());
                arms.push(format!(
                    "SELECT * FROM (SELECT lane, account_id, class, run_at, head_job_id FROM lane \
                     WHERE account_id = {a} AND class = {class} AND head_job_id IS NOT NULL AND run_at <= {t} \
                     ORDER BY run_at, head_job_id LIMIT {l}) AS c{}",
                    arms.len()
                ));
                binds.push((account.as_str(), now, *n as i64));
            }
        }
        let sql = arms.join(" UNION ALL ");
        let mut query = sqlx::query(&sql);
        for (account, now, n) in binds {
            query = query.bind(account).bind(now).bind(n);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(Candidate {
                    lane: row.try_get("lane")?,
                    account_id: row.try_get("account_id")?,
                    class: row.try_get("class")?,
                    run_at: row.try_get("run_at")?,
                    head: row.try_get("head_job_id")?,
                })
            })
            .collect()
    }

    /// Takes the chosen lanes that are still due (their `run_at` becomes our lease's end) and
    /// returns them with their heads. Postgres skips rows another replica is updating.
    async fn hold_lanes(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        owner: &str,
        chosen: &[Candidate],
        now: i64,
        lease_ms: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        // `?` binds in the order of appearance on SQLite: the list comes last.
        let mut p = Params::new(self.backend);
        let (u, o, t, o2, t2) = (p.one(), p.one(), p.one(), p.one(), p.one());
        let list = p.list(chosen.len());
        // Still due, and the account still ours (a lease lost since `due_accounts` is not used).
        let due_and_ours = format!(
            "run_at <= {t} AND head_job_id IS NOT NULL \
             AND EXISTS (SELECT 1 FROM account_queue q WHERE q.account_id = lane.account_id \
               AND q.owner = {o2} AND q.lease_until > {t2}) \
             AND lane IN ({list})"
        );
        let target = match self.backend {
            Backend::Postgres => format!(
                "lane IN (SELECT lane FROM lane WHERE {due_and_ours} FOR UPDATE OF lane SKIP LOCKED)"
            ),
            Backend::Sqlite => due_and_ours,
        };
        let sql = format!(
            "UPDATE lane SET run_at = {u}, lease_owner = {o} WHERE {target} RETURNING lane, head_job_id"
        );
        let mut query = sqlx::query(&sql)
            .bind(now + lease_ms)
            .bind(owner)
            .bind(now)
            .bind(owner)
            .bind(now);
        for c in chosen {
            query = query.bind(c.lane.as_str());
        }
        let rows = query.fetch_all(&mut **tx).await?;
        rows.iter()
            .map(|row| Ok((row.try_get("lane")?, row.try_get("head_job_id")?)))
            .collect()
    }

    /// The heartbeat: extends the leases of `lanes`, the lanes whose jobs this process is
    /// delivering or recording right now, then takes (or keeps) the accounts with due work
    /// (`take_leases`).
    ///
    /// Only the lanes named, not every lane leased to `owner`: a lane we hold but no longer
    /// work on (a claim whose COMMIT failed after it took effect, a delivery whose end could
    /// not be recorded and was given up) then runs out of lease and is claimed again, where
    /// renewing by owner kept it held, and its chat blocked, until a restart.
    pub async fn renew_leases(
        &self,
        owner: &str,
        lease_ms: i64,
        lanes: &[String],
    ) -> Result<(), StoreError> {
        let until = now_ms() + lease_ms;
        let mut sorted: Vec<&str> = lanes.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let mut tx = self.pool.begin().await?;
        // Lanes first and in key order, then accounts in id order, as in every transaction
        // here: no two wait on each other in a cycle (Postgres locks rows in the subquery's
        // order).
        let lock = match self.backend {
            Backend::Postgres => "ORDER BY lane FOR UPDATE",
            Backend::Sqlite => "",
        };
        for chunk in sorted.chunks(RENEW_CHUNK) {
            let mut p = Params::new(self.backend);
            let (u, o) = (p.one(), p.one());
            let list = p.list(chunk.len());
            let sql = format!(
                "UPDATE lane SET run_at = {u} WHERE lane IN \
                 (SELECT lane FROM lane WHERE lease_owner = {o} AND lane IN ({list}) {lock})"
            );
            let mut query = sqlx::query(&sql).bind(until).bind(owner);
            for lane in chunk {
                query = query.bind(*lane);
            }
            query.execute(&mut *tx).await?;
        }
        self.lease_accounts(&mut tx, owner, until).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes (or keeps) the lease of every enabled account with due work whose lease is free,
    /// expired or already ours: right after new jobs were stored, so their accounts need not
    /// wait for the heartbeat. Cheap: it touches only accounts with due work.
    pub async fn take_leases(&self, owner: &str, lease_ms: i64) -> Result<(), StoreError> {
        let until = now_ms() + lease_ms;
        let mut tx = self.pool.begin().await?;
        self.lease_accounts(&mut tx, owner, until).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The accounts' state is looked up per due row (`EXISTS`), not listed whole: a list of
    /// every enabled account was a scan of the account table at each lease, 3.5 ms at 10,000
    /// accounts, several times a second.
    async fn lease_accounts(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        owner: &str,
        until: i64,
    ) -> Result<(), StoreError> {
        let lock = match self.backend {
            Backend::Postgres => "ORDER BY account_id FOR UPDATE",
            Backend::Sqlite => "",
        };
        sqlx::query(&format!(
            "UPDATE account_queue SET owner = $1, lease_until = $2 WHERE account_id IN ( \
               SELECT account_id FROM account_queue \
               WHERE due_at <= $2 AND (owner = $1 OR owner IS NULL OR lease_until < $3) \
                 AND EXISTS (SELECT 1 FROM account a WHERE a.account_id = account_queue.account_id \
                   AND a.active = 1 AND a.frozen = 0) \
               {lock})"
        ))
        .bind(owner)
        .bind(until)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Gives our leases back (graceful shutdown): another replica, or our next run, takes the
    /// accounts over at once instead of after the lease time.
    pub async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        self.release(Some(owner)).await
    }

    /// Frees every lease. Only for SQLite at start-up: one process uses the file, so any lease
    /// in it is a previous run's.
    pub async fn release_all_leases(&self) -> Result<(), StoreError> {
        self.release(None).await
    }

    /// The job rows keep their last holder's name: it only matters to `finish_job`, and the
    /// next claim writes its own.
    ///
    /// Only the accounts whose lanes were held become due now: an account with nothing in
    /// flight keeps its due time. Making every leased account due (as before) gave a restart
    /// one claim round over every account that had worked in the last lease, a few hundred
    /// at scale, ahead of the first new message.
    async fn release(&self, owner: Option<&str>) -> Result<(), StoreError> {
        // Ours, or everyone's when no owner is given.
        let (lanes, accounts) = match owner {
            Some(_) => ("lease_owner = $2", "owner = $1"),
            None => ("lease_owner IS NOT NULL", "owner IS NOT NULL"),
        };
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        // Lanes first, then accounts, as in every transaction here.
        let sql = format!(
            "UPDATE lane SET run_at = $1, lease_owner = NULL WHERE {lanes} RETURNING account_id"
        );
        let mut query = sqlx::query(&sql).bind(now);
        if let Some(owner) = owner {
            query = query.bind(owner);
        }
        let released = query.fetch_all(&mut *tx).await?;
        let sql =
            format!("UPDATE account_queue SET owner = NULL, lease_until = 0 WHERE {accounts}");
        let mut query = sqlx::query(&sql);
        if let Some(owner) = owner {
            query = query.bind(owner);
        }
        query.execute(&mut *tx).await?;
        // The released lanes are due now: so are their accounts, for whoever leases next.
        let dues = released
            .iter()
            .map(|row| Ok((row.try_get::<String, _>("account_id")?, now)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.lower_dues(&mut tx, dues).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The queue's depth per direction, the failed jobs kept, and how long the longest-waiting
    /// due head has waited. Whole-table counts: for `/metrics`, not for the hot path.
    pub async fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        let now = now_ms();
        let mut stats = QueueStats::default();
        let rows = sqlx::query(
            "SELECT kind, state, COUNT(*) AS n FROM job WHERE state IN ('queued', 'failed') GROUP BY kind, state",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            let state: String = row.try_get("state")?;
            let n: i64 = row.try_get("n")?;
            let direction = Direction::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown job kind {kind:?}")))?
                .index();
            match state.as_str() {
                "queued" => stats.queued[direction] += n,
                _ => stats.failed += n,
            }
        }
        let rows = sqlx::query(
            "SELECT class, MIN(run_at) AS due FROM lane \
             WHERE head_job_id IS NOT NULL AND run_at <= $1 AND lease_owner IS NULL GROUP BY class",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            let class: i64 = row.try_get("class")?;
            let due: i64 = row.try_get("due")?;
            let direction = usize::from(class != CLASS_TO_MG);
            stats.oldest_due_ms[direction] = stats.oldest_due_ms[direction].max(now - due);
        }
        Ok(stats)
    }
}
