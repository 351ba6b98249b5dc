//! What the queue keeps of people's messages, and for how long: a delivered job keeps no words,
//! a failed one keeps them for the operator, sent-part records expire with the jobs, and job ids
//! stored before the id epoch moved (migration 0005) keep their order.

use reqwest::StatusCode;
use sqlx::Row;

use mgbridge::crypto::{Cipher, MasterKey};
use mgbridge::domain::AccountId;
use mgbridge::domain::Direction;
use mgbridge::store::{NewJob, SentPart, Store};

use crate::bridge::text_update;
use crate::database::TestDatabase;
use crate::helpers::{spawn_bridge, wait_for, Db};
use crate::on_both_databases;

on_both_databases!(
    a_delivered_jobs_words_are_removed_and_its_dedupe_stays,
    a_failed_job_keeps_its_words,
    sent_parts_expire_with_the_finished_jobs,
    stored_job_ids_keep_their_order_through_migration_0005,
);

const CHAT: i64 = 4_200_000_077;
const WORDS: &str = "my card ends 4242, call me at +1 555 0100";

async fn payloads(store: &Store, state: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT payload FROM job WHERE state = $1")
        .bind(state)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

async fn a_delivered_jobs_words_are_removed_and_its_dedupe_stays(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    let update = text_update(1, CHAT, 10, WORDS);
    let answer = app.post_telegram_update(&bridge, &update).await;
    assert_eq!(answer.status(), StatusCode::OK);
    app.wait_for_jobs("done", 1).await;
    assert_eq!(app.mg.messages().len(), 1);

    assert_eq!(payloads(&app.store, "done").await, [""]);
    let kept: (Option<String>, String) =
        sqlx::query_as("SELECT dedupe_key, lane FROM job WHERE state = 'done'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert!(kept.0.is_some_and(|k| k.ends_with(":1")), "dedupe key kept");
    assert!(!kept.1.is_empty(), "lane kept");

    // Telegram repeats the update: still recognised, nothing queued, nothing sent again.
    let answer = app.post_telegram_update(&bridge, &update).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let next = text_update(2, CHAT, 11, "next");
    app.post_telegram_update(&bridge, &next).await;
    app.wait_for_jobs("done", 2).await;
    let texts: Vec<String> = app
        .mg
        .messages()
        .into_iter()
        .map(|m| m.text.unwrap_or_default())
        .collect();
    assert_eq!(texts, [WORDS, "next"]);
    assert_eq!(payloads(&app.store, "done").await, ["", ""]);
}

async fn a_failed_job_keeps_its_words(db: Db) {
    let (app, bridge) = spawn_bridge(db).await;
    // MG refuses it for good: reported, and kept whole for whoever looks into it.
    app.mg.fail_next_on("/messages", 1, 400);
    app.post_telegram_update(&bridge, &text_update(1, CHAT, 1, WORDS))
        .await;
    app.wait_for_jobs("failed", 1).await;
    let failed = payloads(&app.store, "failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0].contains(WORDS), "{}", failed[0]);

    // A job waiting for a retry keeps its words too, and they reach MG when it is retried.
    app.mg.fail_next_on("/messages", 1, 503);
    app.post_telegram_update(&bridge, &text_update(2, CHAT, 2, "retried words"))
        .await;
    wait_for("the retried message at MG", || {
        app.mg
            .messages()
            .iter()
            .any(|m| m.text.as_deref() == Some("retried words"))
            .then_some(())
    })
    .await;
    app.wait_for_jobs("done", 1).await;
    assert_eq!(payloads(&app.store, "done").await, [""]);
}

async fn sent_parts_expire_with_the_finished_jobs(db: Db) {
    let (app, _bridge) = spawn_bridge(db).await;
    let channel: String = sqlx::query_scalar("SELECT channel_id FROM channel")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let channel = mgbridge::store::ChannelId::parse(&channel).unwrap();
    let part = |n: i64| SentPart {
        part: n,
        chat_id: CHAT.to_string(),
        message_id: (100 + n).to_string(),
    };
    app.store
        .record_sent_part(&channel, 7, &part(0))
        .await
        .unwrap();
    app.store
        .record_sent_part(&channel, 7, &part(1))
        .await
        .unwrap();
    app.store
        .record_sent_part(&channel, 8, &part(0))
        .await
        .unwrap();
    // Message 7 was sent three days ago; the window is two.
    let three_days_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 3 * 86_400;
    sqlx::query("UPDATE sent_part SET created_at = $1 WHERE mg_message_id = 7")
        .bind(three_days_ago)
        .execute(app.store.pool())
        .await
        .unwrap();

    app.store
        .delete_finished_jobs(48 * 3_600_000, 7 * 86_400_000)
        .await
        .unwrap();

    assert!(app.store.sent_parts(&channel, 7).await.unwrap().is_empty());
    assert_eq!(app.store.sent_parts(&channel, 8).await.unwrap(), [part(0)]);
}

/// An id in the old form: unix microseconds shifted left 12 bits, plus a tag.
fn old_style_id(unix_micros: i64, tag: i64) -> i64 {
    (unix_micros << 12) | tag
}

async fn stored_job_ids_keep_their_order_through_migration_0005(db: Db) {
    let admin = std::env::var("MGBRIDGE_TEST_POSTGRES_URL").unwrap_or_default();
    if db == Db::Postgres && admin.is_empty() {
        panic!("MGBRIDGE_TEST_POSTGRES_URL is not set");
    }
    let database = TestDatabase::create(db, &admin, "mgbridge_migrate").await;
    let cipher = Cipher::new(&MasterKey::generate());
    let store = Store::connect(&database.url, 2, cipher).await.unwrap();

    // The schema as a release before 0004 left it: the first three migrations, byte for byte.
    let old = tempfile::tempdir().unwrap();
    for name in ["0001_accounts.sql", "0002_channels.sql", "0003_queue.sql"] {
        std::fs::copy(
            format!("{}/migrations/{name}", env!("CARGO_MANIFEST_DIR")),
            old.path().join(name),
        )
        .unwrap();
    }
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(store.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO account (account_id, client_id_hash, client_id_enc, crm_url, api_key_enc, \
         mg_endpoint_url, mg_token_enc, created_at, updated_at) \
         VALUES ('acc1', 'h', 'x', 'https://acme.retailcrm.ru', 'x', 'https://mg.example', 'x', 0, 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    // Two queued jobs of one lane, accepted in January and June 2026 by different processes, and a done
    // one whose dedupe key must keep working.
    let micros_2026 = 1_767_225_600_000_000; // 2026-01-01
    let micros_june = 1_780_272_000_000_000; // 2026-06-01
    let stored = [
        (old_style_id(micros_2026, 4095), "queued", Some("k1")),
        (old_style_id(micros_2026 + 1, 0), "done", Some("k2")),
        (old_style_id(micros_june, 7), "queued", None),
    ];
    for (id, state, key) in stored {
        sqlx::query(
            "INSERT INTO job (job_id, account_id, kind, lane, dedupe_key, payload, run_at, state, created_at) \
             VALUES ($1, 'acc1', 'telegram', 'lane-a', $2, $3, 0, $4, 0)",
        )
        .bind(id)
        .bind(key)
        .bind(format!("job {id}"))
        .bind(state)
        .execute(store.pool())
        .await
        .unwrap();
    }

    store.migrate().await.expect("0004 and 0005 run");

    let shift = 1_735_689_600_000_000_i64 << 12; // 2025-01-01, as next_job_id counts now
    let rows = sqlx::query("SELECT job_id, payload FROM job ORDER BY job_id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let ids: Vec<(i64, String)> = rows
        .iter()
        .map(|r| (r.get("job_id"), r.get("payload")))
        .collect();
    let expected: Vec<(i64, String)> = stored
        .iter()
        .map(|(id, _, _)| (id - shift, format!("job {id}")))
        .collect();
    assert_eq!(ids, expected);
    let head: i64 = sqlx::query_scalar("SELECT head_job_id FROM lane WHERE lane = 'lane-a'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        head,
        stored[0].0 - shift,
        "the lane's head moved with its job"
    );

    // New jobs go after the stored ones, and the stored dedupe key still holds.
    let account = AccountId::from_stored("acc1".to_owned());
    let new_job = |key: &str| NewJob {
        account_id: account.clone(),
        direction: Direction::ToMg,
        lane: "lane-a".into(),
        dedupe_key: Some(key.into()),
        payload: format!("new {key}"),
        warms: None,
    };
    assert_eq!(
        store
            .enqueue_jobs(&[new_job("k2"), new_job("k3")])
            .await
            .unwrap(),
        1
    );
    let mut delivered = Vec::new();
    for _ in 0..3 {
        store.take_leases("me", 60_000).await.unwrap();
        let due = store.due_accounts("me").await.unwrap();
        let wants: Vec<(AccountId, usize)> = due.into_iter().map(|a| (a, 4)).collect();
        let jobs = store.claim_heads("me", 60_000, &wants).await.unwrap();
        assert_eq!(jobs.len(), 1, "one head at a time: {jobs:?}");
        delivered.push(jobs[0].payload.clone());
        assert!(store.complete_job(jobs[0].job_id, "me").await.unwrap());
    }
    assert_eq!(
        delivered,
        [
            format!("job {}", stored[0].0),
            format!("job {}", stored[2].0),
            "new k3".to_owned()
        ]
    );
    store.close().await;
}
