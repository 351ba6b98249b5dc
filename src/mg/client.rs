//! The HTTP side: one `reqwest` client and one limiter for the process, a cheap per-account
//! handle (`MgApi`) per endpoint and token, and the retry loop every call goes through.
//!
//! Retries: a 429 is retried for every call (MG did not act on it), after `Retry-After` when
//! MG sends one, else after an exponential backoff with full jitter. Network errors and 5xx
//! are retried only where repeating is harmless: GET, PUT, DELETE, and the POSTs that set a
//! state (ack, read, read_until, reaction); never the POSTs that create something
//! (`/channels`, `/messages`, `/messages/history`, templates, uploads), where a lost answer
//! could mean a duplicate. A connection that could not be opened is the exception: nothing was
//! sent, so any call may try again. Each attempt builds a fresh request from the kept body
//! bytes and passes through the limiter again, in the handle's lane (`MgApi::with_priority`).
//!
//! The operations themselves, one method per Transport API call, are in `client/operations.rs`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use reqwest::{header, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::MgError;
use super::limiter::{Limiter, Priority, TokenKey};
use crate::config::MgSettings;
use crate::domain::MgToken;
use crate::http::{client_builder, describe_transport_error, read_bounded, BodyError};

mod operations;
#[cfg(test)]
mod tests;

/// Biggest answer we read (v1 reads up to 25 MiB; a full channel list is a few MiB).
const MAX_BODY: usize = 25 * 1024 * 1024;
/// Backoff without `Retry-After`: full jitter over 200 ms · 2^attempt, at most 3.2 s.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_millis(3200);
/// A `Retry-After` longer than this is cut short (the attempt limit still applies).
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// The Transport API client of the whole process. Cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct MgClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Whether each URL passes the SSRF guard's literal check (the resolver judges names).
    guarded: bool,
    /// Host names `guarded_pinning` exempts (tests only).
    pinned: Vec<String>,
    limiter: Limiter,
    max_attempts: u32,
}

impl fmt::Debug for MgClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MgClient")
            .field("limiter", &self.inner.limiter)
            .field("max_attempts", &self.inner.max_attempts)
            .finish_non_exhaustive()
    }
}

impl MgClient {
    pub fn new(settings: &MgSettings) -> anyhow::Result<Self> {
        Self::build(settings, false, &[])
    }

    /// Like `new`, but every connection first passes the SSRF guard (`crm::guard`): MG's
    /// address comes from the CRM's answer, which a merchant's own CRM controls.
    pub fn guarded(settings: &MgSettings) -> anyhow::Result<Self> {
        Self::build(settings, true, &[])
    }

    /// `guarded`, except that the `pinned` names connect to the given addresses unjudged: for
    /// tests only, which need a first hop on loopback (a fake file host) behind the guard.
    #[doc(hidden)]
    pub fn guarded_pinning(
        settings: &MgSettings,
        pinned: &[(&str, std::net::SocketAddr)],
    ) -> anyhow::Result<Self> {
        Self::build(settings, true, pinned)
    }

    fn build(
        settings: &MgSettings,
        guarded: bool,
        pinned: &[(&str, std::net::SocketAddr)],
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            settings.max_attempts > 0,
            "mg.max_attempts must be at least 1"
        );
        let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        // Redirects are refused (`client_builder`): one would carry X-Transport-Token along.
        let mut http = client_builder(timeout);
        if guarded {
            http = http.dns_resolver(crate::crm::guard::resolver());
        }
        for (name, addr) in pinned {
            http = http.resolve(name, *addr);
        }
        let http = http.build()?;
        let limiter = Limiter::new(
            settings.rate_limit_per_second,
            settings.rate_limit_burst,
            Duration::from_millis(settings.rate_limit_window_margin_ms),
            // A request in flight longer than the timeout has failed by then.
            timeout + Duration::from_secs(1),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                guarded,
                pinned: pinned.iter().map(|(name, _)| name.to_string()).collect(),
                limiter,
                max_attempts: settings.max_attempts,
            }),
        })
    }

    /// Forgets the limiter's state of tokens idle for longer than their window (it is kept
    /// only while it constrains a request), at once rather than at the next request.
    pub fn forget_idle_tokens(&self) {
        self.inner.limiter.sweep_now();
    }

    /// The handle for one account: `endpoint_url` as the CRM gave it (`https://mg-s1…`),
    /// calls go to `{endpoint_url}/api/transport/v1`.
    pub fn api(&self, endpoint_url: &str, token: &MgToken) -> MgApi {
        MgApi {
            client: self.clone(),
            base: Arc::from(format!(
                "{}/api/transport/v1",
                endpoint_url.trim_end_matches('/')
            )),
            token: token.clone(),
            key: TokenKey::of(token),
            priority: Priority::default(),
        }
    }
}

/// One account's view of MG: every Transport API operation (`protocol/transport-api.md` §2).
#[derive(Clone)]
pub struct MgApi {
    client: MgClient,
    base: Arc<str>,
    token: MgToken,
    key: TokenKey,
    /// The lane this handle's requests wait in at the token's limiter, every attempt.
    priority: Priority,
}

impl fmt::Debug for MgApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MgApi")
            .field("base", &self.base)
            .field("token", &self.key)
            .field("priority", &self.priority)
            .finish()
    }
}

/// A raw file for `upload_file`. Bytes can be sent again after a 429; a stream only once.
pub enum UploadBody {
    Bytes(Bytes),
    Stream(reqwest::Body),
}

impl From<Bytes> for UploadBody {
    fn from(bytes: Bytes) -> Self {
        Self::Bytes(bytes)
    }
}

impl From<Vec<u8>> for UploadBody {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Bytes(Bytes::from(bytes))
    }
}

impl From<reqwest::Body> for UploadBody {
    fn from(body: reqwest::Body) -> Self {
        Self::Stream(body)
    }
}

/// Whether a failed attempt may be repeated after a network error or a 5xx.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeat {
    Safe,
    NotSafe,
}

enum Payload {
    None,
    Json(Bytes),
    Raw {
        content_type: String,
        body: Option<UploadBody>,
    },
}

struct Call {
    method: Method,
    path: String,
    payload: Payload,
    repeat: Repeat,
}

impl MgApi {
    /// The same account with its requests in `priority`'s lane: `Priority::Customer` for the
    /// calls that deliver a customer's message to MG, so they pass before the token's acks and
    /// other bulk calls waiting at the same time. The default is `Priority::Bulk`.
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    // ---- The retry loop -------------------------------------------------------------------

    async fn call(&self, mut call: Call) -> Result<Bytes, MgError> {
        let inner = &self.client.inner;
        let url = format!("{}{}", self.base, call.path);
        if inner.guarded {
            // The endpoint can be an IP literal, which no resolver sees.
            crate::crm::guard::check_literal_str(&url)
                .map_err(|e| MgError::Unreachable(e.to_string()))?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = self.request(&mut call, &url);
            // Another attempt needs a body we still have (a stream is sent once).
            let last = attempt >= inner.max_attempts || !call.can_send_again();
            let permit = inner.limiter.acquire(self.key, self.priority).await;
            let sent = request.send().await;
            permit.finish();
            let response = match sent {
                Ok(response) => response,
                Err(e) if e.is_builder() => return Err(request_error(&e)),
                Err(e) => {
                    let retry = e.is_connect() || call.repeat == Repeat::Safe;
                    if retry && !last {
                        let wait = backoff(attempt);
                        tracing::debug!(method = %call.method, path = path_only(&call.path), attempt, ?wait, error = %describe_transport_error(&e), "MG call failed; retrying");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(MgError::Unreachable(describe_transport_error(&e)));
                }
            };
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let retry_after = retry_after(response.headers());
                if let Some(wait) = retry_after {
                    // MG said how long: the whole token waits, not just this call.
                    inner
                        .limiter
                        .hold_off(self.key, tokio::time::Instant::now() + wait);
                }
                if last {
                    tracing::warn!(method = %call.method, path = path_only(&call.path), attempt, "MG still rate limiting after the last attempt");
                    return Err(MgError::RateLimited);
                }
                let wait = retry_after.unwrap_or_else(|| backoff(attempt));
                tracing::debug!(method = %call.method, path = path_only(&call.path), attempt, ?wait, "MG answered 429; retrying");
                drop(response);
                tokio::time::sleep(wait).await;
                continue;
            }
            let body = match read_body(response).await {
                Ok(body) => body,
                Err(e) if call.repeat == Repeat::Safe && !last => {
                    tracing::debug!(method = %call.method, path = path_only(&call.path), attempt, error = %e, "MG answer cut short; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if status.is_success() {
                return Ok(body);
            }
            if status.is_server_error() && call.repeat == Repeat::Safe && !last {
                let wait = backoff(attempt);
                tracing::debug!(method = %call.method, path = path_only(&call.path), attempt, status = status.as_u16(), ?wait, "MG server error; retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(MgError::from_answer(status.as_u16(), &body));
        }
    }

    /// A fresh request for one attempt (a streamed upload body moves into it).
    fn request(&self, call: &mut Call, url: &str) -> reqwest::RequestBuilder {
        let builder = self
            .client
            .inner
            .http
            .request(call.method.clone(), url)
            .header("X-Transport-Token", self.token.expose())
            .header(header::ACCEPT, "application/json");
        match &mut call.payload {
            Payload::None => builder,
            Payload::Json(bytes) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Payload::Raw { content_type, body } => {
                let builder = builder.header(header::CONTENT_TYPE, content_type.as_str());
                match body.take() {
                    Some(UploadBody::Bytes(bytes)) => {
                        *body = Some(UploadBody::Bytes(bytes.clone()));
                        builder.body(bytes)
                    }
                    Some(UploadBody::Stream(stream)) => builder.body(stream),
                    None => builder,
                }
            }
        }
    }
}

impl Call {
    fn can_send_again(&self) -> bool {
        !matches!(self.payload, Payload::Raw { body: None, .. })
    }
}

fn get(path: String) -> Call {
    Call {
        method: Method::GET,
        path,
        payload: Payload::None,
        repeat: Repeat::Safe,
    }
}

fn json<T: Serialize>(method: Method, path: String, request: &T, repeat: Repeat) -> Call {
    // Serialized once; every attempt sends the same bytes.
    let bytes = serde_json::to_vec(request).expect("Transport API requests serialize");
    Call {
        method,
        path,
        payload: Payload::Json(Bytes::from(bytes)),
        repeat,
    }
}

/// A request that could not be built (a header value or URL HTTP cannot carry) fails the same
/// way every time: it is not "MG unreachable", and the job must not wait for it.
fn request_error(e: &reqwest::Error) -> MgError {
    MgError::Request(describe_transport_error(e))
}

async fn read_body(mut response: reqwest::Response) -> Result<Bytes, MgError> {
    match read_bounded(&mut response, MAX_BODY).await {
        Ok(body) => Ok(Bytes::from(body)),
        Err(BodyError::TooBig) => Err(MgError::Decode(format!(
            "the answer is larger than {} MiB",
            MAX_BODY / 1024 / 1024
        ))),
        Err(BodyError::Transport(e)) => Err(MgError::Unreachable(describe_transport_error(&e))),
    }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, MgError> {
    serde_json::from_slice(body).map_err(|e| MgError::Decode(e.to_string()))
}

/// For answers that may be empty (`{}` or nothing at all).
fn decode_or_default<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, MgError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    decode(body)
}

/// Full jitter: uniform in [0, min(cap, base · 2^(attempt-1))].
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16))
        .min(BACKOFF_CAP);
    let millis = rand::thread_rng().gen_range(0..=ceiling.as_millis() as u64);
    Duration::from_millis(millis)
}

/// `Retry-After` in seconds (MG is not known to send it; we honour it if it does).
fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds: f64 = value.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds).min(RETRY_AFTER_CAP))
}

/// The path without its query, for logs.
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}
