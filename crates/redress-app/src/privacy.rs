//! Personal data at rest: sealing with an AEAD and keyed hashes for look-ups.
//!
//! One 32-byte master key (from `REDRESS_DATA_KEY` or a key file created
//! with mode 0600 in the data directory) is split with HMAC into an
//! encryption key (XChaCha20-Poly1305, random 192-bit nonces) and a MAC
//! key for look-up hashes, so that neither use weakens the other.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const SEALED_PREFIX: &str = "sealed:v1:";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("REDRESS_DATA_KEY must be 32 bytes, given as 64 hex digits or base64")]
    BadKey,
    #[error("the key file {0}: {1}")]
    File(String, std::io::Error),
}

#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(master).expect("any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl Vault {
    pub fn from_master(master: &[u8; 32]) -> Self {
        let enc = derive(master, b"redress/seal/v1");
        Self {
            cipher: XChaCha20Poly1305::new((&enc).into()),
            mac_key: derive(master, b"redress/lookup/v1"),
        }
    }

    /// The configured key, or the key file in `data_dir` (created on first start).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, KeyError> {
        if let Some(raw) = configured.map(str::trim).filter(|s| !s.is_empty()) {
            return Ok(Self::from_master(&parse_key(raw).ok_or(KeyError::BadKey)?));
        }
        let path = data_dir.join("data.key");
        let shown = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Self::from_master(
                &parse_key(&text).ok_or(KeyError::BadKey)?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                OsRng.fill_bytes(&mut key);
                write_private(&path, hex::encode(key).as_bytes())
                    .map_err(|e| KeyError::File(shown, e))?;
                Ok(Self::from_master(&key))
            }
            Err(e) => Err(KeyError::File(shown, e)),
        }
    }

    pub fn seal(&self, plain: &str) -> String {
        self.seal_bytes(plain.as_bytes())
    }

    /// Seals bytes that need not be text (a raw e-mail message).
    pub fn seal_bytes(&self, plain: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = self
            .cipher
            .encrypt(&nonce, plain)
            .expect("encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(out))
    }

    /// `None` when the text was not sealed with this key (or was altered).
    pub fn open(&self, sealed: &str) -> Option<String> {
        String::from_utf8(self.open_bytes(sealed)?).ok()
    }

    /// The bytes [`Vault::seal_bytes`] sealed; `None` as for `open`.
    pub fn open_bytes(&self, sealed: &str) -> Option<Vec<u8>> {
        let raw = STANDARD.decode(sealed.strip_prefix(SEALED_PREFIX)?).ok()?;
        if raw.len() < 24 {
            return None;
        }
        let (nonce, ct) = raw.split_at(24);
        self.cipher.decrypt(XNonce::from_slice(nonce), ct).ok()
    }

    /// The reply token of a case: what a reply must carry (in our
    /// Reply-To plus-address) to be added to the case (SPEC §5). Keyed,
    /// so that knowing a tracking number is not enough.
    pub fn reply_token(&self, tracking_no: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.mac_key).expect("any key length");
        mac.update(b"reply-token:");
        mac.update(tracking_no.trim().to_ascii_uppercase().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    /// A keyed hash for equality look-ups of personal data.
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.mac_key).expect("any key length");
        mac.update(value.trim().to_lowercase().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn parse_key(raw: &str) -> Option<[u8; 32]> {
    let raw = raw.trim();
    let bytes = hex::decode(raw)
        .ok()
        .or_else(|| STANDARD.decode(raw).ok())
        .or_else(|| URL_SAFE_NO_PAD.decode(raw).ok())?;
    bytes.try_into().ok()
}

/// Writes a file only its owner can read (0600 on Unix), refusing to replace one.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A fresh secret token with a recognisable prefix (`rdt_`, `rds_`, …).
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Tokens are 256-bit random values, so a plain SHA-256 is a safe stored form.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Equality of secrets without an early exit (the time taken does not tell
/// how many leading bytes matched).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_tamper() {
        let v = Vault::from_master(&[7u8; 32]);
        let s = v.seal("13812345678");
        assert!(!s.contains("1381"));
        assert_eq!(v.open(&s).as_deref(), Some("13812345678"));
        let mut bad = s.clone();
        bad.pop();
        bad.push(if s.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(v.open(&bad), None);
        assert_eq!(Vault::from_master(&[8u8; 32]).open(&s), None);
        assert_eq!(v.lookup_hash("A@x.cn"), v.lookup_hash("a@x.cn "));
    }
}
