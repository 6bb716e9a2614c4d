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

use crate::privacy::{Vault, constant_time_eq, token_hash};

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

/// The stored form of a code: a keyed hash of its normalized text. Keyed,
/// because 60 bits are few enough that an unkeyed hash leaked with a
/// backup could be searched offline.
pub fn code_hash(vault: &Vault, code: &str) -> Option<String> {
    let plain = normalize(code)?;
    Some(format!(
        "{CODE_HASH_PREFIX}{}",
        vault.lookup_hash(&format!("access-code:{plain}"))
    ))
}

/// Whether `given` opens a case whose stored hash is `stored`: a code
/// against a code hash, an old `rdt_` token against its SHA-256.
pub fn matches(vault: &Vault, stored: &str, given: &str) -> bool {
    let candidate = if stored.starts_with(CODE_HASH_PREFIX) {
        match code_hash(vault, given) {
            Some(h) => h,
            None => return false,
        }
    } else {
        token_hash(given.trim())
    };
    constant_time_eq(candidate.as_bytes(), stored.as_bytes())
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
        let v = Vault::from_master(&[3u8; 32]);
        let code = new_access_code();
        let stored = code_hash(&v, &code).unwrap();
        assert!(matches(&v, &stored, &code.to_lowercase().replace('-', "")));
        assert!(!matches(&v, &stored, "7KQ4-9XMT-2PRD"));
        let old = "rdt_abcdef";
        let old_stored = token_hash(old);
        assert!(matches(&v, &old_stored, old));
        assert!(!matches(&v, &old_stored, &code));
    }
}
