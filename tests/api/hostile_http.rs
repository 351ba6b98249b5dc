//! Hostile input at the edge, through the real service: 100,000 mutated bodies (byte flips,
//! truncation, deep nesting, huge strings, wrong types, odd unicode, duplicate keys) posted
//! with valid authentication to both webhooks; a stranger's large body refused unread; load
//! shed past the webhook concurrency limit; and garbage posted to the forms.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::Rng;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use mgbridge::messenger::telegram::{ChatType, Update};
use mgbridge::mg::MgWebhook;
use mgbridge_testkit::fuzz::mutate::{self, Kind, Mutator};

use crate::bridge::{operator_message, text_update};
use crate::helpers::{spawn_app_with, wait_for, Bridge, Db, TestApp};

/// Bodies posted to each webhook (`HOSTILE_BODIES` changes it, for a quick look or a long run).
const BODIES_PER_WEBHOOK: usize = 50_000;

fn bodies_per_webhook() -> usize {
    std::env::var("HOSTILE_BODIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(BODIES_PER_WEBHOOK)
}
/// Requests in flight at once per webhook, over keep-alive connections; below the service's
/// `server.webhook_concurrency`, so no 503 is load shedding.
const IN_FLIGHT: usize = 10;
/// Customers the bodies are spread over (lanes deliver one job at a time each).
const CHATS: i64 = 64;
const FIRST_CHAT: i64 = 4_200_000_101;
/// Of the bodies, the share that gets an update id / MG id of its own; the rest repeat one of
/// a few hundred, as redeliveries do, and so exercise the dedupe.
const FRESH_ID_SHARE: f64 = 0.15;

/// Counts panics anywhere in this test's process (nextest runs each test in its own): the
/// service runs in-process, so a handler or worker panic lands here.
fn count_panics() -> Arc<AtomicUsize> {
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = panics.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    panics
}

fn samples(dir: &str) -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_corpus")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

/// The same sample for another customer and id, so bodies spread over lanes and ids.
fn retarget(sample: &Value, chat: i64, id: i64, mg_channel: i64) -> Value {
    let mut value = sample.clone();
    if let Some(id_field) = value.get_mut("update_id") {
        *id_field = json!(id);
    }
    for key in ["message", "edited_message", "message_reaction"] {
        if let Some(Value::Object(m)) = value.get_mut(key) {
            for field in ["chat", "from", "user"] {
                if let Some(Value::Object(who)) = m.get_mut(field) {
                    if who.get("type") != Some(&json!("supergroup")) {
                        who.insert("id".into(), json!(chat));
                    }
                }
            }
        }
    }
    if let Some(Value::Object(data)) = value.get_mut("data") {
        if data.contains_key("channel_id") {
            data.insert("channel_id".into(), json!(mg_channel));
        }
        for field in ["external_chat_id", "external_user_id"] {
            if data.contains_key(field) {
                data.insert(field.into(), json!(chat.to_string()));
            }
        }
        if value["type"] == "message_sent" {
            value["data"]["id"] = json!(id);
        }
    }
    value
}

/// The job an accepted Telegram body makes, as the webhook decides it: its dedupe key, or
/// `None` for an update the bridge does not carry.
fn telegram_job(body: &[u8]) -> Option<i64> {
    let update: Update = serde_json::from_slice(body).ok()?;
    let chat = match update.message.as_ref().or(update.edited_message.as_ref()) {
        Some(message) => &message.chat,
        None => &update.message_reaction.as_ref()?.chat,
    };
    (chat.kind == ChatType::Private).then_some(update.update_id)
}

/// The job an accepted MG body makes: `Some(Some(id))` for a deduped `message_sent`,
/// `Some(None)` for another event on a chat, `None` for one answered without a job.
fn mg_job(body: &[u8]) -> Option<Option<i64>> {
    let hook = MgWebhook::parse(body).ok()?;
    // Read marks make a job only on a Telegram Business channel; the bridge's is a bot's.
    if matches!(hook, MgWebhook::MessageRead(_)) {
        return None;
    }
    let (channel, chat) = hook.target_chat()?;
    if channel <= 0 || chat.is_empty() || chat.len() > 128 || chat.chars().any(char::is_control) {
        return None;
    }
    Some(match &hook {
        MgWebhook::MessageSent(sent) => Some(sent.id),
        _ => None,
    })
}

#[derive(Default)]
struct Tally {
    posted: usize,
    by_kind_status: std::collections::BTreeMap<(String, u16), usize>,
    /// 5xx answers and transport errors, with the body (the first few).
    failures: Vec<String>,
    failure_count: usize,
    telegram_keys: HashSet<i64>,
    mg_keys: HashSet<i64>,
    mg_undeduped: usize,
}

#[derive(Clone, Copy)]
enum Hook {
    Telegram,
    Mg,
}

async fn post_mutations(
    app: &TestApp,
    bridge: &Bridge,
    hook: Hook,
    kinds: &'static [Kind],
    max_depth: usize,
    seed: u64,
    tally: Arc<Mutex<Tally>>,
) {
    let (samples, url) = match hook {
        Hook::Telegram => (
            samples("telegram"),
            format!("{}{}", app.address, bridge.webhook_path),
        ),
        Hook::Mg => (samples("mg"), format!("{}/webhook/mg", app.address)),
    };
    let samples = Arc::new(samples);
    let per_task = bodies_per_webhook() / IN_FLIGHT;
    let mut tasks = Vec::new();
    for task in 0..IN_FLIGHT {
        let (client, url, samples, tally) = (
            app.client.clone(),
            url.clone(),
            samples.clone(),
            tally.clone(),
        );
        let bridge = bridge.clone();
        tasks.push(tokio::spawn(async move {
            let mut mutator = Mutator::new(seed ^ (task as u64 * 0x9e37_79b9), kinds);
            mutator.max_depth = max_depth;
            // Large enough to be far past any real field; the 10 MB case is its own test.
            mutator.max_huge = 64 * 1024;
            for i in 0..per_task {
                let rng = &mut mutator.rng;
                let sample = samples.choose(rng).unwrap();
                let chat = FIRST_CHAT + rng.gen_range(0..CHATS);
                let id = if rng.gen_bool(FRESH_ID_SHARE) {
                    1_000_000 + (task * per_task + i) as i64
                } else {
                    rng.gen_range(1..300)
                };
                let value = retarget(sample, chat, id, bridge.mg_channel_id);
                let (kind, body) = mutator.mutate(&value);
                let request = match hook {
                    Hook::Telegram => client
                        .post(&url)
                        .header("X-Telegram-Bot-Api-Secret-Token", &bridge.webhook_secret),
                    Hook::Mg => client.post(&url).header("Clientid", &bridge.client_id),
                };
                let answer = request
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let status = match answer {
                    Ok(answer) => {
                        let status = answer.status();
                        let _ = answer.bytes().await;
                        Some(status)
                    }
                    Err(_) => None,
                };
                let mut t = tally.lock().unwrap();
                t.posted += 1;
                let code = status.map_or(0, |s| s.as_u16());
                *t.by_kind_status
                    .entry((format!("{kind:?}"), code))
                    .or_default() += 1;
                match status {
                    Some(s) if s.is_success() => match hook {
                        Hook::Telegram => {
                            if let Some(key) = telegram_job(&body) {
                                t.telegram_keys.insert(key);
                            }
                        }
                        Hook::Mg => match mg_job(&body) {
                            Some(Some(key)) => {
                                t.mg_keys.insert(key);
                            }
                            Some(None) => t.mg_undeduped += 1,
                            None => {}
                        },
                    },
                    Some(s) if !s.is_server_error() => {}
                    _ => {
                        t.failure_count += 1;
                        if t.failures.len() < 5 {
                            let shown: String =
                                String::from_utf8_lossy(&body).chars().take(400).collect();
                            t.failures.push(format!("{kind:?} → {status:?}: {shown}"));
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

async fn a_hundred_thousand_mutated_bodies(db: Db) {
    let panics = count_panics();
    // The service's errors (a 503 says why only there), unless TEST_LOG asks for everything.
    if std::env::var("TEST_LOG").is_err() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("mgbridge::web=error,mgbridge::bridge::ingest=error")
            .with_test_writer()
            .try_init();
    }
    let app = spawn_app_with(db, |s| {
        // The peers' rate limits are not under test: the drain after the flood is.
        s.mg.rate_limit_per_second = 100_000;
        s.mg.rate_limit_burst = 100_000;
        s.telegram.bot_messages_per_second = 100_000;
        s.telegram.chat_messages_per_second = 100_000;
        s.telegram.chat_burst = 100_000;
        s.queue.account_concurrency = 32;
    })
    .await;
    // The fake MG's own 30/s cap too: with only the client's lifted, MG answered most of the
    // drain 429, and a seed that accepts many jobs did not drain in 90 s (CI, stop 17).
    app.mg.set(|s| s.rate_limit = None);
    let bridge = app.connect_with_bot().await;
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    tokio::join!(
        post_mutations(
            &app,
            &bridge,
            Hook::Telegram,
            mutate::ALL,
            mutate::MAX_DEPTH,
            seed,
            tally.clone()
        ),
        post_mutations(
            &app,
            &bridge,
            Hook::Mg,
            mutate::ALL,
            mutate::MAX_DEPTH,
            seed.wrapping_add(1),
            tally.clone()
        ),
    );
    let posted_in = started.elapsed();

    // A chat that was sent malformed bodies still carries the next good message both ways.
    let chat = FIRST_CHAT;
    let good = text_update(9_999_999, chat, 99_999, "after the storm");
    assert_eq!(
        app.post_telegram_update(&bridge, &good).await.status(),
        StatusCode::OK
    );
    let reply = operator_message(&bridge, 9_999_999, chat, "still here");
    assert_eq!(
        app.post_mg_webhook(&bridge.client_id, &reply)
            .await
            .status(),
        StatusCode::OK
    );
    let drain_deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let queued = app.jobs_in_state("queued").await;
        if queued == 0 {
            break;
        }
        if Instant::now() > drain_deadline {
            let stuck: Vec<(String, i64, Option<String>, String)> = sqlx::query_as(
                "SELECT kind, attempts, last_error, substr(payload, 1, 400) FROM job \
                 WHERE state = 'queued' ORDER BY job_id LIMIT 5",
            )
            .fetch_all(app.store.pool())
            .await
            .unwrap();
            panic!("{queued} accepted jobs still queued 90 s after the flood (FUZZ_SEED={seed}): {stuck:#?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drained_in = started.elapsed() - posted_in;
    wait_for("the good message at MG", || {
        app.mg
            .messages()
            .iter()
            .any(|m| m.text.as_deref() == Some("after the storm"))
            .then_some(())
    })
    .await;
    wait_for("the operator's reply at Telegram", || {
        app.telegram
            .messages_to(chat)
            .iter()
            .any(|m| m.text.as_deref() == Some("still here"))
            .then_some(())
    })
    .await;

    let done = app.jobs_in_state("done").await;
    let failed = app.jobs_in_state("failed").await;
    let t = tally.lock().unwrap();
    let expected = (t.telegram_keys.len() + t.mg_keys.len() + t.mg_undeduped + 2) as i64;
    let hwm = peak_rss_kib();
    let cpu = crate::helpers::process_cpu_seconds();
    eprintln!(
        "{db:?}: {} bodies in {posted_in:?}, drained in \
         {drained_in:?}; jobs: {done} done, {failed} failed, {expected} expected; peak RSS \
         (VmHWM, test process) {} MiB; {cpu:.0} CPU s (service, fakes and client); FUZZ_SEED={seed}",
        t.posted,
        hwm / 1024
    );
    for ((kind, status), n) in &t.by_kind_status {
        eprintln!("  {kind:>13} {status}: {n}");
    }
    assert_eq!(
        t.failure_count, 0,
        "5xx or no answer to input (FUZZ_SEED={seed}): {:#?}",
        t.failures
    );
    assert_eq!(panics.load(Ordering::SeqCst), 0, "the service panicked");
    assert_eq!(t.posted, 2 * bodies_per_webhook());
    assert_eq!(
        done + failed,
        expected,
        "accepted bodies and finished jobs differ (FUZZ_SEED={seed})"
    );
    assert!(done > 0 && hwm > 0);
}

/// The peak resident set of this process (the test and the in-process service), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Sends a request head announcing `length` bytes and only `sent` of them, and returns the
/// status line of the answer, if one comes within `wait`.
async fn head_only(
    address: &str,
    path: &str,
    header: &str,
    length: usize,
    sent: usize,
    wait: Duration,
) -> (Option<String>, TcpStream) {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{header}\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&vec![b' '; sent]).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let line = match tokio::time::timeout(wait, stream.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            text.lines().next().map(str::to_owned)
        }
        _ => None,
    };
    (line, stream)
}

async fn large_bodies_from_strangers_are_refused_unread(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let bridge = app.connect_with_bot().await;
    const TEN_MB: usize = 10 * 1024 * 1024;
    let quick = Duration::from_secs(3);
    // Only 64 KB of the announced 10 MB are sent: an answer proves the body was not read.
    for (path, header) in [
        (
            bridge.webhook_path.as_str(),
            "X-Telegram-Bot-Api-Secret-Token: wrong",
        ),
        (bridge.webhook_path.as_str(), "X-Other: no secret at all"),
        ("/telegram/not-a-key", "X-Telegram-Bot-Api-Secret-Token: x"),
        ("/webhook/mg", "Clientid: 0000"),
        ("/webhook/mg", "X-Other: no client id"),
    ] {
        let started = Instant::now();
        let (status, _) = head_only(&app.address, path, header, TEN_MB, 64 * 1024, quick).await;
        assert_eq!(
            status.as_deref(),
            Some("HTTP/1.1 401 Unauthorized"),
            "{path} {header}: answered {:?} after {:?}",
            status,
            started.elapsed()
        );
    }
    // Authenticated, the same body is read up to the limit and refused as too large.
    let answer = app
        .client
        .post(format!("{}{}", app.address, bridge.webhook_path))
        .header("X-Telegram-Bot-Api-Secret-Token", &bridge.webhook_secret)
        .body(vec![b' '; TEN_MB])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.jobs_in_state("queued").await, 0);
}

async fn webhooks_past_the_concurrency_limit_are_shed(db: Db) {
    let app = spawn_app_with(db, |s| s.server.webhook_concurrency = 2).await;
    let bridge = app.connect_with_bot().await;
    let secret = format!("X-Telegram-Bot-Api-Secret-Token: {}", bridge.webhook_secret);
    // Two authenticated requests whose bodies never finish hold both places.
    let mut held = Vec::new();
    for _ in 0..2 {
        let (status, stream) = head_only(
            &app.address,
            &bridge.webhook_path,
            &secret,
            1000,
            10,
            Duration::from_millis(300),
        )
        .await;
        assert_eq!(status, None, "a request still sending is not answered");
        held.push(stream);
    }
    for hook in ["telegram", "mg"] {
        let answer = match hook {
            "telegram" => {
                app.post_telegram_update(&bridge, &text_update(1, FIRST_CHAT, 1, "hi"))
                    .await
            }
            _ => {
                app.post_mg_webhook(
                    &bridge.client_id,
                    &operator_message(&bridge, 1, FIRST_CHAT, "hi"),
                )
                .await
            }
        };
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE, "{hook}");
    }
    assert_eq!(
        app.jobs_in_state("queued").await + app.jobs_in_state("done").await,
        0
    );
    drop(held);
    // Once the places are free again, webhooks are taken.
    let good = text_update(2, FIRST_CHAT, 2, "hello again");
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        status = app.post_telegram_update(&bridge, &good).await.status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, StatusCode::OK);
    app.wait_for_jobs("done", 1).await;
}

/// Garbage in the activity callback and the settings forms: refused with 4xx, never a 5xx,
/// and the account is as it was.
async fn garbage_forms_change_nothing(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let bridge = app.connect_with_bot().await;
    let before = account_rows(&app).await;
    let mut mutator = Mutator::new(rand::thread_rng().gen(), mutate::ALL);
    let activity = json!({"active": false, "freeze": true});
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..600 {
        let (_, junk) = mutator.mutate(&activity);
        let junk = String::from_utf8_lossy(&junk).into_owned();
        let rng = &mut mutator.rng;
        let client_id = match rng.gen_range(0..3) {
            0 => "0".repeat(64),
            1 => junk.chars().take(80).collect(),
            _ => "f".repeat(rng.gen_range(0..100)),
        };
        let (path, form): (String, Vec<(&str, String)>) = match i % 4 {
            0 => (
                "/activity".into(),
                vec![
                    ("clientId", client_id),
                    ("activity", junk.clone()),
                    ("systemUrl", junk.chars().take(200).collect()),
                ],
            ),
            1 => (
                "/activity".into(),
                vec![
                    ("clientId", bridge.client_id.clone()),
                    ("activity", junk.clone()),
                    ("systemUrl", "ftp://x".into()),
                ],
            ),
            2 => (
                format!("/settings/{}/bots", bridge.client_id),
                vec![("bot_token", junk.clone()), ("authenticity_token", junk)],
            ),
            _ => (
                "/connect".into(),
                vec![("crm_url", junk.clone()), ("api_key", junk)],
            ),
        };
        let answer = app
            .client
            .post(format!("{}{path}", app.address))
            .form(&form)
            .send()
            .await
            .unwrap();
        *statuses
            .entry((
                path.split('/').nth(1).unwrap().to_owned(),
                answer.status().as_u16(),
            ))
            .or_insert(0) += 1;
        assert!(
            answer.status().is_client_error(),
            "{path} {form:?}: {}",
            answer.status()
        );
    }
    eprintln!("form answers: {statuses:?}");
    assert_eq!(account_rows(&app).await, before);
    assert_eq!(app.account_count().await, 1);
}

/// What a form could change: the accounts' address and activity, and their bots.
async fn account_rows(app: &TestApp) -> Vec<String> {
    let accounts: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT crm_url, active, frozen FROM account ORDER BY account_id")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    let channels: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let mut rows: Vec<String> = accounts.iter().map(|a| format!("{a:?}")).collect();
    rows.push(format!("channels: {channels}"));
    rows
}

/// A NUL in an MG chat id was stored into the job's lane: Postgres refused the whole batch
/// of webhooks it was committed with (503 for all of them). Refused at the door now.
async fn a_control_character_in_an_mg_chat_is_refused(db: Db) {
    let app = spawn_app_with(db, |_| {}).await;
    let bridge = app.connect_with_bot().await;
    for chat in ["\u{0}", "42\n", &"9".repeat(200)] {
        let mut hook = operator_message(&bridge, 7, FIRST_CHAT, "hi");
        hook["data"]["external_chat_id"] = json!(chat);
        hook["data"]["external_user_id"] = json!(chat);
        let answer = app.post_mg_webhook(&bridge.client_id, &hook).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{chat:?}");
    }
    assert_eq!(app.jobs_in_state("queued").await, 0);
    let good = operator_message(&bridge, 8, FIRST_CHAT, "fine");
    let answer = app.post_mg_webhook(&bridge.client_id, &good).await;
    assert_eq!(answer.status(), StatusCode::OK);
    app.wait_for_jobs("done", 1).await;
}

crate::on_both_databases!(
    a_control_character_in_an_mg_chat_is_refused,
    a_hundred_thousand_mutated_bodies,
    large_bodies_from_strangers_are_refused_unread,
    webhooks_past_the_concurrency_limit_are_shed,
    garbage_forms_change_nothing,
);
