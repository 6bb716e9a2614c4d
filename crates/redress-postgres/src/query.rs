//! The case list: the branches of [`redress_store::filter`] run as one
//! page and its exact total (the same plan as the SQLite store's).

use postgres::Client;
use postgres::types::ToSql;
use redress_store::filter::{
    Dialect, DuePhase, NEWEST_FIRST, Param as Value, Where, branches, merge_arms,
};
use redress_store::{CaseFilter, CaseSummary, Page, StoreResult, Visibility};

use crate::codec::{SUMMARY_COLUMNS, db, summary, us};

pub(crate) type Param = Box<dyn ToSql + Sync + Send>;

fn boxed(p: &Value) -> Param {
    match p {
        Value::Text(s) => Box::new(s.clone()),
        Value::Texts(v) => Box::new(v.clone()),
        Value::Int(i) => Box::new(*i),
        Value::Int64(i) => Box::new(*i),
        Value::Time(t) => Box::new(us(t)),
        other => unreachable!("the case list binds no {other:?}"),
    }
}

/// The branch's conjunction with `$n` numbered on from `params.len() + 1`,
/// moving its values into `params`.
pub(crate) fn render(w: &Where, params: &mut Vec<Param>) -> String {
    let sql = w.sql(Dialect::Postgres, params.len());
    params.extend(w.params.iter().map(boxed));
    sql
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

pub fn list_cases(
    client: &mut Client,
    visibility: &Visibility,
    filter: &CaseFilter,
    limit: usize,
    after: Option<i64>,
) -> StoreResult<Page<CaseSummary>> {
    let Some((branches, counted)) = branches(Dialect::Postgres, visibility, filter) else {
        return Ok(Page {
            items: Vec::new(),
            total: 0,
            next: None,
        });
    };
    // One snapshot for the page and its total.
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(db)?;
    let total: i64 = if filter.count_cap == Some(0) {
        0
    } else if counted {
        let row = match filter.status {
            Some(s) => tx.query_one(
                "SELECT coalesce(sum(n), 0)::bigint FROM case_counts WHERE status = $1",
                &[&s.as_str()],
            ),
            None => tx.query_one("SELECT coalesce(sum(n), 0)::bigint FROM case_counts", &[]),
        }
        .map_err(db)?;
        row.get(0)
    } else {
        let mut params = Vec::new();
        let sql = format!(
            "SELECT {}",
            branches
                .iter()
                .map(|b| match filter.count_cap {
                    // A bounded count stops each branch at the cap.
                    Some(cap) => format!(
                        "(SELECT count(*) FROM (SELECT 1 FROM cases WHERE {} LIMIT {cap}) c)",
                        render(b, &mut params)
                    ),
                    None => format!(
                        "(SELECT count(*) FROM cases WHERE {})",
                        render(b, &mut params)
                    ),
                })
                .collect::<Vec<_>>()
                .join(" + ")
        );
        tx.query_one(&sql, &refs(&params)).map_err(db)?.get(0)
    };

    let fetch = i64::try_from(limit)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1);
    let rows = if filter.by_due {
        DuePhase::read_page(filter.due_after, fetch, |phase, key, want| {
            let mut params: Vec<Param> = Vec::new();
            let mut arms: Vec<String> = Vec::new();
            for b in &branches {
                let w = render(&b.and(key), &mut params);
                params.push(Box::new(want));
                arms.push(format!(
                    "SELECT {SUMMARY_COLUMNS} FROM cases WHERE {w} ORDER BY {} LIMIT ${}",
                    phase.order(),
                    params.len()
                ));
            }
            run_arms(&mut tx, arms, params, phase.order(), want)
        })?
    } else {
        let mut params: Vec<Param> = Vec::new();
        let mut arms: Vec<String> = Vec::new();
        for b in &branches {
            let mut w = render(b, &mut params);
            if let Some(after) = after {
                params.push(Box::new(after));
                w.push_str(&format!(" AND seq < ${}", params.len()));
            }
            params.push(Box::new(fetch));
            arms.push(format!(
                "SELECT {SUMMARY_COLUMNS} FROM cases WHERE {w} ORDER BY {NEWEST_FIRST} LIMIT ${}",
                params.len()
            ));
        }
        run_arms(&mut tx, arms, params, NEWEST_FIRST, fetch)?
    };
    tx.commit().map_err(db)?;
    let more = rows.len() > limit;
    let items = rows
        .iter()
        .take(limit)
        .map(summary)
        .collect::<StoreResult<Vec<_>>>()?;
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
    tx: &mut postgres::Transaction<'_>,
    arms: Vec<String>,
    mut params: Vec<Param>,
    order: &str,
    fetch: i64,
) -> StoreResult<Vec<postgres::Row>> {
    if arms.len() > 1 {
        params.push(Box::new(fetch));
    }
    let sql = merge_arms(
        Dialect::Postgres,
        arms,
        order,
        &format!("${}", params.len()),
    );
    tx.query(&sql, &refs(&params)).map_err(db)
}
