//! Rate-limit benchmark of the MG client against the fake MG, measured where MG measures:
//! at arrival, per token, in sliding one-second windows. Not a timed test; run it with
//!
//!     cargo bench --bench mg_rate
//!
//! Scenarios (sizes can be changed with MG_BENCH_SENDS_A, MG_BENCH_TOKENS, MG_BENCH_SENDS_B;
//! the limiter reads the usual configuration, so MGBRIDGE__MG__RATE_LIMIT_WINDOW_MARGIN_MS=0
//! tries another margin):
//!
//! - (a) one token, 3,000 `send_message` calls posted at once (3,000 waiting callers);
//! - (b) 200 tokens at once, each with 300 sends taken from its queue by 20 workers;
//! - (c) CPU per call during (a) and (b). The fake runs in this process, on its own tokio
//!   runtime whose threads are named `fake-mg`; the client runs on threads named
//!   `mg-client` (plus the main thread). Per-thread CPU (`/proc/self/task/*/schedstat`)
//!   splits the two; the process total comes from `/proc/self/stat`. Two baselines send the
//!   same requests with a plain `reqwest::Client` paced by timers (no limiter, no retry
//!   loop), at (a)'s and (b)'s rates, to show what the MG layer adds to the HTTP exchange.
//!
//! Results and their meaning: BENCHMARKS.md.

use mgbridge_testkit::bench::{procfs, rate, threads};
use mgbridge_testkit::fake_mg;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_mg::{max_in_window, FakeMg};
use mgbridge::config::Settings;
use mgbridge::domain::MgToken;
use mgbridge::mg::{MgApi, MgChannelId, MgClient};
use rate::sustained_rate;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn token(n: usize) -> String {
    format!("bench-token-{n:04}-0123456789abcdef0123456789")
}

/// CPU time in nanoseconds: (client threads, fake threads, whole process).
#[derive(Clone, Copy, Default)]
struct Cpu {
    client: u64,
    fake: u64,
    process: u64,
}

impl Cpu {
    fn now() -> Self {
        let mut cpu = Cpu::default();
        for (name, ns) in threads::thread_cpu_ns() {
            if name.starts_with("fake-mg") {
                cpu.fake += ns;
            } else {
                cpu.client += ns;
            }
        }
        // utime + stime of the process (all threads, living or not), in clock ticks.
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        cpu.process = ticks * 1_000_000_000 / procfs::clock_ticks_per_second();
        cpu
    }

    fn since(self, before: Cpu) -> Cpu {
        Cpu {
            client: self.client - before.client,
            fake: self.fake - before.fake,
            process: self.process - before.process,
        }
    }
}

/// What the receiver saw of one token.
struct TokenStats {
    counted: usize,
    rate_limited: usize,
    max_in_second: usize,
    /// Sustained rate over whole windows (`rate::sustained_rate`).
    rate: f64,
    first: Instant,
    last: Instant,
}

fn receiver_stats(fake: &FakeMg) -> HashMap<String, TokenStats> {
    let state = fake.state.lock().unwrap();
    let mut arrivals: HashMap<String, (Vec<Instant>, usize)> = HashMap::new();
    for r in &state.requests {
        let entry = arrivals
            .entry(r.token.clone().unwrap_or_default())
            .or_default();
        if r.rate_limited {
            entry.1 += 1;
        } else {
            entry.0.push(r.at);
        }
    }
    arrivals
        .into_iter()
        .map(|(token, (mut times, rate_limited))| {
            times.sort();
            let first = times[0];
            let last = *times.last().unwrap();
            let stats = TokenStats {
                counted: times.len(),
                rate_limited,
                max_in_second: max_in_window(&times, Duration::from_secs(1)),
                rate: sustained_rate(&times),
                first,
                last,
            };
            (token, stats)
        })
        .collect()
}

struct Outcome {
    calls: usize,
    errors: usize,
    wall: Duration,
    cpu: Cpu,
    stats: HashMap<String, TokenStats>,
}

async fn scenario_a(fake: FakeMg, client: MgClient, sends: usize) -> Outcome {
    let token = token(0);
    let api = client.api(&fake.url, &MgToken::new(token.clone()));
    let channel = MgChannelId(fake.add_channel(&token, "telegram"));
    let cpu = Cpu::now();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(sends);
    for n in 0..sends {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            api.send_message(&fake_mg::text_message(channel, &format!("a-{n}")))
                .await
        }));
    }
    let mut errors = 0;
    for task in tasks {
        if task.await.unwrap().is_err() {
            errors += 1;
        }
    }
    Outcome {
        calls: sends,
        errors,
        wall: start.elapsed(),
        cpu: Cpu::now().since(cpu),
        stats: receiver_stats(&fake),
    }
}

async fn scenario_b(fake: FakeMg, client: MgClient, tokens: usize, sends: usize) -> Outcome {
    const WORKERS: usize = 20;
    let mut queues: Vec<(MgApi, MgChannelId, Arc<AtomicUsize>)> = Vec::new();
    for t in 1..=tokens {
        let token = token(t);
        let api = client.api(&fake.url, &MgToken::new(token.clone()));
        let channel = MgChannelId(fake.add_channel(&token, "telegram"));
        queues.push((api, channel, Arc::new(AtomicUsize::new(0))));
    }
    let errors = Arc::new(AtomicUsize::new(0));
    let cpu = Cpu::now();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (api, channel, next) in &queues {
        for _ in 0..WORKERS {
            let (api, channel, next, errors) =
                (api.clone(), *channel, next.clone(), errors.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= sends {
                        break;
                    }
                    let sent = api
                        .send_message(&fake_mg::text_message(
                            channel,
                            &format!("b-{}-{n}", channel.0),
                        ))
                        .await;
                    if sent.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    Outcome {
        calls: tokens * sends,
        errors: errors.load(Ordering::Relaxed),
        wall: start.elapsed(),
        cpu: Cpu::now().since(cpu),
        stats: receiver_stats(&fake),
    }
}

/// The same requests through a plain `reqwest::Client`, paced by a tokio interval per token
/// (one every 1.01 s / 30) instead of the limiter: what the HTTP exchange alone costs in CPU
/// at the same load, to tell the MG layer's share from reqwest's and hyper's.
async fn baseline(fake: FakeMg, tokens: usize, sends: usize) -> Outcome {
    fake.set(|s| s.rate_limit = None);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut senders = Vec::new();
    for t in 0..tokens {
        let token = token(10_000 + t);
        let channel = MgChannelId(fake.add_channel(&token, "telegram"));
        senders.push((token, channel));
    }
    let url = format!("{}/api/transport/v1/messages", fake.url);
    let errors = Arc::new(AtomicUsize::new(0));
    let cpu = Cpu::now();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (token, channel) in senders {
        let (http, url, errors) = (http.clone(), url.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(1010) / 30);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for n in 0..sends {
                tick.tick().await;
                let body = serde_json::to_vec(&fake_mg::text_message(
                    channel,
                    &format!("c-{}-{n}", channel.0),
                ))
                .unwrap();
                let sent = http
                    .post(&url)
                    .header("X-Transport-Token", &token)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let ok = match sent {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    Outcome {
        calls: tokens * sends,
        errors: errors.load(Ordering::Relaxed),
        wall: start.elapsed(),
        cpu: Cpu::now().since(cpu),
        stats: HashMap::new(),
    }
}

/// Runs a scenario as a task on the client runtime, so that joining its tasks wakes a worker
/// rather than the main thread (each wake-up of a parked thread costs CPU of its own).
fn run<F>(runtime: &tokio::runtime::Runtime, scenario: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    runtime.block_on(async { tokio::spawn(scenario).await.unwrap() })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

fn main() {
    // cargo bench passes `--bench`; nothing else is taken from the command line.
    let settings = Settings::load(None).expect("configuration").mg;
    let sends_a = env_usize("MG_BENCH_SENDS_A", 3000);
    let tokens_b = env_usize("MG_BENCH_TOKENS", 200);
    let sends_b = env_usize("MG_BENCH_SENDS_B", 300);

    let fake_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("fake-mg")
        .enable_all()
        .build()
        .unwrap();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("mg-client")
        .enable_all()
        .build()
        .unwrap();

    println!(
        "MG client rate benchmark: limit {}/s, burst {}, window 1 s + {} ms; fake MG allows 30 per token in any sliding 1 s",
        settings.rate_limit_per_second, settings.rate_limit_burst, settings.rate_limit_window_margin_ms
    );
    println!(
        "(a) 1 token, {sends_a} concurrent sends ... (about {} s)",
        sends_a / 30 + 1
    );

    let fake_a = fake_rt.block_on(FakeMg::start());
    fake_a.set(|s| s.record_bodies = false);
    let client = client_rt.block_on(async { MgClient::new(&settings).unwrap() });
    let a = run(&client_rt, scenario_a(fake_a, client, sends_a));

    println!(
        "(b) {tokens_b} tokens × {sends_b} sends ... (about {} s)",
        sends_b / 30 + 1
    );
    let fake_b = fake_rt.block_on(FakeMg::start());
    fake_b.set(|s| s.record_bodies = false);
    let client = client_rt.block_on(async { MgClient::new(&settings).unwrap() });
    let b = run(&client_rt, scenario_b(fake_b, client, tokens_b, sends_b));

    let low = sends_a.min(600);
    println!("(c) baselines: plain reqwest, 1 token × {low} and {tokens_b} tokens × {sends_b}, paced by timers ...");
    let fake_c = fake_rt.block_on(FakeMg::start());
    fake_c.set(|s| s.record_bodies = false);
    let base_low = run(&client_rt, baseline(fake_c.clone(), 1, low));
    let base_high = run(&client_rt, baseline(fake_c, tokens_b, sends_b));

    let a_stats = a.stats.values().next().unwrap();
    let mut rates: Vec<f64> = b.stats.values().map(|s| s.rate).collect();
    let min_rate = rates.iter().cloned().fold(f64::INFINITY, f64::min);
    let median_rate = median(&mut rates);
    let b_429: usize = b.stats.values().map(|s| s.rate_limited).sum();
    let b_counted: usize = b.stats.values().map(|s| s.counted).sum();
    let b_max = b.stats.values().map(|s| s.max_in_second).max().unwrap();
    let b_first = b.stats.values().map(|s| s.first).min().unwrap();
    let b_last = b.stats.values().map(|s| s.last).max().unwrap();
    let aggregate = (b_counted - 1) as f64 / b_last.duration_since(b_first).as_secs_f64();

    println!();
    println!("| scenario | calls | 429s at MG | client errors | max req in any 1 s (per token) | sustained rate at MG (req/s) | wall time |");
    println!("|---|---:|---:|---:|---:|---|---:|");
    println!(
        "| (a) 1 token, {} concurrent sends | {} | {} | {} | {} | {:.2} | {:.1} s |",
        a.calls,
        a.calls,
        a_stats.rate_limited,
        a.errors,
        a_stats.max_in_second,
        a_stats.rate,
        a.wall.as_secs_f64()
    );
    println!(
        "| (b) {} tokens × {} sends | {} | {} | {} | {} (worst token) | per token min {:.2}, median {:.2}; aggregate {:.0} | {:.1} s |",
        tokens_b, sends_b, b.calls, b_429, b.errors, b_max, min_rate, median_rate, aggregate,
        b.wall.as_secs_f64()
    );
    println!();
    println!("| (c) CPU per call | client threads | fake MG threads | whole process |");
    println!("|---|---:|---:|---:|");
    for (name, outcome) in [
        ("(a) MgApi::send_message, 1 token:".to_owned(), &a),
        (
            "baseline, plain reqwest paced by a timer, 1 token:".to_owned(),
            &base_low,
        ),
        (format!("(b) MgApi::send_message, {tokens_b} tokens:"), &b),
        (
            format!("baseline, plain reqwest paced by timers, {tokens_b} tokens:"),
            &base_high,
        ),
    ] {
        let per_call = |ns: u64| ns as f64 / 1000.0 / outcome.calls as f64;
        println!(
            "| {name} {} calls in {:.1} s{} | {:.1} µs | {:.1} µs | {:.1} µs |",
            outcome.calls,
            outcome.wall.as_secs_f64(),
            if outcome.errors > 0 {
                format!(" ({} failed)", outcome.errors)
            } else {
                String::new()
            },
            per_call(outcome.cpu.client),
            per_call(outcome.cpu.fake),
            per_call(outcome.cpu.process)
        );
    }
    println!();
    let cap_ok =
        a_stats.max_in_second <= 30 && b_max <= 30 && a_stats.rate_limited == 0 && b_429 == 0;
    let rate_ok = a_stats.rate >= 29.5 && min_rate >= 29.0;
    println!(
        "targets: cap (0 × 429, ≤ 30 in any 1 s): {}; rate (a ≥ 29.5/s, each token in b ≥ 29/s): {}",
        if cap_ok { "met" } else { "MISSED" },
        if rate_ok { "met" } else { "MISSED" }
    );
    // Let the runtimes go without waiting for the servers.
    client_rt.shutdown_background();
    fake_rt.shutdown_background();
}
