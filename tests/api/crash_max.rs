//! The crash test on a MAX channel: customers' messages and operators' replies accepted with
//! 2xx survive a SIGKILL mid-delivery, each arriving exactly once and in order per chat.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::fake_crm::{FakeCrm, API_KEY};
use crate::fake_max::{updates, FakeMax, TOKEN};
use crate::fake_mg::FakeMg;
use crate::fake_telegram::FakeTelegram;
use crate::helpers::{Db, TestDatabase};
use crate::on_both_databases;
use crate::service_process::{connect_and_add_max_bot, service_env, ServiceProcess};
use mgbridge_testkit::service_binary;

on_both_databases!(
    max_customers_messages_survive_sigkill,
    max_operators_messages_survive_sigkill
);

const PER_CHAT: usize = 12;
const CHATS: [i64; 2] = [-70_000_000_001, -70_000_000_002];

struct Rig {
    service: ServiceProcess,
    client: reqwest::Client,
    max: FakeMax,
    mg: FakeMg,
    client_id: String,
    webhook_url: String,
    secret: String,
    _telegram: FakeTelegram,
    _crm: FakeCrm,
    _database: TestDatabase,
    _dir: tempfile::TempDir,
}

async fn rig(db: Db) -> Rig {
    let crm = FakeCrm::start().await;
    let telegram = FakeTelegram::with_bot().await;
    let max = FakeMax::with_bot().await;
    let mg = FakeMg::start().await;
    crm.set(|s| s.mg_endpoint = mg.url.clone());
    let database = TestDatabase::new(db).await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = service_env(&database.url, telegram.api_url().as_str());
    env.push(("MGBRIDGE__MAX__API_URL".into(), max.api_url().to_string()));
    env.push(("MGBRIDGE__QUEUE__LEASE_SECONDS".into(), "2".into()));
    let service =
        ServiceProcess::start(service_binary!(), env, dir.path().join("service.log")).await;
    let client_id = connect_and_add_max_bot(&service.address, &crm.url, API_KEY, TOKEN).await;
    let subscription = max.subscriptions_of(TOKEN).pop().unwrap();
    let path = url::Url::parse(&subscription.url)
        .unwrap()
        .path()
        .to_owned();
    Rig {
        webhook_url: format!("{}{path}", service.address),
        secret: subscription.secret.unwrap(),
        service,
        client: reqwest::Client::new(),
        max,
        mg,
        client_id,
        _telegram: telegram,
        _crm: crm,
        _database: database,
        _dir: dir,
    }
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

async fn max_customers_messages_survive_sigkill(db: Db) {
    let mut rig = rig(db).await;
    rig.mg.set(|s| s.delay = Duration::from_millis(150));
    for n in 1..=PER_CHAT {
        for (k, chat) in CHATS.into_iter().enumerate() {
            let mid = format!("mid.{k}.{n:03}");
            let update = updates::message_created(
                41_000 + k as i64,
                "Ann",
                None,
                chat,
                &mid,
                Some(&format!("#{n}")),
            );
            let answer = updates::deliver(&rig.webhook_url, &rig.secret, &update).await;
            assert_eq!(answer.status(), 200);
        }
    }
    wait_until(&rig, "a few deliveries", || rig.mg.messages().len() >= 4).await;
    rig.service.kill();
    let total = CHATS.len() * PER_CHAT;
    assert!(
        rig.mg.messages().len() < total,
        "the kill came after everything was delivered; the test proves nothing"
    );
    rig.service.restart().await;
    wait_until(&rig, "every message at MG", || {
        rig.mg.messages().len() >= total
    })
    .await;
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

async fn max_operators_messages_survive_sigkill(db: Db) {
    let mut rig = rig(db).await;
    let channel = rig
        .mg
        .channels()
        .into_iter()
        .find(|c| c.is_active)
        .unwrap()
        .id;
    // Slow acks: the kill lands after a message went to MAX and was recorded, before MG heard.
    rig.mg.set(|s| s.delay = Duration::from_millis(300));
    let chat = CHATS[0];
    for n in 1..=PER_CHAT {
        let webhook = json!({
            "type": "message_sent", "meta": {"timestamp": 1_790_000_000},
            "data": {"id": 900 + n, "channel_id": channel, "external_chat_id": chat.to_string(),
                     "external_user_id": "41000", "type": "text", "content": format!("#{n}")}
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
    }
    let acks = |mg: &FakeMg| mg.requests_to(&Method::POST, "/messages/ack");
    wait_until(&rig, "a few acks", || acks(&rig.mg).len() >= 3).await;
    rig.service.kill();
    assert!(rig.max.messages().len() < PER_CHAT);
    rig.service.restart().await;
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
        acked(&rig.mg) >= PER_CHAT
    })
    .await;
    let texts: Vec<String> = rig
        .max
        .messages()
        .iter()
        .filter(|m| m.chat_id == Some(chat))
        .map(|m| m.text.clone().unwrap_or_default())
        .collect();
    let expected: Vec<String> = (1..=PER_CHAT).map(|n| format!("#{n}")).collect();
    assert_eq!(texts, expected, "each message once, in order");
    let bodies: Vec<Value> = acks(&rig.mg).into_iter().filter_map(|r| r.body).collect();
    assert!(
        bodies.iter().all(|b| b["transport_message_id"]
            .as_str()
            .is_some_and(|m| m.starts_with("mid."))),
        "every ack reports the MAX message: {bodies:?}"
    );
}
