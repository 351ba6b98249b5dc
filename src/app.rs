//! Building and running the service: the key, the store, the clients, the router, the
//! listener; then serving until a shutdown signal, finishing in-flight requests, and closing
//! the pool.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum_csrf::{CsrfConfig, Key, SameSite};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use crate::bridge::activity::AccountActivity;
use crate::bridge::avatar::{AvatarLinks, Avatars};
use crate::bridge::channels::Channels;
use crate::bridge::chat_clock::ChatClock;
use crate::bridge::connect::{Connector, ModuleIdentity};
use crate::bridge::courier::Courier;
use crate::bridge::failures::Failures;
use crate::bridge::file_budget::FileBudget;
use crate::bridge::ingest::Ingest;
use crate::bridge::metrics::Metrics;
use crate::bridge::mg_access::MgAccess;
use crate::bridge::monitor::Monitor;
use crate::bridge::schedule::Wake;
use crate::bridge::simple_connection::PartnerSecret;
use crate::bridge::worker::{self, Worker};
use crate::config::Settings;
use crate::crm::address::CrmPolicy;
use crate::crm::CrmClient;
use crate::crypto::{self, Cipher, KeySource, MasterKey};
use crate::messenger::max::client::MaxClient;
use crate::messenger::max::Max;
use crate::messenger::telegram::{Telegram, TelegramClient};
use crate::messenger::Messengers;
use crate::mg::{MgClient, Priority};
use crate::store::{sqlite_file, Backend, Store};
use crate::web::{self, AppState};

/// How long shutdown waits for deliveries in flight.
const WORKER_STOP_WAIT: Duration = Duration::from_secs(20);

/// The key file's name, beside the SQLite database.
pub const KEY_FILE_NAME: &str = "mgbridge.key";

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Store,
    /// The delivery worker's task and its stop switch (no task when `queue.concurrency` is 0).
    worker: Option<tokio::task::JoinHandle<()>>,
    stop_worker: watch::Sender<bool>,
    /// Every task the service spawned (writers, deliveries, reconciles): shutdown waits.
    tasks: TaskTracker,
}

impl Application {
    /// Opens and migrates the database, builds the clients, and binds `server.bind` (port 0
    /// picks a free port, which tests use).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        survive_file_size_limit();
        let master_key = master_key_for(&settings)?;
        let store = connect_store(&settings, &master_key).await?;
        store.migrate().await?;
        if store.backend() == Backend::Sqlite {
            // One process per SQLite file: leases left in it are a killed run's, so its
            // in-flight jobs are taken up now rather than when the leases run out.
            store.release_all_leases().await?;
        }
        let tasks = TaskTracker::new();
        let (state, worker, monitor) = app_state(&settings, store.clone(), &master_key, &tasks)?;
        let (stop_worker, stopped) = watch::channel(false);
        // The bots' health checks and the administrators' notifications stop with the worker.
        tasks.spawn(Arc::new(monitor).run(stopped.clone()));
        let reconcile_stop = stopped.clone();
        let worker =
            (settings.queue.concurrency > 0).then(|| tokio::spawn(Arc::new(worker).run(stopped)));
        // Channel settings declared by this build reach MG in the background, paced: start-up
        // and live traffic must not wait on MG, nor on thousands of accounts' calls.
        let channels = state.channels.clone();
        let pace = settings.mg.reconcile_per_second;
        tasks.spawn(async move { channels.reconcile_all(pace, reconcile_stop).await });
        let router = web::router(
            state,
            Duration::from_secs(settings.server.request_timeout_seconds),
            settings.server.webhook_concurrency,
        );
        let listener = TcpListener::bind(settings.server.bind)
            .await
            .with_context(|| format!("binding {}", settings.server.bind))?;
        Ok(Self {
            listener,
            router,
            store,
            worker,
            stop_worker,
            tasks,
        })
    }

    /// The store, for callers that inspect what the service stored (tests).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish and closes the
    /// database pool.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")?;
        // Every accepted webhook is stored; deliveries in flight finish (or are taken up again
        // after a restart), and the leases are given back.
        let _ = self.stop_worker.send(true);
        if let Some(worker) = self.worker {
            if tokio::time::timeout(WORKER_STOP_WAIT, worker)
                .await
                .is_err()
            {
                tracing::warn!(
                    "deliveries still running at shutdown: they will be repeated after the restart"
                );
            }
        }
        // The webhooks' and the settlements' writers end once their last user is gone; a
        // reconcile still talking to MG is cut off at the same limit.
        self.tasks.close();
        if tokio::time::timeout(WORKER_STOP_WAIT, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                tasks = self.tasks.len(),
                "tasks still running at shutdown: stopping without them"
            );
        }
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Opens the store with its cipher (`migrate` uses it alone, `serve` through `build`).
pub async fn connect_store(settings: &Settings, key: &MasterKey) -> anyhow::Result<Store> {
    Store::connect(
        settings.database.url.expose_secret(),
        settings.database.max_connections,
        Cipher::new(key),
    )
    .await
    .map(|store| store.with_warm_chat(Duration::from_secs(settings.queue.warm_chat_minutes * 60)))
}

/// The configured key; else, with SQLite, the key file beside the database (created on first
/// run); with Postgres, no key is an error: replicas must share one key, which a file on one
/// machine cannot give them.
pub fn master_key_for(settings: &Settings) -> anyhow::Result<MasterKey> {
    if let Some(key) = &settings.security.encryption_key {
        return MasterKey::parse(key.expose_secret());
    }
    let url = settings.database.url.expose_secret();
    match Backend::of_url(url)? {
        Backend::Postgres => anyhow::bail!(
            "security.encryption_key is required with Postgres: set MGBRIDGE__SECURITY__ENCRYPTION_KEY \
             to 64 hex characters (`openssl rand -hex 32`), the same on every replica"
        ),
        Backend::Sqlite => {
            let Some(db_file) = sqlite_file(url) else {
                tracing::warn!("in-memory database and no security.encryption_key: using a key that lives only as long as this process");
                return Ok(MasterKey::generate());
            };
            let path = db_file
                .parent()
                .map(|dir| dir.join(KEY_FILE_NAME))
                .unwrap_or_else(|| KEY_FILE_NAME.into());
            let (key, source) = crypto::load_or_create_key_file(&path)?;
            if let KeySource::Created(path) = source {
                tracing::warn!(
                    path = %path.display(),
                    "no security.encryption_key configured: created a new key file (mode 0600). \
                     Back it up with the database: without it the stored API keys and tokens cannot be read"
                );
            }
            Ok(key)
        }
    }
}

/// What handlers share, and the delivery worker and health monitor (which only `build` holds).
fn app_state(
    settings: &Settings,
    store: Store,
    key: &MasterKey,
    tasks: &TaskTracker,
) -> anyhow::Result<(AppState, Worker, Monitor)> {
    let crm = CrmClient::new(
        Duration::from_secs(settings.crm.timeout_seconds),
        !settings.crm.allow_private_networks,
    )?;
    let mg = MgAccess {
        mg: if settings.crm.allow_private_networks {
            MgClient::new(&settings.mg)?
        } else {
            MgClient::guarded(&settings.mg)?
        },
        crm: crm.clone(),
        store: store.clone(),
        module_code: settings.module.integration_code.clone(),
        priority: Priority::Bulk,
    };
    let telegram = TelegramClient::with_proxy(
        &settings.telegram.api_url,
        Duration::from_secs(settings.telegram.timeout_seconds),
        settings.telegram.proxy_url.as_ref(),
    )?;
    let max = MaxClient::new(
        &settings.max.api_url,
        Duration::from_secs(settings.max.timeout_seconds),
    )?;
    let messengers = Arc::new(Messengers {
        telegram: Telegram::new(telegram, &settings.telegram),
        max: Max::new(max, settings.max.bot_requests_per_second),
    });
    let avatar_links = AvatarLinks::from_master(key, settings.server.public_url.clone());
    let wake = Arc::new(Wake::default());
    let metrics = Arc::new(Metrics::default());
    let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4());
    let courier = Arc::new(Courier {
        store: store.clone(),
        mg_for_customers: mg.for_customers(),
        mg: mg.clone(),
        messengers: messengers.clone(),
        avatars: avatar_links.clone(),
        files: FileBudget::new(settings.queue.file_memory_mb),
        clock: ChatClock::start(store.clone(), tasks),
    });
    let monitor = Monitor {
        store: store.clone(),
        crm: crm.clone(),
        messengers: messengers.clone(),
        settings: settings.health.clone(),
        base_url: settings.base_url(),
        module_name: settings.module.name.clone(),
    };
    let worker = Worker {
        settler: worker::settler(store.clone(), owner.clone(), tasks),
        tasks: tasks.clone(),
        recovery: Default::default(),
        store: store.clone(),
        courier: courier.clone(),
        settings: settings.queue.clone(),
        owner,
        wake: wake.clone(),
        metrics: metrics.clone(),
    };
    let channels = Arc::new(Channels {
        mg,
        messengers: messengers.clone(),
        store: store.clone(),
        base_url: settings.base_url(),
        account_locks: Default::default(),
    });
    let connector = Connector {
        policy: CrmPolicy::new(&settings.crm),
        crm,
        store: store.clone(),
        module: ModuleIdentity {
            code: settings.module.integration_code.clone(),
            name: settings.module.name.clone(),
            logo_url: settings.logo_url(),
            base_url: settings.base_url(),
        },
    };
    let state = AppState {
        ingest: Ingest::start(store.clone(), wake.clone(), tasks),
        directory: Default::default(),
        courier,
        activity: Arc::new(AccountActivity {
            store: store.clone(),
            channels: channels.clone(),
            wake: wake.clone(),
            tasks: tasks.clone(),
        }),
        failures: Arc::new(Failures {
            store: store.clone(),
            wake: Some(wake.clone()),
        }),
        avatars: Arc::new(Avatars {
            links: avatar_links,
            store: store.clone(),
            messengers,
        }),
        metrics,
        delivery_mode: settings.mg.delivery,
        store,
        connector: Arc::new(connector),
        channels,
        simple_connection: settings
            .module
            .simple_connection_secret
            .clone()
            .map(|secret| Arc::new(PartnerSecret::new(secret))),
        csrf: csrf_config(settings, key),
        module_name: settings.module.name.as_str().into(),
        health: Arc::new(settings.health.clone()),
    };
    Ok((state, worker, monitor))
}

/// CSRF cookies are encrypted with a key derived from the master key, so a token survives a
/// restart and is the same on every replica.
fn csrf_config(settings: &Settings, key: &MasterKey) -> CsrfConfig {
    let cookie_key = key.derive("csrf-cookie");
    let salt = hex::encode(&key.derive("csrf-salt")[..32]);
    CsrfConfig::default()
        .with_key(Some(Key::from(&cookie_key)))
        .with_salt(salt)
        .with_cookie_name("mgbridge_csrf")
        .with_cookie_same_site(SameSite::Lax)
        .with_http_only(true)
        .with_secure(settings.server.public_url.scheme() == "https")
}

/// A write past the file-size limit (`ulimit -f`, a quota) raises SIGXFSZ, whose default is to
/// kill the process: every webhook in flight would be lost and the queue stop. With a handler
/// installed the write fails with EFBIG instead, which the store reports like any failed write
/// (webhooks get 503, readiness goes red) and recovers from once writes pass again. tokio's
/// handler stays installed for the life of the process, so the stream itself is not kept.
fn survive_file_size_limit() {
    /// SIGXFSZ's number on Linux and the BSDs (tokio names only the common signals).
    #[cfg(unix)]
    const SIGXFSZ: i32 = 25;
    #[cfg(unix)]
    if let Err(e) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(SIGXFSZ))
    {
        tracing::warn!(error = %e, "could not catch SIGXFSZ: a write past the file-size limit kills the process");
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (docker stop, Kubernetes).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}
