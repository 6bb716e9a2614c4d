//! Categories, the calendar and its feed, settings ([`SettingsStore`]).

use super::*;

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn insert_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_departments(ctx.conn, &[], std::slice::from_ref(&c))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        self.read(|c| {
            let raw = c
                .prepare_cached(
                    "SELECT code, name, name_en, department, handling_days, appeal_days, \
                     review_days, respondent_reply_days FROM categories ORDER BY code",
                )
                .map_err(db)?
                .query_map([], |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, String>(3)?,
                        ),
                        [
                            r.get::<_, Option<i64>>(4)?,
                            r.get::<_, Option<i64>>(5)?,
                            r.get::<_, Option<i64>>(6)?,
                            r.get::<_, Option<i64>>(7)?,
                        ],
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            let days = |d: Option<i64>| -> StoreResult<Option<u32>> {
                d.map(|d| u32::try_from(d).map_err(|_| StoreError::other(format!("bad days {d}"))))
                    .transpose()
            };
            raw.into_iter()
                .map(|((code, name, name_en, department), [h, a, r, rr])| {
                    Ok(Category {
                        code,
                        name,
                        name_en,
                        department,
                        handling_days: days(h)?,
                        appeal_days: days(a)?,
                        review_days: days(r)?,
                        respondent_reply_days: days(rr)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn update_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .prepare_cached(
                    "UPDATE categories SET name = ?2, name_en = ?3, department = ?4, \
                     handling_days = ?5, appeal_days = ?6, review_days = ?7, \
                     respondent_reply_days = ?8 WHERE code = ?1",
                )
                .map_err(db)?
                .execute(params![
                    c.code,
                    c.name,
                    c.name_en,
                    c.department,
                    c.handling_days.map(i64::from),
                    c.appeal_days.map(i64::from),
                    c.review_days.map(i64::from),
                    c.respondent_reply_days.map(i64::from),
                ])
                .map_err(|e| codec::constraint(e, "code", "department"))?;
            if n == 0 {
                return Err(StoreError::Missing("category"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_calendar(&self) -> StoreResult<Vec<DayException>> {
        self.read(|c| {
            let raw = c
                .prepare_cached("SELECT date, kind, name FROM calendar_days ORDER BY date")
                .map_err(db)?
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            raw.into_iter()
                .map(|(date, kind, name)| {
                    Ok(DayException {
                        date: parse_date(&date)?,
                        kind: parse_day_kind(&kind)?,
                        name,
                    })
                })
                .collect()
        })
        .await
    }

    async fn upsert_calendar(
        &self,
        days: Vec<DayException>,
        event: Option<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let mut stmt = ctx
                .conn
                .prepare_cached(
                    "INSERT INTO calendar_days (date, kind, name, source) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                     source = excluded.source",
                )
                .map_err(db)?;
            let source = if event.is_some() {
                DaySource::Manual
            } else {
                DaySource::Builtin
            };
            for d in &days {
                stmt.execute(params![
                    d.date.format("%Y-%m-%d").to_string(),
                    day_kind_str(d.kind),
                    d.name,
                    source.as_str()
                ])
                .map_err(db)?;
            }
            drop(stmt);
            if let Some(e) = &event {
                ctx.append(std::slice::from_ref(e))?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_calendar_day(&self, date: NaiveDate) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.conn
                .execute(
                    "DELETE FROM calendar_days WHERE date = ?1",
                    [date.format("%Y-%m-%d").to_string()],
                )
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn calendar_sources(&self) -> StoreResult<Vec<(NaiveDate, DaySource)>> {
        self.read(|c| {
            let raw = c
                .prepare_cached("SELECT date, source FROM calendar_days ORDER BY date")
                .map_err(db)?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            raw.into_iter()
                .map(|(date, source)| Ok((parse_date(&date)?, parse_enum("source", &source)?)))
                .collect()
        })
        .await
    }

    async fn apply_calendar_feed(
        &self,
        days: Vec<DayException>,
        remove: Vec<NaiveDate>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let mut set = ctx
                .conn
                .prepare_cached(
                    "INSERT INTO calendar_days (date, kind, name, source) \
                     VALUES (?1, ?2, ?3, 'feed') \
                     ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                     source = 'feed' WHERE calendar_days.source <> 'manual'",
                )
                .map_err(db)?;
            for d in &days {
                set.execute(params![
                    d.date.format("%Y-%m-%d").to_string(),
                    day_kind_str(d.kind),
                    d.name
                ])
                .map_err(db)?;
            }
            drop(set);
            let mut del = ctx
                .conn
                .prepare_cached("DELETE FROM calendar_days WHERE date = ?1 AND source = 'feed'")
                .map_err(db)?;
            for d in &remove {
                del.execute([d.format("%Y-%m-%d").to_string()])
                    .map_err(db)?;
            }
            drop(del);
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_string();
        self.read_point(move |c| {
            c.prepare_cached("SELECT value FROM settings WHERE key = ?1")
                .map_err(db)?
                .query_map(params![key], |r| r.get::<_, String>(0))
                .map_err(db)?
                .next()
                .transpose()
                .map_err(db)
        })
        .await
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
        self.write(move |ctx| {
            ctx.conn
                .execute(
                    "INSERT INTO settings (key, value, set_by, set_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                     set_by = excluded.set_by, set_at = excluded.set_at",
                    params![key, value, set_by, ts(&set_at)],
                )
                .map_err(db)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn get_calendar_feed(&self) -> StoreResult<Option<CalendarFeed>> {
        self.read(|c| {
            let raw = c
                .prepare_cached(&format!(
                    "SELECT {FEED_COLUMNS} FROM calendar_feed WHERE id = 1"
                ))
                .map_err(db)?
                .query_map([], read_feed)
                .map_err(db)?
                .next()
                .transpose()
                .map_err(db)?;
            raw.map(feed_row).transpose()
        })
        .await
    }

    async fn set_calendar_feed(
        &self,
        feed: Option<CalendarFeed>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.conn
                .execute("DELETE FROM calendar_feed", [])
                .map_err(db)?;
            if let Some(f) = &feed {
                ctx.conn
                    .execute(
                        "INSERT INTO calendar_feed (id, url, etag, last_modified, fetched_at, \
                         outcome, next_fetch_at, set_by, set_at) \
                         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            f.url,
                            f.etag,
                            f.last_modified,
                            ts_opt(&f.fetched_at),
                            f.outcome,
                            ts(&f.next_fetch_at),
                            f.set_by,
                            ts(&f.set_at)
                        ],
                    )
                    .map_err(db)?;
            }
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn claim_calendar_feed(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        force: bool,
    ) -> StoreResult<Option<CalendarFeed>> {
        let wall = Utc::now();
        let until = wall + chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::MAX);
        self.write(move |ctx| {
            let raw = ctx
                .conn
                .prepare_cached(&format!(
                    "UPDATE calendar_feed SET claimed_until = ?3 WHERE id = 1 \
                     AND (claimed_until IS NULL OR claimed_until < ?2) \
                     AND (?4 OR next_fetch_at <= ?1) \
                     RETURNING {FEED_COLUMNS}"
                ))
                .map_err(db)?
                .query_map(params![ts(&now), ts(&wall), ts(&until), force], read_feed)
                .map_err(db)?
                .next()
                .transpose()
                .map_err(db)?;
            raw.map(feed_row).transpose()
        })
        .await
    }

    async fn finish_calendar_feed(&self, f: CalendarFeed) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.conn
                .execute(
                    "UPDATE calendar_feed SET etag = ?2, last_modified = ?3, fetched_at = ?4, \
                     outcome = ?5, next_fetch_at = ?6, claimed_until = NULL \
                     WHERE id = 1 AND url = ?1",
                    params![
                        f.url,
                        f.etag,
                        f.last_modified,
                        ts_opt(&f.fetched_at),
                        f.outcome,
                        ts(&f.next_fetch_at)
                    ],
                )
                .map_err(db)?;
            Ok(())
        })
        .await
    }
}
