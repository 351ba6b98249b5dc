//! Recovering from faults without a restart: a lane whose delivery this process no longer
//! works on is not held for ever, and a backlog that backed off while MG was down drains as
//! soon as MG answers again.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use mgbridge::domain::AccountId;
use mgbridge::domain::Direction;
use mgbridge::store::NewJob;

use crate::bridge::text_update;
use crate::helpers::{spawn_app_with, Db};
use crate::on_both_databases;

/// The heartbeat renews the lanes in flight, not every lane the owner once took: a lane held
/// by a delivery whose end could not be recorded (the database was away) runs out of lease
/// and is claimed again, where before it stayed held, its chat blocked, until a restart.
async fn a_held_lane_nobody_works_on_runs_out_of_lease(db: Db) {
    let app = spawn_app_with(db, |s| s.queue.concurrency = 0).await;
    app.connect_fake_crm().await;
    let account: String = sqlx::query_scalar("SELECT account_id FROM account")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let account = AccountId::from_stored(account);
    let job = |lane: &str| NewJob {
        account_id: account.clone(),
        direction: Direction::ToMg,
        lane: lane.to_owned(),
        dedupe_key: None,
        payload: "{}".to_owned(),
        warms: None,
    };
    let store = &app.store;
    store
        .enqueue_jobs(&[job("worked"), job("forgotten")])
        .await
        .unwrap();
    store.renew_leases("me", 300, &[]).await.unwrap();
    let due = store.due_accounts("me").await.unwrap();
    let held = store
        .claim_heads("me", 300, &[(due[0].clone(), 10)])
        .await
        .unwrap();
    assert_eq!(held.len(), 2);
    // Past the first lease, the heartbeat names only the lane still being worked on.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        store
            .renew_leases("me", 300, &["worked".to_owned()])
            .await
            .unwrap();
    }
    let due = store.due_accounts("me").await.unwrap();
    let again = store
        .claim_heads("me", 300, &[(due[0].clone(), 10)])
        .await
        .unwrap();
    let lanes: Vec<&str> = again.iter().map(|j| j.lane.as_str()).collect();
    assert_eq!(
        lanes,
        ["forgotten"],
        "only the forgotten lane is free again"
    );
    assert_eq!(again[0].attempts, 2);
}

/// Four chats back off while MG refuses their messages; MG then takes a fifth chat's message,
/// and the four follow at once instead of each waiting out its own backoff (1–10 s here).
async fn a_backlog_drains_at_once_when_mg_answers_again(db: Db) {
    let app = spawn_app_with(db, |s| {
        s.queue.retry_base_ms = 10_000;
        s.queue.retry_max_ms = 60_000;
    })
    .await;
    let bridge = app.connect_with_bot().await;
    let chats: [i64; 5] = [
        6_100_000_001,
        6_100_000_002,
        6_100_000_003,
        6_100_000_004,
        6_100_000_005,
    ];
    app.mg.fail_next_on("/messages", 4, 503);
    for (n, chat) in chats[..4].iter().enumerate() {
        let update = text_update(10 + n as i64, *chat, 1, &format!("waiting {n}"));
        assert_eq!(
            app.post_telegram_update(&bridge, &update).await.status(),
            StatusCode::OK
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let backed_off: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM job WHERE state = 'queued' AND last_error IS NOT NULL",
        )
        .fetch_one(app.store.pool())
        .await
        .unwrap();
        if backed_off == 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the four messages never failed once"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let back = Instant::now();
    let update = text_update(20, chats[4], 1, "MG is back");
    assert_eq!(
        app.post_telegram_update(&bridge, &update).await.status(),
        StatusCode::OK
    );
    while app.mg.messages().len() < 5 {
        assert!(
            Instant::now() < deadline,
            "the backlog did not drain: {} of 5 at MG",
            app.mg.messages().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained = back.elapsed();
    eprintln!("backlog of 4 drained {drained:?} after MG answered again");
    assert!(
        drained < Duration::from_secs(2),
        "the backed-off lanes waited out their backoff: {drained:?}"
    );
    assert_eq!(app.mg.messages().len(), 5, "nothing doubled");
}

on_both_databases!(
    a_held_lane_nobody_works_on_runs_out_of_lease,
    a_backlog_drains_at_once_when_mg_answers_again,
);
