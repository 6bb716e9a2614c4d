//! Personal data at rest: sealing with an AEAD and keyed hashes for look-ups.
//!
//! **Master keys.** A 32-byte master key (from `REDRESS_DATA_KEY` or a key
//! file created with mode 0600 in the data directory) is split with HMAC
//! into an encryption key (XChaCha20-Poly1305, random 192-bit nonces) and
//! a MAC key for look-up hashes and reply tokens, so that neither use
//! weakens the other. Each master key has a short id (a keyed hash of the
//! key, never the key), written into everything it seals. The [`Vault`] is
//! a key ring: the current key seals; the previous key
//! (`REDRESS_DATA_KEY_PREVIOUS` or `data.key.previous`), while a rotation
//! runs, still opens what it sealed.
//!
//! **Case keys.** Every case has its own random 256-bit key ([`CaseKey`]),
//! kept in the case's row wrapped (sealed) by the current master key. The
//! case's stored document and the payloads of its journal events are
//! sealed with it; a purge destroys the wrapped key and with it every copy
//! of those texts, wherever they lie (crypto-shredding). Rotating the
//! master key only re-wraps case keys.
//!
//! **Associated data.** Every sealed value is bound to where it belongs
//! (`case:<id>:doc`, `held_mail:sender`, …): a sealed value copied into
//! another case or field does not open there.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Sealed by a master key without associated data (before key ids).
const SEALED_V1: &str = "sealed:v1:";
/// Sealed by a master key: `sealed:v2:<key id>:<base64 nonce+ciphertext>`.
const SEALED_V2: &str = "sealed:v2:";
/// Sealed by a case key: `sealed:c1:<base64 nonce+ciphertext>`.
const SEALED_CASE: &str = "sealed:c1:";
/// An evidence file at rest: this, the 8-character key id, `:`, the
/// 24-byte nonce, the ciphertext.
const SEALED_FILE: &[u8] = b"redress-evidence:v1:";
/// An evidence file sealed with its case's key: this, the 24-byte nonce,
/// the ciphertext.
const CASE_FILE: &[u8] = b"redress-evidence:c1:";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("REDRESS_DATA_KEY must be 32 bytes, given as 64 hex digits or base64")]
    BadKey,
    #[error("REDRESS_DATA_KEY_PREVIOUS must be 32 bytes, given as 64 hex digits or base64")]
    BadPreviousKey,
    #[error("the key file {0}: {1}")]
    File(String, std::io::Error),
}

/// One master key: its id, its cipher and its MAC key.
#[derive(Clone)]
struct MasterKey {
    id: String,
    cipher: XChaCha20Poly1305,
    /// Seals evidence files (a key of its own: files are many and large).
    files: XChaCha20Poly1305,
    mac_key: [u8; 32],
}

impl MasterKey {
    fn new(master: &[u8; 32]) -> Self {
        let enc = derive(master, b"redress/seal/v1");
        Self {
            id: hex::encode(&derive(master, b"redress/key-id/v1")[..4]),
            cipher: XChaCha20Poly1305::new((&enc).into()),
            files: XChaCha20Poly1305::new((&derive(master, b"redress/evidence/v1")).into()),
            mac_key: derive(master, b"redress/lookup/v1"),
        }
    }

    fn reply_token(&self, tracking_no: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.mac_key).expect("any key length");
        mac.update(b"reply-token:");
        mac.update(tracking_no.trim().to_ascii_uppercase().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }
}

/// The key ring: the current master key and, while a rotation runs, the
/// previous one.
#[derive(Clone)]
pub struct Vault {
    current: MasterKey,
    previous: Option<MasterKey>,
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

/// `nonce || ciphertext` of `plain`, bound to `aad`.
fn encrypt(cipher: &XChaCha20Poly1305, aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ct = cipher
        .encrypt(&nonce, Payload { msg: plain, aad })
        .expect("encryption cannot fail");
    let mut out = Vec::with_capacity(24 + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// What [`encrypt`] made of `raw`; `None` when it does not open.
fn decrypt(cipher: &XChaCha20Poly1305, aad: &[u8], raw: &[u8]) -> Option<Vec<u8>> {
    if raw.len() < 24 {
        return None;
    }
    let (nonce, ct) = raw.split_at(24);
    cipher
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .ok()
}

fn seal_with(cipher: &XChaCha20Poly1305, aad: &str, plain: &[u8]) -> String {
    STANDARD.encode(encrypt(cipher, aad.as_bytes(), plain))
}

fn open_with(cipher: &XChaCha20Poly1305, aad: &str, encoded: &str) -> Option<Vec<u8>> {
    decrypt(cipher, aad.as_bytes(), &STANDARD.decode(encoded).ok()?)
}

impl Vault {
    pub fn from_master(master: &[u8; 32]) -> Self {
        Self {
            current: MasterKey::new(master),
            previous: None,
        }
    }

    /// A ring of the current key and the one being retired.
    pub fn with_previous(mut self, previous: &[u8; 32]) -> Self {
        let previous = MasterKey::new(previous);
        if previous.id != self.current.id {
            self.previous = Some(previous);
        }
        self
    }

    /// The configured key, or the key file in `data_dir` (created on first
    /// start); and the previous key, configured or `data.key.previous`.
    pub fn load(
        configured: Option<&str>,
        previous: Option<&str>,
        data_dir: &Path,
    ) -> Result<Self, KeyError> {
        let vault = match configured.map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => Self::from_master(&parse_key(raw).ok_or(KeyError::BadKey)?),
            None => {
                Self::from_master(&key_file(&data_dir.join("data.key"), true)?.expect("created"))
            }
        };
        let previous = match previous.map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => Some(parse_key(raw).ok_or(KeyError::BadPreviousKey)?),
            None => key_file(&data_dir.join("data.key.previous"), false)?,
        };
        Ok(match previous {
            Some(p) => vault.with_previous(&p),
            None => vault,
        })
    }

    /// The id of the current master key.
    pub fn key_id(&self) -> &str {
        &self.current.id
    }

    /// Whether a previous key is in the ring (a rotation is running).
    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }

    fn master(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find(|k| k.id == id)
    }

    /// Seals text for the place `aad` names (`held_mail:subject`, …).
    pub fn seal_for(&self, aad: &str, plain: &str) -> String {
        self.seal_bytes_for(aad, plain.as_bytes())
    }

    /// Seals bytes that need not be text (a raw e-mail message).
    pub fn seal_bytes_for(&self, aad: &str, plain: &[u8]) -> String {
        format!(
            "{SEALED_V2}{}:{}",
            self.current.id,
            seal_with(&self.current.cipher, aad, plain)
        )
    }

    /// `None` when the text was not sealed by a key of this ring for this
    /// place (or was altered).
    pub fn open_for(&self, aad: &str, sealed: &str) -> Option<String> {
        String::from_utf8(self.open_bytes_for(aad, sealed)?).ok()
    }

    /// The bytes [`Vault::seal_bytes_for`] sealed; `None` as for `open_for`.
    pub fn open_bytes_for(&self, aad: &str, sealed: &str) -> Option<Vec<u8>> {
        if let Some(rest) = sealed.strip_prefix(SEALED_V2) {
            let (id, encoded) = rest.split_once(':')?;
            return open_with(&self.master(id)?.cipher, aad, encoded);
        }
        // Values sealed before key ids: no associated data, any key.
        let encoded = sealed.strip_prefix(SEALED_V1)?;
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .find_map(|k| open_with(&k.cipher, "", encoded))
    }

    /// Whether `sealed` is already sealed by the current key.
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix(SEALED_V2)
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(id, _)| id == self.current.id)
    }

    /// Opens and seals again under the current key (a rotation's step);
    /// `None` when it does not open.
    pub fn reseal_for(&self, aad: &str, sealed: &str) -> Option<String> {
        if self.is_current(sealed) {
            return Some(sealed.to_string());
        }
        Some(self.seal_bytes_for(aad, &self.open_bytes_for(aad, sealed)?))
    }

    /// An evidence file as stored: sealed with the current key's file key,
    /// bound to its name (the hash of its content).
    pub fn seal_file(&self, name: &str, plain: &[u8]) -> Vec<u8> {
        let body = encrypt(&self.current.files, name.as_bytes(), plain);
        [SEALED_FILE, self.current.id.as_bytes(), b":", &body].concat()
    }

    /// The content of a stored evidence file: opened when sealed (`None`
    /// if no key of the ring opens it), as it is when it was stored before
    /// files were sealed.
    pub fn open_file(&self, name: &str, stored: &[u8]) -> Option<Vec<u8>> {
        let Some(rest) = stored.strip_prefix(SEALED_FILE) else {
            return Some(stored.to_vec());
        };
        if rest.len() < 9 || rest[8] != b':' {
            return None;
        }
        let id = std::str::from_utf8(&rest[..8]).ok()?;
        decrypt(&self.master(id)?.files, name.as_bytes(), &rest[9..])
    }

    /// Whether a stored evidence file is sealed by the current key.
    pub fn file_is_current(&self, stored: &[u8]) -> bool {
        stored
            .strip_prefix(SEALED_FILE)
            .is_some_and(|rest| rest.get(..8) == Some(self.current.id.as_bytes()))
    }

    /// A new random key for a new case, and its wrapped form for the row.
    pub fn new_case_key(&self, case_id: Uuid) -> (CaseKey, String) {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        let wrapped = self.seal_bytes_for(&case_key_aad(case_id), &key);
        (CaseKey::new(case_id, &key), wrapped)
    }

    /// A case's wrapped key wrapped again by the current master key.
    pub fn rewrap_case_key(&self, case_id: Uuid, wrapped: &str) -> Option<String> {
        self.reseal_for(&case_key_aad(case_id), wrapped)
    }

    /// The case key a row's wrapped key holds; `None` if it does not open
    /// with this ring.
    pub fn unwrap_case_key(&self, case_id: Uuid, wrapped: &str) -> Option<CaseKey> {
        let raw = self.open_bytes_for(&case_key_aad(case_id), wrapped)?;
        let key: [u8; 32] = raw.try_into().ok()?;
        Some(CaseKey::new(case_id, &key))
    }

    /// The reply token of a case: what a reply must carry (in our
    /// Reply-To plus-address) to be added to the case (SPEC §5). Keyed,
    /// so that knowing a tracking number is not enough.
    pub fn reply_token(&self, tracking_no: &str) -> String {
        self.current.reply_token(tracking_no)
    }

    /// Whether `token` is the case's reply token under a key of the ring
    /// (mail answering a notice sent before a rotation still threads).
    pub fn reply_token_matches(&self, tracking_no: &str, token: &str) -> bool {
        let token = token.to_ascii_lowercase();
        std::iter::once(&self.current)
            .chain(self.previous.as_ref())
            .any(|k| constant_time_eq(k.reply_token(tracking_no).as_bytes(), token.as_bytes()))
    }

    /// A keyed hash for equality look-ups of personal data.
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.current.mac_key).expect("any key length");
        mac.update(value.trim().to_lowercase().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The length of a wrapped case key as raw bytes ([`wrapped_key_raw`]):
/// the master key's 4-byte id, then the 24-byte nonce, the sealed 32-byte
/// key and its 16-byte tag.
pub const WRAPPED_KEY_RAW_LEN: usize = 4 + 24 + 32 + 16;

/// A wrapped case key (`sealed:v2:<id>:<base64>`) as raw bytes, for a
/// column that holds bytes: 76 bytes instead of 115. `None` for a form
/// that has no raw counterpart (keys wrapped before key ids).
pub fn wrapped_key_raw(wrapped: &str) -> Option<Vec<u8>> {
    let (id, encoded) = wrapped.strip_prefix(SEALED_V2)?.split_once(':')?;
    let mut raw = hex::decode(id).ok()?;
    raw.extend(STANDARD.decode(encoded).ok()?);
    // Only a form that reads back to the very same text.
    (wrapped_key_text(&raw)? == wrapped).then_some(raw)
}

/// The wrapped case key [`wrapped_key_raw`] gave as raw bytes.
pub fn wrapped_key_text(raw: &[u8]) -> Option<String> {
    (raw.len() == WRAPPED_KEY_RAW_LEN).then(|| {
        format!(
            "{SEALED_V2}{}:{}",
            hex::encode(&raw[..4]),
            STANDARD.encode(&raw[4..])
        )
    })
}

fn case_key_aad(case_id: Uuid) -> String {
    format!("case:{case_id}:key")
}

/// A case's own key: seals its document, its journal payloads and its
/// evidence files, each bound to the case and the place (`doc`, `event`,
/// the file's name), and names its files (a keyed hash of their content).
#[derive(Clone)]
pub struct CaseKey {
    case_id: Uuid,
    cipher: XChaCha20Poly1305,
    name_key: [u8; 32],
}

impl std::fmt::Debug for CaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaseKey({}, ..)", self.case_id)
    }
}

impl CaseKey {
    fn new(case_id: Uuid, key: &[u8; 32]) -> Self {
        Self {
            case_id,
            cipher: XChaCha20Poly1305::new(key.into()),
            name_key: derive(key, b"redress/evidence-name/v1"),
        }
    }

    /// A hash of `value` keyed by the case's key, for `purpose` (an access
    /// code's stored form).
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.name_key).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The name of the case's file with content hash `sha256` in the
    /// evidence store: a keyed hash, so that the same bytes are stored once
    /// per case, and names say nothing of the content nor of the case.
    pub fn evidence_name(&self, sha256: &str) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.name_key).expect("any key length");
        mac.update(sha256.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The name of the thumbnail of the case's file with content hash
    /// `sha256`: keyed like the file's own, and distinct from it.
    pub fn thumbnail_name(&self, sha256: &str) -> String {
        self.evidence_name(&format!("thumbnail:{sha256}"))
    }

    /// An evidence file as stored for this case: sealed, bound to its name.
    pub fn seal_file(&self, name: &str, plain: &[u8]) -> Vec<u8> {
        let aad = self.aad(&format!("file:{name}"));
        [CASE_FILE, &encrypt(&self.cipher, aad.as_bytes(), plain)].concat()
    }

    /// What [`CaseKey::seal_file`] sealed; `None` if it does not open.
    pub fn open_file(&self, name: &str, stored: &[u8]) -> Option<Vec<u8>> {
        let aad = self.aad(&format!("file:{name}"));
        decrypt(
            &self.cipher,
            aad.as_bytes(),
            stored.strip_prefix(CASE_FILE)?,
        )
    }

    fn aad(&self, place: &str) -> String {
        format!("case:{}:{place}", self.case_id)
    }

    /// Bytes sealed for `place`, as raw bytes (nonce, ciphertext, tag): for
    /// columns that hold bytes, a third smaller than the base64 text of
    /// [`CaseKey::seal`].
    pub fn seal_raw(&self, place: &str, plain: &[u8]) -> Vec<u8> {
        encrypt(&self.cipher, self.aad(place).as_bytes(), plain)
    }

    /// What [`CaseKey::seal_raw`] sealed for `place`; `None` if it does not
    /// open.
    pub fn open_raw(&self, place: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        decrypt(&self.cipher, self.aad(place).as_bytes(), sealed)
    }

    pub fn seal(&self, place: &str, plain: &str) -> String {
        format!(
            "{SEALED_CASE}{}",
            seal_with(&self.cipher, &self.aad(place), plain.as_bytes())
        )
    }

    /// The text `seal` sealed for `place`; `None` when it does not open.
    pub fn open(&self, place: &str, sealed: &str) -> Option<String> {
        let encoded = sealed.strip_prefix(SEALED_CASE)?;
        String::from_utf8(open_with(&self.cipher, &self.aad(place), encoded)?).ok()
    }
}

/// Whether stored evidence bytes are a file sealed with a case's key.
pub fn is_case_file(stored: &[u8]) -> bool {
    stored.starts_with(CASE_FILE)
}

/// Whether a stored text is sealed by a case key (as opposed to JSON
/// written in the clear, before case keys or after a purge).
pub fn is_case_sealed(text: &str) -> bool {
    text.starts_with(SEALED_CASE)
}

/// Reads a key file; creates it (0600) when `create` and it is missing.
fn key_file(path: &Path, create: bool) -> Result<Option<[u8; 32]>, KeyError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(parse_key(&text).ok_or(KeyError::BadKey)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let mut key = [0u8; 32];
            OsRng.fill_bytes(&mut key);
            write_private(path, hex::encode(key).as_bytes())
                .map_err(|e| KeyError::File(shown, e))?;
            Ok(Some(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(KeyError::File(shown, e)),
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
        let s = v.seal_for("t:phone", "13812345678");
        assert!(!s.contains("1381"));
        assert_eq!(v.open_for("t:phone", &s).as_deref(), Some("13812345678"));
        let mut bad = s.clone();
        bad.pop();
        bad.push(if s.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(v.open_for("t:phone", &bad), None);
        assert_eq!(Vault::from_master(&[8u8; 32]).open_for("t:phone", &s), None);
        assert_eq!(v.lookup_hash("A@x.cn"), v.lookup_hash("a@x.cn "));
    }

    #[test]
    fn sealed_values_are_bound_to_their_place() {
        let v = Vault::from_master(&[7u8; 32]);
        let s = v.seal_for("held_mail:sender", "a@x.cn");
        assert_eq!(v.open_for("held_mail:subject", &s), None);
        let id = Uuid::now_v7();
        let (key, wrapped) = v.new_case_key(id);
        let doc = key.seal("doc", "{}");
        assert_eq!(key.open("event", &doc), None);
        assert_eq!(
            v.unwrap_case_key(Uuid::now_v7(), &wrapped).map(|_| ()),
            None
        );
        let again = v.unwrap_case_key(id, &wrapped).expect("opens");
        assert_eq!(again.open("doc", &doc).as_deref(), Some("{}"));
    }

    #[test]
    fn a_wrapped_case_key_reads_back_from_its_raw_bytes() {
        let v = Vault::from_master(&[7u8; 32]);
        let id = Uuid::now_v7();
        let (key, wrapped) = v.new_case_key(id);
        assert_eq!(wrapped.len(), 115);
        let raw = wrapped_key_raw(&wrapped).expect("a current key has raw bytes");
        assert_eq!(raw.len(), WRAPPED_KEY_RAW_LEN);
        let text = wrapped_key_text(&raw).unwrap();
        assert_eq!(text, wrapped);
        let doc = key.seal("doc", "{}");
        let again = v.unwrap_case_key(id, &text).expect("opens");
        assert_eq!(again.open("doc", &doc).as_deref(), Some("{}"));
        // Forms without raw bytes stay text: sealed before key ids, or not
        // a wrapped key at all.
        let v1 = format!("{SEALED_V1}{}", STANDARD.encode([0u8; 72]));
        assert_eq!(wrapped_key_raw(&v1), None);
        assert_eq!(wrapped_key_raw(&wrapped.to_uppercase()), None);
        assert_eq!(wrapped_key_raw("sealed:v2:abcd:AAAA"), None);
        assert_eq!(wrapped_key_text(&raw[1..]), None);
    }

    #[test]
    fn case_files_are_named_and_sealed_per_case() {
        let v = Vault::from_master(&[7u8; 32]);
        let (a, _) = v.new_case_key(Uuid::now_v7());
        let (b, _) = v.new_case_key(Uuid::now_v7());
        let sha = "ab".repeat(32);
        assert_eq!(a.evidence_name(&sha), a.evidence_name(&sha));
        assert_ne!(a.evidence_name(&sha), b.evidence_name(&sha));
        assert_ne!(a.evidence_name(&sha), sha);
        let name = a.evidence_name(&sha);
        let stored = a.seal_file(&name, b"receipt");
        assert_eq!(
            a.open_file(&name, &stored).as_deref(),
            Some(&b"receipt"[..])
        );
        assert_eq!(b.open_file(&name, &stored), None);
        assert_eq!(a.open_file(&b.evidence_name(&sha), &stored), None);
    }

    #[test]
    fn a_rotation_opens_the_old_and_seals_under_the_new() {
        let old = Vault::from_master(&[1u8; 32]);
        let s = old.seal_for("x", "secret");
        let id = Uuid::now_v7();
        let (_, wrapped) = old.new_case_key(id);
        let ring = Vault::from_master(&[2u8; 32]).with_previous(&[1u8; 32]);
        assert_eq!(ring.open_for("x", &s).as_deref(), Some("secret"));
        let resealed = ring.reseal_for("x", &s).expect("opens");
        assert!(ring.is_current(&resealed) && !ring.is_current(&s));
        assert!(ring.unwrap_case_key(id, &wrapped).is_some());
        // Once the previous key is gone, only what was resealed opens.
        let new = Vault::from_master(&[2u8; 32]);
        assert_eq!(new.open_for("x", &s), None);
        assert_eq!(new.open_for("x", &resealed).as_deref(), Some("secret"));
        assert!(ring.reply_token_matches("RD1", &old.reply_token("RD1")));
        assert!(!new.reply_token_matches("RD1", &old.reply_token("RD1")));
    }

    #[test]
    fn evidence_files_are_sealed_and_bound_to_their_name() {
        let v = Vault::from_master(&[7u8; 32]);
        let stored = v.seal_file("ab12", b"chat log");
        assert!(!stored.windows(8).any(|w| w == b"chat log"));
        assert_eq!(
            v.open_file("ab12", &stored).as_deref(),
            Some(&b"chat log"[..])
        );
        assert_eq!(v.open_file("ab13", &stored), None);
        assert!(v.file_is_current(&stored));
        // Files stored before sealing are read as they are.
        assert_eq!(
            v.open_file("ab12", b"plain").as_deref(),
            Some(&b"plain"[..])
        );
        let ring = Vault::from_master(&[8u8; 32]).with_previous(&[7u8; 32]);
        assert_eq!(
            ring.open_file("ab12", &stored).as_deref(),
            Some(&b"chat log"[..])
        );
        assert!(!ring.file_is_current(&stored));
        assert_eq!(
            Vault::from_master(&[8u8; 32]).open_file("ab12", &stored),
            None
        );
    }

    #[test]
    fn values_sealed_before_key_ids_still_open() {
        // The v1 layout: nonce and ciphertext, no associated data.
        let master = [7u8; 32];
        let cipher = XChaCha20Poly1305::new((&derive(&master, b"redress/seal/v1")).into());
        let v1 = format!("{SEALED_V1}{}", seal_with(&cipher, "", b"old"));
        let v = Vault::from_master(&master);
        assert_eq!(v.open_for("anything", &v1).as_deref(), Some("old"));
    }
}
