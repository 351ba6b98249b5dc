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
use super::types::*;
use crate::config::MgSettings;
use crate::domain::MgToken;
use crate::http::{client_builder, describe_transport_error, read_bounded, BodyError};

/// Biggest answer we read (v1 reads up to 25 MiB; a full channel list is a few MiB).
const MAX_BODY: usize = 25 * 1024 * 1024;
/// Backoff without `Retry-After`: full jitter over 200 ms · 2^attempt, at most 3.2 s.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_millis(3200);
/// A `Retry-After` longer than this is cut short (the attempt limit still applies).
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);
/// A file download may take longer than an API call: 50 MB at a slow 200 KB/s.
const DOWNLOAD_TIME_LIMIT: Duration = Duration::from_secs(300);
const MAX_DOWNLOAD_REDIRECTS: usize = 3;

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

/// One account's view of MG: every Transport API operation (`transport-api.md` §2).
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

    // ---- Channels -------------------------------------------------------------------------

    /// `GET /channels`.
    pub async fn list_channels(&self, query: &ListChannelsQuery) -> Result<Vec<Channel>, MgError> {
        let params = channels_query(query);
        let path = if params.is_empty() {
            "/channels".to_owned()
        } else {
            format!("/channels?{params}")
        };
        let body = self.call(get(path)).await?;
        decode(&body)
    }

    /// `POST /channels`: creates a channel, or re-activates `request.id`.
    pub async fn activate_channel(
        &self,
        request: &ActivateChannelRequest,
    ) -> Result<ActivateChannelResponse, MgError> {
        let body = self
            .call(json(
                Method::POST,
                "/channels".into(),
                request,
                Repeat::NotSafe,
            ))
            .await?;
        decode(&body)
    }

    /// `PUT /channels/{id}`.
    pub async fn update_channel(
        &self,
        id: MgChannelId,
        request: &UpdateChannelRequest,
    ) -> Result<UpdateChannelResponse, MgError> {
        let path = format!("/channels/{id}");
        let body = self
            .call(json(Method::PUT, path, request, Repeat::Safe))
            .await?;
        decode(&body)
    }

    /// `DELETE /channels/{id}`: the channel stays listed, inactive.
    pub async fn deactivate_channel(
        &self,
        id: MgChannelId,
    ) -> Result<DeactivateChannelResponse, MgError> {
        let body = self
            .call(Call {
                method: Method::DELETE,
                path: format!("/channels/{id}"),
                payload: Payload::None,
                repeat: Repeat::Safe,
            })
            .await?;
        decode(&body)
    }

    // ---- Templates ------------------------------------------------------------------------

    /// `GET /templates`: every template of this token's channels.
    pub async fn list_templates(&self) -> Result<Vec<Template>, MgError> {
        let body = self.call(get("/templates".into())).await?;
        decode(&body)
    }

    /// `POST /channels/{id}/templates`.
    pub async fn activate_template(
        &self,
        channel: MgChannelId,
        request: &ActivateTemplateRequest,
    ) -> Result<(), MgError> {
        let path = format!("/channels/{channel}/templates");
        self.call(json(Method::POST, path, request, Repeat::NotSafe))
            .await?;
        Ok(())
    }

    /// `PUT /channels/{id}/templates/{code}` (the code is percent-escaped: `#` is common).
    pub async fn update_template(
        &self,
        channel: MgChannelId,
        code: &str,
        request: &UpdateTemplateRequest,
    ) -> Result<(), MgError> {
        let path = format!("/channels/{channel}/templates/{}", escape_segment(code));
        self.call(json(Method::PUT, path, request, Repeat::Safe))
            .await?;
        Ok(())
    }

    /// `DELETE /channels/{id}/templates/{code}`.
    pub async fn deactivate_template(
        &self,
        channel: MgChannelId,
        code: &str,
    ) -> Result<(), MgError> {
        self.call(Call {
            method: Method::DELETE,
            path: format!("/channels/{channel}/templates/{}", escape_segment(code)),
            payload: Payload::None,
            repeat: Repeat::Safe,
        })
        .await?;
        Ok(())
    }

    // ---- Messages -------------------------------------------------------------------------

    /// `POST /messages`: never repeated after a network error or 5xx (MG may have stored it);
    /// sending it again later is safe thanks to `message.external_id`, and the answer is then
    /// an error for which `MgError::is_duplicate_external_id` is true.
    pub async fn send_message(
        &self,
        request: &SendMessageRequest,
    ) -> Result<SendMessageResponse, MgError> {
        let body = self
            .call(json(
                Method::POST,
                "/messages".into(),
                request,
                Repeat::NotSafe,
            ))
            .await?;
        decode(&body)
    }

    /// `POST /messages/history`.
    pub async fn send_history_message(
        &self,
        request: &SendHistoryMessageRequest,
    ) -> Result<SendMessageResponse, MgError> {
        let body = self
            .call(json(
                Method::POST,
                "/messages/history".into(),
                request,
                Repeat::NotSafe,
            ))
            .await?;
        decode(&body)
    }

    /// `PUT /messages`.
    pub async fn edit_message(&self, request: &EditMessageRequest) -> Result<(), MgError> {
        self.call(json(Method::PUT, "/messages".into(), request, Repeat::Safe))
            .await?;
        Ok(())
    }

    /// `DELETE /messages`, with a JSON body.
    pub async fn delete_message(
        &self,
        request: &DeleteMessageRequest,
    ) -> Result<MessageInfo, MgError> {
        let body = self
            .call(json(
                Method::DELETE,
                "/messages".into(),
                request,
                Repeat::Safe,
            ))
            .await?;
        decode_or_default(&body)
    }

    /// `POST /messages/restore`.
    pub async fn restore_message(
        &self,
        request: &RestoreMessageRequest,
    ) -> Result<MessageInfo, MgError> {
        let body = self
            .call(json(
                Method::POST,
                "/messages/restore".into(),
                request,
                Repeat::NotSafe,
            ))
            .await?;
        decode_or_default(&body)
    }

    /// `POST /messages/ack`.
    pub async fn ack_message(&self, request: &AckMessageRequest) -> Result<(), MgError> {
        self.call(json(
            Method::POST,
            "/messages/ack".into(),
            request,
            Repeat::Safe,
        ))
        .await?;
        Ok(())
    }

    /// `POST /messages/read`.
    pub async fn mark_read(&self, request: &MarkReadRequest) -> Result<(), MgError> {
        self.call(json(
            Method::POST,
            "/messages/read".into(),
            request,
            Repeat::Safe,
        ))
        .await?;
        Ok(())
    }

    /// `POST /messages/read_until`.
    pub async fn mark_read_until(
        &self,
        request: &MarkReadUntilRequest,
    ) -> Result<MarkReadUntilResponse, MgError> {
        let body = self
            .call(json(
                Method::POST,
                "/messages/read_until".into(),
                request,
                Repeat::Safe,
            ))
            .await?;
        decode_or_default(&body)
    }

    /// `POST /messages/reaction`.
    pub async fn add_reaction(&self, request: &AddReactionRequest) -> Result<(), MgError> {
        self.call(json(
            Method::POST,
            "/messages/reaction".into(),
            request,
            Repeat::Safe,
        ))
        .await?;
        Ok(())
    }

    /// `DELETE /messages/reaction`, with a JSON body.
    pub async fn delete_reaction(&self, request: &DeleteReactionRequest) -> Result<(), MgError> {
        self.call(json(
            Method::DELETE,
            "/messages/reaction".into(),
            request,
            Repeat::Safe,
        ))
        .await?;
        Ok(())
    }

    // ---- Files ----------------------------------------------------------------------------

    /// `POST /files/upload` with the file as the raw body (the form MG's clients use; the
    /// OpenAPI document's multipart form has no field name). MG sniffs the type; v1 always
    /// said `application/json`, we pass the file's own.
    pub async fn upload_file(
        &self,
        body: impl Into<UploadBody>,
        content_type: &str,
    ) -> Result<FileInfo, MgError> {
        let answer = self
            .call(Call {
                method: Method::POST,
                path: "/files/upload".into(),
                payload: Payload::Raw {
                    content_type: content_type.to_owned(),
                    body: Some(body.into()),
                },
                repeat: Repeat::NotSafe,
            })
            .await?;
        decode(&answer)
    }

    /// `POST /files/upload_by_url`: MG fetches the file.
    pub async fn upload_file_by_url(
        &self,
        request: &UploadFileByUrlRequest,
    ) -> Result<FileInfo, MgError> {
        let body = self
            .call(json(
                Method::POST,
                "/files/upload_by_url".into(),
                request,
                Repeat::NotSafe,
            ))
            .await?;
        decode(&body)
    }

    /// `GET /files/{id}`: file info with a download URL.
    pub async fn get_file(&self, id: &MgFileId) -> Result<FileInfo, MgError> {
        let body = self
            .call(get(format!("/files/{}", escape_segment(&id.0))))
            .await?;
        decode(&body)
    }

    /// Downloads a file by the URL MG gave for it (`FileInfo::download_url`), at most `limit`
    /// bytes. The URL is public or pre-signed (§4.4), so it is fetched WITHOUT the token: it
    /// may point at a storage host that must never see it. Not rate limited (the limit is the
    /// API's) and not repeated (the caller's job is). Redirects are followed by hand, a few
    /// hops, since no credential rides along; the URL is never put in an error (it may carry
    /// a signature).
    pub async fn download(&self, url: &str, limit: u64) -> Result<Bytes, MgError> {
        let mut url = parse_download_url(url)?;
        for _ in 0..=MAX_DOWNLOAD_REDIRECTS {
            let inner = &self.client.inner;
            if inner.guarded && !inner.pinned.iter().any(|p| url.host_str() == Some(p)) {
                check_file_url(&url).await?;
            }
            let mut response = self
                .client
                .inner
                .http
                .get(url.clone())
                .timeout(DOWNLOAD_TIME_LIMIT)
                .send()
                .await
                .map_err(|e| match e.is_builder() {
                    true => request_error(&e),
                    false => MgError::Unreachable(describe_transport_error(&e)),
                })?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|location| url.join(location).ok())
                    .ok_or_else(|| MgError::Decode("a file redirect without a target".into()))?;
                url = parse_download_url(next.as_str())?;
                continue;
            }
            if !status.is_success() {
                // A storage host's error page is not MG's `errors` shape: keep the status only.
                return Err(MgError::Api {
                    status: status.as_u16(),
                    errors: vec!["the file could not be downloaded".into()],
                });
            }
            if response.content_length().is_some_and(|len| len > limit) {
                return Err(too_big(limit));
            }
            let cap = usize::try_from(limit).unwrap_or(usize::MAX);
            return match read_bounded(&mut response, cap).await {
                Ok(body) => Ok(Bytes::from(body)),
                Err(BodyError::TooBig) => Err(too_big(limit)),
                Err(BodyError::Transport(e)) => {
                    Err(MgError::Unreachable(describe_transport_error(&e)))
                }
            };
        }
        Err(MgError::Decode("too many redirects for a file".into()))
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

/// Only web URLs are fetched (a `file://` or odd scheme from a bad answer is refused).
fn parse_download_url(text: &str) -> Result<url::Url, MgError> {
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        _ => Err(MgError::Decode("the file's URL is not a web URL".into())),
    }
}

/// The SSRF guard on one hop of a file download, literal or name (the resolver checks the name
/// again on connecting). A file on an internal address is refused for good, not retried.
async fn check_file_url(url: &url::Url) -> Result<(), MgError> {
    use crate::crm::guard::{check_url, GuardError};
    match check_url(url).await {
        Ok(_) => Ok(()),
        Err(e @ GuardError::Forbidden { .. }) => Err(MgError::Decode(format!(
            "the file's URL is not on the public internet: {e}"
        ))),
        Err(e @ GuardError::Unresolvable { .. }) => Err(MgError::Unreachable(e.to_string())),
    }
}

fn too_big(limit: u64) -> MgError {
    MgError::Api {
        status: 413,
        errors: vec![format!(
            "the file is larger than {} MB",
            limit / (1024 * 1024)
        )],
    }
}

/// `since`/`until` as MG's query wants them: UTC with microseconds.
fn query_time(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Percent-escapes everything but RFC 3986 unreserved characters (`#` in template codes).
fn escape_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query string of `GET /channels` (a plain function: the serializer is not `Send`, so it
/// must not live across an await).
fn channels_query(query: &ListChannelsQuery) -> String {
    let mut params = url::form_urlencoded::Serializer::new(String::new());
    if let Some(id) = query.id {
        params.append_pair("id", &id.to_string());
    }
    if let Some(active) = query.active {
        params.append_pair("active", if active { "true" } else { "false" });
    }
    for kind in &query.types {
        params.append_pair("types", kind);
    }
    if let Some(since) = query.since {
        params.append_pair("since", &query_time(since));
    }
    if let Some(until) = query.until {
        params.append_pair("until", &query_time(until));
    }
    if let Some(limit) = query.limit {
        params.append_pair("limit", &limit.to_string());
    }
    params.finish()
}

/// The path without its query, for logs.
fn path_only(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_codes_are_escaped_in_paths() {
        assert_eq!(
            escape_segment("ns#order_shipped#en"),
            "ns%23order_shipped%23en"
        );
        assert_eq!(escape_segment("a/b c%"), "a%2Fb%20c%25");
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 1..10 {
            let ceiling = (200u64 << (attempt - 1)).min(3200);
            for _ in 0..50 {
                assert!(backoff(attempt) <= Duration::from_millis(ceiling));
            }
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(header::RETRY_AFTER, "3600".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(RETRY_AFTER_CAP));
        headers.insert(
            header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn every_call_is_a_send_future() {
        // Callers spawn these; a non-Send value held across an await would break them.
        fn is_send<T: Send>(_: &T) {}
        let settings = MgSettings {
            rate_limit_per_second: 30,
            rate_limit_burst: 5,
            rate_limit_window_margin_ms: 10,
            timeout_seconds: 5,
            max_attempts: 3,
            delivery: crate::config::DeliveryMode::Async,
        };
        let api = MgClient::new(&settings)
            .unwrap()
            .api("http://127.0.0.1:9", &MgToken::new("t".into()));
        let channel = MgChannelId(1);
        let message = MessageIdentifier::id(MgMessageId(1));
        is_send(&api.list_channels(&ListChannelsQuery::default()));
        is_send(&api.deactivate_channel(channel));
        is_send(&api.list_templates());
        is_send(&api.deactivate_template(channel, "a#b"));
        is_send(&api.get_file(&MgFileId("x".into())));
        is_send(&api.upload_file(vec![1u8], "image/png"));
        let read = MarkReadRequest {
            channel_id: channel,
            message: message.clone(),
        };
        is_send(&api.mark_read(&read));
        let reaction = DeleteReactionRequest {
            channel,
            message,
            reaction: None,
        };
        is_send(&api.delete_reaction(&reaction));
    }

    #[test]
    fn query_times_are_utc_with_microseconds() {
        let t = time::macros::datetime!(2026-07-01 12:00:00.123456 +02:00);
        assert_eq!(query_time(t), "2026-07-01T10:00:00.123456Z");
    }
}
