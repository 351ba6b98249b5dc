//! The per-token rate limiter every Transport API request passes through, retries included.
//!
//! MG answers 429 past 30 requests per token in any one-second window
//! (`protocol/transport-api.md` §1.6). Two stages keep us under that:
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

    /// Forgets idle tokens now, without waiting for the next request to find a sweep due: after
    /// a start-up reconcile has touched every account's token once, and from the janitor.
    pub(crate) fn sweep_now(&self) {
        let mut keys = self.keys.lock().unwrap();
        let now = Instant::now();
        keys.last_sweep = now;
        self.sweep(&mut keys.states, now);
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
mod tests;
