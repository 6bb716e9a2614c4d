//! Learning the category model's counts (migration 0019).

use r2d2_sqlite::rusqlite::{Connection, params};
use redress_store::{LearntToken, StoreResult};

use crate::codec::db;

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
