//! A customer who blocks the bot: Telegram's `my_chat_member` (`kicked`, then `member` when
//! unblocked) or its 403 on a send marks the chat, and operators' messages to it are refused
//! `access_restricted` at once, without a call to Telegram, until the customer unblocks.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fake_telegram::TOKEN;
use crate::helpers::{spawn_bridge, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;
use mgbridge::store::ChannelId;

on_both_databases!(
    a_customer_who_blocks_the_bot_is_refused_at_once_until_unblocking,
    telegrams_403_blocks_the_chat_so_later_messages_do_not_try,
);

/// A private chat with a user id beyond 32 bits (its chat id is the user id).
const CHAT: i64 = 7_100_000_099;

/// Telegram telling the bot its status in the customer's private chat changed.
fn member_update(update_id: i64, old: &str, new: &str) -> Value {
    let bot = json!({"id": 1, "is_bot": true, "first_name": "Shop", "username": "shop_bot"});
    json!({"update_id": update_id, "my_chat_member": {
        "chat": {"id": CHAT, "type": "private", "first_name": "Ann"},
        "from": {"id": CHAT, "is_bot": false, "first_name": "Ann"},
        "date": 1_790_000_000,
        "old_chat_member": {"status": old, "user": bot},
        "new_chat_member": {"status": new, "user": bot, "until_date": 0},
    }})
}

/// An operator's text `id` to `CHAT`, as MG posts it.
fn operator_message(bridge: &Bridge, id: i64, text: &str) -> Value {
    json!({"type": "message_sent", "meta": {"timestamp": 1_790_000_000}, "data": {
        "id": id, "type": "text", "content": text,
        "channel_id": bridge.mg_channel_id,
        "external_chat_id": CHAT.to_string(),
        "external_user_id": CHAT.to_string(),
    }})
}

async fn post_update(app: &TestApp, bridge: &Bridge, update: &Value) {
    let answer = app.post_telegram_update(bridge, update).await;
    assert_eq!(answer.status(), StatusCode::OK, "{update}");
}

async fn post_operator(app: &TestApp, bridge: &Bridge, id: i64, text: &str) {
    let answer = app
        .post_mg_webhook(&bridge.client_id, &operator_message(bridge, id, text))
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
}

/// Every ack MG received for its message `id`, once there is one.
async fn acks_of(app: &TestApp, id: i64) -> Vec<Value> {
    wait_for(&format!("the ack of message {id}"), || {
        let acks: Vec<Value> = app
            .mg
            .requests_to(&Method::POST, "/messages/ack")
            .into_iter()
            .filter_map(|r| r.body)
            .filter(|body| body["message"]["id"] == json!(id))
            .collect();
        (!acks.is_empty()).then_some(acks)
    })
    .await
}

async fn wait_until_blocked(app: &TestApp, blocked: bool) {
    let id: String = sqlx::query_scalar("SELECT channel_id FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let channel = ChannelId::parse(&id).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app
        .store
        .is_chat_blocked(&channel, &CHAT.to_string())
        .await
        .unwrap()
        != blocked
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the chat never became blocked={blocked}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn a_customer_who_blocks_the_bot_is_refused_at_once_until_unblocking(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let webhook = app.telegram.webhook_of(TOKEN).unwrap();
    assert!(
        webhook
            .allowed_updates
            .iter()
            .any(|k| k == "my_chat_member"),
        "{:?}",
        webhook.allowed_updates
    );

    post_update(&app, &bridge, &member_update(1, "member", "kicked")).await;
    wait_until_blocked(&app, true).await;
    post_operator(&app, &bridge, 1, "are you there?").await;
    let acks = acks_of(&app, 1).await;
    assert_eq!(acks[0]["error"]["code"], "access_restricted", "{acks:?}");
    assert!(acks[0].get("transport_message_id").is_none());
    // Refused for good at once: no retry, and Telegram was never asked.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(acks_of(&app, 1).await.len(), 1);
    assert!(app.telegram.calls_to("sendMessage").is_empty());
    // The block is not a message: MG hears nothing of it.
    assert!(app.mg.requests_to(&Method::POST, "/messages").is_empty());

    post_update(&app, &bridge, &member_update(2, "kicked", "member")).await;
    wait_until_blocked(&app, false).await;
    post_operator(&app, &bridge, 2, "welcome back").await;
    let acks = acks_of(&app, 2).await;
    assert!(acks[0].get("error").is_none(), "{acks:?}");
    let sent = app.telegram.messages_to(CHAT);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text.as_deref(), Some("welcome back"));
}

async fn telegrams_403_blocks_the_chat_so_later_messages_do_not_try(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // Blocked before the bridge asked for `my_chat_member`: only Telegram's 403 tells.
    app.telegram.block_chat(CHAT);
    post_operator(&app, &bridge, 1, "hello").await;
    assert_eq!(
        acks_of(&app, 1).await[0]["error"]["code"],
        "access_restricted"
    );
    assert_eq!(app.telegram.calls_to("sendMessage").len(), 1);

    post_operator(&app, &bridge, 2, "hello again").await;
    assert_eq!(
        acks_of(&app, 2).await[0]["error"]["code"],
        "access_restricted"
    );
    assert_eq!(
        app.telegram.calls_to("sendMessage").len(),
        1,
        "the second message did not try Telegram"
    );
}
