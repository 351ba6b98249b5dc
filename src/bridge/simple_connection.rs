//! The simple (one-step) connection (`protocol/system-api.md` §5.4): the CRM creates the API
//! key itself and posts it to us signed with the secret the partner account generated. Here:
//! the secret, the signature check, and the register request parsed at the edge. What follows a
//! good signature is the connect flow itself (`bridge::connect::Connector`).

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// `module.simple_connection_secret`: the partner account's secret for this module.
pub struct PartnerSecret(SecretString);

impl std::fmt::Debug for PartnerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PartnerSecret([redacted])")
    }
}

impl PartnerSecret {
    pub fn new(secret: SecretString) -> Self {
        Self(secret)
    }

    /// Whether `token` is lower-case hex of HMAC-SHA256(key = secret, message = api_key),
    /// compared in constant time. Upper-case hex is refused, as api-client-go's `Verify`
    /// (a string comparison) refuses it.
    pub fn signs(&self, api_key: &str, token: &str) -> bool {
        let mut mac = HmacSha256::new_from_slice(self.0.expose_secret().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(api_key.as_bytes());
        let expected = hex::encode(mac.finalize().into_bytes());
        bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }
}

/// The `register` form field: `{"token", "apiKey", "systemUrl"}`. Not `Debug`: it holds the key.
#[derive(Deserialize)]
pub struct RegisterRequest {
    // Missing fields read as empty, as in api-client-go's `ConnectRequest`: the signature
    // check then refuses them, or, signed, the connect flow explains what is missing.
    #[serde(default)]
    pub token: String,
    #[serde(rename = "apiKey", default)]
    pub api_key: String,
    #[serde(rename = "systemUrl", default)]
    pub system_url: String,
}

/// Why a `register` field could not be read (mg-transport-core's messages, which the CRM may
/// show the merchant).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error("No data provided: the form field `register` is missing or empty.")]
    NoData,
    #[error(
        "Invalid JSON provided: `register` must be a JSON object with token, apiKey and systemUrl."
    )]
    InvalidJson,
}

impl RegisterError {
    /// What the CRM shows the merchant, in their language.
    pub fn text(&self) -> crate::i18n::Text {
        crate::i18n::Text::new(match self {
            Self::NoData => "error-register-no-data",
            Self::InvalidJson => "error-register-invalid-json",
        })
    }
}

impl RegisterRequest {
    pub fn parse(field: &str) -> Result<Self, RegisterError> {
        if field.trim().is_empty() {
            return Err(RegisterError::NoData);
        }
        // Through `Value`: serde would also read a struct from an array, `[]` included.
        match serde_json::from_str::<serde_json::Value>(field) {
            Ok(value @ serde_json::Value::Object(_)) => {
                Self::deserialize(value).map_err(|_| RegisterError::InvalidJson)
            }
            _ => Err(RegisterError::InvalidJson),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> PartnerSecret {
        PartnerSecret::new(SecretString::from(text.to_owned()))
    }

    #[test]
    fn the_protocol_test_vectors_are_signed() {
        // protocol/system-api.md §7 T14 and protocol/platform-2026.md §2.3.
        for (key, api_key, token) in [
            (
                "partner-secret-1",
                "kX3pQ9vL2mN8rT4wY6zA1bC5dE7fG0hJ",
                "0b7005c24c53d888338b853295c4ec7bd568446073709041e0365e14d742a36c",
            ),
            (
                "secret",
                "key",
                "96de09a0f8699191b28587118ac57df88bbf6c2d0c131d196dcd90f7efd68c93",
            ),
            (
                "secret",
                "apikey",
                "d62b651aca3fef216ab9683fff31d8e89fef0d9cc114c7a1ab11e8c0d719d439",
            ),
            (
                "Qw3rtySecret",
                "d1f2e3a4b5c6",
                "b40b83faac3cfe381a277b9c3c2a2fd03674c90f5d0454c2a19d785e1bc32d0a",
            ),
        ] {
            assert!(secret(key).signs(api_key, token), "{key} / {api_key}");
        }
    }

    #[test]
    fn anything_else_is_not_signed() {
        let good = "0b7005c24c53d888338b853295c4ec7bd568446073709041e0365e14d742a36c";
        let api_key = "kX3pQ9vL2mN8rT4wY6zA1bC5dE7fG0hJ";
        let s = secret("partner-secret-1");
        assert!(!s.signs(api_key, &good.to_uppercase()));
        assert!(!s.signs(api_key, &good[..63]));
        assert!(!s.signs(api_key, ""));
        assert!(!s.signs("another-key", good));
        assert!(!secret("partner-secret-2").signs(api_key, good));
        let flipped = format!("1{}", &good[1..]);
        assert!(!s.signs(api_key, &flipped));
    }

    #[test]
    fn register_fields_are_read_like_the_reference_client() {
        let r = RegisterRequest::parse(
            r#"{"token":"t","apiKey":"k","systemUrl":"https://acme.simla.com/","extra":1}"#,
        )
        .unwrap();
        assert_eq!(
            (r.token.as_str(), r.api_key.as_str(), r.system_url.as_str()),
            ("t", "k", "https://acme.simla.com/")
        );
        let r = RegisterRequest::parse(r#"{"apiKey":"k"}"#).unwrap();
        assert!(r.token.is_empty() && r.system_url.is_empty());
        assert_eq!(
            RegisterRequest::parse("  ").err(),
            Some(RegisterError::NoData)
        );
        for bad in ["{", "[]", r#"["t","k","u"]"#, "\"x\"", r#"{"token":5}"#] {
            assert_eq!(
                RegisterRequest::parse(bad).err(),
                Some(RegisterError::InvalidJson),
                "{bad}"
            );
        }
    }
}
