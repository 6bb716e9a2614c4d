//! Departments, categories, people, keys and the calendar.

use std::sync::Arc;

use chrono::NaiveDate;
use redress_domain::calendar::{DayException, DayKind};
use redress_domain::{Locale, RespondentKind, Role, Scope};
use redress_store::{
    ApiKey, CannedReply, Category, Department, RespondentAccount, Session, Store, StoreError, User,
};
use uuid::Uuid;

use crate::harness::{event, t};

fn dept(code: &str) -> Department {
    Department {
        code: code.into(),
        name: format!("Dept {code}"),
        name_en: None,
        review: code == "review",
        head: Some("alice".into()),
    }
}

pub async fn departments_and_categories(s: Arc<dyn Store>) {
    s.insert_department(dept("ops"), event(None, "department_created"))
        .await
        .unwrap();
    s.insert_department(dept("review"), event(None, "department_created"))
        .await
        .unwrap();
    let err = s
        .insert_department(dept("ops"), event(None, "department_created"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate("code")), "{err:?}");
    assert_eq!(
        s.list_departments().await.unwrap(),
        vec![dept("ops"), dept("review")]
    );

    let cat = Category {
        code: "delivery".into(),
        name: "快递".into(),
        name_en: Some("Delivery".into()),
        department: "ops".into(),
        handling_days: Some(15),
        appeal_days: Some(30),
        review_days: None,
        respondent_reply_days: Some(5),
    };
    s.insert_category(cat.clone(), event(None, "category_created"))
        .await
        .unwrap();
    let err = s
        .insert_category(cat.clone(), event(None, "category_created"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate("code")), "{err:?}");
    let orphan = Category {
        code: "x".into(),
        department: "nowhere".into(),
        ..cat.clone()
    };
    let err = s
        .insert_category(orphan, event(None, "category_created"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing("department")), "{err:?}");
    assert_eq!(s.list_categories().await.unwrap(), vec![cat.clone()]);
    // Only the three successful inserts were journaled.
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 3);

    // Updates replace the fields by code, and are journaled.
    let changed = Category {
        name: "物流".into(),
        department: "review".into(),
        handling_days: Some(7),
        appeal_days: None,
        review_days: Some(3),
        respondent_reply_days: None,
        ..cat.clone()
    };
    s.update_category(changed.clone(), event(None, "category_changed"))
        .await
        .unwrap();
    assert_eq!(s.list_categories().await.unwrap(), vec![changed.clone()]);
    let err = s
        .update_category(
            Category {
                code: "absent".into(),
                ..changed.clone()
            },
            event(None, "category_changed"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing("category")), "{err:?}");
    let err = s
        .update_category(
            Category {
                department: "nowhere".into(),
                ..changed.clone()
            },
            event(None, "category_changed"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing("department")), "{err:?}");
    assert_eq!(s.list_categories().await.unwrap(), vec![changed]);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 4);

    // A department's names, review flag and head change by code, journaled;
    // the English name round-trips.
    let ops = Department {
        name: "运营部".into(),
        name_en: Some("Operations".into()),
        review: true,
        head: None,
        ..dept("ops")
    };
    s.update_department(ops.clone(), event(None, "department_changed"))
        .await
        .unwrap();
    assert_eq!(
        s.list_departments().await.unwrap(),
        vec![ops.clone(), dept("review")]
    );
    let err = s
        .update_department(
            Department {
                code: "absent".into(),
                ..ops
            },
            event(None, "department_changed"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing("department")), "{err:?}");
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 5);
}

pub async fn users_and_sessions(s: Arc<dyn Store>) {
    let u = User {
        id: Uuid::now_v7(),
        username: "alice".into(),
        display_name: "Alice".into(),
        password_hash: "$argon2id$...".into(),
        roles: vec![Role::Handler, Role::Reviewer],
        departments: vec!["ops".into()],
        level: 2,
        active: true,
        created_at: t(0),
        email: Some("alice@example.com".into()),
        must_change_password: false,
    };
    assert_eq!(s.count_users().await.unwrap(), 0);
    s.insert_user(u.clone(), event(None, "user_created"))
        .await
        .unwrap();
    let mut again = u.clone();
    again.id = Uuid::now_v7();
    let err = s
        .insert_user(again, event(None, "user_created"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate("username")), "{err:?}");
    assert_eq!(s.get_user(u.id).await.unwrap(), Some(u.clone()));
    assert_eq!(
        s.get_user_by_username("alice").await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(s.get_user_by_username("bob").await.unwrap(), None);
    assert_eq!(s.list_users().await.unwrap(), vec![u.clone()]);
    assert_eq!(s.count_users().await.unwrap(), 1);
    let changed = User {
        display_name: "Alice Wang".into(),
        roles: vec![Role::Supervisor],
        departments: vec![],
        level: 4,
        active: false,
        email: None,
        must_change_password: true,
        ..u.clone()
    };
    s.update_user(changed.clone(), event(None, "user_changed"))
        .await
        .unwrap();
    assert_eq!(s.get_user(u.id).await.unwrap(), Some(changed.clone()));
    let err = s
        .update_user(
            User {
                id: Uuid::now_v7(),
                ..changed.clone()
            },
            event(None, "user_changed"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing("user")), "{err:?}");
    s.update_user(u.clone(), event(None, "user_changed"))
        .await
        .unwrap();

    let sess = Session {
        token_hash: "th".into(),
        user_id: u.id,
        created_at: t(0),
        expires_at: t(60),
    };
    s.insert_session(sess.clone()).await.unwrap();
    assert_eq!(s.get_session("th").await.unwrap(), Some(sess.clone()));
    let err = s
        .insert_session(Session {
            token_hash: "other".into(),
            user_id: Uuid::now_v7(),
            ..sess.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing("user")), "{err:?}");
    s.delete_session("th").await.unwrap();
    assert_eq!(s.get_session("th").await.unwrap(), None);

    // A password change ends the user's other sessions; expired ones go.
    for (hash, expires) in [("a", 60), ("b", 60), ("c", 10)] {
        s.insert_session(Session {
            token_hash: hash.into(),
            expires_at: t(expires),
            ..sess.clone()
        })
        .await
        .unwrap();
    }
    assert_eq!(
        s.delete_user_sessions(u.id, Some("a".into()))
            .await
            .unwrap(),
        2
    );
    assert!(s.get_session("a").await.unwrap().is_some(), "kept");
    assert_eq!(s.get_session("b").await.unwrap(), None);
    s.insert_session(Session {
        token_hash: "d".into(),
        expires_at: t(10),
        ..sess.clone()
    })
    .await
    .unwrap();
    assert_eq!(s.delete_expired_sessions(t(30)).await.unwrap(), 1);
    assert_eq!(s.get_session("d").await.unwrap(), None);
    assert!(s.get_session("a").await.unwrap().is_some());
    assert_eq!(s.delete_user_sessions(u.id, None).await.unwrap(), 1);
    assert_eq!(s.get_session("a").await.unwrap(), None);
}

pub async fn respondents_and_api_keys(s: Arc<dyn Store>) {
    let r = RespondentAccount {
        id: Uuid::now_v7(),
        kind: RespondentKind::Merchant,
        external_id: "m1".into(),
        name: "Shop".into(),
        email: None,
        key_hash: "rk".into(),
        created_at: t(0),
        key_revoked: false,
        key_expires_at: Some(t(3600)),
    };
    s.insert_respondent(r.clone(), event(None, "respondent_created"))
        .await
        .unwrap();
    let dup = RespondentAccount {
        id: Uuid::now_v7(),
        key_hash: "rk2".into(),
        ..r.clone()
    };
    let err = s
        .insert_respondent(dup, event(None, "respondent_created"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate("respondent")),
        "{err:?}"
    );
    assert_eq!(
        s.get_respondent_by_key_hash("rk").await.unwrap(),
        Some(r.clone())
    );
    assert_eq!(s.get_respondent_by_key_hash("rk2").await.unwrap(), None);
    // By kind and id, for the notices that go to the account's address.
    assert_eq!(
        s.get_respondent(r.kind, &r.external_id).await.unwrap(),
        Some(r.clone())
    );
    assert_eq!(s.get_respondent(r.kind, "absent").await.unwrap(), None);
    // A new key replaces the old one; revoking marks it.
    assert!(
        s.set_respondent_key(
            r.id,
            Some("rk3".into()),
            None,
            event(None, "respondent_key_issued")
        )
        .await
        .unwrap()
    );
    assert_eq!(s.get_respondent_by_key_hash("rk").await.unwrap(), None);
    let now = s.get_respondent_by_key_hash("rk3").await.unwrap().unwrap();
    assert_eq!((now.key_revoked, now.key_expires_at), (false, None));
    assert!(
        s.set_respondent_key(r.id, None, None, event(None, "respondent_key_revoked"))
            .await
            .unwrap()
    );
    assert!(
        s.get_respondent_by_key_hash("rk3")
            .await
            .unwrap()
            .unwrap()
            .key_revoked
    );
    assert!(
        !s.set_respondent_key(Uuid::now_v7(), None, None, event(None, "x"))
            .await
            .unwrap(),
        "no such account"
    );

    let k = ApiKey {
        id: Uuid::now_v7(),
        name: "intake bot".into(),
        scopes: vec![Scope::Intake, Scope::Read],
        key_hash: "kh".into(),
        created_at: t(0),
        revoked: false,
        expires_at: Some(t(7200)),
    };
    s.insert_api_key(k.clone(), event(None, "api_key_created"))
        .await
        .unwrap();
    let err = s
        .insert_api_key(
            ApiKey {
                id: Uuid::now_v7(),
                ..k.clone()
            },
            event(None, "api_key_created"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate("key")), "{err:?}");
    assert_eq!(s.get_api_key_by_hash("kh").await.unwrap(), Some(k.clone()));
    assert!(
        s.revoke_api_key(k.id, event(None, "api_key_revoked"))
            .await
            .unwrap()
    );
    assert!(s.get_api_key_by_hash("kh").await.unwrap().unwrap().revoked);
    assert!(
        !s.revoke_api_key(Uuid::now_v7(), event(None, "api_key_revoked"))
            .await
            .unwrap()
    );
    // Events without a case, newest first, by kind.
    let global = s
        .list_global_events(
            vec!["api_key_revoked".into(), "respondent_key_issued".into()],
            10,
        )
        .await
        .unwrap();
    let kinds: Vec<&str> = global.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["api_key_revoked", "respondent_key_issued"]);
}

pub async fn calendar(s: Arc<dyn Store>) {
    let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).unwrap();
    let days = vec![
        DayException {
            date: d(10, 1),
            kind: DayKind::Holiday,
            name: "国庆节".into(),
        },
        DayException {
            date: d(9, 28),
            kind: DayKind::Workday,
            name: "调休".into(),
        },
    ];
    s.upsert_calendar(days.clone(), Some(event(None, "calendar_changed")))
        .await
        .unwrap();
    let mut sorted = days.clone();
    sorted.sort_by_key(|x| x.date);
    assert_eq!(s.list_calendar().await.unwrap(), sorted);
    // Upsert replaces.
    let changed = DayException {
        date: d(10, 1),
        kind: DayKind::Holiday,
        name: "National Day".into(),
    };
    s.upsert_calendar(vec![changed.clone()], None)
        .await
        .unwrap();
    s.delete_calendar_day(d(9, 28)).await.unwrap();
    assert_eq!(s.list_calendar().await.unwrap(), vec![changed]);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 1);
}

/// Each day's source; the feed never writes over a manual day and only
/// removes its own; the feed subscription is claimed by one caller at a
/// time, when due (or forced), and a finished fetch ends the claim.
pub async fn calendar_feed(s: Arc<dyn Store>) {
    use redress_domain::calendar::DaySource;
    let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
    let day = |date, kind, name: &str| DayException {
        date,
        kind,
        name: name.into(),
    };
    // Seeded (no event): built-in; edited (an event): manual.
    s.upsert_calendar(vec![day(d(1, 1), DayKind::Holiday, "元旦")], None)
        .await
        .unwrap();
    s.upsert_calendar(
        vec![day(d(2, 6), DayKind::Workday, "manual")],
        Some(event(None, "calendar_day_set")),
    )
    .await
    .unwrap();
    s.apply_calendar_feed(
        vec![
            day(d(1, 1), DayKind::Holiday, "New Year"),
            day(d(2, 6), DayKind::Holiday, "feed"),
            day(d(3, 1), DayKind::Holiday, "feed only"),
        ],
        vec![],
        event(None, "calendar_feed_applied"),
    )
    .await
    .unwrap();
    let sources = s.calendar_sources().await.unwrap();
    assert_eq!(
        sources,
        vec![
            (d(1, 1), DaySource::Feed),
            (d(2, 6), DaySource::Manual),
            (d(3, 1), DaySource::Feed),
        ]
    );
    let days = s.list_calendar().await.unwrap();
    assert_eq!(days[1].name, "manual", "the manual day is untouched");
    assert_eq!(days[1].kind, DayKind::Workday);
    // Removal takes the feed's days only.
    s.apply_calendar_feed(
        vec![],
        vec![d(2, 6), d(3, 1)],
        event(None, "calendar_feed_applied"),
    )
    .await
    .unwrap();
    let dates: Vec<NaiveDate> = s
        .list_calendar()
        .await
        .unwrap()
        .iter()
        .map(|x| x.date)
        .collect();
    assert_eq!(dates, vec![d(1, 1), d(2, 6)]);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 3);

    // The subscription.
    assert_eq!(s.get_calendar_feed().await.unwrap(), None);
    let lease = std::time::Duration::from_secs(60);
    assert_eq!(
        s.claim_calendar_feed(t(0), lease, true).await.unwrap(),
        None
    );
    let feed = redress_store::CalendarFeed {
        url: "https://example.com/cn.ics".into(),
        etag: None,
        last_modified: None,
        fetched_at: None,
        outcome: None,
        next_fetch_at: t(10),
        set_by: "staff:admin".into(),
        set_at: t(0),
    };
    s.set_calendar_feed(Some(feed.clone()), event(None, "calendar_feed_set"))
        .await
        .unwrap();
    assert_eq!(s.get_calendar_feed().await.unwrap(), Some(feed.clone()));
    // Not due yet; forced, it is claimed, and then held.
    assert_eq!(
        s.claim_calendar_feed(t(5), lease, false).await.unwrap(),
        None
    );
    assert_eq!(
        s.claim_calendar_feed(t(5), lease, true).await.unwrap(),
        Some(feed.clone())
    );
    assert_eq!(
        s.claim_calendar_feed(t(20), lease, false).await.unwrap(),
        None
    );
    assert_eq!(
        s.claim_calendar_feed(t(20), lease, true).await.unwrap(),
        None
    );
    // Finishing records the fetch and ends the claim.
    let fetched = redress_store::CalendarFeed {
        etag: Some("\"v1\"".into()),
        last_modified: Some("Wed, 04 Nov 2026 00:00:00 GMT".into()),
        fetched_at: Some(t(20)),
        outcome: Some(r#"{"status":"changed"}"#.into()),
        next_fetch_at: t(20 + 24 * 60),
        ..feed.clone()
    };
    s.finish_calendar_feed(fetched.clone()).await.unwrap();
    assert_eq!(s.get_calendar_feed().await.unwrap(), Some(fetched.clone()));
    assert_eq!(
        s.claim_calendar_feed(t(30), lease, false).await.unwrap(),
        None
    );
    assert!(
        s.claim_calendar_feed(t(20 + 24 * 60), lease, false)
            .await
            .unwrap()
            .is_some()
    );
    // A fetch of a URL no longer subscribed records nothing.
    s.finish_calendar_feed(redress_store::CalendarFeed {
        url: "https://old.example.com/".into(),
        outcome: Some("{}".into()),
        ..fetched.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        s.get_calendar_feed().await.unwrap().unwrap().outcome,
        fetched.outcome
    );
    s.set_calendar_feed(None, event(None, "calendar_feed_removed"))
        .await
        .unwrap();
    assert_eq!(s.get_calendar_feed().await.unwrap(), None);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 5);
}

fn reply(title: &str, locale: Option<Locale>, at: i64) -> CannedReply {
    CannedReply {
        id: Uuid::now_v7(),
        title: title.into(),
        body: format!("{title}：详细内容\nsecond line"),
        locale,
        created_at: t(at),
        updated_at: t(at),
    }
}

pub async fn canned_replies(s: Arc<dyn Store>) {
    assert!(s.list_canned_replies().await.unwrap().is_empty());
    let first = reply("已收到", Some(Locale::ZhCn), 10);
    let second = reply("Received", Some(Locale::En), 20);
    let any = reply("通用", None, 5);
    for r in [&first, &second, &any] {
        s.insert_canned_reply(r.clone(), event(None, "canned_reply_created"))
            .await
            .unwrap();
    }
    let err = s
        .insert_canned_reply(first.clone(), event(None, "canned_reply_created"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate("id")), "{err:?}");
    // Oldest first.
    assert_eq!(
        s.list_canned_replies().await.unwrap(),
        vec![any.clone(), first.clone(), second.clone()]
    );
    assert_eq!(
        s.get_canned_reply(second.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(s.get_canned_reply(Uuid::now_v7()).await.unwrap(), None);

    // An update replaces title, text, language and the change time.
    let changed = CannedReply {
        title: "Received, checking".into(),
        body: "We are checking.".into(),
        locale: None,
        updated_at: t(30),
        ..second.clone()
    };
    s.update_canned_reply(changed.clone(), event(None, "canned_reply_changed"))
        .await
        .unwrap();
    assert_eq!(
        s.get_canned_reply(second.id).await.unwrap(),
        Some(changed.clone())
    );
    let absent = CannedReply {
        id: Uuid::now_v7(),
        ..changed.clone()
    };
    let err = s
        .update_canned_reply(absent.clone(), event(None, "canned_reply_changed"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Missing("canned_reply")),
        "{err:?}"
    );

    s.delete_canned_reply(first.id, event(None, "canned_reply_deleted"))
        .await
        .unwrap();
    let err = s
        .delete_canned_reply(first.id, event(None, "canned_reply_deleted"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Missing("canned_reply")),
        "{err:?}"
    );
    assert_eq!(
        s.list_canned_replies().await.unwrap(),
        vec![any.clone(), changed.clone()]
    );
    // Only the successful writes were journaled: three inserts, an update, a delete.
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 5);
    assert_eq!(s.table_counts().await.unwrap().canned_replies, 2);
}

pub async fn canned_replies_are_seeded_once(s: Arc<dyn Store>) {
    let seed = vec![reply("一", Some(Locale::ZhCn), 0), reply("二", None, 0)];
    let events = vec![
        event(None, "canned_reply_created"),
        event(None, "canned_reply_created"),
    ];
    assert!(
        s.seed_canned_replies(seed.clone(), events.clone())
            .await
            .unwrap()
    );
    assert_eq!(s.list_canned_replies().await.unwrap().len(), 2);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 2);
    // Never again, even when every seeded reply was deleted since.
    for r in &seed {
        s.delete_canned_reply(r.id, event(None, "canned_reply_deleted"))
            .await
            .unwrap();
    }
    let again = vec![reply("三", None, 0)];
    assert!(
        !s.seed_canned_replies(again, vec![event(None, "canned_reply_created")])
            .await
            .unwrap()
    );
    assert!(s.list_canned_replies().await.unwrap().is_empty());
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 4);
}

pub async fn imported_canned_replies_count_as_seeded(s: Arc<dyn Store>) {
    // A copied installation (migrate-data) keeps what it had, even nothing.
    s.import_canned_replies(vec![]).await.unwrap();
    let seed = vec![reply("一", None, 0)];
    assert!(
        !s.seed_canned_replies(seed, vec![event(None, "canned_reply_created")])
            .await
            .unwrap()
    );
    assert!(s.list_canned_replies().await.unwrap().is_empty());
    assert!(
        s.is_empty().await.unwrap(),
        "a seed mark is not an installation"
    );
}

fn held(key: &str, minutes: i64) -> redress_store::HeldMail {
    redress_store::HeldMail {
        id: Uuid::now_v7(),
        seq: 0,
        mail_key: key.into(),
        received_at: t(minutes),
        sender: "sealed-sender".into(),
        subject: "sealed-subject".into(),
        tracking_no: Some("RD250301-AAAAAA".into()),
        case_id: None,
        raw: "sealed-raw".into(),
        size: 1234,
        state: redress_store::HeldMailState::Held,
        settled_by: None,
        settled_at: None,
        attached_to: None,
    }
}

/// Held mail: one row per mail key, listed newest first by state with an
/// exact total, the raw message only when read alone, settled once.
pub async fn held_mail(s: Arc<dyn Store>) {
    use redress_store::HeldMailState::{Attached, Discarded, Held};
    let first = held("k1", 1);
    let id = s
        .hold_mail(first.clone(), event(None, "mail_held"))
        .await
        .unwrap();
    assert_eq!(id, first.id);
    // The same mail again: the first row answers, nothing is written.
    let head = s.journal_head().await.unwrap().unwrap().0;
    let again = s
        .hold_mail(held("k1", 2), event(None, "mail_held"))
        .await
        .unwrap();
    assert_eq!(again, first.id);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, head);
    let second = held("k2", 3);
    s.hold_mail(second.clone(), event(None, "mail_held"))
        .await
        .unwrap();

    let page = s.list_held_mail(Some(Held), 1, None).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, second.id, "newest first");
    assert!(
        page.items[0].raw.is_empty(),
        "lists leave the raw message out"
    );
    let rest = s.list_held_mail(Some(Held), 10, page.next).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].id, first.id);
    assert_eq!(rest.next, None);

    let got = s.get_held_mail(first.id).await.unwrap().unwrap();
    assert_eq!(got.raw, "sealed-raw");
    assert_eq!((got.size, got.state), (1234, Held));
    assert_eq!(got.received_at, t(1));
    assert_eq!(s.get_held_mail(Uuid::now_v7()).await.unwrap(), None);

    let case = Uuid::now_v7();
    let ok = s
        .settle_held_mail(
            first.id,
            Attached,
            "staff:bob".into(),
            t(5),
            Some(case),
            event(Some(case), "held_mail_attached"),
        )
        .await
        .unwrap();
    assert!(ok);
    // Settled once: a second settlement (another agent) writes nothing.
    let head = s.journal_head().await.unwrap().unwrap().0;
    let twice = s
        .settle_held_mail(
            first.id,
            Discarded,
            "staff:eve".into(),
            t(6),
            None,
            event(None, "held_mail_discarded"),
        )
        .await
        .unwrap();
    assert!(!twice);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, head);
    let got = s.get_held_mail(first.id).await.unwrap().unwrap();
    assert_eq!(got.state, Attached);
    assert_eq!(got.settled_by.as_deref(), Some("staff:bob"));
    assert_eq!(got.settled_at, Some(t(5)));
    assert_eq!(got.attached_to, Some(case));

    assert_eq!(
        s.list_held_mail(Some(Held), 10, None).await.unwrap().total,
        1
    );
    assert_eq!(
        s.list_held_mail(Some(Attached), 10, None)
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(s.list_held_mail(None, 10, None).await.unwrap().total, 2);
}

/// Run-time settings: absent until put; a put replaces the value and
/// journals its event in the same transaction.
pub async fn run_time_settings(s: Arc<dyn Store>) {
    assert_eq!(s.get_setting("channels").await.unwrap(), None);
    let before = s.journal_head().await.unwrap().map_or(0, |h| h.0);
    s.put_setting(
        "channels",
        r#"{"enabled":["web"]}"#.into(),
        "staff:admin".into(),
        t(0),
        event(None, "channels_set"),
    )
    .await
    .unwrap();
    s.put_setting(
        "channels",
        r#"{"enabled":["api"]}"#.into(),
        "staff:admin".into(),
        t(1),
        event(None, "channels_set"),
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_setting("channels").await.unwrap().as_deref(),
        Some(r#"{"enabled":["api"]}"#)
    );
    assert_eq!(s.get_setting("other").await.unwrap(), None);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, before + 2);
}
