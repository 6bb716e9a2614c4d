//! Deadline queues and calendar edits: what is overdue or due soon, per
//! department and per person, and re-deriving open deadlines after the
//! calendar changed.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use redress_domain::Actor;
use redress_store::{QueueCount, Visibility};
use serde_json::{Value, json};

use crate::App;
use crate::access::Principal;
use crate::error::{AppError, AppResult};

/// Cases re-derived per store read after a calendar edit.
const RECOMPUTE_BATCH: usize = 500;

#[derive(Default)]
struct Tally {
    overdue: i64,
    due_soon: i64,
}

impl Tally {
    fn add(&mut self, q: &QueueCount) {
        self.overdue += q.overdue;
        self.due_soon += q.due_soon;
    }
    fn json(&self) -> Value {
        json!({"overdue": self.overdue, "due_soon": self.due_soon})
    }
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
    pub async fn queues(&self, who: &Principal) -> AppResult<Value> {
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
        let list = |key: &str, map: BTreeMap<Option<String>, Tally>| -> Vec<Value> {
            map.into_iter()
                .map(|(k, t)| {
                    let mut v = t.json();
                    v[key] = json!(k);
                    v
                })
                .collect()
        };
        Ok(json!({
            "now": now,
            "due_soon_until": soon,
            "overdue": total.overdue,
            "due_soon": total.due_soon,
            "mine": mine.json(),
            "departments": list("department", departments),
            "people": list("assignee", people),
        }))
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
