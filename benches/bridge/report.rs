//! The report's rows and checks.

use crate::*;

pub(crate) fn cpu_cell(ns: u64, requests: usize) -> String {
    format!("{:.0}", ns as f64 / 1000.0 / requests as f64)
}

pub(crate) fn ingest_row(name: &str, db: &str, run: &Run, bare: &Run, check: String) -> String {
    format!(
        "| {name} | {db} | {} | {:.0} | {} | {} | {} | {:.2} | {} / {} / {} | {:.2} / {:.2} / {:.2} | {} | {check} |",
        run.sent,
        run.rate(),
        ms(run.percentile(50)),
        ms(run.percentile(99)),
        ms(run.max_ms()),
        run.rate() / bare.rate(),
        cpu_cell(run.cpu.service.max(run.cpu.bare), run.sent),
        cpu_cell(run.cpu.loader, run.sent),
        if db == "Postgres" {
            cpu_cell(run.cpu.postgres, run.sent)
        } else {
            "-".into()
        },
        run.cores(run.cpu.ours()),
        run.cores(run.cpu.kernel),
        run.cores(run.cpu.others()),
        match run.commits {
            Some(c) if c > 0 => format!("{c} / {:.1}", run.sent as f64 / c as f64),
            _ => "-".into(),
        },
    )
}

/// Set when another workload took a noticeable share of the machine during a measured run.
pub(crate) static DISTURBED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);
/// Cores used outside the benchmark above which a row is marked disturbed.
pub(crate) const DISTURBANCE: f64 = 0.25;

pub(crate) fn answers_check(run: &Run) -> (bool, String) {
    let (ok, mut check) = if run.ok == run.sent {
        (true, format!("{} × 200 ok", run.ok))
    } else {
        (
            false,
            format!(
                "FAILED: {} of {} answered as expected; e.g. {:?}",
                run.ok, run.sent, run.errors
            ),
        )
    };
    let other = run.cores(run.cpu.others());
    if other > DISTURBANCE {
        DISTURBED.store(true, Ordering::Relaxed);
        check.push_str(&format!(
            "; DISTURBED: {other:.2} cores used outside the benchmark"
        ));
    }
    (ok, check)
}
