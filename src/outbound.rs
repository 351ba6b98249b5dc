//! What the outbound HTTP clients (CRM, MG) share.

/// A short, safe description of a transport failure. reqwest's Display includes the URL, and
/// URLs are not ours to print (the Bot API even puts its token there): keep the kind of
/// failure and the innermost cause, unless that cause quotes a URL too.
pub(crate) fn describe_transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
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
