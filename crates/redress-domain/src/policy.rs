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
    /// The respondent's reply after acceptance when the category names
    /// none, working days.
    pub respondent_reply_days: u32,
    /// Retention after closure, years.
    pub retention_years: u32,
    /// How far ahead the due-soon queue looks, working days (0: today only).
    pub due_soon_days: u32,
    /// Reminders and escalation.
    pub alerts: AlertPolicy,
    /// Staff stages counted in working hours instead of working days
    /// (for installations that count in hours; see the calendar's
    /// working hours).
    pub hours: StageHours,
}

/// Staff stages whose deadline counts working hours; unset ones count
/// working days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StageHours {
    pub acceptance: Option<u32>,
    pub handling: Option<u32>,
    pub review: Option<u32>,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        Self {
            acceptance_days: 1,
            supplement_days: 5,
            handling_days: 15,
            appeal_days: 15,
            review_days: 10,
            respondent_reply_days: 3,
            retention_years: 3,
            due_soon_days: 1,
            alerts: AlertPolicy::default(),
            hours: StageHours::default(),
        }
    }
}

impl DeadlinePolicy {
    /// Refuses settings that cannot work, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let days = [
            ("acceptance_days", self.acceptance_days),
            ("supplement_days", self.supplement_days),
            ("handling_days", self.handling_days),
            ("appeal_days", self.appeal_days),
            ("review_days", self.review_days),
            ("respondent_reply_days", self.respondent_reply_days),
        ];
        for (key, d) in days {
            if !(1..=365).contains(&d) {
                return Err(format!(
                    "policy.{key} must be between 1 and 365 (it is {d})"
                ));
            }
        }
        if !(1..=100).contains(&self.retention_years) {
            return Err(format!(
                "policy.retention_years must be between 1 and 100 (it is {})",
                self.retention_years
            ));
        }
        if self.due_soon_days > 365 {
            return Err("policy.due_soon_days must be between 0 and 365".into());
        }
        for (key, h) in [
            ("acceptance", self.hours.acceptance),
            ("handling", self.hours.handling),
            ("review", self.hours.review),
        ] {
            if h.is_some_and(|h| !(1..=8760).contains(&h)) {
                return Err(format!("policy.hours.{key} must be between 1 and 8760"));
            }
        }
        if let Some(p) = self
            .alerts
            .reminder_percents
            .iter()
            .find(|p| !(1..=99).contains(*p))
        {
            return Err(format!(
                "policy.alerts.reminder_percents: {p} is not between 1 and 99"
            ));
        }
        Ok(())
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent_reply_days: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_setting() {
        assert_eq!(DeadlinePolicy::default().validate(), Ok(()));
        let bad = DeadlinePolicy {
            retention_years: 0,
            ..DeadlinePolicy::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .contains("policy.retention_years")
        );
        let bad = DeadlinePolicy {
            appeal_days: 0,
            ..DeadlinePolicy::default()
        };
        assert!(bad.validate().unwrap_err().contains("policy.appeal_days"));
        let bad = DeadlinePolicy {
            due_soon_days: 1000,
            ..DeadlinePolicy::default()
        };
        assert!(bad.validate().unwrap_err().contains("policy.due_soon_days"));
    }
}
