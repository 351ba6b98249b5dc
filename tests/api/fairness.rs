//! Fair delivery, through the real service and the fakes: one account's mailing holds up
//! neither another account's customers nor its own customers and warm replies. The mailing is
//! paced by MG's 30 req/s per token (each operator's message is acked) and Telegram's 30 sends/s
//! per bot, so it is still mostly queued when the other messages are looked for.

use std::time::{Duration, Instant};

use crate::bridge::{operator_message, text_update};
use crate::fake_crm::FakeCrm;
use crate::fake_mg::FakeMg;
use crate::helpers::{metric, spawn_bridge, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;

/// Operators' messages of account A, one chat each: ~10 s of work at 30/s.
const MAILING: i64 = 300;
const MAILING_CHATS: i64 = 5_000_000_000;
const SECOND_MG_TOKEN: &str = "b2a1908f7e6d5c4b3a26f2c1d0e9b8a7f6e5d4c3";
const SECOND_BOT_TOKEN: &str = "6112345678:AAHb9zX-2mMlrw_5YdC8nEq3tIs0uVf7RpK";

/// Account B: its own CRM origin and MG token, its own bot, on the same service and fake MG.
async fn connect_second_account(app: &TestApp) -> (Bridge, FakeCrm) {
    connect_second_account_on(app, &app.mg).await
}

/// The same, with its MG at `mg`.
pub(crate) async fn connect_second_account_on(app: &TestApp, mg: &FakeMg) -> (Bridge, FakeCrm) {
    let crm = FakeCrm::start().await;
    crm.set(|s| {
        s.mg_endpoint = mg.url.clone();
        s.mg_token = SECOND_MG_TOKEN.to_owned();
    });
    app.telegram
        .add_bot(SECOND_BOT_TOKEN, 6_112_345_678, "second_shop_bot");
    let page = app.connect(&crm.url, crate::fake_crm::API_KEY).await;
    let client_id = page
        .location
        .expect("connected")
        .trim_start_matches("/settings/")
        .to_owned();
    let added = app.add_bot(&client_id, SECOND_BOT_TOKEN).await;
    assert_eq!(added.status, reqwest::StatusCode::SEE_OTHER, "{added:?}");
    let webhook = app.telegram.webhook_of(SECOND_BOT_TOKEN).unwrap();
    let mg_channel_id = mg
        .channels_of(SECOND_MG_TOKEN)
        .into_iter()
        .find(|c| c.is_active)
        .unwrap()
        .id;
    let bridge = Bridge {
        client_id,
        webhook_path: url::Url::parse(&webhook.url).unwrap().path().to_owned(),
        webhook_secret: webhook.secret_token.unwrap(),
        mg_channel_id,
    };
    (bridge, crm)
}

/// Account A's operators send the mailing; returns once every webhook is answered (stored).
async fn start_mailing(app: &TestApp, a: &Bridge) {
    for n in 0..MAILING {
        let hook = operator_message(a, 10_000 + n, MAILING_CHATS + n, "Sale!");
        let answer = app.post_mg_webhook(&a.client_id, &hook).await;
        assert_eq!(answer.status(), 200);
    }
}

fn mailing_sent(app: &TestApp) -> usize {
    app.telegram
        .messages()
        .iter()
        .filter(|m| m.chat_id >= MAILING_CHATS)
        .count()
}

/// Waits for the message with `text` at MG and returns how long it took from `since`, and how
/// much of the mailing Telegram had received by then.
async fn arrival_at_mg(app: &TestApp, text: &str, since: Instant) -> (Duration, usize) {
    wait_for(&format!("{text:?} at MG"), || {
        app.mg
            .messages()
            .iter()
            .any(|m| m.text.as_deref() == Some(text))
            .then(|| (since.elapsed(), mailing_sent(app)))
    })
    .await
}

async fn another_accounts_customer_is_not_held_up_by_a_mailing(db: Db) {
    let (app, a) = spawn_bridge(db).await;
    let (b, _crm) = connect_second_account(&app).await;
    start_mailing(&app, &a).await;
    let posted = Instant::now();
    let answer = app
        .post_telegram_update(&b, &text_update(1, 77, 1, "where is my order?"))
        .await;
    assert_eq!(answer.status(), 200);
    let (took, mailing_done) = arrival_at_mg(&app, "where is my order?", posted).await;
    assert!(
        mailing_done < (MAILING / 2) as usize,
        "B's customer waited for the mailing: {mailing_done} of {MAILING} sent first ({took:?})"
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    // The queue says what is waiting, per direction, and what is being delivered.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let queued = metric(
        &metrics,
        "mgbridge_queue_queued_jobs{direction=\"mg_to_telegram\"}",
    );
    assert!(queued > 0.0, "{metrics}");
    assert!(
        metrics.contains("mgbridge_deliveries_in_flight "),
        "{metrics}"
    );
    assert!(
        metrics.contains("mgbridge_queue_wait_p99_seconds{direction=\"telegram_to_mg\"}"),
        "{metrics}"
    );
}

async fn a_customer_and_a_warm_reply_go_before_the_same_accounts_mailing(db: Db) {
    let (app, a) = spawn_bridge(db).await;
    // A customer wrote before the mailing: replies into that chat are warm.
    let warm_chat = 88;
    app.post_telegram_update(&a, &text_update(1, warm_chat, 1, "is it in stock?"))
        .await;
    arrival_at_mg(&app, "is it in stock?", Instant::now()).await;
    start_mailing(&app, &a).await;

    let posted = Instant::now();
    let answer = app
        .post_telegram_update(&a, &text_update(2, 99, 2, "hello?"))
        .await;
    assert_eq!(answer.status(), 200);
    let reply = operator_message(&a, 1, warm_chat, "yes, it is");
    assert_eq!(
        app.post_mg_webhook(&a.client_id, &reply).await.status(),
        200
    );
    let (took, mailing_done) = arrival_at_mg(&app, "hello?", posted).await;
    assert!(
        mailing_done < (MAILING / 2) as usize,
        "the customer waited for the mailing: {mailing_done} of {MAILING} sent first ({took:?})"
    );
    let (took, mailing_done) = wait_for("the warm reply at Telegram", || {
        app.telegram
            .messages_to(warm_chat)
            .iter()
            .any(|m| m.text.as_deref() == Some("yes, it is"))
            .then(|| (posted.elapsed(), mailing_sent(&app)))
    })
    .await;
    assert!(
        mailing_done < (MAILING / 2) as usize,
        "the warm reply waited for the mailing: {mailing_done} of {MAILING} sent first ({took:?})"
    );
}

on_both_databases!(
    another_accounts_customer_is_not_held_up_by_a_mailing,
    a_customer_and_a_warm_reply_go_before_the_same_accounts_mailing,
);
