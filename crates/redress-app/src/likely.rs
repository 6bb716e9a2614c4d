//! Likely duplicates and likely categories of a case (SPEC §10/§11,
//! `GET /complaints/{id}/similar` and `/suggestions`).
//!
//! **Near-duplicates** are cases from anyone, against the same respondent
//! or in the same category, filed within [`WINDOW_DAYS`] days before or
//! after, whose text has a Jaccard similarity of at least
//! [`MIN_SIMILARITY`] over character-bigram shingles
//! ([`redress_domain::text::shingles`]). The candidates come from two index
//! ranges (respondent or category, then filing time; the newest
//! [`CANDIDATES`] of each), read with their stored search tokens, so no
//! document is opened; the caller's visibility is the case list's.
//!
//! **Category suggestions** come from a naive Bayes model of the
//! installation's accepted cases (`redress_domain::suggest`), learnt as each
//! case is accepted.

use std::collections::BTreeSet;

use chrono::Duration;
use redress_domain::suggest::{self, MIN_TOKEN_CASES};
use redress_domain::text::{index_tokens, jaccard, shingles, shingles_of_index};
use redress_store::{CaseFilter, LearntToken};
use serde::Serialize;
use uuid::Uuid;

use crate::App;
use crate::access::Principal;
use crate::error::AppResult;

/// Cases filed this many days before or after are compared.
pub const WINDOW_DAYS: i64 = 90;
/// At least this Jaccard similarity makes a near-duplicate.
pub const MIN_SIMILARITY: f64 = 0.5;
/// At most this many near-duplicates are listed.
pub const MAX_SIMILAR: usize = 20;
/// At most this many candidates per look-up (same respondent, same
/// category), the newest filed.
pub const CANDIDATES: usize = 500;

/// A likely duplicate of a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimilarCase {
    pub id: Uuid,
    pub tracking_no: String,
    pub subject: String,
    /// Jaccard similarity, 0–1 (three decimals).
    pub score: f64,
}

/// A likely category of a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategorySuggestion {
    /// The category's code.
    pub category: String,
    /// 0–1 (three decimals).
    pub confidence: f64,
}

fn three_decimals(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Tokens that say who or which file rather than what happened: the
/// tracking number's, the respondent's id and name, evidence file names
/// (long hexadecimal words).
fn not_text(
    tracking_no: &str,
    respondent_key: Option<&str>,
    respondent_name: Option<&str>,
) -> BTreeSet<String> {
    let mut skip = shingles(tracking_no);
    if let Some(id) = respondent_key
        .and_then(|k| k.split_once(':'))
        .map(|(_, id)| id)
    {
        skip.extend(shingles(id));
    }
    if let Some(name) = respondent_name {
        skip.extend(shingles(name));
    }
    skip
}

fn text_shingles(tokens: &str, skip: &BTreeSet<String>) -> BTreeSet<String> {
    let mut s = shingles_of_index(tokens);
    let file_name = |t: &str| t.len() >= 32 && t.bytes().all(|b| b.is_ascii_hexdigit());
    s.retain(|t| !(skip.contains(t) || file_name(t)));
    s
}

impl App {
    /// `GET /complaints/{id}/similar`: near-duplicates of a case the
    /// caller may see, among the cases they may see, best first.
    pub async fn similar_cases(&self, who: &Principal, id: Uuid) -> AppResult<Vec<SimilarCase>> {
        let (staff, loaded, _) = self.staff_case(who, id).await?;
        self.similar_to(&staff, &loaded.case).await
    }

    /// The near-duplicates of `case` that `staff` may see, best first
    /// (for a caller that has the case loaded and checked already).
    pub async fn similar_to(
        &self,
        staff: &crate::StaffUser,
        case: &redress_domain::Case,
    ) -> AppResult<Vec<SimilarCase>> {
        let respondent = case.record.respondent.as_ref();
        let respondent_key = respondent.map(|r| r.key());
        let own = text_shingles(
            &index_tokens(&case.record.searchable_text()),
            &not_text(
                &case.tracking_no,
                respondent_key.as_deref(),
                respondent.and_then(|r| r.name.as_deref()),
            ),
        );
        if own.is_empty() {
            return Ok(Vec::new());
        }
        let window = Duration::days(WINDOW_DAYS);
        let within = CaseFilter {
            filed_from: Some(case.created_at - window),
            // Inclusive of the window's last instant.
            filed_before: Some(case.created_at + window + Duration::microseconds(1)),
            ..CaseFilter::default()
        };
        let mut filters = Vec::new();
        if let Some(key) = &respondent_key {
            filters.push(CaseFilter {
                respondent_key: Some(key.clone()),
                ..within.clone()
            });
        }
        if let Some(category) = &case.category {
            filters.push(CaseFilter {
                category: Some(category.clone()),
                ..within.clone()
            });
        }
        if filters.is_empty() {
            return Ok(Vec::new());
        }
        let candidates = self
            .store
            .case_texts(&staff.visibility(), filters, CANDIDATES)
            .await?;
        let mut found: Vec<SimilarCase> = candidates
            .into_iter()
            .filter(|c| c.id != case.id)
            .filter_map(|c| {
                let theirs = text_shingles(
                    &c.search_tokens,
                    &not_text(
                        &c.tracking_no,
                        c.respondent_key.as_deref(),
                        c.respondent_name.as_deref(),
                    ),
                );
                let score = jaccard(&own, &theirs);
                (score >= MIN_SIMILARITY).then(|| SimilarCase {
                    id: c.id,
                    tracking_no: c.tracking_no,
                    subject: c.subject,
                    score: three_decimals(score),
                })
            })
            .collect();
        found.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.tracking_no.cmp(&b.tracking_no))
        });
        found.truncate(MAX_SIMILAR);
        Ok(found)
    }

    /// `GET /complaints/{id}/suggestions`: the likely categories of a case
    /// the caller may see, best first (`redress_domain::suggest::suggest`).
    pub async fn category_suggestions(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> AppResult<Vec<CategorySuggestion>> {
        let (_, loaded, _) = self.staff_case(who, id).await?;
        let categories = self.store.list_categories().await?;
        self.suggestions_for(&loaded.case, &categories).await
    }

    /// The likely categories of `case` among `categories` (those that
    /// still exist), best first.
    pub async fn suggestions_for(
        &self,
        case: &redress_domain::Case,
        categories: &[redress_store::Category],
    ) -> AppResult<Vec<CategorySuggestion>> {
        let tokens = suggest::tokens(&case.record.searchable_text());
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let view = self
            .store
            .category_model(tokens.iter().cloned().collect())
            .await?;
        // Only categories that still exist.
        let known: BTreeSet<&str> = categories.iter().map(|c| c.code.as_str()).collect();
        Ok(suggest::suggest(&view, &tokens)
            .into_iter()
            .filter(|s| known.contains(s.category.as_str()))
            .map(|s| CategorySuggestion {
                category: s.category,
                confidence: three_decimals(s.confidence),
            })
            .collect())
    }

    /// Teaches the category model an accepted case. A failure is logged and
    /// otherwise ignored: the case is accepted either way, and the model
    /// only lacks one example.
    pub(crate) async fn learn_category(&self, id: Uuid, category: &str) {
        let result = async {
            let loaded = self.load(id).await?;
            let tokens: Vec<LearntToken> = suggest::tokens(&loaded.case.record.searchable_text())
                .into_iter()
                .map(|token| LearntToken {
                    hash: self.vault.lookup_hash(&format!("category-model:{token}")),
                    token,
                })
                .collect();
            self.store
                .learn_category(category.to_string(), tokens, MIN_TOKEN_CASES)
                .await?;
            AppResult::Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(case = %id, error = %e, "the category model did not learn an accepted case");
        }
    }
}
