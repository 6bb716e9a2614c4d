//! Search tokens for mixed Chinese and English text.
//!
//! Chinese has no spaces, and a two-character word such as 退款 or 快递 is
//! the most common search term. We index every run of CJK characters as its
//! single characters and overlapping bigrams, and every other word in lower
//! case; a query is tokenised the same way and every query token must be
//! present. This is the CJK bigram scheme of Lucene's CJKAnalyzer; it needs
//! no dictionary and works identically on SQLite FTS5 and PostgreSQL
//! full-text search.

/// Index tokens for a document, space separated.
pub fn index_tokens(text: &str) -> String {
    let mut out = Vec::new();
    for_each_run(text, |run, cjk| {
        if cjk {
            let chars: Vec<char> = run.chars().collect();
            for c in &chars {
                out.push(c.to_string());
            }
            for pair in chars.windows(2) {
                out.push(pair.iter().collect());
            }
        } else {
            out.push(run.to_lowercase());
        }
    });
    out.join(" ")
}

/// Query tokens: bigrams for CJK runs (the single character when a run is
/// one character long), lower-cased words otherwise. All must match.
pub fn query_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_run(text, |run, cjk| {
        if cjk {
            let chars: Vec<char> = run.chars().collect();
            if chars.len() == 1 {
                out.push(chars[0].to_string());
            } else {
                for pair in chars.windows(2) {
                    out.push(pair.iter().collect());
                }
            }
        } else {
            out.push(run.to_lowercase());
        }
    });
    out.dedup();
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F
        | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// Splits text into runs of CJK characters and runs of other alphanumerics.
fn for_each_run(text: &str, mut f: impl FnMut(&str, bool)) {
    let mut start: Option<(usize, bool)> = None;
    for (i, c) in text.char_indices() {
        let class = if is_cjk(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (start, class) {
            (Some((_, k)), Some(nk)) if k == nk => {}
            (Some((s, k)), _) => {
                f(&text[s..i], k);
                start = class.map(|nk| (i, nk));
            }
            (None, Some(nk)) => start = Some((i, nk)),
            (None, None) => {}
        }
    }
    if let Some((s, k)) = start {
        f(&text[s..], k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_character_words_are_found() {
        let doc = index_tokens("申请退款被拒绝，快递丢失 Refund denied");
        let tokens: Vec<&str> = doc.split(' ').collect();
        for q in ["退款", "快递", "refund", "拒"] {
            for t in query_tokens(q) {
                assert!(tokens.contains(&t.as_str()), "{q} → {t} missing");
            }
        }
        assert_eq!(query_tokens("退款单"), vec!["退款", "款单"]);
        assert_eq!(query_tokens("Late DELIVERY"), vec!["late", "delivery"]);
    }
}
