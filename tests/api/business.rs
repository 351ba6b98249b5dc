//! Telegram Business, end to end: a business account connecting the bot becomes an MG channel
//! of its own; its customers' messages reach that channel with the 24-hour reply deadline, the
//! owner's own messages arrive as the channel's, operators' replies leave with the
//! connection's id, deletes follow, and switching the connection off deactivates the channel
//! (on again: the same one).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_bridge, wait_for, Bridge, Db, TestApp};
use crate::on_both_databases;

on_both_databases!(
    a_business_account_becomes_a_channel_of_its_own,
    switching_the_connection_off_deactivates_its_channel,
    an_unknown_connection_is_repeated_not_lost,
);

const CONNECTION: &str = "BCI-7kq2xA";
const OWNER: i64 = 5_500_000_001;
const CUSTOMER: i64 = 6_600_000_002;

fn connection(update_id: i64, enabled: bool, can_reply: bool) -> Value {
    json!({"update_id": update_id, "business_connection": {
        "id": CONNECTION,
        "user": {"id": OWNER, "is_bot": false, "first_name": "Olga", "username": "olga_flowers"},
        "user_chat_id": OWNER, "date": 1_790_000_000,
        "rights": {"can_reply": can_reply, "can_read_messages": true},
        "is_enabled": enabled
    }})
}

fn business_message(update_id: i64, message_id: i64, from: i64, text: &str) -> Value {
    json!({"update_id": update_id, "business_message": {
        "message_id": message_id, "business_connection_id": CONNECTION,
        "from": {"id": from, "is_bot": false, "first_name": if from == OWNER { "Olga" } else { "Ivan" }},
        "chat": {"id": CUSTOMER, "type": "private", "first_name": "Ivan"},
        "date": 1_790_000_100 + message_id, "text": text
    }})
}

async fn post(app: &TestApp, bridge: &Bridge, update: &Value) -> StatusCode {
    app.post_telegram_update(bridge, update).await.status()
}

/// The business account's MG channel (not the bot's).
fn business_channel(app: &TestApp, bridge: &Bridge) -> crate::fake_mg::FakeChannel {
    app.mg
        .channels()
        .into_iter()
        .find(|c| c.id != bridge.mg_channel_id)
        .expect("a second MG channel")
}

async fn a_business_account_becomes_a_channel_of_its_own(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // Adding the bot asked Telegram for the business updates.
    let webhook = app
        .telegram
        .webhook_of(crate::fake_telegram::TOKEN)
        .unwrap();
    for kind in [
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
    ] {
        assert!(webhook.allowed_updates.contains(&kind.to_owned()), "{kind}");
    }
    assert_eq!(
        post(&app, &bridge, &connection(1, true, true)).await,
        StatusCode::OK
    );
    let channel = business_channel(&app, &bridge);
    assert!(channel.is_active);
    assert_eq!(channel.r#type, "telegram");
    assert_eq!(channel.name.as_deref(), Some("@olga_flowers"));

    // A customer writes to the business account.
    assert_eq!(
        post(
            &app,
            &bridge,
            &business_message(2, 10, CUSTOMER, "Do you deliver?")
        )
        .await,
        StatusCode::OK
    );
    // The owner answers from their phone.
    assert_eq!(
        post(&app, &bridge, &business_message(3, 11, OWNER, "Yes, today")).await,
        StatusCode::OK
    );
    let sent: Vec<Value> = wait_for("both messages at MG", || {
        let sent: Vec<Value> = app
            .mg
            .requests_to(&Method::POST, "/messages")
            .into_iter()
            .filter_map(|r| r.body)
            .collect();
        (sent.len() >= 2).then_some(sent)
    })
    .await;
    assert_eq!(
        sent[0]["channel"],
        json!(channel.id),
        "on the business channel"
    );
    assert_eq!(sent[0]["message"]["text"], json!("Do you deliver?"));
    assert_eq!(
        sent[0]["customer"]["external_id"],
        json!(CUSTOMER.to_string())
    );
    assert!(sent[0].get("originator").is_none());
    let deadline = sent[0]["reply_deadline"]
        .as_str()
        .expect("a reply deadline");
    let deadline =
        time::OffsetDateTime::parse(deadline, &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert_eq!(deadline.unix_timestamp(), 1_790_000_110 + 24 * 3600);
    // The owner's message is the channel's, filed under the customer's chat.
    assert_eq!(sent[1]["originator"], json!("channel"));
    assert_eq!(
        sent[1]["customer"]["external_id"],
        json!(CUSTOMER.to_string())
    );
    assert!(sent[1].get("reply_deadline").is_none());

    // An operator replies on the business channel: it leaves with the connection's id.
    let reply = json!({"type": "message_sent", "meta": {"timestamp": 1_790_000_200}, "data": {
        "id": 77, "channel_id": channel.id, "external_chat_id": CUSTOMER.to_string(),
        "external_user_id": CUSTOMER.to_string(), "type": "text", "content": "Delivered by 6 pm"}});
    assert_eq!(
        app.post_mg_webhook(&bridge.client_id, &reply)
            .await
            .status(),
        StatusCode::OK
    );
    let call = wait_for("the reply at Telegram", || {
        app.telegram.last_call_to("sendMessage")
    })
    .await;
    assert_eq!(call.params["business_connection_id"], json!(CONNECTION));
    assert_eq!(call.params["chat_id"], json!(CUSTOMER));
    let ack = wait_for("the ack", || {
        app.mg
            .requests_to(&Method::POST, "/messages/ack")
            .into_iter()
            .filter_map(|r| r.body)
            .find(|b| b["message"]["id"] == json!(77))
    })
    .await;
    assert!(ack.get("error").is_none(), "{ack}");

    // The customer deletes a message: MG deletes it.
    let deleted = json!({"update_id": 4, "deleted_business_messages": {
        "business_connection_id": CONNECTION,
        "chat": {"id": CUSTOMER, "type": "private"}, "message_ids": [10]}});
    assert_eq!(post(&app, &bridge, &deleted).await, StatusCode::OK);
    let delete = wait_for("the delete at MG", || {
        app.mg
            .requests_to(&Method::DELETE, "/messages")
            .into_iter()
            .find_map(|r| r.body)
    })
    .await;
    assert_eq!(delete["channel"], json!(channel.id));
    assert_eq!(
        delete["message"]["external_id"],
        json!(format!("{CUSTOMER}:10"))
    );

    // The operator read the customer's message: Telegram marks it read for the connection.
    let read = json!({"type": "message_read", "meta": {"timestamp": 1_790_000_300}, "data": {
        "channel_id": channel.id, "external_chat_id": CUSTOMER.to_string(),
        "external_user_id": CUSTOMER.to_string(), "external_message_id": format!("{CUSTOMER}:10")}});
    assert_eq!(
        app.post_mg_webhook(&bridge.client_id, &read).await.status(),
        StatusCode::OK
    );
    let call = wait_for("the read mark", || {
        app.telegram.last_call_to("readBusinessMessage")
    })
    .await;
    assert_eq!(call.params["business_connection_id"], json!(CONNECTION));
    assert_eq!(call.params["message_id"], json!(10));

    // The settings page lists the account.
    let html = app.settings_html(&bridge.client_id).await;
    assert!(html.contains(r#"data-name="@olga_flowers""#), "{html}");

    // Removing the bot takes its business accounts' channels with it.
    let bot_channel: String =
        sqlx::query_scalar("SELECT channel_id FROM channel WHERE business_connection_id IS NULL")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let page = app.remove_bot(&bridge.client_id, &bot_channel).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert!(!business_channel(&app, &bridge).is_active);
}

async fn switching_the_connection_off_deactivates_its_channel(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    assert_eq!(
        post(&app, &bridge, &connection(1, true, true)).await,
        StatusCode::OK
    );
    let first = business_channel(&app, &bridge);
    assert_eq!(
        post(&app, &bridge, &connection(2, false, true)).await,
        StatusCode::OK
    );
    assert!(
        !business_channel(&app, &bridge).is_active,
        "off: deactivated"
    );
    // A message of a switched-off connection is not carried.
    assert_eq!(
        post(&app, &bridge, &business_message(3, 10, CUSTOMER, "hello?")).await,
        StatusCode::OK
    );
    // On again: the same MG channel, active.
    assert_eq!(
        post(&app, &bridge, &connection(4, true, true)).await,
        StatusCode::OK
    );
    let again = business_channel(&app, &bridge);
    assert_eq!(again.id, first.id);
    assert!(again.is_active);
    // Rights without reply: deactivated too.
    assert_eq!(
        post(&app, &bridge, &connection(5, true, false)).await,
        StatusCode::OK
    );
    assert!(
        !business_channel(&app, &bridge).is_active,
        "no can_reply: deactivated"
    );
    let sent = app.mg.requests_to(&Method::POST, "/messages");
    assert!(
        sent.is_empty(),
        "nothing of the switched-off time reached MG"
    );
}

async fn an_unknown_connection_is_repeated_not_lost(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // Its connection update has not arrived yet: 503, so Telegram repeats the message.
    let message = business_message(2, 10, CUSTOMER, "first!");
    assert_eq!(
        post(&app, &bridge, &message).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        post(&app, &bridge, &connection(1, true, true)).await,
        StatusCode::OK
    );
    assert_eq!(post(&app, &bridge, &message).await, StatusCode::OK);
    wait_for("the message at MG", || {
        app.mg
            .messages()
            .iter()
            .any(|m| m.text.as_deref() == Some("first!"))
            .then_some(())
    })
    .await;
}
