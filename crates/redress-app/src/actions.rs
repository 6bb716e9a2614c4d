//! Corrective actions followed up (SPEC §3, 四.3): who may own one, the
//! reassignment and re-dating of an open one, and the list across cases
//! (`GET /actions`) read from the `corrective_actions` table that every
//! case save keeps up to date. The reminders to owners are the domain's
//! (`Case::send_action_reminders`), run by the deadline sweep.

use chrono::{DateTime, Utc};
use redress_domain::Reason;
use redress_domain::{Case, FieldErrors, Role};
use redress_store::{ActionFilter, ActionState, User, Visibility};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::access::Principal;
use crate::error::{AppError, AppResult};
use crate::{App, refuse, stored};

/// Why an owner is refused (422 naming the field).
pub const OWNER_REFUSAL: Reason = Reason::ActionOwner;

/// The setting that records that cases decided before the
/// `corrective_actions` table existed were indexed.
const INDEXED: &str = "corrective_actions_indexed";

/// How many actions `GET /actions` answers at most (default and ceiling).
const DEFAULT_LIMIT: usize = 200;
const MAX_LIMIT: usize = 500;

/// Whether `user` may own a corrective action of `case`: an active staff
/// member who sees the case — a handler of its department, a supervisor,
/// the reviewer who decided its appeal — or `orderer`, who orders the
/// action now (the decider, or the reviewer of a modified result).
pub fn may_own(user: &User, case: &Case, orderer: Option<&str>) -> bool {
    if !user.active {
        return false;
    }
    if orderer == Some(user.username.as_str()) {
        return true;
    }
    let in_department = case
        .department
        .as_deref()
        .is_some_and(|d| user.departments.iter().any(|x| x == d));
    user.roles.contains(&Role::Supervisor)
        || (user.roles.contains(&Role::Handler) && in_department)
        || (user.roles.contains(&Role::Reviewer)
            && case
                .review
                .as_ref()
                .is_some_and(|r| r.reviewed_by == user.username))
}

/// The named owners (`actions[i].owner`) that may not own an action of
/// `case`.
pub fn owner_errors(
    users: &[User],
    case: &Case,
    owners: &[(usize, String)],
    orderer: &str,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for (i, owner) in owners {
        let ok = users
            .iter()
            .any(|u| u.username == owner.trim() && may_own(u, case, Some(orderer)));
        if !ok {
            errors.add(format!("actions[{i}].owner"), OWNER_REFUSAL);
        }
    }
    errors
}

/// Which corrective actions a list shows.
// The contract strings of `status=`, for the API document.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatusName {
    Open,
    Overdue,
    Done,
}

// The fields of these answers are declared in alphabetical order: the
// order of the JSON objects they replace, whose keys serde_json sorts.

/// A corrective action in the list, with its case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionItem {
    pub case_id: Uuid,
    /// The case's department.
    pub department: Option<String>,
    pub description: String,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
    pub due_at: DateTime<Utc>,
    /// The action's id within its case.
    pub id: String,
    /// Open and past its due time.
    pub overdue: bool,
    /// The username of who carries it out.
    pub owner: String,
    pub tracking_no: String,
}

/// `GET /actions`: the corrective actions asked for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionList {
    pub items: Vec<ActionItem>,
    /// Which actions were listed.
    #[schema(value_type = ActionStatusName)]
    pub status: String,
}

/// Query of `GET /actions`.
#[derive(Debug, Default, Clone)]
pub struct ActionQuery {
    pub status: Option<String>,
    pub owner: Option<String>,
    pub department: Option<String>,
    pub limit: Option<String>,
}

impl App {
    /// `PATCH /complaints/{id}/actions/{action_id}` `{owner?, due_at?}`:
    /// reassigns or re-dates an open corrective action (journaled with the
    /// old and new values). Unknown action: 404; done: 409.
    pub async fn update_action(
        &self,
        who: &Principal,
        id: Uuid,
        action_id: &str,
        cmd: &crate::commands::UpdateActionCommand,
    ) -> AppResult<crate::views::StaffCaseView> {
        let (owner, due_at) = (&cmd.owner, cmd.due_at);
        let users = match &owner {
            Some(_) => self.store.list_users().await?,
            None => Vec::new(),
        };
        self.staff_action(
            who,
            id,
            |_, _, _| Ok(()),
            |case, ctx| {
                let Some(action) = case
                    .decision
                    .iter()
                    .flat_map(|d| d.actions.iter())
                    .find(|a| a.id == action_id)
                else {
                    return Err(AppError::NotFound);
                };
                if action.is_open()
                    && let Some(o) = owner.as_deref().map(str::trim).filter(|o| !o.is_empty())
                    && !users
                        .iter()
                        .any(|u| u.username == o && may_own(u, case, None))
                {
                    return Err(AppError::invalid("owner", OWNER_REFUSAL));
                }
                refuse(case.update_action(action_id, owner.as_deref(), due_at, ctx))
            },
        )
        .await
    }

    /// `GET /actions?status=open|overdue|done&owner=&department=`: the
    /// corrective actions across the cases the caller may see (a handler
    /// or reviewer: their departments'), open ones by due date.
    pub async fn list_actions(&self, who: &Principal, q: &ActionQuery) -> AppResult<ActionList> {
        let visibility = match who {
            Principal::Staff(s) if s.reads_cases() => match s.visibility() {
                Visibility::Departments { departments, .. } => Visibility::Departments {
                    departments,
                    reviewer: None,
                },
                v => v,
            },
            Principal::Anonymous => return Err(AppError::Unauthorized),
            _ => return Err(AppError::Forbidden("this call is for staff".into())),
        };
        let now = self.now();
        let mut errors = FieldErrors::new();
        let status = q
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("open");
        let state = match status {
            "open" => ActionState::Open,
            "overdue" => ActionState::OverdueAt(now),
            "done" => ActionState::Done,
            _ => {
                errors.add(
                    "status",
                    Reason::OneOf {
                        list: "open, overdue, done".into(),
                    },
                );
                ActionState::Open
            }
        };
        let limit = match q.limit.as_deref().filter(|s| !s.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.add(
                        "limit",
                        Reason::IntRange {
                            a: 1,
                            b: MAX_LIMIT as i64,
                        },
                    );
                    DEFAULT_LIMIT
                }
            },
        };
        errors.into_result()?;
        let filter = ActionFilter {
            state,
            owner: q.owner.clone().filter(|s| !s.trim().is_empty()),
            department: q.department.clone().filter(|s| !s.trim().is_empty()),
            limit,
        };
        let rows = self.store.list_actions(&visibility, &filter).await?;
        let items: Vec<ActionItem> = rows
            .into_iter()
            .map(|a| ActionItem {
                case_id: a.case_id,
                department: a.department,
                description: a.description,
                done: a.done_at.is_some(),
                done_at: a.done_at,
                done_by: a.done_by,
                overdue: a.done_at.is_none() && now >= a.due_at,
                due_at: a.due_at,
                id: a.action_id,
                owner: a.owner,
                tracking_no: a.tracking_no,
            })
            .collect();
        Ok(ActionList {
            items,
            status: status.to_string(),
        })
    }

    /// Once, after the upgrade that added the `corrective_actions` table:
    /// indexes the actions of cases decided before (their documents are
    /// opened one page at a time). An installation without cases has
    /// nothing to do and records nothing.
    pub async fn index_corrective_actions(&self) -> AppResult<u64> {
        if self.store.get_setting(INDEXED).await?.is_some() {
            return Ok(0);
        }
        let (mut after, mut seen, mut indexed) = (0, 0u64, 0u64);
        loop {
            let rows = self.store.export_cases(after, 500).await?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            seen += rows.len() as u64;
            for row in rows.iter().filter(|r| r.decided_by.is_some()) {
                let loaded = stored::from_row(row, &self.vault)?;
                let actions = stored::action_rows(&loaded.case);
                if !actions.is_empty() {
                    indexed += actions.len() as u64;
                    self.store.put_actions(row.id, actions).await?;
                }
            }
        }
        if seen > 0 {
            let value = json!({"actions": indexed}).to_string();
            let event = self.admin_event(
                &Principal::Anonymous,
                "corrective_actions_indexed",
                json!({"actions": indexed}),
            );
            self.store
                .put_setting(INDEXED, value, "system".into(), self.now(), event)
                .await?;
            tracing::info!(indexed, "corrective actions of earlier cases indexed");
        }
        Ok(indexed)
    }
}
