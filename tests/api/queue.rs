//! The queue's own rules, on the real databases: large batches, dedupe, one job per lane at a
//! time in acceptance order, and a dead owner's lease running out.

use mgbridge::domain::AccountId;
use mgbridge::domain::Direction;
use mgbridge::store::{ClaimedJob, NewJob, Store};

use crate::helpers::{spawn_app_with, Db};
use crate::on_both_databases;

fn job(account: &AccountId, lane: &str, key: Option<String>) -> NewJob {
    NewJob {
        account_id: account.clone(),
        direction: Direction::ToMg,
        lane: lane.to_owned(),
        dedupe_key: key,
        payload: "{}".to_owned(),
        warms: None,
    }
}

/// What one scheduler round gives `owner`: up to `n` heads of each of its due accounts.
async fn claim(store: &Store, owner: &str, lease_ms: i64, n: usize) -> Vec<ClaimedJob> {
    let due = store.due_accounts(owner).await.unwrap();
    let wants: Vec<(AccountId, usize)> = due.into_iter().map(|a| (a, n)).collect();
    store.claim_heads(owner, lease_ms, &wants).await.unwrap()
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
    assert_eq!(store.queue_stats().await.unwrap().queued_total(), 452);
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
    store.renew_leases("me", 60_000, &[]).await.unwrap();
    let mut order = Vec::new();
    for _ in 0..3 {
        let claimed = claim(&store, "me", 60_000, 10).await;
        // Each lane's head only, whatever the limit.
        let lanes: Vec<&str> = claimed.iter().map(|j| j.lane.as_str()).collect();
        assert_eq!(lanes, ["a", "b"]);
        assert!(claim(&store, "me", 60_000, 10).await.is_empty());
        for job in &claimed {
            order.push(job.job_id);
            assert!(store.complete_job(job.job_id, "me").await.unwrap());
        }
    }
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "claimed in acceptance order");
    assert!(claim(&store, "me", 60_000, 10).await.is_empty());
}

async fn a_dead_owners_leases_run_out(db: Db) {
    let (_app, store, account) = store_with_account(db).await;
    store
        .enqueue_jobs(&[job(&account, "a", None), job(&account, "a", None)])
        .await
        .unwrap();
    store.renew_leases("dead", 300, &[]).await.unwrap();
    let held = claim(&store, "dead", 300, 10).await;
    assert_eq!(held.len(), 1);
    // Another owner gets nothing while the account and the job are leased...
    store.renew_leases("alive", 60_000, &[]).await.unwrap();
    assert!(claim(&store, "alive", 60_000, 10).await.is_empty());
    // ...and the same job, first in its lane, once the leases ran out.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    store.renew_leases("alive", 60_000, &[]).await.unwrap();
    let taken = claim(&store, "alive", 60_000, 10).await;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].job_id, held[0].job_id);
    assert_eq!(taken[0].attempts, 2);
    // The dead owner's late answer changes nothing.
    assert!(!store.complete_job(held[0].job_id, "dead").await.unwrap());
}

fn to_telegram(account: &AccountId, lane: &str) -> NewJob {
    NewJob {
        direction: Direction::ToMessenger,
        ..job(account, lane, None)
    }
}

async fn customers_then_warm_replies_then_cold_sends(db: Db) {
    let (_app, store, account) = store_with_account(db).await;
    // A mailing queued first, into cold chats.
    let mailing: Vec<NewJob> = (0..20)
        .map(|n| to_telegram(&account, &format!("mg:1:{n}")))
        .collect();
    store.enqueue_jobs(&mailing).await.unwrap();
    // A customer writes in chat 7 (its reply lane becomes warm), then the operator replies
    // there and into a cold chat.
    let customer = NewJob {
        warms: Some("mg:1:700".to_owned()),
        ..job(&account, "tg:c:700", None)
    };
    store.enqueue_jobs(&[customer]).await.unwrap();
    store
        .enqueue_jobs(&[
            to_telegram(&account, "mg:1:700"),
            to_telegram(&account, "mg:1:900"),
        ])
        .await
        .unwrap();
    store.renew_leases("me", 60_000, &[]).await.unwrap();
    let lanes: Vec<String> = claim(&store, "me", 60_000, 3)
        .await
        .into_iter()
        .map(|j| j.lane)
        .collect();
    // The customer's message, the warm reply, then the oldest of the cold sends.
    assert_eq!(lanes, ["tg:c:700", "mg:1:700", "mg:1:0"]);
}

async fn a_retried_head_waits_and_its_account_is_not_due_meanwhile(db: Db) {
    let (_app, store, account) = store_with_account(db).await;
    store
        .enqueue_jobs(&[job(&account, "a", None), job(&account, "a", None)])
        .await
        .unwrap();
    store.renew_leases("me", 60_000, &[]).await.unwrap();
    let held = claim(&store, "me", 60_000, 10).await;
    assert_eq!(held.len(), 1);
    assert!(store
        .retry_job(held[0].job_id, "me", 300, "MG is down")
        .await
        .unwrap());
    // Neither the head nor the job behind it runs before the backoff ends...
    assert!(claim(&store, "me", 60_000, 10).await.is_empty());
    assert!(store.due_accounts("me").await.unwrap().is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    // ...and then the same head comes back first.
    let again = claim(&store, "me", 60_000, 10).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].job_id, held[0].job_id);
    assert_eq!(again[0].attempts, 2);
}

/// A retry settling while a claim round finds its lane still held: whichever commits first,
/// the account stays due for the retried head. (A retry that found the bound already low
/// once left it unlocked, a claim raised it to the old lease's end, and the chat stopped.)
async fn a_retry_racing_a_claim_keeps_its_account_due(db: Db) {
    let (_app, store, account) = store_with_account(db).await;
    store.renew_leases("me", 60_000, &[]).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
    let mut rounds = 0;
    while rounds < 20 || (rounds < 300 && std::time::Instant::now() < deadline) {
        rounds += 1;
        let lane = format!("chat-{rounds}");
        store
            .enqueue_jobs(&[job(&account, &lane, None)])
            .await
            .unwrap();
        store.take_leases("me", 60_000).await.unwrap();
        let held = claim(&store, "me", 60_000, 10).await;
        assert_eq!(held.len(), 1, "round {rounds}");
        // A message behind the one in flight lowers the account's bound to now.
        store
            .enqueue_jobs(&[job(&account, &lane, None)])
            .await
            .unwrap();
        let (retried, claimed) = tokio::join!(
            store.retry_job(held[0].job_id, "me", 0, "MG is down"),
            claim(&store, "me", 60_000, 10),
        );
        assert!(retried.unwrap());
        let mut got = claimed;
        if got.is_empty() {
            assert!(
                store.due_accounts("me").await.unwrap().contains(&account),
                "round {rounds}: the retried head is due, its account is not"
            );
            got = claim(&store, "me", 60_000, 10).await;
        }
        assert_eq!(got.len(), 1, "round {rounds}");
        assert_eq!(got[0].job_id, held[0].job_id);
        // Finish the lane so the next round starts from an idle account.
        assert!(store.complete_job(got[0].job_id, "me").await.unwrap());
        let next = claim(&store, "me", 60_000, 10).await;
        assert_eq!(next.len(), 1, "round {rounds}");
        assert!(store.complete_job(next[0].job_id, "me").await.unwrap());
    }
}

on_both_databases!(
    customers_then_warm_replies_then_cold_sends,
    a_retried_head_waits_and_its_account_is_not_due_meanwhile,
    a_retry_racing_a_claim_keeps_its_account_due,
    a_large_batch_is_stored_whole_and_deduped,
    a_lane_runs_one_job_at_a_time_in_order,
    a_dead_owners_leases_run_out,
    giving_leases_back_makes_due_only_accounts_with_work_in_flight,
    queue_depth_is_counted_per_direction,
);

/// A restart after a graceful stop must not start with a claim round over every account that
/// worked lately: only an account whose lane was held when the leases were given back is due.
async fn giving_leases_back_makes_due_only_accounts_with_work_in_flight(db: Db) {
    let (_app, store, account) = store_with_account(db).await;
    let due_at = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT due_at FROM account_queue")
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    store
        .enqueue_jobs(&[job(&account, "a", None)])
        .await
        .unwrap();
    store.renew_leases("me", 60_000, &[]).await.unwrap();
    let done = claim(&store, "me", 60_000, 10).await;
    assert!(store.complete_job(done[0].job_id, "me").await.unwrap());
    // Nothing in flight: the account is not due after the leases are given back.
    store.release_leases("me").await.unwrap();
    let after = due_at().await;
    assert!(
        after.is_none_or(|t| t > mgbridge::store::now_ms() + 30_000),
        "{after:?}"
    );
    // A job in flight: its account is due at once, and the next owner takes the job up.
    store
        .enqueue_jobs(&[job(&account, "b", None)])
        .await
        .unwrap();
    store.renew_leases("me", 60_000, &[]).await.unwrap();
    let held = claim(&store, "me", 60_000, 10).await;
    assert_eq!(held.len(), 1);
    store.release_leases("me").await.unwrap();
    assert!(due_at()
        .await
        .is_some_and(|t| t <= mgbridge::store::now_ms()));
    store.take_leases("next", 60_000).await.unwrap();
    let taken = claim(&store, "next", 60_000, 10).await;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].job_id, held[0].job_id);
}

/// `/metrics` reads the depth per direction from the stored job kinds.
async fn queue_depth_is_counted_per_direction(db: Db) {
    let (_app, store, account) = store_with_account(db).await;
    let mut jobs = vec![job(&account, "tg:c:1", None)];
    for n in 0..2 {
        let mut reply = job(&account, &format!("mg:1:{n}"), None);
        reply.direction = Direction::ToMessenger;
        jobs.push(reply);
    }
    store.enqueue_jobs(&jobs).await.unwrap();
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(stats.queued, [1, 2], "to MG, to the messenger");
}
