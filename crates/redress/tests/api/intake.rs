//! The front door (SPEC §6, §8, §11): idempotent retries, the duplicate
//! flag, bad input that stores nothing, evidence checks and storage, and
//! the public rate limit.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::harness::*;

async fn total(t: &TestApp, token: &str) -> u64 {
    t.get("/complaints", Some(token)).await.expect(200)["total"]
        .as_u64()
        .unwrap()
}

async fn events(t: &TestApp, token: &str) -> u64 {
    t.get("/audit/verify", Some(token)).await.expect(200)["events_checked"]
        .as_u64()
        .unwrap()
}

async fn intake_idempotent_retries_file_once() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let body = complaint(1).to_string();
    let key = [("idempotency-key", "order-42-attempt")];

    let first = t
        .call_raw("POST", "/complaints", None, Some(&body), &key)
        .await
        .expect(201);
    assert_eq!(total(&t, &sup).await, 1);
    let again = t
        .call_raw("POST", "/complaints", None, Some(&body), &key)
        .await
        .expect(201);
    for k in ["id", "tracking_no", "access_token"] {
        assert!(first[k].is_string(), "{k}: {first}");
        assert_eq!(first[k], again[k], "{k}");
    }
    assert_eq!(total(&t, &sup).await, 1, "the retry filed nothing");
    // The replayed token works.
    t.get(
        &format!("/track/{}", s(&again["tracking_no"])),
        Some(s(&again["access_token"])),
    )
    .await
    .expect(200);

    // Same key, another body: refused, nothing filed.
    let fields = t
        .call_raw(
            "POST",
            "/complaints",
            None,
            Some(&complaint(2).to_string()),
            &key,
        )
        .await
        .expect_error(422);
    assert!(!fields.is_null(), "names the header");
    assert_eq!(total(&t, &sup).await, 1);

    // Another key: another case.
    let other = t
        .call_raw(
            "POST",
            "/complaints",
            None,
            Some(&body),
            &[("idempotency-key", "order-42-attempt-b")],
        )
        .await
        .expect(201);
    assert_ne!(other["id"], first["id"]);
    assert_ne!(other["tracking_no"], first["tracking_no"]);
    // No key: another case each time.
    t.call_raw("POST", "/complaints", None, Some(&body), &[])
        .await
        .expect(201);
    assert_eq!(total(&t, &sup).await, 3);

    // An API key's retries are its own: the same key text from an
    // integration does not replay the public's answer.
    let api = t
        .post(
            "/admin/api-keys",
            Some(&t.admin),
            json!({"name": "backend", "scopes": ["intake"]}),
        )
        .await
        .expect(201);
    let by_key = t
        .call_raw(
            "POST",
            "/complaints",
            Some(s(&api["api_key"])),
            Some(&body),
            &key,
        )
        .await
        .expect(201);
    assert_ne!(by_key["id"], first["id"]);
    assert_ne!(by_key["access_token"], first["access_token"]);
    let by_key_again = t
        .call_raw(
            "POST",
            "/complaints",
            Some(s(&api["api_key"])),
            Some(&body),
            &key,
        )
        .await
        .expect(201);
    assert_eq!(by_key_again["id"], by_key["id"]);
    assert_eq!(total(&t, &sup).await, 4);
}

async fn intake_a_second_open_complaint_between_the_same_parties_is_flagged() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let first = t.file(complaint(1)).await;
    assert_eq!(t.dup_flag(&first).await, false);
    assert_eq!(t.dups(&first).await, json!([]));

    // Same complainant (email in another case), same respondent, other words.
    let mut again = complaint(1);
    again["complainant"]["email"] = json!("ZHANG1@Example.com");
    again["subject"] = json!("又一次投诉");
    let second = t.file(again).await;
    assert_eq!(t.dup_flag(&second).await, true, "{second}");
    let dup_list = t.dups(&second).await;
    let dups: Vec<&Value> = dup_list.as_array().unwrap().iter().collect();
    assert!(dups.contains(&&first["id"]), "{second}");
    // Staff see it on the case page.
    let case = t.case(&s(&second["id"]), &sup).await;
    assert_eq!(case["duplicate"], true);
    assert!(
        case["possible_duplicates"]
            .as_array()
            .unwrap()
            .contains(&first["id"])
    );

    // Another complainant against the same respondent: no flag.
    assert_eq!(t.dup_flag(&t.file(complaint(2)).await).await, false);
    // Same complainant against another respondent: no flag.
    let mut elsewhere = complaint(1);
    elsewhere["respondent"] = json!({"kind": "merchant", "id": "shop-77"});
    assert_eq!(t.dup_flag(&t.file(elsewhere).await).await, false);

    // Once the earlier ones are closed, a new one is not flagged.
    for f in [&first, &second] {
        let closed = t
            .post(
                &format!("/track/{}/withdraw", s(&f["tracking_no"])),
                Some(s(&f["access_token"])),
                json!({"reason": "已协商"}),
            )
            .await
            .expect(200);
        assert_eq!(closed["closure"], "withdrawn");
    }
    let third = t.file(complaint(1)).await;
    assert_eq!(t.dup_flag(&third).await, false, "{third}");
    assert_eq!(t.dups(&third).await, json!([]));
}

async fn intake_bad_input_names_the_fields_and_stores_nothing() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let sup = &c.supervisor;
    let events_before = events(&t, sup).await;

    // Missing fields.
    let fields = t
        .post("/complaints", None, json!({}))
        .await
        .expect_error(422);
    for f in ["complainant", "respondent", "subject", "description"] {
        assert!(fields.get(f).is_some(), "{f}: {fields}");
    }
    // Wrong types and invalid values, each named.
    let mut bad = complaint(1);
    bad["subject"] = json!(5);
    bad["description"] = json!(["a"]);
    let fields = t.post("/complaints", None, bad).await.expect_error(422);
    assert!(fields.get("subject").is_some(), "{fields}");
    assert!(fields.get("description").is_some(), "{fields}");
    for (field, value, name) in [
        ("email", json!("zhang@"), "complainant.email"),
        (
            "email",
            json!("no-at-sign.example.com"),
            "complainant.email",
        ),
        ("phone", json!("12"), "complainant.phone"),
        ("phone", json!("phone: none"), "complainant.phone"),
    ] {
        let mut b = complaint(1);
        b["complainant"][field] = value.clone();
        let fields = t.post("/complaints", None, b).await.expect_error(422);
        assert!(fields.get(name).is_some(), "{value}: {fields}");
    }
    let mut b = complaint(1);
    b["respondent"]["kind"] = json!("government");
    let fields = t.post("/complaints", None, b).await.expect_error(422);
    assert!(fields.get("respondent.kind").is_some(), "{fields}");
    let mut b = complaint(1);
    b["complainant"] = json!("张三");
    let fields = t.post("/complaints", None, b).await.expect_error(422);
    assert!(fields.get("complainant").is_some(), "{fields}");

    // Not JSON: 400 invalid_json. White space alone is not an empty body.
    for raw in ["{\"subject\": ", "not json", "{\"a\":1,}", "\n", "  "] {
        let a = t
            .call_raw("POST", "/complaints", None, Some(raw), &[])
            .await;
        assert_eq!(a.status.as_u16(), 400, "{raw}: {}", a.body);
        assert_eq!(a.body["error"]["code"], "invalid_json", "{raw}");
        assert!(a.body["error"]["message"].is_string());
    }
    // JSON but not an object: 422.
    for raw in ["[1,2]", "\"complaint\"", "42", "null", "true"] {
        t.call_raw("POST", "/complaints", None, Some(raw), &[])
            .await
            .expect_error(422);
    }
    assert_eq!(total(&t, sup).await, 0, "nothing stored");
    assert_eq!(events(&t, sup).await, events_before, "no event written");

    // On a case: an unknown category, a bad department, malformed JSON.
    let f = t.file(complaint(1)).await;
    let id = s(&f["id"]);
    let events_before = events(&t, sup).await;
    let fields = t
        .refused(
            &id,
            "accept",
            &c.intake,
            json!({"category": "no-such-category"}),
            422,
        )
        .await;
    assert!(fields.get("category").is_some(), "{fields}");
    let fields = t
        .refused(
            &id,
            "accept",
            &c.intake,
            json!({"category": "refunds-returns", "department": "no-such-dept"}),
            422,
        )
        .await;
    assert!(fields.get("department").is_some(), "{fields}");
    let fields = t.refused(&id, "accept", &c.intake, json!({}), 422).await;
    assert!(fields.get("category").is_some(), "{fields}");
    let a = t
        .call_raw(
            "POST",
            &format!("/complaints/{id}/accept"),
            Some(&c.intake),
            Some("{category: refunds}"),
            &[],
        )
        .await;
    assert_eq!(a.status.as_u16(), 400);
    assert_eq!(a.body["error"]["code"], "invalid_json");
    t.call_raw(
        "POST",
        &format!("/complaints/{id}/accept"),
        Some(&c.intake),
        Some("[\"refunds-returns\"]"),
        &[],
    )
    .await
    .expect_error(422);
    let case = t.case(&id, &c.intake).await;
    assert_eq!(case["status"], "submitted");
    assert!(case["category"].is_null() && case["department"].is_null());
    // The read above is logged (one event), nothing else.
    assert_eq!(events(&t, sup).await, events_before + 1);
    assert_eq!(total(&t, sup).await, 1);
}

/// Every file under `<data_dir>/evidence`, at any depth.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn intake_evidence_is_checked_before_anything_is_stored() {
    let t = TestApp::with(|c| c.evidence_max_bytes = 1024).await;
    let c = t.cast().await;
    let f = t.file(complaint(1)).await;
    let id = s(&f["id"]);
    let staff_path = format!("/complaints/{id}/evidence");
    let track_path = format!("/track/{}/evidence", s(&f["tracking_no"]));
    let token = s(&f["access_token"]);
    let evidence_root = t.dir.join("evidence");

    let big = vec![b'a'; 2048];
    let elf = [b"\x7fELF\x02\x01\x01\0".as_slice(), &[0u8; 64]].concat();
    let exe = [
        b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".as_slice(),
        &[0u8; 120],
    ]
    .concat();
    for (path, who) in [(&staff_path, c.intake.as_str()), (&track_path, token)] {
        t.upload(path, Some(who), "big.txt", &big)
            .await
            .expect_error(413);
        let fields = t
            .upload(path, Some(who), "empty.png", b"")
            .await
            .expect_error(422);
        assert!(fields.get("file").is_some(), "{fields}");
        for (name, bytes) in [("tool", &elf), ("setup.exe", &exe), ("photo.png", &elf)] {
            let fields = t
                .upload(path, Some(who), name, bytes)
                .await
                .expect_error(422);
            assert!(fields.get("file").is_some(), "{name}: {fields}");
        }
    }
    // The respondent's uploads obey the same limits.
    let portal = t.respondent("merchant", "shop-1").await;
    let respondent_path = format!("/respondent/complaints/{id}/evidence");
    t.upload(&respondent_path, Some(&portal), "big.txt", &big)
        .await
        .expect_error(413);
    t.upload(&respondent_path, Some(&portal), "setup.exe", &exe)
        .await
        .expect_error(422);
    assert!(
        files_under(&evidence_root).is_empty(),
        "refused uploads leave no file: {:?}",
        files_under(&evidence_root)
    );
    let case = t.case(&id, &c.intake).await;
    assert_eq!(case["evidence"], json!([]), "no evidence recorded");
    // Exactly at the limit is fine.
    let at_limit = vec![b'b'; 1024];
    t.upload(&staff_path, Some(&c.intake), "limit.txt", &at_limit)
        .await
        .expect(200);
}

async fn intake_evidence_is_stored_by_content_hash_with_the_name_as_metadata() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.file(complaint(1)).await;
    let g = t.file(complaint(2)).await;
    let id = s(&f["id"]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(b"\0\0\0\rIHDR");
    png.extend((0..200u32).map(|i| (i * 7 % 251) as u8));
    let sha = sha256_hex(&png);

    let case = t
        .upload(
            &format!("/complaints/{id}/evidence"),
            Some(&c.intake),
            "../../evil.png",
            &png,
        )
        .await
        .expect(200);
    let ev = case["evidence"].as_array().unwrap();
    assert_eq!(ev.len(), 1);
    let e = &ev[0];
    assert_eq!(e["content_type"], "image/png");
    assert_eq!(e["filename"], "evil.png");
    assert_eq!(e["sha256"], sha);
    assert_eq!(e["size"], png.len());
    // Under a keyed hash of its content for this case, sealed with the
    // case's key: not the bytes sent, which the store gives back.
    let stored = t.case_file(id, &sha).await;
    assert_ne!(std::fs::read(&stored).unwrap(), png);
    let loaded = t
        .app
        .load(uuid::Uuid::parse_str(id).unwrap())
        .await
        .unwrap();
    assert_eq!(
        t.app
            .evidence
            .read_in_case(loaded.key(), &sha)
            .await
            .unwrap(),
        png
    );
    assert!(!t.dir.join("evil.png").exists());
    assert!(!t.dir.parent().unwrap().join("evil.png").exists());

    // The same bytes again: once more in this case (the same file), once
    // in another case (its own file).
    t.upload(
        &format!("/complaints/{id}/evidence"),
        Some(&c.intake),
        "..\\..\\again.png",
        &png,
    )
    .await
    .expect(200);
    t.upload(
        &format!("/complaints/{}/evidence", s(&g["id"])),
        Some(&c.intake),
        "third.png",
        &png,
    )
    .await
    .expect(200);
    let mut files = files_under(&t.dir.join("evidence"));
    files.sort();
    let mut expected = vec![stored.clone(), t.case_file(s(&g["id"]), &sha).await];
    expected.sort();
    assert_eq!(files, expected, "the same content is stored once per case");
    let case = t.case(&id, &c.intake).await;
    let names: Vec<&str> = case["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["filename"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["evil.png", "again.png"]);

    // The complainant adds material on the tracking page.
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let tracked = t
        .upload(
            &format!("/track/{}/evidence", s(&f["tracking_no"])),
            Some(s(&f["access_token"])),
            "收据.pdf",
            &pdf,
        )
        .await
        .expect(200);
    let mine: Vec<&Value> = tracked["evidence"].as_array().unwrap().iter().collect();
    assert_eq!(mine.len(), 1, "their own uploads: {tracked}");
    assert_eq!(mine[0]["filename"], "收据.pdf");
    assert_eq!(mine[0]["content_type"], "application/pdf");
    let psha = sha256_hex(&pdf);
    // Stored sealed: the disk does not hold the content, the store gives
    // it back.
    let on_disk = std::fs::read(t.case_file(id, &psha).await).unwrap();
    assert!(
        !on_disk.windows(8).any(|w| w == &pdf[..8]),
        "sealed at rest"
    );
    assert_eq!(
        t.app
            .evidence
            .read_in_case(loaded.key(), &psha)
            .await
            .unwrap(),
        pdf
    );
    let case = t.case(&id, &c.intake).await;
    assert_eq!(case["evidence"].as_array().unwrap().len(), 3);
}

async fn intake_public_filing_is_rate_limited_but_keys_and_staff_are_not() {
    let t = TestApp::with(|c| c.public_rate_limit = 2).await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let agent = t.staff("agent", &["intake"], &[], 1).await;
    t.file(complaint(1)).await;
    t.file(complaint(2)).await;
    let a = t.post("/complaints", None, complaint(3)).await;
    assert_eq!(a.status.as_u16(), 429, "{}", a.body);
    assert!(a.body["error"]["code"].is_string(), "{}", a.body);
    assert_eq!(
        total(&t, &sup).await,
        2,
        "the refused filing stored nothing"
    );

    let key = t
        .post(
            "/admin/api-keys",
            Some(&t.admin),
            json!({"name": "backend", "scopes": ["intake"]}),
        )
        .await
        .expect(201);
    for n in 0..4 {
        t.post("/complaints", Some(s(&key["api_key"])), complaint(10 + n))
            .await
            .expect(201);
    }
    for n in 0..3 {
        t.post("/complaints", Some(&agent), complaint(20 + n))
            .await
            .expect(201);
    }
    // Still limited for the public.
    t.post("/complaints", None, complaint(4))
        .await
        .expect_error(429);
    assert_eq!(total(&t, &sup).await, 9);
}

async fn intake_the_list_filters_by_channel_closure_and_filing_time() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let web = t.file(complaint(1)).await;
    let mut by_phone = complaint(2);
    by_phone["channel"] = json!("phone");
    let phoned = t
        .post("/complaints", Some(&c.intake), by_phone)
        .await
        .expect(201);
    t.post(
        &format!("/track/{}/withdraw", web["tracking_no"].as_str().unwrap()),
        web["access_token"].as_str(),
        json!({"reason": "已解决"}),
    )
    .await
    .expect(200);
    t.advance(3 * 86_400).await;
    let later = t.file(complaint(3)).await;
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |query: &str| {
        let (t, sup) = (&t, c.supervisor.clone());
        let path = format!("/complaints?{query}");
        async move { t.get(&path, Some(&sup)).await }
    };
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();

    let phone = list("channel=phone").await.expect(200);
    assert_eq!(ids(&phone), vec![id(&phoned)]);
    assert_eq!(phone["total"], 1);
    let withdrawn = list("closure=withdrawn").await.expect(200);
    assert_eq!(ids(&withdrawn), vec![id(&web)]);
    // The filing time: a date takes its whole day, in the installation's
    // zone; an instant is taken as it is.
    let today = (t.app.now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    let recent = list(&format!("from={today}")).await.expect(200);
    assert_eq!(ids(&recent), vec![id(&later)]);
    let before = list(&format!("to={today}&channel=web")).await.expect(200);
    assert_eq!(ids(&before).len(), 2, "{before}");
    let cut = (t.app.now() - chrono::Duration::days(1)).to_rfc3339();
    let earlier = list(&format!("to={}", cut.replace('+', "%2B")))
        .await
        .expect(200);
    assert_eq!(earlier["total"], 2, "{earlier}");

    // Bad values are named, nothing is listed.
    for (query, field) in [
        ("channel=fax", "channel"),
        ("closure=maybe", "closure"),
        ("from=yesterday", "from"),
        ("from=2026-12-06&to=2026-12-01", "to"),
    ] {
        let fields = list(query).await.expect_error(422);
        assert!(fields.get(field).is_some(), "{query}: {fields}");
    }
}

tests![
    intake_idempotent_retries_file_once,
    intake_a_second_open_complaint_between_the_same_parties_is_flagged,
    intake_bad_input_names_the_fields_and_stores_nothing,
    intake_evidence_is_checked_before_anything_is_stored,
    intake_evidence_is_stored_by_content_hash_with_the_name_as_metadata,
    intake_public_filing_is_rate_limited_but_keys_and_staff_are_not,
    intake_the_list_filters_by_channel_closure_and_filing_time,
];
