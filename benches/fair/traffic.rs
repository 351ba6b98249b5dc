//! The traffic of a scenario: what the fakes received (`Seen`), and the paced streams of
//! customers' messages and operators' replies the bench posts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::Method;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::fake_mg::FakeMg;
use crate::fake_telegram::FakeTelegram;
use crate::load::{message_sent, telegram_update, to_bytes, Target};

/// How often the bench looks at what the fakes received (the times come from the fakes' own
/// records, not from this poll).
pub(crate) const POLL: Duration = Duration::from_millis(10);

// ---- What the fakes received -----------------------------------------------------------------

/// Read incrementally from the fakes' records while a scenario runs.
#[derive(Default)]
pub(crate) struct Seen {
    mg_next: usize,
    /// Each customer's text: its first `POST /messages` MG counted (not refused with 429).
    pub(crate) at_mg: HashMap<String, Instant>,
    tg_next: usize,
    /// (bot token, chat): the arrivals of `sendMessage` calls.
    pub(crate) sends: HashMap<(String, i64), Vec<Instant>>,
}

impl Seen {
    pub(crate) fn update(&mut self, mg: &FakeMg, telegram: &FakeTelegram) {
        {
            let s = mg.state.lock().unwrap();
            for r in &s.requests[self.mg_next.min(s.requests.len())..] {
                if r.rate_limited || r.method != Method::POST || r.path != "/messages" {
                    continue;
                }
                if let Some(text) = r.body.as_ref().and_then(|b| b["message"]["text"].as_str()) {
                    self.at_mg.entry(text.to_owned()).or_insert(r.at);
                }
            }
            self.mg_next = s.requests.len();
        }
        let calls = telegram.calls_since(self.tg_next);
        self.tg_next += calls.len();
        for call in calls {
            if call.method != "sendMessage" {
                continue;
            }
            if let Some(chat) = int(&call.params["chat_id"]) {
                self.sends
                    .entry((call.token, chat))
                    .or_default()
                    .push(call.at);
            }
        }
    }

    pub(crate) fn first_send(&self, bot: &str, chat: i64) -> Option<Instant> {
        self.sends
            .get(&(bot.to_owned(), chat))
            .and_then(|times| times.iter().min().copied())
    }
}

/// A parameter as a number, whether sent as JSON number or as text.
fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Keeps `seen` up to date every `POLL` until the returned flag is set.
pub(crate) fn watch(seen: Arc<Mutex<Seen>>, mg: FakeMg, telegram: FakeTelegram) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    tokio::spawn(async move {
        while !flag.load(Ordering::Relaxed) {
            seen.lock().unwrap().update(&mg, &telegram);
            tokio::time::sleep(POLL).await;
        }
    });
    stop
}

pub(crate) async fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- Paced streams ---------------------------------------------------------------------------

/// A customer's message as posted.
pub(crate) struct Sent {
    pub(crate) update_id: i64,
    pub(crate) text: String,
    pub(crate) at: Instant,
}

/// Posts answered, and the first few failures.
#[derive(Default)]
pub(crate) struct Answers {
    pub(crate) posted: usize,
    pub(crate) ok: usize,
    pub(crate) errors: Vec<String>,
}

impl Answers {
    pub(crate) fn add(&mut self, outcome: Result<(), String>) {
        self.posted += 1;
        match outcome {
            Ok(()) => self.ok += 1,
            Err(e) if self.errors.len() < 3 => self.errors.push(e),
            Err(_) => {}
        }
    }

    pub(crate) fn merge(&mut self, other: Answers) {
        self.posted += other.posted;
        self.ok += other.ok;
        for e in other.errors {
            if self.errors.len() < 3 {
                self.errors.push(e);
            }
        }
    }

    pub(crate) fn all_ok(&self) -> bool {
        self.ok == self.posted
    }
}

pub(crate) async fn join_answers(tasks: Vec<JoinHandle<Result<(), String>>>) -> Answers {
    let mut answers = Answers::default();
    for task in tasks {
        answers.add(task.await.unwrap_or_else(|e| Err(e.to_string())));
    }
    answers
}

/// Unique Telegram update ids (and message ids) within a run.
static NEXT_UPDATE: AtomicI64 = AtomicI64::new(1);

/// A customer's update in `chat` (its update id is also its message id) and that id.
pub(crate) fn customer_body(chat: i64, text: &str) -> (i64, Bytes) {
    let id = NEXT_UPDATE.fetch_add(1, Ordering::Relaxed);
    (id, to_bytes(&telegram_update(id, chat, id, text)))
}

/// Customers writing at `rate` per second for `length`: message `k` goes to `chat(k)`, and
/// `posted(message, k)` is called as it is posted.
pub(crate) async fn customers(
    client: &reqwest::Client,
    target: &Arc<Target>,
    rate: f64,
    length: Duration,
    label: &str,
    chat: impl Fn(usize) -> i64,
    mut posted: impl FnMut(&Sent, usize),
) -> (Vec<Sent>, Vec<JoinHandle<Result<(), String>>>) {
    let count = (length.as_secs_f64() * rate).round() as usize;
    let mut sent = Vec::with_capacity(count);
    let mut answers = Vec::with_capacity(count);
    if count == 0 {
        return (sent, answers);
    }
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    for k in 0..count {
        tick.tick().await;
        let text = format!("{label} {k}");
        let chat = chat(k);
        let (update_id, body) = customer_body(chat, &text);
        let (client, target) = (client.clone(), target.clone());
        let message = Sent {
            update_id,
            text,
            at: Instant::now(),
        };
        answers.push(tokio::spawn(
            async move { target.post(&client, body).await },
        ));
        posted(&message, k);
        sent.push(message);
    }
    (sent, answers)
}

/// An operator's reply into a customer's chat.
pub(crate) struct Reply {
    pub(crate) chat: i64,
    /// When its webhook was posted.
    pub(crate) at: Instant,
    /// Posted before the customer's message had reached MG (it had not after the fallback).
    pub(crate) early: bool,
    pub(crate) answer: Result<(), String>,
}

/// Waits until the customer's `text` reached MG, then `delay` more (or until `fallback` after
/// the customer's post), and posts the operator's reply `id` into `chat`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn reply_when_seen(
    seen: Arc<Mutex<Seen>>,
    client: reqwest::Client,
    target: Arc<Target>,
    channel: i64,
    text: String,
    chat: i64,
    posted: Instant,
    id: i64,
    delay: Duration,
    fallback: Duration,
) -> Reply {
    let (due, early) = loop {
        if let Some(at) = seen.lock().unwrap().at_mg.get(&text).copied() {
            break (at + delay, false);
        }
        if posted.elapsed() >= fallback {
            break (Instant::now(), true);
        }
        tokio::time::sleep(POLL).await;
    };
    tokio::time::sleep_until(due.into()).await;
    let body = to_bytes(&message_sent(
        id,
        channel,
        chat,
        "Thanks for writing! Yes, we have it in blue, size M. Shall I reserve one for you?",
        1_790_000_000,
    ));
    let at = Instant::now();
    let answer = target.post(&client, body).await;
    Reply {
        chat,
        at,
        early,
        answer,
    }
}
