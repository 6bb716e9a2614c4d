//! Reads of cases, the journal and idempotency records
//! ([`crate::CaseStore`]) that are the same on both backends (saving a
//! case, the case list, claims and the deadline queues are each
//! backend's own), and [`crate::CaseReadStore`], [`crate::JournalStore`]
//! and [`crate::DeadlineStore`] for every [`Backend`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use redress_domain::Status;
use redress_domain::suggest::{CategoryStats, ModelView};
use uuid::Uuid;

use super::{Backend, Conn, Dialect, Journal, Param};
use crate::journal::JournalSplice;
use crate::rows::{Columns, case_columns, case_row, search_tokens_text};
use crate::{
    CaseFilter, CaseRow, CaseText, IdempotencyRecord, JournalEntry, LearntToken, NewEvent,
    QueueCount, ReportFacts, ReportRow, StoreError, StoreResult, TABLE_COUNTS_SQL, TableCounts,
    Visibility, args,
};

use super::limit;

/// The case whose `column` (`id`, `tracking_no`) is `value`.
pub fn case_where<D, C: Conn<D>>(
    c: &mut C,
    column: &str,
    value: Param,
) -> StoreResult<Option<CaseRow>> {
    c.query_opt(
        &format!(
            "SELECT {} FROM cases WHERE {column} = ?1",
            case_columns(C::DIALECT)
        ),
        &[value],
        |r| case_row(r),
    )
}

/// A complainant's cases against a respondent: the open ones, oldest
/// first, and whether there is any (`cases_pair` answers both in one
/// scan; one complainant's cases against one respondent are few).
pub fn between<D>(
    c: &mut impl Conn<D>,
    complainant_key: String,
    respondent_key: String,
) -> StoreResult<crate::Between> {
    let rows = c.query(
        "SELECT id, status <> 'closed' FROM cases \
         WHERE complainant_key = ?1 AND respondent_key = ?2 ORDER BY seq",
        &args![complainant_key, respondent_key],
        |r| Ok((r.uuid(0)?, r.flag(1)?)),
    )?;
    Ok(crate::Between {
        any: !rows.is_empty(),
        open: rows
            .into_iter()
            .filter_map(|(id, open)| open.then_some(id))
            .collect(),
    })
}

/// Staff deadlines passed at `now` and due by `soon`, per (department,
/// assignee).
fn queues<D, C: Conn<D>>(
    c: &mut C,
    now: DateTime<Utc>,
    soon: DateTime<Utc>,
) -> StoreResult<Vec<QueueCount>> {
    // The literal `staff_due = 1`, as the partial indexes over it say.
    let staff_due = match C::DIALECT {
        Dialect::Sqlite => "staff_due = 1",
        Dialect::Postgres => "staff_due",
    };
    c.query(
        &format!(
            "SELECT department, assignee, count(CASE WHEN next_due_at <= ?1 THEN 1 END), \
             count(CASE WHEN next_due_at > ?1 THEN 1 END) \
             FROM cases WHERE {staff_due} AND next_due_at <= ?2 \
             GROUP BY department, assignee ORDER BY department, assignee"
        ),
        &args![now, soon],
        |r| {
            Ok(QueueCount {
                department: r.text_opt(0)?,
                assignee: r.text_opt(1)?,
                overdue: r.int(2)?,
                due_soon: r.int(3)?,
            })
        },
    )
}

/// Claims up to `n` cases due for the sweep that no live lease holds
/// ([`super::lease`]), oldest first.
fn claim_due<D, C: Conn<D>>(
    c: &mut C,
    now: DateTime<Utc>,
    lease: Duration,
    n: usize,
) -> StoreResult<Vec<Uuid>> {
    let (until, expired, mut args) = super::lease::<D, C>(lease, 3);
    let skip_locked = match C::DIALECT {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    args.splice(0..0, args![now, limit(n)]);
    let mut claimed = c.query(
        &format!(
            "UPDATE cases SET claimed_until = {until} WHERE seq IN (SELECT seq FROM cases \
             WHERE sweep_at <= ?1 AND (claimed_until IS NULL OR claimed_until < {expired}) \
             ORDER BY sweep_at, seq LIMIT ?2{skip_locked}) RETURNING id, sweep_at, seq"
        ),
        &args,
        |r| Ok((r.time(1)?, r.int(2)?, r.uuid(0)?)),
    )?;
    claimed.sort();
    Ok(claimed.into_iter().map(|(_, _, id)| id).collect())
}

pub fn due_from<D>(
    c: &mut impl Conn<D>,
    from: DateTime<Utc>,
    after_seq: i64,
    n: usize,
) -> StoreResult<Vec<(i64, Uuid)>> {
    c.query(
        "SELECT seq, id FROM cases WHERE seq > ?1 AND next_due_at >= ?2 \
         AND status <> 'closed' ORDER BY seq LIMIT ?3",
        &args![after_seq, from, limit(n)],
        |r| Ok((r.int(0)?, r.uuid(1)?)),
    )
}

pub fn due_for_sweep<D>(
    c: &mut impl Conn<D>,
    now: DateTime<Utc>,
    n: usize,
) -> StoreResult<Vec<Uuid>> {
    c.query(
        "SELECT id FROM cases WHERE sweep_at <= ?1 ORDER BY sweep_at, seq LIMIT ?2",
        &args![now, limit(n)],
        |r| r.uuid(0),
    )
}

/// Cases per status (those with any), in the order of [`Status::ALL`].
pub fn count_by_status<D>(c: &mut impl Conn<D>) -> StoreResult<Vec<(Status, i64)>> {
    let mut out = c.query(
        "SELECT status, CAST(sum(n) AS BIGINT) AS n FROM case_counts GROUP BY status \
         HAVING sum(n) > 0",
        &[],
        |r| Ok((r.parsed::<Status>("status", 0)?, r.int(1)?)),
    )?;
    out.sort_by_key(|(s, _)| Status::ALL.iter().position(|x| x == s));
    Ok(out)
}

pub fn report_rows<D>(
    c: &mut impl Conn<D>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<ReportRow>> {
    c.query(
        "SELECT channel, category, status, closure, respondent_key, report FROM cases \
         WHERE created_at >= ?1 AND created_at < ?2 ORDER BY created_at, seq",
        &args![from, to],
        |r| {
            Ok((
                r.parsed("channel", 0)?,
                r.text_opt(1)?,
                r.parsed("status", 2)?,
                r.parsed_opt("closure", 3)?,
                r.text_opt(4)?,
                ReportFacts::unpacked(&r.bytes(5)?)?,
            ))
        },
    )
}

/// Erases what is kept in the clear of a case outside its sealed
/// document: its webhook payloads, its held mail and its corrective
/// actions; how many rows changed.
pub fn forget<D>(c: &mut impl Conn<D>, case_id: Uuid) -> StoreResult<u64> {
    let calls = c.execute(
        "UPDATE webhook_calls SET payload = '{\"erased\":true}' \
         WHERE case_id = ?1 AND payload <> '{\"erased\":true}'",
        &args![case_id],
    )?;
    let mail = c.execute(
        "DELETE FROM held_mail WHERE case_id = ?1 OR attached_to = ?1",
        &args![case_id],
    )?;
    // The list of corrective actions holds their texts in the clear.
    let actions = c.execute(
        "DELETE FROM corrective_actions WHERE case_id = ?1",
        &args![case_id],
    )?;
    Ok(calls + mail + actions)
}

/// Near-duplicate candidates: for each filter, the newest `limit` cases it
/// and `visibility` admit, branch by branch; each case once.
fn case_texts<D, C: Conn<D>>(
    c: &mut C,
    visibility: &Visibility,
    filters: &[CaseFilter],
    limit: usize,
) -> StoreResult<Vec<CaseText>> {
    let mut out: Vec<CaseText> = Vec::new();
    for filter in filters {
        let Some((branches, _)) = crate::filter::branches(C::DIALECT, visibility, filter) else {
            continue;
        };
        let mut found = Vec::new();
        for b in &branches {
            let mut params = b.params.clone();
            params.push(self::limit(limit).into());
            let sql = format!(
                "SELECT id, tracking_no, subject, created_at, respondent_key, respondent_name, \
                 {} FROM cases WHERE {} ORDER BY created_at DESC LIMIT ?{}",
                search_tokens_text(C::DIALECT),
                b.sql(C::DIALECT, 0),
                params.len()
            );
            found.extend(c.query(&sql, &params, |r| {
                Ok(CaseText {
                    id: r.uuid(0)?,
                    tracking_no: r.text(1)?,
                    subject: r.text(2)?,
                    created_at: r.time(3)?,
                    respondent_key: r.text_opt(4)?,
                    respondent_name: r.text_opt(5)?,
                    search_tokens: r.text(6)?,
                })
            })?);
        }
        // Branches are disjoint; together, the newest `limit`.
        found.sort_by_key(|t| std::cmp::Reverse(t.created_at));
        found.truncate(limit);
        for t in found {
            if !out.iter().any(|o| o.id == t.id) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

/// The category model's counts for `tokens` (read in one snapshot: the
/// caller's transaction).
pub fn category_model<D, C: Conn<D>>(c: &mut C, tokens: &[String]) -> StoreResult<ModelView> {
    let categories = c.query(
        "SELECT category, cases, tokens FROM category_model ORDER BY category",
        &[],
        |r| {
            Ok(CategoryStats {
                category: r.text(0)?,
                cases: r.int(1)?,
                tokens: r.int(2)?,
            })
        },
    )?;
    let vocabulary = c.query_one(
        "SELECT tokens FROM category_model_vocabulary WHERE id = 1",
        &[],
        |r| r.int(0),
    )?;
    let mut counts = Vec::new();
    // Well under SQLite's limit of bound parameters per statement; one
    // array on PostgreSQL.
    let size = match C::DIALECT {
        Dialect::Sqlite => 500,
        Dialect::Postgres => tokens.len().max(1),
    };
    for chunk in tokens.chunks(size) {
        let mut params = Vec::new();
        let term = super::one_of::<D, C, _>("token", chunk, &mut params);
        counts.extend(c.query(
            &format!("SELECT category, token, n FROM category_model_counts WHERE {term}"),
            &params,
            |r| Ok((r.text(0)?, r.text(1)?, r.int(2)?)),
        )?);
    }
    Ok(ModelView {
        categories,
        vocabulary,
        counts,
    })
}

/// The columns [`event`] reads, in order.
pub const EVENT_COLUMNS: &str = "seq, case_id, kind, actor, at, data, prev_hash, hash";

pub fn event<D>(r: &impl Columns<D>) -> StoreResult<JournalEntry> {
    Ok(JournalEntry {
        seq: r.int(0)?,
        case_id: r.uuid_opt(1)?,
        kind: r.text(2)?,
        actor: r.text(3)?,
        at: r.time(4)?,
        data: r.text(5)?,
        prev_hash: r.text(6)?,
        hash: r.text(7)?,
    })
}

pub fn events_of_case<D>(c: &mut impl Conn<D>, case_id: Uuid) -> StoreResult<Vec<JournalEntry>> {
    c.query(
        &format!("SELECT {EVENT_COLUMNS} FROM events WHERE case_id = ?1 ORDER BY seq"),
        &args![case_id],
        |r| event(r),
    )
}

pub fn events_after<D>(
    c: &mut impl Conn<D>,
    after: i64,
    n: usize,
) -> StoreResult<Vec<JournalEntry>> {
    c.query(
        &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
        &args![after, limit(n)],
        |r| event(r),
    )
}

/// The newest events without a case of the given kinds.
pub fn global_events<D, C: Conn<D>>(
    c: &mut C,
    kinds: Vec<String>,
    n: usize,
) -> StoreResult<Vec<JournalEntry>> {
    // `events_global` indexes the events without a case.
    let (kind, kinds) = match C::DIALECT {
        Dialect::Sqlite => (
            "kind IN (SELECT value FROM json_each(?1))",
            Param::json(&kinds)?,
        ),
        Dialect::Postgres => ("kind = ANY(?1)", kinds.into()),
    };
    c.query(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE case_id IS NULL AND {kind} \
             ORDER BY seq DESC LIMIT ?2"
        ),
        &[kinds, limit(n).into()],
        |r| event(r),
    )
}

/// The journal rewrite under way, if any.
pub fn splice<D>(c: &mut impl Conn<D>) -> StoreResult<Option<JournalSplice>> {
    c.query_opt(
        "SELECT seq, old_hash, new_hash, rewritten, started_seq, started_hash \
         FROM journal_splice WHERE id = 1",
        &[],
        |r| {
            Ok(JournalSplice {
                seq: r.int(0)?,
                old_hash: r.text(1)?,
                new_hash: r.text(2)?,
                rewritten: r.int(3)?,
                started_seq: r.int(4)?,
                started_hash: r.text(5)?,
            })
        },
    )
}

/// The columns [`idempotency`] reads, in order.
pub const IDEMPOTENCY_COLUMNS: &str = "key, request_hash, status, body, created_at";

pub fn idempotency<D>(r: &impl Columns<D>) -> StoreResult<IdempotencyRecord> {
    let status = r.small(2)?;
    Ok(IdempotencyRecord {
        key: r.text(0)?,
        request_hash: r.text(1)?,
        status: u16::try_from(status)
            .map_err(|_| StoreError::other(format!("bad http status {status}")))?,
        body: r.text(3)?,
        created_at: r.time(4)?,
    })
}

pub fn idempotency_record<D>(
    c: &mut impl Conn<D>,
    key: String,
) -> StoreResult<Option<IdempotencyRecord>> {
    c.query_opt(
        &format!("SELECT {IDEMPOTENCY_COLUMNS} FROM idempotency_keys WHERE key = ?1"),
        &args![key],
        |r| idempotency(r),
    )
}

/// Bulk copy: idempotency records with a key after `after`, by key.
pub fn export_idempotency<D>(
    c: &mut impl Conn<D>,
    after: Option<String>,
    n: usize,
) -> StoreResult<Vec<IdempotencyRecord>> {
    // From "" on the first page: a key range, where `?1 IS NULL OR …`
    // would scan from the start for every page.
    c.query(
        &format!(
            "SELECT {IDEMPOTENCY_COLUMNS} FROM idempotency_keys WHERE key > ?1 \
             ORDER BY key LIMIT ?2"
        ),
        &args![after.unwrap_or_default(), limit(n)],
        |r| idempotency(r),
    )
}

/// The number of rows of each table the bulk copy carries.
pub fn table_counts<D>(c: &mut impl Conn<D>) -> StoreResult<TableCounts> {
    c.query_one(TABLE_COUNTS_SQL, &[], |r| {
        Ok(TableCounts {
            cases: r.int(0)?,
            events: r.int(1)?,
            idempotency_keys: r.int(2)?,
            departments: r.int(3)?,
            categories: r.int(4)?,
            users: r.int(5)?,
            respondents: r.int(6)?,
            api_keys: r.int(7)?,
            calendar_days: r.int(8)?,
            canned_replies: r.int(9)?,
            held_mail: r.int(10)?,
            notice_templates: r.int(11)?,
            webhook_subscriptions: r.int(12)?,
            webhook_calls: r.int(13)?,
            webhook_attempts: r.int(14)?,
        })
    })
}

#[async_trait::async_trait]
impl<B: Backend> crate::JournalStore for B {
    async fn events_for_case(&self, case_id: Uuid) -> StoreResult<Vec<JournalEntry>> {
        self.read(move |c| events_of_case(c, case_id)).await
    }

    async fn journal_after(&self, after: i64, limit: usize) -> StoreResult<Vec<JournalEntry>> {
        self.read(move |c| events_after(c, after, limit)).await
    }

    async fn journal_head(&self) -> StoreResult<Option<(i64, String)>> {
        self.read(|c| {
            c.query_opt(
                "SELECT seq, hash FROM journal_head WHERE id = 1 AND seq > 0",
                &[],
                |r| Ok((r.int(0)?, r.text(1)?)),
            )
        })
        .await
    }

    async fn list_global_events(
        &self,
        kinds: Vec<String>,
        limit: usize,
    ) -> StoreResult<Vec<JournalEntry>> {
        self.read(move |c| global_events(c, kinds, limit)).await
    }

    async fn append_events(&self, events: Vec<NewEvent>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.write(move |ctx| ctx.append(&events)).await
    }
}

#[async_trait::async_trait]
impl<B: Backend> crate::DeadlineStore for B {
    async fn cases_due_from(
        &self,
        from: DateTime<Utc>,
        after_seq: i64,
        n: usize,
    ) -> StoreResult<Vec<(i64, Uuid)>> {
        self.read(move |c| due_from(c, from, after_seq, n)).await
    }

    async fn deadline_queues(
        &self,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> StoreResult<Vec<QueueCount>> {
        self.read(move |c| queues(c, now, soon)).await
    }

    async fn due_for_sweep(&self, now: DateTime<Utc>, n: usize) -> StoreResult<Vec<Uuid>> {
        self.read(move |c| due_for_sweep(c, now, n)).await
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        n: usize,
    ) -> StoreResult<Vec<Uuid>> {
        self.write_plain(move |c| claim_due(c, now, lease, n)).await
    }
}

#[async_trait::async_trait]
impl<B: Backend> crate::SuggestStore for B {
    async fn case_texts(
        &self,
        visibility: &Visibility,
        filters: Vec<CaseFilter>,
        limit: usize,
    ) -> StoreResult<Vec<CaseText>> {
        let visibility = visibility.clone();
        self.read_snapshot(move |c| case_texts(c, &visibility, &filters, limit))
            .await
    }

    async fn learn_category(
        &self,
        category: String,
        tokens: Vec<LearntToken>,
        min_cases: i64,
    ) -> StoreResult<()> {
        self.write(move |ctx| B::learn_category(ctx, &category, &tokens, min_cases))
            .await
    }

    async fn category_model(&self, tokens: Vec<String>) -> StoreResult<ModelView> {
        self.read_snapshot(move |c| category_model(c, &tokens))
            .await
    }
}

#[async_trait::async_trait]
impl<B: Backend> crate::CaseReadStore for B {
    async fn get_case(&self, id: Uuid) -> StoreResult<Option<CaseRow>> {
        self.read_point(move |c| case_where(c, "id", id.into()))
            .await
    }

    async fn get_case_by_tracking_no(&self, tracking_no: &str) -> StoreResult<Option<CaseRow>> {
        let t = tracking_no.to_string();
        self.read_point(move |c| case_where(c, "tracking_no", t.into()))
            .await
    }

    async fn list_cases(
        &self,
        visibility: &Visibility,
        filter: &CaseFilter,
        limit: usize,
        after: Option<i64>,
    ) -> StoreResult<crate::Page<crate::CaseSummary>> {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        self.read_snapshot(move |c| super::list::list_cases(c, &visibility, &filter, limit, after))
            .await
    }

    async fn filed_case_rows(
        &self,
        from: Option<DateTime<Utc>>,
        before: Option<DateTime<Utc>>,
        limit: usize,
        after: Option<(DateTime<Utc>, i64)>,
    ) -> StoreResult<Vec<CaseRow>> {
        self.read(move |c| super::list::filed_case_rows(c, from, before, limit, after))
            .await
    }

    async fn ranked_cases(
        &self,
        visibility: &Visibility,
        filter: &CaseFilter,
        relevance: &redress_domain::text::Relevance,
        cap: usize,
        limit: usize,
        after: Option<(i64, i64)>,
    ) -> StoreResult<crate::Ranked> {
        let (visibility, filter, relevance) =
            (visibility.clone(), filter.clone(), relevance.clone());
        self.read_snapshot(move |c| {
            super::list::ranked_cases(c, &visibility, &filter, &relevance, cap, limit, after)
        })
        .await
    }

    async fn cases_between(
        &self,
        complainant_key: &str,
        respondent_key: &str,
    ) -> StoreResult<crate::Between> {
        let (ck, rk) = (complainant_key.to_string(), respondent_key.to_string());
        self.read_point(move |c| between(c, ck, rk)).await
    }

    async fn list_actions(
        &self,
        visibility: &Visibility,
        filter: &crate::ActionFilter,
    ) -> StoreResult<Vec<crate::ActionRow>> {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        self.read(move |c| super::actions::list(c, &visibility, &filter))
            .await
    }

    async fn get_idempotency(&self, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        let key = key.to_string();
        self.read_point(move |c| idempotency_record(c, key)).await
    }
}
