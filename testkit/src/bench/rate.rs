//! The rate a token sustained at the receiver, as `mg_rate.rs` and `fair/` report it.

use std::time::Instant;

/// Sustained rate over whole windows, in requests per second, of sorted arrival times: 30·k
/// requests between the last arrival and the one 30·k before it (the same place in an earlier
/// window). The first window alone would look faster: its 30 are spread only by governor (5 at
/// once, then one per 1/30 s). Fewer than 31 arrivals: over all of them. Infinite for fewer than
/// two.
pub fn sustained_rate(times: &[Instant]) -> f64 {
    if times.len() < 2 {
        return f64::INFINITY;
    }
    let whole = (times.len() - 1) / 30 * 30;
    let intervals = if whole > 0 { whole } else { times.len() - 1 };
    let last = times[times.len() - 1];
    let span = last
        .duration_since(times[times.len() - 1 - intervals])
        .as_secs_f64();
    if span > 0.0 {
        intervals as f64 / span
    } else {
        f64::INFINITY
    }
}
