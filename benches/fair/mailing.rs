//! Scenario 1, mailing: account A's operators post a mailing while A's and B's customers
//! write and A's operator answers (see the bench's module doc).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use tokio::task::JoinHandle;

use crate::checks::{lanes, lanes_in_order, refused_400, stored_twice, Checks};
use crate::database::Db;
use crate::latency::{latencies_of, since_ms, Latencies};
use crate::load::{clients, message_sent, post_all, to_bytes, Posted};
use crate::rig::{
    Rig, UsageDelta, A_CUSTOMER_CHAT, A_WARM_CHAT, B_CHATS, B_DURING_CHAT, B_IDLE_CHAT,
    B_WARM_CHAT, MAILING_CHAT, MAILING_ID, REPLY_ID, WARM_ID,
};
use crate::traffic::{
    customer_body, customers, join_answers, reply_when_seen, wait_until, watch, Answers, Reply,
    Seen, POLL,
};
use crate::Knobs;

// ---- 1. Mailing ------------------------------------------------------------------------------

pub(crate) struct MailingResult {
    pub(crate) b_idle: Latencies,
    pub(crate) b_during: Latencies,
    pub(crate) a_customers: Latencies,
    pub(crate) replies: Latencies,
    pub(crate) replies_early: usize,
    /// The mailing's ingest.
    pub(crate) posted: Posted,
    pub(crate) sent_in_window: usize,
    pub(crate) window: Duration,
    pub(crate) sent_by_deadline: usize,
    pub(crate) bound: Duration,
    pub(crate) rate_limited: (usize, usize),
    pub(crate) max_in_second: (usize, usize),
    pub(crate) refused: usize,
    pub(crate) usage: UsageDelta,
    pub(crate) checks: Checks,
    pub(crate) log: Option<String>,
}

// `seen` is dropped (`drop(s)`) before the first await after it; clippy does not follow that.
#[allow(clippy::await_holding_lock)]
pub(crate) async fn mailing(
    fakes: &tokio::runtime::Handle,
    db: Db,
    admin: &str,
    k: &Knobs,
) -> MailingResult {
    let rig = Rig::start(fakes, db, admin, 2, &[]).await;
    let (a, b) = (&rig.accounts[0], &rig.accounts[1]);
    let (a_tg, b_tg, a_mg) = (
        Arc::new(a.telegram.clone()),
        Arc::new(b.telegram.clone()),
        Arc::new(a.mg_hook.clone()),
    );
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = watch(seen.clone(), rig.mg.clone(), rig.telegram.clone());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut checks = Checks::default();
    let mut accepted = 0usize;

    // Warm-up: each account's lease, connections and caches in place before the clock runs.
    let mut warm = Answers::default();
    warm.add(
        b_tg.post(&client, customer_body(B_WARM_CHAT, "fair B warm-up").1)
            .await,
    );
    warm.add(
        a_tg.post(&client, customer_body(A_WARM_CHAT, "fair A warm-up").1)
            .await,
    );
    let hello = message_sent(WARM_ID, a.mg_channel, A_WARM_CHAT, "Hello!", 1_790_000_000);
    warm.add(a_mg.post(&client, to_bytes(&hello)).await);
    accepted += warm.posted;
    checks.answers("warm-up webhooks", &warm);
    let warmed = wait_until(Instant::now() + Duration::from_secs(30), || {
        let s = seen.lock().unwrap();
        s.at_mg.contains_key("fair B warm-up")
            && s.at_mg.contains_key("fair A warm-up")
            && s.first_send(&a.bot_token, A_WARM_CHAT).is_some()
    })
    .await;
    assert!(
        warmed,
        "the warm-up messages were not delivered in 30 s; service log:\n{}",
        rig.service.log()
    );

    // Idle: B's customers alone.
    let (b_idle, tasks) = customers(
        &client,
        &b_tg,
        k.b_rate,
        k.idle,
        "fair B idle",
        |n| B_IDLE_CHAT + (n % B_CHATS) as i64,
        |_, _| {},
    )
    .await;
    let mut answers = join_answers(tasks).await;
    let idle_deadline = Instant::now() + Duration::from_secs(10);
    wait_until(idle_deadline, || {
        let s = seen.lock().unwrap();
        b_idle.iter().all(|m| s.at_mg.contains_key(&m.text))
    })
    .await;

    // The mailing: A's operators, as fast as the service takes it.
    let bodies: Vec<(usize, Bytes)> = (0..k.mailing)
        .map(|n| {
            let hook = message_sent(
                MAILING_ID + n as i64,
                a.mg_channel,
                MAILING_CHAT + n as i64,
                &format!(
                    "Spring sale: 20% off everything until Sunday. Reply STOP to opt out. (#{n})"
                ),
                1_790_000_000 + n as i64,
            );
            (0, to_bytes(&hook))
        })
        .collect();
    let connections = clients(k.connections);
    let posted = post_all(
        &connections,
        Arc::new(vec![a.mg_hook.clone()]),
        Arc::new(bodies),
    )
    .await;
    accepted += posted.ok;
    checks.answers(
        "mailing webhooks",
        &Answers {
            posted: posted.sent,
            ok: posted.ok,
            errors: posted.errors.clone(),
        },
    );

    rig.analyze(k).await;

    // The window: B's and A's customers write, A's operator answers A's.
    let before = rig.usage().await;
    let w0 = before.at;
    let mut reply_tasks: Vec<JoinHandle<Reply>> = Vec::new();
    let b_stream = customers(
        &client,
        &b_tg,
        k.b_rate,
        k.window,
        "fair B during",
        |n| B_DURING_CHAT + (n % B_CHATS) as i64,
        |_, _| {},
    );
    // Each A customer's message gets its reply task as it is posted.
    let a_stream = customers(
        &client,
        &a_tg,
        k.a_rate,
        k.window,
        "fair A customer",
        |n| A_CUSTOMER_CHAT + n as i64,
        |sent, n| {
            reply_tasks.push(tokio::spawn(reply_when_seen(
                seen.clone(),
                client.clone(),
                a_mg.clone(),
                a.mg_channel,
                sent.text.clone(),
                A_CUSTOMER_CHAT + n as i64,
                sent.at,
                REPLY_ID + n as i64,
                k.reply_delay,
                k.reply_fallback,
            )));
        },
    );
    let ((b_during, b_tasks), (a_sent, a_tasks)) = tokio::join!(b_stream, a_stream);
    tokio::time::sleep_until((w0 + k.window).into()).await;
    let w1 = Instant::now();
    let after = rig.usage().await;
    answers.merge(join_answers(b_tasks).await);
    answers.merge(join_answers(a_tasks).await);
    accepted += answers.posted;
    checks.answers("customers' updates", &answers);

    // Grace: the stragglers, up to the deadline.
    let deadline = w1 + k.grace;
    let mut reply_outcomes = Vec::with_capacity(reply_tasks.len());
    for task in reply_tasks {
        reply_outcomes.push(task.await.unwrap());
    }
    let mut reply_answers = Answers::default();
    for r in &reply_outcomes {
        reply_answers.add(r.answer.clone());
    }
    accepted += reply_answers.posted;
    checks.answers("operators' replies", &reply_answers);
    wait_until(deadline, || {
        let s = seen.lock().unwrap();
        b_during
            .iter()
            .chain(&a_sent)
            .all(|m| s.at_mg.contains_key(&m.text))
            && reply_outcomes
                .iter()
                .all(|r| s.first_send(&a.bot_token, r.chat).is_some())
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    tokio::time::sleep(POLL * 2).await;
    let mut s = seen.lock().unwrap();
    s.update(&rig.mg, &rig.telegram);

    let b_idle_lat = latencies_of(&b_idle, &s.at_mg, idle_deadline);
    let b_during_lat = latencies_of(&b_during, &s.at_mg, deadline);
    let a_lat = latencies_of(&a_sent, &s.at_mg, deadline);
    let replies_lat = Latencies::new(
        reply_outcomes
            .iter()
            .map(|r| match s.first_send(&a.bot_token, r.chat) {
                Some(at) => (since_ms(at, r.at), true),
                None => (since_ms(deadline, r.at), false),
            })
            .collect(),
    );
    let mut sent_in_window = 0;
    let mut sent_by_deadline = 0;
    let mut sent_twice = 0;
    for n in 0..k.mailing {
        if let Some(times) = s.sends.get(&(a.bot_token.clone(), MAILING_CHAT + n as i64)) {
            sent_by_deadline += 1;
            sent_twice += usize::from(times.len() > 1);
            let first = *times.iter().min().unwrap();
            if first >= w0 && first < w1 {
                sent_in_window += 1;
            }
        }
    }
    let replied_twice = reply_outcomes
        .iter()
        .filter(|r| {
            s.sends
                .get(&(a.bot_token.clone(), r.chat))
                .is_some_and(|t| t.len() > 1)
        })
        .count();
    checks.check(
        sent_twice == 0 && replied_twice == 0,
        "no Telegram message sent twice",
        format!("{sent_twice} mailing chats and {replied_twice} reply chats got a message twice"),
    );
    let twice = stored_twice(&rig.mg);
    checks.check(
        twice == 0,
        "no customer's message stored twice at MG",
        format!("{twice} customers' messages stored twice at MG"),
    );
    let arrival: HashMap<i64, Option<Instant>> = b_idle
        .iter()
        .chain(&b_during)
        .chain(&a_sent)
        .map(|m| (m.update_id, s.at_mg.get(&m.text).copied()))
        .collect();
    drop(s);
    let ordered = lanes_in_order(&lanes(&rig.database.url).await, |id| {
        arrival.get(&id).copied()
    });
    checks.check(
        ordered,
        "order kept in every chat",
        "customers' messages reached MG out of order within a chat",
    );
    checks.jobs(&rig.database.url, accepted).await;
    let rate_limited = (
        rig.mg.rate_limited(&a.mg_token),
        rig.mg.rate_limited(&b.mg_token),
    );
    let max_in_second = (
        rig.mg
            .max_in_any_window(&a.mg_token, Duration::from_secs(1)),
        rig.mg
            .max_in_any_window(&b.mg_token, Duration::from_secs(1)),
    );
    MailingResult {
        b_idle: b_idle_lat,
        b_during: b_during_lat,
        a_customers: a_lat,
        replies_early: reply_outcomes.iter().filter(|r| r.early).count(),
        replies: replies_lat,
        posted,
        sent_in_window,
        window: w1.duration_since(w0),
        sent_by_deadline,
        bound: k.grace,
        rate_limited,
        max_in_second,
        refused: refused_400(&rig.mg),
        usage: after.since(&before),
        checks,
        log: rig.notes().await,
    }
}
