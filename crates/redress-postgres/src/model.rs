//! Learning the category model's counts (migration 0019).

use redress_store::{LearntToken, StoreResult};

use crate::codec::{col, db};
use crate::writer::WriteCtx;

pub fn learn(
    ctx: &mut WriteCtx<'_>,
    category: &str,
    tokens: &[LearntToken],
    min_cases: i64,
) -> StoreResult<()> {
    // In hash order, so that concurrent learners lock rows in one order.
    let mut tokens: Vec<&LearntToken> = tokens.iter().collect();
    tokens.sort_by(|a, b| a.hash.cmp(&b.hash));
    tokens.dedup_by(|a, b| a.hash == b.hash);
    let hashes: Vec<&str> = tokens.iter().map(|t| t.hash.as_str()).collect();
    let seen = ctx
        .client
        .query(
            "INSERT INTO category_model_seen (token_hash, cases) \
             SELECT h, 1 FROM unnest($1::text[]) AS h ORDER BY h \
             ON CONFLICT (token_hash) DO UPDATE SET cases = category_model_seen.cases + 1 \
             RETURNING token_hash, cases",
            &[&hashes],
        )
        .map_err(db)?;
    let mut counted: Vec<&str> = Vec::new();
    let mut new_words = 0i64;
    for r in &seen {
        let hash: String = col(r, 0)?;
        let cases: i64 = col(r, 1)?;
        if cases == min_cases {
            new_words += 1;
        }
        if cases >= min_cases
            && let Ok(i) = tokens.binary_search_by(|t| t.hash.as_str().cmp(hash.as_str()))
        {
            counted.push(tokens[i].token.as_str());
        }
    }
    counted.sort_unstable();
    if !counted.is_empty() {
        ctx.execute(
            "INSERT INTO category_model_counts (token, category, n) \
             SELECT t, $2, 1 FROM unnest($1::text[]) AS t ORDER BY t \
             ON CONFLICT (token, category) DO UPDATE SET n = category_model_counts.n + 1",
            &[&counted, &category],
        )
        .map_err(db)?;
    }
    let n = i64::try_from(counted.len()).unwrap_or(i64::MAX);
    ctx.execute(
        "INSERT INTO category_model (category, cases, tokens) VALUES ($1, 1, $2) \
         ON CONFLICT (category) DO UPDATE SET cases = category_model.cases + 1, \
         tokens = category_model.tokens + $2",
        &[&category, &n],
    )
    .map_err(db)?;
    if new_words > 0 {
        ctx.execute(
            "UPDATE category_model_vocabulary SET tokens = tokens + $1 WHERE id = 1",
            &[&new_words],
        )
        .map_err(db)?;
    }
    Ok(())
}
