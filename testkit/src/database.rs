//! A database made for one test (or one benchmark service): a SQLite file in a temporary
//! folder, or a new Postgres database, dropped when this value is. Shared by the tests and the
//! benchmarks.

use sqlx::Connection;

/// Where the tests' Postgres server is (its admin URL); set by `.ci/run` (and for
/// `scripts/test` when Postgres is reachable).
pub const POSTGRES_ENV: &str = "MGBRIDGE_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>, // (admin url, database name)
}

impl TestDatabase {
    /// A fresh database for one test: Postgres through `MGBRIDGE_TEST_POSTGRES_URL`.
    pub async fn new(db: Db) -> Self {
        let admin = match db {
            Db::Sqlite => String::new(),
            Db::Postgres => std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
                panic!(
                    "{POSTGRES_ENV} is not set, so this Postgres test cannot run. \
                     Run `scripts/test` (it skips Postgres tests, saying so, when no server \
                     is configured) or set {POSTGRES_ENV}=postgres://postgres@127.0.0.1:5432/postgres"
                )
            }),
        };
        Self::create(db, &admin, "mgbridge_test").await
    }

    /// A fresh database; on Postgres, `{prefix}_{uuid}` created through `postgres_admin`.
    pub async fn create(db: Db, postgres_admin: &str, prefix: &str) -> Self {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/mgbridge.db", dir.path().display());
                Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Db::Postgres => {
                let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(postgres_admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                let mut url = url::Url::parse(postgres_admin).unwrap();
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    _dir: None,
                    postgres: Some((postgres_admin.to_owned(), name)),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            // Drop runs outside async: a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}
