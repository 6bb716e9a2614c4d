//! The staff case list: filters, search ranked by relevance, queues and
//! cursors.

use super::*;

impl App {
    pub async fn list_cases(&self, who: &Principal, q: &ListQuery) -> AppResult<views::CaseList> {
        let visibility = match who {
            Principal::Staff(s) if s.reads_cases() => s.visibility(),
            Principal::Integration(_) if who.has_scope(Scope::Read) => Visibility::All,
            Principal::Anonymous => return Err(AppError::Unauthorized),
            _ => return Err(AppError::Forbidden("you may not list cases".into())),
        };
        let mut errors = redress_domain::FieldErrors::new();
        let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => match s.parse::<Status>() {
                Ok(st) => Some(st),
                Err(m) => {
                    errors.add("status", m);
                    None
                }
            },
            None => None,
        };
        let now = self.now();
        let overdue_at = match q.overdue.as_deref() {
            None | Some("") | Some("false") | Some("0") => None,
            Some("true") | Some("1") => Some(now),
            Some(_) => {
                errors.add("overdue", Reason::Bool);
                None
            }
        };
        let due_between = match q.due_soon.as_deref() {
            None | Some("") | Some("false") | Some("0") => None,
            Some("true") | Some("1") => Some((now, self.due_soon_until())),
            Some(_) => {
                errors.add("due_soon", Reason::Bool);
                None
            }
        };
        let respondent_key = q
            .respondent
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|r| r.to_string());
        let mut query =
            q.q.as_deref()
                .map(redress_domain::text::query_tokens)
                .unwrap_or_default();
        // A respondent's name is in the case's search text: its words find
        // the candidates in the index, and the store keeps those whose
        // respondent's name contains the text.
        let respondent_name = q
            .respondent_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(name) = &respondent_name {
            if name.chars().count() > 200 {
                errors.add("respondent_name", Reason::AtMost { n: 200 });
            }
            query.extend(redress_domain::text::query_tokens(name));
        }
        let channel = match q.channel.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => s
                .parse::<redress_domain::Channel>()
                .map_err(|m| errors.add("channel", m))
                .ok(),
            None => None,
        };
        let closure = match q.closure.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => s
                .parse::<redress_domain::Closure>()
                .map_err(|m| errors.add("closure", m))
                .ok(),
            None => None,
        };
        let outcome = match q.outcome.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => s
                .parse::<redress_domain::Outcome>()
                .map_err(|m| errors.add("outcome", m))
                .ok(),
            None => None,
        };
        let missed = match q.missed.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some("any") => Some(None),
            Some(s) => match MISSED_STAGES.iter().find(|(name, _)| *name == s) {
                Some((_, stage)) => Some(Some(*stage)),
                None => {
                    errors.add(
                        "missed",
                        Reason::one_of(MISSED_STAGES.iter().map(|(n, _)| *n).chain(["any"])),
                    );
                    None
                }
            },
        };
        let searching = !query.is_empty() && q.q.as_deref().is_some_and(|s| !s.trim().is_empty());
        // A search lists its best matches first unless asked otherwise.
        let (by_due, by_relevance) = match q.sort.as_deref().filter(|s| !s.is_empty()) {
            None => (false, searching),
            Some("newest") => (false, false),
            Some("due") => (true, false),
            Some("relevance") => (false, searching),
            Some(_) => {
                errors.add("sort", Reason::one_of(["relevance", "newest", "due"]));
                (false, false)
            }
        };
        let tz = self.config.time_zone;
        let filed_from = filing_bound(q.from.as_deref(), tz, false, "from", &mut errors);
        let filed_before = filing_bound(q.to.as_deref(), tz, true, "to", &mut errors);
        if let (Some(a), Some(b)) = (filed_from, filed_before)
            && b <= a
        {
            errors.add("to", Reason::AfterFrom);
        }
        // A cursor continues the order it was given out for.
        let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
        let due_after = match cursor.filter(|_| by_due) {
            Some(c) => {
                let at = decode_due_cursor(c);
                if at.is_none() {
                    errors.add("cursor", Reason::Cursor);
                }
                at
            }
            None => None,
        };
        let ranked_after = match cursor.filter(|_| by_relevance) {
            Some(c) => {
                let at = decode_rank_cursor(c);
                if at.is_none() {
                    errors.add("cursor", Reason::Cursor);
                }
                at
            }
            None => None,
        };
        errors.into_result()?;
        let (limit, after) = paging(
            q.limit.as_deref(),
            cursor.filter(|_| !by_due && !by_relevance),
        )?;
        let filter = CaseFilter {
            status,
            department: q.department.clone().filter(|s| !s.is_empty()),
            category: q.category.clone().filter(|s| !s.is_empty()),
            respondent_key,
            respondent_name,
            assignee: q.assignee.clone().filter(|s| !s.is_empty()),
            channel,
            closure,
            outcome,
            missed,
            filed_from,
            filed_before,
            overdue_at,
            due_between,
            query,
            by_due,
            due_after,
            // A search counts up to the cap; one ranked by relevance counts
            // the matches it ranks.
            count_cap: match (searching, by_relevance) {
                (true, true) => Some(0),
                (true, false) => Some(SEARCH_TOTAL_CAP + 1),
                _ => None,
            },
        };
        if by_relevance {
            return self
                .ranked_search(
                    &visibility,
                    &filter,
                    q.q.as_deref().unwrap_or(""),
                    limit,
                    ranked_after,
                )
                .await;
        }
        let page = self
            .store
            .list_cases(&visibility, &filter, limit, after)
            .await?;
        let calendar = self.calendar();
        let next_cursor = match (page.next, page.items.last()) {
            (Some(_), Some(last)) if by_due => Some(encode_due_cursor(last.next_due_at, last.seq)),
            (Some(seq), _) => Some(encode_cursor(seq)),
            _ => None,
        };
        let items = page
            .items
            .iter()
            .map(|s| views::list_item(s, now, &calendar))
            .collect();
        let mut answer = views::CaseList {
            items,
            next_cursor,
            total: page.total,
            total_relation: None,
        };
        // A search counts exactly up to SEARCH_TOTAL_CAP matches (SPEC §11).
        if searching {
            let over = page.total > SEARCH_TOTAL_CAP;
            answer.total = page.total.min(SEARCH_TOTAL_CAP);
            answer.total_relation = Some(if over { "gte" } else { "eq" });
        }
        Ok(answer)
    }

    /// A search's page, best match first (SPEC §11): the newest
    /// [`SEARCH_TOTAL_CAP`] matches are ranked by
    /// [`redress_domain::text::relevance`] of their subjects, newest first
    /// among equals; the cursor is the last item's (score, seq).
    async fn ranked_search(
        &self,
        visibility: &redress_store::Visibility,
        filter: &CaseFilter,
        text: &str,
        limit: usize,
        after: Option<(i64, i64)>,
    ) -> AppResult<views::CaseList> {
        // The store ranks the candidates' subjects and reads only the
        // page's rows (reading all 10,000 candidates' summaries cost more
        // than ranking them, docs/benchmarks.md).
        let relevance = redress_domain::text::Relevance::new(text);
        let ranked = self
            .store
            .ranked_cases(
                visibility,
                filter,
                &relevance,
                SEARCH_TOTAL_CAP as usize,
                limit,
                after,
            )
            .await?;
        let next_cursor = ranked
            .more
            .then(|| {
                ranked
                    .items
                    .last()
                    .map(|(score, c)| encode_rank_cursor(*score, c.seq))
            })
            .flatten();
        let (now, calendar) = (self.now(), self.calendar());
        let items = ranked
            .items
            .iter()
            .map(|(_, c)| views::list_item(c, now, &calendar))
            .collect();
        let over = ranked.over;
        Ok(views::CaseList {
            items,
            next_cursor,
            total: ranked.total,
            total_relation: Some(if over { "gte" } else { "eq" }),
        })
    }
}
