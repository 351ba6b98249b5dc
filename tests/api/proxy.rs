//! `telegram.proxy_url`: every Bot API call goes through the configured proxy with its
//! credentials, wrong credentials end adding a bot with an error (not a hang), and the
//! credentials never reach the logs. Against the test proxy in testkit, HTTP and SOCKS5.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::SecretString;

use crate::fake_telegram::TOKEN;
use crate::helpers::{capture_logs_and_spans, spawn_app_with, Db, TestApp};
use crate::on_both_databases;
use mgbridge_testkit::proxy::TestProxy;

on_both_databases!(
    adding_a_bot_goes_through_the_http_proxy_with_its_credentials,
    wrong_proxy_credentials_show_an_error_when_adding_a_bot,
    a_socks5_proxy_carries_the_bot_api_too,
);

const USER: &str = "relay";
const PASSWORD: &str = "Pr0xyPa55";

async fn app_behind(db: Db, proxy_url: String) -> TestApp {
    spawn_app_with(db, |s| {
        s.telegram.proxy_url = Some(SecretString::from(proxy_url));
    })
    .await
}

/// Lines of the captured logs that hold the password, or its Basic form (`user:password`).
fn leaks(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.contains(PASSWORD) || l.contains("cmVsYXk6UHIweHlQYTU1"))
        .collect()
}

async fn adding_a_bot_goes_through_the_http_proxy_with_its_credentials(db: Db) {
    let logs = capture_logs_and_spans();
    let proxy = TestProxy::http(Some((USER, PASSWORD))).await;
    let app = app_behind(db, format!("http://{USER}:{PASSWORD}@{}", proxy.addr)).await;
    app.connect_with_bot().await;

    let seen = proxy.requests();
    let api = app.telegram.api_url().to_string();
    for method in ["getMe", "setWebhook"] {
        let asked = seen
            .iter()
            .find(|r| r.target.starts_with(&api) && r.target.ends_with(&format!("/{method}")))
            .unwrap_or_else(|| panic!("the proxy never saw {method}: {seen:?}"));
        assert!(asked.authorized, "{asked:?}");
        assert!(
            !app.telegram.calls_to(method).is_empty(),
            "{method} reached Telegram"
        );
    }
    assert!(seen.iter().all(|r| r.authorized), "{seen:?}");
    let text = logs.text();
    assert!(
        text.contains("bot added"),
        "the capture saw the flow:\n{text}"
    );
    assert!(leaks(&text).is_empty(), "{:?}", leaks(&text));
}

async fn wrong_proxy_credentials_show_an_error_when_adding_a_bot(db: Db) {
    let logs = capture_logs_and_spans();
    let proxy = TestProxy::http(Some((USER, "another-one"))).await;
    let app = app_behind(db, format!("http://{USER}:{PASSWORD}@{}", proxy.addr)).await;
    let client_id = app.connect_fake_crm().await;
    let page = tokio::time::timeout(Duration::from_secs(10), app.add_bot(&client_id, TOKEN))
        .await
        .expect("adding the bot answers, not hangs");
    assert_ne!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert!(!page.error_text().is_empty());
    assert!(
        !page.error_text().contains(PASSWORD),
        "{}",
        page.error_text()
    );
    assert!(!proxy.requests().is_empty(), "the proxy was asked");
    assert!(proxy.requests().iter().all(|r| !r.authorized));
    assert!(
        app.telegram.calls().is_empty(),
        "nothing got past the proxy"
    );
    let text = logs.text();
    assert!(leaks(&text).is_empty(), "{:?}", leaks(&text));
}

async fn a_socks5_proxy_carries_the_bot_api_too(db: Db) {
    let logs = capture_logs_and_spans();
    let proxy = TestProxy::socks5(Some((USER, PASSWORD))).await;
    let app = app_behind(db, format!("socks5://{USER}:{PASSWORD}@{}", proxy.addr)).await;
    app.connect_with_bot().await;

    let telegram = app.telegram.api_url();
    let target = format!(
        "{}:{}",
        telegram.host_str().unwrap(),
        telegram.port().unwrap()
    );
    let seen = proxy.requests();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|r| r.authorized && r.target == target),
        "{seen:?}"
    );
    assert!(!app.telegram.calls_to("setWebhook").is_empty());
    let text = logs.text();
    assert!(leaks(&text).is_empty(), "{:?}", leaks(&text));
}
