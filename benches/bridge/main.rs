//! Benchmark of the durable webhook ingest and of the end-to-end path, against the real service
//! binary run as a child process, on SQLite and on Postgres. Not a timed test; run it with
//!
//!     cargo bench --bench bridge
//!
//! Rows (sizes and the database list can be changed with MGBRIDGE_BENCH_UPDATES,
//! MGBRIDGE_BENCH_CONNECTIONS, MGBRIDGE_BENCH_E2E, MGBRIDGE_BENCH_E2E_RATE, MGBRIDGE_BENCH_DBS;
//! the service inherits the environment, so MGBRIDGE__DATABASE__MAX_CONNECTIONS=20 and the
//! like try other settings):
//!
//! 1. bare: an axum handler answering 200 `{}` and doing nothing else, on its own 2-thread
//!    tokio runtime in this process, loaded exactly like the service (same bodies, headers,
//!    connections and count);
//! 2. Telegram webhook ingest, durable, with the delivery worker off
//!    (`MGBRIDGE__QUEUE__CONCURRENCY=0`): distinct updates over 1,000 private chats, sent by
//!    64 keep-alive connections; every answer must be 200 `{}` and the job table must hold
//!    exactly what was sent;
//! 3. MG `message_sent` ingest, the same way; answers must be `{"async":true}`;
//! 4. end to end with the worker on: a Telegram update in → `POST /messages` arriving at the
//!    fake MG, at a steady rate below MG's 30 req/s cap;
//! 5. resident memory of the service: idle after connect (VmRSS) and the peak under the ingest
//!    load (VmHWM).
//!
//! Diagnostics beside them: CPU per request of the service, the load generator and Postgres,
//! and the cores busy over each run (a row where other processes used more than a quarter of
//! a core is marked DISTURBED); the group-commit writer's commits per run (distinct
//! `created_at` values); and `Store::enqueue_jobs` timed alone from this process.
//!
//! Postgres: MGBRIDGE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
//! each service gets a new database `mgbridge_bench_<uuid>`, dropped afterwards. When the server
//! cannot be reached its rows say SKIPPED.
//!
//! Everything shares the machine's cores: the load generator and the fakes (this process) with
//! the service (a child process) and the database server. Results and their meaning:
//! BENCHMARKS.md.

mod cpu;
mod report;
mod rig;
mod runs;
mod scenarios;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use reqwest::header::HeaderValue;
use serde_json::{json, Value};
use sqlx::Connection;

use mgbridge_testkit::bench::{load, procfs, setup, threads};
use mgbridge_testkit::{database, fake_crm, fake_mg, fake_telegram, service_process};

use database::{Db, TestDatabase};
use fake_crm::FakeCrm;
use fake_mg::FakeMg;
use fake_telegram::FakeTelegram;
use load::{clients, json_headers, message_sent, post_all, telegram_update, Target, TG_OK};
use procfs::{machine_notes, process_cpu_ns, SystemCpu};
use service_process::{connect_and_add_bot, ServiceProcess};
use setup::{bench_env, db_name, dbs_from_env, env_usize, ms, postgres_admin, postgres_rows_run};

use cpu::*;
use report::*;
use rig::*;
use runs::*;
use scenarios::*;

/// Private chats the ingest load is spread over.
const INGEST_CHATS: i64 = 1_000;
/// Chats of the end-to-end run.
const E2E_CHATS: i64 = 50;
/// Requests sent before each measured ingest run (new connections, caches, statements); they
/// are stored too and counted in the job check.
const WARM_UP: usize = 2_000;

fn main() {
    // The service inherits this process's environment; RUST_LOG would override its log filter.
    std::env::remove_var("RUST_LOG");
    let updates = env_usize("MGBRIDGE_BENCH_UPDATES", 30_000);
    let connections = env_usize("MGBRIDGE_BENCH_CONNECTIONS", 64);
    let e2e_count = env_usize("MGBRIDGE_BENCH_E2E", 600);
    let e2e_rate = env_usize("MGBRIDGE_BENCH_E2E_RATE", 20) as f64;
    let dbs = dbs_from_env();
    let admin = postgres_admin();
    let settings = mgbridge::config::Settings::load(None).expect("configuration");

    let fakes_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("fakes")
        .enable_all()
        .build()
        .unwrap();
    let bare_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bare")
        .enable_all()
        .build()
        .unwrap();
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load")
        .enable_all()
        .build()
        .unwrap();

    println!("mgbridge bridge benchmark");
    println!("machine: {}", machine_notes());
    println!(
        "NOTE: everything shares these cores: the load generator (2 tokio threads) and the fakes \
         (1 thread) in this process, the service (a child process, tokio's default runtime) and \
         the database server. Figures are for this whole set-up, not for the service alone."
    );
    println!(
        "load: {updates} distinct requests per ingest row (+{WARM_UP} warm-up), {connections} keep-alive \
         connections, {INGEST_CHATS} chats; end to end: {e2e_count} updates at {e2e_rate}/s over \
         {E2E_CHATS} chats; service database.max_connections = {} (MGBRIDGE__DATABASE__MAX_CONNECTIONS)",
        settings.database.max_connections
    );
    let postgres = postgres_rows_run(&load_rt, &dbs, &admin);
    println!("SQLite: journal_mode=WAL, synchronous=FULL (set by the service)");
    println!();

    // 1. Bare baseline, loaded like the service.
    let bare_url = start_bare(&bare_rt);
    println!("bare axum baseline ...");
    let (bare_tg, bare_mg) = load_rt.block_on(async {
        let clients = clients(connections);
        let mut headers = json_headers();
        headers.insert(
            "X-Telegram-Bot-Api-Secret-Token",
            HeaderValue::from_static("0123456789abcdef0123456789abcdef0123456789abcdef"),
        );
        let tg = Target {
            url: format!("{bare_url}/telegram/0123456789abcdef0123456789abcdef"),
            headers,
            expect: TG_OK,
        };
        blast(&clients, &tg, telegram_bodies(0, WARM_UP), None).await;
        let tg_run = blast(&clients, &tg, telegram_bodies(WARM_UP, updates), None).await;
        let mut headers = json_headers();
        headers.insert(
            "Clientid",
            HeaderValue::from_static("0123456789abcdef0123456789abcdef"),
        );
        let mg = Target {
            url: format!("{bare_url}/webhook/mg"),
            headers,
            expect: TG_OK,
        };
        blast(&clients, &mg, mg_bodies(0, WARM_UP, 1), None).await;
        let mg_run = blast(&clients, &mg, mg_bodies(WARM_UP, updates, 1), None).await;
        (tg_run, mg_run)
    });

    let mut ingest_results: Vec<(Db, Option<IngestResult>)> = Vec::new();
    let mut e2e_results: Vec<(Db, Option<E2eResult>)> = Vec::new();
    for &db in &dbs {
        if db == Db::Postgres && !postgres {
            ingest_results.push((db, None));
            e2e_results.push((db, None));
            continue;
        }
        println!("{}: ingest (worker off) ...", db_name(db));
        let result = load_rt.block_on(ingest(fakes_rt.handle(), db, &admin, updates, connections));
        ingest_results.push((db, Some(result)));
        if e2e_count < 2 {
            continue;
        }
        println!(
            "{}: end to end (worker on), about {:.0} s ...",
            db_name(db),
            e2e_count as f64 / e2e_rate + 2.0
        );
        let result = load_rt.block_on(end_to_end(
            fakes_rt.handle(),
            db,
            &admin,
            e2e_count,
            e2e_rate,
        ));
        e2e_results.push((db, Some(result)));
    }

    // ---- Tables ----
    let mut all_ok = true;
    println!();
    println!("Ingest: {updates} distinct requests over {connections} keep-alive connections (after {WARM_UP} warm-up)");
    println!();
    println!("| row | DB | requests | req/s | p50 | p99 | max | rate vs bare | CPU µs/req: server / loader / postgres | cores busy: bench / kernel threads / other | commits / jobs per commit | checks |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---|");
    let (ok, check) = answers_check(&bare_tg);
    all_ok &= ok;
    println!(
        "{}",
        ingest_row("bare axum, Telegram bodies", "-", &bare_tg, &bare_tg, check)
    );
    let (ok, check) = answers_check(&bare_mg);
    all_ok &= ok;
    println!(
        "{}",
        ingest_row("bare axum, MG bodies", "-", &bare_mg, &bare_mg, check)
    );
    let mut targets_met = true;
    for (db, result) in &ingest_results {
        let Some(r) = result else {
            for name in ["Telegram ingest", "MG message_sent ingest"] {
                println!(
                    "| {name} | {} | SKIPPED: Postgres unreachable |{}",
                    db_name(*db),
                    " |".repeat(9)
                );
            }
            continue;
        };
        for (name, run, bare, jobs) in [
            (
                "Telegram ingest",
                &r.telegram,
                &bare_tg,
                r.jobs_after_telegram,
            ),
            ("MG message_sent ingest", &r.mg, &bare_mg, r.jobs_after_mg),
        ] {
            let (ok, mut check) = answers_check(run);
            all_ok &= ok;
            if jobs.0 == jobs.1 {
                check.push_str(&format!("; job rows {} = expected", jobs.0));
            } else {
                all_ok = false;
                check.push_str(&format!(
                    "; FAILED: job rows {} ≠ expected {}",
                    jobs.0, jobs.1
                ));
            }
            targets_met &= run.rate() >= 10_000.0 && run.percentile(99) < 25.0;
            println!("{}", ingest_row(name, db_name(*db), run, bare, check));
        }
    }
    println!();
    println!("End to end: Telegram update posted → POST /messages arriving at the fake MG ({e2e_count} updates, {E2E_CHATS} chats)");
    println!();
    println!("| DB | updates | posted at | answered 200 | delivered | p50 | p99 | max | duplicates | 429s at MG | order per chat |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (db, result) in &e2e_results {
        let Some(r) = result else {
            println!(
                "| {} | SKIPPED: Postgres unreachable |{}",
                db_name(*db),
                " |".repeat(9)
            );
            continue;
        };
        let ok =
            r.answered_ok == r.sent && r.delivered == r.sent && r.duplicates == 0 && r.in_order;
        all_ok &= ok;
        println!(
            "| {} | {} | {:.1}/s | {} | {}{} | {} | {} | {} | {} | {} | {} |",
            db_name(*db),
            r.sent,
            r.rate,
            r.answered_ok,
            r.delivered,
            if r.delivered == r.sent {
                ""
            } else {
                " (FAILED)"
            },
            ms(r.percentile(50)),
            ms(r.percentile(99)),
            ms(r.latencies.last().copied().unwrap_or(0) as f64 / 1000.0),
            r.duplicates,
            r.rate_limited,
            if r.in_order { "kept" } else { "FAILED" }
        );
    }
    println!();
    println!("The ingest writer's database step alone: Store::enqueue_jobs called from this process, one commit at a time, service idle (median of 200)");
    println!();
    println!("| DB | 1 job | 32 jobs | 64 jobs | SELECT 1 round trip |");
    println!("|---|---:|---:|---:|---:|");
    for (db, result) in &ingest_results {
        let Some(r) = result else {
            println!("| {} | SKIPPED | | | |", db_name(*db));
            continue;
        };
        {
            let w = &r.writer;
            println!(
                "| {} | {} | {} | {} | {} |",
                db_name(*db),
                ms(w.batch_1),
                ms(w.batch_32),
                ms(w.batch_64),
                ms(w.select_1)
            );
        }
    }
    println!();
    println!("Service memory (ingest service, worker off)");
    println!();
    println!("| DB | idle after connect (VmRSS) | peak under ingest (VmHWM) |");
    println!("|---|---:|---:|");
    for (db, result) in &ingest_results {
        match result {
            Some(r) => println!(
                "| {} | {:.1} MiB | {:.1} MiB |",
                db_name(*db),
                r.idle_rss_kib as f64 / 1024.0,
                r.peak_rss_kib as f64 / 1024.0
            ),
            None => println!("| {} | SKIPPED | SKIPPED |", db_name(*db)),
        }
    }
    println!();
    println!(
        "targets (ingest ≥ 10,000 req/s and p99 < 25 ms, every measured DB): {}; checks (every answer, every job row, every delivery): {}",
        match (targets_met, ingest_results.iter().any(|(_, r)| r.is_none())) {
            (true, false) => "met",
            (true, true) => "met where measured (Postgres SKIPPED)",
            (false, _) => "MISSED",
        },
        if all_ok { "passed" } else { "FAILED" }
    );
    if DISTURBED.load(Ordering::Relaxed) {
        println!(
            "WARNING: other processes used more than {DISTURBANCE} of a core during some rows (marked DISTURBED): \
             those figures are low; run again on a quiet machine"
        );
    }
    load_rt.shutdown_background();
    bare_rt.shutdown_background();
    fakes_rt.shutdown_background();
    if !all_ok {
        std::process::exit(1);
    }
}
