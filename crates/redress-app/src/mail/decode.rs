//! The text of received mail, whatever character set its sender used
//! (docs/mail.md, "Character sets").
//!
//! mail-parser decodes what a message declares. Real mail is messier:
//! mainland clients label GB18030 text `gb2312`, some send raw 8-bit
//! headers or parts with no charset at all, some label GBK bytes
//! `us-ascii` or `iso-8859-1`, and some split a multi-byte character
//! across two RFC 2047 encoded-words. This module reads the raw bytes of
//! the headers and text parts a case keeps and decodes them itself:
//!
//! - a declared label is trusted while its decoder reads the bytes
//!   without error (`gb2312` and `gbk` read as GB18030, their superset);
//! - an ASCII or Latin-1 label over bytes that are UTF-8 or detect as a
//!   CJK set, a decoder that reports errors, and text with no label are
//!   decoded by detection (chardetng, Firefox's detector);
//! - bytes that still do not decode become U+FFFD, visibly, never dropped.

use std::borrow::Cow;

use base64::Engine;
use chardetng::EncodingDetector;
use encoding_rs::{
    BIG5, EUC_JP, EUC_KR, Encoding, GB18030, GBK, ISO_2022_JP, ISO_8859_15, REPLACEMENT, SHIFT_JIS,
    UTF_8, WINDOWS_1252,
};
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::html::html_to_text;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding as Transfer, Message, MessagePart, MimeHeaders, PartType};

/// The encoding a MIME charset label names. `gb2312` and `gbk` (and
/// their aliases) are read as GB18030: senders label GB18030 text, with
/// its four-byte characters such as 𠮷, by the older names.
pub fn for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(['"', '\'']);
    // RFC 2231 allows a language after `*` (`gbk*zh-cn`).
    let label = label.split('*').next().unwrap_or_default();
    let enc = Encoding::for_label(label.as_bytes())?;
    if enc == REPLACEMENT {
        // ISO-2022-CN, HZ and the like: no decoder; detection reads them
        // as well as anything can.
        return None;
    }
    Some(if enc == GBK { GB18030 } else { enc })
}

/// `us-ascii`, `iso-8859-1` and `latin1` all name windows-1252 in the
/// Encoding Standard; these labels are the ones careless clients put on
/// any text.
fn is_latin(enc: &'static Encoding) -> bool {
    enc == WINDOWS_1252 || enc == ISO_8859_15
}

fn is_cjk(enc: &'static Encoding) -> bool {
    [GB18030, GBK, BIG5, SHIFT_JIS, EUC_JP, EUC_KR, ISO_2022_JP].contains(&enc)
}

/// The detector's guess for bytes with no trustworthy label.
fn detect(bytes: &[u8]) -> &'static Encoding {
    let mut detector = EncodingDetector::new();
    detector.feed(bytes, true);
    let enc = detector.guess(None, true);
    if enc == GBK { GB18030 } else { enc }
}

/// `bytes` in `enc` when they read without a single error.
fn clean(enc: &'static Encoding, bytes: &[u8]) -> Option<String> {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    (!had_errors).then(|| text.into_owned())
}

fn utf8(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes)
        .ok()
        .map(|s| s.strip_prefix('\u{feff}').unwrap_or(s).to_string())
}

/// The best guess for unlabelled bytes: the message's own charset when
/// it reads them cleanly (a client writes one message in one charset, and
/// a short file name alone is too little to detect), else detection.
fn guess(bytes: &[u8], context: Option<&'static Encoding>) -> &'static Encoding {
    match context {
        Some(enc) if clean(enc, bytes).is_some() => enc,
        _ => detect(bytes),
    }
}

/// Decodes text whose part or header says it is in `declared` (`None`:
/// no label); `context` is the charset the rest of the message uses, if
/// known. Never fails: what no decoder reads becomes U+FFFD.
pub fn decode(bytes: &[u8], declared: Option<&str>, context: Option<&'static Encoding>) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    // ISO-2022-JP is 7-bit: escape sequences say it, whatever the label.
    let escaped = bytes.contains(&0x1b);
    match declared.and_then(for_label) {
        Some(enc) if is_latin(enc) => {
            if bytes.is_ascii() && !escaped {
                return String::from_utf8_lossy(bytes).into_owned();
            }
            // An ASCII or Latin-1 label over UTF-8 or CJK bytes is a
            // mislabel; real Latin-1 text stays Latin-1.
            if !escaped && let Some(text) = utf8(bytes) {
                return text;
            }
            let guess = guess(bytes, context);
            if is_cjk(guess)
                && let Some(text) = clean(guess, bytes)
            {
                return text;
            }
            enc.decode_without_bom_handling(bytes).0.into_owned()
        }
        Some(enc) => {
            let (text, _, had_errors) = enc.decode(bytes);
            if !had_errors {
                return text.into_owned();
            }
            // The declared decoder failed: mislabelled text.
            if let Some(text) = utf8(bytes) {
                return text;
            }
            // A single-byte set reads anything "cleanly": only a
            // multi-byte one that reads every byte is evidence.
            let guess = guess(bytes, context);
            if guess != enc
                && is_cjk(guess)
                && let Some(better) = clean(guess, bytes)
            {
                return better;
            }
            text.into_owned()
        }
        None => {
            if !escaped && let Some(text) = utf8(bytes) {
                return text;
            }
            guess(bytes, context).decode(bytes).0.into_owned()
        }
    }
}

/// Folded header lines joined again (RFC 5322 §2.2.3).
fn unfold(raw: &[u8]) -> Vec<u8> {
    raw.iter()
        .copied()
        .filter(|b| *b != b'\r' && *b != b'\n')
        .collect()
}

/// One RFC 2047 encoded-word at the start of `s`: its charset, its
/// decoded bytes and its length.
fn encoded_word(s: &[u8]) -> Option<(String, Vec<u8>, usize)> {
    let rest = s.strip_prefix(b"=?")?;
    let q1 = rest.iter().position(|b| *b == b'?')?;
    let charset = std::str::from_utf8(&rest[..q1]).ok()?;
    if charset.is_empty() || charset.len() > 64 || charset.contains(char::is_whitespace) {
        return None;
    }
    let rest = &rest[q1 + 1..];
    let (mode, rest) = (rest.first()?.to_ascii_uppercase(), rest.get(1..)?);
    let rest = rest.strip_prefix(b"?")?;
    let end = rest.windows(2).position(|w| w == b"?=")?;
    let text = &rest[..end];
    if text.iter().any(u8::is_ascii_whitespace) {
        return None;
    }
    let bytes = match mode {
        b'B' => {
            let trimmed: Vec<u8> = text.iter().copied().filter(|b| *b != b'=').collect();
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(&trimmed)
                .ok()?
        }
        b'Q' => q_decode(text),
        _ => return None,
    };
    let len = 2 + q1 + 1 + 2 + end + 2;
    Some((charset.to_string(), bytes, len))
}

/// The `Q` encoding of RFC 2047 §4.2.
fn q_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'_' => out.push(b' '),
            b'=' => {
                match text
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'='),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// An unstructured header value (a subject, a display name, a file
/// name) from its raw bytes: encoded-words decoded, the words of one
/// charset that follow each other joined before decoding (clients split
/// a multi-byte character across two words), and raw 8-bit text
/// detected.
pub fn header_text(raw: &[u8], context: Option<&'static Encoding>) -> String {
    let bytes = unfold(raw);
    let mut out = String::new();
    let mut word: Option<(String, Vec<u8>)> = None;
    let mut literal: Vec<u8> = Vec::new();
    let flush_word = |out: &mut String, word: &mut Option<(String, Vec<u8>)>| {
        if let Some((charset, bytes)) = word.take() {
            out.push_str(&decode(&bytes, Some(&charset), context));
        }
    };
    let flush_literal = |out: &mut String, literal: &mut Vec<u8>| {
        if !literal.is_empty() {
            out.push_str(&decode(literal, None, context));
            literal.clear();
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some((charset, decoded, len)) = encoded_word(&bytes[i..])
        {
            // White space between two encoded-words is not text.
            if word.is_some() && literal.iter().all(u8::is_ascii_whitespace) {
                literal.clear();
            } else {
                flush_word(&mut out, &mut word);
                flush_literal(&mut out, &mut literal);
            }
            match &mut word {
                Some((c, b)) if c.eq_ignore_ascii_case(&charset) => b.extend(decoded),
                _ => {
                    flush_word(&mut out, &mut word);
                    word = Some((charset, decoded));
                }
            }
            i += len;
        } else {
            if word.is_some() && !bytes[i].is_ascii_whitespace() {
                flush_word(&mut out, &mut word);
                // White space kept so far belongs to the text that follows.
            }
            literal.push(bytes[i]);
            i += 1;
        }
    }
    flush_word(&mut out, &mut word);
    flush_literal(&mut out, &mut literal);
    out.trim().to_string()
}

/// A header's text as one line: control characters (NUL, escapes, line
/// breaks, tabs) become spaces, and the ends are trimmed. A case keeps no text the API's registration would refuse, and
/// PostgreSQL refuses NUL in text outright.
fn one_line(text: String) -> String {
    if !text.chars().any(char::is_control) {
        return text.trim().to_string();
    }
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// A body's text: LF line ends (CRLF and lone CR become LF), without the
/// other control characters (tabs stay), trimmed.
fn text_lines(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_string()
}

/// The text a case keeps of one message, read from its raw bytes.
pub struct MailText<'a, 'x> {
    msg: &'a Message<'x>,
    /// The charset the message declares for its text, or the one its
    /// unlabelled 8-bit bytes detect as together.
    context: Option<&'static Encoding>,
}

impl<'a, 'x> MailText<'a, 'x> {
    pub fn new(msg: &'a Message<'x>) -> Self {
        let declared = msg
            .parts
            .iter()
            .filter_map(|p| p.content_type().and_then(|ct| ct.attribute("charset")))
            .filter_map(for_label)
            .find(|e| *e != UTF_8 && !is_latin(e));
        let context = declared.or_else(|| {
            // The head and the first text parts say enough.
            let raw = &msg.raw_message[..msg.raw_message.len().min(256 * 1024)];
            (!raw.is_ascii() && std::str::from_utf8(raw).is_err()).then(|| detect(raw))
        });
        Self { msg, context }
    }

    /// The message read.
    pub fn message(&self) -> &'a Message<'x> {
        self.msg
    }

    /// The raw bytes of a part's header, as sent.
    fn raw_header(&self, part: &MessagePart<'_>, name: &str) -> Option<&'a [u8]> {
        part.headers
            .iter()
            .rev()
            .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .and_then(|h| {
                self.msg
                    .raw_message
                    .get(h.offset_start as usize..h.offset_end as usize)
            })
    }

    /// The message's subject.
    pub fn subject(&self) -> String {
        one_line(match self.raw_header(self.msg.root_part(), "Subject") {
            Some(raw) => header_text(raw, self.context),
            None => self.msg.subject().unwrap_or_default().to_string(),
        })
    }

    /// The sender's display name (`王五` of `王五 <wang@example.net>`).
    pub fn sender_name(&self) -> Option<String> {
        if let Some(raw) = self.raw_header(self.msg.root_part(), "From") {
            let raw = unfold(raw);
            if let Some(lt) = outside_quotes(&raw, b'<') {
                let name = unquote(raw[..lt].trim_ascii());
                let text = one_line(header_text(&name, self.context));
                if !text.is_empty() {
                    return Some(text);
                }
            }
        }
        // `address (Name)` and groups: what the parser made of them.
        self.msg
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.name())
            .map(|n| one_line(n.to_string()))
            .filter(|n| !n.is_empty())
    }

    /// The text of the message body: every inline text part in order,
    /// HTML turned into plain text (the HTML itself is never kept or
    /// shown).
    pub fn body(&self) -> String {
        let parts: Vec<String> = self
            .msg
            .text_body
            .iter()
            .filter_map(|i| self.msg.parts.get(*i as usize))
            .filter_map(|part| self.part_text(part))
            .map(|t| text_lines(&t))
            .filter(|t| !t.is_empty())
            .collect();
        parts.join("\n\n")
    }

    /// One text or HTML part, decoded from its raw bytes.
    fn part_text(&self, part: &MessagePart<'_>) -> Option<String> {
        let (html, parsed) = match &part.body {
            PartType::Text(t) => (false, t),
            PartType::Html(h) => (true, h),
            _ => return None,
        };
        let bytes = self
            .msg
            .raw_message
            .get(part.offset_body as usize..part.offset_end as usize)
            .and_then(|raw| match part.encoding {
                Transfer::None => Some(Cow::Borrowed(raw)),
                Transfer::QuotedPrintable => quoted_printable_decode(raw).map(Cow::Owned),
                Transfer::Base64 => base64_decode(raw).map(Cow::Owned),
            });
        let Some(bytes) = bytes else {
            // The transfer encoding is broken: what the parser salvaged.
            return Some(if html {
                html_to_text(parsed)
            } else {
                parsed.to_string()
            });
        };
        let declared = part
            .content_type()
            .and_then(|ct| ct.attribute("charset"))
            .map(str::to_string)
            .or_else(|| html.then(|| meta_charset(&bytes)).flatten());
        let text = decode(&bytes, declared.as_deref(), self.context);
        Some(if html { html_to_text(&text) } else { text })
    }

    /// An attachment's file name. The parser's answer stands unless it
    /// holds U+FFFD (raw 8-bit names, words split inside a character);
    /// then the name is read again from the raw `Content-Disposition` and
    /// `Content-Type` parameters.
    pub fn attachment_name(&self, part: &MessagePart<'_>) -> Option<String> {
        let parsed = part.attachment_name();
        if let Some(name) = parsed
            && !name.contains('\u{fffd}')
        {
            return Some(one_line(name.to_string())).filter(|n| !n.is_empty());
        }
        [
            ("Content-Disposition", "filename"),
            ("Content-Type", "name"),
        ]
        .iter()
        .find_map(|(header, key)| {
            self.raw_header(part, header)
                .and_then(|raw| raw_param(&unfold(raw), key, self.context))
        })
        .map(one_line)
        .filter(|n| !n.is_empty())
        .or_else(|| parsed.map(str::to_string))
    }
}

/// The first `c` in `s` that is not inside a quoted string.
fn outside_quotes(s: &[u8], c: u8) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, b) in s.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b if *b == c && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// A quoted string's content (`"a \"b\""` → `a "b"`); other text as it is.
fn unquote(s: &[u8]) -> Vec<u8> {
    let Some(inner) = s.strip_prefix(b"\"").and_then(|s| s.strip_suffix(b"\"")) else {
        return s.to_vec();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut escaped = false;
    for b in inner {
        if !escaped && *b == b'\\' {
            escaped = true;
            continue;
        }
        escaped = false;
        out.push(*b);
    }
    out
}

/// The charset an HTML document names in its `<meta>` (within its first
/// kilobytes), for parts whose MIME header names none.
fn meta_charset(html: &[u8]) -> Option<String> {
    let head = &html[..html.len().min(4096)];
    let lower = head.to_ascii_lowercase();
    let at = lower.windows(8).position(|w| w == b"charset=")? + 8;
    let value: String = lower[at..]
        .iter()
        .skip_while(|b| **b == b'"' || **b == b'\'')
        .take_while(|b| b.is_ascii_alphanumeric() || [b'-', b'_', b'.', b':'].contains(b))
        .map(|b| *b as char)
        .collect();
    (!value.is_empty()).then_some(value)
}

/// Parameter `key` of a raw header value, in any of its forms: `key="…"`
/// or `key=token` (possibly holding encoded-words or raw 8-bit text),
/// `key*=charset'lang'%XX…` and the continuations `key*0*=…; key*1=…`
/// of RFC 2231.
fn raw_param(value: &[u8], key: &str, context: Option<&'static Encoding>) -> Option<String> {
    let mut plain: Option<Vec<u8>> = None;
    // (index, percent-encoded, bytes) of RFC 2231 segments.
    let mut segments: Vec<(u32, bool, Vec<u8>)> = Vec::new();
    for param in split_params(value).into_iter().skip(1) {
        let Some(eq) = param.iter().position(|b| *b == b'=') else {
            continue;
        };
        let name = String::from_utf8_lossy(param[..eq].trim_ascii()).to_ascii_lowercase();
        let val = unquote(param[eq + 1..].trim_ascii());
        if name == key {
            plain = Some(val);
        } else if let Some(rest) = name.strip_prefix(key).and_then(|r| r.strip_prefix('*')) {
            let (index, encoded) = match rest {
                "" => (0, true),
                r => match r.strip_suffix('*') {
                    Some(n) => (n.parse().ok()?, true),
                    None => (r.parse().ok()?, false),
                },
            };
            segments.push((index, encoded, val));
        }
    }
    if !segments.is_empty() {
        segments.sort_by_key(|s| s.0);
        let mut charset = None;
        let mut bytes = Vec::new();
        for (i, (_, encoded, val)) in segments.iter().enumerate() {
            if *encoded {
                let mut val = val.as_slice();
                if i == 0 {
                    // charset'language'value
                    let mut fields = val.splitn(3, |b| *b == b'\'');
                    let (c, _lang, v) = (fields.next(), fields.next(), fields.next());
                    if let Some(v) = v {
                        charset = c.map(|c| String::from_utf8_lossy(c).into_owned());
                        val = v;
                    }
                }
                bytes.extend(percent_decode(val));
            } else {
                bytes.extend_from_slice(val);
            }
        }
        return Some(decode(
            &bytes,
            charset.as_deref().filter(|c| !c.is_empty()),
            context,
        ));
    }
    plain.map(|v| header_text(&v, context))
}

/// A header value split at the semicolons outside quoted strings.
fn split_params(value: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(i) = outside_quotes(rest, b';') {
        out.push(&rest[..i]);
        rest = &rest[i + 1..];
    }
    out.push(rest);
    out
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    fn enc(e: &'static Encoding, s: &str) -> Vec<u8> {
        let (bytes, _, errors) = e.encode(s);
        assert!(!errors, "{s} fits {}", e.name());
        bytes.into_owned()
    }

    fn word(charset: &str, bytes: &[u8]) -> String {
        format!("=?{charset}?B?{}?=", B64.encode(bytes))
    }

    #[test]
    fn declared_legacy_sets_decode_and_gb2312_reads_as_gb18030() {
        let text = "投诉：收到的快递破损 𠮷野家";
        // A four-byte GB18030 character under a `gb2312` label.
        assert_eq!(decode(&enc(GB18030, text), Some("gb2312"), None), text);
        assert_eq!(decode(&enc(GB18030, text), Some("GBK"), None), text);
        assert_eq!(decode(&enc(GB18030, text), Some("gb18030"), None), text);
        let tw = "退貨申請：商品與描述不符";
        assert_eq!(decode(&enc(BIG5, tw), Some("big5"), None), tw);
        let ja = "返金されていません";
        assert_eq!(decode(&enc(SHIFT_JIS, ja), Some("shift_jis"), None), ja);
        assert_eq!(decode(&enc(ISO_2022_JP, ja), Some("iso-2022-jp"), None), ja);
        assert_eq!(decode(&enc(EUC_JP, ja), Some("euc-jp"), None), ja);
        let fr = "Remboursement refusé, colis abîmé";
        assert_eq!(decode(&enc(WINDOWS_1252, fr), Some("iso-8859-1"), None), fr);
    }

    #[test]
    fn missing_or_wrong_labels_are_detected() {
        let text = "我在店里买的耳机没有收到，商家拒绝退款，请平台处理。";
        let gbk = enc(GB18030, text);
        assert_eq!(decode(&gbk, None, None), text, "no label");
        assert_eq!(decode(&gbk, Some("us-ascii"), None), text, "ASCII label");
        assert_eq!(
            decode(&gbk, Some("iso-8859-1"), None),
            text,
            "Latin-1 label"
        );
        assert_eq!(
            decode(text.as_bytes(), Some("us-ascii"), None),
            text,
            "UTF-8"
        );
        // A UTF-8 label over GBK bytes: the decoder reports errors.
        assert_eq!(decode(&gbk, Some("utf-8"), None), text);
        let tw = "我在網路商店買的耳機一直沒有收到，賣家拒絕退款，請平台協助處理。";
        assert_eq!(decode(&enc(BIG5, tw), None, None), tw);
        let ja = "注文した商品が届きません。返金をお願いします。";
        assert_eq!(decode(&enc(ISO_2022_JP, ja), None, None), ja);
    }

    #[test]
    fn undecodable_bytes_are_replaced_visibly() {
        let mut bytes = "退款".as_bytes().to_vec();
        bytes.push(0xff);
        let text = decode(&bytes, Some("utf-8"), None);
        assert!(text.contains('\u{fffd}'), "{text}");
        assert!(text.contains("退"), "{text}");
    }

    #[test]
    fn encoded_words_join_split_characters_and_raw_headers_detect() {
        let gbk = enc(GB18030, "投诉：快递破损");
        // Split inside the second character's two bytes.
        let raw = format!(
            "{} {}",
            word("gb2312", &gbk[..3]),
            word("gb2312", &gbk[3..])
        );
        assert_eq!(header_text(raw.as_bytes(), None), "投诉：快递破损");
        // Folded, mixed with plain text, in Q.
        let raw = b"Re: =?utf-8?Q?=E9=80=80=E6=AC=BE?=\r\n =?utf-8?B?5pyq5Yiw6LSm?= (RD1)";
        assert_eq!(header_text(raw, None), "Re: 退款未到账 (RD1)");
        // Raw 8-bit GBK without encoded-words.
        let mut raw = b"Subject text: ".to_vec();
        raw.extend(enc(GB18030, "商家拒绝退款，要求平台介入处理"));
        assert_eq!(
            header_text(&raw, None),
            "Subject text: 商家拒绝退款，要求平台介入处理"
        );
        // Not encoded-words: left alone.
        assert_eq!(header_text(b"a =?b c ?= d", None), "a =?b c ?= d");
    }

    fn mime(head: &[u8], body: &[u8]) -> Vec<u8> {
        let mut raw = b"To: b@example.com\r\nMIME-Version: 1.0\r\n".to_vec();
        raw.extend_from_slice(head);
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(body);
        raw
    }

    #[test]
    fn a_gbk_mail_reads_whole() {
        let mut head = b"From: ".to_vec();
        head.extend(format!("\"{}\"", word("gbk", &enc(GB18030, "王五"))).as_bytes());
        head.extend(b" <wang@example.net>\r\nSubject: ");
        head.extend(word("gb2312", &enc(GB18030, "投诉：收到的快递破损")).as_bytes());
        head.extend(b"\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n");
        let mut body =
            b"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
        body.extend(enc(GB18030, "快递破损，商家不理。订单号 A-1。"));
        body.extend(b"\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"");
        body.extend(enc(GB18030, "发票截图.pdf"));
        body.extend(b"\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b\r\n");
        body.extend(b"Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*=gbk''");
        for b in enc(GB18030, "收据.pdf") {
            body.extend(format!("%{b:02X}").as_bytes());
        }
        body.extend(b"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n");
        let raw = mime(&head, &body);
        let msg = MessageParser::default().parse(&raw).unwrap();
        let text = MailText::new(&msg);
        assert_eq!(text.subject(), "投诉：收到的快递破损");
        assert_eq!(text.sender_name().as_deref(), Some("王五"));
        assert_eq!(text.body(), "快递破损，商家不理。订单号 A-1。");
        let names: Vec<String> = msg
            .attachments
            .iter()
            .map(|i| text.attachment_name(&msg.parts[*i as usize]).unwrap())
            .collect();
        assert_eq!(names, ["发票截图.pdf", "收据.pdf"]);
    }

    #[test]
    fn html_parts_use_their_meta_charset() {
        let mut body = b"<html><head><meta charset=\"gbk\"></head><body><p>".to_vec();
        body.extend(enc(GB18030, "退款一直没到账"));
        body.extend(b"</p></body></html>");
        let raw = mime(
            b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/html\r\n",
            &body,
        );
        let msg = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(MailText::new(&msg).body(), "退款一直没到账");
    }
}
