//! Fixtures for tests of the domain (feature `test-support`): a [`World`]
//! with the China calendar, the default policy and a fixed instant, cases
//! brought to each stage through the real transitions, and the staff the
//! rules consult. A new rule of [`Case`] gets a unit test with these:
//!
//! ```
//! use redress_domain::testing::*;
//! use redress_domain::Status;
//!
//! let w = World::new();
//! let case = w.accepted();
//! assert_eq!(case.status, Status::InProgress);
//! ```
//!
//! Nothing here is compiled into the product: the feature is enabled only
//! by the crate's own tests (a self dev-dependency) and by test builds of
//! other crates that ask for it.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::{
    Actor, Calendar, Case, Channel, Ctx, DeadlinePolicy, Effects, Outcome, Refusal, Role, StaffRef,
    parse_registration,
};

/// Monday 2 November 2026, 10:00 in Shanghai: a working day with working
/// days around it.
pub const START: &str = "2026-11-02T02:00:00Z";

/// The calendar, the policy and the clock a transition consults.
pub struct World {
    pub calendar: Calendar,
    pub policy: DeadlinePolicy,
    pub now: DateTime<Utc>,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// The China calendar, the default policy, at [`START`].
    pub fn new() -> Self {
        Self::at(START.parse().unwrap())
    }

    /// The same, at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            calendar: Calendar::china(),
            policy: DeadlinePolicy::default(),
            now,
        }
    }

    /// A context at the world's instant, acting as the intake agent
    /// `agent`.
    pub fn ctx(&self) -> Ctx<'_> {
        self.ctx_at(self.now)
    }

    /// A context at `now`.
    pub fn ctx_at(&self, now: DateTime<Utc>) -> Ctx<'_> {
        Ctx {
            now,
            calendar: &self.calendar,
            policy: &self.policy,
            actor: Actor::staff("agent"),
        }
    }

    /// A context at `now`, acting as `actor`.
    pub fn ctx_as(&self, now: DateTime<Utc>, actor: Actor) -> Ctx<'_> {
        Ctx {
            actor,
            ..self.ctx_at(now)
        }
    }

    /// A context `by` after the world's instant.
    pub fn later(&self, by: Duration) -> Ctx<'_> {
        self.ctx_at(self.now + by)
    }

    /// A web complaint of `email`'s complainant, as registered.
    pub fn registered_by(&self, email: &str) -> Case {
        let input = parse_registration(&registration(email), self.now).unwrap();
        Case::register(
            uuid::Uuid::now_v7(),
            "RD1".into(),
            input,
            Channel::Web,
            vec![],
            &self.ctx(),
        )
        .0
    }

    /// A web complaint, as registered (status `submitted`).
    pub fn registered(&self) -> Case {
        self.registered_by("a@example.com")
    }

    /// A registered case accepted into `refunds-returns` of
    /// `customer-service` with the policy's stage lengths (`in_progress`).
    pub fn accepted(&self) -> Case {
        let mut case = self.registered();
        accept(&mut case, &self.ctx()).unwrap();
        case
    }

    /// An accepted case decided by [`handler`] (`resolved`).
    pub fn decided(&self) -> Case {
        let mut case = self.accepted();
        decide(&mut case, &handler(), &self.ctx()).unwrap();
        case
    }

    /// A decided case its complainant appealed (`under_review`).
    pub fn appealed(&self) -> Case {
        let mut case = self.decided();
        case.appeal("金额不对", &self.ctx()).unwrap();
        case
    }
}

/// A valid registration body of a web complaint.
pub fn registration(email: &str) -> Value {
    json!({
        "complainant": {"name": "张三", "email": email},
        "respondent": {"kind": "merchant", "id": "m-1"},
        "subject": "退款", "description": "拒绝退款",
    })
}

/// Accepts `case` into `refunds-returns` of `customer-service`.
pub fn accept(case: &mut Case, ctx: &Ctx) -> Result<Effects, Refusal> {
    case.accept(
        "refunds-returns",
        "customer-service",
        Default::default(),
        ctx,
    )
}

/// Decides `case` as `by`: upheld, one basis, a reply, nothing ordered.
pub fn decide(case: &mut Case, by: &StaffRef, ctx: &Ctx) -> Result<Effects, Refusal> {
    case.decide(
        Outcome::Upheld,
        vec!["平台服务协议 5.2".into()],
        "商家将全额退款。",
        vec![],
        vec![],
        vec![],
        by,
        15,
        ctx,
    )
}

/// A staff member of `departments` with `roles` at `level`.
pub fn staff(username: &str, roles: &[Role], departments: &[&str], level: i32) -> StaffRef {
    StaffRef {
        username: username.into(),
        level,
        departments: departments.iter().map(|d| d.to_string()).collect(),
        independent: false,
        roles: roles.to_vec(),
    }
}

/// `handler1`, a level-1 handler of `customer-service`.
pub fn handler() -> StaffRef {
    staff("handler1", &[Role::Handler], &["customer-service"], 1)
}

/// A reviewer of `customer-service` at `level`.
pub fn reviewer(username: &str, level: i32) -> StaffRef {
    staff(username, &[Role::Reviewer], &["customer-service"], level)
}

/// The kinds of the events `effects` journal, in order.
pub fn event_kinds(effects: &Effects) -> Vec<&str> {
    effects.events.iter().map(|e| e.kind()).collect()
}
