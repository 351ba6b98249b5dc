//! Delivery counters for `/metrics` (Prometheus text format): what was delivered, retried and
//! reported as failed, per direction; deliveries in flight; and the 99th-percentile queue wait
//! of the last minute; the file memory reserved. Plain atomics and one small histogram ring: a few series need no metrics
//! framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::bridge::failures::Reason;
use crate::bridge::file_budget::FileBudget;
use crate::domain::Direction;
use crate::store::QueueStats;

#[derive(Debug, Default)]
pub struct Metrics {
    delivered: [AtomicU64; 2],
    retried: [AtomicU64; 2],
    failed: [AtomicU64; 2],
    /// Failures by kind (`Reason::index`).
    failed_by_reason: [AtomicU64; Reason::ALL.len()],
    in_flight: AtomicU64,
    waits: [Mutex<WaitWindow>; 2],
}

/// The labels dashboards know from the Telegram-only versions; kept so they keep working.
const DIRECTIONS: [&str; 2] = ["telegram_to_mg", "mg_to_telegram"];

impl Metrics {
    pub fn delivered(&self, direction: Direction) {
        self.delivered[direction.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn retried(&self, direction: Direction) {
        self.retried[direction.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn failed(&self, direction: Direction, reason: Reason) {
        self.failed[direction.index()].fetch_add(1, Ordering::Relaxed);
        self.failed_by_reason[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// A delivery was claimed after waiting `wait_ms` since it was due.
    pub fn started(&self, direction: Direction, wait_ms: i64) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let now_s = crate::store::now_ms() / 1000;
        self.waits[direction.index()]
            .lock()
            .unwrap()
            .record(now_s, wait_ms.max(0) as u64);
    }

    pub fn ended(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// The counters of this process, its file memory, and the queue's depth from the database
    /// (all replicas).
    pub fn render(&self, queue: Option<QueueStats>, files: &FileBudget) -> String {
        let mut out = String::new();
        for (name, help, values) in [
            (
                "mgbridge_messages_delivered_total",
                "Jobs delivered.",
                &self.delivered,
            ),
            (
                "mgbridge_delivery_retries_total",
                "Delivery attempts to be retried.",
                &self.retried,
            ),
            (
                "mgbridge_messages_failed_total",
                "Jobs reported as failed (not delivered).",
                &self.failed,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (i, direction) in DIRECTIONS.iter().enumerate() {
                let value = values[i].load(Ordering::Relaxed);
                let _ = writeln!(out, "{name}{{direction=\"{direction}\"}} {value}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP mgbridge_failures_total Jobs reported as failed, by why (this process).\n\
             # TYPE mgbridge_failures_total counter"
        );
        for reason in Reason::ALL {
            let value = self.failed_by_reason[reason.index()].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "mgbridge_failures_total{{reason=\"{}\"}} {value}",
                reason.as_str()
            );
        }
        let _ = writeln!(
            out,
            "# HELP mgbridge_deliveries_in_flight Deliveries this process is running now.\n\
             # TYPE mgbridge_deliveries_in_flight gauge\nmgbridge_deliveries_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP mgbridge_file_memory_reserved_bytes Memory held for operators' attachments between download and upload (of queue.file_memory_mb).\n\
             # TYPE mgbridge_file_memory_reserved_bytes gauge\nmgbridge_file_memory_reserved_bytes {}\n\
             # HELP mgbridge_file_memory_budget_bytes queue.file_memory_mb, in bytes.\n\
             # TYPE mgbridge_file_memory_budget_bytes gauge\nmgbridge_file_memory_budget_bytes {}",
            files.reserved(),
            files.total()
        );
        let now_s = crate::store::now_ms() / 1000;
        let _ = writeln!(
            out,
            "# HELP mgbridge_queue_wait_p99_seconds 99th percentile of the time from due to claimed, over the last minute (this process).\n\
             # TYPE mgbridge_queue_wait_p99_seconds gauge"
        );
        for (i, direction) in DIRECTIONS.iter().enumerate() {
            let p99 = self.waits[i].lock().unwrap().quantile(now_s, 0.99);
            let _ = writeln!(
                out,
                "mgbridge_queue_wait_p99_seconds{{direction=\"{direction}\"}} {:.3}",
                p99 as f64 / 1000.0
            );
        }
        if let Some(queue) = queue {
            let _ = writeln!(
                out,
                "# HELP mgbridge_queue_jobs Jobs in the queue by state.\n# TYPE mgbridge_queue_jobs gauge\n\
                 mgbridge_queue_jobs{{state=\"queued\"}} {}\nmgbridge_queue_jobs{{state=\"failed\"}} {}",
                queue.queued_total(),
                queue.failed
            );
            let _ = writeln!(
                out,
                "# HELP mgbridge_queue_queued_jobs Queued jobs per direction.\n# TYPE mgbridge_queue_queued_jobs gauge"
            );
            for (i, direction) in DIRECTIONS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "mgbridge_queue_queued_jobs{{direction=\"{direction}\"}} {}",
                    queue.queued[i]
                );
            }
            let _ = writeln!(
                out,
                "# HELP mgbridge_queue_oldest_due_seconds How long the longest-waiting due job not yet claimed has been due.\n\
                 # TYPE mgbridge_queue_oldest_due_seconds gauge"
            );
            for (i, direction) in DIRECTIONS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "mgbridge_queue_oldest_due_seconds{{direction=\"{direction}\"}} {:.3}",
                    queue.oldest_due_ms[i] as f64 / 1000.0
                );
            }
        }
        out
    }
}

/// Seconds kept: the last minute.
const SECONDS: usize = 60;
/// Buckets grow by a quarter from 1 ms: the 70th ends past an hour.
const BUCKETS: usize = 70;
const GROWTH: f64 = 1.25;

/// Queue waits of the last minute, one histogram per second, so a quantile needs no samples.
#[derive(Debug)]
struct WaitWindow {
    seconds: Box<[(i64, [u32; BUCKETS]); SECONDS]>,
}

impl Default for WaitWindow {
    fn default() -> Self {
        Self {
            seconds: Box::new([(i64::MIN, [0; BUCKETS]); SECONDS]),
        }
    }
}

impl WaitWindow {
    fn record(&mut self, now_s: i64, wait_ms: u64) {
        let entry = &mut self.seconds[now_s.rem_euclid(SECONDS as i64) as usize];
        if entry.0 != now_s {
            *entry = (now_s, [0; BUCKETS]);
        }
        entry.1[bucket_of(wait_ms)] += 1;
    }

    /// The upper bound of the bucket holding quantile `q` of the last minute's waits (ms); 0
    /// when there were none.
    fn quantile(&self, now_s: i64, q: f64) -> u64 {
        let mut sum = [0u64; BUCKETS];
        for (second, counts) in self.seconds.iter() {
            let age = now_s.checked_sub(*second);
            if age.is_some_and(|age| (0..SECONDS as i64).contains(&age)) {
                for (total, n) in sum.iter_mut().zip(counts) {
                    *total += u64::from(*n);
                }
            }
        }
        let all: u64 = sum.iter().sum();
        if all == 0 {
            return 0;
        }
        let rank = (q * all as f64).ceil() as u64;
        let mut seen = 0;
        for (i, n) in sum.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return upper_bound(i);
            }
        }
        upper_bound(BUCKETS - 1)
    }
}

fn bucket_of(wait_ms: u64) -> usize {
    if wait_ms <= 1 {
        return 0;
    }
    ((wait_ms as f64).ln() / GROWTH.ln())
        .ceil()
        .min((BUCKETS - 1) as f64) as usize
}

fn upper_bound(bucket: usize) -> u64 {
    GROWTH.powi(bucket as i32).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_p99_of_the_last_minute_ignores_older_seconds_and_is_within_a_bucket() {
        let mut window = WaitWindow::default();
        for _ in 0..990 {
            window.record(1_000, 5);
        }
        for _ in 0..10 {
            window.record(1_001, 2_000);
        }
        let p99 = window.quantile(1_001, 0.99);
        assert!((5..=7).contains(&p99), "{p99}");
        let p999 = window.quantile(1_001, 0.999);
        assert!((2_000..=2_500).contains(&p999), "{p999}");
        // A minute later the 5 ms waits are gone; the 2 s ones a second after that.
        assert!(window.quantile(1_060, 0.5) >= 2_000);
        assert_eq!(window.quantile(1_061, 0.5), 0);
    }

    #[test]
    fn a_wait_falls_into_a_bucket_whose_bound_is_not_below_it() {
        for wait in [0, 1, 2, 3, 10, 99, 1_000, 65_000, 3_600_000] {
            let bound = upper_bound(bucket_of(wait));
            assert!(bound >= wait, "{wait} > {bound}");
            assert!(
                bound as f64 <= (wait.max(1) as f64) * GROWTH + 1.0,
                "{wait}: {bound}"
            );
        }
    }
}
