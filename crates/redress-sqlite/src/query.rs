//! The case list: visibility and filters as one WHERE clause, shared by the
//! page and its exact total.

use r2d2_sqlite::rusqlite::types::Value;
use r2d2_sqlite::rusqlite::{Connection, params_from_iter};
use redress_domain::Status;
use redress_store::{CaseFilter, CaseSummary, Page, StoreResult, Visibility};

use crate::codec::{SUMMARY_COLUMNS, db, read_summary, summary, ts};

/// A conjunction of SQL terms with their parameters.
#[derive(Debug, Default)]
struct Where {
    terms: Vec<String>,
    params: Vec<Value>,
    /// Index to count this branch with (SQLite's planner, without
    /// statistics, prefers a non-covering one).
    count_index: Option<&'static str>,
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

const FTS_TERM: &str = "seq IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?)";

/// The rows a list may show, as disjoint branches (their union is the
/// list). Each branch is a plain conjunction that one index serves well —
/// one per department, one for the appeals a reviewer may decide — so the
/// page is a merge of short index scans and the exact total a sum of index
/// range counts, where a single `OR` would force table look-ups.
/// `None` when the visibility admits no case at all.
fn build(visibility: &Visibility, filter: &CaseFilter) -> Option<(Vec<Where>, bool)> {
    let mut common = Where::default();
    let mut simple = true;
    if let Some(d) = &filter.department {
        simple = false;
        common.push("department = ?", [text(d)]);
    }
    if let Some(c) = &filter.category {
        simple = false;
        common.push("category = ?", [text(c)]);
    }
    if let Some(r) = &filter.respondent_key {
        simple = false;
        if r.contains(':') {
            common.push("respondent_key = ?", [text(r)]);
        } else {
            // A bare id: the respondent of any kind with that id.
            let keys: Vec<Value> = redress_domain::RespondentKind::ALL
                .iter()
                .map(|k| text(&format!("{k}:{r}")))
                .collect();
            let marks = vec!["?"; keys.len()].join(", ");
            common.push(format!("respondent_key IN ({marks})"), keys);
        }
    }
    if let Some(n) = &filter.respondent_name {
        simple = false;
        // SQLite's `lower` folds ASCII letters (the contract); PostgreSQL's
        // folds others too.
        common.push("instr(lower(respondent_name), lower(?)) > 0", [text(n)]);
    }
    if let Some(a) = &filter.assignee {
        simple = false;
        common.push("assignee = ?", [text(a)]);
    }
    if let Some(c) = filter.channel {
        simple = false;
        common.push("channel = ?", [text(c.as_str())]);
    }
    if let Some(c) = filter.closure {
        simple = false;
        common.push("closure = ?", [text(c.as_str())]);
    }
    if let Some(t) = &filter.filed_from {
        simple = false;
        common.push("created_at >= ?", [Value::Text(ts(t))]);
    }
    if let Some(t) = &filter.filed_before {
        simple = false;
        common.push("created_at < ?", [Value::Text(ts(t))]);
    }
    if let Some(now) = &filter.overdue_at {
        simple = false;
        // The literal `staff_due = 1` lets SQLite use the partial index.
        common.push("staff_due = 1 AND next_due_at <= ?", [Value::Text(ts(now))]);
    }
    if let Some((now, soon)) = &filter.due_between {
        simple = false;
        common.push(
            "staff_due = 1 AND next_due_at > ? AND next_due_at <= ?",
            [Value::Text(ts(now)), Value::Text(ts(soon))],
        );
    }
    if let Some(q) = match_query(&filter.query) {
        simple = false;
        common.push(FTS_TERM, [Value::Text(q)]);
    }
    let with_common = |mut w: Where| {
        if let Some(s) = filter.status {
            w.push("status = ?", [text(s.as_str())]);
        }
        w.terms.extend(common.terms.iter().cloned());
        w.params.extend(common.params.iter().cloned());
        w
    };
    let branches = match visibility {
        Visibility::All => vec![with_common(Where::default())],
        Visibility::Respondent { respondent_key } => {
            simple = false;
            let mut w = Where::default();
            w.push("respondent_key = ?", [text(respondent_key)]);
            vec![with_common(w)]
        }
        Visibility::Departments {
            departments,
            reviewer,
        } => {
            simple = false;
            let mut departments: Vec<&String> = departments.iter().collect();
            departments.sort();
            departments.dedup();
            if let Some(only) = &filter.department {
                departments.retain(|d| *d == only);
            }
            let mut branches: Vec<Where> = departments
                .iter()
                .map(|d| {
                    let mut w = Where::default();
                    w.push("department = ?", [text(d)]);
                    with_common(w)
                })
                .collect();
            let reviewable = matches!(filter.status, None | Some(Status::UnderReview));
            let common = &common;
            if let Some(r) = reviewer.as_ref().filter(|_| reviewable) {
                let mut w = Where::default();
                // The literal `status = 'under_review'` selects the partial index.
                w.push(
                    "status = 'under_review' AND decided_by IS NOT ?",
                    [text(&r.username)],
                );
                if !r.independent {
                    w.push("decider_level < ?", [Value::Integer(i64::from(r.level))]);
                }
                if !departments.is_empty() {
                    // Disjoint from the department branches.
                    let marks = vec!["?"; departments.len()].join(", ");
                    w.push(
                        format!("(department IS NULL OR department NOT IN ({marks}))"),
                        departments.iter().map(|d| text(d)),
                    );
                }
                // `status = 'under_review'` already holds: no status filter.
                if common.terms.is_empty() {
                    w.count_index = Some("cases_review");
                }
                w.terms.extend(common.terms.iter().cloned());
                w.params.extend(common.params.iter().cloned());
                branches.push(w);
            }
            branches
        }
    };
    (!branches.is_empty()).then_some((branches, simple))
}

pub fn list_cases(
    conn: &mut Connection,
    visibility: &Visibility,
    filter: &CaseFilter,
    limit: usize,
    after: Option<i64>,
) -> StoreResult<Page<CaseSummary>> {
    let Some((branches, counted)) = build(visibility, filter) else {
        return Ok(Page {
            items: Vec::new(),
            total: 0,
            next: None,
        });
    };
    // One read transaction: the page and its total see the same snapshot.
    let tx = conn.transaction().map_err(db)?;
    let total: i64 = if counted {
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
        let sql = format!(
            "SELECT {}",
            branches
                .iter()
                .map(|b| match (b.count_index, b.terms.as_slice()) {
                    (Some(index), _) => {
                        format!(
                            "(SELECT count(*) FROM cases INDEXED BY {index} WHERE {})",
                            b.sql()
                        )
                    }
                    // Search alone: the full-text index counts without
                    // visiting the cases (it holds a row for every case).
                    (None, [only]) if only == FTS_TERM => {
                        "(SELECT count(*) FROM cases_fts WHERE cases_fts MATCH ?)".to_string()
                    }
                    _ => format!("(SELECT count(*) FROM cases WHERE {})", b.sql()),
                })
                .collect::<Vec<_>>()
                .join(" + ")
        );
        tx.prepare_cached(&sql)
            .map_err(db)?
            .query_row(
                params_from_iter(branches.iter().flat_map(|b| b.params.iter())),
                |r| r.get(0),
            )
            .map_err(db)?
    };

    // Overdue lists sort the keys of the (index-found) overdue cases
    // (`+seq` keeps SQLite from walking all cases backwards instead: overdue
    // ones are rare among the newest).
    let fetch = Value::Integer(
        i64::try_from(limit)
            .unwrap_or(i64::MAX - 1)
            .saturating_add(1),
    );
    let mut params: Vec<Value> = Vec::new();
    let mut arms: Vec<String> = Vec::new();
    for b in &branches {
        let mut w = b.sql();
        params.extend(b.params.iter().cloned());
        if let Some(after) = after {
            w.push_str(" AND seq < ?");
            params.push(Value::Integer(after));
        }
        params.push(fetch.clone());
        arms.push(
            if filter.overdue_at.is_some() || filter.due_between.is_some() {
                // Sort only the keys (the overdue indexes cover them), then
                // read the page's rows.
                format!(
                    "SELECT {SUMMARY_COLUMNS} FROM cases WHERE seq IN \
                 (SELECT seq FROM cases WHERE {w} ORDER BY +seq DESC LIMIT ?) ORDER BY seq DESC"
                )
            } else {
                format!("SELECT {SUMMARY_COLUMNS} FROM cases WHERE {w} ORDER BY seq DESC LIMIT ?")
            },
        );
    }
    let sql = if arms.len() == 1 {
        arms.remove(0)
    } else {
        params.push(fetch);
        format!(
            "{} ORDER BY seq DESC LIMIT ?",
            arms.iter()
                .map(|a| format!("SELECT * FROM ({a})"))
                .collect::<Vec<_>>()
                .join(" UNION ALL ")
        )
    };
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
