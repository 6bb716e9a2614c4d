//! Near-duplicate candidates (the case list's branches, newest filed
//! first) and the category model's counts (migration 0019).

use chrono::{DateTime, Utc};
use postgres::Client;
use postgres::types::ToSql;
use redress_domain::suggest::ModelView;
use redress_store::filter::{Dialect, branches};
use redress_store::{CaseFilter, CaseText, LearntToken, StoreResult, Visibility};
use uuid::Uuid;

use crate::codec::{col, db};
use crate::query::{Param, render};
use crate::writer::WriteCtx;

pub fn case_texts(
    client: &mut Client,
    visibility: &Visibility,
    filters: &[CaseFilter],
    limit: usize,
) -> StoreResult<Vec<CaseText>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(db)?;
    let mut out: Vec<CaseText> = Vec::new();
    for filter in filters {
        let Some((branches, _)) = branches(Dialect::Postgres, visibility, filter) else {
            continue;
        };
        let mut params: Vec<Param> = Vec::new();
        let mut arms: Vec<String> = Vec::new();
        for b in &branches {
            let w = render(b, &mut params);
            params.push(Box::new(limit));
            arms.push(format!(
                "(SELECT id, tracking_no, subject, created_at, respondent_key, respondent_name, \
                 search_tokens FROM cases WHERE {w} ORDER BY created_at DESC LIMIT ${})",
                params.len()
            ));
        }
        params.push(Box::new(limit));
        let sql = format!(
            "SELECT * FROM ({}) AS found ORDER BY created_at DESC LIMIT ${}",
            arms.join(" UNION ALL "),
            params.len()
        );
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        for r in tx.query(&sql, &refs).map_err(db)? {
            let id: Uuid = col(&r, 0)?;
            if out.iter().any(|o| o.id == id) {
                continue;
            }
            let created_at: DateTime<Utc> = col(&r, 3)?;
            out.push(CaseText {
                id,
                tracking_no: col(&r, 1)?,
                subject: col(&r, 2)?,
                created_at,
                respondent_key: col(&r, 4)?,
                respondent_name: col(&r, 5)?,
                search_tokens: col(&r, 6)?,
            });
        }
    }
    tx.commit().map_err(db)?;
    Ok(out)
}

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

pub fn view(client: &mut Client, tokens: &[String]) -> StoreResult<ModelView> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(db)?;
    let view = redress_store::sql::cases::category_model(&mut tx, tokens)?;
    tx.commit().map_err(db)?;
    Ok(view)
}
