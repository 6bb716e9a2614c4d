//! The small closed vocabularies of SPEC: statuses, closures, outcomes,
//! channels, audiences, roles. Each is an enum whose serde name is the
//! contract string; the SQL schemas carry CHECK constraints that agree.

use crate::reason::Reason;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = crate::reason::Reason;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(crate::reason::Reason::one_of([$($text),+])),
                }
            }
        }
    };
}

vocabulary!(
    /// Where a case is (SPEC §3).
    Status {
        Submitted = "submitted",
        NeedsInfo = "needs_info",
        InProgress = "in_progress",
        Resolved = "resolved",
        UnderReview = "under_review",
        Closed = "closed",
    }
);

vocabulary!(
    /// How a closed case ended.
    Closure {
        Rejected = "rejected",
        Lapsed = "lapsed",
        Resolved = "resolved",
        Reviewed = "reviewed",
        Withdrawn = "withdrawn",
        Merged = "merged",
    }
);

vocabulary!(
    Outcome {
        Upheld = "upheld",
        PartiallyUpheld = "partially_upheld",
        NotUpheld = "not_upheld",
        Settled = "settled",
    }
);

vocabulary!(
    ReviewResult {
        Upheld = "upheld",
        Modified = "modified",
    }
);

vocabulary!(
    Channel {
        Web = "web",
        Api = "api",
        Chat = "chat",
        Email = "email",
        Phone = "phone",
        Letter = "letter",
        InPerson = "in_person",
    }
);

vocabulary!(
    Audience {
        Internal = "internal",
        Complainant = "complainant",
        Respondent = "respondent",
    }
);

vocabulary!(
    NoteKind {
        Investigation = "investigation",
        Contact = "contact",
        Note = "note",
    }
);

vocabulary!(
    RespondentKind {
        User = "user",
        Merchant = "merchant",
        Content = "content",
        Order = "order",
        Platform = "platform",
    }
);

vocabulary!(
    /// Staff role codes (SPEC §2). Roles combine.
    Role {
        Intake = "intake",
        Handler = "handler",
        Reviewer = "reviewer",
        Supervisor = "supervisor",
        Admin = "admin",
    }
);

impl Role {
    /// Whether the role reads case content (every role but `admin`, which
    /// manages settings only: SPEC §2).
    pub fn reads_cases(self) -> bool {
        self != Role::Admin
    }
}

vocabulary!(
    /// Scopes of integration API keys.
    Scope {
        Intake = "intake",
        Read = "read",
        Webhooks = "webhooks",
    }
);

vocabulary!(
    Locale {
        ZhCn = "zh-CN",
        En = "en",
    }
);

vocabulary!(
    DeliveryChannel {
        Email = "email",
        Sms = "sms",
        Webhook = "webhook",
        InApp = "in_app",
        Post = "post",
    }
);

vocabulary!(
    DeliveryStatus {
        Queued = "queued",
        Sent = "sent",
        Failed = "failed",
        Bounced = "bounced",
    }
);

vocabulary!(
    /// Who a notice goes to.
    Party {
        Complainant = "complainant",
        Respondent = "respondent",
        Staff = "staff",
    }
);

vocabulary!(
    /// Kinds of notices (SPEC §7).
    NoticeKind {
        Acknowledgement = "acknowledgement",
        RequestForMaterial = "request_for_material",
        Refusal = "refusal",
        Acceptance = "acceptance",
        Progress = "progress",
        Result = "result",
        ReviewResult = "review_result",
        Lapsed = "lapsed",
        Withdrawn = "withdrawn",
        Merged = "merged",
        Message = "message",
        NewComplaint = "new_complaint",
        AppealReceived = "appeal_received",
        Closed = "closed",
        Reminder = "reminder",
        Escalation = "escalation",
        AccessCode = "access_code",
    }
);

impl Status {
    /// Statuses in which the complainant may still withdraw, and a case may be merged.
    pub fn is_before_result(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::NeedsInfo | Status::InProgress
        )
    }

    /// Statuses whose running deadline makes the case overdue when missed
    /// (the other deadlines end the stage themselves: lapse, closure).
    pub fn deadline_is_staff_duty(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::InProgress | Status::UnderReview
        )
    }
}

/// Department and category codes: short identifiers chosen by admins.
pub fn parse_code(field: &str, raw: &str) -> Result<String, (String, Reason)> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if ok {
        Ok(raw.to_string())
    } else {
        Err((field.to_string(), Reason::CodeChars))
    }
}
