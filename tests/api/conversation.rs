//! The product, end to end, as a merchant would try it: connect the CRM, add the bot, and hold
//! one conversation both ways through the real webhooks, queue and workers: text, a photo each
//! way, a quoted reply, edits on both sides, reactions on both sides, and a delete.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_bridge, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;

const CUSTOMER: i64 = 6_100_000_123;

fn customer_update(update_id: i64, kind: &str, body: Value) -> Value {
    let mut message = json!({
        "from": {"id": CUSTOMER, "is_bot": false, "first_name": "Olga", "username": "olga_k", "language_code": "ru"},
        "chat": {"id": CUSTOMER, "type": "private", "first_name": "Olga"},
        "date": 1_790_000_000,
    });
    message
        .as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    json!({ "update_id": update_id, kind: message })
}

fn operator(bridge: &Bridge, kind: &str, data: Value) -> Value {
    let mut full = json!({
        "channel_id": bridge.mg_channel_id,
        "external_chat_id": CUSTOMER.to_string(),
        "external_user_id": CUSTOMER.to_string(),
    });
    full.as_object_mut()
        .unwrap()
        .extend(data.as_object().unwrap().clone());
    json!({"type": kind, "meta": {"timestamp": 1_790_000_100}, "data": full})
}

async fn customer(app: &TestApp, bridge: &Bridge, update: Value) {
    let answer = app.post_telegram_update(bridge, &update).await;
    assert_eq!(answer.status(), StatusCode::OK);
}

async fn mg_says(app: &TestApp, bridge: &Bridge, webhook: Value) -> Value {
    let answer = app.post_mg_webhook(&bridge.client_id, &webhook).await;
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.unwrap()
}

/// MG bodies sent to `path` so far, once there are `n`.
async fn at_mg(app: &TestApp, method: Method, path: &str, n: usize) -> Vec<Value> {
    wait_for(&format!("{n} × {method} {path}"), || {
        let bodies: Vec<Value> = app
            .mg
            .requests_to(&method, path)
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .filter_map(|r| r.body)
            .collect();
        (bodies.len() >= n).then_some(bodies)
    })
    .await
}

async fn a_conversation_flows_both_ways(db: Db) {
    // Connected and the bot added through the pages, as a merchant does.
    let (app, bridge) = spawn_bridge(db).await;

    // 1. The customer writes to the shop's bot; the operator sees it in the CRM's chat.
    customer(
        &app,
        &bridge,
        customer_update(
            1,
            "message",
            json!({"message_id": 1, "text": "Is the blue dress in stock?"}),
        ),
    )
    .await;
    let first = at_mg(&app, Method::POST, "/messages", 1).await.remove(0);
    assert_eq!(first["message"]["text"], "Is the blue dress in stock?");
    assert_eq!(first["customer"]["nickname"], "olga_k");
    assert_eq!(first["customer"]["external_id"], CUSTOMER.to_string());

    // 2. The operator answers with a photo, quoting the question.
    let photo = b"\xff\xd8\xff blue dress".to_vec();
    let file = app.mg.add_file("image/jpeg", photo.clone());
    let answer = mg_says(
        &app,
        &bridge,
        operator(
            &bridge,
            "message_sent",
            json!({
                "id": 9001, "type": "image", "content": "Yes! Here it is",
                "items": [{"id": file, "size": photo.len()}],
                "quote_external_id": format!("{CUSTOMER}:1"),
            }),
        ),
    )
    .await;
    assert_eq!(answer, json!({"async": true}));
    let ack = at_mg(&app, Method::POST, "/messages/ack", 1)
        .await
        .remove(0);
    let sent_photo = app.telegram.last_call_to("sendPhoto").unwrap();
    assert_eq!(sent_photo.files[0].bytes, photo);
    assert_eq!(sent_photo.params["caption"], "Yes! Here it is");
    assert_eq!(reply_to(&sent_photo.params), Some(1));
    let photo_message = app.telegram.messages_to(CUSTOMER)[0].message_id;
    assert_eq!(ack["message"]["id"], 9001);
    assert_eq!(
        ack["transport_message_id"],
        format!("{CUSTOMER}:{photo_message}")
    );

    // 3. The customer likes the photo and sends one of their own, replying to it.
    customer(&app, &bridge, json!({"update_id": 2, "message_reaction": {
        "chat": {"id": CUSTOMER, "type": "private", "first_name": "Olga"},
        "message_id": photo_message, "user": {"id": CUSTOMER, "is_bot": false, "first_name": "Olga"},
        "date": 1_790_000_200, "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]
    }})).await;
    let like = at_mg(&app, Method::POST, "/messages/reaction", 1)
        .await
        .remove(0);
    assert_eq!(like["reaction"], "👍");
    assert_eq!(
        like["message"]["external_id"],
        format!("{CUSTOMER}:{photo_message}")
    );

    let theirs = app
        .telegram
        .put_file("photos/file_9.jpg", b"\xff\xd8\xff my size".to_vec());
    customer(&app, &bridge, customer_update(3, "message", json!({
        "message_id": 3,
        "photo": [{"file_id": theirs, "file_unique_id": "u9", "width": 800, "height": 600, "file_size": 12}],
        "caption": "Like this one?",
        "reply_to_message": {"message_id": photo_message, "date": 1_790_000_100,
            "chat": {"id": CUSTOMER, "type": "private"}},
    }))).await;
    let image = at_mg(&app, Method::POST, "/messages", 2).await.remove(1);
    assert_eq!(image["message"]["type"], "image");
    assert_eq!(image["message"]["note"], "Like this one?");
    assert_eq!(
        image["quote"]["external_id"],
        format!("{CUSTOMER}:{photo_message}")
    );
    let uploaded = app
        .mg
        .files()
        .into_iter()
        .find(|f| &f.bytes[..] == b"\xff\xd8\xff my size");
    assert!(
        uploaded.is_some(),
        "the customer's photo reached MG's storage"
    );

    // 4. Both sides edit: the customer their question, the operator the photo's caption.
    customer(&app, &bridge, customer_update(4, "edited_message", json!({
        "message_id": 1, "edit_date": 1_790_000_300, "text": "Is the blue dress in stock in M?"
    }))).await;
    let edit = at_mg(&app, Method::PUT, "/messages", 1).await.remove(0);
    assert_eq!(edit["message"]["external_id"], format!("{CUSTOMER}:1"));
    assert_eq!(edit["message"]["text"], "Is the blue dress in stock in M?");

    mg_says(
        &app,
        &bridge,
        operator(
            &bridge,
            "message_updated",
            json!({
                "external_message_id": format!("{CUSTOMER}:{photo_message}"), "type": "image",
                "content": "Yes! Here it is, size M too"
            }),
        ),
    )
    .await;
    let caption = wait_for("the caption edit", || {
        app.telegram.last_call_to("editMessageCaption")
    })
    .await;
    assert_eq!(caption.params["caption"], "Yes! Here it is, size M too");

    // 5. The operator reacts to the customer's photo, then deletes the old answer.
    mg_says(
        &app,
        &bridge,
        operator(
            &bridge,
            "reaction_add",
            json!({
                "external_message_id": format!("{CUSTOMER}:3"), "new_reaction": "❤️"
            }),
        ),
    )
    .await;
    let heart = wait_for("the reaction", || {
        app.telegram.reactions().into_iter().next()
    })
    .await;
    assert_eq!(heart.chat_id, CUSTOMER);
    assert_eq!(heart.message_id, 3);

    mg_says(
        &app,
        &bridge,
        operator(
            &bridge,
            "message_deleted",
            json!({
                "external_message_id": format!("{CUSTOMER}:{photo_message}")
            }),
        ),
    )
    .await;
    wait_for("the delete", || {
        app.telegram
            .messages_to(CUSTOMER)
            .into_iter()
            .find(|m| m.message_id == photo_message && m.deleted)
    })
    .await;

    app.wait_for_jobs("done", 8).await;
    assert_eq!(app.jobs_in_state("failed").await, 0);
}

/// `reply_parameters.message_id`, whether sent as JSON or inside a multipart form (as text).
fn reply_to(params: &Value) -> Option<i64> {
    let reply = &params["reply_parameters"];
    let reply = match reply {
        Value::String(text) => serde_json::from_str::<Value>(text).ok()?,
        other => other.clone(),
    };
    reply["message_id"].as_i64()
}

on_both_databases!(a_conversation_flows_both_ways);
