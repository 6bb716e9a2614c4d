//! Cases, their corrective actions, reports, the journal and idempotency
//! records ([`CaseStore`]).

use super::*;

#[async_trait]
impl CaseStore for PgStore {
    async fn insert_case(
        &self,
        row: CaseRow,
        events: Vec<NewEvent>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<InsertOutcome> {
        // A taken number or key is an answer, not an error: the job keeps
        // its savepoint and undoes by hand what it wrote before finding out.
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(writer::job(
            move |ctx: &mut WriteCtx<'_>| -> StoreResult<StoreResult<InsertOutcome>> {
                // The key is taken first: a concurrent writer (of this or
                // another instance) holding the same key makes this
                // statement wait for its outcome, then find its record.
                if let Some(idem) = &idempotency {
                    let taken = ctx
                        .execute(
                            "INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING",
                            &[
                                &idem.key,
                                &idem.request_hash,
                                &i32::from(idem.status),
                                &idem.body,
                                &us(&idem.created_at),
                            ],
                        )
                        .map_err(db)?;
                    if taken == 0 {
                        let stmt = ctx.statement(GET_IDEMPOTENCY)?;
                        let first = ctx.client.query_one(&stmt, &[&idem.key]).map_err(db)?;
                        return Ok(Ok(InsertOutcome::Replayed(self::idempotency(&first)?)));
                    }
                }
                let v = CaseValues::of(&row)?;
                let stmt = ctx.statement(INSERT_CASE_IF_FREE)?;
                let Some(inserted) = ctx
                    .client
                    .query_opt(&stmt, &v.params(&row, &row.version))
                    .map_err(db)?
                else {
                    if let Some(idem) = &idempotency {
                        ctx.execute("DELETE FROM idempotency_keys WHERE key = $1", &[&idem.key])
                            .map_err(db)?;
                    }
                    return Ok(Err(StoreError::Duplicate("tracking_no")));
                };
                actions::write(ctx, row.id, &row.actions)?;
                rollups::insert(ctx, &row)?;
                ctx.append(&events)?;
                Ok(Ok(InsertOutcome::Inserted {
                    seq: col(&inserted, 0)?,
                }))
            },
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        ))?;
        match rx
            .await
            .map_err(|_| StoreError::other("the write job failed without an answer"))?
        {
            Ok(outcome) => outcome,
            // Two groups took the same numbers or keys in opposite orders and
            // PostgreSQL gave up this one: its number is as good as taken. The
            // caller tries again with a new number, and finds the key's first
            // answer if the key was the conflict.
            Err(StoreError::Deadlock(_)) => Err(StoreError::Duplicate("tracking_no")),
            Err(e) => Err(e),
        }
    }

    async fn get_case(&self, id: Uuid) -> StoreResult<Option<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let rows = self.rows(sql, vec![boxed(id)]).await?;
        rows.first().map(codec::case_row).transpose()
    }

    async fn get_case_by_tracking_no(&self, tracking_no: &str) -> StoreResult<Option<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE tracking_no = $1");
        let rows = self.rows(sql, vec![boxed(tracking_no.to_string())]).await?;
        rows.first().map(codec::case_row).transpose()
    }

    async fn update_cases(
        &self,
        updates: Vec<CaseUpdate>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            for u in &updates {
                update_case_row(ctx, u)?;
                actions::write(ctx, u.row.id, &u.row.actions)?;
            }
            ctx.append(&events)
        })
        .await
    }

    async fn list_cases(
        &self,
        visibility: &Visibility,
        filter: &CaseFilter,
        limit: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<CaseSummary>> {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        self.read(move |c| query::list_cases(c, &visibility, &filter, limit, after))
            .await
    }

    async fn case_texts(
        &self,
        visibility: &Visibility,
        filters: Vec<CaseFilter>,
        limit: usize,
    ) -> StoreResult<Vec<redress_store::CaseText>> {
        let visibility = visibility.clone();
        self.read(move |c| model::case_texts(c, &visibility, &filters, limit))
            .await
    }

    async fn learn_category(
        &self,
        category: String,
        tokens: Vec<redress_store::LearntToken>,
        min_cases: i64,
    ) -> StoreResult<()> {
        self.write(move |ctx| model::learn(ctx, &category, &tokens, min_cases))
            .await
    }

    async fn category_model(
        &self,
        tokens: Vec<String>,
    ) -> StoreResult<redress_domain::suggest::ModelView> {
        self.read(move |c| model::view(c, &tokens)).await
    }

    async fn list_actions(
        &self,
        visibility: &Visibility,
        filter: &redress_store::ActionFilter,
    ) -> StoreResult<Vec<redress_store::ActionRow>> {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        self.read(move |c| actions::list(c, &visibility, &filter))
            .await
    }

    async fn put_actions(
        &self,
        case_id: Uuid,
        rows: Vec<redress_store::ActionRow>,
    ) -> StoreResult<()> {
        self.write(move |ctx| actions::replace(ctx, case_id, &rows))
            .await
    }

    async fn open_cases_between(
        &self,
        complainant_key: &str,
        respondent_key: &str,
    ) -> StoreResult<Vec<Uuid>> {
        let rows = self
            .rows(
                "SELECT id FROM cases WHERE complainant_key = $1 AND respondent_key = $2 \
                 AND status <> 'closed' ORDER BY seq",
                vec![
                    boxed(complainant_key.to_string()),
                    boxed(respondent_key.to_string()),
                ],
            )
            .await?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    async fn cases_due_from(
        &self,
        from: DateTime<Utc>,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, Uuid)>> {
        let rows = self
            .rows(
                "SELECT seq, id FROM cases WHERE seq > $1 AND next_due_at >= $2 \
                 AND status <> 'closed' ORDER BY seq LIMIT $3",
                vec![
                    boxed(after_seq),
                    boxed(us(&from)),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
    }

    async fn deadline_queues(
        &self,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> StoreResult<Vec<QueueCount>> {
        let rows = self
            .rows(
                "SELECT department, assignee, \
                 count(*) FILTER (WHERE next_due_at <= $1), \
                 count(*) FILTER (WHERE next_due_at > $1) \
                 FROM cases WHERE staff_due AND next_due_at <= $2 \
                 GROUP BY department, assignee ORDER BY department, assignee",
                vec![boxed(us(&now)), boxed(us(&soon))],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(QueueCount {
                    department: col(r, 0)?,
                    assignee: col(r, 1)?,
                    overdue: col(r, 2)?,
                    due_soon: col(r, 3)?,
                })
            })
            .collect()
    }

    async fn due_for_sweep(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Uuid>> {
        let rows = self
            .rows(
                "SELECT id FROM cases WHERE sweep_at <= $1 ORDER BY sweep_at, seq LIMIT $2",
                vec![
                    boxed(us(&now)),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> StoreResult<Vec<Uuid>> {
        let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
        let rows = self
            .rows(
                "UPDATE cases SET claimed_until = clock_timestamp() + make_interval(secs => $3::bigint / 1e6) \
                 WHERE seq IN (SELECT seq FROM cases WHERE sweep_at <= $1 \
                     AND (claimed_until IS NULL OR claimed_until < clock_timestamp()) \
                     ORDER BY sweep_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, sweep_at, seq",
                vec![
                    boxed(us(&now)),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                    boxed(lease_us),
                ],
            )
            .await?;
        let mut claimed = rows
            .iter()
            .map(|r| Ok((col::<DateTime<Utc>>(r, 1)?, col::<i64>(r, 2)?, col(r, 0)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        claimed.sort();
        Ok(claimed.into_iter().map(|(_, _, id)| id).collect())
    }

    async fn count_by_status(&self) -> StoreResult<Vec<(Status, i64)>> {
        let rows = self
            .rows(
                "SELECT status, sum(n)::bigint AS n FROM case_counts GROUP BY status \
                 HAVING sum(n) > 0",
                vec![],
            )
            .await?;
        let mut out = rows
            .iter()
            .map(|r| Ok((parse_enum::<Status>("status", col(r, 0)?)?, col(r, 1)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by_key(|(s, _)| Status::ALL.iter().position(|x| x == s));
        Ok(out)
    }

    async fn report_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ReportRow>> {
        let rows = self
            .rows(
                "SELECT channel, category, status, closure, respondent_key, report FROM cases \
                 WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, seq",
                vec![boxed(us(&from)), boxed(us(&to))],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    parse_enum("channel", col(r, 0)?)?,
                    col(r, 1)?,
                    parse_enum("status", col(r, 2)?)?,
                    parse_enum_opt("closure", col(r, 3)?)?,
                    col(r, 4)?,
                    redress_store::ReportFacts::unpacked(&col::<Vec<u8>>(r, 5)?)?,
                ))
            })
            .collect()
    }

    async fn report_rollup(
        &self,
        query: &redress_store::rollup::RollupQuery,
    ) -> StoreResult<Vec<redress_store::rollup::RollupSum>> {
        let q = query.clone();
        self.read(move |c| rollups::query(c, &q)).await
    }

    async fn report_top_respondents(
        &self,
        query: &redress_store::rollup::RollupQuery,
        limit: usize,
    ) -> StoreResult<Vec<(String, i64)>> {
        let q = query.clone();
        self.read(move |c| rollups::top_respondents(c, &q, limit))
            .await
    }

    async fn report_daily(
        &self,
        query: &redress_store::rollup::DailyQuery,
    ) -> StoreResult<Vec<redress_store::rollup::DailyCount>> {
        let q = query.clone();
        self.read(move |c| rollups::daily(c, &q)).await
    }

    async fn claim_alert(
        &self,
        kind: redress_store::rollup::Subject,
        subject: &str,
        day: chrono::NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let subject = subject.to_string();
        self.write(move |ctx| rollups::claim_sent(ctx, kind.as_str(), &subject, day, at))
            .await
    }

    async fn claim_mailing(
        &self,
        kind: &str,
        period: chrono::NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let kind = kind.to_string();
        self.write(move |ctx| rollups::claim_sent(ctx, &kind, "", period, at))
            .await
    }

    async fn has_case_between(
        &self,
        complainant_key: &str,
        respondent_key: &str,
    ) -> StoreResult<bool> {
        let rows = self
            .rows(
                "SELECT EXISTS (SELECT 1 FROM cases WHERE complainant_key = $1 \
                 AND respondent_key = $2)",
                vec![
                    boxed(complainant_key.to_string()),
                    boxed(respondent_key.to_string()),
                ],
            )
            .await?;
        match rows.first() {
            Some(r) => col(r, 0),
            None => Ok(false),
        }
    }

    async fn rebuild_report_rollups(&self, zone: redress_domain::calendar::Tz) -> StoreResult<u64> {
        self.write(move |ctx| rollups::rebuild(ctx, zone)).await
    }

    async fn events_for_case(&self, case_id: Uuid) -> StoreResult<Vec<JournalEntry>> {
        let rows = self
            .rows(
                "SELECT seq, case_id, kind, actor, at, data, prev_hash, hash FROM events \
                 WHERE case_id = $1 ORDER BY seq",
                vec![boxed(case_id)],
            )
            .await?;
        rows.iter().map(journal_entry).collect()
    }

    async fn journal_after(&self, after: i64, limit: usize) -> StoreResult<Vec<JournalEntry>> {
        let rows = self
            .rows(
                "SELECT seq, case_id, kind, actor, at, data, prev_hash, hash FROM events \
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
                vec![
                    boxed(after),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        rows.iter().map(journal_entry).collect()
    }

    async fn list_global_events(
        &self,
        kinds: Vec<String>,
        limit: usize,
    ) -> StoreResult<Vec<JournalEntry>> {
        let rows = self
            .rows(
                "SELECT seq, case_id, kind, actor, at, data, prev_hash, hash FROM events \
                 WHERE case_id IS NULL AND kind = ANY($1) ORDER BY seq DESC LIMIT $2",
                vec![
                    boxed(kinds),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        rows.iter().map(journal_entry).collect()
    }

    async fn journal_head(&self) -> StoreResult<Option<(i64, String)>> {
        let rows = self
            .rows(
                "SELECT seq, hash FROM journal_head WHERE id = 1 AND seq > 0",
                vec![],
            )
            .await?;
        rows.first()
            .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
            .transpose()
    }

    async fn append_events(&self, events: Vec<NewEvent>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.write(move |ctx| ctx.append(&events)).await
    }

    async fn get_idempotency(&self, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        let rows = self
            .rows(GET_IDEMPOTENCY, vec![boxed(key.to_string())])
            .await?;
        rows.first().map(idempotency).transpose()
    }
}
