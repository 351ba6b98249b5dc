//! The SSRF guard in front of the connect form: with `crm.allow_private_networks` off (the
//! default), no internal address is ever called, whatever the merchant types.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use reqwest::StatusCode;
use serde_json::Value;

use mgbridge::domain::{ApiKey, ClientId, CrmUrl, MgToken};
use mgbridge::mg::{MgClient, MgError};
use mgbridge::store::ConnectedAccount;

use crate::fake_crm::API_KEY;
use crate::helpers::{spawn_app_with, Db};
use crate::on_both_databases;

on_both_databases!(
    internal_addresses_are_refused_before_any_request,
    a_name_resolving_to_loopback_is_refused_after_dns,
    hosts_outside_the_allowed_domains_are_refused,
    other_spellings_of_loopback_are_refused_at_connect,
    activity_cannot_move_the_crm_to_an_internal_address,
);

/// `127.0.0.1` as URL parsers also read it, and addresses that reach the local host.
fn loopback_spellings(port: &str) -> Vec<String> {
    [
        "127.1",
        "0x7f.1",
        "2130706433",
        "0177.0.0.1",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
    ]
    .iter()
    .map(|host| format!("http://{host}:{port}"))
    .collect()
}

async fn internal_addresses_are_refused_before_any_request(db: Db) {
    let app = spawn_app_with(db, |s| s.crm.allow_private_networks = false).await;
    for (url, class) in [
        ("http://127.0.0.1:9", "loopback"),
        ("http://0.0.0.0", "unspecified"),
        ("http://10.0.0.8", "private"),
        ("http://172.16.5.4", "private"),
        ("http://192.168.1.10", "private"),
        ("http://169.254.169.254", "cloud metadata"),
        ("http://169.254.10.10", "link-local"),
        ("http://100.64.1.1", "shared (carrier-grade NAT)"),
        ("http://[::1]", "loopback"),
        ("http://[fd00:ec2::254]", "cloud metadata"),
        ("http://[fc00::5]", "private (unique local)"),
        ("http://[fe80::1]", "link-local"),
        ("http://[::ffff:127.0.0.1]", "loopback"),
        ("http://[::ffff:a9fe:a9fe]", "cloud metadata"),
    ] {
        let page = app.connect(url, API_KEY).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let error = page.error_text();
        assert!(
            error.contains(&format!("a {class} address")),
            "{url}: {error}"
        );
        assert!(
            error.contains("only connects to CRMs on the public internet"),
            "{url}: {error}"
        );
    }
    assert_eq!(app.account_count().await, 0);
}

async fn a_name_resolving_to_loopback_is_refused_after_dns(db: Db) {
    let app = spawn_app_with(db, |s| s.crm.allow_private_networks = false).await;
    // The fake CRM really listens there: the guard, not a closed port, must stop the call.
    let port = app.crm.url.rsplit(':').next().unwrap().to_owned();
    let page = app
        .connect(&format!("http://localhost:{port}"), API_KEY)
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.error_text().contains("Localhost resolves to"),
        "{}",
        page.error_text()
    );
    assert!(
        page.error_text().contains("loopback address"),
        "{}",
        page.error_text()
    );
    assert!(
        app.crm.requests().is_empty(),
        "no request reached the fake CRM"
    );
}

async fn hosts_outside_the_allowed_domains_are_refused(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.crm.allowed_domains = vec!["retailcrm.ru".into(), "simla.com".into()];
        s.crm.allow_http = false;
        s.crm.allow_private_networks = false;
    })
    .await;
    for url in [
        "https://evil.example.com",
        "https://acme.retailcrm.ru.evil.example",
        "https://127.0.0.1",
    ] {
        let page = app.connect(url, API_KEY).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(
            page.error_text()
                .contains("is not a CRM address this module may connect to"),
            "{url}: {}",
            page.error_text()
        );
    }
    let page = app.connect("http://acme.retailcrm.ru", API_KEY).await;
    assert!(
        page.error_text().contains("https only"),
        "{}",
        page.error_text()
    );
    assert_eq!(app.account_count().await, 0);
}

/// MG's address comes from the CRM's answer; the guarded MG client will not call a name that
/// resolves to loopback, even where an MG really listens.
#[tokio::test]
async fn the_guarded_mg_client_does_not_call_internal_addresses() {
    let mg = crate::fake_mg::FakeMg::start().await;
    let settings = crate::helpers::test_settings("sqlite::memory:", Db::Sqlite);
    let client = mgbridge::mg::MgClient::guarded(&settings.mg).unwrap();
    let port = mg.url.rsplit(':').next().unwrap();
    let token = mgbridge::domain::MgToken::new(crate::fake_mg::TOKEN.to_owned());

    let result = client
        .api(&format!("http://localhost:{port}"), &token)
        .list_channels(&Default::default())
        .await;

    assert!(
        matches!(result, Err(mgbridge::mg::MgError::Unreachable(_))),
        "{result:?}"
    );
    assert!(mg.requests().is_empty(), "nothing reached the fake MG");
}

async fn other_spellings_of_loopback_are_refused_at_connect(db: Db) {
    let app = spawn_app_with(db, |s| s.crm.allow_private_networks = false).await;
    // The fake CRM really listens on 127.0.0.1 at this port.
    let port = app.crm.url.rsplit(':').next().unwrap().to_owned();
    for url in loopback_spellings(&port) {
        let page = app.connect(&url, API_KEY).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let error = page.error_text();
        assert!(
            error.contains("a loopback address")
                || error.contains("an unspecified address")
                || error.contains("a unspecified address"),
            "{url}: {error}"
        );
    }
    assert!(
        app.crm.requests().is_empty(),
        "no request reached the fake CRM"
    );
    assert_eq!(app.account_count().await, 0);
}

/// The activity callback names the CRM's new address; every later CRM call would go there.
async fn activity_cannot_move_the_crm_to_an_internal_address(db: Db) {
    let app = spawn_app_with(db, |s| s.crm.allow_private_networks = false).await;
    // Connected as if from a public CRM (the connect form would refuse the loopback fake).
    let client_id = ClientId::generate();
    let crm = CrmUrl::from_trusted("https://acme.retailcrm.ru".into());
    app.store
        .save_connected_account(&ConnectedAccount {
            client_id: &client_id,
            crm_url: &crm,
            api_key: &ApiKey::parse(API_KEY).unwrap(),
            mg_endpoint_url: "https://mg-s1.retailcrm.pro",
            mg_token: &MgToken::new("token".to_owned()),
            language: mgbridge::i18n::Lang::En,
        })
        .await
        .unwrap();
    let port = app.crm.url.rsplit(':').next().unwrap().to_owned();
    let mut urls = loopback_spellings(&port);
    urls.extend([
        format!("http://localhost:{port}"),
        "http://169.254.169.254".to_owned(),
        "http://10.0.0.8".to_owned(),
        "http://[fd00:ec2::254]".to_owned(),
    ]);
    for url in &urls {
        let response = app
            .post_activity(&[
                ("clientId", client_id.as_str()),
                ("activity", r#"{"active":false,"freeze":true}"#),
                ("systemUrl", url),
            ])
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let body: Value = response.json().await.unwrap();
        let message = body["errorMsg"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("systemUrl: ") && message.contains("public internet"),
            "{url}: {message}"
        );
    }
    // Nothing changed: same address, still on and unfrozen.
    let account = app
        .store
        .find_account_by_client_id(&client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.crm_url.as_str(), "https://acme.retailcrm.ru");
    assert!(account.activity.active && !account.activity.freeze);
    assert!(app.crm.requests().is_empty());

    // A public address is still followed.
    let response = app
        .post_activity(&[
            ("clientId", client_id.as_str()),
            ("activity", r#"{"active":true,"freeze":false}"#),
            ("systemUrl", "https://8.8.8.8"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let account = app
        .store
        .find_account_by_client_id(&client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.crm_url.as_str(), "https://8.8.8.8");
}

/// IP literals never reach reqwest's resolver, so the guarded MG client judges them itself.
#[tokio::test]
async fn the_guarded_mg_client_does_not_call_ip_literals() {
    let mg = crate::fake_mg::FakeMg::start().await;
    let settings = crate::helpers::test_settings("sqlite::memory:", Db::Sqlite);
    let client = MgClient::guarded(&settings.mg).unwrap();
    let port = mg.url.rsplit(':').next().unwrap();
    let token = MgToken::new(crate::fake_mg::TOKEN.to_owned());
    for base in loopback_spellings(port) {
        let result = client
            .api(&base, &token)
            .list_channels(&Default::default())
            .await;
        assert!(
            matches!(&result, Err(MgError::Unreachable(e)) if e.contains("address")),
            "{base}: {result:?}"
        );
        let result = client
            .api(&mg.url, &token)
            .download(&format!("{base}/download/files/1"), 1024)
            .await;
        assert!(
            matches!(&result, Err(MgError::Decode(e)) if e.contains("not on the public internet")),
            "{base}: {result:?}"
        );
    }
    assert!(mg.requests().is_empty(), "nothing reached the fake MG");
}

/// A file host on loopback, reached by the name `files.test` pinned to it, that redirects where
/// `?to=` says; and an "internal" service that counts what reaches it.
struct FileHosts {
    client: MgClient,
    public: String,
    internal: SocketAddr,
    internal_hits: Arc<AtomicUsize>,
}

async fn file_hosts() -> FileHosts {
    async fn redirect(
        Query(q): Query<std::collections::HashMap<String, String>>,
    ) -> impl IntoResponse {
        (StatusCode::FOUND, [(header::LOCATION, q["to"].clone())])
    }
    let files = axum::Router::new()
        .route("/redirect", axum::routing::get(redirect))
        .route(
            "/photo.jpg",
            axum::routing::get(|| async { "public bytes" }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let files_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, files).await.unwrap() });

    let internal_hits = Arc::new(AtomicUsize::new(0));
    let hits = internal_hits.clone();
    let internal = axum::Router::new().fallback(move || {
        hits.fetch_add(1, Ordering::SeqCst);
        async { "internal secrets" }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let internal_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, internal).await.unwrap() });

    let settings = crate::helpers::test_settings("sqlite::memory:", Db::Sqlite);
    let client = MgClient::guarded_pinning(&settings.mg, &[("files.test", files_addr)]).unwrap();
    FileHosts {
        client,
        public: format!("http://files.test:{}", files_addr.port()),
        internal: internal_addr,
        internal_hits,
    }
}

#[tokio::test]
async fn a_file_redirect_to_an_internal_address_is_refused() {
    let hosts = file_hosts().await;
    let api = hosts
        .client
        .api("https://mg.example", &MgToken::new("t".to_owned()));
    // The pinned host itself serves, and a redirect to it is followed: the guard lets the
    // first hop through, so what follows is about the redirect.
    let ok = api
        .download(&format!("{}/photo.jpg", hosts.public), 1024)
        .await
        .unwrap();
    assert_eq!(&ok[..], b"public bytes");
    let to_public = format!("{}/photo.jpg", hosts.public);
    let followed = api
        .download(&format!("{}/redirect?to={to_public}", hosts.public), 1024)
        .await
        .unwrap();
    assert_eq!(&followed[..], b"public bytes");

    let port = hosts.internal.port().to_string();
    let mut targets = loopback_spellings(&port);
    targets.push(format!("http://127.0.0.1:{port}"));
    targets.push(format!("http://localhost:{port}"));
    for target in targets {
        let to = format!("{target}/latest/meta-data");
        let result = api
            .download(&format!("{}/redirect?to={to}", hosts.public), 1024)
            .await;
        assert!(
            matches!(&result, Err(MgError::Decode(e)) if e.contains("not on the public internet")),
            "{target}: {result:?}"
        );
    }
    assert_eq!(
        hosts.internal_hits.load(Ordering::SeqCst),
        0,
        "nothing reached the internal service"
    );
}

/// The CRM client is called later with the stored address (token recovery): a literal one is
/// judged there too, not only on the connect form.
#[tokio::test]
async fn the_guarded_crm_client_does_not_call_ip_literals() {
    let crm = crate::fake_crm::FakeCrm::start().await;
    let client = mgbridge::crm::CrmClient::new(std::time::Duration::from_secs(5), true).unwrap();
    let port = crm.url.rsplit(':').next().unwrap();
    let key = ApiKey::parse(API_KEY).unwrap();
    for url in loopback_spellings(port) {
        let crm_url = CrmUrl::from_trusted(
            url::Url::parse(&url)
                .unwrap()
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
        );
        let result = client.credentials(&crm_url, &key).await;
        assert!(
            matches!(&result, Err(mgbridge::crm::CrmError::Unreachable(e)) if e.contains("address")),
            "{url}: {result:?}"
        );
    }
    assert!(crm.requests().is_empty(), "nothing reached the fake CRM");
}
