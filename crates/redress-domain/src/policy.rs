//! Deadline lengths (SPEC §4). Defaults follow the platform's policy; every
//! value can be configured, the handling time also per category.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeadlinePolicy {
    /// Acceptance decision after submission or supplement, working days.
    pub acceptance_days: u32,
    /// Complainant's supplement after a request for material, working days.
    pub supplement_days: u32,
    /// Handling after acceptance when the category names none, working days.
    pub handling_days: u32,
    /// Appeal window after the result notice, calendar days.
    pub appeal_days: u32,
    /// Review decision after an appeal, working days.
    pub review_days: u32,
    /// Retention after closure, years.
    pub retention_years: u32,
    /// How far ahead the due-soon queue looks, working days (0: today only).
    pub due_soon_days: u32,
    /// Reminders and escalation.
    pub alerts: AlertPolicy,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        Self {
            acceptance_days: 1,
            supplement_days: 5,
            handling_days: 15,
            appeal_days: 15,
            review_days: 10,
            retention_years: 3,
            due_soon_days: 1,
            alerts: AlertPolicy::default(),
        }
    }
}

/// Who a rung of the escalation ladder reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The assignee (or, without one, the pool that owns the stage).
    Responsible,
    /// The head of the case's department.
    Head,
    /// The supervisors.
    Supervisors,
}

/// One rung of an escalation ladder: `after_working_days` whole working
/// days after the deadline (0: at the deadline), the case is escalated to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationStep {
    pub after_working_days: u32,
    pub to: Level,
}

/// Reminders and escalation (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertPolicy {
    /// Reminders to the responsible person when these shares (percent) of
    /// the handling or review time have passed.
    pub reminder_percents: Vec<u32>,
    /// After a staff deadline has passed, remind the responsible person
    /// again every working day until the case moves.
    pub repeat_overdue: bool,
    /// The ladder for handling and review deadlines.
    pub escalation: Vec<EscalationStep>,
    /// The ladder for the acceptance decision.
    pub acceptance_escalation: Vec<EscalationStep>,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self {
            reminder_percents: vec![50, 80],
            repeat_overdue: true,
            escalation: vec![
                EscalationStep {
                    after_working_days: 0,
                    to: Level::Head,
                },
                EscalationStep {
                    after_working_days: 2,
                    to: Level::Supervisors,
                },
            ],
            acceptance_escalation: vec![EscalationStep {
                after_working_days: 0,
                to: Level::Supervisors,
            }],
        }
    }
}

/// Deadline lengths a category sets for its own cases (SPEC §4: "per
/// category where it makes sense"). Acceptance and supplement come before
/// a case has a category, so they are set installation-wide only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageDays {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_days: Option<u32>,
}
