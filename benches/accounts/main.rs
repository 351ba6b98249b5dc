//! Many accounts on one small machine: the release service binary as a child process, with N
//! accounts (each its own CRM origin, MG token and Telegram bot) seeded straight through the
//! store with real sealed secrets, against the loopback fakes, on SQLite and on Postgres. Run it
//! with
//!
//!     cargo bench --bench accounts
//!
//! For each database and each account count (MGBRIDGE_BENCH_ACCOUNTS, default 100,2000,10000):
//!
//! 1. seed N accounts (`seed.rs`) and start the service; its start-up reconcile is let run fast
//!    (`MGBRIDGE__MG__RECONCILE_PER_SECOND`) and the bench waits for it to finish;
//! 2. idle: resident memory (VmRSS) and the CPU the service used over MGBRIDGE_BENCH_IDLE_SECONDS
//!    (default 10) with nothing to do;
//! 3. a sample of MGBRIDGE_BENCH_SAMPLE accounts (default 20, spread over all) checked end to
//!    end over the real webhooks: a customer's message reaches the fake MG with that account's
//!    token, an operator's reply reaches the fake Telegram through that account's bot;
//! 4. MGBRIDGE_BENCH_MESSAGES customers' messages (default 400) at MGBRIDGE_BENCH_RATE per
//!    second (default 20), each to a random account: latency from the post to the fake MG,
//!    and how many took longer than the poll interval (500 ms, the default, is set);
//! 5. restart (SIGTERM, then a new process with the default reconcile pace): time until
//!    `/health/ready` answers, the same messages' latency during its reconcile, and, after a
//!    second restart without traffic, the CPU the new process used in its first 10 s and the
//!    reconcile's MG calls per second.
//!
//! MGBRIDGE_BENCH_DURING_AFTER_SECONDS (default 0) starts the messages of 5. that long after the
//! restart instead of at once. MGBRIDGE_BENCH_DBS=sqlite,postgres picks the databases; Postgres at
//! MGBRIDGE_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres). Results
//! and what they mean: BENCHMARKS.md.

mod seed;
mod traffic;

use std::time::{Duration, Instant};

use axum::http::Method;

use mgbridge_testkit::bench::{load, procfs, setup};
use mgbridge_testkit::{database, fake_mg, fake_telegram, service_process};

use database::{Db, TestDatabase};
use fake_mg::FakeMg;
use fake_telegram::FakeTelegram;
use mgbridge_testkit::service_binary;
use procfs::{machine_notes, process_cpu_ns};
use service_process::ServiceProcess;
use setup::{bench_env, db_name, dbs_from_env, env_list, env_usize, ms, postgres_admin};

/// The poll interval the service runs with: the default, so a missed wake-up shows.
const POLL_MS: &str = "500";
/// The reconcile pace of the first start, so the bench need not wait for a slow one.
const FAST_RECONCILE: &str = "5000";
/// Cores used by other processes above which a run is marked DISTURBED.
const DISTURBANCE: f64 = 0.25;
/// How long after a restart its CPU is counted.
const AFTER_RESTART: Duration = Duration::from_secs(10);

struct Knobs {
    messages: usize,
    rate: f64,
    sample: usize,
    idle: Duration,
    /// How long after the restart the messages during its reconcile start (0: at once).
    during_after: Duration,
}

struct Row {
    accounts: usize,
    db: Db,
    seed: Duration,
    first_live: Duration,
    rss_idle_kib: u64,
    idle_cpu: f64,
    sample: (usize, usize, Vec<String>),
    flow: traffic::Flow,
    rss_peak_kib: u64,
    restart_live: Duration,
    during: traffic::Flow,
    restart_cpu: Duration,
    restart_live_quiet: Duration,
    reconcile_calls: (usize, usize),
}

fn main() {
    std::env::remove_var("RUST_LOG");
    let counts: Vec<usize> = env_list("MGBRIDGE_BENCH_ACCOUNTS", "100,2000,10000")
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    let knobs = Knobs {
        messages: env_usize("MGBRIDGE_BENCH_MESSAGES", 400),
        rate: env_usize("MGBRIDGE_BENCH_RATE", 20) as f64,
        sample: env_usize("MGBRIDGE_BENCH_SAMPLE", 20),
        idle: Duration::from_secs(env_usize("MGBRIDGE_BENCH_IDLE_SECONDS", 10) as u64),
        during_after: Duration::from_secs(
            env_usize("MGBRIDGE_BENCH_DURING_AFTER_SECONDS", 0) as u64
        ),
    };
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
    println!("mgbridge accounts benchmark");
    println!("machine: {}", machine_notes());
    println!(
        "accounts {counts:?}; {} messages at {}/s to random accounts; sample of {}; idle window {:?}",
        knobs.messages, knobs.rate, knobs.sample, knobs.idle
    );
    let postgres = setup::postgres_rows_run(&load_rt, &dbs_from_env(), &admin);
    let mut rows = Vec::new();
    for db in dbs_from_env() {
        if db == Db::Postgres && !postgres {
            continue;
        }
        for &n in &counts {
            println!("{}: {n} accounts ...", db_name(db));
            let row = load_rt.block_on(run(fakes_rt.handle(), db, &admin, n, &knobs));
            println!("{}", line(&row));
            rows.push(row);
        }
    }
    println!();
    println!("| accounts | DB | seeded in | RSS idle | idle CPU (of one core) | RSS after the messages / peak | end to end p50 / p99 | ≥ 500 ms (poll) | restart: ready in | p50 / p99 during its reconcile | CPU in the 10 s after a restart | reconcile's MG calls in those 10 s (most in 1 s) | sample end to end |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut ok = true;
    for row in &rows {
        println!("{}", line(row));
        ok &= row.sample.0 == row.sample.1 && row.flow.lost == 0 && row.during.lost == 0;
    }
    if !ok {
        println!("FAILED: a sample account or a message did not arrive");
        std::process::exit(1);
    }
}

fn line(r: &Row) -> String {
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    format!(
        "| {} | {} | {:.1} s | {} | {:.2} % | {} / {} | {} / {} | {} of {} | {} ({} quiet) | {} / {} | {:.2} s | {} ({}) | {} of {}{} |",
        r.accounts,
        db_name(r.db),
        r.seed.as_secs_f64(),
        mib(r.rss_idle_kib),
        r.idle_cpu * 100.0,
        mib(r.flow.rss_end_kib),
        mib(r.rss_peak_kib),
        ms(r.flow.at(50.0)),
        ms(r.flow.at(99.0)),
        r.flow.slower_than(500.0) + r.during.slower_than(500.0),
        r.flow.latencies.len() + r.flow.lost + r.during.latencies.len() + r.during.lost,
        ms(r.restart_live.as_secs_f64() * 1000.0),
        ms(r.restart_live_quiet.as_secs_f64() * 1000.0),
        ms(r.during.at(50.0)),
        ms(r.during.at(99.0)),
        r.restart_cpu.as_secs_f64(),
        r.reconcile_calls.0,
        r.reconcile_calls.1,
        r.sample.0,
        r.sample.1,
        if r.sample.2.is_empty() {
            String::new()
        } else {
            format!(": {}", r.sample.2.join("; "))
        },
    ) + &format!(
        " <!-- first start ready in {}; lost {}+{}, refused {}+{}; slowest (posted at ms, took ms): {:.0?} / {:.0?}; other processes: {:.2} / {:.2} cores{} -->",
        ms(r.first_live.as_secs_f64() * 1000.0),
        r.flow.lost,
        r.during.lost,
        r.flow.refused,
        r.during.refused,
        r.flow.slowest,
        r.during.slowest,
        r.flow.others,
        r.during.others,
        if r.flow.others.max(r.during.others) > DISTURBANCE {
            " DISTURBED"
        } else {
            ""
        },
    )
}

/// `GET /channels` calls the fake MG received from `from` on: the reconcile's stray checks.
fn channel_lists(mg: &FakeMg, from: usize) -> Vec<Instant> {
    let s = mg.state.lock().unwrap();
    s.requests[from.min(s.requests.len())..]
        .iter()
        .filter(|r| r.method == Method::GET && r.path == "/channels")
        .map(|r| r.at)
        .collect()
}

fn requests(mg: &FakeMg) -> usize {
    mg.state.lock().unwrap().requests.len()
}

async fn start(
    env: Vec<(String, String)>,
    dir: &tempfile::TempDir,
    name: &str,
) -> (ServiceProcess, Duration) {
    let t0 = Instant::now();
    let service = ServiceProcess::start(service_binary!(), env, dir.path().join(name)).await;
    (service, t0.elapsed())
}

async fn run(fakes: &tokio::runtime::Handle, db: Db, admin: &str, n: usize, k: &Knobs) -> Row {
    let mg = fakes.spawn(FakeMg::start()).await.unwrap();
    let telegram = fakes.spawn(FakeTelegram::start()).await.unwrap();
    let database = TestDatabase::create(db, admin, "mgbridge_accounts").await;
    let (accounts, seed) = seed::seed(&database.url, n, &mg, &telegram).await;
    let dir = tempfile::tempdir().unwrap();
    let env = |reconcile: Option<&str>| {
        let mut extra = vec![("MGBRIDGE__QUEUE__POLL_INTERVAL_MS", POLL_MS)];
        if let Some(rate) = reconcile {
            extra.push(("MGBRIDGE__MG__RECONCILE_PER_SECOND", rate));
        }
        bench_env(&database.url, telegram.api_url().as_str(), &extra)
    };

    // 1. First start; its reconcile (fast here) lists every account's channels once.
    let from = requests(&mg);
    let (service, first_live) = start(env(Some(FAST_RECONCILE)), &dir, "first.log").await;
    let deadline = Instant::now() + Duration::from_secs(300);
    while channel_lists(&mg, from).len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        channel_lists(&mg, from).len() >= n,
        "the first start's reconcile did not finish in 300 s"
    );

    // 2. Idle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu0 = process_cpu_ns(service.pid()).unwrap();
    let t0 = Instant::now();
    tokio::time::sleep(k.idle).await;
    let idle_cpu =
        (process_cpu_ns(service.pid()).unwrap() - cpu0) as f64 / t0.elapsed().as_nanos() as f64;
    let rss_idle_kib = service.memory_kib().0;

    // 3. A sample, end to end both ways.
    let step = (n / k.sample.max(1)).max(1);
    let sample: Vec<&seed::Seeded> = accounts.iter().step_by(step).take(k.sample).collect();
    let (passed, failures) = traffic::check_sample(&service.address, &mg, &telegram, &sample).await;
    let sample = (passed, sample.len(), failures);

    // 4. Messages to random accounts.
    let pid = service.pid();
    let rss = move || read_rss(pid);
    let flow = traffic::flow(
        &service.address,
        &mg,
        &accounts,
        pid,
        k.messages,
        k.rate,
        rss,
    )
    .await;
    let rss_peak_kib = service.memory_kib().1;

    // 5. Restart (SIGTERM, as `docker restart` does) with the default reconcile pace;
    // messages at once, during its reconcile.
    stop(service).await;
    let (service, restart_live) = start(env(None), &dir, "restart.log").await;
    tokio::time::sleep(k.during_after).await;
    let pid = service.pid();
    let during = traffic::flow(
        &service.address,
        &mg,
        &accounts,
        pid,
        (k.rate * AFTER_RESTART.as_secs_f64()) as usize,
        k.rate,
        move || read_rss(pid),
    )
    .await;
    stop(service).await;
    // And once more without traffic: the CPU of a restart alone.
    let from = requests(&mg);
    let spawned = Instant::now();
    let (service, restart_live_quiet) = start(env(None), &dir, "quiet.log").await;
    tokio::time::sleep(AFTER_RESTART.saturating_sub(spawned.elapsed())).await;
    let restart_cpu = Duration::from_nanos(process_cpu_ns(service.pid()).unwrap());
    let lists = channel_lists(&mg, from);
    let most = fake_mg::max_in_window(&lists, Duration::from_secs(1));
    drop(service);
    drop(database);
    Row {
        accounts: n,
        db,
        seed,
        first_live,
        rss_idle_kib,
        idle_cpu,
        sample,
        flow,
        rss_peak_kib,
        restart_live,
        during,
        restart_cpu,
        restart_live_quiet,
        reconcile_calls: (lists.len(), most),
    }
}

/// SIGTERM, and waits (at most 30 s) for the graceful shutdown to end: the leases are given
/// back, so on Postgres the next process takes every account at once.
async fn stop(service: ServiceProcess) {
    let pid = service.pid();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie waiting to be reaped (which dropping the handle does).
        if state.is_empty() || state.contains(") Z ") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(service);
}

fn read_rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
