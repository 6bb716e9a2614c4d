//! Why a field was refused, as a value: each reason has a machine code for
//! the API's `reasons` (SPEC §11), a Fluent message key for the pages, its
//! arguments, and an English sentence for the API's `fields`.
//!
//! Adding a reason is one row of the table below (and its message in both
//! Fluent files; a test of the web crate checks every key is there).

use std::fmt;

macro_rules! reasons {
    ($(
        $(#[$doc:meta])*
        $variant:ident $({ $($field:ident : $ty:ty),* $(,)? })? => $code:literal, $key:literal, $english:literal;
    )*) => {
        /// A refused field's reason.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Reason {
            $( $(#[$doc])* $variant $({ $($field: $ty),* })?, )*
        }

        impl Reason {
            /// Every reason's message key, for the completeness test.
            pub const KEYS: &'static [&'static str] = &[$($key),*];
            /// Every machine code, for the API document.
            pub const CODES: &'static [&'static str] = &[$($code),*];

            /// The machine-readable code (`required`, `too_long`, …).
            pub fn code(&self) -> &'static str {
                match self { $( Reason::$variant { .. } => $code, )* }
            }

            /// The Fluent message key the pages show it with.
            pub fn key(&self) -> &'static str {
                match self { $( Reason::$variant { .. } => $key, )* }
            }

            /// The message's arguments by name.
            pub fn args(&self) -> Vec<(&'static str, String)> {
                match self {
                    $( Reason::$variant $({ $($field),* })? => {
                        vec![$($( (stringify!($field), $field.to_string()) ),*)?]
                    } )*
                }
            }
        }

        impl fmt::Display for Reason {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( Reason::$variant $({ $($field),* })? => write!(f, $english), )*
                }
            }
        }
    };
}

reasons! {
    Required => "required", "err-required", "is required";
    Empty => "required", "err-required", "must not be empty";
    RequiredOrDays => "required", "err-required-or-days", "is required (or days)";
    RequiredBool => "required", "err-required-bool", "is required (true or false)";
    NoCase => "not_found", "err-no-case", "names no case";
    /// No such thing of this kind (`department`, `case`, …).
    NoSuch { what: String } => "not_found", "err-no-such", "no such {what}";
    Email => "not_an_email", "err-email", "is not an email address";
    Phone => "not_a_phone", "err-phone", "is not a phone number";
    Contact => "required", "err-contact", "give an email address, a phone number, a platform user id or a postal address";
    NotFuture => "in_future", "err-future", "must not be in the future";
    NotComplainantNotice => "not_one_of", "err-not-complainant-notice", "is not a notice to the complainant";
    BeforeFiled => "out_of_range", "err-before-filed", "must not be before the case was filed";
    InFuture => "not_in_future", "err-in-future", "must be in the future";
    Ahead => "not_in_future", "err-ahead", "must lie in the future";
    WithinYear => "out_of_range", "err-within-year", "must be within a year";
    LaterDue => "out_of_range", "err-later-due", "must be later than the current due date";
    TimeOrDate => "not_a_time", "err-date", "must be an RFC 3339 time or a YYYY-MM-DD date";
    DateOrTime => "not_a_time", "err-date", "must be a date (YYYY-MM-DD) or an RFC 3339 time";
    DateOrInstant => "not_a_time", "err-date-or-instant", "must be a date (2026-12-06) or an instant (2026-12-06T09:00:00+08:00)";
    Time => "not_a_time", "err-time", "must be an RFC 3339 time";
    BeforeTo => "out_of_range", "err-before-to", "must be before to";
    AfterFrom => "out_of_range", "err-after-from", "must come after from";
    ChooseFile => "required", "err-choose-file", "choose a file";
    FileTooLarge => "too_large", "err-file-too-large", "the file is too large";
    FormUnreadable => "invalid", "err-form-unreadable", "the form could not be read";
    FieldTooLong => "too_long", "err-field-too-long", "a field is longer than 64 KiB";
    Share => "not_one_of", "err-share", "must be complainant or respondent";
    FileEmpty => "required", "err-file-empty", "the file is empty";
    Utf8 => "invalid", "err-utf8", "must be UTF-8 text";
    IcsEmpty => "invalid", "err-ics-empty", "holds no holiday or working day";
    FileUnknown => "not_one_of", "err-file-unknown", "the file type is not recognised; send images, PDF, audio, video, office documents or plain text";
    /// Files of a type that is refused as evidence.
    FileType { mime: String } => "not_one_of", "err-file-type", "files of type {mime} are not accepted as evidence";
    Basis => "required", "err-basis", "at least one basis (rule, agreement clause or law) is required";
    ReviewOutcome => "required", "err-review-outcome", "a modified result needs the new outcome";
    ReviewUpheldOrders => "not_allowed", "err-review-upheld-orders", "only a modified result changes what was ordered";
    Items => "required", "err-items", "list every missing item (at least one)";
    DescribeMaterial => "required", "err-describe-material", "describe the material you are adding";
    DueOrDays => "conflict", "err-due-or-days", "give either due_at or days, not both";
    LinkSelf => "not_allowed", "err-link-self", "a case cannot be linked to itself";
    MergeSelf => "not_allowed", "err-merge-self", "a case cannot be merged into itself";
    OtherCase => "not_allowed", "err-other-case", "must be another case";
    MergeParties => "not_allowed", "err-merge-parties", "a duplicate must have the same complainant and respondent as its original";
    AssignIntake => "not_allowed", "err-assign-intake", "before acceptance a case can only be assigned to an intake agent";
    Handler => "not_allowed", "err-handler", "must be a handler in the case's department";
    ActionOwner => "not_allowed", "err-action-owner", "must be a staff member who can see the case (a handler of its department or a supervisor)";
    OwnerOrDue => "required", "err-owner-or-due", "give owner or due_at (or both)";
    Reviewer => "not_allowed", "err-reviewer", "must be a reviewer independent of the decision";
    NoRespondent => "required", "err-no-respondent", "the case has no respondent yet";
    RecordNoRespondent => "required", "err-record-no-respondent", "the registration record names no respondent; complete it before accepting";
    Control => "invalid_characters", "err-control", "contains control characters";
    JsonObject => "wrong_type", "err-json-object", "must be a JSON object";
    Object => "wrong_type", "err-object", "must be an object";
    NotString => "wrong_type", "err-string", "must be a string";
    List => "wrong_type", "err-list", "must be a list";
    ListOfStrings => "wrong_type", "err-list-strings", "must be a list of strings";
    Integer => "wrong_type", "err-integer", "must be an integer";
    NonNegative => "out_of_range", "err-non-negative", "must be a non-negative integer";
    Bool => "wrong_type", "err-bool", "must be true or false";
    Link => "invalid", "err-link", "must be an http(s) link";
    Locale => "not_one_of", "err-locale", "must be zh-CN or en";
    DayKind => "not_one_of", "err-day-kind", "must be holiday or workday";
    Measure => "wrong_type", "err-measure", "must be a string or an object with a kind";
    MeasureFields => "invalid", "err-measure-fields", "must have a kind, and optionally a description and an amount";
    Amount => "invalid", "err-amount", "must be an amount of at least 0 with at most two decimal places";
    Currency => "invalid", "err-currency", "must be an ISO 4217 currency code such as CNY";
    ActionObject => "wrong_type", "err-action-object", "must be an object with a description";
    CodeChars => "invalid_characters", "err-code-chars", "must be 1–64 characters of a–z, 0–9, '_', '-' or '.'";
    OneRole => "required", "err-one-role", "give at least one role";
    OneScope => "required", "err-one-scope", "give at least one scope";
    DeactivateSelf => "not_allowed", "err-deactivate-self", "you cannot deactivate yourself";
    Taken => "taken", "err-taken", "is already taken";
    /// A name already in use, saying what.
    TakenWhat { what: String } => "taken", "err-taken", "{what} is already taken";
    Cursor => "invalid", "err-cursor", "is not a cursor this server gave out";
    Idempotency => "conflict", "err-idempotency", "was already used for a different request";
    AtMost { n: usize } => "too_long", "err-at-most", "must be at most {n} characters";
    MayHaveAtMost { n: usize } => "too_long", "err-at-most", "may have at most {n} characters";
    AtLeast { n: usize } => "too_short", "err-at-least", "must have at least {n} characters";
    Length { n: usize } => "length", "err-length", "must be 1–{n} characters";
    NonEmptyAtMost { n: usize } => "length", "err-nonempty-at-most", "must be a non-empty string of at most {n} characters";
    AtMostItems { n: usize } => "too_many", "err-at-most-items", "must have at most {n} items";
    Between { a: i64, b: i64 } => "out_of_range", "err-between", "must be between {a} and {b}";
    IntRange { a: i64, b: i64 } => "out_of_range", "err-int-range", "must be an integer from {a} to {b}";
    /// Not one of the values allowed, listed comma-separated.
    OneOf { list: String } => "not_one_of", "err-one-of", "must be one of: {list}";
    WebhookEvents => "required", "err-wh-events", "give at least one event kind, or * for all";
    WebhookKind => "not_one_of", "err-wh-kind", "is not a case event kind (see GET /webhooks/events) or *";
    HttpUrl => "invalid", "err-http-url", "must be an http:// or https:// URL";
    UrlFragment => "invalid", "err-url-fragment", "must not have a #fragment";
    UrlUserinfo => "invalid", "err-url-userinfo", "must not hold a user name or password; authenticate with the signature";
    ChannelOff { channel: String } => "channel_off", "err-channel-off", "the {channel} channel is switched off";
    NoticeKind => "not_one_of", "err-notice-kind", "is not a notice kind";
    Template { what: String } => "invalid", "err-template", "the template does not work: {what}";
    OwnPassword => "not_allowed", "err-own-password", "change your own password with POST /auth/password";
    WrongPassword => "invalid", "err-wrong-password", "is not your current password";
    SamePassword => "invalid", "err-same-password", "must differ from the current password";
    HostUnresolved => "invalid", "err-host-unresolved", "names a host that does not resolve";
    FeedTooLarge { n: usize } => "too_large", "err-feed-too-large", "the feed is larger than {n} bytes";
    FeedStatus { status: u16 } => "invalid", "err-feed-status", "the server answered {status}";
    IcsOrder { start: String } => "invalid", "err-ics-order", "an event on {start} ends before it starts";
    IcsLong { start: String, n: usize } => "invalid", "err-ics-long", "an event from {start} lasts more than {n} days";
    DateRange => "not_a_time", "err-date-range", "must be a date YYYY-MM-DD between 1970 and 2200";
    YearRange => "not_a_time", "err-year-range", "must be a date or an instant in the years 1970 to 2200";
    /// A file that does not parse as iCalendar, with the parser's words.
    NotIcs { detail: String } => "invalid", "err-not-ics", "is not an iCalendar file: {detail}";
    NotPublic => "not_public", "err-not-public", "must not point to a loopback, private or link-local address (set webhook_allow_private to allow it)";
    /// A fetch that got no usable answer, in the client's words.
    Unreachable { detail: String } => "unreachable", "err-unreachable", "{detail}";
    NotMail => "invalid", "err-not-mail", "is not an e-mail message";
    NoSender => "required", "err-no-sender", "the message names no sender";
    MailEmpty => "required", "err-mail-empty", "the message has no text and no attachment";
    /// A body larger than the call takes, with the limit as people write it.
    MaxSize { size: String } => "too_large", "err-max-size", "may have at most {size}";
    DaysOrHours => "conflict", "err-days-or-hours", "give either working_days or working_hours";
    RequiredOrHours => "required", "err-required-or-hours", "is required (or working_hours)";
    Year => "out_of_range", "err-year", "must be a year from 1970 to 2200";
    FilePart => "required", "err-file-part", "is required (a multipart part named file)";
    /// A date outside a range of dates.
    DateBetween { from: String, to: String } => "out_of_range", "err-date-between", "must be between {from} and {to}";
    IcsMany { n: usize } => "too_many", "err-ics-many", "sets more than {n} days";
}

impl Reason {
    /// `must be one of: a, b, c` for a list of allowed values.
    pub fn one_of<I, S>(allowed: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: fmt::Display,
    {
        let list: Vec<String> = allowed.into_iter().map(|s| s.to_string()).collect();
        Reason::OneOf {
            list: list.join(", "),
        }
    }

    /// `no such {what}`.
    pub fn no_such(what: impl Into<String>) -> Self {
        Reason::NoSuch { what: what.into() }
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_in_english_and_carry_their_arguments() {
        let r = Reason::AtMost { n: 200 };
        assert_eq!(r.to_string(), "must be at most 200 characters");
        assert_eq!(r.code(), "too_long");
        assert_eq!(r.key(), "err-at-most");
        assert_eq!(r.args(), vec![("n", "200".to_string())]);
        assert_eq!(Reason::Required.args(), vec![]);
        assert_eq!(
            Reason::one_of(["a", "b"]).to_string(),
            "must be one of: a, b"
        );
        assert_eq!(Reason::one_of(["a", "b"]).code(), "not_one_of");
    }

    #[test]
    fn the_table_has_one_key_and_code_per_reason() {
        assert_eq!(Reason::KEYS.len(), Reason::CODES.len());
        assert!(
            Reason::CODES.iter().all(|c| {
                !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            })
        );
    }
}
