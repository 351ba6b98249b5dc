//! The service as an operator meets it: health checks, 404s, start-up rules for the key,
//! `mgbridge config`, and graceful shutdown of the real binary.

use std::process::{Command, Stdio};
use std::time::Duration;

use mgbridge::app::{Application, KEY_FILE_NAME};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;

use crate::fake_crm::{FakeCrm, API_KEY};
use crate::helpers::{input_value, spawn_app, test_settings, Db, TestDatabase};
use crate::on_both_databases;

on_both_databases!(health_checks_answer, unknown_pages_and_accounts_are_404);

async fn health_checks_answer(db: Db) {
    let app = spawn_app(db).await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), StatusCode::OK);
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["database"], "ok");
    // Every response carries a request id for log correlation.
    assert!(app
        .get("/health/live")
        .await
        .headers()
        .contains_key("x-request-id"));
}

async fn unknown_pages_and_accounts_are_404(db: Db) {
    let app = spawn_app(db).await;
    app.connect_fake_crm().await;
    for path in [
        "/nope".to_owned(),
        format!("/settings/{}", "0".repeat(64)),
        "/settings/not-a-client-id".to_owned(),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            response.text().await.unwrap().contains("Page not found"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app(Db::Sqlite).await;
    app.store.close().await;
    assert_eq!(
        app.get("/health/ready").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn with_sqlite_and_no_key_a_private_key_file_is_made_beside_the_database() {
    let app = spawn_app(Db::Sqlite).await;
    let db_file = mgbridge::store::sqlite_file(&app.database.url).unwrap();
    let key_file = db_file.parent().unwrap().join(KEY_FILE_NAME);
    let text = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(text.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[tokio::test]
async fn with_postgres_and_no_key_the_service_refuses_to_start() {
    let mut settings = test_settings("postgres://nobody@127.0.0.1:5432/none", Db::Postgres);
    settings.security.encryption_key = None;
    let err = Application::build(settings).await.err().expect("refused");
    assert!(
        format!("{err:#}").contains("security.encryption_key is required with Postgres"),
        "{err:#}"
    );
}

#[tokio::test]
async fn a_wrong_encryption_key_is_refused_with_a_clear_message() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let mut settings = test_settings(&database.url, Db::Sqlite);
    settings.security.encryption_key = Some(SecretString::from("not-hex".to_owned()));
    let err = Application::build(settings).await.err().expect("refused");
    assert!(format!("{err:#}").contains("64 hex characters"), "{err:#}");
}

#[test]
fn config_command_prints_the_effective_configuration_without_secrets() {
    let output = Command::new(env!("CARGO_BIN_EXE_mgbridge"))
        .arg("config")
        .env("MGBRIDGE__SECURITY__ENCRYPTION_KEY", "cd".repeat(32))
        .env(
            "MGBRIDGE__DATABASE__URL",
            "postgres://bridge:s3cret-pw@db:5432/mgbridge",
        )
        .env("MGBRIDGE__MODULE__NAME", "Shown Name")
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(printed.contains("name = \"Shown Name\""), "{printed}");
    assert!(
        printed.contains("postgres://bridge:redacted@db:5432/mgbridge"),
        "{printed}"
    );
    assert!(!printed.contains("s3cret-pw"), "{printed}");
    assert!(!printed.contains(&"cd".repeat(32)), "{printed}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// SIGTERM while a connect request is waiting on the CRM: the request still completes, then
/// the process exits cleanly.
#[tokio::test]
async fn sigterm_finishes_in_flight_requests_then_exits() {
    let crm = FakeCrm::start().await;
    crm.set(|s| s.delay = Duration::from_millis(400));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mgbridge"))
        .arg("serve")
        .env("MGBRIDGE__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env(
            "MGBRIDGE__DATABASE__URL",
            format!("sqlite://{}/db.sqlite", dir.path().display()),
        )
        .env("MGBRIDGE__CRM__ALLOWED_DOMAINS", "*")
        .env("MGBRIDGE__CRM__ALLOW_HTTP", "true")
        .env("MGBRIDGE__CRM__ALLOW_PRIVATE_NETWORKS", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/health/ready")).send().await {
            ready = r.status() == StatusCode::OK;
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the service became ready");
    let html = client
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = input_value(&html, "authenticity_token").unwrap();

    let in_flight = tokio::spawn({
        let client = client.clone();
        let crm_url = crm.url.clone();
        async move {
            client
                .post(format!("{base}/connect"))
                .form(&[
                    ("crm_url", crm_url.as_str()),
                    ("api_key", API_KEY),
                    ("authenticity_token", token.as_str()),
                ])
                .send()
                .await
        }
    });
    // Wait until the request is inside the service (the CRM got its first call).
    while crm.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completed");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert_eq!(crm.requests_to("/edit").len(), 1);
}
