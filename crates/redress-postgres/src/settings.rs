//! Categories, the calendar and its feed, settings ([`SettingsStore`]),
//! over the statements of [`redress_store::sql::settings`] where they
//! are the same as SQLite's.

use redress_store::sql::settings::{self as sql, day_kind_str};

use super::*;

#[async_trait]
impl SettingsStore for PgStore {
    async fn insert_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::import_departments(ctx, &[], std::slice::from_ref(&c))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        self.read(sql::categories).await
    }

    async fn update_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::update_category(ctx, &c)?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_calendar(&self) -> StoreResult<Vec<DayException>> {
        self.read(sql::calendar).await
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
        self.write(move |ctx| sql::delete_calendar_day(ctx, date))
            .await
    }

    async fn calendar_sources(&self) -> StoreResult<Vec<(NaiveDate, DaySource)>> {
        self.read(sql::calendar_sources).await
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
        self.read(sql::calendar_feed).await
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_string();
        self.read(move |c| sql::setting(c, &key)).await
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
            sql::put_setting(ctx, &key, &value, &set_by, set_at)?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn set_calendar_feed(
        &self,
        feed: Option<CalendarFeed>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::set_calendar_feed(ctx, feed.as_ref())?;
            ctx.append(std::slice::from_ref(&event))
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
            rows.first().map(sql::feed).transpose()
        })
        .await
    }

    async fn finish_calendar_feed(&self, f: CalendarFeed) -> StoreResult<()> {
        self.read(move |c| sql::finish_calendar_feed(c, &f)).await
    }
}
