//! Request and answer bodies of the Transport API (`protocol/transport-api.md` §2–4, checked
//! against `protocol/mg-transport-api.openapi.json` by `tests/api/mg_client.rs`).
//!
//! Requests are strict: field names exactly as MG spells them (`channel` here, `channel_id`
//! there), optional fields left out rather than sent as `null`. Answers are tolerant: MG's two
//! clients disagree on several shapes, so unknown fields are ignored, timestamps that do not
//! parse become `None`, and lists may be missing.
//!
//! The ids are here; the bodies are in one file per part of the API, re-exported: `channels`
//! (§3), `templates` (§4.1), `messages` (§4.2–4.3, §6), `files` (§4.4).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// MG's id of a channel (one Telegram bot is one channel).
    MgChannelId(i64)
);
id_type!(
    /// MG's id of a message.
    MgMessageId(i64)
);
id_type!(
    /// MG's id of a template.
    MgTemplateId(i64)
);
id_type!(
    /// MG's id (a UUID) of an uploaded file, used in `message.items[].id`.
    MgFileId(String)
);

impl Copy for MgChannelId {}
impl Copy for MgMessageId {}
impl Copy for MgTemplateId {}

mod channels;
mod files;
mod messages;
mod templates;
#[cfg(test)]
mod tests;

pub use channels::*;
pub use files::*;
pub use messages::*;
pub use templates::*;

// ---------------------------------------------------------------------------------------------
// Tolerant readers for answers

/// `None` instead of an error when a value is `null` or not what we expect.
fn lenient<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

/// A list, or empty when missing, `null` or malformed.
fn lenient_list<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(lenient::<D, Vec<T>>(d)?.unwrap_or_default())
}

/// RFC 3339, or MG's examples' form without an offset (taken as UTC); `None` otherwise.
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d).ok().flatten() else {
        return Ok(None);
    };
    Ok(parse_time(&text))
}

pub(crate) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339).ok()
}
