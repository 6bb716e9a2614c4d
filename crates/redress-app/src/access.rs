//! Who is calling, and what they may do.
//!
//! Every bearer token has a prefix that says what it is: `rds_` a staff
//! session, `rdk_` an integration key, `rdr_` a respondent's portal key,
//! `rdt_` a complainant's access token (checked against one case only).
//! Permission checks hand back the capability needed for the operation:
//! [`Principal::staff`] returns a [`StaffUser`] only for staff, and
//! operations on cases take a [`CaseAccess`] that only
//! [`StaffUser::access`] can make.

use redress_domain::{Case, Role, Scope, StaffRef};
use redress_store::{ApiKey, Department, RespondentAccount, ReviewerScope, User, Visibility};

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone)]
pub enum Principal {
    /// No credentials: the public.
    Anonymous,
    Staff(StaffUser),
    /// A staff member whose password was reset by an admin: they may only
    /// change it (`POST /auth/password`) or log out.
    PasswordExpired(StaffUser),
    Integration(ApiKey),
    Respondent(RespondentAccount),
}

#[derive(Debug, Clone)]
pub struct StaffUser {
    pub user: User,
    /// The user's departments that are marked independent.
    pub independent: bool,
}

impl Principal {
    pub fn staff(&self) -> AppResult<&StaffUser> {
        match self {
            Principal::Staff(s) => Ok(s),
            Principal::Anonymous => Err(AppError::Unauthorized),
            Principal::PasswordExpired(_) => Err(AppError::Forbidden(
                "your password was reset: choose a new one first (POST /auth/password)".into(),
            )),
            _ => Err(AppError::Forbidden("this call is for staff".into())),
        }
    }

    /// The staff member behind the token, even one who must change their
    /// password (for that change and for logging out).
    pub fn staff_member(&self) -> AppResult<&StaffUser> {
        match self {
            Principal::Staff(s) | Principal::PasswordExpired(s) => Ok(s),
            Principal::Anonymous => Err(AppError::Unauthorized),
            _ => Err(AppError::Forbidden("this call is for staff".into())),
        }
    }

    pub fn respondent(&self) -> AppResult<&RespondentAccount> {
        match self {
            Principal::Respondent(r) => Ok(r),
            Principal::Anonymous => Err(AppError::Unauthorized),
            _ => Err(AppError::Forbidden("this call is for respondents".into())),
        }
    }

    /// The journal's name for the caller.
    pub fn actor_id(&self) -> String {
        match self {
            Principal::Anonymous => "public".into(),
            Principal::Staff(s) | Principal::PasswordExpired(s) => s.user.username.clone(),
            Principal::Integration(k) => k.name.clone(),
            Principal::Respondent(r) => r.respondent_key(),
        }
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        matches!(self, Principal::Integration(k) if k.scopes.contains(&scope) && !k.revoked)
    }
}

/// What a staff member may do on one particular case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseAccess {
    /// Acts at the front door: accept, reject, ask for material, edit the record.
    pub intake: bool,
    /// Investigates and decides (a handler of the case's department).
    pub handle: bool,
    /// May decide the appeal (independence is checked by the domain).
    pub review: bool,
    pub supervise: bool,
}

impl StaffUser {
    pub fn has(&self, role: Role) -> bool {
        self.user.roles.contains(&role)
    }

    pub fn require(&self, role: Role) -> AppResult<()> {
        if self.has(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("this needs the {role} role")))
        }
    }

    /// Whether the user reads cases at all (`admin` alone does not).
    pub fn reads_cases(&self) -> bool {
        self.user.roles.iter().any(|r| r.reads_cases())
    }

    pub fn in_department(&self, department: Option<&str>) -> bool {
        department.is_some_and(|d| self.user.departments.iter().any(|x| x == d))
    }

    pub fn staff_ref(&self) -> StaffRef {
        StaffRef {
            username: self.user.username.clone(),
            level: self.user.level,
            departments: self.user.departments.clone(),
            independent: self.independent,
            roles: self.user.roles.clone(),
        }
    }

    /// Which cases the user may see in lists.
    pub fn visibility(&self) -> Visibility {
        if self.has(Role::Supervisor) || self.has(Role::Intake) {
            return Visibility::All;
        }
        Visibility::Departments {
            departments: self.user.departments.clone(),
            reviewer: self.has(Role::Reviewer).then(|| ReviewerScope {
                username: self.user.username.clone(),
                level: self.user.level,
                independent: self.independent,
            }),
        }
    }

    /// The user's rights on this case; `NotFound` when they may not see it
    /// (a case one may not see is indistinguishable from a missing one).
    pub fn access(&self, case: &Case) -> AppResult<CaseAccess> {
        let in_dept = self.in_department(case.department.as_deref());
        let reviewable = self.has(Role::Reviewer)
            && case.decision.is_some()
            && case.check_reviewer(&self.staff_ref()).is_ok();
        let access = CaseAccess {
            intake: self.has(Role::Intake),
            handle: self.has(Role::Handler) && in_dept,
            review: reviewable,
            supervise: self.has(Role::Supervisor),
        };
        let reviewed_it = case
            .review
            .as_ref()
            .is_some_and(|r| r.reviewed_by == self.user.username);
        let sees = access.intake
            || access.supervise
            || (in_dept && (self.has(Role::Handler) || self.has(Role::Reviewer)))
            || (reviewable && case.status == redress_domain::Status::UnderReview)
            || reviewed_it;
        if sees {
            Ok(access)
        } else {
            Err(AppError::NotFound)
        }
    }
}

impl CaseAccess {
    pub fn require(self, ok: bool, what: &str) -> AppResult<()> {
        if ok {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("you may not {what} this case")))
        }
    }
}

/// Whether any of the user's departments is independent.
pub fn is_independent(user: &User, departments: &[Department]) -> bool {
    departments
        .iter()
        .any(|d| d.review && user.departments.contains(&d.code))
}
