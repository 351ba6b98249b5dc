//! What the outbound HTTP clients share: the CRM's ([`crate::crm`]), MG's ([`crate::mg`]) and
//! Telegram's ([`crate::messenger`]). Each starts from [`client_builder`], reads answers with
//! [`read_bounded`] and words transport failures with [`describe_transport_error`]; each adds
//! its own rules on top (the SSRF guard, read timeouts, scrubbing the bot token).

use std::time::Duration;

/// The most any client waits for a connection to open, whatever its request timeout.
const CONNECT_TIMEOUT_CAP: Duration = Duration::from_secs(5);

/// A reqwest builder with what every outside call needs: our user agent, `timeout` for the
/// whole request, a connect timeout of at most 5 s, and redirects refused. A redirect would
/// carry a credential header (CRM, MG) or a token in the path (Telegram) to wherever it
/// points, past the SSRF guard's first check; reqwest strips only the standard credential
/// headers. Callers that want to follow one (MG file downloads) do it by hand.
pub(crate) fn client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("mgbridge/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .connect_timeout(timeout.min(CONNECT_TIMEOUT_CAP))
        .redirect(reqwest::redirect::Policy::none())
}

/// Why [`read_bounded`] stopped short of the body's end.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is longer than the limit; what arrived so far is dropped.
    TooBig,
    /// The connection failed while reading (reqwest's error, for the caller to word).
    Transport(reqwest::Error),
}

/// The whole body, or [`BodyError::TooBig`] as soon as it passes `limit` bytes: a peer cannot
/// make us hold more than that, whatever it announces.
pub(crate) async fn read_bounded(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooBig);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A short, safe description of a transport failure. reqwest's Display includes the URL, and
/// URLs are not ours to print (the Bot API even puts its token there): keep the kind of
/// failure and the innermost cause, unless that cause quotes a URL too.
pub(crate) fn describe_transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() || cause.contains("://") {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}
