//! Latency statistics of one stream of messages.

use std::collections::HashMap;
use std::time::Instant;

use crate::setup::ms;
use crate::traffic::Sent;

// ---- Latencies -------------------------------------------------------------------------------

/// Latencies of one stream, in ms; a message not delivered by the deadline counts as the time
/// from its post to the deadline, marked, so percentiles that land on it read "≥".
pub(crate) struct Latencies {
    /// (ms, delivered), sorted.
    samples: Vec<(f64, bool)>,
}

impl Latencies {
    pub(crate) fn new(mut samples: Vec<(f64, bool)>) -> Self {
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        Latencies { samples }
    }

    pub(crate) fn count(&self) -> usize {
        self.samples.len()
    }

    pub(crate) fn undelivered(&self) -> usize {
        self.samples.iter().filter(|(_, d)| !d).count()
    }

    /// The p-th percentile (as `benches/bridge/` takes it: the sample at len·p/100).
    pub(crate) fn at(&self, p: usize) -> Option<(f64, bool)> {
        if self.samples.is_empty() {
            return None;
        }
        let i = (self.samples.len() * p / 100).min(self.samples.len() - 1);
        Some(self.samples[i])
    }

    pub(crate) fn cell(&self, p: usize) -> String {
        match self.at(p) {
            None => "-".into(),
            Some((v, true)) => duration_ms(v),
            Some((v, false)) => format!("≥ {}", duration_ms(v)),
        }
    }

    pub(crate) fn max_cell(&self) -> String {
        match self.samples.last() {
            None => "-".into(),
            Some(&(v, d)) => format!("{}{}", if d { "" } else { "≥ " }, duration_ms(v)),
        }
    }

    /// Below `target_ms` at the p-th percentile, with the delivered value.
    pub(crate) fn meets(&self, p: usize, target_ms: f64) -> bool {
        self.at(p).is_some_and(|(v, d)| d && v < target_ms)
    }
}

pub(crate) fn duration_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        ms(v)
    }
}

pub(crate) fn since_ms(later: Instant, earlier: Instant) -> f64 {
    later.saturating_duration_since(earlier).as_secs_f64() * 1000.0
}

pub(crate) fn latencies_of(
    sent: &[Sent],
    at_mg: &HashMap<String, Instant>,
    deadline: Instant,
) -> Latencies {
    Latencies::new(
        sent.iter()
            .map(|s| match at_mg.get(&s.text) {
                Some(at) => (since_ms(*at, s.at), true),
                None => (since_ms(deadline, s.at), false),
            })
            .collect(),
    )
}
