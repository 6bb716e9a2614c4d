//! Categories, the calendar and its feed, settings ([`SettingsStore`]).

use super::*;

#[async_trait]
impl SettingsStore for PgStore {
    async fn insert_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_departments(ctx, &[], std::slice::from_ref(&c))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        let rows = self
            .rows(
                "SELECT code, name, name_en, department, handling_days, appeal_days, review_days, \
                 respondent_reply_days FROM categories ORDER BY code",
                vec![],
            )
            .await?;
        let days = |r: &postgres::Row, i: usize| -> StoreResult<Option<u32>> {
            let d: Option<i32> = col(r, i)?;
            d.map(|d| u32::try_from(d).map_err(|_| StoreError::other(format!("bad days {d}"))))
                .transpose()
        };
        rows.iter()
            .map(|r| {
                Ok(Category {
                    code: col(r, 0)?,
                    name: col(r, 1)?,
                    name_en: col(r, 2)?,
                    department: col(r, 3)?,
                    handling_days: days(r, 4)?,
                    appeal_days: days(r, 5)?,
                    review_days: days(r, 6)?,
                    respondent_reply_days: days(r, 7)?,
                })
            })
            .collect()
    }

    async fn update_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let days = |d: Option<u32>| -> StoreResult<Option<i32>> {
                d.map(i32::try_from)
                    .transpose()
                    .map_err(|_| StoreError::other("category days out of range"))
            };
            let (h, a, r, rr) = (
                days(c.handling_days)?,
                days(c.appeal_days)?,
                days(c.review_days)?,
                days(c.respondent_reply_days)?,
            );
            let n = ctx
                .execute(
                    "UPDATE categories SET name = $2, name_en = $3, department = $4, \
                     handling_days = $5, appeal_days = $6, review_days = $7, \
                     respondent_reply_days = $8 WHERE code = $1",
                    &[&c.code, &c.name, &c.name_en, &c.department, &h, &a, &r, &rr],
                )
                .map_err(|e| codec::constraint(e, "code", "department"))?;
            if n == 0 {
                return Err(StoreError::Missing("category"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_calendar(&self) -> StoreResult<Vec<DayException>> {
        let rows = self
            .rows(
                "SELECT date, kind, name FROM calendar_days ORDER BY date",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DayException {
                    date: col(r, 0)?,
                    kind: parse_day_kind(col(r, 1)?)?,
                    name: col(r, 2)?,
                })
            })
            .collect()
    }

    async fn upsert_calendar(
        &self,
        days: Vec<DayException>,
        event: Option<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let dates: Vec<NaiveDate> = days.iter().map(|d| d.date).collect();
            let kinds: Vec<&str> = days.iter().map(|d| day_kind_str(d.kind)).collect();
            let names: Vec<&str> = days.iter().map(|d| d.name.as_str()).collect();
            let source = if event.is_some() {
                DaySource::Manual
            } else {
                DaySource::Builtin
            }
            .as_str();
            ctx.execute(
                "INSERT INTO calendar_days (date, kind, name, source) \
                 SELECT d, k, n, $4 FROM unnest($1::date[], $2::text[], $3::text[]) AS u(d, k, n) \
                 ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                 source = excluded.source",
                &[&dates, &kinds, &names, &source],
            )
            .map_err(db)?;
            if let Some(e) = &event {
                ctx.append(std::slice::from_ref(e))?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_calendar_day(&self, date: NaiveDate) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.execute("DELETE FROM calendar_days WHERE date = $1", &[&date])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn calendar_sources(&self) -> StoreResult<Vec<(NaiveDate, DaySource)>> {
        let rows = self
            .rows(
                "SELECT date, source FROM calendar_days ORDER BY date",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((col(r, 0)?, parse_enum("source", col(r, 1)?)?)))
            .collect()
    }

    async fn apply_calendar_feed(
        &self,
        days: Vec<DayException>,
        remove: Vec<NaiveDate>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let dates: Vec<NaiveDate> = days.iter().map(|d| d.date).collect();
            let kinds: Vec<&str> = days.iter().map(|d| day_kind_str(d.kind)).collect();
            let names: Vec<&str> = days.iter().map(|d| d.name.as_str()).collect();
            ctx.execute(
                "INSERT INTO calendar_days (date, kind, name, source) \
                 SELECT d, k, n, 'feed' FROM unnest($1::date[], $2::text[], $3::text[]) AS u(d, k, n) \
                 ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                 source = 'feed' WHERE calendar_days.source <> 'manual'",
                &[&dates, &kinds, &names],
            )
            .map_err(db)?;
            ctx.execute(
                "DELETE FROM calendar_days WHERE date = ANY($1::date[]) AND source = 'feed'",
                &[&remove],
            )
            .map_err(db)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn get_calendar_feed(&self) -> StoreResult<Option<CalendarFeed>> {
        let rows = self
            .rows(
                "SELECT url, etag, last_modified, fetched_at, outcome, next_fetch_at, set_by, \
                 set_at FROM calendar_feed WHERE id = 1",
                vec![],
            )
            .await?;
        rows.first().map(feed_row).transpose()
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let rows = self
            .rows(
                "SELECT value FROM settings WHERE key = $1",
                vec![boxed(key.to_string())],
            )
            .await?;
        Ok(rows.first().map(|r| r.get::<_, String>(0)))
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
            ctx.execute(
                "INSERT INTO settings (key, value, set_by, set_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 set_by = excluded.set_by, set_at = excluded.set_at",
                &[&key, &value, &set_by, &set_at.to_rfc3339()],
            )
            .map_err(db)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn set_calendar_feed(
        &self,
        feed: Option<CalendarFeed>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.execute("DELETE FROM calendar_feed", &[]).map_err(db)?;
            if let Some(f) = &feed {
                ctx.execute(
                    "INSERT INTO calendar_feed (id, url, etag, last_modified, fetched_at, \
                     outcome, next_fetch_at, set_by, set_at) \
                     VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        &f.url,
                        &f.etag,
                        &f.last_modified,
                        &us_opt(&f.fetched_at),
                        &f.outcome,
                        &us(&f.next_fetch_at),
                        &f.set_by,
                        &us(&f.set_at),
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
        let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
        self.read(move |c| {
            let rows = c
                .query(
                    "UPDATE calendar_feed \
                     SET claimed_until = clock_timestamp() + make_interval(secs => $2::bigint / 1e6) \
                     WHERE id IN (SELECT id FROM calendar_feed WHERE id = 1 \
                       AND (claimed_until IS NULL OR claimed_until < clock_timestamp()) \
                       AND ($3 OR next_fetch_at <= $1) FOR UPDATE SKIP LOCKED) \
                     RETURNING url, etag, last_modified, fetched_at, outcome, next_fetch_at, \
                     set_by, set_at",
                    &[&us(&now), &lease_us, &force],
                )
                .map_err(db)?;
            rows.first().map(feed_row).transpose()
        })
        .await
    }

    async fn finish_calendar_feed(&self, f: CalendarFeed) -> StoreResult<()> {
        self.read(move |c| {
            c.execute(
                "UPDATE calendar_feed SET etag = $2, last_modified = $3, fetched_at = $4, \
                 outcome = $5, next_fetch_at = $6, claimed_until = NULL \
                 WHERE id = 1 AND url = $1",
                &[
                    &f.url,
                    &f.etag,
                    &f.last_modified,
                    &us_opt(&f.fetched_at),
                    &f.outcome,
                    &us(&f.next_fetch_at),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }
}
