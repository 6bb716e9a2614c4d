//! The case list: the branches of [`crate::filter`] run as one page and
//! its exact total, in one snapshot ([`super::Backend::read_snapshot`]).
//! SQLite is told which index to count and sort with, and reads a search
//! alone from its full-text index; PostgreSQL plans the same statements
//! by itself.

use chrono::{DateTime, Utc};

use super::{Conn, Dialect, Param};
use crate::filter::{DuePhase, NEWEST_FIRST, Where, branches, merge_arms};
use crate::rows::{CASE_COLUMNS_WITHOUT_TOKENS, Columns, SUMMARY_COLUMNS, case_row, summary};
use crate::{CaseFilter, CaseRow, CaseSummary, Page, Ranked, StoreResult, Visibility};

/// What a list reads of each matching case: its columns and how a row
/// becomes one.
trait ListRow: Sized {
    const COLUMNS: &'static str;
    fn read<D>(r: &impl Columns<D>) -> StoreResult<Self>;
    fn seq(&self) -> i64;
}

impl ListRow for CaseSummary {
    const COLUMNS: &'static str = SUMMARY_COLUMNS;
    fn read<D>(r: &impl Columns<D>) -> StoreResult<Self> {
        summary(r)
    }
    fn seq(&self) -> i64 {
        self.seq
    }
}

/// A search's candidate: only what ranking needs.
struct Candidate {
    seq: i64,
    subject: String,
}

impl ListRow for Candidate {
    const COLUMNS: &'static str = "seq, subject";
    fn read<D>(r: &impl Columns<D>) -> StoreResult<Self> {
        Ok(Candidate {
            seq: r.int(0)?,
            subject: r.text(1)?,
        })
    }
    fn seq(&self) -> i64 {
        self.seq
    }
}

/// A statement's parameters, bound as its text is written.
#[derive(Default)]
struct Binds(Vec<Param>);

impl Binds {
    /// `w`'s conjunction, its values bound.
    fn terms(&mut self, dialect: Dialect, w: &Where) -> String {
        let sql = w.sql(dialect, self.0.len());
        self.0.extend(w.params.iter().cloned());
        sql
    }

    /// A placeholder for `p`.
    fn bind(&mut self, p: impl Into<Param>) -> String {
        self.0.push(p.into());
        format!("?{}", self.0.len())
    }
}

pub fn list_cases<D, C: Conn<D>>(
    c: &mut C,
    visibility: &Visibility,
    filter: &CaseFilter,
    limit: usize,
    after: Option<i64>,
) -> StoreResult<Page<CaseSummary>> {
    list_rows(c, visibility, filter, limit, after)
}

/// A search's page best match first: the newest `cap` matches (their
/// `seq` and subject only) scored by `relevance` of their subjects,
/// newest first among equals, then the page's rows read by `seq`, all in
/// the caller's one snapshot (so the rows are those the filter and the
/// visibility admitted). `after` is the previous page's last
/// `(score, seq)`.
pub fn ranked_cases<D, C: Conn<D>>(
    c: &mut C,
    visibility: &Visibility,
    filter: &CaseFilter,
    relevance: &redress_domain::text::Relevance,
    cap: usize,
    limit: usize,
    after: Option<(i64, i64)>,
) -> StoreResult<Ranked> {
    let candidates: Page<Candidate> = list_rows(c, visibility, filter, cap, None)?;
    let mut keys: Vec<(i64, i64)> = candidates
        .items
        .iter()
        .map(|m| (relevance.score(&m.subject), m.seq))
        .collect();
    keys.sort_unstable_by(|a, b| b.cmp(a));
    let start = after.map_or(0, |key| {
        keys.iter().position(|k| *k < key).unwrap_or(keys.len())
    });
    let page: Vec<(i64, i64)> = keys.iter().skip(start).take(limit).copied().collect();
    let more = start + page.len() < keys.len();
    let mut rows = Vec::new();
    if !page.is_empty() {
        let seqs: Vec<i64> = page.iter().map(|(_, seq)| *seq).collect();
        let mut params = Vec::new();
        let term = super::one_of::<D, C, _>("seq", &seqs, &mut params);
        rows = c.query(
            &format!("SELECT {SUMMARY_COLUMNS} FROM cases WHERE {term}"),
            &params,
            |r| summary(r),
        )?;
    }
    let mut by_seq: std::collections::HashMap<i64, CaseSummary> =
        rows.into_iter().map(|r| (r.seq, r)).collect();
    let items = page
        .iter()
        .filter_map(|(score, seq)| by_seq.remove(seq).map(|row| (*score, row)))
        .collect();
    Ok(Ranked {
        items,
        total: i64::try_from(keys.len()).unwrap_or(i64::MAX),
        over: candidates.next.is_some(),
        more,
    })
}

fn list_rows<D, C: Conn<D>, T: ListRow>(
    c: &mut C,
    visibility: &Visibility,
    filter: &CaseFilter,
    limit: usize,
    after: Option<i64>,
) -> StoreResult<Page<T>> {
    let dialect = C::DIALECT;
    let sqlite = dialect == Dialect::Sqlite;
    let Some((branches, counted)) = branches(dialect, visibility, filter) else {
        return Ok(Page {
            items: Vec::new(),
            total: 0,
            next: None,
        });
    };
    let total = if filter.count_cap == Some(0) {
        0
    } else if counted {
        let sum = "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM case_counts";
        match filter.status {
            Some(s) => c.query_one(
                &format!("{sum} WHERE status = ?1"),
                &crate::args![s.as_str()],
                |r| r.int(0),
            ),
            None => c.query_one(sum, &[], |r| r.int(0)),
        }?
    } else {
        // A bounded count stops each branch at the cap (the sum is then
        // at least the cap when any branch reaches it).
        let capped = |inner: String| match filter.count_cap {
            Some(cap) => format!("(SELECT count(*) FROM ({inner} LIMIT {cap}) c)"),
            None => format!("(SELECT count(*) FROM ({inner}) c)"),
        };
        let mut binds = Binds::default();
        let mut counts = Vec::new();
        for b in &branches {
            counts.push(match b.count_index {
                Some(index) if sqlite => capped(format!(
                    "SELECT 1 FROM cases INDEXED BY {index} WHERE {}",
                    binds.terms(dialect, b)
                )),
                // Search alone: the full-text index counts without
                // visiting the cases (it holds a row for every case).
                _ if b.is_search_only() => capped(format!(
                    "SELECT 1 FROM cases_fts WHERE cases_fts MATCH {}",
                    binds.bind(b.params[0].clone())
                )),
                _ => capped(format!(
                    "SELECT 1 FROM cases WHERE {}",
                    binds.terms(dialect, b)
                )),
            });
        }
        let sql = format!("SELECT {}", counts.join(" + "));
        c.query_one(&sql, &binds.0, |r| r.int(0))?
    };

    let fetch = i64::try_from(limit)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1);
    let mut run = |arms: Vec<String>, mut binds: Binds, order: &str, want: i64| {
        let limit = if arms.len() > 1 {
            binds.bind(want)
        } else {
            String::new()
        };
        let sql = merge_arms(dialect, arms, order, &limit);
        c.query(&sql, &binds.0, |r| T::read(r))
    };
    let mut items = if filter.by_due {
        DuePhase::read_page(filter.due_after, fetch, |phase, key, want| {
            let indexed = match phase.index(visibility, filter) {
                Some(i) if sqlite => format!(" INDEXED BY {i}"),
                _ => String::new(),
            };
            let mut binds = Binds::default();
            let mut arms = Vec::new();
            for b in &branches {
                let w = binds.terms(dialect, &b.and(key));
                arms.push(format!(
                    "SELECT {} FROM cases{indexed} WHERE {w} ORDER BY {} LIMIT {}",
                    T::COLUMNS,
                    phase.order(),
                    binds.bind(want)
                ));
            }
            run(arms, binds, phase.order(), want)
        })?
    } else {
        let mut binds = Binds::default();
        let mut arms = Vec::new();
        for b in &branches {
            // A search and nothing else: the full-text index gives the
            // newest matches itself, in rowid (seq) order, so only the
            // page's rows are read (not every match's).
            if b.is_search_only() {
                let mut inner = format!(
                    "SELECT rowid FROM cases_fts WHERE cases_fts MATCH {}",
                    binds.bind(b.params[0].clone())
                );
                if let Some(after) = after {
                    inner.push_str(&format!(" AND rowid < {}", binds.bind(after)));
                }
                inner.push_str(&format!(" ORDER BY rowid DESC LIMIT {}", binds.bind(fetch)));
                arms.push(format!(
                    "SELECT {} FROM cases WHERE seq IN ({inner}) ORDER BY seq DESC",
                    T::COLUMNS
                ));
                continue;
            }
            let mut w = binds.terms(dialect, b);
            if let Some(after) = after {
                w.push_str(&format!(" AND seq < {}", binds.bind(after)));
            }
            let n = binds.bind(fetch);
            arms.push(
                if sqlite && (filter.overdue_at.is_some() || filter.due_between.is_some()) {
                    // Overdue lists sort the keys of the (index-found)
                    // overdue cases, then read the page's rows (`+seq`
                    // keeps SQLite from walking all cases backwards
                    // instead: overdue ones are rare among the newest).
                    format!(
                        "SELECT {} FROM cases WHERE seq IN \
                         (SELECT seq FROM cases WHERE {w} ORDER BY +seq DESC LIMIT {n}) \
                         ORDER BY seq DESC",
                        T::COLUMNS
                    )
                } else {
                    format!(
                        "SELECT {} FROM cases WHERE {w} ORDER BY {NEWEST_FIRST} LIMIT {n}",
                        T::COLUMNS
                    )
                },
            );
        }
        run(arms, binds, NEWEST_FIRST, fetch)?
    };
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more { items.last().map(T::seq) } else { None };
    Ok(Page { items, total, next })
}

/// [`crate::CaseReadStore::filed_case_rows`]: one statement that walks
/// `cases_created_at` backwards from the cursor. The cursor's own instant
/// is kept by the range (`<=`) and its earlier `seq`s by the `NOT`, so
/// the index range is one interval on both databases. (A list filtered
/// by period and ordered by `seq` alone read the whole period's index
/// range and sorted it for every page.)
pub fn filed_case_rows<D, C: Conn<D>>(
    c: &mut C,
    from: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    limit: usize,
    after: Option<(DateTime<Utc>, i64)>,
) -> StoreResult<Vec<CaseRow>> {
    let mut binds = Binds::default();
    let mut terms = Vec::new();
    if let Some(t) = from {
        terms.push(format!("created_at >= {}", binds.bind(Param::Time(t))));
    }
    // One upper bound only: given two (`created_at < before AND
    // created_at <= cursor`), SQLite bounded the index range by the first
    // and filtered by the second, so every page walked down from the
    // period's end again. The cursor's instant is inside the period, so
    // it is the bound once there is one.
    match (after, before) {
        (Some((at, seq)), _) => {
            let at = binds.bind(Param::Time(at));
            let seq = binds.bind(Param::Int64(seq));
            terms.push(format!(
                "created_at <= {at} AND NOT (created_at = {at} AND seq >= {seq})"
            ));
        }
        (None, Some(t)) => terms.push(format!("created_at < {}", binds.bind(Param::Time(t)))),
        (None, None) => {}
    }
    let filter = if terms.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", terms.join(" AND "))
    };
    c.query(
        &format!(
            "SELECT {CASE_COLUMNS_WITHOUT_TOKENS} FROM cases{filter} \
             ORDER BY created_at DESC, seq DESC LIMIT {limit}"
        ),
        &binds.0,
        |r| case_row(r),
    )
}
