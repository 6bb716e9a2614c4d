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
        }
    }
}
