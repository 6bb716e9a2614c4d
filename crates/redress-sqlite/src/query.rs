//! The case list: visibility and filters as one WHERE clause, shared by the
//! page and its exact total.

use r2d2_sqlite::rusqlite::types::Value;
use r2d2_sqlite::rusqlite::{Connection, params_from_iter};
use redress_store::{CaseFilter, CaseSummary, Page, StoreResult, Visibility};

use crate::codec::{SUMMARY_COLUMNS, db, read_summary, summary, ts};

/// A conjunction of SQL terms with their parameters.
#[derive(Debug, Default)]
struct Where {
    terms: Vec<String>,
    params: Vec<Value>,
    /// Only `status = ?` (or nothing) restricts the rows: the total comes
    /// from the trigger-kept `case_counts`.
    counted: bool,
}

impl Where {
    fn push(&mut self, term: impl Into<String>, params: impl IntoIterator<Item = Value>) {
        self.terms.push(term.into());
        self.params.extend(params);
    }

    fn sql(&self) -> String {
        if self.terms.is_empty() {
            "1".to_string()
        } else {
            self.terms.join(" AND ")
        }
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// Builds the FTS5 query: every token must be present, each quoted as a
/// phrase (double quotes doubled) so no token is read as syntax.
pub fn match_query(tokens: &[String]) -> Option<String> {
    let phrases: Vec<String> = tokens
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" "))
}

/// `None` when the visibility admits no case at all.
fn build(visibility: &Visibility, filter: &CaseFilter) -> Option<Where> {
    let mut w = Where::default();
    let mut simple = true;
    match visibility {
        Visibility::All => {}
        Visibility::Respondent { respondent_key } => {
            simple = false;
            w.push("respondent_key = ?", [text(respondent_key)]);
        }
        Visibility::Departments {
            departments,
            reviewer,
        } => {
            simple = false;
            let mut alternatives: Vec<String> = Vec::new();
            let mut params: Vec<Value> = Vec::new();
            if !departments.is_empty() {
                let marks = vec!["?"; departments.len()].join(", ");
                alternatives.push(format!("department IN ({marks})"));
                params.extend(departments.iter().map(|d| text(d)));
            }
            if let Some(r) = reviewer {
                if r.independent {
                    alternatives.push("(status = 'under_review' AND decided_by IS NOT ?)".into());
                    params.push(text(&r.username));
                } else {
                    alternatives.push(
                        "(status = 'under_review' AND decided_by IS NOT ? AND decider_level < ?)"
                            .into(),
                    );
                    params.push(text(&r.username));
                    params.push(Value::Integer(i64::from(r.level)));
                }
            }
            match alternatives.len() {
                0 => return None,
                1 => w.push(alternatives.remove(0), params),
                _ => w.push(format!("({})", alternatives.join(" OR ")), params),
            }
        }
    }
    if let Some(s) = filter.status {
        w.push("status = ?", [text(s.as_str())]);
    }
    if let Some(d) = &filter.department {
        simple = false;
        w.push("department = ?", [text(d)]);
    }
    if let Some(c) = &filter.category {
        simple = false;
        w.push("category = ?", [text(c)]);
    }
    if let Some(r) = &filter.respondent_key {
        simple = false;
        if r.contains(':') {
            w.push("respondent_key = ?", [text(r)]);
        } else {
            // A bare id: the respondent of any kind with that id.
            let keys: Vec<Value> = redress_domain::RespondentKind::ALL
                .iter()
                .map(|k| text(&format!("{k}:{r}")))
                .collect();
            let marks = vec!["?"; keys.len()].join(", ");
            w.push(format!("respondent_key IN ({marks})"), keys);
        }
    }
    if let Some(a) = &filter.assignee {
        simple = false;
        w.push("assignee = ?", [text(a)]);
    }
    if let Some(now) = &filter.overdue_at {
        simple = false;
        // The literal `staff_due = 1` lets SQLite use the partial index.
        w.push("staff_due = 1 AND next_due_at <= ?", [Value::Text(ts(now))]);
    }
    if let Some(q) = match_query(&filter.query) {
        simple = false;
        w.push(
            "seq IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?)",
            [Value::Text(q)],
        );
    }
    w.counted = simple;
    Some(w)
}

pub fn list_cases(
    conn: &mut Connection,
    visibility: &Visibility,
    filter: &CaseFilter,
    limit: usize,
    after: Option<i64>,
) -> StoreResult<Page<CaseSummary>> {
    let Some(w) = build(visibility, filter) else {
        return Ok(Page {
            items: Vec::new(),
            total: 0,
            next: None,
        });
    };
    // One read transaction: the page and its total see the same snapshot.
    let tx = conn.transaction().map_err(db)?;
    let total: i64 = if w.counted {
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
        let sql = format!("SELECT count(*) FROM cases WHERE {}", w.sql());
        tx.prepare_cached(&sql)
            .map_err(db)?
            .query_row(params_from_iter(w.params.iter()), |r| r.get(0))
            .map_err(db)?
    };

    let mut params = w.params.clone();
    let mut page_where = w.sql();
    if let Some(after) = after {
        page_where.push_str(" AND seq < ?");
        params.push(Value::Integer(after));
    }
    let fetch = i64::try_from(limit)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1);
    params.push(Value::Integer(fetch));
    let sql =
        format!("SELECT {SUMMARY_COLUMNS} FROM cases WHERE {page_where} ORDER BY seq DESC LIMIT ?");
    let raw = tx
        .prepare_cached(&sql)
        .map_err(db)?
        .query_map(params_from_iter(params.iter()), read_summary)
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    drop(tx);
    let more = raw.len() > limit;
    let items = raw
        .into_iter()
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
