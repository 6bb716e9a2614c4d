//! Search tokens for mixed Chinese and English text.
//!
//! Chinese has no spaces, and a two-character word such as 退款 or 快递 is
//! the most common search term. We index every run of CJK characters as its
//! single characters and overlapping bigrams, and every other word in lower
//! case; a query is tokenised the same way and every query token must be
//! present. This is the CJK bigram scheme of Lucene's CJKAnalyzer; it needs
//! no dictionary and works identically on SQLite FTS5 and PostgreSQL
//! full-text search.

use std::collections::BTreeSet;

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

/// A text's index tokens ([`index_tokens`]), each once: what category
/// suggestions learn from.
pub fn token_set(text: &str) -> BTreeSet<String> {
    index_tokens(text)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The shingles of a text, for near-duplicates:
/// its CJK character bigrams and its other words in lower case, each once.
/// A CJK run of one character gives none (a single character says little).
pub fn shingles(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for_each_run(text, |run, cjk| {
        if cjk {
            let chars: Vec<char> = run.chars().collect();
            for pair in chars.windows(2) {
                out.insert(pair.iter().collect());
            }
        } else {
            out.insert(run.to_lowercase());
        }
    });
    out
}

/// The longest token a case stores for search, in bytes. A longer "word"
/// (a pasted key, a run of digits) is not something anyone types into a
/// search box, and PostgreSQL's `tsvector` refuses lexemes over 2,047
/// bytes.
pub const MAX_TOKEN_BYTES: usize = 255;

/// The search tokens a case stores (`CaseRow::search_tokens`), from
/// space-separated tokens ([`index_tokens`] and the like): each once, in
/// byte order, none empty or longer than [`MAX_TOKEN_BYTES`]. A search
/// asks for tokens, never their order or count, so a set says all it
/// needs, and this is the order PostgreSQL's `tsvector` keeps its
/// lexemes in: the tokens read back from either database are the ones
/// written.
pub fn stored_tokens(tokens: &str) -> String {
    let set: BTreeSet<&str> = tokens
        .split(' ')
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_BYTES)
        .collect();
    let mut out = String::with_capacity(tokens.len());
    for t in set {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// The same shingles read back from a case's stored index tokens (the
/// output of [`index_tokens`]): its two-character CJK tokens and its other
/// words. `shingles_of_index(&index_tokens(t)) == shingles(t)`.
pub fn shingles_of_index(tokens: &str) -> BTreeSet<String> {
    tokens
        .split(' ')
        .filter(|t| !t.is_empty())
        .filter(|t| {
            let mut chars = t.chars();
            match chars.next() {
                Some(c) if is_cjk(c) => t.chars().count() == 2,
                Some(_) => true,
                None => false,
            }
        })
        .map(str::to_string)
        .collect()
}

/// How well a case's subject answers a search (higher first; every case
/// a search lists holds all its tokens somewhere, so the subject decides):
/// 1000 when the subject holds the query as typed (its words in that
/// order, case aside), plus up to 999 for the share of the query's tokens
/// the subject holds, minus a little for a long subject (at most 99),
/// so that of two subjects that match alike the shorter, more to the
/// point, comes first. Built once per search, then applied to each of up
/// to 10,000 subjects: a subject is lower-cased once and searched for
/// each token, nothing else is allocated.
#[derive(Debug, Clone)]
pub struct Relevance {
    phrase: String,
    tokens: Vec<String>,
}

impl Relevance {
    pub fn new(query: &str) -> Self {
        let mut words = Vec::new();
        for_each_run(query, |run, _| words.push(run.to_lowercase()));
        Self {
            phrase: words.join(" "),
            tokens: query_tokens(query),
        }
    }

    pub fn score(&self, subject: &str) -> i64 {
        if self.tokens.is_empty() {
            return 0;
        }
        let lower = subject.to_lowercase();
        // The subject's words joined by single spaces, as the query's are
        // (punctuation and runs of spaces between words read as one space).
        let mut normal = String::with_capacity(lower.len());
        for_each_run(&lower, |run, _| {
            if !normal.is_empty() {
                normal.push(' ');
            }
            normal.push_str(run);
        });
        let phrase = if !self.phrase.is_empty() && normal.contains(&self.phrase) {
            1000
        } else {
            0
        };
        let held = self
            .tokens
            .iter()
            .filter(|t| normal.contains(t.as_str()))
            .count() as i64;
        let share = held * 999 / self.tokens.len() as i64;
        let length = (subject.chars().count() as i64 / 4).min(99);
        phrase + share - length
    }
}

/// [`Relevance::score`] of one subject.
pub fn relevance(query: &str, subject: &str) -> i64 {
    Relevance::new(query).score(subject)
}

/// Jaccard similarity of two sets: shared over all; 0 when both are empty.
pub fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let shared = small.iter().filter(|t| large.contains(*t)).count();
    let union = a.len() + b.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
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

    #[test]
    fn relevance_puts_the_query_in_the_subject_first() {
        let q = "退款申请";
        let exact = relevance(q, "退款申请被拒绝");
        let words = relevance(q, "申请了退款，商家不理");
        let one = relevance(q, "商家拒绝退款");
        let none = relevance(q, "物流太慢");
        assert!(
            exact > words && words > one && one > none,
            "{exact} {words} {one} {none}"
        );
        // Alike, the shorter subject first; case does not matter.
        assert!(
            relevance("Refund", "refund refused")
                > relevance(
                    "refund",
                    "REFUND refused by the shop after three weeks of waiting"
                )
        );
        assert_eq!(relevance("", "退款"), 0);
    }

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

    #[test]
    fn stored_tokens_are_a_set_in_byte_order() {
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        let line = format!(
            "退款 款 退 refund  Zeta 退款 {long} {}",
            "y".repeat(MAX_TOKEN_BYTES)
        );
        assert_eq!(
            stored_tokens(&line),
            format!("Zeta refund {} 款 退 退款", "y".repeat(MAX_TOKEN_BYTES))
        );
        assert_eq!(stored_tokens(""), "");
        let doc = stored_tokens(&index_tokens("快递丢失，申请退款 Order A12 lost"));
        assert_eq!(
            shingles_of_index(&doc),
            shingles("快递丢失，申请退款 Order A12 lost")
        );
    }

    #[test]
    fn shingles_are_bigrams_and_words_and_survive_the_index() {
        let text = "快递丢失，申请退款 Order A12 lost";
        let s = shingles(text);
        let expected: BTreeSet<String> = [
            "快递", "递丢", "丢失", "申请", "请退", "退款", "order", "a12", "lost",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        assert_eq!(s, expected);
        assert_eq!(shingles_of_index(&index_tokens(text)), s);
        assert!(shingles("好").is_empty());
    }

    #[test]
    fn jaccard_is_shared_over_all() {
        let a = shingles("屏幕碎了");
        let b = shingles("屏幕裂了");
        // 屏幕 shared; 幕碎 碎了 vs 幕裂 裂了: 1 / 5.
        assert!((jaccard(&a, &b) - 0.2).abs() < 1e-9);
        assert_eq!(jaccard(&a, &a), 1.0);
        assert_eq!(jaccard(&BTreeSet::new(), &BTreeSet::new()), 0.0);
    }
}
