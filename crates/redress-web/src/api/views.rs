//! The shape of what the admin's category calls answer, for the API
//! document. The answers that carry a case are typed where they are built
//! (`redress_app::views`: `StaffCaseView` named `Case`, `TrackView` named
//! `TrackedCase`, `RespondentCaseView`, `CaseList`), so the document's
//! schema is the type the server serialises.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A category and its routing, as created or changed.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CategoryItem {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    /// The department its cases go to.
    pub department: String,
    /// Handling time, working days (null: the installation's default).
    pub handling_days: Option<u32>,
    /// Appeal window, calendar days.
    pub appeal_days: Option<u32>,
    /// Review time, working days.
    pub review_days: Option<u32>,
    /// The respondent's reply after acceptance, working days.
    pub respondent_reply_days: Option<u32>,
}
