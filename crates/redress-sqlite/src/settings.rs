//! Categories, the calendar and its feed, settings ([`SettingsStore`]),
//! over the statements of [`redress_store::sql::settings`].

use redress_store::sql::Conn;
use redress_store::sql::settings as sql;

use super::*;

#[async_trait]
impl SettingsStore for SqliteStore {
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
            let source = if event.is_some() {
                DaySource::Manual
            } else {
                DaySource::Builtin
            };
            for d in &days {
                ctx.execute(
                    "INSERT INTO calendar_days (date, kind, name, source) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                     source = excluded.source",
                    &redress_store::args![
                        d.date,
                        sql::day_kind_str(d.kind),
                        &d.name,
                        source.as_str()
                    ],
                )?;
            }
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
            for d in &days {
                ctx.execute(
                    "INSERT INTO calendar_days (date, kind, name, source) \
                     VALUES (?1, ?2, ?3, 'feed') \
                     ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                     source = 'feed' WHERE calendar_days.source <> 'manual'",
                    &redress_store::args![d.date, sql::day_kind_str(d.kind), &d.name],
                )?;
            }
            for d in &remove {
                ctx.execute(
                    "DELETE FROM calendar_days WHERE date = ?1 AND source = 'feed'",
                    &redress_store::args![*d],
                )?;
            }
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_string();
        self.read_point(move |c| sql::setting(c, &key)).await
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

    async fn get_calendar_feed(&self) -> StoreResult<Option<CalendarFeed>> {
        self.read(sql::calendar_feed).await
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
        let wall = Utc::now();
        let until = wall + chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::MAX);
        self.write(move |ctx| {
            ctx.query_opt(
                &format!(
                    "UPDATE calendar_feed SET claimed_until = ?3 WHERE id = 1 \
                     AND (claimed_until IS NULL OR claimed_until < ?2) \
                     AND (?4 OR next_fetch_at <= ?1) \
                     RETURNING {}",
                    sql::FEED_COLUMNS
                ),
                &redress_store::args![now, wall, until, force],
                |r| sql::feed(r),
            )
        })
        .await
    }

    async fn finish_calendar_feed(&self, f: CalendarFeed) -> StoreResult<()> {
        self.write(move |ctx| sql::finish_calendar_feed(ctx, &f))
            .await
    }
}
