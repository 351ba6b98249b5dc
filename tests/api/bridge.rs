//! The webhooks and the queue, through the real service: who may post, what is stored, what
//! is ignored, and how delivery behaves when MG fails, when an account is frozen, and under
//! Telegram's per-chat limit. (What each message kind becomes: inbound.rs and outbound.rs.)

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use mgbridge::config::DeliveryMode;

use crate::helpers::{spawn_app_with, spawn_bridge, wait_for, Bridge, Db};
use crate::on_both_databases;

const CHAT: i64 = 4_200_000_001;

pub(crate) fn text_update(update_id: i64, chat_id: i64, message_id: i64, text: &str) -> Value {
    json!({
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {"id": chat_id, "is_bot": false, "first_name": "Ann", "username": "ann"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
            "date": 1_790_000_000,
            "text": text
        }
    })
}

pub(crate) fn operator_message(bridge: &Bridge, id: i64, chat: i64, text: &str) -> Value {
    json!({
        "type": "message_sent",
        "meta": {"timestamp": 1_790_000_000},
        "data": {
            "id": id, "channel_id": bridge.mg_channel_id,
            "external_chat_id": chat.to_string(), "external_user_id": chat.to_string(),
            "type": "text", "content": text
        }
    })
}

async fn a_repeated_update_is_delivered_once(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let update = text_update(1, CHAT, 10, "hello");
    for _ in 0..3 {
        let answer = app.post_telegram_update(&bridge, &update).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    wait_for("the message at MG", || {
        (app.mg.texts_in(CHAT) == ["hello"]).then_some(())
    })
    .await;
    // A later update still flows, so the first one was not merely slow.
    app.post_telegram_update(&bridge, &text_update(2, CHAT, 11, "again"))
        .await;
    wait_for("the second message", || {
        (app.mg.texts_in(CHAT).len() == 2).then_some(())
    })
    .await;
    app.wait_for_jobs("done", 2).await;
    assert_eq!(app.mg.texts_in(CHAT), ["hello", "again"]);
}

async fn a_wrong_secret_is_refused_and_stores_nothing(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let update = text_update(1, CHAT, 10, "hello");
    let url = format!("{}{}", app.address, bridge.webhook_path);
    for secret in [None, Some("wrong"), Some("")] {
        let mut request = app.client.post(&url).json(&update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{secret:?}");
    }
    // The right secret on a path that is not a bot's.
    let answer = app
        .client
        .post(format!("{}/telegram/not-a-key", app.address))
        .header("X-Telegram-Bot-Api-Secret-Token", &bridge.webhook_secret)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.jobs_in_state("queued").await + app.jobs_in_state("done").await,
        0
    );
}

async fn malformed_updates_are_400_and_store_nothing(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let url = format!("{}{}", app.address, bridge.webhook_path);
    for body in [
        "not json",
        r#"{"update_id":"seven"}"#,
        r#"{"message":{}}"#,
        "[]",
    ] {
        let answer = app
            .client
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", &bridge.webhook_secret)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    // Too large to be an update.
    let huge = text_update(1, CHAT, 1, &"x".repeat(2 * 1024 * 1024));
    let answer = app.post_telegram_update(&bridge, &huge).await;
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.jobs_in_state("queued").await, 0);
}

async fn other_updates_and_group_chats_are_answered_and_ignored(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let callback = json!({"update_id": 5, "callback_query": {"id": "1", "data": "x"}});
    let mut group = text_update(6, -100_123, 1, "hi all");
    group["message"]["chat"] = json!({"id": -100_123, "type": "supergroup", "title": "Fans"});
    for update in [callback, group] {
        let answer = app.post_telegram_update(&bridge, &update).await;
        assert_eq!(answer.status(), StatusCode::OK, "{update}");
    }
    assert_eq!(
        app.jobs_in_state("queued").await + app.jobs_in_state("done").await,
        0
    );
    assert!(app.mg.messages().is_empty());
}

async fn mg_webhooks_need_a_known_client_id(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let webhook = operator_message(&bridge, 1, CHAT, "hi");
    for client_id in ["", "not-hex", &"a".repeat(64)] {
        let answer = app.post_mg_webhook(client_id, &webhook).await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{client_id:?}");
    }
    let no_header = app
        .client
        .post(format!("{}/webhook/mg", app.address))
        .json(&webhook)
        .send()
        .await
        .unwrap();
    assert_eq!(no_header.status(), StatusCode::UNAUTHORIZED);
    let malformed = app
        .client
        .post(format!("{}/webhook/mg", app.address))
        .header("Clientid", &bridge.client_id)
        .header("content-type", "application/json")
        .body("{\"type\":")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.jobs_in_state("queued").await, 0);
    assert!(app.telegram.messages().is_empty());
}

async fn mg_webhooks_that_need_no_delivery_are_answered(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let data = json!({"channel_id": bridge.mg_channel_id, "external_chat_id": CHAT.to_string(),
        "external_user_id": CHAT.to_string(), "external_message_id": format!("{CHAT}:5")});
    let read = app
        .post_mg_webhook(
            &bridge.client_id,
            &json!({"type": "message_read", "meta": {"timestamp": 1}, "data": data}),
        )
        .await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.json::<Value>().await.unwrap(), json!({}));
    let template = app
        .post_mg_webhook(&bridge.client_id, &json!({"type": "template_create", "meta": {"timestamp": 1},
            "data": {"channel_id": bridge.mg_channel_id, "name": "Thanks", "lang": "en", "category": "utility", "body": "Thank you!"}}))
        .await;
    assert_eq!(template.status(), StatusCode::OK);
    let answer: Value = template.json().await.unwrap();
    assert!(
        answer["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{answer}"
    );
    let unknown = app
        .post_mg_webhook(
            &bridge.client_id,
            &json!({"type": "something_new", "data": {}}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::OK);
    assert_eq!(app.jobs_in_state("queued").await, 0);
}

async fn a_chat_keeps_its_order_through_mg_failures(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // MG fails the first sends (5xx, then rate limiting past the client's own retries).
    app.mg.fail_next_on("/messages", 2, 500);
    for n in 1..=5 {
        let answer = app
            .post_telegram_update(&bridge, &text_update(100 + n, CHAT, n, &format!("#{n}")))
            .await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    wait_for("five messages at MG", || {
        (app.mg.texts_in(CHAT).len() == 5).then_some(())
    })
    .await;
    assert_eq!(app.mg.texts_in(CHAT), ["#1", "#2", "#3", "#4", "#5"]);
    app.mg.fail_next_on("/messages", 8, 429);
    app.post_telegram_update(&bridge, &text_update(200, CHAT, 6, "#6"))
        .await;
    wait_for("the message after 429s", || {
        (app.mg.texts_in(CHAT).len() == 6).then_some(())
    })
    .await;
    assert_eq!(app.jobs_in_state("failed").await, 0);
}

async fn a_refused_message_is_reported_not_dropped_silently(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    app.mg.fail_next_on("/messages", 1, 400);
    app.post_telegram_update(&bridge, &text_update(1, CHAT, 1, "refused"))
        .await;
    app.post_telegram_update(&bridge, &text_update(2, CHAT, 2, "next"))
        .await;
    wait_for("the next message", || {
        (app.mg.texts_in(CHAT) == ["next"]).then_some(())
    })
    .await;
    app.wait_for_jobs("failed", 1).await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("mgbridge_messages_failed_total{direction=\"telegram_to_mg\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mgbridge_queue_jobs{state=\"failed\"} 1"),
        "{metrics}"
    );
}

async fn failures_past_the_age_limit_are_reported(db: Db) {
    // An age limit of 0 h: the first failure that could pass is already too late.
    let app = spawn_app_with(db, |s| s.queue.max_age_hours = 0).await;
    let bridge = app.connect_with_bot().await;
    app.mg.fail_next_on("/messages", 1, 503);
    app.post_telegram_update(&bridge, &text_update(1, CHAT, 1, "lost?"))
        .await;
    app.telegram.fail_times(
        "sendMessage",
        crate::fake_telegram::Failure::server_error(),
        1,
    );
    app.post_mg_webhook(
        &bridge.client_id,
        &operator_message(&bridge, 42, CHAT, "hello"),
    )
    .await;
    app.wait_for_jobs("failed", 2).await;
    // The operator sees it failed; the customer's message is in the log and the metrics.
    let ack = wait_for("the failure ack", || {
        app.mg
            .requests_to(&Method::POST, "/messages/ack")
            .into_iter()
            .find_map(|r| r.body)
    })
    .await;
    assert_eq!(ack["message"]["id"], 42);
    assert_eq!(ack["error"]["code"], "general", "{ack}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for direction in ["telegram_to_mg", "mg_to_telegram"] {
        assert!(
            metrics.contains(&format!(
                "mgbridge_messages_failed_total{{direction=\"{direction}\"}} 1"
            )),
            "{metrics}"
        );
    }
}

async fn a_frozen_account_waits_and_flows_on_reactivation(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let freeze = app
        .post_activity(&[
            ("clientId", bridge.client_id.as_str()),
            ("activity", r#"{"active":true,"freeze":true}"#),
        ])
        .await;
    assert_eq!(freeze.status(), StatusCode::OK);
    let answer = app
        .post_telegram_update(&bridge, &text_update(1, CHAT, 1, "while frozen"))
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let sent = app
        .post_mg_webhook(
            &bridge.client_id,
            &operator_message(&bridge, 77, CHAT, "reply"),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(app.mg.messages().is_empty(), "nothing flows while frozen");
    assert!(app.telegram.messages().is_empty());
    assert_eq!(app.jobs_in_state("queued").await, 2);

    let thaw = app
        .post_activity(&[
            ("clientId", bridge.client_id.as_str()),
            ("activity", r#"{"active":true,"freeze":false}"#),
        ])
        .await;
    assert_eq!(thaw.status(), StatusCode::OK);
    wait_for("the waiting messages", || {
        (app.mg.texts_in(CHAT) == ["while frozen"] && app.telegram.messages().len() == 1)
            .then_some(())
    })
    .await;
}

async fn telegram_per_chat_limit_is_kept_not_discovered(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.telegram.chat_messages_per_second = 1;
        s.telegram.chat_burst = 1;
    })
    .await;
    let bridge = app.connect_with_bot().await;
    for id in 1..=3 {
        app.post_mg_webhook(
            &bridge.client_id,
            &operator_message(&bridge, id, CHAT, &format!("#{id}")),
        )
        .await;
    }
    let acks = wait_for("three acks", || {
        let acks = app.mg.requests_to(&Method::POST, "/messages/ack");
        (acks.len() == 3).then_some(acks)
    })
    .await;
    // Each ack follows its send at once: one send per second into the chat.
    for pair in acks.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(900), "sends {gap:?} apart");
    }
    // Paced before sending, so nothing had to be sent twice.
    assert_eq!(app.telegram.calls_to("sendMessage").len(), 3);
}

async fn sync_delivery_answers_with_the_telegram_message(db: Db) {
    let app = spawn_app_with(db, |s| s.mg.delivery = DeliveryMode::Sync).await;
    let bridge = app.connect_with_bot().await;
    let answer = app
        .post_mg_webhook(
            &bridge.client_id,
            &operator_message(&bridge, 1, CHAT, "right away"),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let body: Value = answer.json().await.unwrap();
    let sent = app.telegram.messages_to(CHAT);
    assert_eq!(sent.len(), 1, "sent before the answer");
    assert_eq!(
        body,
        json!({"external_message_id": format!("{CHAT}:{}", sent[0].message_id), "async": false})
    );
    // A failure is the answer too: nothing queued, nothing acknowledged later.
    app.telegram.block_chat(CHAT + 1);
    let answer = app
        .post_mg_webhook(
            &bridge.client_id,
            &operator_message(&bridge, 2, CHAT + 1, "blocked"),
        )
        .await;
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["async"], false);
    assert_eq!(body["error"]["code"], "access_restricted", "{body}");
    assert_eq!(
        app.jobs_in_state("queued").await + app.jobs_in_state("done").await,
        0
    );
    assert!(app
        .mg
        .requests_to(&Method::POST, "/messages/ack")
        .is_empty());
}

on_both_databases!(
    sync_delivery_answers_with_the_telegram_message,
    a_repeated_update_is_delivered_once,
    a_wrong_secret_is_refused_and_stores_nothing,
    malformed_updates_are_400_and_store_nothing,
    other_updates_and_group_chats_are_answered_and_ignored,
    mg_webhooks_need_a_known_client_id,
    mg_webhooks_that_need_no_delivery_are_answered,
    a_chat_keeps_its_order_through_mg_failures,
    a_refused_message_is_reported_not_dropped_silently,
    failures_past_the_age_limit_are_reported,
    a_frozen_account_waits_and_flows_on_reactivation,
    telegram_per_chat_limit_is_kept_not_discovered,
);
