//! Complainants' access codes: short enough to read out on the phone or
//! copy from a paper slip, strong enough with the per-tracking-number
//! limit on wrong codes (docs/security.md, "Access codes").
//!
//! A code is 12 characters of Crockford's base32 (60 random bits), shown in
//! groups of four: `7KQ4-9XMT-2PRD`. What people type is normalized first:
//! case does not matter, dashes and spaces are optional, and the letters
//! people confuse with digits are read as those digits (`I`/`L` → `1`,
//! `O` → `0`). Codes issued before (`rdt_…`, 256 bits) keep working: the
//! stored hash says which kind it is.

use rand::RngCore;
use rand::rngs::OsRng;

use crate::privacy::{CaseKey, constant_time_eq, token_hash};

/// Crockford's alphabet: digits and letters without I, L, O and U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code (5 bits each: 60 bits).
pub const CODE_LEN: usize = 12;

/// The prefix of a stored code hash; an old token's hash is bare hex.
const CODE_HASH_PREFIX: &str = "code:";

/// A fresh code, grouped for reading (`7KQ4-9XMT-2PRD`).
pub fn new_access_code() -> String {
    let mut bytes = [0u8; 8];
    OsRng.fill_bytes(&mut bytes);
    let bits = u64::from_le_bytes(bytes);
    let plain: String = (0..CODE_LEN)
        .map(|i| char::from(ALPHABET[((bits >> (5 * i)) & 31) as usize]))
        .collect();
    group(&plain)
}

/// `7KQ49XMT2PRD` → `7KQ4-9XMT-2PRD`.
pub fn group(plain: &str) -> String {
    let chars: Vec<char> = plain.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// What a person typed, as the 12 characters of a code; `None` when it
/// cannot be one.
pub fn normalize(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LEN);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' | '\u{2010}'..='\u{2015}' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        out.push(c);
        if out.len() > CODE_LEN {
            return None;
        }
    }
    (out.len() == CODE_LEN).then_some(out)
}

/// Whether a bearer token looks like an access code (so that it is sent
/// on to the tracking calls rather than refused as an unknown token).
pub fn looks_like_code(token: &str) -> bool {
    normalize(token).is_some()
}

/// The stored form of a code: a hash of its normalized text keyed by the
/// case's own key. Keyed, because 60 bits are few enough that an unkeyed
/// hash leaked with a backup could be searched offline; by the case's key,
/// because that key outlives a rotation of the data key (a code is never
/// known again, so its hash could not be computed anew).
pub fn code_hash(key: &CaseKey, code: &str) -> Option<String> {
    let plain = normalize(code)?;
    Some(format!(
        "{CODE_HASH_PREFIX}{}",
        key.keyed_hash("access-code", &plain)
    ))
}

/// Whether `given` opens a case whose stored hash is `stored` (the case's
/// key is `key`; a purged case has none, and no code opens it): a code
/// against a code hash, an old `rdt_` token against its SHA-256.
pub fn matches(key: Option<&CaseKey>, stored: &str, given: &str) -> bool {
    let candidate = if stored.starts_with(CODE_HASH_PREFIX) {
        match key.and_then(|k| code_hash(k, given)) {
            Some(h) => h,
            None => return false,
        }
    } else {
        token_hash(given.trim())
    };
    constant_time_eq(candidate.as_bytes(), stored.as_bytes())
}

/// The code sealed for the stored case while an acknowledgement waits to
/// carry it.
pub fn seal_pending(key: &CaseKey, code: &str) -> String {
    key.seal("pending-code", code)
}

/// The code [`seal_pending`] sealed.
pub fn open_pending(key: Option<&CaseKey>, sealed: &str) -> Option<String> {
    key?.open("pending-code", sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_and_normalize_back() {
        let code = new_access_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        let plain = normalize(&code).unwrap();
        assert_eq!(group(&plain), code);
        assert_eq!(
            normalize(&code.to_lowercase().replace('-', " ")).as_deref(),
            Some(plain.as_str())
        );
    }

    #[test]
    fn confusable_letters_read_as_digits() {
        assert_eq!(normalize("ilo0-aaaa-bbbb").as_deref(), Some("1100AAAABBBB"));
        assert_eq!(normalize("7KQ4 9XMT 2PRD").as_deref(), Some("7KQ49XMT2PRD"));
        assert_eq!(normalize("7KQ49XMT2PRU"), None);
        assert_eq!(normalize("7KQ49XMT2PR"), None);
        assert_eq!(normalize("7KQ49XMT2PRDD"), None);
        assert_eq!(normalize("rdt_abc"), None);
    }

    #[test]
    fn both_kinds_are_checked() {
        let v = crate::Vault::from_master(&[3u8; 32]);
        let (key, _) = v.new_case_key(uuid::Uuid::now_v7());
        let (other, _) = v.new_case_key(uuid::Uuid::now_v7());
        let k = Some(&key);
        let code = new_access_code();
        let stored = code_hash(&key, &code).unwrap();
        assert!(matches(k, &stored, &code.to_lowercase().replace('-', "")));
        assert!(!matches(k, &stored, "7KQ4-9XMT-2PRD"));
        // Keyed by the case: the same code hashes apart in another case,
        // and nothing opens a case without its key (purged).
        assert_ne!(code_hash(&other, &code).unwrap(), stored);
        assert!(!matches(None, &stored, &code));
        let old = "rdt_abcdef";
        let old_stored = token_hash(old);
        assert!(matches(k, &old_stored, old));
        assert!(!matches(k, &old_stored, &code));
        // The code waiting for its acknowledgement opens with the key only.
        let sealed = seal_pending(&key, &code);
        assert_eq!(open_pending(k, &sealed).as_deref(), Some(code.as_str()));
        assert_eq!(open_pending(Some(&other), &sealed), None);
    }
}
