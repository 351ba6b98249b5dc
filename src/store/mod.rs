//! Storage: one `sqlx::AnyPool` over SQLite (default) or Postgres, the same SQL for both, and
//! migrations embedded in the binary. Secrets pass through the `Cipher` on their way in and out,
//! so nothing above this layer sees a sealed value and nothing below it sees a clear one.

mod accounts;
mod business;
mod channels;
mod chats;
mod claim;
mod failures;
mod health;
mod lanes;
mod queue;
mod sent;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

pub use accounts::{Account, ConnectedAccount};
pub use business::{BusinessLink, NewBusinessLink};
pub use channels::{secret_eq, Channel, ChannelId, NewChannel};
pub use failures::{Attempt, FailedJob, FailedSelection};
pub use health::{Alert, BotCheck, BotHealth, ChatEvent, DeliveryCounts};
pub use queue::now_ms;
pub use queue::{ClaimedJob, NewJob, QueueStats, Settlement};
pub use sent::SentPart;

use crate::crypto::Cipher;

/// Which database the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            anyhow::bail!("database.url must start with sqlite:// or postgres://")
        }
    }
}

/// Where a `sqlite://` URL keeps its file; `None` for in-memory databases.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// The layer's error. A database failure keeps sqlx's error as its `source` (whose words never
/// quote a bound value): log a `StoreError` with `telemetry::chain` to see it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The readiness write failed within the last `PROBE_EVERY` (its cause was logged then).
    #[error("the database refused a write moments ago")]
    WritesFailing,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    cipher: Cipher,
    /// How long after a customer's message replies into that chat go before cold sends (ms).
    warm_ms: i64,
    /// The last readiness write: when, and whether it passed (`ping`).
    probe: Arc<tokio::sync::Mutex<Option<(Instant, bool)>>>,
}

/// Readiness writes at most this often; probes in between get the last answer.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// A readiness write slower than this counts as failed (the write lock is wedged or the server
/// is gone); well under a load balancer's usual probe timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// `queue.warm_chat_minutes`' default, for a store made without settings.
const DEFAULT_WARM_MS: i64 = 15 * 60 * 1000;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Opens the pool (creating the SQLite file and its folder if needed). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32, cipher: Cipher) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let mut url = url.to_owned();
        if backend == Backend::Sqlite {
            if let Some(dir) = sqlite_file(&url).and_then(|f| f.parent().map(|d| d.to_owned())) {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(&dir).with_context(|| {
                        format!("creating the database folder {}", dir.display())
                    })?;
                }
            }
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
        }
        let options = AnyConnectOptions::from_str(&url)
            .context("database.url is not a valid database URL")?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; busy_timeout makes writers wait
                        // for each other instead of failing with SQLITE_BUSY. synchronous = FULL:
                        // a webhook answered 200 is on disk, power loss included (NORMAL would
                        // only survive a process crash); group commit keeps the fsyncs few.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .after_release(move |conn, _meta| {
                Box::pin(async move {
                    if backend != Backend::Sqlite {
                        return Ok(true);
                    }
                    // A transaction dropped after a failed statement or COMMIT queued a ROLLBACK;
                    // the ping waits for it. When a write fails on I/O (a full disk, EFBIG),
                    // SQLite has already rolled the transaction back, so that ROLLBACK fails
                    // ("no transaction is active"), sqlx ignores it and still counts the
                    // connection as inside a transaction. Its next `begin()` is then a SAVEPOINT
                    // (which opens a real transaction) and a failure there only rolls back to
                    // the savepoint: the transaction stays open with the write lock, every other
                    // writer times out on busy_timeout, and this connection's later "commits"
                    // only release savepoints, storing nothing while webhooks get 200. Such a
                    // connection is closed instead, which ends whatever it holds.
                    conn.ping().await?;
                    if !conn.is_in_transaction() {
                        return Ok(true);
                    }
                    let rollback = conn.execute("ROLLBACK").await.err();
                    tracing::warn!(
                        rollback_error = rollback.as_ref().map(|e| e.to_string()),
                        "a database connection came back inside a failed transaction: closing it"
                    );
                    Ok(false)
                })
            })
            .connect_with(options)
            .await
            .with_context(|| {
                format!(
                    "connecting to the database {}",
                    crate::config::redact_url_password(&url)
                )
            })?;
        Ok(Self {
            pool,
            backend,
            cipher,
            warm_ms: DEFAULT_WARM_MS,
            probe: Arc::default(),
        })
    }

    /// How long a customer's message keeps the replies into its chat ahead of cold sends.
    pub fn with_warm_chat(mut self, window: Duration) -> Self {
        self.warm_ms = window.as_millis().min(i64::MAX as u128) as i64;
        self
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .context("applying database migrations")
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Readiness: the database takes a write. A read alone would pass on a disk that refuses
    /// writes, while every webhook is answered 503. The write is a one-row update, done at most
    /// every `PROBE_EVERY` (concurrent probes wait for one write), so probes stay cheap.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut last = self.probe.lock().await;
        if let Some((at, passed)) = *last {
            if at.elapsed() < PROBE_EVERY {
                return if passed {
                    Ok(())
                } else {
                    Err(StoreError::WritesFailing)
                };
            }
        }
        let write = sqlx::query("UPDATE health_probe SET checked_at = $1 WHERE id = 1")
            .bind(now_ms())
            .execute(&self.pool);
        let outcome = match tokio::time::timeout(PROBE_TIMEOUT, write).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Database(e)),
            Err(_) => Err(StoreError::Database(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the readiness write did not finish in time",
            )))),
        };
        *last = Some((Instant::now(), outcome.is_ok()));
        outcome
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool itself, for tests that inspect what is stored.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}
