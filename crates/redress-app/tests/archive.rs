//! The case archive of SPEC §8: built from a hand-made case, read back with
//! the `zip` crate.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};

use chrono::{DateTime, Duration, Utc};
use redress_app::archive::{ArchiveError, ArchiveInput, build_archive};
use redress_domain::{
    ActionInput, Actor, ActorKind, Audience, Author, Calendar, Case, Channel, Complainant, Ctx,
    DeadlinePolicy, Delivery, DeliveryChannel, DeliveryStatus, Effects, Evidence, Locale, Measure,
    NoteKind, Outcome, Registration, RegistrationInput, Respondent, RespondentKind, Role, StaffRef,
};
use redress_store::JournalEntry;
use redress_store::journal::{GENESIS, chain_hash};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const TRACKING: &str = "RD261128-7K3F9Q";
const FEEDBACK_MARKER: &str = "SATISFACTION-COMMENT-7731";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn t0() -> DateTime<Utc> {
    "2026-11-23T02:00:00Z".parse().unwrap()
}

/// Appends a transition's events to the journal and its notices to the
/// case's deliveries, the way the application layer does.
struct Journal {
    entries: Vec<JournalEntry>,
}

impl Journal {
    fn record(&mut self, case: &mut Case, ctx: &Ctx, effects: Effects) {
        for e in effects.events {
            let seq = self.entries.len() as i64 + 1;
            let prev = self
                .entries
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or_else(|| GENESIS.to_string());
            let new = redress_store::NewEvent {
                case_id: Some(case.id),
                kind: e.kind().to_string(),
                actor: format!("{:?}:{}", ctx.actor.kind, ctx.actor.id).to_lowercase(),
                at: ctx.now,
                data: e.data().to_string(),
            };
            let hash = chain_hash(&prev, seq, &new);
            self.entries.push(JournalEntry {
                seq,
                case_id: new.case_id,
                kind: new.kind,
                actor: new.actor,
                at: new.at,
                data: new.data,
                prev_hash: prev,
                hash,
            });
        }
        for n in effects.notices {
            case.record_delivery(Delivery {
                id: Uuid::now_v7().to_string(),
                party: n.party,
                notice: n.kind,
                channel: DeliveryChannel::Email,
                status: DeliveryStatus::Sent,
                created_at: ctx.now,
                sent_at: Some(ctx.now),
                recipient: "zhang@example.com".into(),
                provider_id: Some("msg-1".into()),
                attempts: 1,
                next_attempt_at: None,
                last_error: None,
            });
        }
    }
}

struct Fixture {
    case: Case,
    events: Vec<JournalEntry>,
    files: HashMap<String, Vec<u8>>,
}

fn fixture() -> Fixture {
    let calendar = Calendar::china();
    let policy = DeadlinePolicy::default();
    let ctx = |minutes: i64, actor: Actor| Ctx {
        now: t0() + Duration::minutes(minutes),
        calendar: &calendar,
        policy: &policy,
        actor,
    };
    let mut journal = Journal { entries: vec![] };

    let input = RegistrationInput {
        record: Registration {
            complainant: Complainant {
                name: "张三".into(),
                user_id: Some("u-1001".into()),
                email: Some("zhang@example.com".into()),
                phone: Some("13812345678".into()),
                postal_address: None,
            },
            respondent: Some(Respondent {
                kind: RespondentKind::Merchant,
                id: "m-42".into(),
                name: Some("好店 & Co".into()),
            }),
            subject: "退款被拒绝".into(),
            description: "商家拒绝退款 <script>alert('x')</script> 请处理".into(),
            demands: Some("全额退款".into()),
            occurred_at: Some(t0() - Duration::days(3)),
            links: vec!["https://example.com/order/1".into()],
            order_numbers: vec!["ORD-1".into()],
        },
        channel: Some(Channel::Web),
        locale: Locale::ZhCn,
        call_reference: None,
    };
    let c = ctx(0, Actor::system("web"));
    let (mut case, effects) = Case::register(
        Uuid::now_v7(),
        TRACKING.into(),
        input,
        Channel::Web,
        vec![],
        &c,
    );
    journal.record(&mut case, &c, effects);

    let c = ctx(60, Actor::staff("alice"));
    let effects = case
        .accept("refund", "trade", Default::default(), &c)
        .unwrap();
    journal.record(&mut case, &c, effects);

    let c = ctx(70, Actor::staff("alice"));
    let effects = case
        .add_message(
            Audience::Complainant,
            ActorKind::Staff,
            "请提供付款截图。",
            &c,
        )
        .unwrap();
    journal.record(&mut case, &c, effects);
    let effects = case
        .add_message(
            Audience::Respondent,
            ActorKind::Staff,
            "请说明拒绝退款的理由。",
            &c,
        )
        .unwrap();
    journal.record(&mut case, &c, effects);
    let effects = case
        .add_message(
            Audience::Internal,
            ActorKind::Staff,
            "商家 <b>屡次</b> 被投诉",
            &c,
        )
        .unwrap();
    journal.record(&mut case, &c, effects);
    let effects = case
        .add_note(NoteKind::Investigation, "已调取订单记录。", &c)
        .unwrap();
    journal.record(&mut case, &c, effects);

    // Two uploads of the same screenshot and one PDF.
    let png = b"\x89PNG\r\n\x1a\nscreenshot bytes".to_vec();
    let pdf = b"%PDF-1.4 receipt bytes".to_vec();
    let mut files = HashMap::new();
    for (i, (bytes, name, ty)) in [
        (&png, "../../etc/passwd.png", "image/png"),
        (&png, "付款截图.png", "image/png"),
        (&pdf, "receipt.pdf", "application/pdf"),
    ]
    .into_iter()
    .enumerate()
    {
        let c = ctx(80 + i as i64, Actor::system("web"));
        let evidence = Evidence {
            id: format!("ev-{i}"),
            sha256: sha(bytes),
            size: bytes.len() as u64,
            content_type: ty.into(),
            filename: name.into(),
            uploaded_by: Author {
                kind: ActorKind::Complainant,
                name: "张三".into(),
            },
            at: c.now,
            from_case: None,
            shared_with: vec![],
            thumbnail: false,
        };
        let effects = case.add_evidence(evidence, &c).unwrap();
        journal.record(&mut case, &c, effects);
        files.insert(sha(bytes), bytes.clone());
    }

    let decider = StaffRef {
        username: "bob".into(),
        level: 2,
        departments: vec!["trade".into()],
        independent: false,
        roles: vec![Role::Handler],
    };
    let c = ctx(24 * 60, Actor::staff("bob"));
    let effects = case
        .decide(
            Outcome::Upheld,
            vec!["《平台服务协议》第 5.2 条".into()],
            "商家应全额退款。",
            vec![Measure {
                kind: "refund".into(),
                description: Some("全额退款".into()),
                amount: Some(199.0),
                currency: None,
                duration_days: None,
            }],
            vec![Measure {
                kind: "warning".into(),
                description: None,
                amount: None,
                currency: None,
                duration_days: None,
            }],
            vec![ActionInput {
                description: "修订退款规则说明".into(),
                owner: Some("carol".into()),
                due_at: None,
            }],
            &decider,
            10,
            &c,
        )
        .unwrap();
    journal.record(&mut case, &c, effects);

    // The satisfaction rating: kept beside the sealed file, not in it.
    let c = ctx(25 * 60, Actor::system("web"));
    let effects = case.rate(4, Some(FEEDBACK_MARKER), &c).unwrap();
    journal.record(&mut case, &c, effects);
    assert!(case.feedback.is_some());
    assert!(journal.entries.iter().any(|e| e.kind == "feedback"));

    Fixture {
        case,
        events: journal.entries,
        files,
    }
}

fn build(f: &Fixture) -> Result<Vec<u8>, ArchiveError> {
    let input = ArchiveInput {
        case: &f.case,
        events: &f.events,
        key: None,
        generated_at: "2026-11-30T08:00:00Z".parse().unwrap(),
        time_zone: chrono_tz::Asia::Shanghai,
    };
    let read = |hash: &str| {
        f.files
            .get(hash)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    };
    build_archive(&input, &read)
}

/// The archive's entries, in ZIP order, with their bytes.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a valid zip");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            assert_eq!(
                f.compression(),
                zip::CompressionMethod::Deflated,
                "{}",
                f.name()
            );
            let mut out = Vec::new();
            f.read_to_end(&mut out).unwrap();
            (f.name().to_string(), out)
        })
        .collect()
}

fn json(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    let bytes = files
        .get(&format!("{TRACKING}/{name}"))
        .unwrap_or_else(|| panic!("{name} missing"));
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn archive_holds_every_part_under_the_tracking_number() {
    let f = fixture();
    let entries = unzip(&build(&f).unwrap());
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    for n in &names {
        assert!(n.starts_with(&format!("{TRACKING}/")), "{n}");
    }
    let png = sha(b"\x89PNG\r\n\x1a\nscreenshot bytes");
    let pdf = sha(b"%PDF-1.4 receipt bytes");
    for expected in [
        "record.json",
        "events.json",
        "messages.json",
        "notes.json",
        "decision.json",
        "review.json",
        "deliveries.json",
        "evidence.json",
        "case-file.html",
        &format!("evidence/{png}"),
        &format!("evidence/{pdf}"),
        "manifest.sha256",
        "manifest.json",
    ] {
        let full = format!("{TRACKING}/{expected}");
        assert!(
            names.contains(&full.as_str()),
            "{full} missing from {names:?}"
        );
    }
    // Evidence deduplicated by hash; names from users never become paths.
    assert_eq!(names.iter().filter(|n| n.contains("/evidence/")).count(), 2);
    assert!(
        !names
            .iter()
            .any(|n| n.contains("..") || n.contains("passwd") || n.contains(".png"))
    );
    assert_eq!(
        names.last(),
        Some(&format!("{TRACKING}/manifest.json").as_str())
    );

    let files: BTreeMap<String, Vec<u8>> = entries.into_iter().collect();
    let record = json(&files, "record.json");
    assert_eq!(record["tracking_no"], TRACKING);
    assert_eq!(record["status"], "resolved");
    assert_eq!(record["channel"], "web");
    assert_eq!(record["department"], "trade");
    assert_eq!(
        record["record"]["complainant"]["email"],
        "zhang@example.com"
    );
    assert!(record["deadlines"]["appeal_due_at"].is_string());

    let events = json(&files, "events.json");
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), f.events.len() - 1, "all but the rating");
    assert_eq!(events[0]["kind"], "registered");
    assert!(events[0]["data"].is_object(), "data is embedded as JSON");
    assert_eq!(events[0]["hash"], f.events[0].hash);
    assert_eq!(events[1]["prev_hash"], f.events[0].hash);
    // Each archived entry can be checked against its hash.
    for e in events {
        let new = redress_store::NewEvent {
            case_id: Some(e["case_id"].as_str().unwrap().parse().unwrap()),
            kind: e["kind"].as_str().unwrap().into(),
            actor: e["actor"].as_str().unwrap().into(),
            at: e["at"].as_str().unwrap().parse().unwrap(),
            data: e["data"].to_string(),
        };
        let seq = e["seq"].as_i64().unwrap();
        assert_eq!(
            chain_hash(e["prev_hash"].as_str().unwrap(), seq, &new),
            e["hash"],
            "event {seq}"
        );
    }

    assert_eq!(json(&files, "messages.json").as_array().unwrap().len(), 3);
    assert_eq!(json(&files, "notes.json").as_array().unwrap().len(), 1);
    let decision = json(&files, "decision.json");
    assert_eq!(decision["outcome"], "upheld");
    assert_eq!(decision["actions"][0]["owner"], "carol");
    let review = json(&files, "review.json");
    assert!(review["appeal"].is_null() && review["review"].is_null());
    assert_eq!(
        json(&files, "deliveries.json").as_array().unwrap().len(),
        f.case.deliveries.len()
    );
    let evidence = json(&files, "evidence.json");
    assert_eq!(evidence.as_array().unwrap().len(), 3);
    assert_eq!(evidence[0]["filename"], "../../etc/passwd.png");
    assert_eq!(evidence[0]["path"], format!("evidence/{png}"));
}

#[test]
fn manifest_hashes_match_the_bytes() {
    let f = fixture();
    let files: BTreeMap<String, Vec<u8>> = unzip(&build(&f).unwrap()).into_iter().collect();
    let manifest = json(&files, "manifest.json");
    assert_eq!(manifest["tracking_no"], TRACKING);
    assert_eq!(manifest["generated_at"], "2026-11-30T08:00:00Z");
    let listed = manifest["files"].as_array().unwrap();
    // Every other file of the ZIP is listed, each exactly once.
    assert_eq!(listed.len(), files.len() - 1);
    for item in listed {
        let path = item["path"].as_str().unwrap();
        let bytes = files
            .get(&format!("{TRACKING}/{path}"))
            .unwrap_or_else(|| panic!("{path} listed but missing"));
        assert_eq!(item["sha256"], sha(bytes), "{path}");
        assert_eq!(item["size"], bytes.len() as u64, "{path}");
    }

    // manifest.sha256 is in `sha256sum` format, paths relative to the top folder.
    let sums = String::from_utf8(files[&format!("{TRACKING}/manifest.sha256")].clone()).unwrap();
    let mut checked = 0;
    for line in sums.lines() {
        let (hash, path) = line.split_once("  ").expect("`<hex>  <path>`");
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, sha(&files[&format!("{TRACKING}/{path}")]), "{path}");
        checked += 1;
    }
    // Everything but the two manifests.
    assert_eq!(checked, files.len() - 2);
}

#[test]
fn evidence_bytes_are_archived_unchanged() {
    let f = fixture();
    let files: BTreeMap<String, Vec<u8>> = unzip(&build(&f).unwrap()).into_iter().collect();
    for (hash, bytes) in &f.files {
        assert_eq!(&files[&format!("{TRACKING}/evidence/{hash}")], bytes);
    }
}

#[test]
fn case_file_is_readable_html_with_user_text_escaped() {
    let f = fixture();
    let files: BTreeMap<String, Vec<u8>> = unzip(&build(&f).unwrap()).into_iter().collect();
    let html = String::from_utf8(files[&format!("{TRACKING}/case-file.html")].clone()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("投诉案卷"));
    assert!(html.contains("Case file"));
    assert!(html.contains(TRACKING));
    // User text is escaped, never markup.
    assert!(!html.contains("<script>"), "description must be escaped");
    let escaped = |raw: &str| {
        [
            raw.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
            raw.replace('&', "&#38;")
                .replace('<', "&#60;")
                .replace('>', "&#62;"),
        ]
    };
    let has_escaped = |raw: &str| escaped(raw).iter().any(|e| html.contains(e.as_str()));
    assert!(
        has_escaped("<script>alert("),
        "the description appears as text"
    );
    assert!(!html.contains("<b>屡次</b>"));
    assert!(has_escaped("商家 <b>屡次</b> 被投诉"));
    assert!(has_escaped("好店 & Co"));
    // The parts a reader needs.
    for needle in [
        "商家拒绝退款",
        "zhang@example.com",
        "13812345678",
        "请提供付款截图。",
        "请说明拒绝退款的理由。",
        "已调取订单记录。",
        "《平台服务协议》第 5.2 条",
        "商家应全额退款。",
        "修订退款规则说明",
        "付款截图.png",
        "receipt.pdf",
        &sha(b"%PDF-1.4 receipt bytes"),
        "registered",
        "decided",
        "投诉成立 Upheld",
        "Asia/Shanghai",
        "2026-11-23 10:00:00 CST",
    ] {
        assert!(html.contains(needle), "{needle} missing from the case file");
    }
}

#[test]
fn satisfaction_rating_stays_out() {
    let f = fixture();
    for (name, bytes) in unzip(&build(&f).unwrap()) {
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        assert!(!text.contains("feedback"), "{name} mentions feedback");
        assert!(
            !text.contains(&FEEDBACK_MARKER.to_lowercase()),
            "{name} holds the rating comment"
        );
    }
}

#[test]
fn same_input_gives_same_bytes() {
    let f = fixture();
    assert_eq!(build(&f).unwrap(), build(&f).unwrap());
}

#[test]
fn missing_evidence_is_an_error() {
    let mut f = fixture();
    let pdf = sha(b"%PDF-1.4 receipt bytes");
    f.files.remove(&pdf);
    match build(&f) {
        Err(ArchiveError::MissingEvidence(hash)) => assert_eq!(hash, pdf),
        other => panic!("expected MissingEvidence, got {:?}", other.map(|b| b.len())),
    }
}

#[test]
fn evidence_that_no_longer_matches_its_hash_is_refused() {
    let mut f = fixture();
    let pdf = sha(b"%PDF-1.4 receipt bytes");
    f.files.insert(pdf.clone(), b"tampered".to_vec());
    assert!(matches!(build(&f), Err(ArchiveError::MissingEvidence(h)) if h == pdf));
}

#[test]
fn other_storage_errors_pass_through() {
    let f = fixture();
    let input = ArchiveInput {
        case: &f.case,
        events: &f.events,
        key: None,
        generated_at: Utc::now(),
        time_zone: chrono_tz::Asia::Shanghai,
    };
    let read = |_: &str| -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "denied",
        ))
    };
    assert!(matches!(
        build_archive(&input, &read),
        Err(ArchiveError::Io(_))
    ));
}

#[test]
fn a_case_without_decision_or_evidence_still_archives() {
    let mut f = fixture();
    f.case.decision = None;
    f.case.evidence.clear();
    f.case.feedback = None;
    let files: BTreeMap<String, Vec<u8>> = unzip(&build(&f).unwrap()).into_iter().collect();
    assert!(json(&files, "decision.json").is_null());
    assert!(!files.keys().any(|k| k.contains("/evidence/")));
    let html = String::from_utf8(files[&format!("{TRACKING}/case-file.html")].clone()).unwrap();
    assert!(html.contains("No decision"));
}
