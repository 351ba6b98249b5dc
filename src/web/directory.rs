//! Who a webhook is for, without a database read per request: a short-lived in-memory copy of
//! the channels (by webhook key) and accounts (by Clientid fingerprint) that webhooks named.
//! Only hits are kept, so its size is bounded by the rows that exist; an entry lives
//! `TTL`, which is how long a removed bot or a re-keyed account can take to be seen here (the
//! worker reads the database itself before delivering).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use subtle::ConstantTimeEq;

use crate::crypto::fingerprint;
use crate::domain::{AccountId, ClientId, MessengerKind};
use crate::store::{ChannelId, Store, StoreError};

const TTL: Duration = Duration::from_secs(10);
const CLIENT_ID: &str = "webhook.client_id";

/// What a messenger's webhook needs of a channel.
#[derive(Debug)]
pub struct ChannelEntry {
    pub id: ChannelId,
    pub account_id: AccountId,
    pub messenger: MessengerKind,
    /// The messenger's id of the bot: updates it echoes of its own messages are not carried.
    pub bot_id: String,
    pub webhook_secret: SecretString,
    pub active: bool,
    /// MG's id of the channel: the operators' replies name it (their lane is keyed by it).
    pub mg_channel_id: i64,
}

/// What the MG webhook needs of an account.
#[derive(Debug)]
pub struct AccountEntry {
    pub id: AccountId,
    client_id: ClientId,
}

#[derive(Debug, Default)]
pub struct Directory {
    channels: RwLock<HashMap<String, (Instant, Arc<ChannelEntry>)>>,
    accounts: RwLock<HashMap<String, (Instant, Arc<AccountEntry>)>>,
}

impl Directory {
    pub async fn channel(
        &self,
        store: &Store,
        webhook_key: &str,
    ) -> Result<Option<Arc<ChannelEntry>>, StoreError> {
        if let Some(entry) = fresh(&self.channels, webhook_key) {
            return Ok(Some(entry));
        }
        let Some(channel) = store.find_channel_by_webhook_key(webhook_key).await? else {
            return Ok(None);
        };
        let entry = Arc::new(ChannelEntry {
            id: channel.id,
            account_id: channel.account_id,
            messenger: channel.messenger,
            bot_id: channel.bot_id,
            webhook_secret: channel.webhook_secret,
            active: channel.active,
            mg_channel_id: channel.mg_channel_id,
        });
        keep(&self.channels, webhook_key.to_owned(), entry.clone());
        Ok(Some(entry))
    }

    /// The account whose clientId is `given`, compared in constant time. The map is keyed by
    /// the id's SHA-256, so looking it up reveals nothing about the id itself.
    pub async fn account(
        &self,
        store: &Store,
        given: &str,
    ) -> Result<Option<Arc<AccountEntry>>, StoreError> {
        let Some(client_id) = ClientId::parse(given) else {
            return Ok(None);
        };
        let key = fingerprint(CLIENT_ID, client_id.as_str());
        let entry = match fresh(&self.accounts, &key) {
            Some(entry) => entry,
            None => {
                let Some(account) = store.find_account_by_client_id(&client_id).await? else {
                    return Ok(None);
                };
                let entry = Arc::new(AccountEntry {
                    id: account.id,
                    client_id: account.client_id,
                });
                keep(&self.accounts, key, entry.clone());
                entry
            }
        };
        let same: bool = entry
            .client_id
            .as_str()
            .as_bytes()
            .ct_eq(client_id.as_str().as_bytes())
            .into();
        Ok(same.then_some(entry))
    }
}

fn fresh<T>(map: &RwLock<HashMap<String, (Instant, Arc<T>)>>, key: &str) -> Option<Arc<T>> {
    let map = map.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    map.get(key)
        .filter(|(at, _)| at.elapsed() < TTL)
        .map(|(_, entry)| entry.clone())
}

fn keep<T>(map: &RwLock<HashMap<String, (Instant, Arc<T>)>>, key: String, entry: Arc<T>) {
    let mut map = map.write().unwrap_or_else(|poisoned| poisoned.into_inner());
    // Drop stale entries now and then so removed rows do not linger.
    if map.len() % 256 == 255 {
        map.retain(|_, (at, _)| at.elapsed() < TTL);
    }
    map.insert(key, (Instant::now(), entry));
}
