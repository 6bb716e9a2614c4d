"""Schemathesis hooks for .ci/schemathesis.sh (loaded via SCHEMATHESIS_HOOKS).

`positive_data_acceptance` (ST202) fails when the server refuses a request
that the document says is valid. Some refusals are right although the
request passes the document, because the rule relates a field to another
field, to the clock, or to what the server holds, and JSON Schema cannot
state it (docs/security.md, "Schema-driven fuzzing"). This check runs the
built-in one and lets a 422 pass only when every field it names, with its
reason code (`error.reasons`), is in UNSTATABLE for that operation; any
other refusal of valid data (a reason the document could state: an empty
value, a type, a format, a length, a word outside an enum) still fails.
"""

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

# The operations that read an opaque cursor: a string this server did not
# give out (or gave out for another order) is refused.
CURSOR = [
    "GET /api/v1/complaints",
    "GET /api/v1/mail/held",
    "GET /api/v1/respondent/complaints",
    "GET /api/v1/webhooks/{id}/calls",
]
# Reports over a period: `from` must not come after `to`, and the period
# has a longest length (20 years; 366 days for alerts).
PERIOD = [
    "GET /api/v1/alerts",
    "GET /api/v1/public/stats",
    "GET /api/v1/reports/respondents",
    "GET /api/v1/reports/summary",
    "GET /api/v1/reports/summary.csv",
]

# (operation, field, reason code) -> why the document cannot say it.
UNSTATABLE = {
    **{(op, "cursor", "invalid"): "an opaque cursor the server did not give out" for op in CURSOR},
    **{(op, "from", "out_of_range"): "from after to, or a period longer than the longest" for op in PERIOD},
    ("GET /api/v1/complaints", "to", "out_of_range"): "to must come after from",
    ("GET /api/v1/exports/cases.csv", "to", "out_of_range"): "to must come after from",
    **{
        (op, field, "not_found"): "a department or category code that does not exist"
        for op in ("GET /api/v1/reports/summary", "GET /api/v1/reports/summary.csv")
        for field in ("department", "category")
    },
    **{
        (f"POST /api/v1/complaints/{{id}}/{action}", field, "not_found"): "names a category, department, user or case that does not exist"
        for action, field in (
            ("accept", "category"),
            ("accept", "department"),
            ("assign", "handler"),
            ("links", "other"),
            ("merge", "into"),
        )
    },
    ("POST /api/v1/complaints/{id}/extend", "due_at", "required"): "either due_at or days",
    ("POST /api/v1/complaints/{id}/extend", "days", "conflict"): "either due_at or days, not both",
    ("GET /api/v1/calendar/due", "working_hours", "conflict"): "working_days and working_hours exclude each other",
    ("POST /api/v1/admin/api-keys", "expires_at", "not_in_future"): "must be in the future (the clock)",
    ("POST /api/v1/webhooks", "url", "not_public"): "the host resolves to a loopback, private or link-local address",
    ("POST /api/v1/complaints/{id}/deliveries", "sent_at", "out_of_range"): "must not be before the case was filed (what the server holds)",
    ("POST /api/v1/complaints/{id}/deliveries", "sent_at", "in_future"): "must not be in the future (the clock)",
    ("POST /api/v1/complaints/{id}/evidence", "file", "not_one_of"): "the file's type is sniffed from its bytes",
    ("POST /api/v1/complaints/{id}/actions/{action_id}/complete", "action_id", "not_found"): "a corrective action the case does not have",
}
# Reason codes some of whose sentences the document can state: allowed only
# with this sentence (`error.fields`).
UNSTATABLE_SENTENCES = {
    ("POST /api/v1/webhooks", "url", "invalid"): "names a host that does not resolve",
    ("GET /api/v1/calendar/due", "working_days", "required"): "is required (or working_hours)",
}


def _error(response):
    """The `error` object of an error answer, or an empty dict."""
    try:
        body = response.json()
    except Exception:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


@schemathesis.check
def positive_data_acceptance_stated(ctx, response, case):
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code != 422:
            raise
        body = _error(response)
        label = case.operation.label
        reasons, fields = body.get("reasons"), body.get("fields")
        if not isinstance(reasons, dict) or not reasons or not isinstance(fields, dict):
            raise

        def unstatable(field, code):
            key = (label, field, code)
            return key in UNSTATABLE or (
                key in UNSTATABLE_SENTENCES and fields.get(field) == UNSTATABLE_SENTENCES[key]
            )

        if all(unstatable(field, code) for field, code in reasons.items()):
            return None
        raise
