//! Fair delivery benchmark: how one account's load delays the others, against the real service
//! binary run as a child process (`testkit/src/service_process.rs`), on SQLite and on Postgres.
//! Not a timed test; run it with
//!
//!     cargo bench --bench fair
//!
//! The fake CRM, MG and Telegram of the integration tests run in this process on their own
//! tokio runtime. Every account is connected over HTTP as a merchant would (connect form, add
//! bot), each with its own fake CRM (its own origin and MG transport token) and its own bot;
//! all accounts share one fake MG (which limits each token to 30 requests in any second, as MG
//! does) and one fake Bot API.
//!
//! Scenarios (`MGBRIDGE_FAIR_SCENARIOS=mailing,accounts,claim`, all by default):
//!
//! 1. **mailing**: accounts A and B. Idle phase: B's customers write (Telegram updates to B's
//!    webhook) at `MGBRIDGE_FAIR_B_RATE`/s for `MGBRIDGE_FAIR_IDLE_SECS`; latency = arrival at
//!    the fake MG minus the post. Then A's operators post a mailing: `MGBRIDGE_FAIR_MAILING`
//!    `message_sent` webhooks to as many distinct chats, over `MGBRIDGE_BENCH_CONNECTIONS`
//!    connections. For `MGBRIDGE_FAIR_WINDOW_SECS` after it is posted: B's customers write as
//!    before; A's customers write at `MGBRIDGE_FAIR_A_RATE`/s, each in a new chat; and A's
//!    operator answers each of them `MGBRIDGE_FAIR_REPLY_DELAY_MS` after the customer's message
//!    reached MG (or, if it has not `MGBRIDGE_FAIR_REPLY_FALLBACK_MS` after it was posted,
//!    then; counted as "early"): latency = that reply's `sendMessage` at the fake Telegram
//!    minus the post of its webhook. Mailing throughput = the mailing's `sendMessage`s at the
//!    fake Telegram within the window, per second. Then up to `MGBRIDGE_FAIR_GRACE_SECS` for
//!    the stragglers; what is not delivered by then is counted as such, with its latency taken
//!    as at least the time to that deadline. A's customers write slowly by default because A's
//!    MG token carries the mailing too: every mailing message is acked to MG (`POST
//!    /messages/ack`), so 29 msg/s of mailing, A's customers and the replies' acks must share
//!    MG's 30 req/s (29.7 with the client's 10 ms margin); at 2/s each the targets could not
//!    all be met.
//! 2. **accounts**: `MGBRIDGE_FAIR_ACCOUNTS` accounts, each given `MGBRIDGE_FAIR_BACKLOG`
//!    customers' updates over `MGBRIDGE_FAIR_ACCOUNT_CHATS` chats, posted interleaved (one per
//!    account in turn) as fast as the service takes them. Per token at the fake MG: the sustained
//!    rate while draining (over whole 30-request windows, `testkit/src/bench/rate.rs`; a token not drained
//!    when the bench gives up: its requests over the time given); min and median over the
//!    tokens, aggregate, 429s, and how long the drain took. The bench gives up
//!    `MGBRIDGE_FAIR_DRAIN_SECS` after the first post, posting included (a service slow to take
//!    the updates in gets only those it took by then).
//! 3. **claim**: the cost of claiming work as the queue grows. One account; its backlog
//!    (`MGBRIDGE_FAIR_CLAIM_BACKLOGS`, default 1000 and 100000) is stored with the worker off
//!    (`MGBRIDGE__QUEUE__CONCURRENCY=0`), then a fresh service with the worker on delivers; over
//!    `MGBRIDGE_FAIR_CLAIM_SECS` (after a 2 s settle) the bench counts the jobs delivered and the
//!    CPU of the service and of the Postgres processes serving its database. The backlog is
//!    customers' updates over only `MGBRIDGE_FAIR_CLAIM_CHATS` (10) chats: nearly every queued
//!    job is then behind another in its lane, so a scheduler that looks for lane heads among
//!    queued jobs must look past all of them, and there are fewer heads than free delivery
//!    slots, so a `LIMIT` never ends the search early. Delivery itself is bounded by MG's
//!    30 req/s for the one token at both sizes, so CPU per delivered job compares the claim
//!    path's cost.
//!
//! On Postgres the bench runs `ANALYZE` on the service's database once each backlog is stored
//! (`MGBRIDGE_FAIR_ANALYZE=0` leaves it to autovacuum): a fresh database has no statistics for
//! the job table, and the queue's claim query took 42 ms instead of 0.8 ms over 10,000 queued
//! jobs without them, so the figures would otherwise depend on when autovacuum ran. Each
//! Postgres row says how often the job table was analyzed, by the bench and by autovacuum.
//!
//! Shared knobs: `MGBRIDGE_BENCH_DBS=sqlite,postgres`, `MGBRIDGE_BENCH_POSTGRES_URL`,
//! `MGBRIDGE_BENCH_CONNECTIONS` (64), and `MGBRIDGE_BENCH_BIN`: a service binary to run instead
//! of the one cargo built (to measure an older build with the same bench). The service inherits
//! the environment, so `MGBRIDGE__QUEUE__CONCURRENCY=…` and the like apply to it.
//!
//! The bench exits with status 1 when a check fails that means a broken run: a webhook not
//! accepted, a message delivered twice (stored twice at MG, or sent twice to a Telegram chat),
//! a chat's messages out of order (against the service's acceptance order, read from its job
//! table), a job failed, job rows not matching what was accepted. A missed performance target
//! only prints "target missed". Redeliveries that MG refused as duplicates (`POST /messages`
//! answered 400) are counted, not failed: the service delivers at least once.
//! Everything shares the machine's cores: each scenario reports the cores its parts used, and
//! marks DISTURBED what ran while other processes used more than a quarter of a core.

// The fakes and helpers shared with the tests (testkit/), named here so the scenarios reach
// them as `crate::fake_mg` and the like.
use mgbridge_testkit::bench::{load, procfs, rate, setup};
use mgbridge_testkit::{database, fake_crm, fake_mg, fake_telegram, service_process};

mod accounts;
mod checks;
mod claim;
mod latency;
mod mailing;
mod rig;
mod traffic;

use std::time::{Duration, Instant};

use accounts::many_accounts;
use claim::{claim_cost, ClaimResult};
use database::Db;
use latency::duration_ms;
use mailing::mailing;
use procfs::machine_notes;
use rig::DISTURBANCE;
use setup::{
    db_name, dbs_from_env, env_f64, env_list, env_usize, postgres_admin, postgres_rows_run,
};

struct Knobs {
    scenarios: Vec<String>,
    connections: usize,
    mailing: usize,
    idle: Duration,
    window: Duration,
    grace: Duration,
    b_rate: f64,
    a_rate: f64,
    reply_delay: Duration,
    reply_fallback: Duration,
    accounts: usize,
    backlog: usize,
    account_chats: usize,
    drain: Duration,
    claim_backlogs: Vec<usize>,
    claim_chats: usize,
    claim_window: Duration,
    /// Postgres: `ANALYZE` the service's database once each backlog is stored.
    analyze: bool,
}

impl Knobs {
    fn from_env() -> Self {
        let secs = |name: &str, default: f64| Duration::from_secs_f64(env_f64(name, default));
        Knobs {
            scenarios: env_list("MGBRIDGE_FAIR_SCENARIOS", "mailing,accounts,claim"),
            connections: env_usize("MGBRIDGE_BENCH_CONNECTIONS", 64),
            mailing: env_usize("MGBRIDGE_FAIR_MAILING", 10_000),
            idle: secs("MGBRIDGE_FAIR_IDLE_SECS", 10.0),
            window: secs("MGBRIDGE_FAIR_WINDOW_SECS", 40.0),
            grace: secs("MGBRIDGE_FAIR_GRACE_SECS", 30.0),
            b_rate: env_f64("MGBRIDGE_FAIR_B_RATE", 5.0),
            a_rate: env_f64("MGBRIDGE_FAIR_A_RATE", 0.5),
            reply_delay: Duration::from_millis(
                env_usize("MGBRIDGE_FAIR_REPLY_DELAY_MS", 1_000) as u64
            ),
            reply_fallback: Duration::from_millis(env_usize(
                "MGBRIDGE_FAIR_REPLY_FALLBACK_MS",
                5_000,
            ) as u64),
            accounts: env_usize("MGBRIDGE_FAIR_ACCOUNTS", 200),
            backlog: env_usize("MGBRIDGE_FAIR_BACKLOG", 500),
            account_chats: env_usize("MGBRIDGE_FAIR_ACCOUNT_CHATS", 4).max(1),
            drain: secs("MGBRIDGE_FAIR_DRAIN_SECS", 120.0),
            claim_backlogs: env_list("MGBRIDGE_FAIR_CLAIM_BACKLOGS", "1000,100000")
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect(),
            claim_chats: env_usize("MGBRIDGE_FAIR_CLAIM_CHATS", 10).max(1),
            claim_window: secs("MGBRIDGE_FAIR_CLAIM_SECS", 20.0),
            analyze: env_usize("MGBRIDGE_FAIR_ANALYZE", 1) != 0,
        }
    }

    fn runs(&self, scenario: &str) -> bool {
        self.scenarios.iter().any(|s| s == scenario)
    }
}

// ---- Report ----------------------------------------------------------------------------------

fn target(met: bool) -> &'static str {
    if met {
        "target met"
    } else {
        "target missed"
    }
}

fn main() {
    // The service inherits this process's environment; RUST_LOG would override its log filter.
    std::env::remove_var("RUST_LOG");
    let k = Knobs::from_env();
    let dbs = dbs_from_env();
    let admin = postgres_admin();
    let fakes_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("fakes")
        .enable_all()
        .build()
        .unwrap();
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load")
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();

    println!("mgbridge fair delivery benchmark");
    println!("machine: {}", machine_notes());
    println!(
        "service binary: {}",
        std::env::var("MGBRIDGE_BENCH_BIN")
            .unwrap_or_else(|_| format!("{} (built by cargo)", env!("CARGO_BIN_EXE_mgbridge")))
    );
    println!(
        "NOTE: everything shares these cores: the load generator (2 tokio threads) and the fakes \
         (1 thread) in this process, the service (a child process) and the database server. \
         \"cores\" columns: service / postgres (backends of the service's database and the \
         server's background processes) / this process / kernel threads / everything else."
    );
    println!(
        "knobs: scenarios {:?}; mailing {} messages, idle {:.0} s, window {:.0} s, grace {:.0} s, B {}/s, A {}/s, \
         reply {} ms after arrival (fallback {} ms after post); accounts {} × {} jobs over {} chats each, drain up to {:.0} s; \
         claim backlogs {:?} over {} chats, window {:.0} s; {} connections for bulk posts; \
         Postgres: ANALYZE after each backlog is stored: {}",
        k.scenarios,
        k.mailing,
        k.idle.as_secs_f64(),
        k.window.as_secs_f64(),
        k.grace.as_secs_f64(),
        k.b_rate,
        k.a_rate,
        k.reply_delay.as_millis(),
        k.reply_fallback.as_millis(),
        k.accounts,
        k.backlog,
        k.account_chats,
        k.drain.as_secs_f64(),
        k.claim_backlogs,
        k.claim_chats,
        k.claim_window.as_secs_f64(),
        k.connections,
        if k.analyze { "yes (MGBRIDGE_FAIR_ANALYZE=0 leaves it to autovacuum)" } else { "no, left to autovacuum" }
    );
    let postgres = postgres_rows_run(&load_rt, &dbs, &admin);
    println!();
    let runnable: Vec<Db> = dbs
        .iter()
        .copied()
        .filter(|db| *db == Db::Sqlite || postgres)
        .collect();

    let mut all_ok = true;
    let mut disturbed = false;
    let mut summary = Vec::new();

    // 1. Mailing.
    if k.runs("mailing") {
        let mut results = Vec::new();
        for &db in &runnable {
            println!(
                "{}: mailing: idle {:.0} s, {} messages, window {:.0} s, up to {:.0} s grace ...",
                db_name(db),
                k.idle.as_secs_f64(),
                k.mailing,
                k.window.as_secs_f64(),
                k.grace.as_secs_f64()
            );
            results.push((
                db,
                load_rt.block_on(mailing(fakes_rt.handle(), db, &admin, &k)),
            ));
        }
        println!();
        println!(
            "1. Mailing: account A's operators post {} messages to as many chats; meanwhile B's customers write at {}/s, \
             A's customers at {}/s (each a new chat) and A's operator answers each {} ms after the customer's message reached MG",
            k.mailing,
            k.b_rate,
            k.a_rate,
            k.reply_delay.as_millis()
        );
        println!();
        println!("| DB | stream | messages | p50 | p99 | max | not delivered within the bound | target |");
        println!("|---|---|---:|---:|---:|---:|---:|---|");
        for (db, r) in &results {
            let name = db_name(*db);
            let bound = format!("{:.0} s", r.bound.as_secs_f64());
            let added = match (r.b_idle.at(99), r.b_during.at(99)) {
                (Some((idle, _)), Some((during, d))) => {
                    let text = duration_ms(during - idle);
                    (
                        if d { text } else { format!("≥ {text}") },
                        d && during - idle < 100.0,
                    )
                }
                _ => ("-".into(), false),
            };
            println!(
                "| {name} | B's customers, idle (latency to MG) | {} | {} | {} | {} | {} (10 s) | |",
                r.b_idle.count(),
                r.b_idle.cell(50),
                r.b_idle.cell(99),
                r.b_idle.max_cell(),
                r.b_idle.undelivered()
            );
            println!(
                "| {name} | B's customers, during the mailing | {} | {} | {} | {} | {} ({bound}) | |",
                r.b_during.count(),
                r.b_during.cell(50),
                r.b_during.cell(99),
                r.b_during.max_cell(),
                r.b_during.undelivered()
            );
            println!(
                "| {name} | B's added p99 (during − idle) | | | **{}** | | | < 100 ms: {} |",
                added.0,
                target(added.1)
            );
            let a_met = r.a_customers.meets(99, 2000.0);
            println!(
                "| {name} | A's customers, during the mailing | {} | {} | **{}** | {} | {} ({bound}) | < 2 s: {} |",
                r.a_customers.count(),
                r.a_customers.cell(50),
                r.a_customers.cell(99),
                r.a_customers.max_cell(),
                r.a_customers.undelivered(),
                target(a_met)
            );
            let reply_met = r.replies.meets(99, 2000.0);
            println!(
                "| {name} | A's operator replies (webhook → sendMessage){} | {} | {} | **{}** | {} | {} ({bound}) | < 2 s: {} |",
                if r.replies_early > 0 {
                    format!(", {} posted before their customer's message reached MG", r.replies_early)
                } else {
                    String::new()
                },
                r.replies.count(),
                r.replies.cell(50),
                r.replies.cell(99),
                r.replies.max_cell(),
                r.replies.undelivered(),
                target(reply_met)
            );
            summary.push(format!(
                "{name} mailing: B added p99 {}, A customers p99 {}, replies p99 {}",
                target(added.1),
                target(a_met),
                target(reply_met)
            ));
        }
        println!();
        println!("| DB | mailing ingest | sent to Telegram in the window | mailing msgs/s | sent by the deadline | 429s at MG (A / B) | max req in any 1 s at MG (A / B) | POST /messages answered 400 (redeliveries) | cores busy in the window: service / postgres / bench / kernel / other | checks | target (≥ 29 msg/s, 0 × 429) |");
        println!("|---|---|---:|---:|---:|---:|---:|---:|---|---|---|");
        for (db, r) in &results {
            let rate = r.sent_in_window as f64 / r.window.as_secs_f64();
            let met = rate >= 29.0 && r.rate_limited == (0, 0);
            all_ok &= r.checks.ok();
            disturbed |= r.usage.disturbed();
            println!(
                "| {} | {} in {:.2} s ({:.0}/s) | {} in {:.1} s | **{:.1}** | {} of {} | {} / {} | {} / {} | {} | {} | {} | {} |",
                db_name(*db),
                r.posted.ok,
                r.posted.wall.as_secs_f64(),
                r.posted.sent as f64 / r.posted.wall.as_secs_f64(),
                r.sent_in_window,
                r.window.as_secs_f64(),
                rate,
                r.sent_by_deadline,
                r.posted.sent,
                r.rate_limited.0,
                r.rate_limited.1,
                r.max_in_second.0,
                r.max_in_second.1,
                r.refused,
                r.usage.cell(*db),
                r.checks.cell(),
                target(met)
            );
            summary.push(format!(
                "{} mailing throughput: {}",
                db_name(*db),
                target(met)
            ));
            if let Some(log) = &r.log {
                println!("{log}");
            }
        }
        println!();
    }

    // 2. Many accounts.
    if k.runs("accounts") {
        let mut results = Vec::new();
        for &db in &runnable {
            println!(
                "{}: {} accounts × {} jobs, up to {:.0} s to drain ...",
                db_name(db),
                k.accounts,
                k.backlog,
                k.drain.as_secs_f64()
            );
            results.push((
                db,
                load_rt.block_on(many_accounts(fakes_rt.handle(), db, &admin, &k)),
            ));
        }
        println!();
        println!(
            "2. Many accounts: each with its own token and bot and a backlog of customers' updates over {} chats, posted interleaved over {} connections; \
             given up {:.0} s after the first post. Per token: a drained token's rate over its whole 30-request windows, a token not drained: its requests over the time given",
            k.account_chats, k.connections, k.drain.as_secs_f64()
        );
        println!();
        println!("| DB | accounts × backlog | connect | ingest (stops at the give-up) | delivered | drain | per token req/s: min / median | tokens drained | aggregate req/s | 429s | max req in any 1 s (worst token) | POST /messages answered 400 (redeliveries) | cores busy: service / postgres / bench / kernel / other | checks | target (each ≥ 29 req/s, 0 × 429) |");
        println!("|---|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---|---|---|");
        for (db, r) in &results {
            let mut rates: Vec<f64> = r.rates.iter().map(|(rate, _)| *rate).collect();
            rates.sort_by(f64::total_cmp);
            let (min, median) = if rates.is_empty() {
                (0.0, 0.0)
            } else {
                (rates[0], rates[rates.len() / 2])
            };
            let drained = r.rates.iter().filter(|(_, d)| *d).count();
            let met = min >= 29.0 && r.rate_limited == 0 && drained == r.accounts;
            all_ok &= r.checks.ok();
            disturbed |= r.usage.disturbed();
            println!(
                "| {} | {} × {} | {:.1} s | {} of {} in {:.1} s ({:.0}/s) | {} of {} | {} | **{:.2} / {:.2}** | {} of {} | {:.0} | {} | {} | {} | {} | {} | {} |",
                db_name(*db),
                r.accounts,
                r.backlog,
                r.connect.as_secs_f64(),
                r.posted.ok,
                r.total,
                r.posted.wall.as_secs_f64(),
                r.posted.sent as f64 / r.posted.wall.as_secs_f64(),
                r.delivered,
                r.posted.ok,
                match r.drain {
                    Some(d) => format!("{:.1} s", d.as_secs_f64()),
                    None => format!("not drained in {:.0} s", k.drain.as_secs_f64()),
                },
                min,
                median,
                drained,
                r.accounts,
                r.aggregate,
                r.rate_limited,
                r.max_in_second,
                r.refused,
                r.usage.cell(*db),
                r.checks.cell(),
                target(met)
            );
            summary.push(format!("{} many accounts: {}", db_name(*db), target(met)));
            if let Some(log) = &r.log {
                println!("{log}");
            }
        }
        println!();
    }

    // 3. Claim cost.
    if k.runs("claim") && !k.claim_backlogs.is_empty() {
        let mut results = Vec::new();
        for &db in &runnable {
            for &backlog in &k.claim_backlogs {
                println!(
                    "{}: claim cost with {backlog} queued jobs over {} chats, {:.0} s window ...",
                    db_name(db),
                    k.claim_chats,
                    k.claim_window.as_secs_f64()
                );
                let r = load_rt.block_on(claim_cost(fakes_rt.handle(), db, &admin, backlog, &k));
                results.push((db, r));
            }
        }
        println!();
        println!(
            "3. Claim cost: one account, a backlog of customers' updates over {} chats stored with the worker off, then a fresh service delivers; {:.0} s window after a 2 s settle",
            k.claim_chats,
            k.claim_window.as_secs_f64()
        );
        println!();
        println!("| DB | backlog | ingest (worker off) | delivered in the window | jobs/s | service µs/job | postgres µs/job | total µs/job | queued at the end | 429s | POST /messages answered 400 (redeliveries) | cores busy: service / postgres / bench / kernel / other | checks |");
        println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
        for (db, r) in &results {
            all_ok &= r.checks.ok();
            disturbed |= r.usage.disturbed();
            println!(
                "| {} | {} | {:.1} s ({:.0}/s) | {} | {:.1} | {:.0} | {} | **{:.0}** | {} | {} | {} | {} | {} |",
                db_name(*db),
                r.backlog,
                r.ingest.wall.as_secs_f64(),
                r.ingest.sent as f64 / r.ingest.wall.as_secs_f64(),
                r.delivered,
                r.delivered as f64 / r.usage.wall.as_secs_f64(),
                r.per_job(r.usage.service),
                if *db == Db::Postgres {
                    format!("{:.0}", r.per_job(r.usage.postgres))
                } else {
                    "-".into()
                },
                r.total_per_job(),
                r.queued_after,
                r.rate_limited,
                r.refused,
                r.usage.cell(*db),
                r.checks.cell()
            );
            if let Some(log) = &r.log {
                println!("{log}");
            }
        }
        println!();
        for &db in &runnable {
            let of_db: Vec<&ClaimResult> = results
                .iter()
                .filter(|(d, _)| *d == db)
                .map(|(_, r)| r)
                .collect();
            let (Some(small), Some(large)) = (
                of_db.iter().min_by_key(|r| r.backlog),
                of_db.iter().max_by_key(|r| r.backlog),
            ) else {
                continue;
            };
            if small.backlog == large.backlog {
                continue;
            }
            let ratio = large.total_per_job() / small.total_per_job();
            let service_ratio =
                large.per_job(large.usage.service) / small.per_job(small.usage.service);
            let met = ratio <= 1.5 && large.delivered > 0 && small.delivered > 0;
            println!(
                "{}: CPU per delivered job at {} queued / at {} queued: **{ratio:.2}×** (service alone {service_ratio:.2}×); target ≤ 1.5×: {}",
                db_name(db),
                large.backlog,
                small.backlog,
                target(met)
            );
            summary.push(format!("{} claim cost: {}", db_name(db), target(met)));
        }
        println!();
    }

    if !postgres && dbs.contains(&Db::Postgres) {
        println!("Postgres: SKIPPED (unreachable)");
    }
    for line in &summary {
        println!("{line}");
    }
    println!(
        "checks (every webhook accepted, nothing delivered twice, order per chat, no failed job, job rows = accepted): {}",
        if all_ok { "passed" } else { "FAILED" }
    );
    if disturbed {
        println!(
            "WARNING: other processes used more than {DISTURBANCE} of a core during some measurements (marked DISTURBED): \
             those figures are pessimistic; run again on a quiet machine"
        );
    }
    println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
    load_rt.shutdown_background();
    fakes_rt.shutdown_background();
    if !all_ok {
        std::process::exit(1);
    }
}
