//! The SSRF guard in front of the connect form: with `crm.allow_private_networks` off (the
//! default), no internal address is ever called, whatever the merchant types.

use reqwest::StatusCode;

use crate::fake_crm::API_KEY;
use crate::helpers::{spawn_app_with, Db};
use crate::on_both_databases;

on_both_databases!(
    internal_addresses_are_refused_before_any_request,
    a_name_resolving_to_loopback_is_refused_after_dns,
    hosts_outside_the_allowed_domains_are_refused,
);

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
