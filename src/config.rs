//! Typed settings, layered: built-in `config/default.toml` < `--config FILE` < environment
//! (`MGBRIDGE__SECTION__KEY`). Secrets are `SecretString`s: they print as `[redacted]` everywhere,
//! including `mgbridge config`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use url::Url;

/// The documented defaults, compiled in so the binary runs with no files beside it.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

const ENV_PREFIX: &str = "MGBRIDGE";
/// Keys whose environment value is a comma-separated list.
const LIST_KEYS: &[&str] = &["crm.allowed_domains"];

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub telegram: TelegramSettings,
    pub max: MaxSettings,
    pub mg: MgSettings,
    pub crm: CrmSettings,
    pub security: SecuritySettings,
    pub module: ModuleSettings,
    pub log: LogSettings,
    pub queue: QueueSettings,
    pub health: HealthSettings,
}

/// The durable queue and its workers (`store::queue`, `bridge::worker`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct QueueSettings {
    /// Jobs delivered at the same time by this process (each lane runs one at a time).
    pub concurrency: u32,
    /// Of those, the most one account may hold: about what its MG token and bots can use, so
    /// slots waiting in one account's rate limiters never starve the others.
    pub account_concurrency: u32,
    /// An operator's reply into a chat whose customer wrote within this many minutes goes
    /// before cold sends (a mailing) of the same account.
    pub warm_chat_minutes: u64,
    /// How often an idle worker looks for due jobs it was not woken for (retries, other
    /// replicas' webhooks).
    pub poll_interval_ms: u64,
    /// How long an account's and a job's lease lasts without a heartbeat: how soon a killed
    /// replica's work is taken over.
    pub lease_seconds: u64,
    /// Retry backoff: the first wait, and the longest.
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// A job still failing this long after it was accepted is reported as failed. There is no
    /// attempt limit: an outage of MG or Telegram shorter than this loses nothing.
    pub max_age_hours: u64,
    /// Finished jobs are kept this long (dedupe of redelivered webhooks), then deleted.
    pub keep_done_hours: u64,
    /// Failed jobs stay on the failed list, words and all, this long for a retry; then they
    /// are deleted like delivered ones.
    pub keep_failed_days: u64,
    /// Memory operators' attachments may take at once, held between their download from MG
    /// and their upload to the messenger (`bridge::file_budget`). Deliveries past it wait.
    pub file_memory_mb: u64,
}

/// The bots' health checks and the CRM administrators' notifications (`bridge::monitor`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HealthSettings {
    pub poll_seconds: u64,
    pub tick_ms: u64,
    pub bots_per_tick: u32,
    pub concurrency: u32,
    pub webhook_error_minutes: u64,
    pub failure_percent: u32,
    pub failure_min_deliveries: u32,
    pub failure_window_minutes: u64,
    pub notify_retry_seconds: u64,
}

/// How MG's `message_sent` webhook is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    /// Queue it, answer `{"async": true}`, confirm with `POST /messages/ack`.
    Async,
    /// Send it inside the request and answer `external_message_id`.
    Sync,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    pub public_url: Url,
    pub request_timeout_seconds: u64,
    /// Webhook requests (Telegram and MG together) handled at once; more are answered 503 at
    /// once, so a flood costs at most this many bodies of memory, and the senders retry.
    pub webhook_concurrency: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DatabaseSettings {
    /// A Postgres URL may carry a password, so the whole URL is treated as a secret.
    #[serde(serialize_with = "serialize_database_url")]
    pub url: SecretString,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TelegramSettings {
    pub api_url: Url,
    pub timeout_seconds: u64,
    /// Sends one bot may make per second, all chats together (Telegram: about 30).
    pub bot_messages_per_second: u32,
    /// Sends per second into one chat (Telegram: about 1), and the short burst allowed first.
    pub chat_messages_per_second: u32,
    pub chat_burst: u32,
    /// Every Bot API call through this proxy (`http://`, `https://` or `socks5://`, with
    /// `user:password@` if it needs them); `None` (empty): direct. A secret: it may hold a
    /// password, which `mgbridge config` prints redacted.
    #[serde(
        default,
        deserialize_with = "deserialize_optional_secret",
        serialize_with = "serialize_optional_url"
    )]
    pub proxy_url: Option<SecretString>,
}

/// The MAX Bot API (`messenger::max`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MaxSettings {
    pub api_url: Url,
    pub timeout_seconds: u64,
    /// Calls one bot may make per second (MAX: about 30).
    pub bot_requests_per_second: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MgSettings {
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    pub rate_limit_window_margin_ms: u64,
    pub timeout_seconds: u64,
    pub max_attempts: u32,
    pub delivery: DeliveryMode,
    /// Accounts the start-up reconcile takes per second at most (its MG calls spread out).
    pub reconcile_per_second: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CrmSettings {
    pub allowed_domains: Vec<String>,
    pub allow_http: bool,
    pub allow_private_networks: bool,
    pub timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SecuritySettings {
    #[serde(
        deserialize_with = "deserialize_optional_secret",
        serialize_with = "serialize_optional_secret"
    )]
    pub encryption_key: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ModuleSettings {
    pub integration_code: String,
    pub name: String,
    #[serde(deserialize_with = "deserialize_optional_url")]
    pub logo_url: Option<Url>,
    /// The secret the partner account generates for the simple (one-step) connection; `None`
    /// (empty) turns `/simple-connection` off.
    #[serde(
        default,
        deserialize_with = "deserialize_optional_secret",
        serialize_with = "serialize_optional_secret"
    )]
    pub simple_connection_secret: Option<SecretString>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

impl Settings {
    /// Loads the layers from the real process environment.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Self> {
        Self::load_from(config_file, std::env::vars().collect())
    }

    /// Loads the layers with `env` standing in for the process environment (tests use this).
    pub fn load_from(
        config_file: Option<&Path>,
        env: HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let mut environment = config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("__")
            .separator("__")
            .list_separator(",")
            .try_parsing(true)
            .source(Some(env));
        for key in LIST_KEYS {
            environment = environment.with_list_parse_key(key);
        }
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(path) = config_file {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let settings: Settings = builder
            .add_source(environment)
            .build()
            .context("reading the configuration")?
            .try_deserialize()
            .context("the configuration has a wrong value")?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let public = &self.server.public_url;
        anyhow::ensure!(
            matches!(public.scheme(), "http" | "https") && public.host_str().is_some(),
            "server.public_url must be an http(s) URL with a host, got {public}"
        );
        anyhow::ensure!(
            public.path() == "/" && public.query().is_none(),
            "server.public_url must have no path or query (got {public}); the module's pages live at its root"
        );
        anyhow::ensure!(
            self.server.webhook_concurrency > 0,
            "server.webhook_concurrency must be at least 1: with 0 every webhook is refused"
        );
        anyhow::ensure!(
            !self.module.integration_code.trim().is_empty(),
            "module.integration_code must not be empty"
        );
        anyhow::ensure!(
            self.mg.rate_limit_per_second > 0 && self.mg.rate_limit_burst > 0,
            "mg.rate_limit_per_second and mg.rate_limit_burst must be at least 1"
        );
        anyhow::ensure!(
            self.mg.max_attempts > 0,
            "mg.max_attempts must be at least 1"
        );
        if let Some(proxy) = &self.telegram.proxy_url {
            // The URL itself is not quoted: it may hold a password.
            let ok = Url::parse(proxy.expose_secret()).is_ok_and(|url| {
                matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h")
                    && url.host_str().is_some()
            });
            anyhow::ensure!(
                ok,
                "telegram.proxy_url must be an http://, https:// or socks5:// URL with a host"
            );
        }
        anyhow::ensure!(
            !self.crm.allowed_domains.is_empty(),
            "crm.allowed_domains is empty: no CRM could connect (use \"*\" to allow any host)"
        );
        Ok(())
    }

    /// `server.public_url` without its trailing slash: the module's `baseUrl`.
    pub fn base_url(&self) -> String {
        self.server
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }

    /// The logo the CRM shows: the configured one, or the SVG we serve ourselves.
    pub fn logo_url(&self) -> String {
        match &self.module.logo_url {
            Some(url) => url.to_string(),
            None => format!("{}/static/logo.svg", self.base_url()),
        }
    }

    /// The effective configuration as TOML, every secret redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).expect("settings serialize to TOML")
    }
}

const REDACTED: &str = "[redacted]";

fn serialize_optional_secret<S: Serializer>(
    value: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(if value.is_some() { REDACTED } else { "" })
}

/// A URL that may hold a password (a proxy's): shown with the password redacted, or empty.
fn serialize_optional_url<S: Serializer>(
    value: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(url) => serializer.serialize_str(&redact_url_password(url.expose_secret())),
        None => serializer.serialize_str(""),
    }
}

/// Shows the database kind and host, never a password.
fn serialize_database_url<S: Serializer>(
    value: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&redact_url_password(value.expose_secret()))
}

pub fn redact_url_password(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            url.to_string()
        }
        Ok(_) => raw.to_owned(),
        Err(_) => REDACTED.to_owned(),
    }
}

fn deserialize_optional_secret<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SecretString>, D::Error> {
    let raw = String::deserialize(deserializer)?;
    Ok((!raw.trim().is_empty()).then(|| SecretString::from(raw.trim().to_owned())))
}

fn deserialize_optional_url<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Url>, D::Error> {
    let raw = String::deserialize(deserializer)?;
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Url::parse(raw.trim())
        .map(Some)
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_without_any_file_or_environment() {
        let settings = Settings::load_from(None, HashMap::new()).unwrap();
        assert_eq!(settings.server.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(
            settings.database.url.expose_secret(),
            "sqlite://data/mgbridge.db"
        );
        assert_eq!(
            settings.telegram.api_url.as_str(),
            "https://api.telegram.org/"
        );
        assert_eq!(
            settings.max.api_url.as_str(),
            "https://platform-api2.max.ru/"
        );
        assert!(settings
            .crm
            .allowed_domains
            .contains(&"retailcrm.ru".to_owned()));
        assert!(!settings.crm.allow_http);
        assert!(!settings.crm.allow_private_networks);
        assert!(settings.security.encryption_key.is_none());
        assert_eq!(settings.log.format, LogFormat::Pretty);
    }

    #[test]
    fn file_overrides_defaults_and_environment_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mgbridge.toml");
        std::fs::write(
            &file,
            "[server]\nbind = \"0.0.0.0:9000\"\npublic_url = \"https://file.example.com\"\n[module]\nname = \"From file\"\n",
        )
        .unwrap();
        let settings = Settings::load_from(
            Some(&file),
            env(&[
                ("MGBRIDGE__SERVER__PUBLIC_URL", "https://env.example.com"),
                ("MGBRIDGE__CRM__ALLOWED_DOMAINS", "a.example,b.example"),
                ("MGBRIDGE__CRM__ALLOW_HTTP", "true"),
                ("MGBRIDGE__LOG__FORMAT", "json"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.server.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(settings.module.name, "From file");
        assert_eq!(settings.base_url(), "https://env.example.com");
        assert_eq!(settings.crm.allowed_domains, vec!["a.example", "b.example"]);
        assert!(settings.crm.allow_http);
        assert_eq!(settings.log.format, LogFormat::Json);
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err = Settings::load_from(
            Some(Path::new("/nonexistent/mgbridge.toml")),
            HashMap::new(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("mgbridge.toml"), "{err:#}");
    }

    #[test]
    fn a_proxy_url_of_another_scheme_is_refused_without_quoting_it() {
        let err = Settings::load_from(
            None,
            env(&[(
                "MGBRIDGE__TELEGRAM__PROXY_URL",
                "ftp://u:pw-123@proxy.example",
            )]),
        )
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("telegram.proxy_url"), "{text}");
        assert!(!text.contains("pw-123"), "{text}");
        let none = Settings::load_from(None, HashMap::new()).unwrap();
        assert!(none.telegram.proxy_url.is_none());
    }

    #[test]
    fn a_public_url_with_a_path_is_refused() {
        let err = Settings::load_from(
            None,
            env(&[("MGBRIDGE__SERVER__PUBLIC_URL", "https://x.example.com/sub")]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("no path"), "{err:#}");
    }

    #[test]
    fn printed_configuration_redacts_every_secret() {
        let settings = Settings::load_from(
            None,
            env(&[
                (
                    "MGBRIDGE__SECURITY__ENCRYPTION_KEY",
                    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                ),
                (
                    "MGBRIDGE__DATABASE__URL",
                    "postgres://bridge:hunter2@db:5432/mgbridge",
                ),
                (
                    "MGBRIDGE__MODULE__SIMPLE_CONNECTION_SECRET",
                    "partner-secret-1",
                ),
                (
                    "MGBRIDGE__TELEGRAM__PROXY_URL",
                    "socks5://relay:pr0xy-pw@proxy.example:1080",
                ),
            ]),
        )
        .unwrap();
        let printed = settings.to_redacted_toml();
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("00112233445566778899"), "{printed}");
        assert!(
            printed.contains("postgres://bridge:redacted@db:5432/mgbridge"),
            "{printed}"
        );
        assert!(
            printed.contains("encryption_key = \"[redacted]\""),
            "{printed}"
        );
        assert!(!printed.contains("partner-secret-1"), "{printed}");
        assert!(
            printed.contains("simple_connection_secret = \"[redacted]\""),
            "{printed}"
        );
        assert!(!printed.contains("pr0xy-pw"), "{printed}");
        assert!(
            printed.contains("proxy_url = \"socks5://relay:redacted@proxy.example:1080\""),
            "{printed}"
        );
        assert!(!format!("{settings:?}").contains("pr0xy-pw"));
        assert!(!format!("{settings:?}").contains("hunter2"));
        assert!(!format!("{settings:?}").contains("partner-secret-1"));
    }
}
