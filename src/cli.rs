//! The command line: `mgbridge [--config FILE] [serve|migrate|config|healthcheck|jobs …]`.

mod jobs;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::{self, Application};
use crate::cli::jobs::JobsCommand;
use crate::config::Settings;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "mgbridge",
    version,
    about = "Telegram ⇄ CRM chat (MessageGateway) transport module"
)]
pub struct Cli {
    /// A TOML file overriding the built-in defaults (environment MGBRIDGE__SECTION__KEY
    /// overrides both).
    #[arg(long, global = true, env = "MGBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Exit 0 when the running service on `server.bind` is ready (for container health checks).
    Healthcheck,
    /// Failed deliveries: list them, send them back to their lanes.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Config => {
            print!("{}", settings.to_redacted_toml());
            Ok(())
        }
        Command::Healthcheck => healthcheck(&settings).await,
        Command::Jobs { command } => {
            telemetry::init(&settings.log);
            let key = app::master_key_for(&settings)?;
            let store = app::connect_store(&settings, &key).await?;
            let done = jobs::run(&settings, &store, command).await;
            store.close().await;
            done
        }
        Command::Migrate => {
            telemetry::init(&settings.log);
            let key = app::master_key_for(&settings)?;
            let store = app::connect_store(&settings, &key).await?;
            store.migrate().await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve => {
            telemetry::init(&settings.log);
            let public_url = settings.base_url();
            let application = Application::build(settings).await?;
            tracing::info!(
                listening = %application.local_addr(),
                "mgbridge is running: open {public_url}/ to connect a CRM"
            );
            application.run_until_stopped(app::shutdown_signal()).await
        }
    }
}

/// Asks the service on `server.bind` for `/health/ready`; a wildcard bind address is reached
/// over loopback.
async fn healthcheck(settings: &Settings) -> anyhow::Result<()> {
    let mut addr = settings.server.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?
        .get(format!("http://{addr}/health/ready"))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "not ready: HTTP {}",
        response.status()
    );
    Ok(())
}
