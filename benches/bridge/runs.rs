//! A measured load run: what it saw, the blast that makes one, and the webhook bodies it posts.

use crate::*;

/// What a load run measured.
pub(crate) struct Run {
    pub(crate) sent: usize,
    /// Answered 200 with exactly the expected body.
    pub(crate) ok: usize,
    /// The first few other answers, for the report.
    pub(crate) errors: Vec<String>,
    pub(crate) wall: Duration,
    /// Per-request latency, send to whole answer read, in microseconds, sorted.
    pub(crate) latencies: Vec<u32>,
    pub(crate) cpu: Cpu,
    /// Commits the service made for it (ingest rows only).
    pub(crate) commits: Option<i64>,
}

impl Run {
    pub(crate) fn rate(&self) -> f64 {
        self.sent as f64 / self.wall.as_secs_f64()
    }

    pub(crate) fn percentile(&self, p: usize) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = (self.latencies.len() * p / 100).min(self.latencies.len() - 1);
        self.latencies[i] as f64 / 1000.0
    }

    /// Average cores busy over the run.
    pub(crate) fn cores(&self, ns: u64) -> f64 {
        ns as f64 / self.wall.as_nanos() as f64
    }

    pub(crate) fn max_ms(&self) -> f64 {
        self.latencies.last().copied().unwrap_or(0) as f64 / 1000.0
    }
}

/// Sends every body once, `clients.len()` at a time, each connection taking the next body as
/// soon as its previous answer is read (`load::post_all`), and measures the CPU it took.
pub(crate) async fn blast(
    clients: &[reqwest::Client],
    target: &Target,
    bodies: Arc<Vec<Bytes>>,
    service_pid: Option<u32>,
) -> Run {
    let targets = Arc::new(vec![target.clone()]);
    let bodies = Arc::new(bodies.iter().map(|b| (0, b.clone())).collect::<Vec<_>>());
    let cpu = Cpu::now(service_pid);
    let posted = post_all(clients, targets, bodies).await;
    Run {
        sent: posted.sent,
        ok: posted.ok,
        errors: posted.errors,
        wall: posted.wall,
        latencies: posted.latencies,
        cpu: Cpu::now(service_pid).since(cpu),
        commits: None,
    }
}

pub(crate) fn ingest_chat(n: usize) -> i64 {
    5_100_000_000 + (n as i64 % INGEST_CHATS)
}

/// `count` distinct updates starting at `first` (update ids and message ids never repeat).
pub(crate) fn telegram_bodies(first: usize, count: usize) -> Arc<Vec<Bytes>> {
    Arc::new(
        (first..first + count)
            .map(|n| {
                let update = telegram_update(
                    100_000_000 + n as i64,
                    ingest_chat(n),
                    n as i64 + 1,
                    &format!("Hello! Is the blue one still available in size M? (#{n})"),
                );
                Bytes::from(serde_json::to_vec(&update).unwrap())
            })
            .collect(),
    )
}

/// An operator's message as MG posts it to our webhook.
pub(crate) fn mg_bodies(first: usize, count: usize, channel: i64) -> Arc<Vec<Bytes>> {
    Arc::new(
        (first..first + count)
            .map(|n| {
                let webhook = message_sent(
                    700_000 + n as i64,
                    channel,
                    ingest_chat(n),
                    &format!("Yes, size M is in stock. Shall I reserve it for you? (#{n})"),
                    1_790_000_000 + n as i64,
                );
                Bytes::from(serde_json::to_vec(&webhook).unwrap())
            })
            .collect(),
    )
}
