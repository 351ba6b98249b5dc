//! A database made for one test (or one benchmark service): a SQLite file in a temporary
//! folder, or a new Postgres database, dropped when this value is. Shared with the benchmarks
//! (`benches/bridge.rs` includes this file with `#[path]`).

use sqlx::Connection;

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
