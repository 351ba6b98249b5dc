//! What the bench sends and what it reads back from the fakes: the end-to-end check of a
//! sample of accounts (both directions, over the service's real webhooks), and customers'
//! messages to random accounts at a steady rate, with each one's latency to MG.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::Method;
use rand::Rng;

use crate::fake_mg::{fingerprint, FakeMg};
use crate::fake_telegram::FakeTelegram;
use crate::load::{message_sent, telegram_update, to_bytes};
use crate::procfs::{process_cpu_ns, self_cpu_ns, SystemCpu};
use crate::seed::Seeded;

/// How long a message may take before the bench gives up on it.
const GIVE_UP: Duration = Duration::from_secs(15);

/// Update ids, message ids and chats never repeat within a run of the bench.
static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(1);

fn next() -> i64 {
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Each customer's text at the fake MG: its first `POST /messages`, the arrival time and the
/// token it came with.
fn arrivals(mg: &FakeMg, from: usize) -> HashMap<String, (Instant, Option<String>)> {
    let s = mg.state.lock().unwrap();
    let mut seen = HashMap::new();
    for r in &s.requests[from.min(s.requests.len())..] {
        if r.rate_limited || r.method != Method::POST || r.path != "/messages" {
            continue;
        }
        if let Some(text) = r.body.as_ref().and_then(|b| b["message"]["text"].as_str()) {
            seen.entry(text.to_owned())
                .or_insert((r.at, r.token.clone()));
        }
    }
    seen
}

fn requests_so_far(mg: &FakeMg) -> usize {
    mg.state.lock().unwrap().requests.len()
}

/// Posts a customer's message to `account`'s bot webhook and an operator's reply through MG's
/// webhook, for each account of the sample; checks that the first reached the fake MG with that
/// account's token and the second the fake Telegram with that account's bot. Returns how many
/// accounts passed, and the first failures.
pub(crate) async fn check_sample(
    service: &str,
    mg: &FakeMg,
    telegram: &FakeTelegram,
    sample: &[&Seeded],
) -> (usize, Vec<String>) {
    let client = reqwest::Client::new();
    let from = requests_so_far(mg);
    let tg_from = telegram.calls().len();
    let mut expected = Vec::new();
    for account in sample {
        let chat = 8_000_000_000 + next();
        let text = format!("sample customer {}", next());
        let update = to_bytes(&telegram_update(next(), chat, next(), &text));
        account
            .telegram(service)
            .post(&client, update)
            .await
            .expect("the bot's webhook takes the update");
        let reply = format!("sample reply {}", next());
        let hook = to_bytes(&message_sent(
            50_000_000 + next(),
            account.mg_channel,
            chat,
            &reply,
            1_790_000_000,
        ));
        account
            .mg_hook(service)
            .post(&client, hook)
            .await
            .expect("MG's webhook takes the reply");
        expected.push((account, text, reply, chat));
    }
    let deadline = Instant::now() + GIVE_UP;
    let mut failures = Vec::new();
    let mut passed;
    loop {
        let at_mg = arrivals(mg, from);
        let sends = telegram.calls_since(tg_from);
        let check = |(account, text, reply, chat): &(&&Seeded, String, String, i64)| {
            let to_mg = at_mg.get(text).is_some_and(|(_, token)| {
                token.as_deref() == Some(&fingerprint(&account.mg_token))
            });
            let to_tg = sends.iter().any(|c| {
                c.method == "sendMessage"
                    && c.token == account.bot_token
                    && c.params["text"].as_str() == Some(reply.as_str())
                    && c.params["chat_id"].to_string().trim_matches('"') == chat.to_string()
            });
            (to_mg, to_tg)
        };
        let results: Vec<(bool, bool)> = expected.iter().map(check).collect();
        passed = results.iter().filter(|(a, b)| *a && *b).count();
        if passed == expected.len() || Instant::now() >= deadline {
            for ((account, ..), &(to_mg, to_tg)) in expected.iter().zip(&results) {
                if !(to_mg && to_tg) && failures.len() < 3 {
                    failures.push(format!(
                        "channel {}: to MG {to_mg}, to Telegram {to_tg}",
                        account.mg_channel
                    ));
                }
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (passed, failures)
}

/// What a paced run of customers' messages saw.
pub(crate) struct Flow {
    /// Latency of each message to MG in ms, sorted; `None` when it never arrived.
    pub(crate) latencies: Vec<f64>,
    pub(crate) lost: usize,
    pub(crate) refused: usize,
    /// VmRSS at the end of the run, KiB.
    pub(crate) rss_end_kib: u64,
    /// The slowest few: (ms after the run's start the message was posted, latency ms).
    pub(crate) slowest: Vec<(f64, f64)>,
    /// Cores other processes kept busy meanwhile (not the service, this bench or Postgres).
    pub(crate) others: f64,
}

impl Flow {
    pub(crate) fn at(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 * p / 100.0) as usize).min(self.latencies.len() - 1);
        self.latencies[i]
    }

    /// Messages slower than `ms` (a wait for the poll shows as one).
    pub(crate) fn slower_than(&self, ms: f64) -> usize {
        self.latencies.iter().filter(|l| **l >= ms).count() + self.lost
    }
}

/// Posts `count` customers' messages at `rate` per second, each to a random account of
/// `accounts` in a chat of its own, and measures each one's time from the post to its arrival
/// at the fake MG. `rss` is read at the end, while the service still holds what the run made.
pub(crate) async fn flow(
    service: &str,
    mg: &FakeMg,
    accounts: &[Seeded],
    service_pid: u32,
    count: usize,
    rate: f64,
    rss: impl Fn() -> u64,
) -> Flow {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let from = requests_so_far(mg);
    let before = Busy::now(service_pid);
    let gap = Duration::from_secs_f64(1.0 / rate);
    let start = tokio::time::Instant::now();
    let mut posts = Vec::with_capacity(count);
    for i in 0..count {
        tokio::time::sleep_until(start + gap * i as u32).await;
        let account = &accounts[rand::thread_rng().gen_range(0..accounts.len())];
        let text = format!("flow customer {}", next());
        let body = to_bytes(&telegram_update(
            next(),
            8_500_000_000 + next(),
            next(),
            &text,
        ));
        let target = account.telegram(service);
        let client = client.clone();
        posts.push(tokio::spawn(async move {
            let at = Instant::now();
            let answer = target.post(&client, body).await;
            (text, at, answer.is_ok())
        }));
    }
    let mut sent = Vec::with_capacity(count);
    let mut refused = 0;
    for post in posts {
        let (text, at, ok) = post.await.unwrap();
        if ok {
            sent.push((text, at));
        } else {
            refused += 1;
        }
    }
    let deadline = Instant::now() + GIVE_UP;
    let at_mg = loop {
        let at_mg = arrivals(mg, from);
        let all = sent.iter().all(|(text, _)| at_mg.contains_key(text));
        if all || Instant::now() >= deadline {
            break at_mg;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let rss_end_kib = rss();
    let others = Busy::now(service_pid).others_since(&before);
    let began = start.into_std();
    let mut timed: Vec<(f64, f64)> = sent
        .iter()
        .filter_map(|(text, at)| {
            let (arrived, _) = at_mg.get(text)?;
            Some((
                at.saturating_duration_since(began).as_secs_f64() * 1000.0,
                arrived.saturating_duration_since(*at).as_secs_f64() * 1000.0,
            ))
        })
        .collect();
    timed.sort_by(|a, b| b.1.total_cmp(&a.1));
    let slowest = timed.iter().take(4).copied().collect();
    let mut latencies: Vec<f64> = timed.iter().map(|(_, l)| *l).collect();
    latencies.sort_by(f64::total_cmp);
    Flow {
        lost: sent.len() - latencies.len(),
        latencies,
        refused,
        rss_end_kib,
        slowest,
        others,
    }
}

/// The CPU the parts of the set-up have used so far, to tell a quiet machine from a busy one.
struct Busy {
    at: Instant,
    machine: u64,
    ours: u64,
}

impl Busy {
    fn now(service_pid: u32) -> Self {
        let system = SystemCpu::now();
        Busy {
            at: Instant::now(),
            machine: system.machine,
            ours: self_cpu_ns()
                + process_cpu_ns(service_pid).unwrap_or(0)
                + system.postgres_total()
                + system.kernel,
        }
    }

    fn others_since(&self, before: &Busy) -> f64 {
        let others = (self.machine - before.machine).saturating_sub(self.ours - before.ours);
        others as f64 / self.at.duration_since(before.at).as_nanos().max(1) as f64
    }
}
