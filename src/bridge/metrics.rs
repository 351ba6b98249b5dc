//! Delivery counters for `/metrics` (Prometheus text format): what was delivered, retried and
//! reported as failed, per direction. Plain atomics: a few counters need no metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::{JobKind, QueueStats};

#[derive(Debug, Default)]
pub struct Metrics {
    delivered: [AtomicU64; 2],
    retried: [AtomicU64; 2],
    failed: [AtomicU64; 2],
}

fn slot(kind: JobKind) -> usize {
    match kind {
        JobKind::Telegram => 0,
        JobKind::Mg => 1,
    }
}

const DIRECTIONS: [&str; 2] = ["telegram_to_mg", "mg_to_telegram"];

impl Metrics {
    pub fn delivered(&self, kind: JobKind) {
        self.delivered[slot(kind)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn retried(&self, kind: JobKind) {
        self.retried[slot(kind)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn failed(&self, kind: JobKind) {
        self.failed[slot(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counters of this process, and the queue's depth from the database (all replicas).
    pub fn render(&self, queue: Option<QueueStats>) -> String {
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
        if let Some(queue) = queue {
            let _ = writeln!(
                out,
                "# HELP mgbridge_queue_jobs Jobs in the queue by state.\n# TYPE mgbridge_queue_jobs gauge\n\
                 mgbridge_queue_jobs{{state=\"queued\"}} {}\nmgbridge_queue_jobs{{state=\"failed\"}} {}",
                queue.queued, queue.failed
            );
        }
        out
    }
}
