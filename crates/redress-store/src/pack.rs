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
//! Chinese text takes three bytes a character in UTF-8, and zstd wins
//! little back from a few hundred bytes of it. Before compressing, [`pack`]
//! writes the common CJK characters in two bytes each ([`compact_text`]),
//! when that is shorter, and marks the frame with [`COMPACT_TEXT`]: a
//! complaint's description of 150 characters packs to about 20 % fewer
//! bytes (docs/benchmarks.md). The form is this module's own, so what it
//! reads back does not depend on a library's mapping tables.
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

/// The first byte of a packed value whose text was written in the compact
/// form of [`compact_text`] before compression; a zstd frame follows. A
/// plain frame starts with [`MAGIC`], JSON text with `{`, `[`, `"` or a
/// letter; a case row's own format bytes (0x01, 0x02 in
/// `redress_app::stored`) never come from here.
const COMPACT_TEXT: u8 = 0x7F;

/// The blocks of 256 code points the compact form writes in two bytes:
/// CJK punctuation and kana (U+3000: "。", "、", "《"), the full-width
/// forms (U+FF00: "，", "？", "（"), and the 82 blocks of the CJK unified
/// ideographs, U+4E00 to U+9FFF, which hold everyday Chinese text.
const BLOCKS: usize = 84;

/// The first code point of block `i` of [`BLOCKS`].
fn block_start(i: usize) -> u32 {
    match i {
        0 => 0x3000,
        1 => 0xFF00,
        _ => 0x4E00 + (i as u32 - 2) * 256,
    }
}

/// The block of [`BLOCKS`] holding `c`, if any.
fn block_of(c: u32) -> Option<usize> {
    match c {
        0x3000..=0x30FF => Some(0),
        0xFF00..=0xFFFF => Some(1),
        0x4E00..=0x9FFF => Some(2 + (c - 0x4E00) as usize / 256),
        _ => None,
    }
}

/// In the compact form a two-byte character starts with the lead of its
/// block: the bytes that never start a character in UTF-8 (0x80 to 0xBF),
/// then the first leads of two-byte UTF-8 characters (0xC1 to 0xD4). A
/// character that UTF-8 writes in two bytes (U+0080 to U+07FF: "é", "·")
/// is written after [`ESCAPE`]; three- and four-byte characters outside
/// the blocks as they are.
fn lead(block: usize) -> u8 {
    match block {
        0..64 => 0x80 + block as u8,
        _ => 0xC1 + (block - 64) as u8,
    }
}

/// The block a lead byte stands for.
fn block_of_lead(b: u8) -> Option<usize> {
    let block = match b {
        0x80..=0xBF => usize::from(b - 0x80),
        0xC1.. => 64 + usize::from(b - 0xC1),
        _ => return None,
    };
    (block < BLOCKS).then_some(block)
}

/// Before a character UTF-8 writes in two bytes, which follow as they are.
const ESCAPE: u8 = 0xC0;

/// `text` with the characters of [`BLOCKS`] in two bytes ([`lead`], then
/// the character's place in its block) and every other character in
/// UTF-8 (after [`ESCAPE`] when that takes two bytes). [`expand_text`]
/// gives `text` back.
pub fn compact_text(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for ch in text.chars() {
        let c = u32::from(ch);
        match block_of(c) {
            Some(block) => out.extend_from_slice(&[lead(block), (c & 0xFF) as u8]),
            None => {
                let mut buf = [0; 4];
                let utf8 = ch.encode_utf8(&mut buf).as_bytes();
                if utf8.len() == 2 {
                    out.push(ESCAPE);
                }
                out.extend_from_slice(utf8);
            }
        }
    }
    out
}

/// The text [`compact_text`] wrote; an error if `bytes` are not of that
/// form (a damaged value).
pub fn expand_text(bytes: &[u8]) -> Result<String, StoreError> {
    let damaged = || StoreError::other("a compact text is damaged");
    let mut out = Vec::with_capacity(bytes.len() * 3 / 2);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (skip, len) = match b {
            0x00..=0x7F => (0, 1),
            ESCAPE => (1, 2),
            0xE0..=0xEF => (0, 3),
            0xF0..=0xF4 => (0, 4),
            _ => {
                let block = block_of_lead(b).ok_or_else(damaged)?;
                let low = *bytes.get(i + 1).ok_or_else(damaged)?;
                let ch = char::from_u32(block_start(block) + u32::from(low)).ok_or_else(damaged)?;
                out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                i += 2;
                continue;
            }
        };
        let start = i + skip;
        out.extend_from_slice(bytes.get(start..start + len).ok_or_else(damaged)?);
        i = start + len;
    }
    // Whatever the bytes, only valid UTF-8 comes out.
    String::from_utf8(out).map_err(|_| damaged())
}

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

/// `json` packed with `dict`'s dictionary, its text in the compact form
/// when that is shorter (marked [`COMPACT_TEXT`]). Should compression fail
/// (it does not on memory it was given), the JSON itself is returned: it
/// reads back the same.
pub fn pack(dict: Dict, json: &[u8]) -> Vec<u8> {
    let compact = std::str::from_utf8(json)
        .ok()
        .filter(|text| !text.is_ascii())
        .map(compact_text)
        .filter(|c| c.len() < json.len());
    match compact {
        Some(text) => match compress(dict, &text) {
            Ok(frame) => [&[COMPACT_TEXT][..], &frame].concat(),
            Err(_) => json.to_vec(),
        },
        None => compress(dict, json).unwrap_or_else(|_| json.to_vec()),
    }
}

fn compress(dict: Dict, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSORS.with(|cs| {
        let mut cs = cs.borrow_mut();
        let slot = &mut cs[dict.index()];
        if slot.is_none() {
            *slot = Some(Compressor::with_prepared_dictionary(
                &ENCODERS[dict.index()],
            )?);
        }
        slot.as_mut().expect("set above").compress(bytes)
    })
}

/// What [`pack`] packed; anything that is not a zstd frame (JSON written
/// before packing) as it is.
pub fn unpack(dict: Dict, stored: &[u8]) -> Result<Cow<'_, [u8]>, StoreError> {
    if let [COMPACT_TEXT, frame @ ..] = stored {
        if !frame.starts_with(&MAGIC) {
            return Err(StoreError::other("a packed value has no frame"));
        }
        let text = decompress(dict, frame)?;
        return Ok(Cow::Owned(expand_text(&text)?.into_bytes()));
    }
    if !stored.starts_with(&MAGIC) {
        return Ok(Cow::Borrowed(stored));
    }
    decompress(dict, stored).map(Cow::Owned)
}

fn decompress(dict: Dict, stored: &[u8]) -> Result<Vec<u8>, StoreError> {
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

    fn chinese_doc() -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "record": {
                "subject": "商家拒绝七天无理由退货",
                "description": "我于2026年11月3日在贵平台购买了一台电饭煲，订单号A1234567，商家承诺七天无理由退货。收到商品后发现内胆有明显划痕，联系客服要求退货退款，客服一直推脱，说需要提供开箱视频，但下单时并没有任何提示。之后商家不再回复消息，平台客服也只是让我等待处理。至今已经过去两周，问题仍未解决，请求平台介入，责令商家退款并赔偿损失。",
                "respondent": {"kind": "merchant", "id": "m-1042", "name": "优品小家电旗舰店"}
            },
            "status": "in_progress",
            "channel": "web"
        }))
        .unwrap()
    }

    #[test]
    fn chinese_text_packs_in_two_bytes_a_character_and_reads_back_the_same() {
        let json = chinese_doc();
        let packed = pack(Dict::CaseDoc, &json);
        assert_eq!(packed[0], COMPACT_TEXT);
        assert_eq!(
            unpack(Dict::CaseDoc, &packed).unwrap().as_ref(),
            json.as_slice()
        );
        let plain = compress(Dict::CaseDoc, &json).unwrap();
        assert!(
            packed.len() * 100 <= plain.len() * 85,
            "{} bytes against {} in UTF-8",
            packed.len(),
            plain.len()
        );
    }

    #[test]
    fn the_compact_form_keeps_every_character() {
        // Each block's edges, the characters just outside them, and text
        // of every UTF-8 length.
        let mut text = String::from(
            "a{\"é·×Ωж€ 𝄞😀 鱼黄龙 \u{80}\u{7FF}\u{800}\u{4DFF}\u{2FFF}\u{3100}\u{FEFF}\u{A000}",
        );
        for c in [
            0x3000u32, 0x30FF, 0xFF00, 0xFFFF, 0x4E00, 0x4EFF, 0x4F00, 0x9F00, 0x9FFF,
        ] {
            text.push(char::from_u32(c).unwrap());
        }
        let compact = compact_text(&text);
        assert_eq!(expand_text(&compact).unwrap(), text);
        // Every character of the blocks, one by one and all together.
        let all: String = (0x3000..=0x30FF)
            .chain(0xFF00..=0xFFFF)
            .chain(0x4E00..=0x9FFF)
            .filter_map(char::from_u32)
            .collect();
        let compact = compact_text(&all);
        assert_eq!(compact.len(), all.chars().count() * 2);
        assert_eq!(expand_text(&compact).unwrap(), all);
        assert_eq!(
            expand_text(&compact_text("plain ascii")).unwrap(),
            "plain ascii"
        );
    }

    proptest::proptest! {
        /// Any text comes back as it was, and any bytes expand to valid
        /// text or to an error.
        #[test]
        fn any_text_survives_the_compact_form(text in "\\PC*", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            proptest::prop_assert_eq!(expand_text(&compact_text(&text)).unwrap(), text);
            let _ = expand_text(&bytes);
        }
    }

    #[test]
    fn damaged_compact_text_is_an_error_not_a_panic() {
        let compact = compact_text("退款");
        assert!(expand_text(&compact[..3]).is_err());
        assert!(expand_text(&[0xE9, 0x80]).is_err());
        assert!(expand_text(&[ESCAPE, b'a']).is_err());
        assert!(expand_text(&[ESCAPE, 0xE9, 0x80, 0x80]).is_err());
        assert!(expand_text(&[0xD5, 0x80]).is_err());
        assert!(expand_text(&[0xFF]).is_err());
        let mut packed = pack(Dict::CaseDoc, &chinese_doc());
        assert!(unpack(Dict::CaseDoc, &packed[..1]).is_err());
        packed.truncate(packed.len() - 5);
        assert!(unpack(Dict::CaseDoc, &packed).is_err());
    }

    #[test]
    fn a_frame_is_read_with_the_dictionary_it_names() {
        let packed = pack(Dict::CaseDoc, &report_json());
        assert!(unpack(Dict::Report, &packed).is_err());
    }
}
