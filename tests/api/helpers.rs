//! `TestApp`: the real service on a random port, with a fresh database (a SQLite file in a
//! temporary folder, or a new Postgres database), pointed at a fake CRM.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use mgbridge::app::Application;
use mgbridge::config::Settings;
use mgbridge::store::Store;
use reqwest::StatusCode;
use scraper::{Html, Selector};
use secrecy::SecretString;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

pub use crate::database::{Db, TestDatabase};
use crate::fake_crm::FakeCrm;
use crate::fake_max::FakeMax;
use crate::fake_mg::FakeMg;
use crate::fake_telegram::FakeTelegram;

pub const PUBLIC_URL: &str = "https://transport.example.com";

/// Runs a test body once per database: `on_both_databases!(name, ...)` makes the tests
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::Db::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::helpers::Db::Postgres).await
            }
        }
    )*};
}

/// The settings every test starts from: random port, fake CRM reachable over loopback http.
pub fn test_settings(database_url: &str, db: Db) -> Settings {
    let mut settings = Settings::load_from(None, HashMap::new()).unwrap();
    settings.server.bind = "127.0.0.1:0".parse().unwrap();
    settings.server.public_url = PUBLIC_URL.parse().unwrap();
    settings.database.url = SecretString::from(database_url.to_owned());
    settings.database.max_connections = 5;
    settings.crm.allowed_domains = vec!["*".into()];
    settings.crm.allow_http = true;
    settings.crm.allow_private_networks = true;
    settings.crm.timeout_seconds = 5;
    settings.module.integration_code = "mg-acme".into();
    settings.module.name = "Acme Messenger".into();
    // Deliveries are quick to wake and to retry in tests; Telegram's per-chat limit is raised so
    // conversations need not wait a second per message (tests/api/bridge.rs checks the real one).
    settings.queue.poll_interval_ms = 50;
    settings.queue.retry_base_ms = 100;
    settings.queue.retry_max_ms = 1_000;
    settings.telegram.chat_messages_per_second = 100;
    settings.telegram.chat_burst = 100;
    if db == Db::Postgres {
        // Postgres refuses to start without a configured key.
        settings.security.encryption_key = Some(SecretString::from("ab".repeat(32)));
    }
    settings
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub crm: FakeCrm,
    pub telegram: FakeTelegram,
    pub max: FakeMax,
    pub mg: FakeMg,
    pub database: TestDatabase,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// A service with the fake CRM connected and the fake bot added: ready for messages.
pub async fn spawn_bridge(db: Db) -> (TestApp, Bridge) {
    let app = spawn_app(db).await;
    let bridge = app.connect_with_bot().await;
    (app, bridge)
}

pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_logging();
    let crm = FakeCrm::start().await;
    let telegram = FakeTelegram::with_bot().await;
    let max = FakeMax::with_bot().await;
    let mg = FakeMg::start().await;
    crm.set(|s| s.mg_endpoint = mg.url.clone());
    let database = TestDatabase::new(db).await;
    let mut settings = test_settings(&database.url, db);
    settings.telegram.api_url = telegram.api_url();
    settings.max.api_url = max.api_url();
    tweak(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("the service starts");
    let address = format!("http://{}", app.local_addr());
    let store = app.store();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        store,
        crm,
        telegram,
        max,
        mg,
        database,
        shutdown: Some(tx),
    }
}

fn init_test_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            tracing_subscriber::fmt().with_env_filter("debug").init();
        }
    });
}

/// A connected account with the fake bot added.
#[derive(Debug, Clone)]
pub struct Bridge {
    pub client_id: String,
    /// `/telegram/{webhook_key}`
    pub webhook_path: String,
    pub webhook_secret: String,
    pub mg_channel_id: i64,
}

/// Polls `check` until it returns `Some` (10 s at most), for effects of background delivery.
pub async fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The value of the first sample of `series` in a Prometheus text page.
pub fn metric(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("{series} is not in /metrics"))
}

/// What the connect page shows after a submit.
#[derive(Debug)]
pub struct FormPage {
    pub status: StatusCode,
    pub location: Option<String>,
    pub error: Option<String>,
    pub crm_url_value: Option<String>,
    pub body: String,
}

impl TestApp {
    /// Another instance of the service on this one's database and fakes (a replica, or the
    /// next version after an upgrade), built and not yet serving.
    pub async fn second_instance(&self, db: Db) -> Application {
        let mut settings = test_settings(&self.database.url, db);
        settings.telegram.api_url = self.telegram.api_url();
        Application::build(settings)
            .await
            .expect("the second instance starts")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path))
            .send()
            .await
            .unwrap()
    }

    /// Loads the connect page (setting the CSRF cookie) and returns its form token.
    pub async fn csrf_token(&self) -> String {
        let html = self.get("/").await.text().await.unwrap();
        input_value(&html, "authenticity_token").expect("the form has a CSRF token")
    }

    /// Fills and submits the connect form as a browser would.
    pub async fn connect(&self, crm_url: &str, api_key: &str) -> FormPage {
        let token = self.csrf_token().await;
        let response = self
            .client
            .post(format!("{}/connect", self.address))
            .form(&[
                ("crm_url", crm_url),
                ("api_key", api_key),
                ("authenticity_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        FormPage::read(response).await
    }

    /// Connects the fake CRM with the right key and returns the clientId from the redirect.
    pub async fn connect_fake_crm(&self) -> String {
        let page = self.connect(&self.crm.url, crate::fake_crm::API_KEY).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
        page.location
            .unwrap()
            .strip_prefix("/settings/")
            .expect("redirect to the settings page")
            .to_owned()
    }

    /// The settings page's HTML.
    pub async fn settings_html(&self, client_id: &str) -> String {
        self.get(&format!("/settings/{client_id}"))
            .await
            .text()
            .await
            .unwrap()
    }

    /// Submits the settings page's add-bot form, as a browser would.
    pub async fn add_bot(&self, client_id: &str, bot_token: &str) -> FormPage {
        self.submit_bot_form(client_id, "bot_token", bot_token)
            .await
    }

    /// Submits the settings page's add-a-MAX-bot form.
    pub async fn add_max_bot(&self, client_id: &str, max_token: &str) -> FormPage {
        self.submit_bot_form(client_id, "max_token", max_token)
            .await
    }

    async fn submit_bot_form(&self, client_id: &str, field: &str, token: &str) -> FormPage {
        let html = self.settings_html(client_id).await;
        let csrf = input_value(&html, "authenticity_token").expect("the form has a CSRF token");
        let response = self
            .client
            .post(format!("{}/settings/{client_id}/bots", self.address))
            .form(&[(field, token), ("authenticity_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        FormPage::read(response).await
    }

    /// Connects the fake CRM and adds the fake MAX bot.
    pub async fn connect_with_max_bot(&self) -> Bridge {
        let client_id = self.connect_fake_crm().await;
        let page = self.add_max_bot(&client_id, crate::fake_max::TOKEN).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
        let subscription = self
            .max
            .subscriptions_of(crate::fake_max::TOKEN)
            .pop()
            .expect("adding the MAX bot subscribed its webhook");
        let path = url::Url::parse(&subscription.url)
            .unwrap()
            .path()
            .to_owned();
        let mg_channel_id = self
            .mg
            .channels()
            .into_iter()
            .find(|c| c.is_active && c.r#type == "max")
            .expect("adding the bot activated an MG channel")
            .id;
        Bridge {
            client_id,
            webhook_path: path,
            webhook_secret: subscription.secret.expect("a secret was set"),
            mg_channel_id,
        }
    }

    /// MAX delivering an update to the bot's webhook, secret header included.
    pub async fn post_max_update(
        &self,
        bridge: &Bridge,
        update: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.address, bridge.webhook_path))
            .header("X-Max-Bot-Api-Secret", &bridge.webhook_secret)
            .json(update)
            .send()
            .await
            .unwrap()
    }

    /// Presses a bot's Remove button.
    pub async fn remove_bot(&self, client_id: &str, channel_id: &str) -> FormPage {
        let html = self.settings_html(client_id).await;
        let csrf = input_value(&html, "authenticity_token").expect("the page has a CSRF token");
        let response = self
            .client
            .post(format!(
                "{}/settings/{client_id}/bots/{channel_id}/remove",
                self.address
            ))
            .form(&[("authenticity_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        FormPage::read(response).await
    }

    pub async fn post_activity(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}/activity", self.address))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Connects the fake CRM and adds the fake bot: a working bridge, as a merchant sets it up.
    pub async fn connect_with_bot(&self) -> Bridge {
        let client_id = self.connect_fake_crm().await;
        let page = self.add_bot(&client_id, crate::fake_telegram::TOKEN).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
        let webhook = self
            .telegram
            .webhook_of(crate::fake_telegram::TOKEN)
            .expect("adding the bot set its webhook");
        let path = url::Url::parse(&webhook.url).unwrap().path().to_owned();
        let mg_channel_id = self
            .mg
            .channels()
            .into_iter()
            .find(|c| c.is_active)
            .expect("adding the bot activated an MG channel")
            .id;
        Bridge {
            client_id,
            webhook_path: path,
            webhook_secret: webhook.secret_token.expect("a secret token was set"),
            mg_channel_id,
        }
    }

    /// Telegram delivering an update to the bot's webhook, secret header included.
    pub async fn post_telegram_update(
        &self,
        bridge: &Bridge,
        update: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}{}", self.address, bridge.webhook_path))
            .header("X-Telegram-Bot-Api-Secret-Token", &bridge.webhook_secret)
            .json(update)
            .send()
            .await
            .unwrap()
    }

    /// MessageGateway calling the registered webhookUrl for the account.
    pub async fn post_mg_webhook(
        &self,
        client_id: &str,
        webhook: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/webhook/mg", self.address))
            .header("Clientid", client_id)
            .json(webhook)
            .send()
            .await
            .unwrap()
    }

    /// Jobs in the queue by state, straight from the database.
    pub async fn jobs_in_state(&self, state: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM job WHERE state = $1")
            .bind(state)
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }

    /// Waits (10 s at most) until at least `n` jobs are in `state` (`done`, `failed`): a job is
    /// marked after its effect is seen at the receiver.
    pub async fn wait_for_jobs(&self, state: &str, n: i64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.jobs_in_state(state).await < n {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {n} jobs {state}: {} are",
                self.jobs_in_state(state).await
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub async fn account_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM account")
            .fetch_one(self.store.pool())
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl FormPage {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap();
        let doc = Html::parse_document(&body);
        let error = doc
            .select(&Selector::parse("#error").unwrap())
            .next()
            .map(|e| e.text().collect::<String>().trim().to_owned());
        Self {
            status,
            location,
            error,
            crm_url_value: input_value(&body, "crm_url"),
            body,
        }
    }

    /// Asserts the form came back with this status and an error saying `message`.
    #[track_caller]
    pub fn assert_refused(&self, status: StatusCode, message: &str, case: &str) {
        assert_eq!(self.status, status, "{case}: {self:?}");
        assert!(
            self.error_text().contains(message),
            "{case}: expected «{message}» in «{}»",
            self.error_text()
        );
    }

    pub fn error_text(&self) -> &str {
        self.error
            .as_deref()
            .unwrap_or_else(|| panic!("no error shown: {self:?}"))
    }
}

pub fn input_value(html: &str, name: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(&format!("input[name=\"{name}\"]")).unwrap();
    doc.select(&selector)
        .next()
        .and_then(|e| e.value().attr("value"))
        .map(str::to_owned)
}

/// Text of the element with this id, whitespace-trimmed.
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(&format!("#{id}")).unwrap();
    doc.select(&selector)
        .next()
        .map(|e| e.text().collect::<String>().trim().to_owned())
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat`.
pub fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let (_, rest) = stat
        .rsplit_once(')')
        .expect("stat(5) has the command in parentheses");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Strict, so a CPU budget is never checked against a silent zero.
    let ticks = |i: usize| -> f64 { fields[i].parse().expect("a clock-tick count") };
    // utime and stime are fields 14 and 15 of stat(5): 12 and 13 after the name and state.
    (ticks(11) + ticks(12)) / 100.0
}

/// Every log line of this test's thread, at every level, without colours (the service runs on
/// the test's runtime, so its lines are caught too).
pub struct Logs {
    captured: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8(self.captured.lock().unwrap().clone()).unwrap()
    }
}

pub fn capture_logs() -> Logs {
    capture(EnvFilter::new("trace"), FmtSpan::NONE)
}

/// `capture_logs`, and besides each span's fields when it opens (a span with no event inside
/// would otherwise never be printed), and the `log` crate's records (reqwest's, sqlx's) as the
/// service's own subscriber forwards them. Not the HTML parser's: only the tests use it, and
/// it prints the pages it reads.
pub fn capture_logs_and_spans() -> Logs {
    // Forwards to the current thread's subscriber; set once per process (the error is that).
    let _ = tracing_log::LogTracer::init();
    let filter = EnvFilter::new("trace,html5ever=off,selectors=off,scraper=off");
    capture(filter, FmtSpan::NEW)
}

fn capture(filter: EnvFilter, span_events: FmtSpan) -> Logs {
    let captured = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(span_events)
        .with_ansi(false)
        .with_writer(move || Capture(writer.clone()))
        .finish();
    Logs {
        captured,
        _guard: tracing::subscriber::set_default(subscriber),
    }
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
