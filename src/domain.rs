//! Domain types parsed at the edge: once a value has one of these types it is valid, and secrets
//! among them cannot be printed by accident.

use std::fmt;

use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// The secret per-connection id the module generates and the CRM echoes in every callback
/// (256 random bits as 64 lowercase hex characters). It is the only thing that authenticates
/// the CRM's callbacks, so it is kept like a secret: encrypted at rest, fingerprinted for
/// look-ups, and redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// Accepts exactly what `generate` makes; anything else cannot belong to an account.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first 6 characters are enough to tell accounts apart in logs.
        write!(f, "ClientId({}…)", &self.0[..6])
    }
}

/// Our own id of an account row (not secret; never leaves the service).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A CRM API key, as the merchant typed it (trimmed).
#[derive(Clone)]
pub struct ApiKey(SecretString);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("Enter the API key you created in the CRM.")]
    Empty,
    #[error("That API key is too long: CRM API keys are short strings of letters and digits.")]
    TooLong,
    #[error("That API key contains spaces or other characters an API key never has.")]
    BadCharacters,
}

impl ApiKeyError {
    /// What the merchant reads, in their language.
    pub fn text(&self) -> crate::i18n::Text {
        crate::i18n::Text::new(match self {
            Self::Empty => "error-api-key-empty",
            Self::TooLong => "error-api-key-too-long",
            Self::BadCharacters => "error-api-key-characters",
        })
    }
}

impl ApiKey {
    pub fn parse(text: &str) -> Result<Self, ApiKeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ApiKeyError::Empty);
        }
        if text.len() > 255 {
            return Err(ApiKeyError::TooLong);
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiKeyError::BadCharacters);
        }
        Ok(Self(SecretString::from(text.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// The MessageGateway transport token the CRM hands out at registration.
#[derive(Clone)]
pub struct MgToken(SecretString);

impl MgToken {
    pub fn new(token: String) -> Self {
        Self(SecretString::from(token))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for MgToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MgToken([redacted])")
    }
}

/// What the CRM says of the module: switched on in the module card, and not frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    pub active: bool,
    pub freeze: bool,
}

impl Activity {
    /// RetailCRM's transports work only while `active && !freeze`; so do we.
    pub fn is_enabled(self) -> bool {
        self.active && !self.freeze
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_256_random_bits_in_hex() {
        let a = ClientId::generate();
        let b = ClientId::generate();
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a, b);
        assert_eq!(ClientId::parse(a.as_str()), Some(a.clone()));
        assert!(!format!("{a:?}").contains(&a.as_str()[6..]));
    }

    #[test]
    fn client_id_parsing_refuses_other_shapes() {
        assert!(ClientId::parse("").is_none());
        assert!(ClientId::parse(&"A".repeat(64)).is_none());
        assert!(ClientId::parse(&"a".repeat(63)).is_none());
        assert!(ClientId::parse(&"g".repeat(64)).is_none());
    }

    #[test]
    fn api_keys_are_trimmed_and_checked() {
        assert_eq!(ApiKey::parse("  abc123  ").unwrap().expose(), "abc123");
        assert_eq!(ApiKey::parse("   ").unwrap_err(), ApiKeyError::Empty);
        assert_eq!(
            ApiKey::parse("ab cd").unwrap_err(),
            ApiKeyError::BadCharacters
        );
        assert_eq!(
            ApiKey::parse(&"x".repeat(256)).unwrap_err(),
            ApiKeyError::TooLong
        );
        assert_eq!(
            format!("{:?}", ApiKey::parse("abc").unwrap()),
            "ApiKey([redacted])"
        );
    }

    #[test]
    fn only_active_unfrozen_accounts_are_enabled() {
        assert!(Activity {
            active: true,
            freeze: false
        }
        .is_enabled());
        assert!(!Activity {
            active: true,
            freeze: true
        }
        .is_enabled());
        assert!(!Activity {
            active: false,
            freeze: false
        }
        .is_enabled());
    }
}

/// The origin of a CRM account, normalised (`https://acme.retailcrm.ru`: lowercase host, no
/// trailing slash, no path). Built by `crm::address::CrmPolicy::parse`, or from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmUrl(String);

impl CrmUrl {
    /// For values that were validated before they were stored, and for the address parser.
    pub fn from_trusted(origin: String) -> Self {
        Self(origin)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CrmUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The messengers the bridge carries. A channel belongs to one; stored as text
/// (`channel.messenger`), and it picks the arm at each seam point (`messenger::Messengers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessengerKind {
    Telegram,
    Max,
}

impl MessengerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Telegram => "telegram",
            Self::Max => "max",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "telegram" => Some(Self::Telegram),
            "max" => Some(Self::Max),
            _ => None,
        }
    }

    /// The name a merchant knows it by.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Telegram => "Telegram",
            Self::Max => "MAX",
        }
    }

    /// Where a merchant gets a bot's token again, for the message when it is refused.
    pub fn token_hint(self) -> &'static str {
        match self {
            Self::Telegram => "Copy it again from @BotFather (or issue a new one with /token).",
            Self::Max => {
                "Copy it again from the bot's page on business.max.ru (Chat bots → Integration)."
            }
        }
    }

    /// The channel type MG knows the messenger by (`POST /channels`).
    pub fn mg_channel_type(self) -> &'static str {
        match self {
            Self::Telegram => "telegram",
            Self::Max => "max",
        }
    }

    /// The first segment of its bots' webhook paths: `/{segment}/{webhook_key}`.
    pub fn webhook_segment(self) -> &'static str {
        match self {
            Self::Telegram => "telegram",
            Self::Max => "max",
        }
    }
}

/// Which way a job carries a message: a customer's, from the messenger to MG; or an
/// operator's (and MG's edits, deletes, reactions), from MG to the messenger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ToMg,
    ToMessenger,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ToMg => "to_mg",
            Self::ToMessenger => "to_messenger",
        }
    }

    /// Also reads the names versions before the messenger seam stored ("telegram" was a
    /// Telegram update, "mg" an MG webhook), so a replica not yet migrated is understood.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "to_mg" | "telegram" => Some(Self::ToMg),
            "to_messenger" | "mg" => Some(Self::ToMessenger),
            _ => None,
        }
    }

    /// 0 for to MG, 1 for to the messenger: the index of per-direction counters.
    pub fn index(self) -> usize {
        match self {
            Self::ToMg => 0,
            Self::ToMessenger => 1,
        }
    }
}
