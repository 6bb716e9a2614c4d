//! Near-duplicate candidates (the case list's branches, newest filed
//! first) and the category model's counts (migration 0019).

use r2d2_sqlite::rusqlite::types::Value;
use r2d2_sqlite::rusqlite::{Connection, params, params_from_iter};
use redress_domain::suggest::ModelView;
use redress_store::filter::{Dialect, branches};
use redress_store::{CaseFilter, CaseText, LearntToken, StoreResult, Visibility};

use crate::codec::{db, parse_ts, parse_uuid};
use crate::query::value;

pub fn case_texts(
    conn: &mut Connection,
    visibility: &Visibility,
    filters: &[CaseFilter],
    limit: usize,
) -> StoreResult<Vec<CaseText>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let tx = conn.transaction().map_err(db)?;
    let mut out: Vec<CaseText> = Vec::new();
    for filter in filters {
        let Some((branches, _)) = branches(Dialect::Sqlite, visibility, filter) else {
            continue;
        };
        let mut found: Vec<CaseText> = Vec::new();
        for b in &branches {
            let sql = format!(
                "SELECT id, tracking_no, subject, created_at, respondent_key, respondent_name, \
                 search_tokens FROM cases WHERE {} ORDER BY created_at DESC LIMIT ?",
                b.sql(Dialect::Sqlite, 0)
            );
            let mut params: Vec<Value> = b.params.iter().map(value).collect();
            params.push(Value::Integer(limit));
            let mut stmt = tx.prepare_cached(&sql).map_err(db)?;
            let rows = stmt
                .query_map(params_from_iter(params.iter()), |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            for (id, tracking_no, subject, created_at, rk, rn, tokens) in rows {
                found.push(CaseText {
                    id: parse_uuid(&id)?,
                    tracking_no,
                    subject,
                    created_at: parse_ts(&created_at)?,
                    respondent_key: rk,
                    respondent_name: rn,
                    search_tokens: tokens,
                });
            }
        }
        // Branches are disjoint; together, the newest `limit`.
        found.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        for t in found {
            if !out.iter().any(|o| o.id == t.id) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

pub fn learn(
    conn: &Connection,
    category: &str,
    tokens: &[LearntToken],
    min_cases: i64,
) -> StoreResult<()> {
    let mut seen = conn
        .prepare_cached(
            "INSERT INTO category_model_seen (token_hash, cases) VALUES (?1, 1) \
             ON CONFLICT (token_hash) DO UPDATE SET cases = cases + 1 RETURNING cases",
        )
        .map_err(db)?;
    let mut count = conn
        .prepare_cached(
            "INSERT INTO category_model_counts (token, category, n) VALUES (?1, ?2, 1) \
             ON CONFLICT (token, category) DO UPDATE SET n = n + 1",
        )
        .map_err(db)?;
    let (mut counted, mut new_words) = (0i64, 0i64);
    for t in tokens {
        let cases: i64 = seen.query_row([&t.hash], |r| r.get(0)).map_err(db)?;
        if cases == min_cases {
            new_words += 1;
        }
        if cases >= min_cases {
            count.execute(params![t.token, category]).map_err(db)?;
            counted += 1;
        }
    }
    conn.prepare_cached(
        "INSERT INTO category_model (category, cases, tokens) VALUES (?1, 1, ?2) \
         ON CONFLICT (category) DO UPDATE SET cases = cases + 1, tokens = tokens + ?2",
    )
    .map_err(db)?
    .execute(params![category, counted])
    .map_err(db)?;
    if new_words > 0 {
        conn.prepare_cached(
            "UPDATE category_model_vocabulary SET tokens = tokens + ?1 WHERE id = 1",
        )
        .map_err(db)?
        .execute([new_words])
        .map_err(db)?;
    }
    Ok(())
}

pub fn view(conn: &mut Connection, tokens: &[String]) -> StoreResult<ModelView> {
    let tx = conn.transaction().map_err(db)?;
    redress_store::sql::cases::category_model(&mut &*tx, tokens)
}
