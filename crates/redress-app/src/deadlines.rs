//! Deadline queues and calendar edits: what is overdue or due soon, per
//! department and per person, and re-deriving open deadlines after the
//! calendar changed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use redress_domain::Actor;
use redress_store::{QueueCount, Visibility};
use serde::Serialize;

use crate::App;
use crate::access::Principal;
use crate::error::{AppError, AppResult};

/// Cases re-derived per store read after a calendar edit.
const RECOMPUTE_BATCH: usize = 500;

// The fields of these answers are declared in alphabetical order: the
// order of the JSON objects they replace, whose keys serde_json sorts.

/// Staff deadlines passed and coming.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Tally {
    /// Due within the due-soon window.
    pub due_soon: i64,
    pub overdue: i64,
}

impl Tally {
    fn add(&mut self, q: &QueueCount) {
        self.overdue += q.overdue;
        self.due_soon += q.due_soon;
    }
}

/// The deadlines of one department's cases.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentQueue {
    /// The department's code; null: cases of no department.
    pub department: Option<String>,
    pub due_soon: i64,
    pub overdue: i64,
}

/// The deadlines of one person's cases.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonQueue {
    /// The username; null: unassigned cases.
    pub assignee: Option<String>,
    pub due_soon: i64,
    pub overdue: i64,
}

/// `GET /queues`: staff deadlines the caller may see, in total, per
/// department, per person and the caller's own.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Queues {
    pub departments: Vec<DepartmentQueue>,
    pub due_soon: i64,
    /// The end of the due-soon window.
    pub due_soon_until: DateTime<Utc>,
    /// The caller's own cases.
    pub mine: Tally,
    pub now: DateTime<Utc>,
    pub overdue: i64,
    pub people: Vec<PersonQueue>,
}

impl App {
    /// The instant up to which a staff deadline counts as due soon.
    pub fn due_soon_until(&self) -> chrono::DateTime<chrono::Utc> {
        self.calendar()
            .working_days_after(self.now(), self.config.policy.due_soon_days)
    }

    /// `GET /queues`: overdue and due-soon staff deadlines with exact
    /// counts, in total, per department, per person and for the caller.
    /// Paused clocks are in neither queue.
    pub async fn queues(&self, who: &Principal) -> AppResult<Queues> {
        let staff = who.staff()?;
        if !staff.reads_cases() {
            return Err(AppError::Forbidden(
                "admins manage settings and do not act on cases".into(),
            ));
        }
        let now = self.now();
        let soon = self.due_soon_until();
        let me = staff.user.username.clone();
        let rows = self.store.deadline_queues(now, soon).await?;
        let visible = |q: &QueueCount| match staff.visibility() {
            Visibility::All => true,
            Visibility::Departments { departments, .. } => {
                q.assignee.as_deref() == Some(me.as_str())
                    || q.department
                        .as_ref()
                        .is_some_and(|d| departments.contains(d))
            }
            Visibility::Respondent { .. } => false,
        };
        let (mut total, mut mine) = (Tally::default(), Tally::default());
        let mut departments: BTreeMap<Option<String>, Tally> = BTreeMap::new();
        let mut people: BTreeMap<Option<String>, Tally> = BTreeMap::new();
        for q in rows.iter().filter(|q| visible(q)) {
            total.add(q);
            departments.entry(q.department.clone()).or_default().add(q);
            people.entry(q.assignee.clone()).or_default().add(q);
            if q.assignee.as_deref() == Some(me.as_str()) {
                mine.add(q);
            }
        }
        Ok(Queues {
            departments: departments
                .into_iter()
                .map(|(department, t)| DepartmentQueue {
                    department,
                    due_soon: t.due_soon,
                    overdue: t.overdue,
                })
                .collect(),
            due_soon: total.due_soon,
            due_soon_until: soon,
            mine,
            now,
            overdue: total.overdue,
            people: people
                .into_iter()
                .map(|(assignee, t)| PersonQueue {
                    assignee,
                    due_soon: t.due_soon,
                    overdue: t.overdue,
                })
                .collect(),
        })
    }

    /// Re-derives every open deadline that runs on or after `from` (the
    /// first edited date) on the current calendar; each one that moved is
    /// saved with a `deadline_recomputed` event. Returns how many moved.
    pub async fn recompute_deadlines(&self, from: NaiveDate) -> AppResult<u64> {
        let start = self.calendar().start_of_local_day(from);
        let mut after = 0;
        let mut moved = 0;
        loop {
            let batch = self
                .store
                .cases_due_from(start, after, RECOMPUTE_BATCH)
                .await?;
            let Some(&(last, _)) = batch.last() else {
                break;
            };
            after = last;
            for (_, id) in batch {
                let mut changed = false;
                let result = self
                    .mutate(id, Actor::system("calendar"), |case, ctx| {
                        let effects = case.recompute_deadline(ctx).unwrap_or_default();
                        changed = !effects.events.is_empty();
                        Ok(effects)
                    })
                    .await;
                match result {
                    Ok(_) if changed => moved += 1,
                    Ok(_) | Err(AppError::NotFound) => {}
                    Err(e) => {
                        tracing::error!(case = %id, error = %e, "deadline not re-derived");
                        return Err(e);
                    }
                }
            }
        }
        if moved > 0 {
            tracing::info!(moved, %from, "deadlines re-derived after a calendar edit");
        }
        Ok(moved)
    }
}
