//! The delivery worker: claims lane heads from the queue (`store::queue`), delivers each
//! through the `courier`, and settles it: done, retried later with backoff, or reported as
//! failed. One loop per process, up to `queue.concurrency` deliveries at a time, and as many
//! again that wait for file memory (`Seat`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::bridge::courier::Courier;
use crate::bridge::delivery::DeliveryError;
use crate::bridge::failures::Reason;
use crate::bridge::group_commit::GroupCommit;
use crate::bridge::metrics::Metrics;
use crate::bridge::recovery::Recovery;
use crate::bridge::schedule::{RoundRobin, Wake};
use crate::config::QueueSettings;
use crate::domain::{AccountId, Direction};
use crate::mg::SendingErrorCode;
use crate::store::{ClaimedJob, Settlement, Store, StoreError};
use crate::telemetry::chain;

/// How soon after new jobs are committed the worker takes the leases of accounts it does not
/// hold yet (at most this often under an ingest burst).
const LEASE_AGAIN: Duration = Duration::from_millis(20);

/// What the worker needs; built once by `app`.
pub struct Worker {
    pub store: Store,
    /// Carries each claimed job.
    pub courier: Arc<Courier>,
    pub settings: QueueSettings,
    /// This process's name in leases: a new one per start.
    pub owner: String,
    pub wake: Arc<Wake>,
    pub metrics: Arc<Metrics>,
    /// Where deliveries' ends are recorded (`settler`).
    pub settler: Settler,
    /// Lanes backing off, made due again when their peer answers (`recovery`).
    pub recovery: Recovery,
    /// Where deliveries run, so shutdown can wait for them.
    pub tasks: TaskTracker,
}

/// Lanes whose jobs this process is delivering or recording, with the job: the heartbeat
/// renews exactly these (`Store::renew_leases`).
type InFlight = Arc<Mutex<HashMap<String, i64>>>;

/// Waits between attempts to record a delivery's end while the database is away.
const RECORD_RETRY_FIRST: Duration = Duration::from_millis(100);
const RECORD_RETRY_MAX: Duration = Duration::from_secs(2);

/// Group-commits how deliveries ended (`Store::settle_jobs`).
pub type Settler = GroupCommit<Settlement, Result<bool, Arc<StoreError>>>;

/// Settlements waiting for the writer at most (then deliveries wait), and per commit.
const SETTLE_PENDING: usize = 4_096;
const SETTLE_BATCH: usize = 256;

/// Starts the writer that records deliveries' ends for `owner`.
pub fn settler(store: Store, owner: String, tasks: &TaskTracker) -> Settler {
    GroupCommit::start(
        tasks,
        SETTLE_PENDING,
        SETTLE_BATCH,
        move |batch: Vec<Settlement>| {
            let (store, owner) = (store.clone(), owner.clone());
            async move {
                let n = batch.len();
                match store.settle_jobs(&owner, &batch).await {
                    Ok(settled) => settled.into_iter().map(Ok).collect(),
                    Err(e) => {
                        let e = Arc::new(e);
                        vec![Err(e); n]
                    }
                }
            }
        },
    )
}

impl Worker {
    /// Runs until `stop` turns true, then waits for deliveries in flight and gives the leases
    /// back.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let lease_ms = (self.settings.lease_seconds * 1000) as i64;
        let heartbeat = Duration::from_millis((lease_ms / 3).max(100) as u64);
        let poll = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        let concurrency = self.settings.concurrency.max(1);
        let slots = Arc::new(Semaphore::new(concurrency as usize));
        let aside = Arc::new(Semaphore::new(concurrency as usize));
        let shares = Arc::new(Mutex::new(RoundRobin::new(
            self.settings.account_concurrency as usize,
        )));
        let in_flight: InFlight = Arc::default();
        let mut last_heartbeat: Option<tokio::time::Instant> = None;
        let mut last_janitor = tokio::time::Instant::now();
        // New jobs (or a quiet poll) may belong to accounts we do not lease yet: lease before
        // claiming, at most every LEASE_AGAIN so an ingest burst does not turn into a lease
        // write per commit.
        let mut lease_wanted = true;
        let mut last_lease = tokio::time::Instant::now();
        while !*stop.borrow() {
            lease_wanted |= self.wake.take_new_jobs();
            if last_heartbeat.is_none_or(|at| at.elapsed() >= heartbeat) {
                self.heartbeat(lease_ms, &in_flight, &mut last_heartbeat)
                    .await;
                lease_wanted = false;
            } else if lease_wanted && last_lease.elapsed() >= LEASE_AGAIN {
                last_lease = tokio::time::Instant::now();
                lease_wanted = false;
                if let Err(e) = self.store.take_leases(&self.owner, lease_ms).await {
                    tracing::error!(error = %chain(&e), "taking queue leases failed");
                }
            }
            if last_janitor.elapsed() >= Duration::from_secs(600) {
                last_janitor = tokio::time::Instant::now();
                self.sweep().await;
            }
            let claimed = self.claim(&slots, &shares, lease_ms).await;
            let idle = claimed.is_empty();
            for job in claimed {
                // The same job claimed again: its lease lapsed in the store while its end waited
                // to be recorded, and that delivery decides it. (The lane's next job, claimed
                // while the previous one's task is still finishing, is new work.)
                let before = in_flight
                    .lock()
                    .unwrap()
                    .insert(job.lane.clone(), job.job_id);
                if before == Some(job.job_id) {
                    tracing::warn!(job = job.job_id, lane = %job.lane, "a job in flight was claimed again; left to its delivery");
                    continue;
                }
                let permit = slots
                    .clone()
                    .try_acquire_owned()
                    .expect("no more jobs are claimed than there are free slots");
                shares.lock().unwrap().started(&job.account_id);
                self.metrics
                    .started(job.direction, crate::store::now_ms() - job.due_at);
                let worker = self.clone();
                let seat = Seat {
                    place: Mutex::new(Place::Slot { _permit: permit }),
                    aside: aside.clone(),
                    shares: shares.clone(),
                    account: job.account_id.clone(),
                    wake: self.wake.clone(),
                };
                let in_flight = in_flight.clone();
                let stop = stop.clone();
                self.tasks.spawn(async move {
                    let (lane, job_id) = (job.lane.clone(), job.job_id);
                    // Every line a delivery logs, down to the HTTP clients', says which job.
                    let span = tracing::info_span!(
                        "delivery",
                        job = job.job_id,
                        account = job.account_id.as_str(),
                        lane = %job.lane,
                        direction = job.direction.as_str(),
                        attempt = job.attempts,
                    );
                    worker.settle(job, &seat, &stop).instrument(span).await;
                    {
                        let mut in_flight = in_flight.lock().unwrap();
                        if in_flight.get(&lane) == Some(&job_id) {
                            in_flight.remove(&lane);
                        }
                    }
                    worker.metrics.ended();
                    drop(seat);
                    // The lane's next job, or another account's, may be claimable now.
                    worker.wake.slot_free();
                });
            }
            if idle {
                let wait = if lease_wanted { LEASE_AGAIN } else { poll };
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(wait) => lease_wanted = true,
                    _ = stop.changed() => {}
                }
            }
        }
        // Let deliveries in flight finish (each is bounded by its HTTP timeouts), those moved
        // aside too (they never wait for a slot, so this cannot deadlock).
        let _ = slots.acquire_many(concurrency).await;
        let _ = aside.acquire_many(concurrency).await;
        if let Err(e) = self.store.release_leases(&self.owner).await {
            tracing::warn!(error = %chain(&e), "giving queue leases back failed; they expire on their own");
        }
    }

    async fn heartbeat(
        &self,
        lease_ms: i64,
        in_flight: &InFlight,
        last: &mut Option<tokio::time::Instant>,
    ) {
        let lanes: Vec<String> = in_flight.lock().unwrap().keys().cloned().collect();
        match self.store.renew_leases(&self.owner, lease_ms, &lanes).await {
            Ok(()) => *last = Some(tokio::time::Instant::now()),
            Err(e) => tracing::error!(error = %chain(&e), "renewing queue leases failed"),
        }
    }

    /// One round of the scheduler: the free slots, shared round robin among our accounts with
    /// due work (`schedule`), become claimed lane heads.
    async fn claim(
        &self,
        slots: &Semaphore,
        shares: &Mutex<RoundRobin>,
        lease_ms: i64,
    ) -> Vec<ClaimedJob> {
        let free = slots.available_permits();
        if free == 0 {
            return Vec::new();
        }
        let round = async {
            let due = self.store.due_accounts(&self.owner).await?;
            if due.is_empty() {
                return Ok(Vec::new());
            }
            let wants = shares.lock().unwrap().share(due, free);
            if wants.is_empty() {
                return Ok(Vec::new());
            }
            self.store.claim_heads(&self.owner, lease_ms, &wants).await
        };
        round.await.unwrap_or_else(|e: StoreError| {
            // The database's own words (no parameters, so no secrets): busy, gone, …
            tracing::error!(error = %chain(&e), "claiming jobs failed");
            Vec::new()
        })
    }

    /// Delivers one job and records how it ended.
    async fn settle(&self, job: ClaimedJob, seat: &Seat, stop: &watch::Receiver<bool>) {
        let outcome = self.courier.deliver(&job, seat).await;
        let settled = match outcome {
            Ok(()) => {
                self.metrics.delivered(job.direction);
                let settled = self
                    .record(Settlement::Done { job_id: job.job_id }, stop)
                    .await;
                self.hasten_backed_off(&job).await;
                settled
            }
            Err(DeliveryError::Retry { after, reason }) if !self.out_of_time(&job) => {
                let delay = after
                    .map(|after| after.as_millis() as i64 + jitter(250))
                    .unwrap_or_else(|| self.backoff(job.attempts));
                tracing::warn!(job = job.job_id, lane = %job.lane, attempt = job.attempts, delay_ms = delay, reason = %reason, "delivery will be retried");
                self.metrics.retried(job.direction);
                if after.is_none() {
                    self.recovery
                        .backed_off(&job.account_id, job.direction, &job.lane, job.job_id);
                }
                self.record(
                    Settlement::Retry {
                        job_id: job.job_id,
                        delay_ms: delay,
                        error: reason,
                    },
                    stop,
                )
                .await
            }
            Err(DeliveryError::Retry { reason, .. }) => {
                let reason = format!(
                    "still failing after {} attempts over {} h: {reason}",
                    job.attempts, self.settings.max_age_hours
                );
                self.report_failure(&job, SendingErrorCode::General, true, &reason, stop)
                    .await
            }
            // Refused for good (MG's or the messenger's 4xx, a block): failed at once, for the
            // failed list, and the lane moves on.
            Err(DeliveryError::Failed { code, reason }) => {
                self.report_failure(&job, code, false, &reason, stop).await
            }
        };
        match settled {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    job = job.job_id,
                    "the job's lease was lost before it was settled"
                )
            }
            Err(e) => {
                // Only when stopping with the database away: the lane is no longer renewed, its
                // lease runs out and the job is delivered again (receivers dedupe it).
                tracing::error!(job = job.job_id, error = %chain(&*e), "recording a delivery failed; it will be delivered again")
            }
        }
    }

    /// Reports a job that will not be delivered: to MG for an operator's message (ack with an
    /// error, so the operator sees it failed), and always in the log and the metrics.
    async fn report_failure(
        &self,
        job: &ClaimedJob,
        code: SendingErrorCode,
        gave_up: bool,
        reason: &str,
        stop: &watch::Receiver<bool>,
    ) -> Result<bool, Arc<StoreError>> {
        let kind = Reason::of(job.direction, code, gave_up);
        tracing::error!(job = job.job_id, lane = %job.lane, direction = job.direction.as_str(), code = ?code, kind = kind.as_str(), reason = %reason, "delivery failed for good");
        if job.direction == Direction::ToMessenger {
            match self.courier.ack_failure(job, code, reason).await {
                Ok(()) => {}
                // MG must hear about it: the job runs again later (parts already sent are
                // recorded and not sent again) and reports again if it still fails.
                Err(e @ DeliveryError::Retry { .. }) if !self.out_of_time(job) => {
                    let reason = format!("reporting the failure to MG: {e}");
                    return self
                        .record(
                            Settlement::Retry {
                                job_id: job.job_id,
                                delay_ms: self.backoff(job.attempts),
                                error: reason,
                            },
                            stop,
                        )
                        .await;
                }
                Err(e) => {
                    tracing::error!(job = job.job_id, error = %e, "MG did not take the failure report either")
                }
            }
        }
        self.metrics.failed(job.direction, kind);
        self.record(
            Settlement::Failed {
                job_id: job.job_id,
                reason: kind.as_str(),
                error: reason.to_owned(),
            },
            stop,
        )
        .await
    }

    /// Records a delivery's end through the group-commit writer: one commit per batch of
    /// deliveries, not per delivery. While the database is away it tries again, with growing
    /// pauses, until it is back (the heartbeat keeps the lane ours meanwhile, so the job is
    /// neither delivered twice nor forgotten), or until the service stops.
    async fn record(
        &self,
        settlement: Settlement,
        stop: &watch::Receiver<bool>,
    ) -> Result<bool, Arc<StoreError>> {
        let mut pause = RECORD_RETRY_FIRST;
        let mut failures = 0u32;
        loop {
            let outcome = self
                .settler
                .submit(settlement.clone())
                .await
                // The writer is gone only when the service stops, as the pool is closed.
                .unwrap_or_else(|| Err(Arc::new(StoreError::Database(sqlx::Error::PoolClosed))));
            let e = match outcome {
                Err(e) if !*stop.borrow() => e,
                done => return done,
            };
            failures += 1;
            if failures % 30 == 1 {
                tracing::error!(error = %chain(&*e), failures, "recording a delivery's end failed; trying again");
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RECORD_RETRY_MAX);
        }
    }

    /// After a delivery went through: the account's lanes that backed off in the same
    /// direction are due now (`recovery`).
    async fn hasten_backed_off(&self, job: &ClaimedJob) {
        let lanes = self.recovery.succeeded(&job.account_id, job.direction);
        if lanes.is_empty() {
            return;
        }
        match self.store.hasten_lanes(&lanes).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(
                    lanes = n,
                    "a peer answers again: its waiting lanes are due now"
                );
                self.wake.slot_free();
            }
            Err(e) => {
                tracing::warn!(error = %chain(&e), "making waiting lanes due failed; they keep their backoff")
            }
        }
    }

    /// Past the age limit: the next failure is final.
    fn out_of_time(&self, job: &ClaimedJob) -> bool {
        let age_ms = crate::store::now_ms() - job.created_at;
        age_ms >= (self.settings.max_age_hours * 3_600_000) as i64
    }

    /// Full-jitter exponential backoff: uniform in [0, min(max, base * 2^(attempt-1))], at
    /// least a tenth of the base so a failing lane never spins.
    fn backoff(&self, attempts: i64) -> i64 {
        let base = self.settings.retry_base_ms.max(1) as i64;
        let cap = self.settings.retry_max_ms.max(1) as i64;
        let exp = base.saturating_mul(1i64 << attempts.clamp(1, 30).saturating_sub(1));
        let ceiling = exp.min(cap);
        (base / 10).max(rand::thread_rng().gen_range(0..=ceiling))
    }

    /// The janitor: finished jobs past the dedupe window, idle limiter keys.
    async fn sweep(&self) {
        let keep_ms = (self.settings.keep_done_hours * 3_600_000) as i64;
        let keep_failed_ms = (self.settings.keep_failed_days * 86_400_000) as i64;
        match self
            .store
            .delete_finished_jobs(keep_ms, keep_failed_ms)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "deleted finished jobs past the dedupe window"),
            Err(e) => tracing::warn!(error = %chain(&e), "deleting finished jobs failed"),
        }
        self.courier.messengers.sweep();
        self.courier.mg.mg.forget_idle_tokens();
    }
}

/// Where a delivery runs: one of the worker's `queue.concurrency` slots, or, once it has had to
/// wait for file memory, one of as many places kept aside for such deliveries. Moving aside
/// frees the slot (and the account's share of them) for deliveries without files, such as
/// other chats' texts. A delivery aside never waits for a slot again, so the file budget and
/// the slots cannot wait on each other: at most twice `queue.concurrency` deliveries run, and
/// the ones aside hold nothing but their files, which the budget bounds.
pub struct Seat {
    place: Mutex<Place>,
    aside: Arc<Semaphore>,
    shares: Arc<Mutex<RoundRobin>>,
    account: AccountId,
    wake: Arc<Wake>,
}

/// Each holds its permit until the delivery ends.
enum Place {
    Slot { _permit: OwnedSemaphorePermit },
    Aside { _permit: OwnedSemaphorePermit },
}

impl Seat {
    /// The delivery is about to wait for file memory: give its slot to the next job, if a
    /// place aside is free (else it waits in its slot, as every delivery did before).
    pub fn step_aside(&self) {
        let mut place = self.place.lock().unwrap();
        if matches!(*place, Place::Aside { .. }) {
            return;
        }
        let Ok(aside) = self.aside.clone().try_acquire_owned() else {
            return;
        };
        *place = Place::Aside { _permit: aside };
        self.shares.lock().unwrap().ended(&self.account);
        self.wake.slot_free();
        tracing::debug!("waiting for file memory: the delivery's slot goes to the next job");
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        if matches!(*self.place.get_mut().unwrap(), Place::Slot { .. }) {
            self.shares.lock().unwrap().ended(&self.account);
        }
    }
}

fn jitter(max_ms: i64) -> i64 {
    rand::thread_rng().gen_range(0..=max_ms)
}
