//! Customer avatars for MG without the bot token. A Telegram profile photo can only be fetched
//! through a URL that contains the bot token, so MG gets a URL of ours instead:
//! `{public_url}/avatar/{channel_id}/{user_id}?expires={unix}&sig={hex}`, signed with
//! HMAC-SHA256 under a key derived from the master key, served by `web::avatar` through
//! [`Avatars::photo`], which fetches it with the channel's messenger.
//!
//! Lifetime: MG may fetch the avatar long after the message (when an operator opens the chat,
//! or when it refreshes its copy), so a link lives a week. The expiry is rounded up to the next
//! whole day: every message of a customer within a day carries the same URL, so MG does not
//! see a "new" avatar on each message, and a link is valid for seven to eight days.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto::MasterKey;
use crate::messenger::{Messengers, Photo, PhotoError};
use crate::store::{ChannelId, Store, StoreError};

/// How long a link stays valid at least.
pub const LINK_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// Expiries are rounded up to a multiple of this (see the module doc).
const EXPIRY_STEP_SECS: i64 = 24 * 3600;

type HmacSha256 = Hmac<Sha256>;

/// Makes and checks signed avatar URLs `{public_url}/avatar/...`.
#[derive(Clone)]
pub struct AvatarLinks {
    /// Without a trailing slash.
    public_url: String,
    key: [u8; 32],
}

impl std::fmt::Debug for AvatarLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvatarLinks")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl AvatarLinks {
    /// `public_url` is the service's public address (a `url::Url` or its text).
    pub fn new(public_url: impl AsRef<str>, key: [u8; 32]) -> Self {
        Self {
            public_url: public_url.as_ref().trim_end_matches('/').to_owned(),
            key,
        }
    }

    /// With a key derived from the master key for this one purpose (as the CSRF key is), so
    /// links stay valid across restarts and replicas.
    pub fn from_master(master: &MasterKey, public_url: impl AsRef<str>) -> Self {
        let derived = master.derive("avatar-links");
        let mut key = [0u8; 32];
        key.copy_from_slice(&derived[..32]);
        Self::new(public_url, key)
    }

    /// A link valid for at least [`LINK_LIFETIME_SECS`] from now.
    pub fn url_for(&self, channel: &ChannelId, user_id: &str) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let expires = (now + LINK_LIFETIME_SECS).div_euclid(EXPIRY_STEP_SECS) * EXPIRY_STEP_SECS
            + EXPIRY_STEP_SECS;
        self.url_until(channel, user_id, expires)
    }

    /// A link valid until `expires` (unix seconds).
    pub fn url_until(&self, channel: &ChannelId, user_id: &str, expires: i64) -> String {
        format!(
            "{}/avatar/{}/{user_id}?expires={expires}&sig={}",
            self.public_url,
            channel.as_str(),
            hex::encode(
                self.mac(channel.as_str(), user_id, expires)
                    .finalize()
                    .into_bytes()
            )
        )
    }

    /// Whether `sig` (hex) signs this channel, user and expiry, and `expires` is still ahead
    /// of `now`. The comparison is constant-time.
    pub fn verify(&self, channel: &str, user_id: &str, expires: i64, sig: &str, now: i64) -> bool {
        let Ok(sig) = hex::decode(sig) else {
            return false;
        };
        // Checked even when expired, so timing does not tell a good signature from a bad one.
        let signed = self
            .mac(channel, user_id, expires)
            .verify_slice(&sig)
            .is_ok();
        signed && expires > now
    }

    fn mac(&self, channel: &str, user_id: &str, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        // Separated fields: no two (channel, user, expiry) triples sign the same text.
        mac.update(format!("avatar\n{channel}\n{user_id}\n{expires}").as_bytes());
        mac
    }
}

/// Serves the photos behind the links.
pub struct Avatars {
    pub links: AvatarLinks,
    pub store: Store,
    pub messengers: Arc<Messengers>,
}

#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("this avatar link is not valid")]
    NotSigned,
    #[error("no such bot")]
    NoSuchChannel,
    #[error("no profile photo")]
    NoPhoto,
    #[error("the channel could not be loaded: {0}")]
    Store(#[from] StoreError),
    #[error("the photo could not be fetched: {0}")]
    Messenger(#[from] PhotoError),
}

/// What a messenger's user id may look like in a link: short, and safe in a path.
fn plausible_user_id(user_id: &str) -> bool {
    !user_id.is_empty()
        && user_id.len() <= 64
        && user_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Avatars {
    /// The photo a link names, if the link is ours and still valid: checked before anything
    /// is looked up.
    pub async fn photo(
        &self,
        channel_id: &str,
        user_id: &str,
        expires: Option<i64>,
        sig: Option<&str>,
    ) -> Result<Photo, AvatarError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let signed = match (expires, sig) {
            (Some(expires), Some(sig)) => {
                plausible_user_id(user_id)
                    && self.links.verify(channel_id, user_id, expires, sig, now)
            }
            _ => false,
        };
        if !signed {
            return Err(AvatarError::NotSigned);
        }
        let channel = match ChannelId::parse(channel_id) {
            Some(id) => self.store.find_channel_by_id(&id).await?,
            None => None,
        };
        let channel = channel
            .filter(|c| c.active)
            .ok_or(AvatarError::NoSuchChannel)?;
        self.messengers
            .profile_photo(&channel, user_id)
            .await
            .inspect_err(|e| {
                tracing::warn!(channel = channel.id.as_str(), error = %e, "avatar: the messenger failed")
            })?
            .ok_or(AvatarError::NoPhoto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> AvatarLinks {
        AvatarLinks::new(
            url::Url::parse("https://transport.example.com/").unwrap(),
            [7; 32],
        )
    }

    #[test]
    fn avatar_links_are_signed_and_expire() {
        let channel = ChannelId::generate();
        let links = links();
        let url = url::Url::parse(&links.url_for(&channel, "7012345678")).unwrap();
        assert_eq!(
            url.path(),
            format!("/avatar/{}/7012345678", channel.as_str())
        );
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        let expires: i64 = query["expires"].parse().unwrap();
        let sig = &query["sig"];
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(expires >= now + LINK_LIFETIME_SECS);
        assert!(expires <= now + LINK_LIFETIME_SECS + EXPIRY_STEP_SECS);
        assert_eq!(expires % EXPIRY_STEP_SECS, 0);

        assert!(links.verify(channel.as_str(), "7012345678", expires, sig, now));
        // Expired, another user, another channel, another expiry, another key, not hex.
        assert!(!links.verify(channel.as_str(), "7012345678", expires, sig, expires));
        assert!(!links.verify(channel.as_str(), "7012345679", expires, sig, now));
        let other = ChannelId::generate();
        assert!(!links.verify(other.as_str(), "7012345678", expires, sig, now));
        assert!(!links.verify(channel.as_str(), "7012345678", expires + 1, sig, now));
        let other_key = AvatarLinks::new("https://transport.example.com", [8; 32]);
        assert!(!other_key.verify(channel.as_str(), "7012345678", expires, sig, now));
        assert!(!links.verify(channel.as_str(), "7012345678", expires, "zz", now));
        assert!(!links.verify(channel.as_str(), "7012345678", expires, "", now));
    }

    #[test]
    fn avatar_keys_come_from_the_master_key() {
        let master = MasterKey::parse(&"ab".repeat(32)).unwrap();
        let a = AvatarLinks::from_master(&master, "https://t.example/");
        let b = AvatarLinks::from_master(&master, String::from("https://t.example"));
        let channel = ChannelId::generate();
        assert_eq!(
            a.url_until(&channel, "5", 100),
            b.url_until(&channel, "5", 100)
        );
        let other = AvatarLinks::from_master(&MasterKey::generate(), "https://t.example");
        assert_ne!(
            a.url_until(&channel, "5", 100),
            other.url_until(&channel, "5", 100)
        );
        assert!(!format!("{a:?}").contains(&hex::encode(a.key)));
    }
}
