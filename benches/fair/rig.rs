//! What every scenario runs on: the service with its fakes and accounts (`Rig`), and the CPU
//! its parts use (`Usage`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::database::{Db, TestDatabase};
use crate::fake_crm::{self, FakeCrm};
use crate::fake_mg::FakeMg;
use crate::fake_telegram::FakeTelegram;
use crate::load::Target;
use crate::procfs::{process_cpu_ns, self_cpu_ns, SystemCpu};
use crate::service_process::{connect_and_add_bot, ServiceProcess};
use crate::setup::bench_env;
use crate::Knobs;
use mgbridge_testkit::service_binary;

/// Accounts connected at the same time.
const CONNECT_PARALLEL: usize = 8;
/// Cores used outside the benchmark above which a measurement is marked disturbed.
pub(crate) const DISTURBANCE: f64 = 0.25;

// Chats (Telegram private chat ids; each account has its own bot, these only keep them apart).
pub(crate) const MAILING_CHAT: i64 = 6_100_000_000;
pub(crate) const A_CUSTOMER_CHAT: i64 = 6_200_000_000;
pub(crate) const A_WARM_CHAT: i64 = 6_209_999_999;
pub(crate) const B_IDLE_CHAT: i64 = 6_300_000_000;
pub(crate) const B_DURING_CHAT: i64 = 6_310_000_000;
pub(crate) const B_WARM_CHAT: i64 = 6_309_999_999;
/// B's customers write in this many chats (in turn), so per-chat order can be checked.
pub(crate) const B_CHATS: usize = 10;
pub(crate) const MANY_CHAT: i64 = 6_400_000_000;
pub(crate) const CLAIM_CHAT: i64 = 6_500_000_000;
// MG message ids of operators' messages.
pub(crate) const WARM_ID: i64 = 900_000;
pub(crate) const MAILING_ID: i64 = 10_000_000;
pub(crate) const REPLY_ID: i64 = 20_000_000;

// ---- CPU -------------------------------------------------------------------------------------

/// A snapshot of the CPU the parts of the set-up have used so far.
pub(crate) struct Usage {
    pub(crate) at: Instant,
    /// This process: load generator and fakes.
    bench: u64,
    service: u64,
    system: SystemCpu,
    /// Postgres processes serving the service's database, and the server's own background
    /// processes (WAL writer, checkpointer, …); not other databases' backends.
    our_postgres: HashSet<u32>,
}

/// What the parts used between two snapshots, in ns.
#[derive(Clone, Copy, Default)]
pub(crate) struct UsageDelta {
    pub(crate) wall: Duration,
    bench: u64,
    pub(crate) service: u64,
    pub(crate) postgres: u64,
    kernel: u64,
    machine: u64,
}

impl Usage {
    async fn now(service_pid: u32, postgres: Option<&PgWatch>) -> Self {
        let our_postgres = match postgres {
            Some(pg) => pg.pids().await,
            None => HashSet::new(),
        };
        Usage {
            at: Instant::now(),
            bench: self_cpu_ns(),
            service: process_cpu_ns(service_pid).unwrap_or(0),
            system: SystemCpu::now(),
            our_postgres,
        }
    }

    pub(crate) fn since(&self, before: &Usage) -> UsageDelta {
        let postgres = self
            .our_postgres
            .iter()
            .filter_map(|pid| {
                let now = *self.system.postgres.get(pid)?;
                Some(now.saturating_sub(before.system.postgres.get(pid).copied().unwrap_or(0)))
            })
            .sum();
        UsageDelta {
            wall: self.at.duration_since(before.at),
            bench: self.bench.saturating_sub(before.bench),
            service: self.service.saturating_sub(before.service),
            postgres,
            kernel: self.system.kernel.saturating_sub(before.system.kernel),
            machine: self.system.machine.saturating_sub(before.system.machine),
        }
    }
}

impl UsageDelta {
    fn cores(&self, ns: u64) -> f64 {
        ns as f64 / self.wall.as_nanos().max(1) as f64
    }

    /// What the rest of the machine used (a build next door, other databases' backends).
    fn others(&self) -> u64 {
        self.machine
            .saturating_sub(self.bench + self.service + self.postgres + self.kernel)
    }

    pub(crate) fn disturbed(&self) -> bool {
        self.cores(self.others()) > DISTURBANCE
    }

    /// `service / postgres / bench / kernel threads / other` cores busy.
    pub(crate) fn cell(&self, db: Db) -> String {
        format!(
            "{:.2} / {} / {:.2} / {:.2} / {:.2}{}",
            self.cores(self.service),
            if db == Db::Postgres {
                format!("{:.2}", self.cores(self.postgres))
            } else {
                "-".into()
            },
            self.cores(self.bench),
            self.cores(self.kernel),
            self.cores(self.others()),
            if self.disturbed() { " DISTURBED" } else { "" }
        )
    }
}

/// Finds the Postgres processes that serve one database (`pg_stat_activity`).
struct PgWatch {
    admin: String,
    database: String,
}

impl PgWatch {
    fn of(db: Db, admin: &str, database: &TestDatabase) -> Option<Self> {
        (db == Db::Postgres).then(|| PgWatch {
            admin: admin.to_owned(),
            database: url::Url::parse(&database.url)
                .unwrap()
                .path()
                .trim_start_matches('/')
                .to_owned(),
        })
    }

    async fn pids(&self) -> HashSet<u32> {
        let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin).await else {
            return HashSet::new();
        };
        let pids: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 \
             OR (datname IS NULL AND backend_type <> 'client backend')",
        )
        .bind(&self.database)
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default();
        let _ = conn.close().await;
        pids.into_iter().map(|p| p as u32).collect()
    }
}

// ---- The service and its accounts ------------------------------------------------------------

/// One merchant's account, connected over HTTP.
pub(crate) struct Account {
    pub(crate) mg_token: String,
    pub(crate) bot_token: String,
    pub(crate) mg_channel: i64,
    /// The bot's webhook at the service.
    pub(crate) telegram: Target,
    /// `/webhook/mg` with the account's Clientid.
    pub(crate) mg_hook: Target,
    _crm: FakeCrm,
}

pub(crate) struct Rig {
    pub(crate) service: ServiceProcess,
    pub(crate) database: TestDatabase,
    pub(crate) mg: FakeMg,
    pub(crate) telegram: FakeTelegram,
    pub(crate) accounts: Vec<Account>,
    postgres: Option<PgWatch>,
    dir: tempfile::TempDir,
}

fn bot_id(n: usize) -> i64 {
    7_100_000_000 + n as i64
}

fn bot_token(n: usize) -> String {
    format!("{}:AAFq3xQ-7dMkhw_9ZyB1cVn0pTr5s{n:06}", bot_id(n))
}

fn mg_token(n: usize) -> String {
    format!("mg-token-fair-{n:05}-0123456789abcdef0123456789")
}

impl Rig {
    /// Fresh fakes, a fresh database, the service with `extra` environment, and `accounts`
    /// accounts connected (a few at a time).
    pub(crate) async fn start(
        fakes: &tokio::runtime::Handle,
        db: Db,
        admin: &str,
        accounts: usize,
        extra: &[(&str, &str)],
    ) -> Rig {
        let telegram = fakes.spawn(FakeTelegram::start()).await.unwrap();
        let mg = fakes.spawn(FakeMg::start()).await.unwrap();
        let database = TestDatabase::create(db, admin, "mgbridge_fair").await;
        let dir = tempfile::tempdir().unwrap();
        let env = bench_env(&database.url, telegram.api_url().as_str(), extra);
        let service =
            ServiceProcess::start(service_binary!(), env, dir.path().join("service.log")).await;
        let gate = Arc::new(tokio::sync::Semaphore::new(CONNECT_PARALLEL));
        let mut tasks = Vec::new();
        for n in 0..accounts {
            let (gate, fakes, mg, telegram) =
                (gate.clone(), fakes.clone(), mg.clone(), telegram.clone());
            let address = service.address.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await.unwrap();
                connect(&fakes, &address, &mg, &telegram, n).await
            }));
        }
        let mut connected = Vec::with_capacity(accounts);
        for task in tasks {
            connected.push(task.await.expect("connecting an account"));
        }
        Rig {
            postgres: PgWatch::of(db, admin, &database),
            service,
            database,
            mg,
            telegram,
            accounts: connected,
            dir,
        }
    }

    /// Stops the service (SIGKILL: everything answered is committed) and starts a fresh one on
    /// the same database with `extra` environment.
    pub(crate) async fn restart_with(&mut self, extra: &[(&str, &str)]) {
        self.service.kill();
        let env = bench_env(&self.database.url, self.telegram.api_url().as_str(), extra);
        self.service = ServiceProcess::start(
            service_binary!(),
            env,
            self.dir.path().join("service-2.log"),
        )
        .await;
    }

    /// On Postgres (unless `MGBRIDGE_FAIR_ANALYZE=0`): `ANALYZE` the service's database, as
    /// autovacuum would within a minute or so. A fresh database's job table has no statistics
    /// until then, and the planner's choice for the queue's queries differs by more than an
    /// order of magnitude with and without them (measured), so without this the figures would
    /// depend on when autovacuum happened to run.
    pub(crate) async fn analyze(&self, k: &Knobs) {
        if self.postgres.is_none() || !k.analyze {
            return;
        }
        let mut conn = sqlx::PgConnection::connect(&self.database.url)
            .await
            .unwrap();
        sqlx::query("ANALYZE").execute(&mut conn).await.unwrap();
        let _ = conn.close().await;
    }

    /// Postgres: how often the job table was analyzed (by the bench, by autovacuum).
    async fn analyze_note(&self) -> Option<String> {
        self.postgres.as_ref()?;
        let mut conn = sqlx::PgConnection::connect(&self.database.url).await.ok()?;
        let counts: Option<(i64, i64)> = sqlx::query_as(
            "SELECT analyze_count, autoanalyze_count FROM pg_stat_user_tables WHERE relname = 'job'",
        )
        .fetch_optional(&mut conn)
        .await
        .ok()?;
        let _ = conn.close().await;
        counts.map(|(manual, auto)| {
            format!(
                "  Postgres job table analyzed: {manual} × by the bench, {auto} × by autovacuum"
            )
        })
    }

    pub(crate) async fn usage(&self) -> Usage {
        Usage::now(self.service.pid(), self.postgres.as_ref()).await
    }

    /// What to print under a scenario's row: the analyze counts, the service's log tail.
    pub(crate) async fn notes(&self) -> Option<String> {
        let notes: Vec<String> = [self.analyze_note().await, self.log_tail()]
            .into_iter()
            .flatten()
            .collect();
        (!notes.is_empty()).then(|| notes.join("\n"))
    }

    /// The last lines of the service's log (warnings and errors only), if any.
    fn log_tail(&self) -> Option<String> {
        let mut log = String::new();
        for name in ["service.log", "service-2.log"] {
            log.push_str(&std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default());
        }
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            return None;
        }
        let mut tail = format!(
            "  service log: {} lines at warn and above, the last ones:",
            lines.len()
        );
        for line in lines.iter().rev().take(4).rev() {
            let line: String = strip_ansi(line).chars().take(300).collect();
            tail.push_str(&format!("\n    {line}"));
        }
        Some(tail)
    }
}

/// The text of a log line without its colour codes (`ESC [ … m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Account `n`: its own fake CRM (origin and MG token) and bot, connected and the bot added
/// over HTTP.
async fn connect(
    fakes: &tokio::runtime::Handle,
    address: &str,
    mg: &FakeMg,
    telegram: &FakeTelegram,
    n: usize,
) -> Account {
    let crm = fakes.spawn(FakeCrm::start()).await.unwrap();
    let token = mg_token(n);
    crm.set(|s| {
        s.mg_endpoint = mg.url.clone();
        s.mg_token = token.clone();
    });
    let bot = bot_token(n);
    telegram.add_bot(&bot, bot_id(n), &format!("fair_shop_{n}_bot"));
    let client_id = connect_and_add_bot(address, &crm.url, fake_crm::API_KEY, &bot).await;
    let webhook = telegram
        .webhook_of(&bot)
        .expect("adding the bot set its webhook");
    let path = url::Url::parse(&webhook.url).unwrap().path().to_owned();
    let mg_channel = mg
        .channels_of(&token)
        .into_iter()
        .find(|c| c.is_active)
        .expect("adding the bot activated an MG channel")
        .id;
    Account {
        telegram: Target::telegram(
            &format!("{address}{path}"),
            &webhook.secret_token.expect("a secret token was set"),
        ),
        mg_hook: Target::mg(address, &client_id),
        mg_token: token,
        bot_token: bot,
        mg_channel,
        _crm: crm,
    }
}
