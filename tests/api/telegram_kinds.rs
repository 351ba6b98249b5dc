//! Telegram → MG: message kinds MG has no type for reach the CRM's chat as readable text in the
//! customer's language, and a forward says where it came from, through the real service
//! (webhook, queue, worker) against the fake Bot API and the fake MG.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_bridge, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    a_forward_dice_and_checklist_reach_mg_as_readable_text,
    notes_are_in_the_customers_language,
);

const CHAT: i64 = 7_100_000_043;
const DATE: i64 = 1_790_000_000;

fn message(message_id: i64, language_code: &str, content: Value) -> Value {
    let mut m = json!({
        "message_id": message_id, "date": DATE,
        "from": {"id": CHAT, "is_bot": false, "first_name": "Bo", "language_code": language_code},
        "chat": {"id": CHAT, "type": "private", "first_name": "Bo"},
    });
    m.as_object_mut()
        .unwrap()
        .extend(content.as_object().unwrap().clone());
    m
}

async fn post(app: &TestApp, bridge: &Bridge, update_id: i64, message: Value) {
    let update = json!({"update_id": update_id, "message": message});
    let answer = app.post_telegram_update(bridge, &update).await;
    assert_eq!(answer.status(), StatusCode::OK, "{update}");
}

/// The `message` of the first `n` messages MG received, by external id order of arrival.
async fn messages_at_mg(app: &TestApp, n: usize) -> Vec<Value> {
    wait_for(&format!("{n} messages at MG"), || {
        let answered: Vec<Value> = app
            .mg
            .requests_to(&Method::POST, "/messages")
            .into_iter()
            .filter(|r| r.status != 0)
            .map(|r| r.body.unwrap_or(Value::Null)["message"].clone())
            .collect();
        (answered.len() >= n).then_some(answered)
    })
    .await
}

fn text_of(messages: &[Value], message_id: i64) -> String {
    let external_id = format!("{CHAT}:{message_id}");
    let message = messages
        .iter()
        .find(|m| m["external_id"] == external_id.as_str())
        .unwrap_or_else(|| panic!("no message {external_id} in {messages:?}"));
    assert_eq!(message["type"], "text", "{message}");
    message["text"].as_str().unwrap().to_owned()
}

async fn a_forward_dice_and_checklist_reach_mg_as_readable_text(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    post(
        &app,
        &bridge,
        1,
        message(
            21,
            "en",
            json!({"text": "Is this the mug you sell?", "forward_origin": {
                "type": "channel", "date": DATE - 60, "message_id": 7,
                "chat": {"id": -1_001_234, "type": "channel", "title": "Mug Lovers"}}}),
        ),
    )
    .await;
    post(
        &app,
        &bridge,
        2,
        message(22, "en", json!({"dice": {"emoji": "🎲", "value": 5}})),
    )
    .await;
    post(
        &app,
        &bridge,
        3,
        message(
            23,
            "en",
            json!({"checklist": {"title": "My order", "tasks": [
                {"id": 1, "text": "2 blue mugs"}, {"id": 2, "text": "gift wrap & card"}]}}),
        ),
    )
    .await;

    let messages = messages_at_mg(&app, 3).await;
    assert_eq!(
        text_of(&messages, 21),
        "↪ Forwarded from Mug Lovers\nIs this the mug you sell?"
    );
    assert_eq!(text_of(&messages, 22), "🎲 Dice: 5");
    assert_eq!(
        text_of(&messages, 23),
        "☑️ Checklist: My order\n☐ 2 blue mugs\n☐ gift wrap & card"
    );
}

async fn notes_are_in_the_customers_language(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    post(
        &app,
        &bridge,
        1,
        message(
            31,
            "ru",
            json!({"photo": [{"file_id": "gone", "file_unique_id": "g", "width": 1, "height": 1,
                              "file_size": 999_999_999_u64}],
                   "forward_origin": {"type": "hidden_user", "date": DATE, "sender_user_name": "Ян"}}),
        ),
    )
    .await;
    post(
        &app,
        &bridge,
        2,
        message(
            32,
            "es",
            json!({"pinned_message": {"message_id": 1, "date": DATE,
                                      "chat": {"id": CHAT, "type": "private"}}}),
        ),
    )
    .await;

    let messages = messages_at_mg(&app, 2).await;
    let forward = text_of(&messages, 31);
    assert!(
        forward.starts_with("↪ Переслано от Ян\n📎 фото (953.7 МБ) — слишком большой файл"),
        "{forward}"
    );
    assert_eq!(
        text_of(&messages, 32),
        "ℹ️ Un mensaje de servicio de Telegram que el puente no puede mostrar (pinned_message)"
    );
}
