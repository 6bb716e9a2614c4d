//! Departments and categories, the calendar and its feed, settings
//! (their statements, the bulk copy of these tables, and
//! [`crate::SettingsStore`] over them for every [`Backend`]).

use chrono::{DateTime, NaiveDate, Utc};
use redress_domain::calendar::{DayException, DayKind, DaySource};

use std::time::Duration;

use super::{Backend, Conn, Dialect, Journal, Param};
use crate::rows::Columns;
use crate::{CalendarFeed, Category, Department, NewEvent, StoreError, StoreResult, args};

pub fn day_kind_str(k: DayKind) -> &'static str {
    match k {
        DayKind::Holiday => "holiday",
        DayKind::Workday => "workday",
    }
}

pub fn parse_day_kind(s: &str) -> StoreResult<DayKind> {
    match s {
        "holiday" => Ok(DayKind::Holiday),
        "workday" => Ok(DayKind::Workday),
        other => Err(StoreError::other(format!("bad day kind {other:?}"))),
    }
}

/// A category's days as stored (`integer`).
fn days(d: Option<u32>) -> StoreResult<Param> {
    d.map(i32::try_from)
        .transpose()
        .map(Param::from)
        .map_err(|_| StoreError::other("category days out of range"))
}

/// A category's columns in table order, `?1` to `?8` of its insert and
/// its update.
fn category_params(k: &Category) -> StoreResult<[Param; 8]> {
    Ok([
        (&k.code).into(),
        (&k.name).into(),
        k.name_en.as_ref().into(),
        (&k.department).into(),
        days(k.handling_days)?,
        days(k.appeal_days)?,
        days(k.review_days)?,
        days(k.respondent_reply_days)?,
    ])
}

/// Inserts departments, then categories, as they are.
pub fn import_departments<D>(
    c: &mut impl Conn<D>,
    departments: &[Department],
    categories: &[Category],
) -> StoreResult<()> {
    for d in departments {
        c.execute_or(
            "INSERT INTO departments (code, name, review, head, name_en) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &args![
                &d.code,
                &d.name,
                d.review,
                d.head.as_ref(),
                d.name_en.as_ref()
            ],
            "code",
            "department",
        )?;
    }
    for k in categories {
        c.execute_or(
            "INSERT INTO categories (code, name, name_en, department, handling_days, \
             appeal_days, review_days, respondent_reply_days) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &category_params(k)?,
            "code",
            "department",
        )?;
    }
    Ok(())
}

pub fn categories<D>(c: &mut impl Conn<D>) -> StoreResult<Vec<Category>> {
    let days = |d: Option<i32>| -> StoreResult<Option<u32>> {
        d.map(|d| u32::try_from(d).map_err(|_| StoreError::other(format!("bad days {d}"))))
            .transpose()
    };
    c.query(
        "SELECT code, name, name_en, department, handling_days, appeal_days, review_days, \
         respondent_reply_days FROM categories ORDER BY code",
        &[],
        |r| {
            Ok(Category {
                code: r.text(0)?,
                name: r.text(1)?,
                name_en: r.text_opt(2)?,
                department: r.text(3)?,
                handling_days: days(r.small_opt(4)?)?,
                appeal_days: days(r.small_opt(5)?)?,
                review_days: days(r.small_opt(6)?)?,
                respondent_reply_days: days(r.small_opt(7)?)?,
            })
        },
    )
}

/// Updates a category ([`StoreError::Missing`] when there is none).
pub fn update_category<D>(c: &mut impl Conn<D>, k: &Category) -> StoreResult<()> {
    let n = c.execute_or(
        "UPDATE categories SET name = ?2, name_en = ?3, department = ?4, \
         handling_days = ?5, appeal_days = ?6, review_days = ?7, \
         respondent_reply_days = ?8 WHERE code = ?1",
        &category_params(k)?,
        "code",
        "department",
    )?;
    if n == 0 {
        return Err(StoreError::Missing("category"));
    }
    Ok(())
}

pub fn calendar<D>(c: &mut impl Conn<D>) -> StoreResult<Vec<DayException>> {
    c.query(
        "SELECT date, kind, name FROM calendar_days ORDER BY date",
        &[],
        |r| {
            Ok(DayException {
                date: r.date(0)?,
                kind: parse_day_kind(&r.text(1)?)?,
                name: r.text(2)?,
            })
        },
    )
}

pub fn delete_calendar_day<D>(c: &mut impl Conn<D>, date: NaiveDate) -> StoreResult<()> {
    c.execute("DELETE FROM calendar_days WHERE date = ?1", &args![date])?;
    Ok(())
}

pub fn calendar_sources<D>(c: &mut impl Conn<D>) -> StoreResult<Vec<(NaiveDate, DaySource)>> {
    c.query(
        "SELECT date, source FROM calendar_days ORDER BY date",
        &[],
        |r| Ok((r.date(0)?, r.parsed("source", 1)?)),
    )
}

/// The columns [`feed`] reads, in order.
pub const FEED_COLUMNS: &str =
    "url, etag, last_modified, fetched_at, outcome, next_fetch_at, set_by, set_at";

pub fn feed<D>(r: &impl Columns<D>) -> StoreResult<CalendarFeed> {
    Ok(CalendarFeed {
        url: r.text(0)?,
        etag: r.text_opt(1)?,
        last_modified: r.text_opt(2)?,
        fetched_at: r.time_opt(3)?,
        outcome: r.text_opt(4)?,
        next_fetch_at: r.time(5)?,
        set_by: r.text(6)?,
        set_at: r.time(7)?,
    })
}

pub fn calendar_feed<D>(c: &mut impl Conn<D>) -> StoreResult<Option<CalendarFeed>> {
    c.query_opt(
        &format!("SELECT {FEED_COLUMNS} FROM calendar_feed WHERE id = 1"),
        &[],
        |r| feed(r),
    )
}

/// Replaces the feed (none: unsubscribes).
pub fn set_calendar_feed<D>(c: &mut impl Conn<D>, feed: Option<&CalendarFeed>) -> StoreResult<()> {
    c.execute("DELETE FROM calendar_feed", &[])?;
    if let Some(f) = feed {
        c.execute(
            "INSERT INTO calendar_feed (id, url, etag, last_modified, fetched_at, \
             outcome, next_fetch_at, set_by, set_at) \
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &args![
                &f.url,
                f.etag.as_ref(),
                f.last_modified.as_ref(),
                f.fetched_at,
                f.outcome.as_ref(),
                f.next_fetch_at,
                &f.set_by,
                f.set_at
            ],
        )?;
    }
    Ok(())
}

/// Writes calendar days from `source`, replacing those of their dates;
/// from a feed, days set by hand are left alone.
pub(crate) fn put_days<D>(
    c: &mut impl Conn<D>,
    days: &[DayException],
    source: DaySource,
) -> StoreResult<()> {
    let keep_manual = if matches!(source, DaySource::Feed) {
        " WHERE calendar_days.source <> 'manual'"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO calendar_days (date, kind, name, source) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
         source = excluded.source{keep_manual}"
    );
    for d in days {
        let args = args![d.date, day_kind_str(d.kind), &d.name, source.as_str()];
        c.execute(&sql, &args)?;
    }
    Ok(())
}

/// Claims the feed for a fetch when it is due (or `force`) and nobody
/// holds it ([`super::lease`]).
fn claim_calendar_feed<D, C: Conn<D>>(
    c: &mut C,
    now: DateTime<Utc>,
    lease: Duration,
    force: bool,
) -> StoreResult<Option<CalendarFeed>> {
    let (until, expired, mut args) = super::lease::<D, C>(lease, 3);
    let skip_locked = match C::DIALECT {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE calendar_feed SET claimed_until = {until} \
         WHERE id IN (SELECT id FROM calendar_feed WHERE id = 1 \
           AND (claimed_until IS NULL OR claimed_until < {expired}) \
           AND (?2 OR next_fetch_at <= ?1){skip_locked}) \
         RETURNING {FEED_COLUMNS}"
    );
    args.splice(0..0, args![now, force]);
    c.query_opt(&sql, &args, |r| feed(r))
}

/// Records a fetch's outcome and releases the claim.
pub fn finish_calendar_feed<D>(c: &mut impl Conn<D>, f: &CalendarFeed) -> StoreResult<()> {
    c.execute(
        "UPDATE calendar_feed SET etag = ?2, last_modified = ?3, fetched_at = ?4, \
         outcome = ?5, next_fetch_at = ?6, claimed_until = NULL \
         WHERE id = 1 AND url = ?1",
        &args![
            &f.url,
            f.etag.as_ref(),
            f.last_modified.as_ref(),
            f.fetched_at,
            f.outcome.as_ref(),
            f.next_fetch_at
        ],
    )?;
    Ok(())
}

pub fn setting<D>(c: &mut impl Conn<D>, key: &str) -> StoreResult<Option<String>> {
    c.query_opt(
        "SELECT value FROM settings WHERE key = ?1",
        &args![key],
        |r| r.text(0),
    )
}

pub fn put_setting<D, C: Conn<D>>(
    c: &mut C,
    key: &str,
    value: &str,
    set_by: &str,
    set_at: DateTime<Utc>,
) -> StoreResult<()> {
    // `set_at` is text on both: SQLite's fixed-width form, RFC 3339 on
    // PostgreSQL.
    let at = match C::DIALECT {
        Dialect::Sqlite => Param::Time(set_at),
        Dialect::Postgres => Param::Text(set_at.to_rfc3339()),
    };
    c.execute(
        "INSERT INTO settings (key, value, set_by, set_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
         set_by = excluded.set_by, set_at = excluded.set_at",
        &[key.into(), value.into(), set_by.into(), at],
    )?;
    Ok(())
}

#[async_trait::async_trait]
impl<B: Backend> crate::SettingsStore for B {
    async fn insert_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| {
            import_departments(ctx, &[], std::slice::from_ref(&c))
        })
        .await
    }

    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        self.read(categories).await
    }

    async fn update_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| update_category(ctx, &c))
            .await
    }

    async fn list_calendar(&self) -> StoreResult<Vec<DayException>> {
        self.read(calendar).await
    }

    async fn upsert_calendar(
        &self,
        days: Vec<DayException>,
        event: Option<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let source = match event {
                Some(_) => DaySource::Manual,
                None => DaySource::Builtin,
            };
            put_days(ctx, &days, source)?;
            match &event {
                Some(e) => ctx.append(std::slice::from_ref(e)),
                None => Ok(()),
            }
        })
        .await
    }

    async fn delete_calendar_day(&self, date: NaiveDate) -> StoreResult<()> {
        self.write(move |ctx| delete_calendar_day(ctx, date)).await
    }

    async fn calendar_sources(&self) -> StoreResult<Vec<(NaiveDate, DaySource)>> {
        self.read(calendar_sources).await
    }

    async fn apply_calendar_feed(
        &self,
        days: Vec<DayException>,
        remove: Vec<NaiveDate>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write_event(event, move |ctx| {
            put_days(ctx, &days, DaySource::Feed)?;
            for d in &remove {
                ctx.execute(
                    "DELETE FROM calendar_days WHERE date = ?1 AND source = 'feed'",
                    &args![*d],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_string();
        self.read_point(move |c| setting(c, &key)).await
    }

    async fn put_setting(
        &self,
        key: &str,
        value: String,
        set_by: String,
        set_at: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let key = key.to_string();
        self.write_event(event, move |ctx| {
            put_setting(ctx, &key, &value, &set_by, set_at)
        })
        .await
    }

    async fn get_calendar_feed(&self) -> StoreResult<Option<CalendarFeed>> {
        self.read(calendar_feed).await
    }

    async fn set_calendar_feed(
        &self,
        feed: Option<CalendarFeed>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write_event(event, move |ctx| set_calendar_feed(ctx, feed.as_ref()))
            .await
    }

    async fn claim_calendar_feed(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        force: bool,
    ) -> StoreResult<Option<CalendarFeed>> {
        self.write_plain(move |c| claim_calendar_feed(c, now, lease, force))
            .await
    }

    async fn finish_calendar_feed(&self, f: CalendarFeed) -> StoreResult<()> {
        self.write_plain(move |c| finish_calendar_feed(c, &f)).await
    }
}
