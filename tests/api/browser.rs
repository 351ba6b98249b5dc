//! The connect flow in a real browser: Debian's headless Chromium driven through chromedriver
//! (WebDriver), so the HTML form, the CSRF cookie and the redirect are what a merchant gets.
//! Needs `apt-get install chromium chromium-driver`; `scripts/test` filters these tests out,
//! saying so, on machines without them.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::fake_crm::API_KEY;

mod failed;
use crate::helpers::{spawn_app, Db};

/// A browser session and the chromedriver serving it; chromedriver is killed on drop.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With more Chromium flags, such as `--accept-lang=ru`.
    async fn start_with(extra_args: &[&str]) -> Self {
        let chromium = tool("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");

        // A free loopback port: bind port 0, note it, release it for chromedriver.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its own process group, so that drop can take Chromium down with it.
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        wait_until_listening(&mut driver, port);

        // Without internet every background fetch would hang or spam; a fresh profile keeps
        // runs independent of each other.
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1024,768",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        let args = capabilities["goog:chromeOptions"]["args"]
            .as_array_mut()
            .unwrap();
        args.extend(extra_args.iter().map(|a| json!(a)));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(serde_json::from_value(capabilities).unwrap())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver opens a Chromium session");
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Ends the browser session; chromedriver itself goes when `self` is dropped.
    async fn close(self) {
        self.client.clone().close().await.unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A killed chromedriver leaves Chromium running, so a test that fails before `close`
        // would leak a browser: kill chromedriver's whole process group instead.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The tool's path from `env` or its Debian default; a missing browser fails the test loudly.
fn tool(env: &str, default: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var(env).unwrap_or_else(|_| default.to_owned()));
    assert!(
        path.exists(),
        "{} not found: browser tests need Chromium and chromedriver. \
         Run `apt-get install chromium chromium-driver` (or set {env} to its path).",
        path.display()
    );
    path
}

fn wait_until_listening(driver: &mut Child, port: u16) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Some(status) = driver.try_wait().unwrap() {
            panic!("chromedriver exited early ({status})");
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Saves a PNG of the page for humans when `MGBRIDGE_SCREENSHOTS` names a folder.
async fn screenshot(client: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("MGBRIDGE_SCREENSHOTS") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        let png = client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// Clicks a submit button and waits until the browser is on the page the form led to
/// (a click can return before the navigation it starts has finished).
async fn click(client: &Client, css: &str) {
    let before = client.current_url().await.unwrap();
    let element = client.find(Locator::Css(css)).await.unwrap();
    element.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while client.current_url().await.unwrap() == before {
        assert!(
            Instant::now() < deadline,
            "the form did not lead anywhere from {before}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The new document is there once it can be queried.
    client.find(Locator::Css("body")).await.unwrap();
}

async fn value_of(client: &Client, css: &str) -> String {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.prop("value").await.unwrap().unwrap_or_default()
}

#[tokio::test]
async fn a_merchant_connects_and_lands_on_the_settings_page() {
    let app = spawn_app(Db::Sqlite).await;
    let browser = Browser::start().await;
    let c = &browser.client;

    // As the Marketplace sends the merchant: the CRM address in `account`.
    let mut page = url::Url::parse(&format!("{}/", app.address)).unwrap();
    page.query_pairs_mut().append_pair("account", &app.crm.url);
    c.goto(page.as_str()).await.unwrap();
    assert_eq!(value_of(c, "input[name=crm_url]").await, app.crm.url);

    let key = c.find(Locator::Css("input[name=api_key]")).await.unwrap();
    assert_eq!(key.attr("type").await.unwrap().as_deref(), Some("password"));
    key.send_keys(API_KEY).await.unwrap();
    screenshot(c, "connect").await;
    click(c, "button[type=submit]").await;

    // The browser followed the 303 to /settings/{clientId}.
    let url = c.current_url().await.unwrap();
    let client_id = url
        .path()
        .strip_prefix("/settings/")
        .unwrap_or_else(|| panic!("not on the settings page: {url}"));
    assert_eq!(client_id.len(), 64, "{client_id}");
    assert!(
        client_id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{client_id}"
    );
    let text = |css| async move {
        c.find(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert_eq!(text("#crm-url").await, app.crm.url);
    assert_eq!(text("#status").await, "Active");
    screenshot(c, "settings").await;
    assert_eq!(app.account_count().await, 1);

    browser.close().await;
}

#[tokio::test]
async fn a_failure_is_shown_on_the_form() {
    let app = spawn_app(Db::Sqlite).await;
    app.crm.set(|s| s.versions = vec!["3.0", "4.0"]);
    let browser = Browser::start().await;
    let c = &browser.client;

    c.goto(&format!("{}/", app.address)).await.unwrap();
    let url_field = c.find(Locator::Css("input[name=crm_url]")).await.unwrap();
    url_field.send_keys(&app.crm.url).await.unwrap();
    let key = c.find(Locator::Css("input[name=api_key]")).await.unwrap();
    key.send_keys(API_KEY).await.unwrap();
    click(c, "button[type=submit]").await;

    let error = c.find(Locator::Css("#error")).await.unwrap();
    let message = error.text().await.unwrap();
    assert!(message.contains("API version 5"), "{message}");
    screenshot(c, "connect-error").await;
    // The form comes back with the address kept and the key blank: passwords are not echoed.
    assert_eq!(value_of(c, "input[name=crm_url]").await, app.crm.url);
    assert_eq!(value_of(c, "input[name=api_key]").await, "");
    assert_eq!(app.account_count().await, 0);

    browser.close().await;
}

#[tokio::test]
async fn a_merchant_adds_a_bot_and_returns_to_the_crm() {
    let app = spawn_app(Db::Sqlite).await;
    let client_id = app.connect_fake_crm().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    let settings = format!("{}/settings/{client_id}", app.address);
    c.goto(&settings).await.unwrap();
    let field = c.find(Locator::Css("#bot_token")).await.unwrap();
    assert_eq!(
        field.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    field.send_keys(crate::fake_telegram::TOKEN).await.unwrap();
    click(c, "#add-bot button[type=submit]").await;

    // Step 10: the browser is back in the CRM.
    let url = c.current_url().await.unwrap();
    assert_eq!(url.as_str().trim_end_matches('/'), app.crm.url);

    // The settings page now lists the bot with its MG channel.
    c.goto(&settings).await.unwrap();
    let row = c.find(Locator::Css("tr.bot")).await.unwrap();
    let text = row.text().await.unwrap();
    assert!(
        text.contains(&format!("@{}", crate::fake_telegram::BOT_USERNAME)),
        "{text}"
    );
    assert!(text.contains("Active"), "{text}");
    assert!(
        text.contains(&app.mg.channels()[0].id.to_string()),
        "{text}"
    );
    screenshot(c, "settings-with-bot").await;

    browser.close().await;
}

#[tokio::test]
async fn a_merchant_adds_a_max_bot_beside_a_telegram_one() {
    let app = spawn_app(Db::Sqlite).await;
    let client_id = app.connect_fake_crm().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    let settings = format!("{}/settings/{client_id}", app.address);
    c.goto(&settings).await.unwrap();
    let field = c.find(Locator::Css("#bot_token")).await.unwrap();
    field.send_keys(crate::fake_telegram::TOKEN).await.unwrap();
    click(c, "#add-bot button[type=submit]").await;
    c.goto(&settings).await.unwrap();
    let field = c.find(Locator::Css("#max_token")).await.unwrap();
    assert_eq!(
        field.attr("type").await.unwrap().as_deref(),
        Some("password")
    );
    field.send_keys(crate::fake_max::TOKEN).await.unwrap();
    click(c, "#add-max-bot button[type=submit]").await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.as_str().trim_end_matches('/'), app.crm.url);

    c.goto(&settings).await.unwrap();
    let rows = c.find_all(Locator::Css("tr.bot")).await.unwrap();
    let mut texts = Vec::new();
    for row in rows {
        texts.push(row.text().await.unwrap());
    }
    assert_eq!(texts.len(), 2, "{texts:?}");
    let max = texts
        .iter()
        .find(|t| t.contains("MAX"))
        .unwrap_or_else(|| panic!("no MAX row in {texts:?}"));
    assert!(
        max.contains(&format!("@{}", crate::fake_max::BOT_USERNAME)),
        "{max}"
    );
    assert!(max.contains("Active"), "{max}");
    assert!(texts.iter().any(|t| t.contains("Telegram")), "{texts:?}");
    screenshot(c, "settings-with-max-bot").await;

    browser.close().await;
}

/// The page's `<html lang>`.
async fn html_lang(client: &Client) -> String {
    let html = client.find(Locator::Css("html")).await.unwrap();
    html.attr("lang").await.unwrap().unwrap_or_default()
}

async fn text_of(client: &Client, css: &str) -> String {
    let element = client.find(Locator::Css(css)).await.unwrap();
    element.text().await.unwrap()
}

/// What a merchant reads on the way from the connect page, through a refusal, to the
/// settings page, in one language.
struct Expected {
    lang: &'static str,
    connect_heading: &'static str,
    connect_label: &'static str,
    connect_button: &'static str,
    wrong_key: &'static str,
    settings_heading: &'static str,
    status: &'static str,
    add_bot_button: &'static str,
}

async fn walk_through_in(
    browser: &Browser,
    app: &crate::helpers::TestApp,
    start: &str,
    want: &Expected,
) {
    let c = &browser.client;
    c.goto(start).await.unwrap();
    assert_eq!(html_lang(c).await, want.lang);
    assert_eq!(text_of(c, "h1").await, want.connect_heading);
    assert!(
        text_of(c, "label[for=crm_url]")
            .await
            .starts_with(want.connect_label),
        "{}",
        text_of(c, "label[for=crm_url]").await
    );
    assert_eq!(text_of(c, "button[type=submit]").await, want.connect_button);
    screenshot(c, &format!("connect-{}", want.lang)).await;

    // A wrong key: the refusal in the same language.
    let key = c.find(Locator::Css("input[name=api_key]")).await.unwrap();
    key.send_keys("wrong-key").await.unwrap();
    click(c, "button[type=submit]").await;
    assert_eq!(html_lang(c).await, want.lang);
    let error = text_of(c, "#error").await;
    assert!(error.starts_with(want.wrong_key), "{error}");
    screenshot(c, &format!("connect-error-{}", want.lang)).await;

    // The right key: the settings page, still in that language.
    let key = c.find(Locator::Css("input[name=api_key]")).await.unwrap();
    key.send_keys(API_KEY).await.unwrap();
    click(c, "button[type=submit]").await;
    let url = c.current_url().await.unwrap();
    assert!(url.path().starts_with("/settings/"), "{url}");
    assert_eq!(html_lang(c).await, want.lang);
    assert_eq!(text_of(c, "h1").await, want.settings_heading);
    assert_eq!(text_of(c, "#status").await, want.status);
    assert_eq!(
        text_of(c, "#add-bot button[type=submit]").await,
        want.add_bot_button
    );
    screenshot(c, &format!("settings-{}", want.lang)).await;
    assert_eq!(app.account_count().await, 1);
}

#[tokio::test]
async fn a_russian_speaking_merchant_reads_the_pages_in_russian() {
    let app = spawn_app(Db::Sqlite).await;
    // The browser's own language: Chromium sends `Accept-Language: ru`.
    let browser = Browser::start_with(&["--accept-lang=ru", "--lang=ru"]).await;
    let mut start = url::Url::parse(&format!("{}/", app.address)).unwrap();
    start.query_pairs_mut().append_pair("account", &app.crm.url);
    let want = Expected {
        lang: "ru",
        connect_heading: "Подключение CRM",
        connect_label: "Адрес CRM",
        connect_button: "Подключить",
        wrong_key: "CRM не принимает этот API-ключ.",
        settings_heading: "CRM подключена",
        status: "Работает",
        add_bot_button: "Добавить бота",
    };
    walk_through_in(&browser, &app, start.as_str(), &want).await;
    browser.close().await;
}

#[tokio::test]
async fn a_merchant_who_chose_spanish_reads_the_pages_in_spanish() {
    let app = spawn_app(Db::Sqlite).await;
    // An English browser; `?lang=es` chooses Spanish, and the cookie keeps it.
    let browser = Browser::start_with(&["--accept-lang=en-US"]).await;
    let mut start = url::Url::parse(&format!("{}/", app.address)).unwrap();
    start
        .query_pairs_mut()
        .append_pair("account", &app.crm.url)
        .append_pair("lang", "es");
    let want = Expected {
        lang: "es",
        connect_heading: "Conecte su CRM",
        connect_label: "Dirección del CRM",
        connect_button: "Conectar",
        wrong_key: "El CRM no acepta esta clave API.",
        settings_heading: "Su CRM está conectado",
        status: "Activo",
        add_bot_button: "Añadir bot",
    };
    walk_through_in(&browser, &app, start.as_str(), &want).await;
    browser.close().await;
}

#[tokio::test]
async fn the_settings_page_shows_a_bots_health_and_a_revoked_token() {
    use crate::health::{eventually, fast_health};
    let app = crate::helpers::spawn_app_with(Db::Sqlite, fast_health).await;
    let bridge = app.connect_with_bot().await;
    let browser = Browser::start_with(&["--accept-lang=en-US"]).await;
    let c = &browser.client;
    let page = format!("{}/settings/{}", app.address, bridge.client_id);
    let section = "section.bot-health[data-username=acme_shop_bot]";
    let text = |css: String| async move {
        match c.find(Locator::Css(&css)).await {
            Ok(element) => element.text().await.unwrap(),
            Err(_) => String::new(),
        }
    };
    // The first check is shown once it has run.
    eventually("the bot checked", || async {
        c.goto(&page).await.unwrap();
        (text(format!("{section} .token")).await == "valid").then_some(())
    })
    .await;
    assert_eq!(
        text(format!("{section} .webhook")).await,
        "working (updates waiting: 0)"
    );
    assert_eq!(
        text(format!("{section} .reply-p50")).await,
        "no replies yet"
    );
    screenshot(c, "health-ok").await;

    app.telegram.revoke(crate::fake_telegram::TOKEN);
    eventually("the revoked token shown", || async {
        c.goto(&page).await.unwrap();
        (text(format!("{section} .token")).await == "revoked").then_some(())
    })
    .await;
    let problem = c
        .find(Locator::Css(&format!("{section} .problem")))
        .await
        .unwrap();
    assert_eq!(
        problem.text().await.unwrap(),
        "The token of @acme_shop_bot was revoked in @BotFather: add the bot again with its new token."
    );
    assert_eq!(
        problem.attr("role").await.unwrap().as_deref(),
        Some("alert")
    );
    screenshot(c, "health-revoked").await;
    browser.close().await;
}
