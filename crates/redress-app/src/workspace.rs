//! The staff console's case page as one typed answer: the case, its
//! journal, the people and names it mentions, and the actions the viewer
//! may take in the case's current state.
//!
//! What is offered mirrors the checks each action makes (the rights of
//! [`CaseAccess`] and the domain's states); the actions still check for
//! themselves, so an offer that went stale answers a refusal, never a
//! change nobody was allowed to make.

use std::collections::HashMap;

use redress_domain::{Case, Role, Status};
use redress_store::{Category, Department, JournalEntry};
use serde_json::json;
use uuid::Uuid;

use crate::App;
use crate::access::{CaseAccess, Principal, StaffUser};
use crate::error::AppResult;

/// The case actions the console offers the viewer now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Offers {
    pub accept: bool,
    pub request_info: bool,
    pub reject: bool,
    /// Assign anyone fit (intake, supervisors).
    pub assign: bool,
    /// Take the case for oneself (a handler of its department, unassigned).
    pub take: bool,
    pub decide: bool,
    pub extend: bool,
    pub review: bool,
    pub pause: bool,
    pub resume: bool,
    pub message: bool,
    pub note: bool,
    pub evidence: bool,
    pub link: bool,
    pub merge: bool,
    /// Complete or re-plan the open corrective actions.
    pub actions: bool,
    pub erase: bool,
}

impl Offers {
    /// What `staff` (whose rights on the case are `access`) may do on
    /// `case` now.
    pub fn of(staff: &StaffUser, access: CaseAccess, case: &Case) -> Self {
        let open = !case.is_sealed();
        let status = case.status;
        let front = status == Status::Submitted;
        let clock_runs = case
            .clock
            .as_ref()
            .is_some_and(|c| status.deadline_is_staff_duty() && c.stage.is_staff_duty());
        let clock_owner = match status {
            Status::Submitted => access.intake,
            Status::InProgress => access.handle,
            Status::UnderReview => access.review,
            _ => false,
        } || access.supervise;
        let assignable = matches!(
            status,
            Status::Submitted | Status::NeedsInfo | Status::InProgress | Status::UnderReview
        );
        let open_actions = case
            .decision
            .as_ref()
            .is_some_and(|d| d.actions.iter().any(|a| a.done_at.is_none()));
        Offers {
            accept: front && access.intake,
            request_info: front && access.intake && case.info_request.is_none(),
            reject: front && access.intake,
            assign: assignable && (access.intake || access.supervise),
            take: assignable
                && access.handle
                && case.assignee.is_none()
                && status != Status::UnderReview,
            decide: status == Status::InProgress && access.handle,
            extend: status == Status::InProgress && access.handle && !case.is_paused(),
            review: status == Status::UnderReview && access.review && staff.has(Role::Reviewer),
            pause: clock_runs && clock_owner && !case.is_paused(),
            resume: clock_runs && clock_owner && case.is_paused(),
            message: open,
            note: open,
            evidence: open,
            link: open,
            merge: status.is_before_result()
                && case.merged_into.is_none()
                && (access.intake || access.handle || access.supervise),
            actions: open_actions,
            erase: access.supervise
                && status == Status::Closed
                && !case.legal_hold
                && case.purged_at.is_none(),
        }
    }

    /// Whether any action at all is offered.
    pub fn any(&self) -> bool {
        *self != Offers::default()
    }
}

/// A staff member as the console names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub username: String,
    pub display_name: String,
}

/// Everything the case page shows.
#[derive(Debug, Clone)]
pub struct CaseWorkspace {
    pub case: Case,
    /// The case's journal, oldest first, payloads opened.
    pub events: Vec<JournalEntry>,
    pub offers: Offers,
    /// The viewer's username.
    pub viewer: String,
    /// Display names of staff by username (active or not: the journal
    /// names people who may have left).
    pub names: HashMap<String, String>,
    /// Whom the case may be assigned to now: active handlers of its
    /// department (intake while it has none; reviewers fit to review
    /// during review).
    pub assignees: Vec<Person>,
    /// Owners a corrective action may be given to: active staff who read
    /// cases.
    pub owners: Vec<Person>,
    pub departments: Vec<Department>,
    pub categories: Vec<Category>,
    /// The respondent's registered name, when the platform registered it.
    pub respondent_name: Option<String>,
    /// The cases this one is linked to, may duplicate, or was merged
    /// with, with their tracking numbers.
    pub related: Vec<Related>,
    /// Near-duplicates the viewer may see, best first.
    pub similar: Vec<crate::likely::SimilarCase>,
    /// Likely categories, when the viewer is offered the acceptance.
    pub suggestions: Vec<crate::likely::CategorySuggestion>,
}

/// How another case relates to this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Linked,
    PossibleDuplicate,
    MergedInto,
    MergedFrom,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub id: Uuid,
    pub tracking_no: String,
    pub relation: Relation,
}

impl App {
    /// The case page of `GET /staff/cases/{id}`: the case with contact data
    /// in the clear (the view is journaled, as `GET /complaints/{id}`).
    pub async fn case_workspace(&self, who: &Principal, id: Uuid) -> AppResult<CaseWorkspace> {
        let (staff, loaded, access) = self.staff_case(who, id).await?;
        self.log_event(
            Some(id),
            &Self::staff_actor(&staff),
            "personal_data_viewed",
            json!({"fields": ["complainant.email", "complainant.phone"]}),
        )
        .await?;
        let events = self.case_events(&loaded).await?;
        let users = self.store.list_users().await?;
        let departments = self.store.list_departments().await?;
        let categories = self.store.list_categories().await?;
        let case = loaded.case;
        let names = users
            .iter()
            .map(|u| (u.username.clone(), u.display_name.clone()))
            .collect();
        let person = |u: &redress_store::User| Person {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
        };
        let assignees = users
            .iter()
            .filter(|u| u.active)
            .filter(|u| {
                let target = StaffUser {
                    independent: crate::access::is_independent(u, &departments),
                    user: (*u).clone(),
                }
                .staff_ref();
                match case.status {
                    Status::UnderReview => case.check_reviewer(&target).is_ok(),
                    _ => match case.department.as_deref() {
                        Some(d) => {
                            u.roles.contains(&Role::Handler) && u.departments.iter().any(|x| x == d)
                        }
                        None => u.roles.contains(&Role::Intake),
                    },
                }
            })
            .map(person)
            .collect();
        let owners = users
            .iter()
            .filter(|u| u.active && u.roles.iter().any(|r| r.reads_cases()))
            .map(person)
            .collect();
        let respondent_name = match case.record.respondent.as_ref() {
            Some(r) => self
                .store
                .get_respondent(r.kind, &r.id)
                .await
                .ok()
                .flatten()
                .map(|a| a.name),
            None => None,
        };
        let mut related = Vec::new();
        let others = case
            .links
            .iter()
            .map(|id| (*id, Relation::Linked))
            .chain(
                case.possible_duplicates
                    .iter()
                    .map(|id| (*id, Relation::PossibleDuplicate)),
            )
            .chain(
                case.merged_into
                    .iter()
                    .map(|id| (*id, Relation::MergedInto)),
            )
            .chain(
                case.merged_from
                    .iter()
                    .map(|id| (*id, Relation::MergedFrom)),
            );
        for (other, relation) in others.take(50) {
            if let Some(row) = self.store.get_case(other).await? {
                related.push(Related {
                    id: row.id,
                    tracking_no: row.tracking_no,
                    relation,
                });
            }
        }
        let offers = Offers::of(&staff, access, &case);
        // Helps, not the case itself: a failure leaves them out.
        let similar = self.similar_to(&staff, &case).await.unwrap_or_default();
        let suggestions = if offers.accept {
            self.suggestions_for(&case, &categories)
                .await
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(CaseWorkspace {
            related,
            similar,
            suggestions,
            offers,
            viewer: staff.user.username.clone(),
            case,
            events,
            names,
            assignees,
            owners,
            departments,
            categories,
            respondent_name,
        })
    }

    /// The case's version now, for a form that was filled on an older
    /// page: the page says the case changed instead of acting on it.
    pub async fn case_version(&self, who: &Principal, id: Uuid) -> AppResult<i64> {
        let (_, loaded, _) = self.staff_case(who, id).await?;
        Ok(loaded.case.version)
    }
}
