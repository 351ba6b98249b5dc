//! The services under load: the real one as a child process on a fresh database (with a look
//! into its job table), and the bare baseline.

use mgbridge_testkit::service_binary;

use crate::*;

/// Jobs in the service's database (`TestDatabase`, shared with the tests, makes and drops it).
pub(crate) async fn job_count(url: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    count
}

/// Commits of the group-commit writer between two instants (unix ms): every job of one
/// commit has the same `created_at`, so distinct values count the commits (two commits in
/// the same millisecond count once: a lower bound).
pub(crate) async fn commits_between(url: &str, from_ms: i64, to_ms: i64) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let commits: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT created_at) FROM job WHERE created_at >= $1 AND created_at <= $2",
    )
    .bind(from_ms)
    .bind(to_ms)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let _ = conn.close().await;
    commits
}

pub(crate) struct Rig {
    pub(crate) service: ServiceProcess,
    pub(crate) database: TestDatabase,
    pub(crate) mg: FakeMg,
    pub(crate) client_id: String,
    pub(crate) webhook_url: String,
    pub(crate) secret: String,
    pub(crate) mg_channel: i64,
    pub(crate) _crm: FakeCrm,
    pub(crate) _telegram: FakeTelegram,
    pub(crate) _dir: tempfile::TempDir,
}

/// Fresh fakes (on the fakes' runtime), a fresh database, the service as a child process with
/// `extra` environment, and a merchant's connect + add-bot done over HTTP.
pub(crate) async fn rig(
    fakes: &tokio::runtime::Handle,
    db: Db,
    admin: &str,
    extra: &[(&str, &str)],
) -> Rig {
    let crm = fakes.spawn(FakeCrm::start()).await.unwrap();
    let telegram = fakes.spawn(FakeTelegram::with_bot()).await.unwrap();
    let mg = fakes.spawn(FakeMg::start()).await.unwrap();
    crm.set(|s| s.mg_endpoint = mg.url.clone());
    let database = TestDatabase::create(db, admin, "mgbridge_bench").await;
    let dir = tempfile::tempdir().unwrap();
    let env = bench_env(&database.url, telegram.api_url().as_str(), extra);
    let service =
        ServiceProcess::start(service_binary!(), env, dir.path().join("service.log")).await;
    let client_id = connect_and_add_bot(
        &service.address,
        &crm.url,
        fake_crm::API_KEY,
        fake_telegram::TOKEN,
    )
    .await;
    let webhook = telegram
        .webhook_of(fake_telegram::TOKEN)
        .expect("adding the bot set its webhook");
    let path = url::Url::parse(&webhook.url).unwrap().path().to_owned();
    let mg_channel = mg
        .channels()
        .into_iter()
        .find(|c| c.is_active)
        .expect("adding the bot activated an MG channel")
        .id;
    Rig {
        webhook_url: format!("{}{path}", service.address),
        secret: webhook.secret_token.expect("a secret token was set"),
        service,
        database,
        mg,
        client_id,
        mg_channel,
        _crm: crm,
        _telegram: telegram,
        _dir: dir,
    }
}

impl Rig {
    pub(crate) fn telegram_target(&self) -> Target {
        Target::telegram(&self.webhook_url, &self.secret)
    }

    pub(crate) fn mg_target(&self) -> Target {
        Target::mg(&self.service.address, &self.client_id)
    }
}

/// An axum server that reads the body and answers 200 `{}`: what HTTP alone costs here.
pub(crate) fn start_bare(runtime: &tokio::runtime::Runtime) -> String {
    runtime.block_on(async {
        async fn answer(_body: Bytes) -> axum::Json<Value> {
            axum::Json(json!({}))
        }
        let app = axum::Router::new().fallback(answer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    })
}
