//! The per-token rate limiter every Transport API request passes through, retries included.
//!
//! MG answers 429 past 30 requests per token in any one-second window (`transport-api.md`
//! §1.6). Two stages keep us under that:
//!
//! 1. A keyed `governor` GCRA (`rate_limit_per_second`, burst `rate_limit_burst`) smooths a
//!    token's requests: after a quiet spell a few go back to back, then one per 1/rate.
//! 2. A sliding window is the hard cap: no more than N = `rate_limit_per_second` requests in
//!    any window of W = 1 s + `rate_limit_window_margin_ms`. Each token keeps its last N send
//!    times; a request may start no earlier than the N-th previous one + W.
//!
//! Why governor alone is not enough: GCRA promises the rate over the long run, not per
//! window. A full bucket lets `burst` requests through at once and then `rate` more within
//! the same second, so one window can see burst + rate (35 with 30/s and burst 5; 60 with the
//! burst equal to the rate). Lowering the burst to 1 does not fix it either: each wait then
//! ends at the next tokio timer tick or later, that lateness is never paid back (a bucket of
//! one has no credit to absorb it), and the sustained rate falls to ~29/s, below what MG
//! allows. So governor smooths, and the window caps.
//!
//! Jitter between us and MG can squeeze two sends that left W apart into less than a second
//! at MG. The margin absorbs the usual few milliseconds. Larger delays on the way there (a
//! new connection's handshakes, a queue somewhere) show in the round trip: a request whose
//! answer took longer than the token's usual round trip (the fastest of its last N answers)
//! plus the margin has its entry moved later by the excess. MG counted it at the latest when
//! the answer left, so the N-th next request then starts a full second after MG can have
//! counted this one, however slow the way there was, while a steady round trip (MG 40 ms
//! away) moves nothing and costs no rate. Until N/2 answers are known, the whole round trip
//! counts as excess. A request still in flight holds its entry until it ends.
//!
//! Waits happen in each call's own future, behind a per-token gate (`gate.rs`): a token with a
//! long queue never delays another token (no shared queue, no head-of-line blocking). One
//! caller of a token at a time holds the gate, waits for its slot and takes it. The gate has
//! two FIFO lanes (`Priority`): a customer's message passes before the same token's acks,
//! edits and channel calls, at most one slot behind them, and nothing is spent twice
//! (`gate.rs` says how). The lanes only reorder who sends; the rate and the cap are the same.
//!
//! Several replicas sharing one token would each allow the full rate: this limiter is per
//! process. The per-account queue lease (`store::queue`) keeps one token's message traffic in
//! one replica at a time, which keeps the cap global. The few calls the settings page makes
//! (adding or removing a bot, reconciling channels) run where the merchant's request lands;
//! they are rare, and a 429 they meet is retried like any other.
//!
//! All times are `tokio::time` instants, so tests can run the limiter on a paused clock.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::domain::MgToken;

use super::gate::Gate;
// Re-exported for `client.rs`, which takes it from here along with `Limiter`.
pub(super) use super::gate::Priority;

/// How often idle tokens are forgotten (checked on the next request after it is due).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What the limiter keys on: the first 16 bytes of the token's SHA-256, so the clear token is
/// not kept in yet another place.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey([u8; 16]);

impl TokenKey {
    pub(crate) fn of(token: &MgToken) -> Self {
        let digest = Sha256::digest(token.expose().as_bytes());
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        Self(key)
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKey({})", hex::encode(&self.0[..4]))
    }
}

/// governor's clock on tokio's time, so that `tokio::time::pause()` drives both stages.
#[derive(Clone, Debug)]
struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }
}

type Smoother =
    RateLimiter<TokenKey, DashMapStateStore<TokenKey>, TokioClock, NoOpMiddleware<Duration>>;

pub(crate) struct Limiter {
    smoother: Smoother,
    clock: TokioClock,
    keys: Mutex<Keys>,
    /// N: requests allowed per window.
    per_window: usize,
    /// W: 1 s + margin.
    window: Duration,
    margin: Duration,
    /// After this long in flight a request no longer holds its entry (it has timed out).
    in_flight_cap: Duration,
}

struct Keys {
    states: HashMap<TokenKey, Arc<KeyState>>,
    last_sweep: Instant,
}

struct KeyState {
    /// One caller per token computes and waits for its slot at a time, customers first.
    gate: Gate,
    window: Mutex<Window>,
    /// Signalled when a request of this token ends.
    ended: Notify,
}

#[derive(Default)]
struct Window {
    /// The last N sends, oldest first.
    sends: VecDeque<Send>,
    next_seq: u64,
    /// Set from a 429's `Retry-After`: nothing is sent before it.
    not_before: Option<Instant>,
}

struct Send {
    seq: u64,
    /// When MG may have counted it: the start, or later for a slow answer.
    anchor: Instant,
    started: Instant,
    in_flight: bool,
    /// Set when the answer came.
    round_trip: Option<Duration>,
}

/// A request's place in its token's window. `finish` (or dropping it) marks the request as
/// ended; call it when the answer's head has arrived.
pub(crate) struct Permit {
    state: Arc<KeyState>,
    seq: u64,
    started: Instant,
    margin: Duration,
    /// Answers needed before the fastest of them counts as the usual round trip (N/2).
    enough: usize,
    finished: bool,
}

enum Wait {
    Until(Instant),
    ForAnEnd(Instant),
}

impl Limiter {
    pub(crate) fn new(
        per_second: u32,
        burst: u32,
        margin: Duration,
        in_flight_cap: Duration,
    ) -> anyhow::Result<Self> {
        let rate = NonZeroU32::new(per_second)
            .ok_or_else(|| anyhow::anyhow!("mg.rate_limit_per_second must be at least 1"))?;
        let burst = NonZeroU32::new(burst)
            .ok_or_else(|| anyhow::anyhow!("mg.rate_limit_burst must be at least 1"))?;
        let clock = TokioClock {
            origin: Instant::now(),
        };
        let quota = Quota::per_second(rate).allow_burst(burst);
        Ok(Self {
            smoother: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            clock,
            keys: Mutex::new(Keys {
                states: HashMap::new(),
                last_sweep: Instant::now(),
            }),
            per_window: per_second as usize,
            window: Duration::from_secs(1) + margin,
            margin,
            in_flight_cap,
        })
    }

    /// Waits until `key` may send, and takes the slot. `priority` picks the lane of the token's
    /// queue. Cancel-safe: a dropped wait takes nothing (the slot is only taken on return) and
    /// gives its place in the gate up.
    pub(crate) async fn acquire(&self, key: TokenKey, priority: Priority) -> Permit {
        let state = self.state_of(key);
        let turn = state.gate.join(priority);
        loop {
            // Before each look, including after every wait below: a bulk caller that finds a
            // customer waiting steps back here, having taken nothing yet.
            turn.lead().await;
            // Created before looking, so an end signalled in between is not missed.
            let ended = state.ended.notified();
            match self.window_wait(&state, Instant::now()) {
                Some(Wait::Until(at)) => {
                    tokio::time::sleep_until(at).await;
                    continue;
                }
                Some(Wait::ForAnEnd(give_up_at)) => {
                    let _ = tokio::time::timeout_at(give_up_at, ended).await;
                    continue;
                }
                None => {}
            }
            if let Err(not_until) = self.smoother.check_key(&key) {
                // A refused check takes nothing from governor's bucket.
                tokio::time::sleep(not_until.wait_time_from(self.clock.now())).await;
                continue;
            }
            let now = Instant::now();
            let mut window = state.window.lock().unwrap();
            let seq = window.next_seq;
            window.next_seq += 1;
            window.sends.push_back(Send {
                seq,
                anchor: now,
                started: now,
                in_flight: true,
                round_trip: None,
            });
            while window.sends.len() > self.per_window {
                window.sends.pop_front();
            }
            drop(window);
            return Permit {
                state: state.clone(),
                seq,
                started: now,
                margin: self.margin,
                enough: (self.per_window / 2).max(1),
                finished: false,
            };
        }
    }

    /// MG asked (with `Retry-After`) that this token send nothing before `until`.
    pub(crate) fn hold_off(&self, key: TokenKey, until: Instant) {
        let state = self.state_of(key);
        let mut window = state.window.lock().unwrap();
        window.not_before = Some(window.not_before.map_or(until, |t| t.max(until)));
    }

    /// `None` when a send may start now, else what to wait for.
    fn window_wait(&self, state: &KeyState, now: Instant) -> Option<Wait> {
        let mut window = state.window.lock().unwrap();
        let mut earliest = now;
        if let Some(not_before) = window.not_before {
            if not_before > now {
                earliest = not_before;
            } else {
                window.not_before = None;
            }
        }
        if window.sends.len() >= self.per_window {
            let cap = self.in_flight_cap;
            let margin = self.margin;
            let oldest = window.sends.front_mut().expect("the window is full");
            if oldest.in_flight {
                let give_up_at = oldest.started + cap;
                if now < give_up_at {
                    return Some(Wait::ForAnEnd(give_up_at));
                }
                // It has outlived any timeout: count it as ended now.
                oldest.in_flight = false;
                oldest.anchor = oldest.anchor.max(now - margin);
            }
            earliest = earliest.max(oldest.anchor + self.window);
        }
        (earliest > now).then_some(Wait::Until(earliest))
    }

    fn state_of(&self, key: TokenKey) -> Arc<KeyState> {
        let mut keys = self.keys.lock().unwrap();
        let now = Instant::now();
        if now.saturating_duration_since(keys.last_sweep) >= SWEEP_EVERY {
            keys.last_sweep = now;
            self.sweep(&mut keys.states, now);
        }
        keys.states
            .entry(key)
            .or_insert_with(|| {
                Arc::new(KeyState {
                    gate: Gate::default(),
                    window: Mutex::new(Window::default()),
                    ended: Notify::new(),
                })
            })
            .clone()
    }

    /// Forgets tokens nobody is using whose window no longer constrains anything, and lets
    /// governor drop keys whose state equals a fresh one. Memory stays bounded by the tokens
    /// active in the last window.
    fn sweep(&self, states: &mut HashMap<TokenKey, Arc<KeyState>>, now: Instant) {
        states.retain(|_, state| {
            if Arc::strong_count(state) > 1 {
                return true;
            }
            let window = state.window.lock().unwrap();
            let constrains = window.sends.iter().any(|s| s.in_flight)
                || window
                    .sends
                    .back()
                    .is_some_and(|s| s.anchor + self.window > now)
                || window.not_before.is_some_and(|t| t > now);
            constrains
        });
        states.shrink_to_fit();
        self.smoother.retain_recent();
        self.smoother.shrink_to_fit();
    }

    /// Tokens currently tracked by the window stage (tests).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.keys.lock().unwrap().states.len()
    }
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("per_window", &self.per_window)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Permit {
    /// The answer's head arrived (or the request failed): the request is over.
    pub(crate) fn finish(mut self) {
        self.end(Instant::now());
    }

    fn end(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        self.finished = true;
        let round_trip = now.saturating_duration_since(self.started);
        let mut window = self.state.window.lock().unwrap();
        // In flight, an entry is never pushed out (a full window waits for its end).
        if let Some(index) = window.sends.iter().position(|s| s.seq == self.seq) {
            window.sends[index].round_trip = Some(round_trip);
            let known: Vec<Duration> = window.sends.iter().filter_map(|s| s.round_trip).collect();
            let delay = excess(round_trip, &known, self.enough, self.margin);
            let send = &mut window.sends[index];
            send.in_flight = false;
            send.anchor = send.anchor.max(send.started + delay);
        }
        drop(window);
        self.state.ended.notify_waiters();
    }
}

/// How much later than its start MG may have counted a request answered after
/// `round_trip`, beyond what the margin covers, given the round trips of the token's recent
/// answers (`known`, this one included).
///
/// MG counted it no later than `start + round_trip - (the answer's way back)`. The way back,
/// and the next request's way there, take at least what the fastest recent round trip took,
/// so only the excess over that floor can push this request towards the next ones. With
/// fewer than N/2 answers known there is no floor: the whole round trip counts.
fn excess(round_trip: Duration, known: &[Duration], enough: usize, margin: Duration) -> Duration {
    let floor = if known.len() >= enough {
        known.iter().copied().min().unwrap_or_default()
    } else {
        Duration::ZERO
    };
    round_trip.saturating_sub(floor).saturating_sub(margin)
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.end(Instant::now());
    }
}

#[cfg(test)]
mod tests {
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
        let mut tasks = Vec::new();
        for _ in 0..callers {
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(async move {
                let mut sent = Vec::new();
                for _ in 0..each {
                    let permit = limiter.acquire(key, Priority::Bulk).await;
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
        // 300 sends: the first 30 spread by governor over ~0.83 s (5 at once, then one per
        // 1/30 s), then each later one W after the 30th before it: 9 more windows.
        let took = *sent.last().unwrap() - start;
        assert!(
            took >= Duration::from_millis(9 * 1010 + 800)
                && took <= Duration::from_millis(9 * 1010 + 900),
            "{took:?}"
        );
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
        let callers = (0..20).map(|i| {
            let limiter = limiter.clone();
            let priority = if i % 2 == 0 {
                Priority::Customer
            } else {
                Priority::Bulk
            };
            tokio::spawn(async move {
                let mut sent = Vec::new();
                for _ in 0..15 {
                    let permit = limiter.acquire(key(1), priority).await;
                    sent.push(Instant::now());
                    permit.finish();
                }
                sent
            })
        });
        let callers: Vec<_> = callers.collect();
        let mut sent = Vec::new();
        for caller in callers {
            sent.extend(caller.await.unwrap());
        }
        assert_eq!(sent.len(), 300);
        assert_eq!(max_in_window(&mut sent, Duration::from_secs(1)), N);
        assert_eq!(max_in_window(&mut sent, Duration::from_millis(1010)), N);
        // The same time as one lane alone (`many_callers_on_one_token_never_exceed_…`).
        let took = *sent.last().unwrap() - start;
        assert!(
            took >= Duration::from_millis(9 * 1010 + 800)
                && took <= Duration::from_millis(9 * 1010 + 900),
            "{took:?}"
        );
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
}
