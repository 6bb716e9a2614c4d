//! Compact encodings at rest (issue 18): a case's document (inside its
//! seal) and its report facts are stored as zstd frames compressed with a
//! dictionary, about a third of their JSON.
//!
//! The dictionaries (`dict/*.zdict`, 8 KiB each) were trained by
//! `redress-bench train-dict` on generated cases: the documents'
//! *structure* (every string longer than 8 bytes emptied first, so the
//! dictionary holds field names and codes and no complainant's text), and
//! the report facts as they are (they hold instants, codes and flags).
//! A frame names its dictionary by id; a dictionary, once shipped, never
//! changes (a new one would be added beside it, and frames name theirs).
//!
//! Rows written before hold JSON text; [`unpack`] gives that back as it is,
//! so both read. A row is written in the compact form at its next save
//! (a master-key rotation saves every case).

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::LazyLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::StoreError;

/// zstd's level: level 3 costs some 10 µs a case; higher levels saved
/// about 10 % more for several times the CPU (docs/benchmarks.md).
const LEVEL: i32 = 3;

/// The most a frame may unpack to (a case document is a few KiB; a frame
/// that claims more is damaged).
const MAX_UNPACKED: u64 = 64 << 20;

/// The first bytes of every zstd frame.
const MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// What is packed, and so which dictionary packs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dict {
    /// A case's stored document (the case as JSON, with the access-token
    /// hash), before it is sealed.
    CaseDoc,
    /// A case's report facts ([`crate::ReportFacts`] as JSON).
    Report,
}

static CASE_DOC: &[u8] = include_bytes!("../dict/case-doc.zdict");
static REPORT: &[u8] = include_bytes!("../dict/report.zdict");

impl Dict {
    const ALL: [Dict; 2] = [Dict::CaseDoc, Dict::Report];

    fn bytes(self) -> &'static [u8] {
        match self {
            Dict::CaseDoc => CASE_DOC,
            Dict::Report => REPORT,
        }
    }

    fn index(self) -> usize {
        match self {
            Dict::CaseDoc => 0,
            Dict::Report => 1,
        }
    }
}

static ENCODERS: LazyLock<Vec<EncoderDictionary<'static>>> = LazyLock::new(|| {
    Dict::ALL
        .iter()
        .map(|d| EncoderDictionary::copy(d.bytes(), LEVEL))
        .collect()
});

static DECODERS: LazyLock<Vec<DecoderDictionary<'static>>> = LazyLock::new(|| {
    Dict::ALL
        .iter()
        .map(|d| DecoderDictionary::copy(d.bytes()))
        .collect()
});

thread_local! {
    // A compression context is some hundreds of KiB to set up: one per
    // thread and dictionary, reused.
    static COMPRESSORS: RefCell<Vec<Option<Compressor<'static>>>> =
        RefCell::new(Dict::ALL.iter().map(|_| None).collect());
    static DECOMPRESSORS: RefCell<Vec<Option<Decompressor<'static>>>> =
        RefCell::new(Dict::ALL.iter().map(|_| None).collect());
}

/// `json` packed with `dict`'s dictionary. Should compression fail (it
/// does not on memory it was given), the JSON itself is returned: it reads
/// back the same.
pub fn pack(dict: Dict, json: &[u8]) -> Vec<u8> {
    COMPRESSORS
        .with(|cs| {
            let mut cs = cs.borrow_mut();
            let slot = &mut cs[dict.index()];
            if slot.is_none() {
                *slot = Some(Compressor::with_prepared_dictionary(
                    &ENCODERS[dict.index()],
                )?);
            }
            slot.as_mut().expect("set above").compress(json)
        })
        .unwrap_or_else(|_| json.to_vec())
}

/// What [`pack`] packed; anything that is not a zstd frame (JSON written
/// before packing) as it is.
pub fn unpack(dict: Dict, stored: &[u8]) -> Result<Cow<'_, [u8]>, StoreError> {
    if !stored.starts_with(&MAGIC) {
        return Ok(Cow::Borrowed(stored));
    }
    let size = match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(n)) if n <= MAX_UNPACKED => n as usize,
        _ => return Err(StoreError::other("a packed value has no valid size")),
    };
    DECOMPRESSORS.with(|ds| {
        let mut ds = ds.borrow_mut();
        let slot = &mut ds[dict.index()];
        if slot.is_none() {
            *slot = Some(
                Decompressor::with_prepared_dictionary(&DECODERS[dict.index()])
                    .map_err(|e| StoreError::other(format!("unpack: {e}")))?,
            );
        }
        slot.as_mut()
            .expect("set above")
            .decompress(stored, size)
            .map(Cow::Owned)
            .map_err(|e| StoreError::other(format!("unpack: {e}")))
    })
}

/// A value as JSON, packed.
pub fn pack_json<T: serde::Serialize>(dict: Dict, value: &T) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::other(format!("json: {e}")))?;
    Ok(pack(dict, &json))
}

/// A value [`pack_json`] packed, or stored as JSON text before packing.
pub fn unpack_json<T: serde::de::DeserializeOwned>(
    dict: Dict,
    stored: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(&unpack(dict, stored)?)
        .map_err(|e| StoreError::other(format!("json: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_json() -> Vec<u8> {
        br#"{"created_at":"2026-11-04T07:16:13.970317207Z","accepted_at":"2026-11-05T20:43:52Z","acceptance_due_at":"2026-11-05T16:00:00Z","decided_at":null,"handling_due_at":"2026-11-27T16:00:00Z","closed_at":null,"appealed":false,"review_changed":false,"feedback_score":null,"respondent_late_replies":0,"zone":"Asia/Shanghai","stages":[{"stage":"acceptance","due_at":"2026-11-05T16:00:00Z","ended_at":"2026-11-05T20:43:52Z","extended":false}],"missed":["acceptance"]}"#.to_vec()
    }

    #[test]
    fn packed_values_unpack_to_the_same_bytes_and_are_smaller() {
        for dict in Dict::ALL {
            let json = report_json();
            let packed = pack(dict, &json);
            assert!(packed.starts_with(&MAGIC));
            assert!(
                packed.len() * 2 < json.len(),
                "{} of {}",
                packed.len(),
                json.len()
            );
            assert_eq!(unpack(dict, &packed).unwrap().as_ref(), json.as_slice());
        }
    }

    #[test]
    fn json_written_before_packing_reads_as_it_is() {
        let json = report_json();
        assert!(matches!(unpack(Dict::Report, &json).unwrap(), Cow::Borrowed(b) if b == json));
    }

    #[test]
    fn a_damaged_frame_is_an_error_not_a_panic() {
        let mut packed = pack(Dict::Report, &report_json());
        let n = packed.len();
        packed.truncate(n - 5);
        assert!(unpack(Dict::Report, &packed).is_err());
        assert!(unpack(Dict::Report, &MAGIC).is_err());
    }

    /// Stored frames need the very dictionary they were packed with: a
    /// shipped dictionary must never change (a new one goes beside it).
    #[test]
    fn the_shipped_dictionaries_never_change() {
        use sha2::{Digest, Sha256};
        assert_eq!(
            hex::encode(Sha256::digest(CASE_DOC)),
            "0530e03101b4571c27f3162bd1e94b8a348f0c806e28af9a1af4553892bcf279"
        );
        assert_eq!(
            hex::encode(Sha256::digest(REPORT)),
            "90ac87960bb61c9704cb71964a1dfbec304d1c5fa1498b8c5bd1d58aa0b08fbb"
        );
    }

    #[test]
    fn a_frame_is_read_with_the_dictionary_it_names() {
        let packed = pack(Dict::CaseDoc, &report_json());
        assert!(unpack(Dict::Report, &packed).is_err());
    }
}
