//! The case list: the branches of [`redress_store::filter`] run as one
//! page and its exact total.

use r2d2_sqlite::rusqlite::types::{ToSqlOutput, Value};
use r2d2_sqlite::rusqlite::{Connection, params_from_iter};
use redress_store::filter::{Dialect, DuePhase, NEWEST_FIRST, Param, branches, merge_arms};
use redress_store::{CaseFilter, CaseSummary, Page, StoreResult, Visibility};

use crate::codec::{self, SUMMARY_COLUMNS, db, summary};

/// A parameter as [`codec::bind`] binds it (text bound from a `String` is
/// always UTF-8).
pub(crate) fn value(p: &Param) -> Value {
    match codec::bind(p) {
        ToSqlOutput::Borrowed(v) => Value::try_from(v).unwrap_or(Value::Null),
        ToSqlOutput::Owned(v) => v,
        _ => unreachable!("bind answers values"),
    }
}

pub fn list_cases(
    conn: &mut Connection,
    visibility: &Visibility,
    filter: &CaseFilter,
    limit: usize,
    after: Option<i64>,
) -> StoreResult<Page<CaseSummary>> {
    let Some((branches, counted)) = branches(Dialect::Sqlite, visibility, filter) else {
        return Ok(Page {
            items: Vec::new(),
            total: 0,
            next: None,
        });
    };
    // One read transaction: the page and its total see the same snapshot.
    let tx = conn.transaction().map_err(db)?;
    let total: i64 = if filter.count_cap == Some(0) {
        0
    } else if counted {
        match filter.status {
            Some(s) => tx
                .prepare_cached("SELECT coalesce(sum(n), 0) FROM case_counts WHERE status = ?1")
                .map_err(db)?
                .query_row([s.as_str()], |r| r.get(0)),
            None => tx
                .prepare_cached("SELECT coalesce(sum(n), 0) FROM case_counts")
                .map_err(db)?
                .query_row([], |r| r.get(0)),
        }
        .map_err(db)?
    } else {
        // A bounded count stops each branch at the cap (the sum is then
        // at least the cap when any branch reaches it).
        let capped = |inner: String| match filter.count_cap {
            Some(cap) => format!("(SELECT count(*) FROM ({inner} LIMIT {cap}))"),
            None => format!("(SELECT count(*) FROM ({inner}))"),
        };
        let sql = format!(
            "SELECT {}",
            branches
                .iter()
                .map(|b| match b.count_index {
                    Some(index) => capped(format!(
                        "SELECT 1 FROM cases INDEXED BY {index} WHERE {}",
                        b.sql(Dialect::Sqlite, 0)
                    )),
                    // Search alone: the full-text index counts without
                    // visiting the cases (it holds a row for every case).
                    None if b.is_search_only() => {
                        capped("SELECT 1 FROM cases_fts WHERE cases_fts MATCH ?".to_string())
                    }
                    None => capped(format!(
                        "SELECT 1 FROM cases WHERE {}",
                        b.sql(Dialect::Sqlite, 0)
                    )),
                })
                .collect::<Vec<_>>()
                .join(" + ")
        );
        tx.prepare_cached(&sql)
            .map_err(db)?
            .query_row(
                params_from_iter(branches.iter().flat_map(|b| b.params.iter().map(value))),
                |r| r.get(0),
            )
            .map_err(db)?
    };

    let fetch = i64::try_from(limit)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1);
    let mut items = if filter.by_due {
        DuePhase::read_page(filter.due_after, fetch, |phase, key, want| {
            let indexed = phase
                .index(visibility, filter)
                .map(|i| format!(" INDEXED BY {i}"))
                .unwrap_or_default();
            let mut params: Vec<Value> = Vec::new();
            let mut arms: Vec<String> = Vec::new();
            for b in &branches {
                let w = b.and(key);
                params.extend(w.params.iter().map(value));
                params.push(Value::Integer(want));
                arms.push(format!(
                    "SELECT {SUMMARY_COLUMNS} FROM cases{indexed} WHERE {} ORDER BY {} LIMIT ?",
                    w.sql(Dialect::Sqlite, 0),
                    phase.order()
                ));
            }
            run_arms(&tx, arms, params, phase.order(), want)
        })?
    } else {
        let mut params: Vec<Value> = Vec::new();
        let mut arms: Vec<String> = Vec::new();
        for b in &branches {
            // A search and nothing else: the full-text index gives the
            // newest matches itself, in rowid (seq) order, so only the
            // page's rows are read (not every match's).
            if b.is_search_only() {
                let mut inner = "SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?".to_string();
                params.extend(b.params.iter().map(value));
                if let Some(after) = after {
                    inner.push_str(" AND rowid < ?");
                    params.push(Value::Integer(after));
                }
                inner.push_str(" ORDER BY rowid DESC LIMIT ?");
                params.push(Value::Integer(fetch));
                arms.push(format!(
                    "SELECT {SUMMARY_COLUMNS} FROM cases WHERE seq IN ({inner}) ORDER BY seq DESC"
                ));
                continue;
            }
            let mut w = b.sql(Dialect::Sqlite, 0);
            params.extend(b.params.iter().map(value));
            if let Some(after) = after {
                w.push_str(" AND seq < ?");
                params.push(Value::Integer(after));
            }
            params.push(Value::Integer(fetch));
            arms.push(
                if filter.overdue_at.is_some() || filter.due_between.is_some() {
                    // Overdue lists sort the keys of the (index-found)
                    // overdue cases, then read the page's rows (`+seq`
                    // keeps SQLite from walking all cases backwards
                    // instead: overdue ones are rare among the newest).
                    format!(
                        "SELECT {SUMMARY_COLUMNS} FROM cases WHERE seq IN \
                         (SELECT seq FROM cases WHERE {w} ORDER BY +seq DESC LIMIT ?) \
                         ORDER BY seq DESC"
                    )
                } else {
                    format!(
                        "SELECT {SUMMARY_COLUMNS} FROM cases WHERE {w} ORDER BY seq DESC LIMIT ?"
                    )
                },
            );
        }
        run_arms(&tx, arms, params, NEWEST_FIRST, fetch)?
    };
    drop(tx);
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more {
        items.last().map(|i| i.seq)
    } else {
        None
    };
    Ok(Page { items, total, next })
}

/// Runs the arms of a page (one per branch, each already limited) as one
/// statement, merged in `order` when there are several.
fn run_arms(
    tx: &Connection,
    arms: Vec<String>,
    mut params: Vec<Value>,
    order: &str,
    fetch: i64,
) -> StoreResult<Vec<CaseSummary>> {
    if arms.len() > 1 {
        params.push(Value::Integer(fetch));
    }
    let sql = merge_arms(Dialect::Sqlite, arms, order, "?");
    let mut stmt = tx.prepare_cached(&sql).map_err(db)?;
    codec::all(
        stmt.query(params_from_iter(params.iter())).map_err(db)?,
        summary,
    )
}
