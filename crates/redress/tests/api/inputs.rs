//! Bad input gets a clear 4xx naming each field and stores nothing;
//! retries are idempotent; evidence is checked and stored by content hash.

use serde_json::json;

use crate::harness::*;

async fn total(t: &TestApp, token: &str) -> u64 {
    t.get("/complaints", Some(token)).await.expect(200)["total"]
        .as_u64()
        .unwrap()
}

async fn bad_registrations_name_every_field_and_store_nothing() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let events_before = t.get("/audit/verify", Some(&sup)).await.expect(200)["events_checked"]
        .as_u64()
        .unwrap();

    let a = t
        .call_raw("POST", "/complaints", None, Some("{\"subject\": "), &[])
        .await;
    assert_eq!(a.status.as_u16(), 400);
    assert_eq!(a.body["error"]["code"], "invalid_json");
    t.call_raw("POST", "/complaints", None, Some("[1,2]"), &[])
        .await
        .expect_error(422);

    let fields = t
        .post("/complaints", None, json!({}))
        .await
        .expect_error(422);
    for f in ["complainant", "respondent", "subject", "description"] {
        assert!(fields.get(f).is_some(), "{f}: {fields}");
    }
    let mut bad = complaint(1);
    bad["subject"] = json!(5);
    bad["complainant"]["email"] = json!("not-an-email");
    bad["complainant"]["phone"] = json!("call me");
    bad["respondent"]["kind"] = json!("alien");
    bad["occurred_at"] = json!("yesterday");
    bad["locale"] = json!("fr");
    let fields = t.post("/complaints", None, bad).await.expect_error(422);
    for f in [
        "subject",
        "complainant.email",
        "complainant.phone",
        "respondent.kind",
        "occurred_at",
        "locale",
    ] {
        assert!(fields.get(f).is_some(), "{f}: {fields}");
    }
    // The reasons as codes (SPEC §11): required, too_long, not_one_of, …
    let mut coded = complaint(1);
    coded["subject"] = json!("");
    coded["description"] = json!("长".repeat(20_001));
    coded["respondent"]["kind"] = json!("alien");
    coded["complainant"]["email"] = json!("not-an-email");
    let reasons = t.post("/complaints", None, coded).await.expect_reasons();
    assert_eq!(reasons["subject"], "required", "{reasons}");
    assert_eq!(reasons["description"], "too_long", "{reasons}");
    assert_eq!(reasons["respondent.kind"], "not_one_of", "{reasons}");
    assert_eq!(reasons["complainant.email"], "not_an_email", "{reasons}");
    let mut no_contact = complaint(1);
    no_contact["complainant"] = json!({"name": "匿名"});
    let fields = t
        .post("/complaints", None, no_contact)
        .await
        .expect_error(422);
    assert!(fields.get("complainant.email").is_some());
    let mut huge = complaint(1);
    huge["description"] = json!("字".repeat(400_000));
    t.post("/complaints", None, huge).await.expect_error(413);

    assert_eq!(total(&t, &sup).await, 0, "nothing stored");
    let events_after = t.get("/audit/verify", Some(&sup)).await.expect(200)["events_checked"]
        .as_u64()
        .unwrap();
    assert_eq!(events_before, events_after, "no event written");
}

async fn a_retry_with_the_same_idempotency_key_gets_the_first_answer() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let key = [("idempotency-key", "retry-1")];
    let body = complaint(1).to_string();
    let first = t
        .call_raw("POST", "/complaints", None, Some(&body), &key)
        .await
        .expect(201);
    let again = t
        .call_raw("POST", "/complaints", None, Some(&body), &key)
        .await
        .expect(201);
    assert_eq!(first, again);
    assert_eq!(total(&t, &sup).await, 1);
    let other = complaint(2).to_string();
    let fields = t
        .call_raw("POST", "/complaints", None, Some(&other), &key)
        .await
        .expect_error(422);
    assert!(fields.get("Idempotency-Key").is_some());
    t.call_raw(
        "POST",
        "/complaints",
        None,
        Some(&body),
        &[("idempotency-key", "retry-2")],
    )
    .await
    .expect(201);
    assert_eq!(total(&t, &sup).await, 2);
}

async fn a_second_open_complaint_between_the_same_parties_is_flagged() {
    let t = TestApp::new().await;
    let first = t.file(complaint(1)).await;
    assert_eq!(t.dup_flag(&first).await, false);
    let second = t.file(complaint(1)).await;
    assert_eq!(t.dup_flag(&second).await, true);
    // The public answer does not tell anyone about other complaints.
    assert!(second.get("possible_duplicates").is_none() && second.get("duplicate").is_none());
    assert_eq!(t.dups(&second).await[0], first["id"]);
    // Another respondent: not a duplicate.
    let mut other = complaint(1);
    other["respondent"]["id"] = json!("shop-2");
    assert_eq!(t.dup_flag(&t.file(other).await).await, false);
    // Once the earlier ones are closed, not flagged.
    for f in [&first, &second] {
        t.post(
            &format!("/track/{}/withdraw", f["tracking_no"].as_str().unwrap()),
            Some(f["access_token"].as_str().unwrap()),
            json!({}),
        )
        .await
        .expect(200);
    }
    assert_eq!(t.dup_flag(&t.file(complaint(1)).await).await, false);
}

fn evidence_files(t: &TestApp) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let root = t.dir.join("evidence");
    for shard in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(shard.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(f.path());
        }
    }
    out
}

async fn evidence_is_sniffed_limited_and_stored_by_hash() {
    let t = TestApp::with(|c| c.evidence_max_bytes = 1024).await;
    let c = t.cast().await;
    let f = t.file(complaint(1)).await;
    let id = f["id"].as_str().unwrap();
    let path = format!("/complaints/{id}/evidence");
    // Not multipart: the answer still has the API's error shape.
    t.post(&path, Some(&c.intake), json!({"file": "x"}))
        .await
        .expect_error(400);

    t.upload(&path, Some(&c.intake), "big.txt", &[b'a'; 2048])
        .await
        .expect_error(413);
    t.upload(&path, Some(&c.intake), "empty.txt", b"")
        .await
        .expect_error(422);
    let elf = [b"\x7fELF\x02\x01\x01\0".as_slice(), &[0u8; 64]].concat();
    let fields = t
        .upload(&path, Some(&c.intake), "run.exe", &elf)
        .await
        .expect_error(422);
    assert!(fields.get("file").is_some());
    assert!(
        evidence_files(&t).is_empty(),
        "refused uploads leave no file"
    );

    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 100]].concat();
    let case = t
        .upload(&path, Some(&c.intake), "../../evil.png", &png)
        .await
        .expect(200);
    let e = &case["evidence"][0];
    assert_eq!(e["content_type"], "image/png");
    assert_eq!(e["filename"], "evil.png");
    let sha = e["sha256"].as_str().unwrap();
    // Under a name keyed by the case, sealed; the store gives the bytes back.
    let stored = t.case_file(id, sha).await;
    assert_ne!(std::fs::read(&stored).unwrap(), png);
    assert!(!t.dir.join("evidence").join(&sha[..2]).join(sha).exists());
    let key = t
        .app
        .load(uuid::Uuid::parse_str(id).unwrap())
        .await
        .unwrap();
    assert_eq!(
        t.app.evidence.read_in_case(key.key(), sha).await.unwrap(),
        png
    );
    t.upload(&path, Some(&c.intake), "again.png", &png)
        .await
        .expect(200);
    assert_eq!(evidence_files(&t).len(), 1, "same content stored once");

    let tracked = t
        .upload(
            &format!("/track/{}/evidence", f["tracking_no"].as_str().unwrap()),
            Some(f["access_token"].as_str().unwrap()),
            "收据.txt",
            "收据内容".as_bytes(),
        )
        .await
        .expect(200);
    assert_eq!(tracked["evidence"][0]["content_type"], "text/plain");
    assert!(!t.dir.join("evidence").join("收据.txt").exists());
}

async fn search_finds_two_character_chinese_words_and_english() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let texts = [
        ("快递丢失", "快递一直没有送到"),
        ("申请退款", "商家拒绝退款"),
        ("Refund refused", "The seller refused my refund"),
        ("账号被盗", "有人登录了我的账号"),
        ("商品质量", "屏幕有划痕"),
    ];
    for (i, (s, d)) in texts.iter().enumerate() {
        let mut b = complaint(i as u32);
        b["subject"] = json!(s);
        b["description"] = json!(d);
        b["demands"] = json!("请尽快处理");
        t.file(b).await;
    }
    let q = |s: &str| {
        format!(
            "/complaints?q={}",
            s.bytes().map(|b| format!("%{b:02X}")).collect::<String>()
        )
    };
    assert_eq!(t.get(&q("快递"), Some(&sup)).await.expect(200)["total"], 1);
    assert_eq!(t.get(&q("退款"), Some(&sup)).await.expect(200)["total"], 1);
    assert_eq!(
        t.get(&q("refund"), Some(&sup)).await.expect(200)["total"],
        1
    );
    assert_eq!(t.get(&q("账号"), Some(&sup)).await.expect(200)["total"], 1);
    assert_eq!(t.get(&q("发票"), Some(&sup)).await.expect(200)["total"], 0);

    // Cursor paging: every case exactly once, the exact total on every page.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/complaints?limit=2&cursor={c}"),
            None => "/complaints?limit=2".into(),
        };
        let page = t.get(&path, Some(&sup)).await.expect(200);
        assert_eq!(page["total"], 5);
        for item in page["items"].as_array().unwrap() {
            for key in [
                "id",
                "tracking_no",
                "status",
                "closure",
                "channel",
                "category",
                "department",
                "subject",
                "respondent",
                "created_at",
                "next_due_at",
            ] {
                assert!(item.get(key).is_some(), "list item lacks {key}");
            }
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (5, 5));
    assert_eq!(
        t.get("/complaints?status=submitted", Some(&sup))
            .await
            .expect(200)["total"],
        5
    );
    assert_eq!(
        t.get("/complaints?status=closed", Some(&sup))
            .await
            .expect(200)["total"],
        0
    );
    assert!(
        t.get("/complaints?status=open", Some(&sup))
            .await
            .expect_error(422)
            .get("status")
            .is_some()
    );
    assert!(
        t.get("/complaints?cursor=zzz", Some(&sup))
            .await
            .expect_error(422)
            .get("cursor")
            .is_some()
    );
    assert_eq!(
        t.get("/complaints?respondent=merchant:shop-1", Some(&sup))
            .await
            .expect(200)["total"],
        5
    );
    assert_eq!(
        t.get("/complaints?respondent=shop-1", Some(&sup))
            .await
            .expect(200)["total"],
        5
    );
}

async fn cases_are_listed_by_category_and_by_respondent_key_or_name() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let parties = [
        ("merchant", "m-1", "ACME Trading"),
        ("merchant", "m-2", "好运数码专营店"),
        ("user", "u-9", "好运来"),
        ("merchant", "m-1", "ACME Trading"),
    ];
    for (i, (kind, id, name)) in parties.iter().enumerate() {
        let mut b = complaint(i as u32);
        b["respondent"] = json!({"kind": kind, "id": id, "name": name});
        let filed = t.file(b).await;
        if i < 2 {
            t.act(
                &filed["id"].as_str().unwrap(),
                "accept",
                &c.intake,
                json!({"category": "delivery"}),
            )
            .await;
        }
    }
    let total = |query: &str| {
        let (t, sup) = (&t, sup.clone());
        let path = format!("/complaints?{query}");
        async move { t.get(&path, Some(&sup)).await.expect(200)["total"].clone() }
    };
    assert_eq!(total("category=delivery").await, 2);
    assert_eq!(total("respondent=merchant:m-1").await, 2);
    assert_eq!(total("respondent=u-9").await, 1);
    // A name: the words given, contained in the respondent's name, either case.
    assert_eq!(total("respondent_name=acme").await, 2);
    assert_eq!(total("respondent_name=ACME%20Trading").await, 2);
    assert_eq!(total("respondent_name=%E5%A5%BD%E8%BF%90").await, 2, "好运");
    assert_eq!(
        total("respondent_name=%E6%95%B0%E7%A0%81&category=delivery").await,
        1,
        "数码, accepted as delivery"
    );
    assert_eq!(total("respondent_name=trading%20acme").await, 0);
    // Not from the description: the complaint text names no one.
    assert_eq!(total("respondent_name=%E5%95%86%E5%AE%B6").await, 0, "商家");
    let long = "x".repeat(201);
    let fields = t
        .get(&format!("/complaints?respondent_name={long}"), Some(&sup))
        .await
        .expect_error(422);
    assert!(fields.get("respondent_name").is_some(), "{fields}");
}

async fn public_intake_is_rate_limited_but_api_keys_are_not() {
    let t = TestApp::with(|c| c.public_rate_limit = 2).await;
    t.file(complaint(1)).await;
    t.file(complaint(2)).await;
    t.post("/complaints", None, complaint(3))
        .await
        .expect_error(429);
    let key = t
        .post(
            "/admin/api-keys",
            Some(&t.admin),
            json!({"name": "backend", "scopes": ["intake"]}),
        )
        .await
        .expect(201);
    for n in 0..4 {
        t.post(
            "/complaints",
            Some(key["api_key"].as_str().unwrap()),
            complaint(10 + n),
        )
        .await
        .expect(201);
    }
}

/// A query parameter given empty (`?interval=`) is refused by name, as
/// the document says (`minLength: 1`); left out, it takes its default.
async fn a_query_parameter_given_empty_is_refused_by_name() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let reasons = t
        .get("/reports/summary?interval=", Some(&sup))
        .await
        .expect_reasons();
    assert_eq!(reasons, json!({"interval": "required"}));
    let reasons = t
        .get("/complaints?status=&department=&limit=5", Some(&sup))
        .await
        .expect_reasons();
    assert_eq!(
        reasons,
        json!({"status": "required", "department": "required"})
    );
    t.get("/reports/summary", Some(&sup)).await.expect(200);
    t.get("/complaints?limit=5", Some(&sup)).await.expect(200);
}

/// `missed=` names a stage or `any` (the document's enum); `true` is
/// not one of them.
async fn the_missed_filter_takes_a_stage_or_any() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let reasons = t
        .get("/complaints?missed=true", Some(&sup))
        .await
        .expect_reasons();
    assert_eq!(reasons, json!({"missed": "not_one_of"}));
    t.get("/complaints?missed=any", Some(&sup))
        .await
        .expect(200);
}

/// A report's period lies in the years 1970 to 2200 (a date, or an
/// instant as written), so that every day a report names is a date with
/// a four-digit year.
async fn report_periods_lie_in_the_years_1970_to_2200() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    for (path, field) in [
        ("/reports/summary?to=0000-01-01", "to"),
        ("/reports/summary.csv?from=1969-12-31", "from"),
        ("/reports/respondents?to=2201-01-01T00:00:00Z", "to"),
        ("/alerts?to=0001-02-03", "to"),
        ("/public/stats?to=0000-01-01", "to"),
    ] {
        let reasons = t.get(path, Some(&sup)).await.expect_reasons();
        assert_eq!(reasons, json!({field: "not_a_time"}), "{path}");
    }
    let r = t
        .get("/reports/summary?from=1970-01-01&to=1970-01-31", Some(&sup))
        .await
        .expect(200);
    assert_eq!(r["from_day"], "1970-01-01", "{r}");
    t.get("/public/stats?to=2200-12-31", Some(&sup))
        .await
        .expect(200);
}

/// An API key's name has at most 200 characters, as the document says.
async fn an_api_key_name_has_at_most_200_characters() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let reasons = t
        .post(
            "/admin/api-keys",
            Some(&sup),
            json!({"name": "钥".repeat(201), "scopes": ["intake"]}),
        )
        .await
        .expect_reasons();
    assert_eq!(reasons, json!({"name": "too_long"}));
    let key = t
        .post(
            "/admin/api-keys",
            Some(&sup),
            json!({"name": "钥".repeat(200), "scopes": ["intake"]}),
        )
        .await
        .expect(201);
    assert_eq!(key["name"].as_str().unwrap().chars().count(), 200);
}

/// A whole number written with a fraction (`5.0`) is an integer, as JSON
/// Schema's `integer` says; `5.5` is not.
async fn whole_numbers_written_with_a_fraction_count_as_integers() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;
    let fields = t
        .refused(
            &f.id,
            "request-info",
            &c.intake,
            json!({"items": ["截图"], "due_days": 5.5}),
            422,
        )
        .await;
    assert!(fields["due_days"].is_string(), "{fields}");
    t.act(
        &f.id,
        "request-info",
        &c.intake,
        json!({"items": ["截图"], "due_days": 5.0}),
    )
    .await;
    let g = t.accepted(&c, 2).await;
    let mut d = decision();
    d["sanctions"] = json!([{"kind": "suspension", "duration_days": 30.0}]);
    let case = t.act(&g.id, "decide", &c.handler, d).await;
    assert_eq!(case["decision"]["sanctions"][0]["duration_days"], 30);
}

/// An upload's `share` names parties only: any other word is refused by
/// name, however long, and nothing is stored.
async fn an_upload_is_shared_with_named_parties_only() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.accepted(&c, 1).await;
    let path = format!("/complaints/{}/evidence", f.id);
    let long = "x".repeat(40);
    let reasons = t
        .upload_with(&path, Some(&c.handler), &[("share", &long)], "a.txt", b"a")
        .await
        .expect_reasons();
    assert_eq!(reasons, json!({"share": "not_one_of"}));
    assert_eq!(
        t.case(&f.id, &c.handler).await["evidence"]
            .as_array()
            .map_or(0, Vec::len),
        0
    );
    t.upload_with(
        &path,
        Some(&c.handler),
        &[("share", " complainant , respondent")],
        "b.txt",
        b"b",
    )
    .await
    .expect(200);
}

tests![
    a_query_parameter_given_empty_is_refused_by_name,
    the_missed_filter_takes_a_stage_or_any,
    report_periods_lie_in_the_years_1970_to_2200,
    an_api_key_name_has_at_most_200_characters,
    whole_numbers_written_with_a_fraction_count_as_integers,
    an_upload_is_shared_with_named_parties_only,
    bad_registrations_name_every_field_and_store_nothing,
    a_retry_with_the_same_idempotency_key_gets_the_first_answer,
    a_second_open_complaint_between_the_same_parties_is_flagged,
    evidence_is_sniffed_limited_and_stored_by_hash,
    search_finds_two_character_chinese_words_and_english,
    public_intake_is_rate_limited_but_api_keys_are_not,
    cases_are_listed_by_category_and_by_respondent_key_or_name,
];
