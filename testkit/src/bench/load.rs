//! The service benchmarks' load: webhook bodies shaped as Telegram and MG post them, where they
//! go, and a generator that posts a list of them over keep-alive connections, each connection
//! sending its next request as soon as it has read the previous answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use serde_json::{json, Value};

/// What the service answers an accepted Telegram update.
pub const TG_OK: &[u8] = b"{}";
/// What the service answers an accepted (queued) MG webhook.
pub const MG_OK: &[u8] = b"{\"async\":true}";

/// Where a request goes and what it must be answered.
#[derive(Clone)]
pub struct Target {
    pub url: String,
    pub headers: HeaderMap,
    pub expect: &'static [u8],
}

impl Target {
    /// A bot's webhook (`{service}/telegram/{key}`) with its secret header.
    pub fn telegram(url: &str, secret: &str) -> Self {
        let mut headers = json_headers();
        headers.insert(
            "X-Telegram-Bot-Api-Secret-Token",
            HeaderValue::from_str(secret).unwrap(),
        );
        Target {
            url: url.to_owned(),
            headers,
            expect: TG_OK,
        }
    }

    /// `{service}/webhook/mg` for the account `client_id`.
    pub fn mg(service: &str, client_id: &str) -> Self {
        let mut headers = json_headers();
        headers.insert("Clientid", HeaderValue::from_str(client_id).unwrap());
        Target {
            url: format!("{service}/webhook/mg"),
            headers,
            expect: MG_OK,
        }
    }

    /// Posts one body; `Ok` when answered 200 with exactly the expected body.
    pub async fn post(&self, client: &reqwest::Client, body: Bytes) -> Result<(), String> {
        let answer = client
            .post(&self.url)
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await;
        match answer {
            Ok(r) => {
                let status = r.status();
                match r.bytes().await {
                    Ok(b) if status == 200 && b.as_ref() == self.expect => Ok(()),
                    Ok(b) => Err(format!("{status} {}", String::from_utf8_lossy(&b))),
                    Err(e) => Err(format!("{status}, body not read: {e}")),
                }
            }
            Err(e) => Err(format!("request failed: {e}")),
        }
    }
}

pub fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers
}

/// One keep-alive connection per client: each client has its own pool and sends one request at
/// a time, so `n` connections carry the load, and keep them between runs.
pub fn clients(n: usize) -> Vec<reqwest::Client> {
    (0..n)
        .map(|_| {
            reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap()
        })
        .collect()
}

/// What a `post_all` run saw.
pub struct Posted {
    pub sent: usize,
    /// Answered 200 with exactly the expected body.
    pub ok: usize,
    /// The first few other answers, for the report.
    pub errors: Vec<String>,
    pub wall: Duration,
    /// Per-request latency, send to whole answer read, in microseconds, sorted.
    pub latencies: Vec<u32>,
}

/// Sends every `(target index, body)` once, `clients.len()` at a time, each connection taking
/// the next body as soon as its previous answer is read.
pub async fn post_all(
    clients: &[reqwest::Client],
    targets: Arc<Vec<Target>>,
    bodies: Arc<Vec<(usize, Bytes)>>,
) -> Posted {
    post_until(clients, targets, bodies, None).await
}

/// `post_all`, but no body is sent after `deadline`: `sent` says how many were.
pub async fn post_until(
    clients: &[reqwest::Client],
    targets: Arc<Vec<Target>>,
    bodies: Arc<Vec<(usize, Bytes)>>,
    deadline: Option<Instant>,
) -> Posted {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in clients {
        let (client, bodies, next, targets) = (
            client.clone(),
            bodies.clone(),
            next.clone(),
            targets.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(bodies.len() / 32 + 1);
            let mut ok = 0usize;
            let mut errors = Vec::new();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    break;
                }
                let (target, body) = &bodies[i];
                let t0 = Instant::now();
                let outcome = targets[*target].post(&client, body.clone()).await;
                latencies.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
                match outcome {
                    Ok(()) => ok += 1,
                    Err(e) if errors.len() < 3 => errors.push(e),
                    Err(_) => {}
                }
            }
            (latencies, ok, errors)
        }));
    }
    let mut posted = Posted {
        sent: 0,
        ok: 0,
        errors: Vec::new(),
        wall: Duration::ZERO,
        latencies: Vec::with_capacity(bodies.len()),
    };
    for task in tasks {
        let (latencies, ok, errors) = task.await.unwrap();
        posted.latencies.extend(latencies);
        posted.ok += ok;
        posted.errors.extend(errors);
    }
    posted.wall = start.elapsed();
    posted.sent = posted.latencies.len();
    posted.latencies.sort_unstable();
    posted.errors.truncate(3);
    posted
}

/// A customer's text message as Telegram posts it to a bot's webhook (private chat).
pub fn telegram_update(update_id: i64, chat_id: i64, message_id: i64, text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": chat_id, "is_bot": false, "first_name": "Anna", "username": format!("anna_{}", chat_id % 100_000), "language_code": "en"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Anna"},
            "date": 1_790_000_000 + update_id % 1_000_000,
            "text": text
        }
    })
}

/// An operator's text message `id` as MG posts it to `/webhook/mg` (`message_sent`), into the
/// private chat `chat` of MG channel `channel`.
pub fn message_sent(id: i64, channel: i64, chat: i64, text: &str, timestamp: i64) -> Value {
    let chat = chat.to_string();
    json!({
        "type": "message_sent",
        "meta": {"timestamp": timestamp},
        "data": {
            "id": id, "channel_id": channel,
            "external_chat_id": chat, "external_user_id": chat,
            "type": "text",
            "content": text
        }
    })
}

pub fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap())
}
