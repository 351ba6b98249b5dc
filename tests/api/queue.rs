//! The queue's own rules, on the real databases: large batches, dedupe, one job per lane at a
//! time in acceptance order, and a dead owner's lease running out.

use mgbridge::domain::AccountId;
use mgbridge::store::{JobKind, NewJob, Store};

use crate::helpers::{spawn_app_with, Db};
use crate::on_both_databases;

fn job(account: &AccountId, lane: &str, key: Option<String>) -> NewJob {
    NewJob {
        account_id: account.clone(),
        kind: JobKind::Telegram,
        lane: lane.to_owned(),
        dedupe_key: key,
        payload: "{}".to_owned(),
    }
}

/// A connected account with the service's own worker switched off, so the test alone claims.
async fn store_with_account(db: Db) -> (crate::helpers::TestApp, Store, AccountId) {
    let app = spawn_app_with(db, |s| s.queue.concurrency = 0).await;
    app.connect_fake_crm().await;
    let id: String = sqlx::query_scalar("SELECT account_id FROM account")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let store = app.store.clone();
    (app, store, AccountId::from_stored(id))
}

async fn a_large_batch_is_stored_whole_and_deduped(db: Db) {
    let (_app, store, account) = store_with_account(db).await;
    // Over one INSERT's worth of rows, with a key repeated inside the batch and one stored.
    let mut jobs: Vec<NewJob> = (0..450)
        .map(|n| job(&account, &format!("lane-{}", n % 7), Some(format!("k{n}"))))
        .collect();
    jobs.push(job(&account, "lane-0", Some("k3".into())));
    jobs.push(job(&account, "lane-0", None));
    assert_eq!(store.enqueue_jobs(&jobs).await.unwrap(), 451);
    let again = [
        job(&account, "lane-1", Some("k10".into())),
        job(&account, "lane-1", None),
    ];
    assert_eq!(store.enqueue_jobs(&again).await.unwrap(), 1);
    assert_eq!(store.queue_stats().await.unwrap().queued, 452);
}

async fn a_lane_runs_one_job_at_a_time_in_order(db: Db) {
    let (_app, store, account) = store_with_account(db).await;
    let jobs: Vec<NewJob> = (0..3)
        .flat_map(|n| {
            [
                job(&account, "a", Some(format!("a{n}"))),
                job(&account, "b", Some(format!("b{n}"))),
            ]
        })
        .collect();
    store.enqueue_jobs(&jobs).await.unwrap();
    store.renew_leases("me", 60_000).await.unwrap();
    let mut order = Vec::new();
    for _ in 0..3 {
        let claimed = store.claim_jobs("me", 60_000, 10).await.unwrap();
        // Each lane's head only, whatever the limit.
        let lanes: Vec<&str> = claimed.iter().map(|j| j.lane.as_str()).collect();
        assert_eq!(lanes, ["a", "b"]);
        assert!(store.claim_jobs("me", 60_000, 10).await.unwrap().is_empty());
        for job in &claimed {
            order.push(job.job_id);
            assert!(store.complete_job(job.job_id, "me").await.unwrap());
        }
    }
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "claimed in acceptance order");
    assert!(store.claim_jobs("me", 60_000, 10).await.unwrap().is_empty());
}

async fn a_dead_owners_leases_run_out(db: Db) {
    let (_app, store, account) = store_with_account(db).await;
    store
        .enqueue_jobs(&[job(&account, "a", None), job(&account, "a", None)])
        .await
        .unwrap();
    store.renew_leases("dead", 300).await.unwrap();
    let held = store.claim_jobs("dead", 300, 10).await.unwrap();
    assert_eq!(held.len(), 1);
    // Another owner gets nothing while the account and the job are leased...
    store.renew_leases("alive", 60_000).await.unwrap();
    assert!(store
        .claim_jobs("alive", 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    // ...and the same job, first in its lane, once the leases ran out.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    store.renew_leases("alive", 60_000).await.unwrap();
    let taken = store.claim_jobs("alive", 60_000, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].job_id, held[0].job_id);
    assert_eq!(taken[0].attempts, 2);
    // The dead owner's late answer changes nothing.
    assert!(!store.complete_job(held[0].job_id, "dead").await.unwrap());
}

on_both_databases!(
    a_large_batch_is_stored_whole_and_deduped,
    a_lane_runs_one_job_at_a_time_in_order,
    a_dead_owners_leases_run_out,
);
