//! Scenario 2, accounts: many accounts, each with a backlog, drained side by side (see the
//! bench's module doc).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::Method;

use crate::checks::{lanes, lanes_in_order, refused_400, stored_positions, Checks};
use crate::database::Db;
use crate::fake_mg::{fingerprint, max_in_window};
use crate::load::{clients, post_until, Posted, Target};
use crate::rate::sustained_rate;
use crate::rig::{Rig, UsageDelta, MANY_CHAT};
use crate::traffic::{customer_body, wait_until, Answers};
use crate::Knobs;

// ---- 2. Many accounts ------------------------------------------------------------------------

pub(crate) struct AccountsResult {
    pub(crate) accounts: usize,
    pub(crate) backlog: usize,
    /// Bodies prepared (`posted.sent` says how many were posted before the give-up).
    pub(crate) total: usize,
    /// `POST /messages` MG answered 400 (a redelivery refused as a duplicate).
    pub(crate) refused: usize,
    pub(crate) connect: Duration,
    pub(crate) posted: Posted,
    pub(crate) delivered: usize,
    pub(crate) drain: Option<Duration>,
    /// Per token: sustained rate, and whether it drained its whole backlog.
    pub(crate) rates: Vec<(f64, bool)>,
    pub(crate) aggregate: f64,
    pub(crate) rate_limited: usize,
    pub(crate) max_in_second: usize,
    pub(crate) usage: UsageDelta,
    pub(crate) checks: Checks,
    pub(crate) log: Option<String>,
}

pub(crate) async fn many_accounts(
    fakes: &tokio::runtime::Handle,
    db: Db,
    admin: &str,
    k: &Knobs,
) -> AccountsResult {
    let t = Instant::now();
    let rig = Rig::start(fakes, db, admin, k.accounts, &[]).await;
    let connect = t.elapsed();
    // 100,000 bodies are not needed to measure rates; the stored messages keep the texts.
    rig.mg.set(|s| s.record_bodies = false);
    let n_accounts = rig.accounts.len();
    let targets: Vec<Target> = rig.accounts.iter().map(|a| a.telegram.clone()).collect();
    let total = n_accounts * k.backlog;
    let bodies: Vec<(usize, Bytes)> = (0..total)
        .map(|n| {
            let (account, j) = (n % n_accounts, n / n_accounts);
            let chat = many_chat(account, j % k.account_chats);
            (
                account,
                customer_body(chat, &format!("many {account} {j}")).1,
            )
        })
        .collect();
    let mut checks = Checks::default();
    let before = rig.usage().await;
    let t0 = before.at;
    // Bounded like the drain: a service slow to take them in gets only what it took by then.
    let posted = post_until(
        &clients(k.connections),
        Arc::new(targets),
        Arc::new(bodies),
        Some(t0 + k.drain),
    )
    .await;
    checks.answers(
        "customers' updates",
        &Answers {
            posted: posted.sent,
            ok: posted.ok,
            errors: posted.errors.clone(),
        },
    );
    rig.analyze(k).await;
    let drained = wait_until(t0 + k.drain, || {
        rig.mg.state.lock().unwrap().messages.len() >= posted.ok
    })
    .await;
    let after = rig.usage().await;

    let fingerprints: HashMap<String, usize> = rig
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (fingerprint(&a.mg_token), i))
        .collect();
    let mut arrivals: Vec<Vec<Instant>> = vec![Vec::new(); n_accounts];
    let mut rate_limited = 0;
    let (delivered, twice) = {
        let s = rig.mg.state.lock().unwrap();
        for r in &s.requests {
            if r.rate_limited {
                rate_limited += 1;
                continue;
            }
            if r.method != Method::POST || r.path != "/messages" || r.at < t0 || r.at > after.at {
                continue;
            }
            if let Some(&i) = r.token.as_ref().and_then(|t| fingerprints.get(t)) {
                arrivals[i].push(r.at);
            }
        }
        let mut texts = HashSet::new();
        let twice = s
            .messages
            .iter()
            .filter_map(|m| m.text.as_deref())
            .filter(|t| !texts.insert(*t))
            .count();
        (s.messages.len(), twice)
    };
    let stored = stored_positions(&rig.mg);
    let ordered = lanes_in_order(&lanes(&rig.database.url).await, |id| {
        Some(stored.get(&id).copied())
    });
    checks.check(
        twice == 0,
        "none stored twice",
        format!("{twice} stored twice at MG"),
    );
    checks.check(
        ordered,
        "order kept in every chat",
        "messages stored out of order within a chat",
    );
    checks.jobs(&rig.database.url, posted.ok).await;
    let mut rates = Vec::with_capacity(n_accounts);
    let mut max_in_second = 0;
    // Each token had a backlog from the first post until it drained, or until the bench gave
    // up: a drained token's rate is over its whole 30-request windows, as in mg_rate.rs; a
    // token still draining when the bench gave up gets its requests over the time given.
    let given = after.at.duration_since(t0).as_secs_f64();
    for times in &mut arrivals {
        times.sort();
        max_in_second = max_in_second.max(max_in_window(times, Duration::from_secs(1)));
        let drained = times.len() >= k.backlog;
        let rate = if drained && times.len() >= 2 {
            sustained_rate(times)
        } else {
            times.len() as f64 / given
        };
        rates.push((rate, drained));
    }
    let last = arrivals.iter().filter_map(|t| t.last()).max().copied();
    let counted: usize = arrivals.iter().map(Vec::len).sum();
    // All tokens' requests from the first post to the last arrival (or to the give-up).
    let end = if drained {
        last.unwrap_or(after.at)
    } else {
        after.at
    };
    let aggregate = counted as f64 / end.duration_since(t0).as_secs_f64().max(1e-9);
    AccountsResult {
        accounts: n_accounts,
        backlog: k.backlog,
        total,
        refused: refused_400(&rig.mg),
        connect,
        delivered,
        drain: if drained {
            last.map(|l| l.duration_since(t0))
        } else {
            None
        },
        posted,
        rates,
        aggregate,
        rate_limited,
        max_in_second,
        usage: after.since(&before),
        checks,
        log: rig.notes().await,
    }
}

fn many_chat(account: usize, chat: usize) -> i64 {
    MANY_CHAT + (account * 1_000 + chat) as i64
}
