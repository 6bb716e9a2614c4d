//! Transitions that the HTTP tests cannot reach because the test clock's
//! sweep acts first.

use chrono::{DateTime, Duration, Utc};
use redress_domain::testing::World;
use redress_domain::*;

#[test]
fn material_after_its_deadline_is_refused_even_before_the_sweep_lapses_the_case() {
    let w = World::new();
    let mut case = w.registered_by("a@example.com");
    case.request_info(vec!["截图".into()], None, &w.ctx())
        .unwrap();
    let due = case.deadlines.supplement_due_at.unwrap();
    let late = w.ctx_at(due + Duration::seconds(1));
    assert!(matches!(
        case.supplement(Some("迟到的材料".into()), &late),
        Err(Refusal::WrongState { .. })
    ));
    let in_time = w.ctx_at(due - Duration::seconds(1));
    case.supplement(Some("材料".into()), &in_time).unwrap();
    assert_eq!(case.status, Status::Submitted);
}

#[test]
fn a_supplement_without_a_message_needs_something_sent_since_the_request() {
    let w = World::new();
    let mut case = w.registered_by("a@example.com");
    let c = w.ctx();
    // A file from before the request does not count.
    let file = |at: DateTime<Utc>, kind: ActorKind| Evidence {
        id: uuid::Uuid::now_v7().to_string(),
        sha256: "0".repeat(64),
        size: 3,
        content_type: "text/plain".into(),
        filename: "a.txt".into(),
        uploaded_by: Author {
            kind,
            name: "x".into(),
        },
        at,
        from_case: None,
        shared_with: vec![],
        thumbnail: false,
    };
    case.add_evidence(file(w.now, ActorKind::Complainant), &c)
        .unwrap();
    let later = w.later(Duration::minutes(5));
    case.request_info(vec!["截图".into()], None, &later)
        .unwrap();
    assert!(matches!(
        case.supplement(None, &later),
        Err(Refusal::Invalid(f)) if f.0.contains_key("message")
    ));
    // Nor does a staff file.
    case.add_evidence(file(later.now, ActorKind::Staff), &later)
        .unwrap();
    assert!(case.supplement(None, &later).is_err());
    // A file from the complainant does not end the stage by itself…
    case.add_evidence(file(later.now, ActorKind::Complainant), &later)
        .unwrap();
    assert_eq!(case.status, Status::NeedsInfo);
    // …the supplement does, and needs no message now.
    case.supplement(None, &later).unwrap();
    assert_eq!(case.status, Status::Submitted);
}

#[test]
fn only_a_duplicate_of_the_same_parties_can_be_merged() {
    let w = World::new();
    let c = w.ctx();
    let mut original = w.registered_by("a@example.com");
    let mut stranger = w.registered_by("b@example.com");
    assert!(
        matches!(stranger.merge_into(&mut original, &c), Err(Refusal::Invalid(f)) if f.0.contains_key("into"))
    );
    assert!(
        original.merged_from.is_empty(),
        "a refused merge changes nothing"
    );
    let mut same = w.registered_by("A@example.com");
    same.merge_into(&mut original, &c).unwrap();
    assert_eq!(same.closure, Some(Closure::Merged));
}
