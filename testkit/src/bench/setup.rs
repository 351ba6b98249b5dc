//! What the service benchmarks (`bridge/`, `fair/`) share around the service: knobs from
//! the environment, the databases to run on, the service's environment, a look into its job
//! table, and number formatting.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::Connection;

use crate::database::Db;
use crate::service_process::service_env;

pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A comma-separated list (`a,b`), or `default`.
pub fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `MGBRIDGE_BENCH_DBS=sqlite,postgres` (the default).
pub fn dbs_from_env() -> Vec<Db> {
    env_list("MGBRIDGE_BENCH_DBS", "sqlite,postgres")
        .iter()
        .filter_map(|d| match d.as_str() {
            "sqlite" => Some(Db::Sqlite),
            "postgres" => Some(Db::Postgres),
            _ => None,
        })
        .collect()
}

/// `MGBRIDGE_BENCH_POSTGRES_URL`, where each service's database is created.
pub fn postgres_admin() -> String {
    std::env::var("MGBRIDGE_BENCH_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.into())
}

pub fn db_name(db: Db) -> &'static str {
    match db {
        Db::Sqlite => "SQLite",
        Db::Postgres => "Postgres",
    }
}

/// Whether the Postgres rows run: prints the server's settings, or why its rows are skipped.
pub fn postgres_rows_run(rt: &tokio::runtime::Runtime, dbs: &[Db], admin: &str) -> bool {
    if !dbs.contains(&Db::Postgres) {
        return false;
    }
    let check = rt.block_on(postgres_check(admin));
    match &check {
        Ok(notes) => println!("Postgres: {notes}"),
        Err(e) => println!(
            "SKIPPED: Postgres rows: {} is unreachable ({e}); set MGBRIDGE_BENCH_POSTGRES_URL",
            mgbridge::config::redact_url_password(admin)
        ),
    }
    check.is_ok()
}

/// The server's durability settings when Postgres answers, else why not.
pub async fn postgres_check(admin: &str) -> Result<String, String> {
    let connect = sqlx::PgConnection::connect(admin);
    let mut conn = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("no answer in 5 s".into()),
    };
    let mut notes = Vec::new();
    for setting in [
        "server_version",
        "fsync",
        "synchronous_commit",
        "shared_buffers",
    ] {
        let value: String = sqlx::query_scalar(&format!("SHOW {setting}"))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| e.to_string());
        notes.push(format!("{setting}={value}"));
    }
    let _ = conn.close().await;
    Ok(notes.join(", "))
}

/// The service's environment in a benchmark: the tests' `service_env` (fakes on loopback, the
/// fixed key), logging at `warn` only, then `extra`.
pub fn bench_env(
    database_url: &str,
    telegram_api_url: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut env = service_env(database_url, telegram_api_url);
    env.retain(|(k, _)| k != "MGBRIDGE__LOG__FILTER");
    env.push(("MGBRIDGE__LOG__FILTER".into(), "warn".into()));
    for (k, v) in extra {
        env.push(((*k).into(), (*v).into()));
    }
    env
}

/// Jobs in the service's database by state (`queued`, `done`, `failed`).
pub async fn job_states(url: &str) -> HashMap<String, i64> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, COUNT(*) FROM job GROUP BY state")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    rows.into_iter().collect()
}

/// Milliseconds, with the precision that matters at that size.
pub fn ms(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x < 1.0 {
        format!("{x:.3} ms")
    } else if x < 10.0 {
        format!("{x:.2} ms")
    } else {
        format!("{x:.1} ms")
    }
}
