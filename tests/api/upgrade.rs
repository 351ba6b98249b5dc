//! A database the Telegram-only versions wrote keeps working after the messenger seam's
//! migration (0007: channels and sent parts with a messenger kind and text ids, jobs named by
//! direction). The rows are made by the service, put back into the old shape the migrations
//! before 0007 left, and the service is started again on them: it migrates, delivers the jobs
//! that waited, finds the parts of an operator's message, and takes the bot's webhook. The
//! later migrations that reshaped `channel` again (0010) are undone with it and run again.

use reqwest::StatusCode;
use serde_json::json;

use crate::bridge::text_update;
use crate::fake_telegram::BOT_ID;
use crate::helpers::{spawn_app_with, wait_for, Db};
use crate::on_both_databases;
use mgbridge::domain::MessengerKind;
use mgbridge::store::SentPart;

on_both_databases!(rows_from_before_the_messenger_seam_keep_working);

const CHAT: i64 = 7_100_000_055;

/// The tables as migrations 0002–0006 left them, with the rows converted back, and 0007 not
/// applied yet.
const BACK_TO_0006: &str = "
CREATE TABLE channel_old (
    channel_id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES account (account_id),
    bot_id BIGINT NOT NULL, bot_username TEXT NOT NULL, bot_token_enc TEXT NOT NULL,
    webhook_key TEXT NOT NULL UNIQUE, webhook_secret_enc TEXT NOT NULL,
    mg_channel_id BIGINT NOT NULL, settings_hash TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
    UNIQUE (account_id, bot_id));
INSERT INTO channel_old SELECT channel_id, account_id, CAST(bot_id AS BIGINT), bot_username,
    bot_token_enc, webhook_key, webhook_secret_enc, mg_channel_id, settings_hash, active,
    created_at, updated_at FROM channel;
CREATE TABLE sent_part_old (
    channel_id TEXT NOT NULL REFERENCES channel_old (channel_id), mg_message_id BIGINT NOT NULL,
    part BIGINT NOT NULL, chat_id BIGINT NOT NULL, tg_message_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL, PRIMARY KEY (channel_id, mg_message_id, part));
INSERT INTO sent_part_old SELECT channel_id, mg_message_id, part, CAST(chat_id AS BIGINT),
    CAST(message_id AS BIGINT), created_at FROM sent_part;
DROP TABLE sent_part;
DROP TABLE channel;
ALTER TABLE channel_old RENAME TO channel;
ALTER TABLE sent_part_old RENAME TO sent_part;
CREATE UNIQUE INDEX channel_active_bot ON channel (bot_id) WHERE active = 1;
CREATE INDEX sent_part_by_tg ON sent_part (channel_id, chat_id, tg_message_id);
CREATE INDEX sent_part_created ON sent_part (created_at);
UPDATE job SET kind = 'telegram' WHERE kind = 'to_mg';
UPDATE job SET kind = 'mg' WHERE kind = 'to_messenger';
DELETE FROM _sqlx_migrations WHERE version = 7;
DROP TABLE business_connection;
DELETE FROM _sqlx_migrations WHERE version = 10;
";

async fn rows_from_before_the_messenger_seam_keep_working(db: Db) {
    // The first service only accepts: its jobs wait for the upgraded one.
    let mut app = spawn_app_with(db, |s| s.queue.concurrency = 0).await;
    let bridge = app.connect_with_bot().await;
    let channel = app.store.list_active_channels().await.unwrap()[0]
        .id
        .clone();
    // An operator's message 9 went out earlier in two Telegram messages, 555 and 556.
    for (part, message_id) in [(0, "555"), (1, "556")] {
        let record = SentPart {
            part,
            chat_id: CHAT.to_string(),
            message_id: message_id.into(),
        };
        app.store
            .record_sent_part(&channel, 9, &record)
            .await
            .unwrap();
    }
    let customer = text_update(41, CHAT, 70, "waited for the upgrade");
    assert_eq!(
        app.post_telegram_update(&bridge, &customer).await.status(),
        StatusCode::OK
    );
    let deleted = json!({"type": "message_deleted", "meta": {"timestamp": 1_790_000_000},
        "data": {"channel_id": bridge.mg_channel_id, "external_chat_id": CHAT.to_string(),
                 "external_message_id": format!("{CHAT}:555"), "id": 9}});
    assert_eq!(
        app.post_mg_webhook(&bridge.client_id, &deleted)
            .await
            .status(),
        StatusCode::OK
    );

    sqlx::raw_sql(BACK_TO_0006)
        .execute(app.store.pool())
        .await
        .unwrap();
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM job ORDER BY kind")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert_eq!(kinds, ["mg", "telegram"], "the jobs are in the old shape");

    // The upgraded service on the same database.
    // It migrates on start.
    let upgraded = app.second_instance(db).await;
    app.address = format!("http://{}", upgraded.local_addr());
    let store = upgraded.store();
    tokio::spawn(upgraded.run_until_stopped(std::future::pending()));

    wait_for("the waiting customer message at MG", || {
        app.mg
            .messages()
            .iter()
            .any(|m| m.text.as_deref() == Some("waited for the upgrade"))
            .then_some(())
    })
    .await;
    wait_for("both parts of message 9 deleted", || {
        let mut ids: Vec<i64> = app
            .telegram
            .calls_to("deleteMessage")
            .iter()
            .filter_map(|c| c.params["message_id"].as_i64())
            .collect();
        ids.sort_unstable();
        (ids == [555, 556]).then_some(())
    })
    .await;
    let channels = store.list_active_channels().await.unwrap();
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0].messenger, MessengerKind::Telegram);
    assert_eq!(channels[0].bot_id, BOT_ID.to_string());

    // The bot's webhook address and secret still hold.
    let next = text_update(42, CHAT, 71, "after the upgrade");
    assert_eq!(
        app.post_telegram_update(&bridge, &next).await.status(),
        StatusCode::OK
    );
    wait_for("a new customer message at MG", || {
        app.mg
            .messages()
            .iter()
            .any(|m| m.text.as_deref() == Some("after the upgrade"))
            .then_some(())
    })
    .await;
    // MG has the message a moment before its job is marked done: wait for the record.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job WHERE state = 'done'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        if done == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{done} jobs done, not 3"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
