//! One method per Transport API operation (`protocol/transport-api.md` §2), each saying
//! whether it may be repeated after a network error or a 5xx (the module doc of `client`).

use std::time::Duration;

use bytes::Bytes;
use reqwest::{header, Method};

use super::{
    decode, decode_or_default, get, json, request_error, Call, MgApi, Payload, Repeat, UploadBody,
};
use crate::http::{describe_transport_error, read_bounded, BodyError};
use crate::mg::error::MgError;
use crate::mg::types::*;

/// A file download may take longer than an API call: 50 MB at a slow 200 KB/s.
const DOWNLOAD_TIME_LIMIT: Duration = Duration::from_secs(300);
const MAX_DOWNLOAD_REDIRECTS: usize = 3;

impl MgApi {
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
pub(super) fn query_time(t: time::OffsetDateTime) -> String {
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
pub(super) fn escape_segment(segment: &str) -> String {
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
