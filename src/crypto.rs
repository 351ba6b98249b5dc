//! Secrets at rest: API keys, MG tokens, clientIds and (later) bot tokens are sealed with
//! XChaCha20-Poly1305 under `security.encryption_key`. A stored value is
//! `v1:` + base64(nonce ‖ ciphertext); the purpose string is the AEAD's associated data, so a
//! ciphertext copied into another column does not decrypt.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256, Sha512};

const VERSION_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 24;

/// The 32-byte master key. Never printed.
pub struct MasterKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// Parses 64 hex characters (what `openssl rand -hex 32` prints).
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let bytes = hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .context(
                "security.encryption_key must be 64 hex characters (`openssl rand -hex 32`)",
            )?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self(SecretBox::new(Box::new(key)))
    }

    fn to_hex(&self) -> String {
        hex::encode(self.0.expose_secret())
    }

    /// A key for one purpose derived from the master key, so one secret never serves two uses.
    pub fn derive(&self, purpose: &str) -> [u8; 64] {
        let mut hasher = Sha512::new();
        hasher.update(b"mgbridge/");
        hasher.update(purpose.as_bytes());
        hasher.update(self.0.expose_secret());
        hasher.finalize().into()
    }
}

/// Where the key comes from when `security.encryption_key` is empty.
#[derive(Debug, PartialEq, Eq)]
pub enum KeySource {
    Configured,
    /// Read from an existing key file.
    File(PathBuf),
    /// A new key file was written.
    Created(PathBuf),
}

/// Reads the key file, or creates it with mode 0600 when it does not exist yet.
pub fn load_or_create_key_file(path: &Path) -> anyhow::Result<(MasterKey, KeySource)> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the key file {}", path.display()))?;
        let key = MasterKey::parse(&text)
            .with_context(|| format!("the key file {} is damaged", path.display()))?;
        return Ok((key, KeySource::File(path.to_owned())));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the folder {}", dir.display()))?;
    }
    let key = MasterKey::generate();
    write_private_file(path, &key.to_hex())
        .with_context(|| format!("writing the key file {}", path.display()))?;
    Ok((key, KeySource::Created(path.to_owned())))
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("a stored secret could not be decrypted (wrong security.encryption_key?)")]
    Decrypt,
}

/// Seals and opens stored secrets.
#[derive(Clone)]
pub struct Cipher {
    aead: std::sync::Arc<XChaCha20Poly1305>,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher")
    }
}

impl Cipher {
    pub fn new(key: &MasterKey) -> Self {
        let derived = key.derive("secrets-at-rest");
        let aead = XChaCha20Poly1305::new_from_slice(&derived[..32]).expect("32-byte key");
        Self {
            aead: std::sync::Arc::new(aead),
        }
    }

    pub fn seal(&self, purpose: &str, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: purpose.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION_PREFIX}{}", BASE64.encode(out))
    }

    pub fn open(&self, purpose: &str, stored: &str) -> Result<SecretString, CryptoError> {
        let raw = stored
            .strip_prefix(VERSION_PREFIX)
            .and_then(|b64| BASE64.decode(b64).ok())
            .filter(|raw| raw.len() > NONCE_LEN)
            .ok_or(CryptoError::Decrypt)?;
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let plain = self
            .aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: purpose.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Decrypt)
    }
}

/// A one-way fingerprint for looking a secret up without storing it (clientId look-ups).
pub fn fingerprint(purpose: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update([0]);
    hasher.update(secret.as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> Cipher {
        Cipher::new(&MasterKey::generate())
    }

    #[test]
    fn sealed_secrets_open_again_and_hide_the_plaintext() {
        let cipher = cipher();
        let sealed = cipher.seal("account.api_key", "Qw3rTy0123456789");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("Qw3rTy"));
        let opened = cipher.open("account.api_key", &sealed).unwrap();
        assert_eq!(opened.expose_secret(), "Qw3rTy0123456789");
    }

    #[test]
    fn a_secret_does_not_open_under_another_purpose_or_key() {
        let cipher = cipher();
        let sealed = cipher.seal("account.api_key", "secret");
        assert!(cipher.open("account.mg_token", &sealed).is_err());
        assert!(Cipher::new(&MasterKey::generate())
            .open("account.api_key", &sealed)
            .is_err());
        assert!(cipher.open("account.api_key", "v1:garbage").is_err());
    }

    #[test]
    fn the_same_secret_seals_differently_each_time() {
        let cipher = cipher();
        assert_ne!(cipher.seal("p", "same"), cipher.seal("p", "same"));
    }

    #[test]
    fn key_parsing_wants_64_hex_characters() {
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
        assert!(MasterKey::parse("abc").is_err());
        assert!(MasterKey::parse(&"zz".repeat(32)).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/mgbridge.key");
        let (key, source) = load_or_create_key_file(&path).unwrap();
        assert_eq!(source, KeySource::Created(path.clone()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, source) = load_or_create_key_file(&path).unwrap();
        assert_eq!(source, KeySource::File(path));
        let sealed = Cipher::new(&key).seal("p", "x");
        assert_eq!(
            Cipher::new(&again)
                .open("p", &sealed)
                .unwrap()
                .expose_secret(),
            "x"
        );
    }
}
