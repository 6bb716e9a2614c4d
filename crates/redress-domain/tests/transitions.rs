//! The state rules of SPEC §3, one transition at a time, without HTTP or a
//! database: each success checks the state it leads to and what it
//! journals, each refusal its kind (wrong state, wrong person, bad field)
//! and that the case did not change. A new rule of `case.rs` gets its test
//! here, with the fixtures of `redress_domain::testing`.

use chrono::Duration;
use redress_domain::testing::*;
use redress_domain::*;

#[track_caller]
fn wrong_state<T: std::fmt::Debug>(r: Result<T, Refusal>) {
    assert!(
        matches!(r, Err(Refusal::WrongState { .. })),
        "not refused for its state: {r:?}"
    );
}

#[track_caller]
fn invalid<T: std::fmt::Debug>(r: Result<T, Refusal>, fields: &[&str]) {
    match r {
        Err(Refusal::Invalid(f)) => {
            let mut got: Vec<&str> = f.0.keys().map(String::as_str).collect();
            got.sort_unstable();
            let mut wanted = fields.to_vec();
            wanted.sort_unstable();
            assert_eq!(got, wanted, "fields named");
        }
        other => panic!("not refused for its fields: {other:?}"),
    }
}

#[track_caller]
fn forbidden<T: std::fmt::Debug>(r: Result<T, Refusal>) {
    assert!(
        matches!(r, Err(Refusal::Forbidden(_))),
        "not refused for the person: {r:?}"
    );
}

#[test]
fn acceptance_routes_a_submitted_case_once() {
    let w = World::new();
    let mut case = w.registered();
    assert_eq!(case.status, Status::Submitted);
    let effects = accept(&mut case, &w.ctx()).unwrap();
    assert_eq!(case.status, Status::InProgress);
    assert_eq!(case.category.as_deref(), Some("refunds-returns"));
    assert_eq!(case.department.as_deref(), Some("customer-service"));
    assert_eq!(case.accepted_at, Some(w.now));
    assert!(case.deadlines.handling_due_at.is_some_and(|d| d > w.now));
    assert_eq!(event_kinds(&effects), ["accepted"]);
    let notices: Vec<(Party, NoticeKind)> =
        effects.notices.iter().map(|n| (n.party, n.kind)).collect();
    assert_eq!(
        notices,
        [
            (Party::Complainant, NoticeKind::Acceptance),
            (Party::Respondent, NoticeKind::NewComplaint)
        ]
    );

    let before = case.clone();
    wrong_state(accept(&mut case, &w.later(Duration::hours(1))));
    assert_eq!(case, before, "a refused transition changes nothing");
}

#[test]
fn a_refusal_needs_a_reason_and_guidance_and_closes_the_case() {
    let w = World::new();
    let mut case = w.registered();
    invalid(case.reject("", "  ", &w.ctx()), &["guidance", "reason"]);
    invalid(case.reject("不属于受理范围", "", &w.ctx()), &["guidance"]);
    assert_eq!(case.status, Status::Submitted);
    assert!(case.rejection.is_none());

    let effects = case
        .reject("不属于受理范围", "请拨打12315", &w.ctx())
        .unwrap();
    assert_eq!(
        (case.status, case.closure),
        (Status::Closed, Some(Closure::Rejected))
    );
    assert_eq!(event_kinds(&effects), ["rejected"]);
    wrong_state(case.reject("again", "again", &w.ctx()));
    // Nor is an accepted case refused.
    let mut accepted = w.accepted();
    wrong_state(accepted.reject("r", "g", &w.ctx()));
}

#[test]
fn material_is_requested_once_and_the_supplement_returns_the_case_to_intake() {
    let w = World::new();
    let mut case = w.registered();
    invalid(case.request_info(vec![], None, &w.ctx()), &["items"]);
    assert_eq!(case.status, Status::Submitted);

    let effects = case
        .request_info(vec!["订单截图".into()], None, &w.ctx())
        .unwrap();
    assert_eq!(case.status, Status::NeedsInfo);
    assert!(case.deadlines.supplement_due_at.is_some());
    assert_eq!(event_kinds(&effects), ["info_requested"]);
    // No acceptance while waiting for material.
    wrong_state(accept(&mut case, &w.ctx()));

    let later = w.later(Duration::hours(1));
    case.supplement(Some("截图已上传".into()), &later).unwrap();
    assert_eq!(case.status, Status::Submitted);
    wrong_state(case.request_info(vec!["发票".into()], None, &later));
    // Only a submitted case is asked for material.
    let mut accepted = w.accepted();
    wrong_state(accepted.request_info(vec!["x".into()], None, &w.ctx()));
}

#[test]
fn a_decision_needs_a_case_in_progress_a_basis_and_a_reply() {
    let w = World::new();
    let mut submitted = w.registered();
    wrong_state(decide(&mut submitted, &handler(), &w.ctx()));

    let mut case = w.accepted();
    let bad = case.decide(
        Outcome::Upheld,
        vec![],
        " ",
        vec![],
        vec![],
        vec![],
        &handler(),
        15,
        &w.ctx(),
    );
    invalid(bad, &["basis", "reply"]);
    assert_eq!(case.status, Status::InProgress);
    assert!(case.decision.is_none());

    let effects = decide(&mut case, &handler(), &w.ctx()).unwrap();
    assert_eq!(case.status, Status::Resolved);
    let decision = case.decision.as_ref().unwrap();
    assert_eq!(decision.decided_by, "handler1");
    assert_eq!(decision.decider_level, 1);
    assert!(case.deadlines.appeal_due_at.is_some_and(|d| d > w.now));
    assert!(event_kinds(&effects).contains(&"decided"));
    wrong_state(decide(&mut case, &handler(), &w.ctx()));
}

#[test]
fn one_appeal_after_a_decision_within_the_window() {
    let w = World::new();
    let mut accepted = w.accepted();
    wrong_state(accepted.appeal("太慢", &w.ctx()));

    let mut case = w.decided();
    invalid(case.appeal("  ", &w.ctx()), &["reason"]);
    assert_eq!(case.status, Status::Resolved);
    let effects = case.appeal("金额不对", &w.ctx()).unwrap();
    assert_eq!(case.status, Status::UnderReview);
    assert_eq!(case.appeal.as_ref().unwrap().reason, "金额不对");
    assert_eq!(event_kinds(&effects), ["appealed"]);
    wrong_state(case.appeal("再申诉", &w.ctx()));

    // At the end of the window, too late.
    let mut late = w.decided();
    let due = late.deadlines.appeal_due_at.unwrap();
    wrong_state(late.appeal("晚了", &w.ctx_at(due)));
    late.appeal("还来得及", &w.ctx_at(due - Duration::seconds(1)))
        .unwrap();
}

#[test]
fn the_reviewer_is_never_the_decider_and_ranks_above_or_is_independent() {
    let w = World::new();
    let case = w.appealed();
    // The decider, even as a reviewer of a higher level.
    let mut decider = handler();
    decider.roles.push(Role::Reviewer);
    decider.level = 9;
    forbidden(case.check_reviewer(&decider));
    // Not a reviewer; the decider's level; below it.
    forbidden(case.check_reviewer(&handler_named("handler2")));
    forbidden(case.check_reviewer(&reviewer("peer", 1)));
    forbidden(case.check_reviewer(&reviewer("junior", 0)));
    // A higher level, or an independent department at any level.
    case.check_reviewer(&reviewer("senior", 2)).unwrap();
    let mut panel = reviewer("panel", 1);
    panel.independent = true;
    case.check_reviewer(&panel).unwrap();
    // Nothing to review before a decision.
    wrong_state(w.accepted().check_reviewer(&reviewer("senior", 2)));
}

fn handler_named(username: &str) -> StaffRef {
    staff(username, &[Role::Handler], &["customer-service"], 5)
}

#[test]
fn the_complainant_withdraws_before_a_result_only() {
    let w = World::new();
    for mut case in [w.registered(), w.accepted()] {
        let effects = case.withdraw(Some("已和解"), &w.ctx()).unwrap();
        assert_eq!(
            (case.status, case.closure),
            (Status::Closed, Some(Closure::Withdrawn))
        );
        assert_eq!(event_kinds(&effects), ["withdrawn"]);
        wrong_state(case.withdraw(None, &w.ctx()));
    }
    let mut decided = w.decided();
    wrong_state(decided.withdraw(None, &w.ctx()));
    assert_eq!(decided.status, Status::Resolved);
}
