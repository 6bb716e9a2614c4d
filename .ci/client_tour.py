"""The README's "short tour with curl", through a client generated from the
API document (openapi-python-client; `.ci/client-tour.sh` generates it as
the package `redress_client` and runs this file).

Every call goes through the generated client's typed functions and models:
no hand-written URL, no raw HTTP. Each step checks the status and the
fields the README shows, and prints them.

Usage: client_tour.py BASE_URL ADMIN_PASSWORD
"""

import sys
from datetime import datetime

from redress_client import AuthenticatedClient, Client
from redress_client.api.admin import create_category, create_department, create_user
from redress_client.api.auth import login
from redress_client.api.complainant import track_appeal, track_complaint
from redress_client.api.complaints import (
    accept_complaint,
    decide_complaint,
    file_complaint,
    review_appeal,
)
from redress_client.models import (
    AcceptBody,
    Case,
    CategoryBody,
    CategoryItem,
    ClosureName,
    ComplainantBody,
    ComplaintBody,
    DecideBody,
    DepartmentBody,
    DepartmentView,
    ErrorBody,
    LoginBody,
    MeasureBody,
    OutcomeName,
    ReasonBody,
    Registered,
    RespondentRef,
    ReviewBody,
    ReviewResultName,
    StatusName,
    TokenAnswer,
    TrackedCase,
    UserBody,
    UserView,
)

BASE, ADMIN_PASSWORD = sys.argv[1], sys.argv[2]
steps = 0


def step(name, response, status, model):
    """Checks one answer: its status and that it parsed as the documented
    model; prints the step and hands back the model."""
    global steps
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, model):
        detail = parsed.error.message if isinstance(parsed, ErrorBody) else response.content[:500]
        print(f"client tour: FAILED {name}: {int(response.status_code)} (wanted {status} {model.__name__}): {detail}")
        sys.exit(1)
    steps += 1
    print(f"client tour: {name}: {int(response.status_code)} {model.__name__}")
    return parsed


def check(what, got, wanted):
    if got != wanted:
        print(f"client tour: FAILED {what}: {got!r}, wanted {wanted!r}")
        sys.exit(1)
    print(f"client tour:   {what} = {got!r}")


public = Client(base_url=BASE, raise_on_unexpected_status=True)


def token(username, password):
    answer = step(f"login {username}", login.sync_detailed(client=public, body=LoginBody(username=username, password=password)), 200, TokenAnswer)
    return AuthenticatedClient(base_url=BASE, token=answer.token, raise_on_unexpected_status=True)


# Start with a known admin password.
admin = token("admin", ADMIN_PASSWORD)

# A department, an intake agent, a handler and a reviewer (a higher level
# than the handler).
dep = step(
    "create department",
    create_department.sync_detailed(client=admin, body=DepartmentBody(code="refunds", name="退款组 Refunds")),
    201,
    DepartmentView,
)
check("department.code", dep.code, "refunds")
cat = step(
    "create category",
    create_category.sync_detailed(
        client=admin,
        body=CategoryBody(code="refund-denied", name="拒绝退款", department="refunds", handling_days=10),
    ),
    201,
    CategoryItem,
)
check("category.department", cat.department, "refunds")
check("category.handling_days", cat.handling_days, 10)
for name, role, departments, level in [
    ("alice", "intake", [], 1),
    ("bob", "handler", ["refunds"], 1),
    ("carol", "reviewer", ["refunds"], 3),
]:
    user = step(
        f"create user {name}",
        create_user.sync_detailed(
            client=admin,
            body=UserBody(
                username=name,
                password=f"password-{name}",
                display_name=name,
                roles=[role],
                departments=departments,
                level=level,
            ),
        ),
        201,
        UserView,
    )
    check(f"{name}.roles", user.roles, [role])
    check(f"{name}.level", user.level, level)
alice, bob, carol = (token(u, f"password-{u}") for u in ("alice", "bob", "carol"))

# A complainant files (no account needed) and keeps the tracking number and
# access token.
filed = step(
    "file complaint",
    file_complaint.sync_detailed(
        client=public,
        body=ComplaintBody(
            complainant=ComplainantBody(name="张三", email="zhang@example.com"),
            respondent=RespondentRef(kind="merchant", id="shop-42", name="好店"),
            subject="申请退款被拒绝",
            description="订单已取消，商家拒绝退款。",
            demands="全额退款",
        ),
    ),
    201,
    Registered,
)
check("registered.status", filed.status, StatusName.SUBMITTED)
case_id, tracking_no = filed.id, filed.tracking_no
print(f"client tour:   tracking_no = {tracking_no}")
complainant = AuthenticatedClient(base_url=BASE, token=filed.access_token, raise_on_unexpected_status=True)

# Intake accepts (routing by category), the handler decides with a basis.
case = step(
    "accept",
    accept_complaint.sync_detailed(case_id, client=alice, body=AcceptBody(category="refund-denied")),
    200,
    Case,
)
check("status", case.status, StatusName.IN_PROGRESS)
check("department", case.department, "refunds")
check("handling_due_at is a time", isinstance(case.handling_due_at, datetime), True)
check("respondent_reply_due_at is a time", isinstance(case.respondent_reply_due_at, datetime), True)
case = step(
    "decide",
    decide_complaint.sync_detailed(
        case_id,
        client=bob,
        body=DecideBody(
            outcome=OutcomeName.UPHELD,
            basis=["平台服务协议 第5.2条"],
            reply="商家将全额退款。",
            remedies=[MeasureBody(kind="refund", amount=199)],
            sanctions=[MeasureBody(kind="warning")],
        ),
    ),
    200,
    Case,
)
check("status", case.status, StatusName.RESOLVED)
check("decision.sanctions[0].kind", case.decision.sanctions[0].kind, "warning")
check("appeal_due_at is a time", isinstance(case.appeal_due_at, datetime), True)

# The complainant reads the result and appeals once; the reviewer decides,
# finally.
tracked = step("track", track_complaint.sync_detailed(tracking_no, client=complainant), 200, TrackedCase)
check("decision.outcome", tracked.decision.outcome, OutcomeName.UPHELD)
check("decision.basis", tracked.decision.basis, ["平台服务协议 第5.2条"])
check("decision.reply", tracked.decision.reply, "商家将全额退款。")
check("decision.remedies[0]", (tracked.decision.remedies[0].kind, tracked.decision.remedies[0].amount), ("refund", 199))
check("actions.appeal", tracked.actions.appeal, True)
check("actions.feedback", tracked.actions.feedback, True)
tracked = step(
    "appeal",
    track_appeal.sync_detailed(tracking_no, client=complainant, body=ReasonBody(reason="金额不对")),
    200,
    TrackedCase,
)
check("status", tracked.status, StatusName.UNDER_REVIEW)
check("appeal.reason", tracked.appeal.reason, "金额不对")
case = step(
    "review",
    review_appeal.sync_detailed(
        case_id,
        client=carol,
        body=ReviewBody(result=ReviewResultName.UPHELD, basis=["平台服务协议 第5.2条"], reply="维持原结果。"),
    ),
    200,
    Case,
)
check("status", case.status, StatusName.CLOSED)
check("closure", case.closure, ClosureName.REVIEWED)
check("review.reviewed_by", case.review.reviewed_by, "carol")

tracked = step("track after review", track_complaint.sync_detailed(tracking_no, client=complainant), 200, TrackedCase)
check("status", tracked.status, StatusName.CLOSED)
check("closure", tracked.closure, ClosureName.REVIEWED)
check("review.result", tracked.review.result, ReviewResultName.UPHELD)
print(f"client tour: all {steps} steps as the README shows them")
