//! The crash test: messages accepted with 2xx survive a SIGKILL mid-delivery. The service runs
//! as a real child process; it is killed while deliveries are in flight, started again, and
//! every message must arrive exactly once, in order per chat.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::fake_crm::{FakeCrm, API_KEY};
use crate::fake_mg::FakeMg;
use crate::fake_telegram::{FakeTelegram, TOKEN};
use crate::helpers::{Db, TestDatabase};
use crate::on_both_databases;
use crate::service_process::{connect_and_add_bot, service_env, ServiceProcess};
use mgbridge_testkit::service_binary;

const PER_CHAT: usize = 15;
const CHATS: [i64; 2] = [900_000_000_001, 5_000_000_002];

struct Rig {
    service: ServiceProcess,
    env: Vec<(String, String)>,
    client: reqwest::Client,
    telegram: FakeTelegram,
    mg: FakeMg,
    client_id: String,
    webhook_path: String,
    secret: String,
    _crm: FakeCrm,
    database: TestDatabase,
    dir: tempfile::TempDir,
}

async fn rig(db: Db) -> Rig {
    let crm = FakeCrm::start().await;
    let telegram = FakeTelegram::with_bot().await;
    let mg = FakeMg::start().await;
    crm.set(|s| s.mg_endpoint = mg.url.clone());
    let database = TestDatabase::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = service_env(&database.url, telegram.api_url().as_str());
    // A killed Postgres replica's leases run out after this; SQLite frees them at restart.
    env.push(("MGBRIDGE__QUEUE__LEASE_SECONDS".into(), "2".into()));
    let service = ServiceProcess::start(
        service_binary!(),
        env.clone(),
        dir.path().join("service.log"),
    )
    .await;
    let client_id = connect_and_add_bot(&service.address, &crm.url, API_KEY, TOKEN).await;
    let webhook = telegram.webhook_of(TOKEN).unwrap();
    Rig {
        webhook_path: url::Url::parse(&webhook.url).unwrap().path().to_owned(),
        secret: webhook.secret_token.unwrap(),
        service,
        env,
        client: reqwest::Client::new(),
        telegram,
        mg,
        client_id,
        _crm: crm,
        database,
        dir,
    }
}

fn text_update(update_id: i64, chat_id: i64, message_id: i64, text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": chat_id, "is_bot": false, "first_name": "Ann", "username": "ann", "language_code": "en"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
            "date": 1_790_000_000 + update_id,
            "text": text
        }
    })
}

async fn wait_until(rig: &Rig, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; service log:\n{}",
            rig.service.log()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn customers_messages_survive_sigkill(db: Db) {
    let mut rig = rig(db).await;
    // MG is slow, so deliveries are in flight when the process dies.
    rig.mg.set(|s| s.delay = Duration::from_millis(150));
    let mut update_id = 10_000;
    for n in 1..=PER_CHAT {
        for chat in CHATS {
            update_id += 1;
            let update = text_update(update_id, chat, n as i64, &format!("#{n}"));
            let answer = rig
                .client
                .post(format!("{}{}", rig.service.address, rig.webhook_path))
                .header("X-Telegram-Bot-Api-Secret-Token", &rig.secret)
                .json(&update)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
        }
    }
    wait_until(&rig, "a few deliveries", || rig.mg.messages().len() >= 4).await;
    rig.service.kill();
    let delivered_before = rig.mg.messages().len();
    assert!(
        delivered_before < CHATS.len() * PER_CHAT,
        "the kill came after everything was delivered; the test proves nothing"
    );

    rig.service.restart().await;
    let total = CHATS.len() * PER_CHAT;
    wait_until(&rig, "every message at MG", || {
        rig.mg.messages().len() >= total
    })
    .await;
    // Let anything still queued (a duplicate would be) reach MG before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let messages = rig.mg.messages();
    assert_eq!(messages.len(), total, "each message exactly once");
    for chat in CHATS {
        let texts: Vec<String> = messages
            .iter()
            .filter(|m| m.external_chat_id == chat.to_string())
            .map(|m| m.text.clone().unwrap_or_default())
            .collect();
        let expected: Vec<String> = (1..=PER_CHAT).map(|n| format!("#{n}")).collect();
        assert_eq!(texts, expected, "chat {chat}: in the order they were sent");
    }
}

async fn operators_messages_survive_sigkill(db: Db) {
    let mut rig = rig(db).await;
    let channel = rig
        .mg
        .channels()
        .into_iter()
        .find(|c| c.is_active)
        .unwrap()
        .id;
    // Acks are slow: the kill lands after a message went to Telegram and was recorded, before
    // MG heard about it, which is the step a restart must not repeat. One chat, so exactly one
    // delivery is in flight at the kill: the window between Telegram's answer and our record
    // (no Bot API call is idempotent) is never hit by the test's timing.
    rig.mg.set(|s| s.delay = Duration::from_millis(300));
    let chats = [CHATS[0]];
    let mut mg_id = 500;
    for n in 1..=PER_CHAT {
        for chat in chats {
            mg_id += 1;
            let webhook = json!({
                "type": "message_sent",
                "meta": {"timestamp": 1_790_000_000},
                "data": {
                    "id": mg_id, "channel_id": channel,
                    "external_chat_id": chat.to_string(), "external_user_id": chat.to_string(),
                    "type": "text", "content": format!("#{n}")
                }
            });
            let answer = rig
                .client
                .post(format!("{}/webhook/mg", rig.service.address))
                .header("Clientid", &rig.client_id)
                .json(&webhook)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            assert_eq!(
                answer.json::<Value>().await.unwrap(),
                json!({"async": true})
            );
        }
    }
    let acks = |mg: &FakeMg| mg.requests_to(&Method::POST, "/messages/ack");
    wait_until(&rig, "a few acks", || acks(&rig.mg).len() >= 4).await;
    rig.service.kill();
    assert!(rig.telegram.messages().len() < PER_CHAT);

    rig.service.restart().await;
    let total = PER_CHAT;
    let acked = |mg: &FakeMg| {
        let mut ids: Vec<i64> = acks(mg)
            .iter()
            .filter_map(|r| r.body.as_ref()?["message"]["id"].as_i64())
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    };
    wait_until(&rig, "every message acknowledged", || {
        acked(&rig.mg) >= total
    })
    .await;
    for chat in chats {
        let texts: Vec<String> = rig
            .telegram
            .messages_to(chat)
            .iter()
            .map(|m| m.text.clone().unwrap_or_default())
            .collect();
        let expected: Vec<String> = (1..=PER_CHAT).map(|n| format!("#{n}")).collect();
        assert_eq!(texts, expected, "chat {chat}: each message once, in order");
    }
    assert!(
        acks(&rig.mg)
            .iter()
            .all(|r| r.body.as_ref().unwrap()["transport_message_id"].is_string()),
        "every ack reports the Telegram message"
    );
}

/// Several replicas on one Postgres: both accept webhooks for the same chat, one delivers the
/// account at a time, and when that one is killed the other takes over after the lease, with
/// nothing lost, nothing twice, and the chat's order kept.
async fn a_replica_takes_over_a_killed_ones_work(db: Db) {
    let mut rig = rig(db).await;
    let log = rig.dir.path().join("second.log");
    let mut second = ServiceProcess::start(service_binary!(), rig.env.clone(), log).await;
    rig.mg.set(|s| s.delay = Duration::from_millis(100));
    let total = 30;
    for n in 1..=total {
        let via = if n % 2 == 0 {
            &second.address
        } else {
            &rig.service.address
        };
        let update = text_update(20_000 + n, CHATS[0], n, &format!("#{n}"));
        let answer = rig
            .client
            .post(format!("{via}{}", rig.webhook_path))
            .header("X-Telegram-Bot-Api-Secret-Token", &rig.secret)
            .json(&update)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    wait_until(&rig, "a few deliveries", || rig.mg.messages().len() >= 4).await;
    // Kill whichever replica holds the account.
    let pool = sqlx::PgPool::connect(&rig.database.url).await.unwrap();
    let owner: String =
        sqlx::query_scalar("SELECT owner FROM account_queue WHERE owner IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    if owner.starts_with(&format!("{}-", second.pid())) {
        second.kill();
    } else {
        rig.service.kill();
    }
    assert!(rig.mg.messages().len() < total as usize);

    wait_until(&rig, "every message at MG", || {
        rig.mg.messages().len() >= total as usize
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let texts: Vec<String> = rig
        .mg
        .messages()
        .iter()
        .map(|m| m.text.clone().unwrap_or_default())
        .collect();
    let expected: Vec<String> = (1..=total).map(|n| format!("#{n}")).collect();
    assert_eq!(texts, expected, "each once, in the order accepted");
}

mod a_replica_takes_over_a_killed_ones_work {
    // Replicas need a shared database: Postgres only (SQLite is one process's).
    #[tokio::test]
    async fn postgres() {
        super::a_replica_takes_over_a_killed_ones_work(crate::helpers::Db::Postgres).await
    }
}

on_both_databases!(
    customers_messages_survive_sigkill,
    operators_messages_survive_sigkill
);
