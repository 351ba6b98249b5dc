//! Seeding accounts straight through the store, as the connect flow and the settings page would
//! leave them: each account with its own CRM origin, MG token and Telegram bot, its secrets
//! sealed with the service's key by the crate's own `Cipher`, and its bot and MG channel known
//! to the fakes. 10,000 accounts take seconds, not an hour of forms; a sample of them is then
//! checked end to end over real HTTP (`traffic::check_sample`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mgbridge::bridge::channels::declared_hash;
use mgbridge::crypto::{Cipher, MasterKey};
use mgbridge::domain::{ApiKey, ClientId, CrmUrl, MessengerKind, MgToken};
use mgbridge::i18n::Lang;
use mgbridge::store::{ConnectedAccount, NewChannel, Store};

use crate::fake_mg::FakeMg;
use crate::fake_telegram::FakeTelegram;
use crate::load::Target;
use crate::service_process::ENCRYPTION_KEY;

/// Accounts stored at the same time.
const PARALLEL: usize = 8;

/// One seeded account: what the bench needs to post as its customers and its operators.
#[derive(Clone)]
pub(crate) struct Seeded {
    pub(crate) mg_token: String,
    pub(crate) bot_token: String,
    pub(crate) mg_channel: i64,
    pub(crate) client_id: String,
    pub(crate) webhook_key: String,
    pub(crate) webhook_secret: String,
}

impl Seeded {
    /// The bot's webhook at the service, with its secret header.
    pub(crate) fn telegram(&self, service: &str) -> Target {
        Target::telegram(
            &format!("{service}/telegram/{}", self.webhook_key),
            &self.webhook_secret,
        )
    }

    pub(crate) fn mg_hook(&self, service: &str) -> Target {
        Target::mg(service, &self.client_id)
    }
}

fn bot_id(n: usize) -> i64 {
    7_300_000_000 + n as i64
}

fn bot_token(n: usize) -> String {
    format!("{}:AAHs9kQ-3dMkhw_9ZyB1cVn0pTr5s{n:06}", bot_id(n))
}

fn mg_token(n: usize) -> String {
    format!("mg-token-accounts-{n:06}-0123456789abcdef01234567")
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Stores `n` accounts with one bot each in the database at `url` (migrated first), and tells
/// the fakes about their bots and channels. Returns them and how long it took.
pub(crate) async fn seed(
    url: &str,
    n: usize,
    mg: &FakeMg,
    telegram: &FakeTelegram,
) -> (Vec<Seeded>, Duration) {
    let started = Instant::now();
    let key = MasterKey::parse(ENCRYPTION_KEY).unwrap();
    let store = Store::connect(url, PARALLEL as u32, Cipher::new(&key))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let hash: Arc<str> = declared_hash(MessengerKind::Telegram).into();
    let gate = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let (store, gate, hash) = (store.clone(), gate.clone(), hash.clone());
        let (mg, telegram) = (mg.clone(), telegram.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            seed_one(&store, i, &mg, &telegram, &hash).await
        }));
    }
    let mut seeded = Vec::with_capacity(n);
    for task in tasks {
        seeded.push(task.await.unwrap());
    }
    store.close().await;
    (seeded, started.elapsed())
}

async fn seed_one(
    store: &Store,
    n: usize,
    mg: &FakeMg,
    telegram: &FakeTelegram,
    settings_hash: &str,
) -> Seeded {
    let token = mg_token(n);
    let bot = bot_token(n);
    let mg_channel = mg.add_channel(&token, "telegram");
    telegram.add_bot(&bot, bot_id(n), &format!("shop_{n}_bot"));
    let client_id = ClientId::generate();
    let crm_url = CrmUrl::from_trusted(format!("https://shop-{n}.retailcrm.ru"));
    let api_key = ApiKey::parse(&format!("apikey{n:06}abcdefghijklmnopqrstuv")).unwrap();
    let account_id = store
        .save_connected_account(&ConnectedAccount {
            client_id: &client_id,
            crm_url: &crm_url,
            api_key: &api_key,
            mg_endpoint_url: &mg.url,
            mg_token: &MgToken::new(token.clone()),
            language: Lang::default(),
        })
        .await
        .unwrap();
    let (webhook_key, webhook_secret) = (random_hex(16), random_hex(32));
    store
        .save_channel(&NewChannel {
            account_id: &account_id,
            messenger: MessengerKind::Telegram,
            bot_id: &bot_id(n).to_string(),
            bot_username: &format!("shop_{n}_bot"),
            bot_token: &bot,
            webhook_key: &webhook_key,
            webhook_secret: &webhook_secret,
            mg_channel_id: mg_channel,
            settings_hash,
        })
        .await
        .unwrap();
    Seeded {
        mg_token: token,
        bot_token: bot,
        mg_channel,
        client_id: client_id.as_str().to_owned(),
        webhook_key,
        webhook_secret,
    }
}
