//! The service as a real child process (`target/.../mgbridge`), for what an in-process
//! `TestApp` cannot show: being killed with SIGKILL and restarted (the crash test), and resident
//! memory (the benchmarks). Configured like an operator would: environment variables only.
//! Which binary runs: [`service_binary!`](crate::service_binary).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The test key, the same on every start, so a restarted process reads what the killed one
/// stored.
pub const ENCRYPTION_KEY: &str = "cd0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";

/// The service binary to run, for the calling test or bench crate: `MGBRIDGE_BENCH_BIN` when
/// set (the benchmarks use it to measure an older build; it applies to tests too), else the
/// `mgbridge` binary cargo built. A macro because only the main crate's integration tests and
/// benches know that path (`env!("CARGO_BIN_EXE_mgbridge")` at their compile time).
#[macro_export]
macro_rules! service_binary {
    () => {
        $crate::service_process::binary_or_override(env!("CARGO_BIN_EXE_mgbridge"))
    };
}

/// `MGBRIDGE_BENCH_BIN`, or `built` (what [`service_binary!`](crate::service_binary) passes).
pub fn binary_or_override(built: &str) -> PathBuf {
    std::env::var_os("MGBRIDGE_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(built))
}

pub struct ServiceProcess {
    child: Child,
    binary: PathBuf,
    pub address: String,
    env: Vec<(String, String)>,
    log: PathBuf,
}

/// Environment for a service on `database_url` that talks to the fakes: loopback allowed, the
/// given Telegram API, and a fixed key.
pub fn service_env(database_url: &str, telegram_api_url: &str) -> Vec<(String, String)> {
    [
        ("MGBRIDGE__DATABASE__URL", database_url),
        ("MGBRIDGE__TELEGRAM__API_URL", telegram_api_url),
        ("MGBRIDGE__SECURITY__ENCRYPTION_KEY", ENCRYPTION_KEY),
        (
            "MGBRIDGE__SERVER__PUBLIC_URL",
            "https://transport.example.com",
        ),
        ("MGBRIDGE__CRM__ALLOWED_DOMAINS", "*"),
        ("MGBRIDGE__CRM__ALLOW_HTTP", "true"),
        ("MGBRIDGE__CRM__ALLOW_PRIVATE_NETWORKS", "true"),
        ("MGBRIDGE__MODULE__INTEGRATION_CODE", "mg-acme"),
        ("MGBRIDGE__QUEUE__POLL_INTERVAL_MS", "50"),
        ("MGBRIDGE__QUEUE__RETRY_BASE_MS", "100"),
        ("MGBRIDGE__QUEUE__RETRY_MAX_MS", "1000"),
        ("MGBRIDGE__TELEGRAM__CHAT_MESSAGES_PER_SECOND", "100"),
        ("MGBRIDGE__TELEGRAM__CHAT_BURST", "100"),
        ("MGBRIDGE__LOG__FILTER", "info"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl ServiceProcess {
    /// Starts `binary` (from [`service_binary!`](crate::service_binary)) on a free port and
    /// waits until `/health/ready` answers.
    pub async fn start(binary: PathBuf, mut env: Vec<(String, String)>, log: PathBuf) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        env.push(("MGBRIDGE__SERVER__BIND".into(), format!("127.0.0.1:{port}")));
        let child = spawn(&binary, &env, &log);
        let mut service = Self {
            child,
            binary,
            address: format!("http://127.0.0.1:{port}"),
            env,
            log,
        };
        service.wait_ready().await;
        service
    }

    /// SIGKILL: no shutdown handler runs, nothing is flushed.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Starts the same binary again with the same settings and port.
    pub async fn restart(&mut self) {
        self.child = spawn(&self.binary, &self.env, &self.log);
        self.wait_ready().await;
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, and its peak so far (VmRSS, VmHWM), in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the service exited with {status}; its log: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            let ready = client
                .get(format!("{}/health/ready", self.address))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not get ready in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The service's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(binary: &std::path::Path, env: &[(String, String)], log: &PathBuf) -> Child {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    // Through pipes, copied to the log by this process: a pipe is not subject to the child's
    // file-size limit, so its log survives the fault tests' `prlimit --fsize`.
    let mut child = Command::new(binary)
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the mgbridge binary starts");
    copy_to(child.stdout.take().unwrap(), out.try_clone().unwrap());
    copy_to(child.stderr.take().unwrap(), out);
    child
}

fn copy_to(mut from: impl std::io::Read + Send + 'static, mut to: std::fs::File) {
    std::thread::spawn(move || std::io::copy(&mut from, &mut to));
}

/// What a merchant does in the browser, over plain HTTP: connect the CRM, add the Telegram
/// bot. Returns the account's clientId.
pub async fn connect_and_add_bot(
    address: &str,
    crm_url: &str,
    api_key: &str,
    bot_token: &str,
) -> String {
    connect_and_add(address, crm_url, api_key, "bot_token", bot_token).await
}

/// The same with a MAX bot (the settings page's `max_token` form).
pub async fn connect_and_add_max_bot(
    address: &str,
    crm_url: &str,
    api_key: &str,
    max_token: &str,
) -> String {
    connect_and_add(address, crm_url, api_key, "max_token", max_token).await
}

async fn connect_and_add(
    address: &str,
    crm_url: &str,
    api_key: &str,
    field: &str,
    bot_token: &str,
) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let page = client.get(format!("{address}/")).send().await.unwrap();
    let token = form_token(&page.text().await.unwrap());
    let connected = client
        .post(format!("{address}/connect"))
        .form(&[
            ("crm_url", crm_url),
            ("api_key", api_key),
            ("authenticity_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(connected.status(), reqwest::StatusCode::SEE_OTHER);
    let location = connected.headers()["location"].to_str().unwrap().to_owned();
    let client_id = location.trim_start_matches("/settings/").to_owned();
    let settings = client
        .get(format!("{address}{location}"))
        .send()
        .await
        .unwrap();
    let token = form_token(&settings.text().await.unwrap());
    let added = client
        .post(format!("{address}{location}/bots"))
        .form(&[(field, bot_token), ("authenticity_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        added.status(),
        reqwest::StatusCode::SEE_OTHER,
        "adding the bot"
    );
    client_id
}

/// The hidden CSRF field's value in a page.
fn form_token(html: &str) -> String {
    let at = html
        .find("name=\"authenticity_token\"")
        .expect("the page has a form token");
    let value = &html[at..];
    let start = value.find("value=\"").unwrap() + "value=\"".len();
    let end = value[start..].find('"').unwrap();
    value[start..start + end].to_owned()
}
