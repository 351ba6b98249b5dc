//! The measured scenarios: durable ingest of each webhook, the group-commit writer alone, and
//! end to end through the worker.

use crate::*;

pub(crate) struct IngestResult {
    pub(crate) telegram: Run,
    pub(crate) mg: Run,
    /// Rows in `job` after each run, and how many there should be.
    pub(crate) jobs_after_telegram: (i64, i64),
    pub(crate) jobs_after_mg: (i64, i64),
    pub(crate) idle_rss_kib: u64,
    pub(crate) peak_rss_kib: u64,
    pub(crate) writer: WriterTimes,
}

pub(crate) async fn ingest(
    fakes: &tokio::runtime::Handle,
    db: Db,
    admin: &str,
    updates: usize,
    connections: usize,
) -> IngestResult {
    let rig = rig(fakes, db, admin, &[("MGBRIDGE__QUEUE__CONCURRENCY", "0")]).await;
    let pid = Some(rig.service.pid());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (idle_rss_kib, _) = rig.service.memory_kib();
    let before = job_count(&rig.database.url).await;
    let clients = clients(connections);

    let target = rig.telegram_target();
    let warm = blast(&clients, &target, telegram_bodies(0, WARM_UP), pid).await;
    let from = mgbridge::store::now_ms();
    let mut telegram = blast(&clients, &target, telegram_bodies(WARM_UP, updates), pid).await;
    telegram.commits =
        Some(commits_between(&rig.database.url, from, mgbridge::store::now_ms()).await);
    let jobs = job_count(&rig.database.url).await;
    let jobs_after_telegram = (jobs, before + (warm.ok + telegram.ok) as i64);
    if warm.ok != warm.sent {
        println!(
            "  warm-up: {} of {} answered as expected: {:?}",
            warm.ok, warm.sent, warm.errors
        );
    }

    let target = rig.mg_target();
    let channel = rig.mg_channel;
    let warm = blast(&clients, &target, mg_bodies(0, WARM_UP, channel), pid).await;
    let from = mgbridge::store::now_ms();
    let mut mg = blast(&clients, &target, mg_bodies(WARM_UP, updates, channel), pid).await;
    mg.commits = Some(commits_between(&rig.database.url, from, mgbridge::store::now_ms()).await);
    let jobs = job_count(&rig.database.url).await;
    let jobs_after_mg = (jobs, jobs_after_telegram.0 + (warm.ok + mg.ok) as i64);
    if warm.ok != warm.sent {
        println!(
            "  warm-up: {} of {} answered as expected: {:?}",
            warm.ok, warm.sent, warm.errors
        );
    }
    let (_, peak_rss_kib) = rig.service.memory_kib();
    let log = rig.service.log();
    if !log.trim().is_empty() {
        let lines: Vec<&str> = log.lines().collect();
        println!(
            "  service log ({} lines at warn and above), last ones:",
            lines.len()
        );
        for line in lines.iter().rev().take(5).rev() {
            println!("    {line}");
        }
    }
    let writer = writer_alone(&rig.database.url).await;
    IngestResult {
        telegram,
        mg,
        jobs_after_telegram,
        jobs_after_mg,
        idle_rss_kib,
        peak_rss_kib,
        writer,
    }
}

/// The ingest writer's database step alone, from this process while the service is idle:
/// `Store::enqueue_jobs` one commit after another, for batches of 1, 32 and 64 jobs, and a
/// `SELECT 1` round trip. Milliseconds per call (median of 200).
pub(crate) async fn writer_alone(url: &str) -> WriterTimes {
    use mgbridge::domain::Direction;
    use mgbridge::store::{NewJob, Store};
    let key = mgbridge::crypto::MasterKey::parse(service_process::ENCRYPTION_KEY).unwrap();
    let store = Store::connect(url, 1, mgbridge::crypto::Cipher::new(&key))
        .await
        .unwrap();
    let account: String = sqlx::query_scalar("SELECT account_id FROM account")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let mut times = WriterTimes::default();
    let mut key = 0usize;
    for (batch, slot) in [
        (1usize, &mut times.batch_1),
        (32, &mut times.batch_32),
        (64, &mut times.batch_64),
    ] {
        let mut per_call = Vec::with_capacity(200);
        for _ in 0..200 {
            let jobs: Vec<NewJob> = (0..batch)
                .map(|_| {
                    key += 1;
                    NewJob {
                        account_id: mgbridge::domain::AccountId::from_stored(account.clone()),
                        direction: Direction::ToMg,
                        lane: format!("tg:bench:{}", key % 1000),
                        dedupe_key: Some(format!("bench-writer:{key}")),
                        payload: String::from_utf8_lossy(&telegram_bodies(key, 1)[0]).into_owned(),
                        warms: Some(format!("mg:bench:{}", key % 1000)),
                    }
                })
                .collect();
            let t0 = Instant::now();
            store.enqueue_jobs(&jobs).await.unwrap();
            per_call.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        per_call.sort_by(|a, b| a.partial_cmp(b).unwrap());
        *slot = per_call[per_call.len() / 2];
    }
    let mut per_call = Vec::with_capacity(200);
    for _ in 0..200 {
        let t0 = Instant::now();
        store.ping().await.unwrap();
        per_call.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    per_call.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times.select_1 = per_call[per_call.len() / 2];
    store.close().await;
    times
}

#[derive(Default)]
pub(crate) struct WriterTimes {
    pub(crate) batch_1: f64,
    pub(crate) batch_32: f64,
    pub(crate) batch_64: f64,
    pub(crate) select_1: f64,
}

pub(crate) struct E2eResult {
    pub(crate) sent: usize,
    pub(crate) answered_ok: usize,
    pub(crate) delivered: usize,
    pub(crate) duplicates: usize,
    pub(crate) rate_limited: usize,
    pub(crate) in_order: bool,
    /// Arrival at MG minus the moment the update was posted, µs, sorted.
    pub(crate) latencies: Vec<u32>,
    pub(crate) rate: f64,
}

impl E2eResult {
    pub(crate) fn percentile(&self, p: usize) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = (self.latencies.len() * p / 100).min(self.latencies.len() - 1);
        self.latencies[i] as f64 / 1000.0
    }
}

/// Arrivals of customers' messages at MG: text → (arrival, answered status).
pub(crate) fn mg_arrivals(mg: &FakeMg) -> (HashMap<String, Vec<Instant>>, usize) {
    let mut arrivals: HashMap<String, Vec<Instant>> = HashMap::new();
    let mut rate_limited = 0;
    for r in mg.requests() {
        if r.rate_limited {
            rate_limited += 1;
            continue;
        }
        if r.method != reqwest::Method::POST || r.path != "/messages" {
            continue;
        }
        if let Some(text) = r.body.as_ref().and_then(|b| b["message"]["text"].as_str()) {
            arrivals.entry(text.to_owned()).or_default().push(r.at);
        }
    }
    (arrivals, rate_limited)
}

pub(crate) async fn end_to_end(
    fakes: &tokio::runtime::Handle,
    db: Db,
    admin: &str,
    count: usize,
    per_second: f64,
) -> E2eResult {
    let rig = rig(fakes, db, admin, &[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let target = rig.telegram_target();
    let post = |update: Value| {
        client
            .post(&target.url)
            .headers(target.headers.clone())
            .body(serde_json::to_vec(&update).unwrap())
            .send()
    };
    // One update first, in a chat of its own, so the account's lease and the MG client's first
    // connection are in place before the clock runs.
    let first = post(telegram_update(1, 4_900_000_000, 1, "warm-up"))
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !mg_arrivals(&rig.mg).0.contains_key("warm-up") {
        assert!(
            Instant::now() < deadline,
            "the warm-up update did not reach MG in 30 s; service log:\n{}",
            rig.service.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut sent_at: Vec<Instant> = Vec::with_capacity(count);
    let mut answers = Vec::with_capacity(count);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    for n in 0..count {
        tick.tick().await;
        let chat = 5_200_000_000 + n as i64 % E2E_CHATS;
        let update = telegram_update(10_000 + n as i64, chat, n as i64 + 10, &format!("e2e {n}"));
        sent_at.push(Instant::now());
        answers.push(tokio::spawn(post(update)));
    }
    // Intervals between the first post and the last.
    let span = sent_at[count - 1].duration_since(sent_at[0]);
    let rate = (count - 1) as f64 / span.as_secs_f64();
    let mut answered_ok = 0;
    for answer in answers {
        if let Ok(Ok(r)) = answer.await {
            if r.status() == 200 {
                answered_ok += 1;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let (arrivals, rate_limited) = loop {
        let (arrivals, rate_limited) = mg_arrivals(&rig.mg);
        let delivered = (0..count)
            .filter(|n| arrivals.contains_key(&format!("e2e {n}")))
            .count();
        if delivered == count || Instant::now() >= deadline {
            break (arrivals, rate_limited);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut latencies = Vec::with_capacity(count);
    let mut duplicates = 0;
    let mut first_arrival = vec![None; count];
    for n in 0..count {
        if let Some(times) = arrivals.get(&format!("e2e {n}")) {
            let at = *times.iter().min().unwrap();
            duplicates += times.len() - 1;
            first_arrival[n] = Some(at);
            let sent = sent_at[n];
            latencies.push(at.saturating_duration_since(sent).as_micros() as u32);
        }
    }
    latencies.sort_unstable();
    // Within each chat, MG must see the messages in the order they were posted.
    let in_order = (0..E2E_CHATS as usize).all(|chat| {
        let times: Vec<Instant> = (chat..count)
            .step_by(E2E_CHATS as usize)
            .filter_map(|n| first_arrival[n])
            .collect();
        times.windows(2).all(|w| w[0] <= w[1])
    });
    E2eResult {
        sent: count,
        answered_ok,
        delivered: latencies.len(),
        duplicates,
        rate_limited,
        in_order,
        latencies,
        rate,
    }
}
