//! Scenario 3, claim: the cost of claiming work as the queue grows (see the bench's module
//! doc).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::Method;

use crate::checks::{lanes, lanes_in_order, refused_400, stored_positions, stored_twice, Checks};
use crate::database::Db;
use crate::load::{clients, post_all, Posted};
use crate::rig::{Rig, UsageDelta, CLAIM_CHAT};
use crate::traffic::{customer_body, Answers};
use crate::Knobs;

// ---- 3. Claim cost ---------------------------------------------------------------------------

pub(crate) struct ClaimResult {
    pub(crate) backlog: usize,
    pub(crate) ingest: Posted,
    pub(crate) delivered: usize,
    pub(crate) rate_limited: usize,
    pub(crate) refused: usize,
    pub(crate) queued_after: i64,
    pub(crate) usage: UsageDelta,
    pub(crate) checks: Checks,
    pub(crate) log: Option<String>,
}

impl ClaimResult {
    pub(crate) fn per_job(&self, ns: u64) -> f64 {
        ns as f64 / 1000.0 / self.delivered.max(1) as f64
    }

    pub(crate) fn total_per_job(&self) -> f64 {
        self.per_job(self.usage.service + self.usage.postgres)
    }
}

pub(crate) async fn claim_cost(
    fakes: &tokio::runtime::Handle,
    db: Db,
    admin: &str,
    backlog: usize,
    k: &Knobs,
) -> ClaimResult {
    let mut rig = Rig::start(
        fakes,
        db,
        admin,
        1,
        &[("MGBRIDGE__QUEUE__CONCURRENCY", "0")],
    )
    .await;
    rig.mg.set(|s| s.record_bodies = false);
    let account = &rig.accounts[0];
    let bodies: Vec<(usize, Bytes)> = (0..backlog)
        .map(|n| {
            let chat = CLAIM_CHAT + (n % k.claim_chats) as i64;
            (0, customer_body(chat, &format!("claim {n}")).1)
        })
        .collect();
    let ingest = post_all(
        &clients(k.connections),
        Arc::new(vec![account.telegram.clone()]),
        Arc::new(bodies),
    )
    .await;
    let mut checks = Checks::default();
    checks.answers(
        "customers' updates",
        &Answers {
            posted: ingest.sent,
            ok: ingest.ok,
            errors: ingest.errors.clone(),
        },
    );
    // A fresh service with the worker on takes the backlog up. More than a second after the
    // first one's last MG request (connecting), as its MG rate limiter starts empty.
    rig.analyze(k).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    rig.restart_with(&[]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rig.usage().await;
    tokio::time::sleep(k.claim_window).await;
    let after = rig.usage().await;
    let (delivered, rate_limited) = {
        let s = rig.mg.state.lock().unwrap();
        let delivered = s
            .requests
            .iter()
            .filter(|r| {
                !r.rate_limited
                    && r.method == Method::POST
                    && r.path == "/messages"
                    && r.at >= before.at
                    && r.at < after.at
            })
            .count();
        (
            delivered,
            s.requests.iter().filter(|r| r.rate_limited).count(),
        )
    };
    // Order and duplicates over everything stored so far.
    let twice = stored_twice(&rig.mg);
    let stored = stored_positions(&rig.mg);
    let ordered = lanes_in_order(&lanes(&rig.database.url).await, |id| {
        Some(stored.get(&id).copied())
    });
    checks.check(
        twice == 0,
        "none stored twice",
        format!("{twice} stored twice at MG"),
    );
    checks.check(ordered, "order kept", "stored out of order within a chat");
    let states = checks.jobs(&rig.database.url, ingest.ok).await;
    ClaimResult {
        backlog,
        ingest,
        delivered,
        rate_limited,
        refused: refused_400(&rig.mg),
        queued_after: states.get("queued").copied().unwrap_or(0),
        usage: after.since(&before),
        checks,
        log: rig.notes().await,
    }
}
