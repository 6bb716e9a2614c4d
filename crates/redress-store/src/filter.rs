//! The case list's visibility and filters as disjoint branches of WHERE
//! clauses, written once for both backends; [`Dialect`] picks the few
//! places where their SQL differs. Terms write their parameters as `{}`;
//! [`Where::sql`] turns them into `?` (SQLite) or `$n` (PostgreSQL).
//!
//! Each branch is a plain conjunction that one index serves well — one per
//! department, one for the appeals a reviewer may decide — so the page is a
//! merge of short index scans and the exact total a sum of index range
//! counts, where a single `OR` would force table look-ups.

use chrono::{DateTime, Utc};
use redress_domain::Status;

use crate::{CaseFilter, Visibility};

/// Whose SQL to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

pub use crate::sql::Param;

/// A conjunction of SQL terms with their parameters.
#[derive(Debug, Clone, Default)]
pub struct Where {
    pub terms: Vec<String>,
    pub params: Vec<Param>,
    /// Index to count this branch with (SQLite's planner, without
    /// statistics, prefers a non-covering one).
    pub count_index: Option<&'static str>,
}

/// The full-text term of SQLite; alone in a branch, the FTS index counts
/// the branch without visiting the cases.
pub const FTS_TERM: &str = "seq IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH {})";

impl Where {
    fn push(&mut self, term: impl Into<String>, params: impl IntoIterator<Item = Param>) {
        self.terms.push(term.into());
        self.params.extend(params);
    }

    fn extend(&mut self, other: &Where) {
        self.terms.extend(other.terms.iter().cloned());
        self.params.extend(other.params.iter().cloned());
    }

    /// This conjunction and `other`'s terms.
    pub fn and(&self, other: &Where) -> Where {
        let mut w = self.clone();
        w.extend(other);
        w
    }

    /// The conjunction with its placeholders written for `dialect`: `?`,
    /// or `$n` numbered on after the `bound` parameters already bound.
    pub fn sql(&self, dialect: Dialect, bound: usize) -> String {
        if self.terms.is_empty() {
            return match dialect {
                Dialect::Sqlite => "1",
                Dialect::Postgres => "TRUE",
            }
            .to_string();
        }
        let sql = self.terms.join(" AND ");
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = bound;
        let mut rest = sql.as_str();
        while let Some(i) = rest.find("{}") {
            out.push_str(&rest[..i]);
            n += 1;
            match dialect {
                Dialect::Sqlite => out.push('?'),
                Dialect::Postgres => out.push_str(&format!("${n}")),
            }
            rest = &rest[i + 2..];
        }
        out.push_str(rest);
        out
    }

    /// True when the branch is the full-text search alone.
    pub fn is_search_only(&self) -> bool {
        matches!(self.terms.as_slice(), [only] if only == FTS_TERM)
    }
}

/// The order of a page that is not sorted by deadline: newest first.
pub const NEWEST_FIRST: &str = "seq DESC";

/// A list sorted by next deadline (`by_due`) is read in two phases, each
/// in an order an index can give without sorting the matches: the cases
/// with a deadline, soonest first (the partial indexes `cases_due` on
/// `(next_due_at, seq)` and `cases_due_status` on `(status, next_due_at,
/// seq)` hold only those, the open cases), then the cases
/// without one, oldest first. The second phase is read only when the first
/// did not fill the page. One `ORDER BY next_due_at IS NULL, next_due_at,
/// seq` over both would sort every matching case before the first row
/// comes out (every case in progress, at a million cases some tens of
/// thousands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuePhase {
    /// Cases with a deadline, by `(next_due_at, seq)`.
    Set,
    /// Cases without a deadline, by `seq`; after all those with one.
    Unset,
}

impl DuePhase {
    /// The phase's order.
    pub fn order(self) -> &'static str {
        match self {
            DuePhase::Set => "next_due_at, seq",
            DuePhase::Unset => "seq",
        }
    }

    /// The phases of a page that starts after `after` (the deadline and
    /// `seq` of the previous page's last case), in the order they are
    /// read, each with its condition.
    pub fn after(after: Option<(Option<DateTime<Utc>>, i64)>) -> Vec<(DuePhase, Where)> {
        let mut set = Where::default();
        set.push("next_due_at IS NOT NULL", None);
        let mut unset = Where::default();
        unset.push("next_due_at IS NULL", None);
        match after {
            None => vec![(DuePhase::Set, set), (DuePhase::Unset, unset)],
            Some((Some(due), seq)) => {
                set.push(
                    "(next_due_at > {} OR (next_due_at = {} AND seq > {}))",
                    [Param::Time(due), Param::Time(due), Param::Int64(seq)],
                );
                vec![(DuePhase::Set, set), (DuePhase::Unset, unset)]
            }
            Some((None, seq)) => {
                unset.push("seq > {}", [Param::Int64(seq)]);
                vec![(DuePhase::Unset, unset)]
            }
        }
    }

    /// Reads a page of up to `fetch` rows sorted by next deadline,
    /// starting after `after`: `read(phase, condition, want)` reads up to
    /// `want` rows of one phase in its order; a phase is read only while
    /// the page is not full.
    pub fn read_page<T, E>(
        after: Option<(Option<DateTime<Utc>>, i64)>,
        fetch: i64,
        mut read: impl FnMut(DuePhase, &Where, i64) -> Result<Vec<T>, E>,
    ) -> Result<Vec<T>, E> {
        let mut rows = Vec::new();
        for (phase, key) in DuePhase::after(after) {
            let want = fetch - i64::try_from(rows.len()).unwrap_or(i64::MAX);
            if want <= 0 {
                break;
            }
            rows.extend(read(phase, &key, want)?);
        }
        Ok(rows)
    }

    /// The index SQLite should walk for this phase, rather than let its
    /// planner (without statistics) pick an index on an equality and then
    /// sort every match: `cases_due_status` for one status (its cases with
    /// a deadline, in deadline order), `cases_due` otherwise (every open
    /// case with a deadline, in deadline order); either stops at the
    /// page's last match. None for the cases without a deadline, and when
    /// the list is one assignee's or one respondent's, whose own indexes
    /// find their few cases at once.
    pub fn index(self, visibility: &Visibility, filter: &CaseFilter) -> Option<&'static str> {
        if self != DuePhase::Set
            || filter.assignee.is_some()
            || filter.respondent_key.is_some()
            || matches!(visibility, Visibility::Respondent { .. })
        {
            return None;
        }
        Some(if filter.status.is_some() {
            "cases_due_status"
        } else {
            "cases_due"
        })
    }
}

/// One statement for a page's arms (one per branch, each already ordered
/// and limited): the arm itself, or the arms merged in `order` and cut at
/// the parameter `limit` (`?` or `$n`).
pub fn merge_arms(dialect: Dialect, mut arms: Vec<String>, order: &str, limit: &str) -> String {
    if arms.len() == 1 {
        return arms.remove(0);
    }
    let arms: Vec<String> = match dialect {
        // SQLite takes an ordered, limited arm only as a subquery.
        Dialect::Sqlite => arms
            .iter()
            .map(|a| format!("SELECT * FROM ({a})"))
            .collect(),
        Dialect::Postgres => arms.iter().map(|a| format!("({a})")).collect(),
    };
    format!(
        "{} ORDER BY {order} LIMIT {limit}",
        arms.join(" UNION ALL ")
    )
}

/// A stage as the report facts write it.
pub fn stage_name(stage: redress_domain::Stage) -> &'static str {
    use redress_domain::Stage;
    match stage {
        Stage::Acceptance => "acceptance",
        Stage::Supplement => "supplement",
        Stage::Handling => "handling",
        Stage::Appeal => "appeal",
        Stage::Review => "review",
    }
}

fn text(s: &str) -> Param {
    Param::Text(s.to_string())
}

/// `n` placeholders, comma-separated.
fn marks(n: usize) -> String {
    vec!["{}"; n].join(", ")
}

/// Builds the FTS5 query: every token must be present, each quoted as a
/// phrase (double quotes doubled) so no token is read as syntax.
pub fn match_query(tokens: &[String]) -> Option<String> {
    // One token per phrase: the index keeps no positions (`detail=none`,
    // migration 0026), so a phrase of several tokens cannot be asked. A
    // token is split where the index's tokenizer would split it (the
    // application's tokens are letters and digits only already).
    let phrases: Vec<String> = tokens
        .iter()
        .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()))
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{t}\""))
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" "))
}

/// What a search asks of PostgreSQL's `tsvector` of search tokens.
#[derive(Debug, PartialEq)]
enum TsQuery {
    /// No token: no condition.
    All,
    /// A token longer than any stored one: no case can hold it.
    Nothing,
    /// Every token, each a quoted lexeme (`'` doubled, `\` escaped, so
    /// that no token is read as syntax), joined by `&`.
    Tokens(String),
}

fn ts_query(tokens: &[String]) -> TsQuery {
    let tokens: Vec<&str> = tokens
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() {
        return TsQuery::All;
    }
    if tokens
        .iter()
        .any(|t| t.len() > redress_domain::text::MAX_TOKEN_BYTES)
    {
        return TsQuery::Nothing;
    }
    let quoted: Vec<String> = tokens
        .iter()
        .map(|t| format!("'{}'", t.replace('\\', "\\\\").replace('\'', "''")))
        .collect();
    TsQuery::Tokens(quoted.join(" & "))
}

/// The rows a list may show, as disjoint branches (their union is the
/// list), and whether the list is "everything, maybe by status" (then the
/// counts table gives the total). `None` when the visibility admits no
/// case at all.
pub fn branches(
    dialect: Dialect,
    visibility: &Visibility,
    filter: &CaseFilter,
) -> Option<(Vec<Where>, bool)> {
    let sqlite = dialect == Dialect::Sqlite;
    let mut common = Where::default();
    let mut simple = true;
    if let Some(d) = &filter.department {
        simple = false;
        common.push("department = {}", [text(d)]);
    }
    if let Some(c) = &filter.category {
        simple = false;
        common.push("category = {}", [text(c)]);
    }
    if let Some(r) = &filter.respondent_key {
        simple = false;
        if r.contains(':') {
            common.push("respondent_key = {}", [text(r)]);
        } else {
            // A bare id: the respondent of any kind with that id.
            let keys: Vec<String> = redress_domain::RespondentKind::ALL
                .iter()
                .map(|k| format!("{k}:{r}"))
                .collect();
            if sqlite {
                let term = format!("respondent_key IN ({})", marks(keys.len()));
                common.push(term, keys.into_iter().map(Param::Text));
            } else {
                common.push("respondent_key = ANY({})", [Param::Texts(keys)]);
            }
        }
    }
    if let Some(n) = &filter.respondent_name {
        simple = false;
        // SQLite's `lower` folds ASCII letters (the contract); PostgreSQL's
        // folds others too.
        let term = if sqlite {
            "instr(lower(respondent_name), lower({})) > 0"
        } else {
            "strpos(lower(respondent_name), lower({})) > 0"
        };
        common.push(term, [text(n)]);
    }
    if let Some(a) = &filter.assignee {
        simple = false;
        common.push("assignee = {}", [text(a)]);
    }
    if let Some(c) = filter.channel {
        simple = false;
        common.push("channel = {}", [text(c.as_str())]);
    }
    if let Some(c) = filter.closure {
        simple = false;
        common.push("closure = {}", [text(c.as_str())]);
    }
    // The report facts are packed; their two list filters read columns of
    // their own (migration 0025, `ReportFacts::outcome_column` and
    // `missed_column`).
    if let Some(o) = filter.outcome {
        simple = false;
        common.push("outcome = {}", [text(o.as_str())]);
    }
    if let Some(stage) = filter.missed {
        simple = false;
        match stage {
            Some(s) => common.push(
                "missed LIKE {}",
                [Param::Text(format!("%,{},%", stage_name(s)))],
            ),
            None => common.push("missed IS NOT NULL", None),
        }
    }
    if let Some(t) = filter.filed_from {
        simple = false;
        common.push("created_at >= {}", [Param::Time(t)]);
    }
    if let Some(t) = filter.filed_before {
        simple = false;
        common.push("created_at < {}", [Param::Time(t)]);
    }
    // The literal `staff_due = 1`, as the partial indexes over it say.
    let staff_due = if sqlite { "staff_due = 1" } else { "staff_due" };
    if let Some(now) = filter.overdue_at {
        simple = false;
        common.push(
            format!("{staff_due} AND next_due_at <= {{}}"),
            [Param::Time(now)],
        );
    }
    if let Some((now, soon)) = filter.due_between {
        simple = false;
        common.push(
            format!("{staff_due} AND next_due_at > {{}} AND next_due_at <= {{}}"),
            [Param::Time(now), Param::Time(soon)],
        );
    }
    if sqlite {
        if let Some(q) = match_query(&filter.query) {
            simple = false;
            common.push(FTS_TERM, [Param::Text(q)]);
        }
    } else {
        match ts_query(&filter.query) {
            TsQuery::All => {}
            TsQuery::Nothing => {
                simple = false;
                common.push("FALSE", []);
            }
            TsQuery::Tokens(q) => {
                simple = false;
                // The `tsvector` column the GIN index `cases_search_tokens`
                // covers (migration 0028).
                common.push("search_tokens @@ {}::tsquery", [Param::Text(q)]);
            }
        }
    }
    let with_common = |mut w: Where| {
        if let Some(s) = filter.status {
            w.push("status = {}", [text(s.as_str())]);
        }
        w.extend(&common);
        w
    };
    let branches = match visibility {
        Visibility::All => vec![with_common(Where::default())],
        Visibility::Respondent { respondent_key } => {
            simple = false;
            let mut w = Where::default();
            w.push("respondent_key = {}", [text(respondent_key)]);
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
                    w.push("department = {}", [text(d)]);
                    with_common(w)
                })
                .collect();
            let reviewable = matches!(filter.status, None | Some(Status::UnderReview));
            if let Some(r) = reviewer.as_ref().filter(|_| reviewable) {
                let mut w = Where::default();
                // The literal `status = 'under_review'` selects the partial index.
                let not = if sqlite { "IS NOT" } else { "IS DISTINCT FROM" };
                w.push(
                    format!("status = 'under_review' AND decided_by {not} {{}}"),
                    [text(&r.username)],
                );
                if !r.independent {
                    w.push("decider_level < {}", [Param::Int(r.level)]);
                }
                if !departments.is_empty() {
                    // Disjoint from the department branches.
                    if sqlite {
                        w.push(
                            format!(
                                "(department IS NULL OR department NOT IN ({}))",
                                marks(departments.len())
                            ),
                            departments.iter().map(|d| text(d)),
                        );
                    } else {
                        w.push(
                            "(department IS NULL OR NOT department = ANY({}))",
                            [Param::Texts(
                                departments.iter().map(|d| d.to_string()).collect(),
                            )],
                        );
                    }
                }
                // `status = 'under_review'` already holds: no status filter.
                if common.terms.is_empty() {
                    w.count_index = Some("cases_review");
                }
                w.extend(&common);
                branches.push(w);
            }
            branches
        }
    };
    (!branches.is_empty()).then_some((branches, simple))
}

#[cfg(test)]
mod tests {
    use super::{TsQuery, match_query, ts_query};

    fn q(tokens: &[&str]) -> Option<String> {
        match_query(&tokens.iter().map(|t| t.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn every_phrase_is_one_token() {
        assert_eq!(
            q(&["退款", "refund"]).as_deref(),
            Some("\"退款\" \"refund\"")
        );
        // Split where the tokenizer would split: never a phrase of two.
        assert_eq!(q(&["order-4711"]).as_deref(), Some("\"order\" \"4711\""));
        // Query syntax is no syntax: quotes, stars and operators are
        // separators or plain words.
        assert_eq!(q(&["\"refund*"]).as_deref(), Some("\"refund\""));
        assert_eq!(q(&["NOT"]).as_deref(), Some("\"NOT\""));
        assert_eq!(q(&["", " - "]), None);
    }

    #[test]
    fn a_tsquery_quotes_every_token() {
        let t = |v: &[&str]| ts_query(&v.iter().map(|t| t.to_string()).collect::<Vec<_>>());
        assert_eq!(
            t(&["退款", " refund "]),
            TsQuery::Tokens("'退款' & 'refund'".into())
        );
        // Quotes and backslashes are letters of the lexeme, not syntax.
        assert_eq!(
            t(&["it's", "a\\b", "x:*", "!"]),
            TsQuery::Tokens("'it''s' & 'a\\\\b' & 'x:*' & '!'".into())
        );
        assert_eq!(t(&["", "  "]), TsQuery::All);
        let long = "x".repeat(redress_domain::text::MAX_TOKEN_BYTES + 1);
        assert_eq!(t(&["退款", &long]), TsQuery::Nothing);
    }
}
