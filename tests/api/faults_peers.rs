//! Peers failing for a while, through the real HTTP paths: MG gone for a minute (connection
//! refused, then 5xx), Telegram's 429 storms and 5xx, and peers too slow to answer. Nothing
//! accepted is lost or doubled, each chat keeps its order, waits are what the peer asked for,
//! and waiting costs next to no CPU.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::bridge::{operator_message, text_update};
use crate::fake_mg::FakeMg;
use crate::fake_telegram::Failure;
use crate::fault_proxy::FaultProxy;
use crate::helpers::{process_cpu_seconds, spawn_app_with, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;

const CHATS: [i64; 4] = [6_200_000_001, 6_200_000_002, 6_200_000_003, 6_200_000_004];

/// Each chat got exactly its messages, once each and in the order sent.
fn assert_each_chat_in_order(mg: &FakeMg, sent: &[(i64, String)]) {
    for chat in CHATS {
        let expected: Vec<&str> = sent
            .iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(mg.texts_in(chat), expected, "chat {chat}");
    }
}

/// A customer's message to `chat`, which must be accepted (stored) whatever MG is doing.
async fn post(
    app: &TestApp,
    bridge: &Bridge,
    sent: &mut Vec<(i64, String)>,
    chat: i64,
    text: String,
) {
    sent.push((chat, text.clone()));
    let n = sent.len() as i64;
    let answer = app
        .post_telegram_update(bridge, &text_update(n, chat, n, &text))
        .await;
    assert_eq!(answer.status(), StatusCode::OK, "accepted while MG is down");
}

/// MG's host is gone for 30 s (connection refused), then answers 503 for 30 s, while four
/// chats keep writing. Every message answered 200 reaches MG once, in order, soon after MG is
/// back, and the worker idles meanwhile.
async fn an_mg_outage_of_a_minute_loses_nothing(db: Db) {
    let app = spawn_app_with(db, |s| {
        // Production's poll; the backoff's cap lowered from 5 min so the test ends soon.
        s.queue.poll_interval_ms = 500;
        s.queue.retry_base_ms = 1_000;
        s.queue.retry_max_ms = 10_000;
    })
    .await;
    let proxy = FaultProxy::start(&app.mg.url).await;
    app.crm.set(|s| s.mg_endpoint = proxy.url());
    let bridge = app.connect_with_bot().await;
    let mut sent: Vec<(i64, String)> = Vec::new();
    for chat in CHATS {
        post(&app, &bridge, &mut sent, chat, format!("{chat} before")).await;
    }
    wait_for("the first messages at MG", || {
        (app.mg.messages().len() == CHATS.len()).then_some(())
    })
    .await;

    proxy.down();
    let (down_at, cpu_at_start) = (Instant::now(), process_cpu_seconds());
    let mut refusing = true;
    for n in 0..24 {
        if refusing && down_at.elapsed() >= Duration::from_secs(30) {
            proxy.up().await;
            app.mg.fail_next_on("/messages", 5_000, 503);
            refusing = false;
        }
        let chat = CHATS[n % CHATS.len()];
        post(&app, &bridge, &mut sent, chat, format!("{chat} during {n}")).await;
        tokio::time::sleep(Duration::from_millis(2_000)).await;
    }
    tokio::time::sleep(Duration::from_secs(60).saturating_sub(down_at.elapsed())).await;
    let (outage, cpu) = (down_at.elapsed(), process_cpu_seconds() - cpu_at_start);
    let attempts = app
        .mg
        .requests_to(&reqwest::Method::POST, "/messages")
        .len();
    app.mg.set(|s| s.injected.clear());
    let back = Instant::now();
    let deadline = back + Duration::from_secs(30);
    while app.mg.messages().len() < sent.len() {
        assert!(
            Instant::now() < deadline,
            "{} of {} messages at MG 30 s after it came back",
            app.mg.messages().len(),
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let recovery = back.elapsed();
    assert_each_chat_in_order(&app.mg, &sent);
    let share = cpu / outage.as_secs_f64();
    eprintln!(
        "MG outage: {} messages sent, {} at MG, 0 lost, 0 doubled; recovered in {recovery:?}; \
         CPU while waiting {:.1} % of a core; {attempts} POST /messages tried during the outage",
        sent.len(),
        app.mg.messages().len(),
        share * 100.0
    );
    assert!(
        share < 0.05,
        "waiting for MG cost {:.1} % of a core",
        share * 100.0
    );
    assert_eq!(app.jobs_in_state("failed").await, 0);
}

/// Telegram answers an operator's sends with three 429s asking for 2 s, then two 5xx. Every
/// message arrives once and in order, and no send comes sooner than Telegram asked.
async fn telegram_429_storms_and_5xx_keep_order_and_retry_after(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.queue.retry_base_ms = 200;
        s.queue.retry_max_ms = 1_000;
    })
    .await;
    let bridge = app.connect_with_bot().await;
    app.telegram
        .fail_times("sendMessage", Failure::too_many_requests(2), 3);
    app.telegram
        .fail_times("sendMessage", Failure::server_error(), 2);
    let chat = CHATS[0];
    for n in 1..=4 {
        let hook = operator_message(&bridge, 500 + n, chat, &format!("reply {n}"));
        let answer = app.post_mg_webhook(&bridge.client_id, &hook).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.telegram.messages_to(chat).len() < 4 {
        assert!(Instant::now() < deadline, "the replies never got through");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let texts: Vec<String> = app
        .telegram
        .messages_to(chat)
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(texts, ["reply 1", "reply 2", "reply 3", "reply 4"]);
    // The first three calls were answered 429 with retry_after 2: each next call waited 2 s.
    let calls: Vec<Instant> = app
        .telegram
        .calls_to("sendMessage")
        .into_iter()
        .map(|c| c.at)
        .collect();
    assert_eq!(
        calls.len(),
        4 + 5,
        "each refused send tried once more, no more"
    );
    for pair in calls[..4].windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(1_950),
            "a send came {gap:?} after a 429 asking for 2 s"
        );
    }
    eprintln!(
        "Telegram storm: 4 sent, 4 delivered, 0 lost, 0 doubled; gaps after 429s {:?}",
        calls[..4]
            .windows(2)
            .map(|p| p[1] - p[0])
            .collect::<Vec<_>>()
    );
}

/// One account's MG takes 25 s to answer, past the client's timeout (5 s here): its message
/// is tried again, while another account's customers go on at once. Then Telegram hangs on a
/// send: the timeout fires, and the reply arrives once when Telegram answers again.
async fn slow_peers_time_out_and_other_accounts_go_on(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.mg.timeout_seconds = 5;
        s.telegram.timeout_seconds = 3;
        s.queue.retry_base_ms = 200;
        s.queue.retry_max_ms = 1_000;
    })
    .await;
    let slow = app.connect_with_bot().await;
    let slow_mg = &app.mg;
    let fast_mg = FakeMg::start().await;
    let (fast, _fast_crm) = crate::fairness::connect_second_account_on(&app, &fast_mg).await;
    slow_mg.set(|s| s.delay = Duration::from_secs(25));
    let started = Instant::now();
    let update = text_update(1, CHATS[0], 1, "to the slow MG");
    assert_eq!(
        app.post_telegram_update(&slow, &update).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let update = text_update(2, CHATS[1], 1, "to the fast MG");
    let sent = Instant::now();
    assert_eq!(
        app.post_telegram_update(&fast, &update).await.status(),
        StatusCode::OK
    );
    wait_for("the other account's message", || {
        (fast_mg.texts_in(CHATS[1]) == ["to the fast MG"]).then_some(())
    })
    .await;
    let other = sent.elapsed();
    assert!(
        other < Duration::from_secs(2),
        "the other account waited {other:?}"
    );
    // The slow call timed out and was tried again (the fake still counts both as requests).
    let deadline = Instant::now() + Duration::from_secs(15);
    while slow_mg
        .requests_to(&reqwest::Method::POST, "/messages")
        .len()
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "the slow MG call never timed out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let timed_out_after = started.elapsed();
    slow_mg.set(|s| s.delay = Duration::ZERO);

    // Telegram hangs on sendMessage for a minute, once.
    app.telegram
        .fail_times("sendMessage", Failure::Slow(Duration::from_secs(60)), 1);
    let hook = operator_message(&fast, 900, CHATS[1], "through a hang");
    assert_eq!(
        app.post_mg_webhook(&fast.client_id, &hook).await.status(),
        StatusCode::OK
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.telegram.messages_to(CHATS[1]).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the reply never got past the hang"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let texts: Vec<Option<String>> = app
        .telegram
        .messages_to(CHATS[1])
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, [Some("through a hang".to_owned())]);
    eprintln!(
        "slow peers: the other account's message took {other:?}; the 25 s MG call was abandoned \
         and retried within {timed_out_after:?}"
    );
}

on_both_databases!(
    an_mg_outage_of_a_minute_loses_nothing,
    telegram_429_storms_and_5xx_keep_order_and_retry_after,
    slow_peers_time_out_and_other_accounts_go_on,
);
