//! `mgbridge jobs …`: the failed list for the operator, on the service's own database (the
//! running service picks retried jobs up at its next poll, `queue.poll_interval_ms`).

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::bridge::failures::Failures;
use crate::config::Settings;
use crate::crm::address::CrmPolicy;
use crate::domain::{AccountId, CrmUrl, Direction};
use crate::store::{FailedSelection, Store};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List failed deliveries, newest first.
    Failed {
        /// Only this account's: our account id, or the CRM's address.
        #[arg(long)]
        account: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Send failed deliveries back to the end of their chats' lanes.
    Retry(RetryArgs),
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct RetryArgs {
    /// One failed job, by the id `jobs failed` shows.
    job_id: Option<i64>,
    /// Every failed job of this account (our account id, or the CRM's address).
    #[arg(long)]
    account: Option<String>,
    /// Every failed job of every account.
    #[arg(long)]
    all: bool,
}

pub async fn run(settings: &Settings, store: &Store, command: JobsCommand) -> anyhow::Result<()> {
    let failures = Failures {
        store: store.clone(),
        wake: None,
    };
    match command {
        JobsCommand::Failed { account, limit } => {
            let account = match account {
                Some(raw) => Some(account_named(settings, store, &raw).await?),
                None => None,
            };
            let (rows, total) = failures.list(account.as_ref(), limit.max(1), 0).await?;
            println!(
                "{total} failed deliveries{}",
                if total > rows.len() as i64 {
                    format!(", the newest {}", rows.len())
                } else {
                    String::new()
                }
            );
            for row in rows {
                let direction = match row.direction {
                    Direction::ToMg => "to-crm",
                    Direction::ToMessenger => "to-messenger",
                };
                println!(
                    "{}\t{}\taccount {}\t{direction}\tchat {}\t{}\t{} attempts\t{}",
                    row.job_id,
                    unix_ms(row.failed_at),
                    row.account_id.as_str(),
                    row.chat,
                    row.reason,
                    row.attempts.iter().map(|a| a.attempt).max().unwrap_or(0),
                    row.error.replace(['\n', '\t'], " ")
                );
            }
            Ok(())
        }
        JobsCommand::Retry(args) => {
            let account;
            let which = match (args.job_id, args.account, args.all) {
                (Some(job_id), _, _) => FailedSelection::Job {
                    job_id,
                    account: None,
                },
                (None, Some(raw), _) => {
                    account = account_named(settings, store, &raw).await?;
                    FailedSelection::Account(&account)
                }
                _ => FailedSelection::All,
            };
            let n = failures.retry(which).await?;
            if n == 0 && matches!(which, FailedSelection::Job { .. }) {
                anyhow::bail!("no failed job has that id (it may have been retried or discarded)");
            }
            println!("{n} failed deliveries sent back to their lanes");
            Ok(())
        }
    }
}

/// An account by our id, or by its CRM's address as it is stored (`https://acme.retailcrm.ru`),
/// or as a merchant would type it (`acme.retailcrm.ru/`, read by the connect form's rules).
async fn account_named(settings: &Settings, store: &Store, raw: &str) -> anyhow::Result<AccountId> {
    let raw = raw.trim();
    if let Some(account) = store
        .find_account(&AccountId::from_stored(raw.to_owned()))
        .await?
    {
        return Ok(account.id);
    }
    // A lookup, not a new address: the origin as stored is taken as it is.
    let stored = CrmUrl::from_trusted(raw.trim_end_matches('/').to_owned());
    if let Some(account) = store.find_account_by_crm_url(&stored).await? {
        return Ok(account.id);
    }
    let url = CrmPolicy::new(&settings.crm)
        .parse(raw)
        .ok()
        .with_context(|| format!("no account has the id or CRM address {raw:?}"))?;
    let account = store
        .find_account_by_crm_url(&url)
        .await?
        .with_context(|| format!("no account is connected from {}", url.as_str()))?;
    Ok(account.id)
}

fn unix_ms(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| ms.to_string())
}
