//! Bodies a sender may really send, tried against the real service: whatever a webhook answers
//! 200 is delivered (or reported failed), an odd sub-field costs only that field, and one job
//! that cannot succeed fails at once instead of holding its chat back.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::bridge::{operator_message, text_update};
use crate::helpers::{spawn_bridge, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;

const CHAT: i64 = 4_200_000_077;

/// Posts a body as bytes: some of these cannot be built as a `serde_json::Value`.
async fn post_raw(app: &TestApp, bridge: &Bridge, body: String) -> reqwest::Response {
    app.client
        .post(format!("{}{}", app.address, bridge.webhook_path))
        .header("X-Telegram-Bot-Api-Secret-Token", &bridge.webhook_secret)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A text update whose `message` carries `extra` (raw JSON) as an unknown field.
fn with_unknown_field(update_id: i64, text: &str, extra: &str) -> String {
    let update = text_update(update_id, CHAT, update_id, text).to_string();
    update.replacen(
        "\"message\":{",
        &format!("\"message\":{{\"x_unknown\":{extra},"),
        1,
    )
}

async fn accepted_odd_unknown_fields_are_delivered(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let bodies = [
        with_unknown_field(1, "deep", &deep),
        with_unknown_field(2, "surrogate", "\"\\ud800\""),
    ];
    for body in bodies {
        let answer = post_raw(&app, &bridge, body).await;
        assert_eq!(
            answer.status(),
            StatusCode::OK,
            "{}",
            answer.text().await.unwrap()
        );
    }
    wait_for("both messages at MG", || {
        (app.mg.texts_in(CHAT) == ["deep", "surrogate"]).then_some(())
    })
    .await;
    app.wait_for_jobs("done", 2).await;
    assert_eq!(app.jobs_in_state("failed").await, 0);
}

/// One odd sub-field costs that field only: the rest of the message reaches MG.
async fn an_odd_sub_field_is_dropped_not_the_update(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let mut photo_null = text_update(1, CHAT, 1, "photo null");
    photo_null["message"]["photo"] = json!(null);
    let mut bad_thumbnail = text_update(2, CHAT, 2, "thumbnail without file_id");
    bad_thumbnail["message"]["document"] =
        json!({"file_id": "d1", "file_unique_id": "u1", "thumbnail": {"width": 90}});
    bad_thumbnail["message"]["from"]["first_name"] = json!(42);
    for update in [&photo_null, &bad_thumbnail] {
        let answer = app.post_telegram_update(&bridge, update).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    wait_for("both messages at MG", || {
        (app.mg.texts_in(CHAT) == ["photo null", "thumbnail without file_id"]).then_some(())
    })
    .await;
    // Truly unreadable is still refused.
    let answer = post_raw(&app, &bridge, r#"{"message": {}}"#.into()).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}

/// Past MG's 65,535 characters a text is split into several messages, in order, nothing lost.
async fn a_text_past_mg_limit_is_split_in_order(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let limit = 65_535;
    let just_over = "a".repeat(limit + 1);
    let far_over = format!("{} {}", "b".repeat(limit), "c".repeat(limit));
    for (id, text) in [(1, &just_over), (2, &far_over)] {
        let answer = app
            .post_telegram_update(&bridge, &text_update(id, CHAT, id, text))
            .await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let whole = format!("{just_over}{far_over}");
    let texts = wait_for("every part at MG", || {
        let texts = app.mg.texts_in(CHAT);
        (texts.concat().len() >= whole.len()).then_some(texts)
    })
    .await;
    assert!(texts.len() >= 4, "{} parts", texts.len());
    assert!(texts.iter().all(|t| t.chars().count() <= limit));
    assert_eq!(texts.concat(), whole, "in order, nothing lost or doubled");
    let ids: Vec<_> = app
        .mg
        .messages()
        .into_iter()
        .filter_map(|m| m.external_id)
        .collect();
    assert_eq!(ids.len(), texts.len());
    assert_eq!(ids[1], format!("{}#1", ids[0]));
}

/// The ack MG received for its message `id`, waiting for it.
async fn ack_of(app: &TestApp, id: i64) -> serde_json::Value {
    wait_for(&format!("the ack of message {id}"), || {
        app.mg
            .requests_to(&Method::POST, "/messages/ack")
            .into_iter()
            .filter_map(|r| r.body)
            .find(|body| body["message"]["id"] == json!(id))
    })
    .await
}

/// An operator's file whose id cannot make a URL (120 KB) fails at once and is reported; the
/// chat's next message is not held behind it (it used to be retried for up to a day).
async fn an_unbuildable_request_fails_at_once_and_the_chat_moves_on(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let mut bad = operator_message(&bridge, 1, CHAT, "");
    bad["data"]["type"] = json!("file");
    bad["data"]["items"] = json!([{"id": "f".repeat(120 * 1024)}]);
    let started = Instant::now();
    for webhook in [bad, operator_message(&bridge, 2, CHAT, "after the bad one")] {
        let answer = app.post_mg_webhook(&bridge.client_id, &webhook).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let ack = ack_of(&app, 1).await;
    assert!(ack.get("error").is_some(), "reported as failed: {ack}");
    wait_for("the next message in Telegram", || {
        let sent = app.telegram.messages_to(CHAT);
        sent.iter()
            .any(|m| m.text.as_deref() == Some("after the bad one"))
            .then_some(())
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    app.wait_for_jobs("failed", 1).await;
}

/// A document whose MIME type ends in a newline (no header can carry it) is uploaded with
/// the type trimmed, and the chat's next message follows it.
async fn a_mime_type_with_a_newline_is_cleaned(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let file_id = app
        .telegram
        .put_file("documents/file_1.pdf", b"%PDF-1.4 x".to_vec());
    let mut document = text_update(1, CHAT, 1, "");
    document["message"].as_object_mut().unwrap().remove("text");
    document["message"]["document"] = json!({"file_id": file_id, "file_unique_id": "u1",
        "file_name": "price.pdf", "mime_type": "application/pdf\n", "file_size": 10});
    for update in [document, text_update(2, CHAT, 2, "after the file")] {
        let answer = app.post_telegram_update(&bridge, &update).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    wait_for("the text after the file at MG", || {
        app.mg
            .texts_in(CHAT)
            .contains(&"after the file".to_owned())
            .then_some(())
    })
    .await;
    let files = app.mg.files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].mime_type, "application/pdf");
    assert_eq!(files[0].bytes.as_ref(), b"%PDF-1.4 x");
}

on_both_databases!(
    accepted_odd_unknown_fields_are_delivered,
    an_odd_sub_field_is_dropped_not_the_update,
    a_text_past_mg_limit_is_split_in_order,
    an_unbuildable_request_fails_at_once_and_the_chat_moves_on,
    a_mime_type_with_a_newline_is_cleaned,
);
