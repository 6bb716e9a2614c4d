//! The case list: visibility and filters as disjoint branches, shared by
//! the page and its exact total (the same plan as the SQLite store's).

use postgres::Client;
use postgres::types::ToSql;
use redress_domain::Status;
use redress_store::{CaseFilter, CaseSummary, Page, StoreResult, Visibility};

use crate::codec::{SUMMARY_COLUMNS, db, summary, us};

type Param = Box<dyn ToSql + Sync + Send>;

/// A conjunction of SQL terms whose parameters are written `{}` and
/// numbered when the statement is put together.
#[derive(Default)]
struct Where {
    terms: Vec<String>,
    params: Vec<ParamSpec>,
}

/// A parameter value, kept cloneable so a term can serve several branches.
#[derive(Clone)]
enum ParamSpec {
    Text(String),
    Texts(Vec<String>),
    Int(i32),
    Time(chrono::DateTime<chrono::Utc>),
}

impl ParamSpec {
    fn boxed(&self) -> Param {
        match self {
            ParamSpec::Text(s) => Box::new(s.clone()),
            ParamSpec::Texts(v) => Box::new(v.clone()),
            ParamSpec::Int(i) => Box::new(*i),
            ParamSpec::Time(t) => Box::new(*t),
        }
    }
}

impl Where {
    fn push(&mut self, term: impl Into<String>, params: impl IntoIterator<Item = ParamSpec>) {
        self.terms.push(term.into());
        self.params.extend(params);
    }

    fn extend(&mut self, other: &Where) {
        self.terms.extend(other.terms.iter().cloned());
        self.params.extend(other.params.iter().cloned());
    }
}

/// Numbers `{}` placeholders from `params.len() + 1` on, moving the
/// values into `params`.
fn render(w: &Where, params: &mut Vec<Param>) -> String {
    if w.terms.is_empty() {
        return "TRUE".to_string();
    }
    let sql = w.terms.join(" AND ");
    let mut out = String::with_capacity(sql.len() + 8);
    let mut values = w.params.iter();
    let mut rest = sql.as_str();
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        let v = values.next().expect("a value for every placeholder");
        params.push(v.boxed());
        out.push_str(&format!("${}", params.len()));
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

fn text(s: &str) -> ParamSpec {
    ParamSpec::Text(s.to_string())
}

/// The disjoint branches whose union is the list, and whether the list is
/// "everything, maybe by status" (then the counts table gives the total).
fn build(visibility: &Visibility, filter: &CaseFilter) -> Option<(Vec<Where>, bool)> {
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
            let keys = redress_domain::RespondentKind::ALL
                .iter()
                .map(|k| format!("{k}:{r}"))
                .collect();
            common.push("respondent_key = ANY({})", [ParamSpec::Texts(keys)]);
        }
    }
    if let Some(n) = &filter.respondent_name {
        simple = false;
        common.push("strpos(lower(respondent_name), lower({})) > 0", [text(n)]);
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
    if let Some(t) = &filter.filed_from {
        simple = false;
        common.push("created_at >= {}", [ParamSpec::Time(us(t))]);
    }
    if let Some(t) = &filter.filed_before {
        simple = false;
        common.push("created_at < {}", [ParamSpec::Time(us(t))]);
    }
    if let Some(now) = &filter.overdue_at {
        simple = false;
        common.push(
            "staff_due AND next_due_at <= {}",
            [ParamSpec::Time(us(now))],
        );
    }
    if let Some((now, soon)) = &filter.due_between {
        simple = false;
        common.push(
            "staff_due AND next_due_at > {} AND next_due_at <= {}",
            [ParamSpec::Time(us(now)), ParamSpec::Time(us(soon))],
        );
    }
    let tokens: Vec<String> = filter
        .query
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if !tokens.is_empty() {
        simple = false;
        common.push("search_set @> {}::text[]", [ParamSpec::Texts(tokens)]);
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
                w.push(
                    "status = 'under_review' AND decided_by IS DISTINCT FROM {}",
                    [text(&r.username)],
                );
                if !r.independent {
                    w.push("decider_level < {}", [ParamSpec::Int(r.level)]);
                }
                if !departments.is_empty() {
                    // Disjoint from the department branches.
                    w.push(
                        "(department IS NULL OR NOT department = ANY({}))",
                        [ParamSpec::Texts(
                            departments.iter().map(|d| d.to_string()).collect(),
                        )],
                    );
                }
                w.extend(&common);
                branches.push(w);
            }
            branches
        }
    };
    (!branches.is_empty()).then_some((branches, simple))
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
    let Some((branches, counted)) = build(visibility, filter) else {
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
    let total: i64 = if counted {
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
                .map(|b| format!(
                    "(SELECT count(*) FROM cases WHERE {})",
                    render(b, &mut params)
                ))
                .collect::<Vec<_>>()
                .join(" + ")
        );
        tx.query_one(&sql, &refs(&params)).map_err(db)?.get(0)
    };

    let fetch = i64::try_from(limit)
        .unwrap_or(i64::MAX - 1)
        .saturating_add(1);
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
            "(SELECT {SUMMARY_COLUMNS} FROM cases WHERE {w} ORDER BY seq DESC LIMIT ${})",
            params.len()
        ));
    }
    let sql = if arms.len() == 1 {
        arms.remove(0)
    } else {
        params.push(Box::new(fetch));
        format!(
            "{} ORDER BY seq DESC LIMIT ${}",
            arms.join(" UNION ALL "),
            params.len()
        )
    };
    let rows = tx.query(&sql, &refs(&params)).map_err(db)?;
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
