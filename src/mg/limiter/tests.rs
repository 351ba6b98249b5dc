//! The limiter on tokio's paused clock: the cap in every window, the rate, the lanes.

use super::*;

const N: usize = 30;

fn limiter(burst: u32, margin_ms: u64) -> Arc<Limiter> {
    Arc::new(
        Limiter::new(
            N as u32,
            burst,
            Duration::from_millis(margin_ms),
            Duration::from_secs(20),
        )
        .unwrap(),
    )
}

fn key(n: u8) -> TokenKey {
    TokenKey([n; 16])
}

/// Largest number of instants in any half-open window `[t, t + width)`.
fn max_in_window(times: &mut [Instant], width: Duration) -> usize {
    times.sort();
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] >= width {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

/// `callers` tasks each sending `each` requests on `key`; returns the send instants.
async fn hammer(
    limiter: &Arc<Limiter>,
    key: TokenKey,
    callers: usize,
    each: usize,
) -> Vec<Instant> {
    hammer_in(limiter, key, callers, each, |_| Priority::Bulk).await
}

/// `hammer`, caller `i` waiting in lane `lane_of(i)`.
async fn hammer_in(
    limiter: &Arc<Limiter>,
    key: TokenKey,
    callers: usize,
    each: usize,
    lane_of: fn(usize) -> Priority,
) -> Vec<Instant> {
    let mut tasks = Vec::new();
    for i in 0..callers {
        let limiter = limiter.clone();
        let priority = lane_of(i);
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for _ in 0..each {
                let permit = limiter.acquire(key, priority).await;
                sent.push(Instant::now());
                permit.finish();
            }
            sent
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

/// 300 sends: the first 30 spread by governor over ~0.83 s (5 at once, then one per
/// 1/30 s), then each later one W after the 30th before it: 9 more windows.
fn assert_took_ten_windows(start: Instant, sent: &[Instant]) {
    let took = *sent.iter().max().unwrap() - start;
    assert!(
        took >= Duration::from_millis(9 * 1010 + 800)
            && took <= Duration::from_millis(9 * 1010 + 900),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn many_callers_on_one_token_never_exceed_the_cap_in_any_second() {
    let limiter = limiter(5, 10);
    let start = Instant::now();
    let mut sent = hammer(&limiter, key(1), 20, 15).await;
    assert_eq!(sent.len(), 300);
    assert_eq!(max_in_window(&mut sent, Duration::from_secs(1)), N);
    assert_eq!(
        max_in_window(&mut sent, Duration::from_millis(1010)),
        N,
        "the cap holds for the whole window of 1 s + margin"
    );
    assert_took_ten_windows(start, &sent);
}

#[tokio::test(start_paused = true)]
async fn after_a_quiet_spell_a_burst_goes_at_once_then_the_rate_applies() {
    let limiter = limiter(5, 10);
    let start = Instant::now();
    let sent = hammer(&limiter, key(1), 1, 7).await;
    for t in &sent[..5] {
        assert_eq!(*t - start, Duration::ZERO);
    }
    let period = Duration::from_secs(1) / N as u32;
    assert!(
        sent[5] - start >= period && sent[5] - start < period * 2,
        "{:?}",
        sent[5] - start
    );
    assert!(sent[6] - sent[5] >= period - Duration::from_millis(1));
}

#[tokio::test(start_paused = true)]
async fn a_busy_token_does_not_slow_another_token() {
    let limiter = limiter(5, 10);
    let busy = {
        let limiter = limiter.clone();
        tokio::spawn(async move { hammer(&limiter, key(1), 50, 6).await })
    };
    // Let the busy token's callers queue up.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let start = Instant::now();
    let quiet = hammer(&limiter, key(2), 5, 1).await;
    for t in quiet {
        assert_eq!(t - start, Duration::ZERO, "the quiet token waited");
    }
    let mut busy = busy.await.unwrap();
    assert_eq!(max_in_window(&mut busy, Duration::from_secs(1)), N);
}

#[tokio::test(start_paused = true)]
async fn a_request_in_flight_keeps_its_place_until_it_ends() {
    let limiter = limiter(N as u32, 10);
    let start = Instant::now();
    let mut permits = Vec::new();
    for _ in 0..N {
        permits.push(limiter.acquire(key(1), Priority::Bulk).await);
    }
    assert_eq!(Instant::now(), start);
    let next = {
        let limiter = limiter.clone();
        tokio::spawn(async move {
            let _permit = limiter.acquire(key(1), Priority::Bulk).await;
            Instant::now()
        })
    };
    // The oldest answer comes back after 3 s: MG may have counted it as late as that.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let oldest = permits.remove(0);
    oldest.finish();
    let admitted = next.await.unwrap();
    assert_eq!(admitted - start, Duration::from_millis(3000 - 10 + 1010));
}

#[tokio::test(start_paused = true)]
async fn a_fast_answer_keeps_the_send_time() {
    let limiter = limiter(N as u32, 10);
    let start = Instant::now();
    for _ in 0..N {
        let permit = limiter.acquire(key(1), Priority::Bulk).await;
        tokio::time::sleep(Duration::from_millis(4)).await;
        permit.finish();
    }
    // The first was sent at 0 and answered within the margin: its entry stays at 0.
    let _ = limiter.acquire(key(1), Priority::Bulk).await;
    assert_eq!(Instant::now() - start, Duration::from_millis(1010));
}

#[tokio::test(start_paused = true)]
async fn an_answer_slower_than_the_usual_round_trip_moves_its_entry() {
    let limiter = limiter(N as u32, 10);
    // Answers after 40 ms, for long enough that the token's floor is close to 40 ms.
    for _ in 0..200 {
        let permit = limiter.acquire(key(1), Priority::Bulk).await;
        tokio::time::sleep(Duration::from_millis(40)).await;
        permit.finish();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let batch = Instant::now();
    let mut permits = Vec::new();
    for _ in 0..N {
        permits.push(limiter.acquire(key(1), Priority::Bulk).await);
    }
    assert_eq!(Instant::now(), batch);
    let slow = permits.remove(0);
    tokio::time::sleep(Duration::from_millis(40)).await;
    permits.into_iter().for_each(Permit::finish);
    tokio::time::sleep(Duration::from_millis(200)).await;
    slow.finish();
    // 240 ms where ~40 is usual: ~200 ms may have been on the way there, 10 of which the
    // margin covers, so the slow one's entry moves ~190 ms.
    let _ = limiter.acquire(key(1), Priority::Bulk).await;
    let waited = Instant::now() - batch;
    assert!(
        waited >= Duration::from_millis(1200) && waited <= Duration::from_millis(1201),
        "{waited:?}"
    );
}

#[test]
fn only_the_excess_over_the_usual_round_trip_moves_an_entry() {
    let ms = Duration::from_millis;
    let usual = vec![ms(40); 20];
    assert_eq!(excess(ms(40), &usual, 15, ms(10)), ms(0));
    assert_eq!(excess(ms(45), &usual, 15, ms(10)), ms(0));
    assert_eq!(excess(ms(240), &usual, 15, ms(10)), ms(190));
    // Too few answers to know what is usual: all of it counts.
    assert_eq!(excess(ms(40), &usual[..3], 15, ms(10)), ms(30));
}

#[tokio::test(start_paused = true)]
async fn retry_after_holds_the_whole_token_off() {
    let limiter = limiter(5, 10);
    let start = Instant::now();
    limiter.hold_off(key(1), start + Duration::from_secs(2));
    let sent = hammer(&limiter, key(1), 3, 1).await;
    for t in sent {
        assert!(t - start >= Duration::from_secs(2));
    }
    let other = hammer(&limiter, key(2), 1, 1).await;
    assert_eq!(
        other[0] - start,
        Duration::from_secs(2),
        "key 2 was not held off"
    );
}

#[tokio::test(start_paused = true)]
async fn idle_tokens_are_forgotten() {
    let limiter = limiter(5, 10);
    for n in 0..100 {
        hammer(&limiter, key(n), 1, 1).await;
    }
    assert_eq!(limiter.tracked(), 100);
    assert!(!limiter.smoother.is_empty());
    tokio::time::sleep(SWEEP_EVERY + Duration::from_secs(1)).await;
    hammer(&limiter, key(200), 1, 1).await;
    assert_eq!(limiter.tracked(), 1);
    assert!(limiter.smoother.len() <= 1, "{}", limiter.smoother.len());
}

/// Admissions on one token, in the order they happened: (who, when).
type Log = Arc<Mutex<Vec<(String, Instant)>>>;

/// A caller sending one request on `key` in `priority`'s lane, logged as `who`.
fn one_caller(
    limiter: &Arc<Limiter>,
    log: &Log,
    key: TokenKey,
    priority: Priority,
    who: String,
) -> tokio::task::JoinHandle<()> {
    let limiter = limiter.clone();
    let log = log.clone();
    tokio::spawn(async move {
        let permit = limiter.acquire(key, priority).await;
        log.lock().unwrap().push((who, Instant::now()));
        permit.finish();
    })
}

/// 60 bulk callers on key 1, queued in the order of their names (`b0`..`b59`).
async fn saturate(limiter: &Arc<Limiter>, log: &Log) -> Vec<tokio::task::JoinHandle<()>> {
    let tasks = (0..60)
        .map(|i| one_caller(limiter, log, key(1), Priority::Bulk, format!("b{i}")))
        .collect();
    // Let each of them reach the gate (the test runtime polls them in spawn order).
    tokio::task::yield_now().await;
    tasks
}

fn names(log: &Log) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .map(|(who, _)| who.clone())
        .collect()
}

fn admitted(log: &Log, who: &str) -> (usize, Instant) {
    let log = log.lock().unwrap();
    let index = log.iter().position(|(w, _)| w == who).expect("admitted");
    (index, log[index].1)
}

#[tokio::test(start_paused = true)]
async fn a_customer_passes_before_the_bulk_callers_queued_before_it() {
    let limiter = limiter(5, 10);
    let log = Log::default();
    let mut tasks = saturate(&limiter, &log).await;
    // Between two slots (one per 1/30 s after the burst of 5): a bulk caller holds the
    // gate, asleep until the next slot.
    tokio::time::sleep(Duration::from_millis(210)).await;
    let before = log.lock().unwrap().len();
    assert!((5..15).contains(&before), "{before}");
    let arrived = Instant::now();
    tasks.push(one_caller(
        &limiter,
        &log,
        key(1),
        Priority::Customer,
        "customer".into(),
    ));
    for task in tasks {
        task.await.unwrap();
    }
    let (index, at) = admitted(&log, "customer");
    assert_eq!(index, before, "the very next one: {:?}", names(&log));
    let period = Duration::from_secs(1) / N as u32;
    assert!(
        at - arrived <= period + Duration::from_millis(1),
        "{:?}",
        at - arrived
    );
    // The bulk lane kept its order, the one that stepped back included.
    let bulk: Vec<String> = names(&log)
        .into_iter()
        .filter(|w| w != "customer")
        .collect();
    let expected: Vec<String> = (0..60).map(|i| format!("b{i}")).collect();
    assert_eq!(bulk, expected);
}

#[tokio::test(start_paused = true)]
async fn customers_keep_their_arrival_order() {
    let limiter = limiter(5, 10);
    let log = Log::default();
    let mut tasks = saturate(&limiter, &log).await;
    tokio::time::sleep(Duration::from_millis(210)).await;
    let before = log.lock().unwrap().len();
    for i in 0..5 {
        let who = format!("c{i}");
        tasks.push(one_caller(&limiter, &log, key(1), Priority::Customer, who));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    let names = names(&log);
    let expected: Vec<String> = (0..5).map(|i| format!("c{i}")).collect();
    assert_eq!(names[before..before + 5], expected, "{names:?}");
}

#[tokio::test(start_paused = true)]
async fn mixed_lanes_keep_the_cap_and_the_rate() {
    let limiter = limiter(5, 10);
    let start = Instant::now();
    let lane_of = |i: usize| {
        if i % 2 == 0 {
            Priority::Customer
        } else {
            Priority::Bulk
        }
    };
    let mut sent = hammer_in(&limiter, key(1), 20, 15, lane_of).await;
    assert_eq!(sent.len(), 300);
    assert_eq!(max_in_window(&mut sent, Duration::from_secs(1)), N);
    assert_eq!(max_in_window(&mut sent, Duration::from_millis(1010)), N);
    // The same time as one lane alone (`many_callers_on_one_token_never_exceed_…`).
    assert_took_ten_windows(start, &sent);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_customer_wait_does_not_block_the_bulk_callers() {
    let limiter = limiter(5, 10);
    let log = Log::default();
    let tasks = saturate(&limiter, &log).await;
    tokio::time::sleep(Duration::from_millis(210)).await;
    // c0 takes the next slot; c1 then holds the gate, asleep until the slot after; c2
    // waits behind it. c1 and c2 give up before that slot, c2 (queued) first.
    let customers: Vec<_> = (0..3)
        .map(|i| one_caller(&limiter, &log, key(1), Priority::Customer, format!("c{i}")))
        .collect();
    tokio::time::sleep(Duration::from_millis(35)).await;
    assert_eq!(names(&log).last().unwrap(), "c0");
    {
        let state = limiter.state_of(key(1));
        let lanes = state.gate.lanes.lock().unwrap();
        // Every bulk caller not yet through waits in its lane, so c1 holds the gate.
        let bulk_through = log.lock().unwrap().len() - 1;
        assert!(lanes.holder.is_some());
        assert_eq!(
            lanes.waiting[Priority::Bulk.lane()].len(),
            60 - bulk_through
        );
        assert_eq!(lanes.waiting[Priority::Customer.lane()].len(), 1);
    }
    customers[2].abort();
    tokio::task::yield_now().await;
    customers[1].abort();
    let cancelled = Instant::now();
    let before = log.lock().unwrap().len();
    for task in tasks {
        // A wedged gate would leave them waiting forever: fail instead of hanging.
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("the gate is wedged")
            .unwrap();
    }
    let names = names(&log);
    assert_eq!(names.iter().filter(|w| w.starts_with('c')).count(), 1);
    // The next bulk caller took the slot c1 gave up.
    let (_, next) = admitted(&log, &format!("b{}", before - 1));
    let period = Duration::from_secs(1) / N as u32;
    assert!(next - cancelled <= period, "{:?}", next - cancelled);
    // Nothing left behind: the gate is free, and an idle token passes at once later.
    {
        let state = limiter.state_of(key(1));
        let lanes = state.gate.lanes.lock().unwrap();
        assert!(lanes.holder.is_none());
        assert!(lanes.waiting.iter().all(VecDeque::is_empty));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let quiet = Instant::now();
    let _ = limiter.acquire(key(1), Priority::Customer).await;
    let _ = limiter.acquire(key(1), Priority::Bulk).await;
    assert_eq!(Instant::now(), quiet);
}

#[test]
fn keys_are_fingerprints() {
    let token = MgToken::new("6f2c1d0e9b8a7f6e5d4c3b2a1908f7e6d5c4b3a2".into());
    let key = TokenKey::of(&token);
    assert_eq!(key, TokenKey::of(&token.clone()));
    assert_ne!(key, TokenKey::of(&MgToken::new("other".into())));
    assert!(!format!("{key:?}").contains("6f2c1d"));
}
