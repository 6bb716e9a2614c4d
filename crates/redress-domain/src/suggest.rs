//! Category suggestions: a multinomial naive Bayes model over a case's
//! search tokens ([`crate::text::token_set`]: CJK characters and bigrams,
//! other words; each counted once per case), learnt from the
//! installation's own accepted cases. (Bigrams and words alone were right
//! first on 68.8 % of the labelled fixture's held-out fifth, with the
//! single characters 83.8 %: docs/benchmarks.md.)
//!
//! What the model keeps is counts, never texts:
//! - per category, the cases learnt and the token occurrences counted;
//! - per token, the number of cases it was seen in (the store keeps this
//!   under a keyed hash), so that a token is counted against categories
//!   only from the [`MIN_TOKEN_CASES`]th case that holds it on: a word of
//!   one or two cases (a name, an order number) is never kept;
//! - per (category, token), the occurrences counted.
//!
//! Purging a case therefore needs nothing from the model. [`Model`] is the
//! rule in memory (the tests train it); the stores keep the same counts in
//! tables and hand back a [`ModelView`] for one text, which [`suggest`]
//! scores.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A token is counted from the case that makes it seen in this many cases.
pub const MIN_TOKEN_CASES: i64 = 3;
/// A category is suggested only once it has this many accepted cases.
pub const MIN_CATEGORY_CASES: i64 = 10;
/// No suggestion below this posterior probability.
pub const MIN_CONFIDENCE: f64 = 0.25;
/// At most this many suggestions.
pub const MAX_SUGGESTIONS: usize = 3;
/// At most this many distinct tokens of a case are learnt or scored (the
/// first in the text), so that a very long description costs the writer
/// no more than a few thousand upserts.
pub const MAX_TOKENS: usize = 2_000;
/// Additive (Laplace) smoothing of token probabilities.
const ALPHA: f64 = 1.0;

/// A category as the model knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryStats {
    pub category: String,
    /// Accepted cases learnt.
    pub cases: i64,
    /// Token occurrences counted against it (the sum of its token counts).
    pub tokens: i64,
}

/// What the model knows that bears on one text: every category, the
/// number of counted tokens, and the counts of the text's tokens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelView {
    pub categories: Vec<CategoryStats>,
    /// Distinct tokens counted (seen in at least [`MIN_TOKEN_CASES`] cases).
    pub vocabulary: i64,
    /// `(category, token, count)` for the text's tokens.
    pub counts: Vec<(String, String, i64)>,
}

/// The tokens of a text the model learns and scores: its search tokens
/// ([`crate::text::index_tokens`]), each once, the first [`MAX_TOKENS`].
pub fn tokens(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in crate::text::index_tokens(text).split(' ') {
        if out.len() == MAX_TOKENS {
            break;
        }
        if !t.is_empty() {
            out.insert(t.to_string());
        }
    }
    out
}

/// One likely category.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub category: String,
    /// The posterior probability, 0–1.
    pub confidence: f64,
}

/// The likely categories of a text with these `tokens`, best first: at
/// most [`MAX_SUGGESTIONS`], none below [`MIN_CONFIDENCE`], none of a
/// category with fewer than [`MIN_CATEGORY_CASES`] cases, and none for a
/// text without a token the model counts. The posterior
/// is taken over every category the model knows (a young category takes
/// its share of the probability; it is only not offered). Tokens the model
/// does not count are left out.
pub fn suggest(view: &ModelView, tokens: &BTreeSet<String>) -> Vec<Suggestion> {
    let total_cases: i64 = view.categories.iter().map(|c| c.cases.max(0)).sum();
    if total_cases == 0 {
        return Vec::new();
    }
    let known: BTreeSet<&str> = view
        .counts
        .iter()
        .filter(|(_, t, _)| tokens.contains(t))
        .map(|(_, t, _)| t.as_str())
        .collect();
    // Nothing in the text the model counts: the priors alone say nothing
    // of this text.
    if known.is_empty() {
        return Vec::new();
    }
    let counts: HashMap<(&str, &str), i64> = view
        .counts
        .iter()
        .map(|(c, t, n)| ((c.as_str(), t.as_str()), *n))
        .collect();
    let vocabulary = view.vocabulary.max(known.len() as i64).max(1) as f64;
    let scored: Vec<(&CategoryStats, f64)> = view
        .categories
        .iter()
        .filter(|c| c.cases > 0)
        .map(|c| {
            let prior = (c.cases as f64 / total_cases as f64).ln();
            let denominator = (c.tokens.max(0) as f64 + ALPHA * vocabulary).ln();
            let likelihood: f64 = known
                .iter()
                .map(|t| {
                    let n = counts
                        .get(&(c.category.as_str(), *t))
                        .copied()
                        .unwrap_or(0)
                        .max(0);
                    (n as f64 + ALPHA).ln() - denominator
                })
                .sum();
            (c, prior + likelihood)
        })
        .collect();
    let Some(best) = scored.iter().map(|(_, s)| *s).reduce(f64::max) else {
        return Vec::new();
    };
    let norm: f64 = scored.iter().map(|(_, s)| (s - best).exp()).sum();
    let mut out: Vec<Suggestion> = scored
        .iter()
        .filter(|(c, _)| c.cases >= MIN_CATEGORY_CASES)
        .map(|(c, s)| Suggestion {
            category: c.category.clone(),
            confidence: (s - best).exp() / norm,
        })
        .filter(|s| s.confidence >= MIN_CONFIDENCE)
        .collect();
    out.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.category.cmp(&b.category))
    });
    out.truncate(MAX_SUGGESTIONS);
    out
}

/// The model in memory, learning by the same rule as the stores.
#[derive(Debug, Clone, Default)]
pub struct Model {
    token_cases: HashMap<String, i64>,
    counts: HashMap<(String, String), i64>,
    categories: BTreeMap<String, (i64, i64)>,
    vocabulary: i64,
}

impl Model {
    /// Learns one accepted case of `category` with these tokens.
    pub fn learn(&mut self, category: &str, tokens: &BTreeSet<String>) {
        let mut counted = 0;
        for t in tokens {
            let seen = self.token_cases.entry(t.clone()).or_insert(0);
            *seen += 1;
            if *seen == MIN_TOKEN_CASES {
                self.vocabulary += 1;
            }
            if *seen >= MIN_TOKEN_CASES {
                *self
                    .counts
                    .entry((category.to_string(), t.clone()))
                    .or_insert(0) += 1;
                counted += 1;
            }
        }
        let c = self
            .categories
            .entry(category.to_string())
            .or_insert((0, 0));
        c.0 += 1;
        c.1 += counted;
    }

    /// What the model knows that bears on a text with `tokens`.
    pub fn view(&self, tokens: &BTreeSet<String>) -> ModelView {
        ModelView {
            categories: self
                .categories
                .iter()
                .map(|(category, (cases, tokens))| CategoryStats {
                    category: category.clone(),
                    cases: *cases,
                    tokens: *tokens,
                })
                .collect(),
            vocabulary: self.vocabulary,
            counts: self
                .counts
                .iter()
                .filter(|((_, t), _)| tokens.contains(t))
                .map(|((c, t), n)| (c.clone(), t.clone(), *n))
                .collect(),
        }
    }

    /// The likely categories of `text`.
    pub fn suggest(&self, text: &str) -> Vec<Suggestion> {
        let tokens = tokens(text);
        suggest(&self.view(&tokens), &tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trained(per_category: usize) -> Model {
        let mut m = Model::default();
        for i in 0..per_category {
            m.learn(
                "delivery",
                &tokens(&format!("快递三天没有送到，物流停滞 {i}")),
            );
            m.learn(
                "refunds-returns",
                &tokens(&format!("申请退款被拒绝，退货不退钱 {i}")),
            );
        }
        m
    }

    #[test]
    fn the_likely_category_comes_first() {
        let m = trained(12);
        let s = m.suggest("物流一直不更新，快递没送到");
        assert_eq!(s[0].category, "delivery");
        assert!(s[0].confidence > 0.9, "{s:?}");
        let s = m.suggest("商家拒绝退款");
        assert_eq!(s[0].category, "refunds-returns");
    }

    #[test]
    fn a_category_with_few_cases_is_never_offered() {
        let m = trained(9);
        assert!(m.suggest("物流一直不更新，快递没送到").is_empty());
    }

    #[test]
    fn tokens_of_fewer_than_three_cases_are_not_kept() {
        let mut m = Model::default();
        m.learn("delivery", &tokens("张三 快递"));
        m.learn("delivery", &tokens("张三 快递"));
        assert!(m.view(&tokens("张三 快递")).counts.is_empty());
        m.learn("delivery", &tokens("快递"));
        let mut v = m.view(&tokens("张三 快递"));
        v.counts.sort();
        let kept: Vec<(String, String, i64)> = ["快", "快递", "递"]
            .iter()
            .map(|t| ("delivery".to_string(), t.to_string(), 1))
            .collect();
        assert_eq!(v.counts, kept);
        assert_eq!(v.vocabulary, 3);
        assert_eq!(v.categories[0].cases, 3);
        assert_eq!(v.categories[0].tokens, 3);
    }

    #[test]
    fn a_long_text_gives_at_most_max_tokens() {
        let long: String = (0..5_000).map(|i| format!("w{i} ")).collect();
        let t = tokens(&long);
        assert_eq!(t.len(), MAX_TOKENS);
        assert!(t.contains("w0") && !t.contains("w4999"));
        assert_eq!(tokens("快递丢失"), crate::text::token_set("快递丢失"));
    }

    #[test]
    fn nothing_is_suggested_from_an_empty_model_or_below_the_threshold() {
        assert!(Model::default().suggest("快递").is_empty());
        let m = trained(12);
        // No known token: the priors alone (one half each) say nothing.
        assert!(m.suggest("hello").is_empty());
        // Tokens of both categories alike: no category stands out enough
        // for more than the two even ones.
        let s = m.suggest("快递 退款");
        assert!(s.len() <= 2 && s.iter().all(|x| x.confidence >= MIN_CONFIDENCE));
    }
}
