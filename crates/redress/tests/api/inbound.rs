//! Complaints by e-mail (SPEC §5, channel `email`), through the built-in
//! SMTP receiver with a real client: Python's `smtplib` sends, the
//! receiver hands the mail to the application, and the test reads the
//! result through the HTTP API.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};

use crate::harness::*;
use crate::notices::{MailSink, free_port};

const PUBLIC: &str = "https://complaints.example.com";
/// A tiny PDF: evidence the sniffer accepts.
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// The receiver, started on a free port for this test's application.
struct Receiver {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn receiver(t: &TestApp, max_bytes: usize) -> Receiver {
    use redress_channels::smtp::{SmtpServer, SmtpSettings};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = SmtpServer::new(
        SmtpSettings {
            hostname: "mx.example.com".into(),
            max_message_bytes: max_bytes,
            ..Default::default()
        },
        Arc::new(redress_channels::intake::MailIntake::new(t.app.clone())),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve(listener, async move {
        let _ = stopped.await;
    }));
    Receiver {
        port,
        stop: Some(stop),
    }
}

/// Sends `raw` with Python's smtplib (EHLO, MAIL, RCPT, DATA) and returns
/// the final reply: `(code, text)`.
async fn send(port: u16, from: &str, to: &str, raw: Vec<u8>) -> (u16, String) {
    const SCRIPT: &str = r#"
import smtplib, sys
port, sender, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
data = sys.stdin.buffer.read()
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.example.net")
code, msg = s.mail(sender, ["SIZE=%d" % len(data)] if "size" in s.esmtp_features else [])
if code == 250:
    code, msg = s.rcpt(rcpt)
if code == 250:
    try:
        code, msg = s.data(data)
    except smtplib.SMTPDataError as e:
        code, msg = e.smtp_code, e.smtp_error
print(code, msg.decode("utf-8", "replace").replace("\n", " "))
s.quit()
"#;
    let (from, to, port) = (from.to_string(), to.to_string(), port.to_string());
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new("python3")
            .args(["-c", SCRIPT, &port, &from, &to])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child.stdin.take().unwrap().write_all(&raw).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            out.status.success(),
            "smtplib failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (code, rest) = text.split_once(' ').unwrap_or((&text, ""));
        (code.parse().unwrap(), rest.to_string())
    })
    .await
    .unwrap()
}

/// A mail with an optional PDF attachment, as a mail program writes it.
fn mail(from: &str, subject: &str, body: &str, extra_headers: &str, pdf: bool) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let subject = format!("=?UTF-8?B?{}?=", b64.encode(subject));
    let text = b64.encode(body);
    let id = uuid::Uuid::now_v7();
    let head = format!(
        "From: {from}\r\nTo: complaints@example.com\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@client.example.net>\r\nDate: Sun, 29 Nov 2026 10:00:00 +0800\r\n\
         MIME-Version: 1.0\r\n{extra_headers}"
    );
    let raw = if pdf {
        format!(
            "{head}Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
             --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}\r\n\
             --b1\r\nContent-Type: application/pdf; name=\"receipt.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"receipt.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n\
             --b1--\r\n",
            b64.encode(PDF)
        )
    } else {
        format!(
            "{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}\r\n"
        )
    };
    raw.into_bytes()
}

/// The tracking number in a `250 … queued as RD…` reply.
fn queued_as(reply: &str) -> String {
    reply
        .split_whitespace()
        .find(|w| w.starts_with("RD"))
        .unwrap_or_else(|| panic!("no tracking number in {reply:?}"))
        .to_string()
}

async fn staff_case(t: &TestApp, viewer: &str, tracking_no: &str) -> Value {
    let id = t
        .app
        .load_by_tracking_no(tracking_no)
        .await
        .unwrap()
        .case
        .id;
    t.case(&id, viewer).await
}

/// The case's evidence from the mail's attachments.
fn attachments(case: &Value) -> Vec<&Value> {
    case["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["content_type"] != "message/rfc822")
        .collect()
}

/// The messages kept as received (`.eml`).
fn originals(case: &Value) -> Vec<&Value> {
    case["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["content_type"] == "message/rfc822")
        .collect()
}

async fn total_cases(t: &TestApp, viewer: &str) -> u64 {
    t.get("/complaints", Some(viewer)).await.expect(200)["total"]
        .as_u64()
        .unwrap()
}

async fn with_relay(port: u16) -> TestApp {
    TestApp::with(|c| {
        c.smtp_relay = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = Some(PUBLIC.into());
        c.mail_from = Some("投诉处理 <complaints@example.com>".into());
    })
    .await
}

async fn a_mail_opens_a_case_with_its_attachment_and_is_acknowledged() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let c = t.cast().await;
    let rx = receiver(&t, 25 * 1024 * 1024).await;
    let raw = mail(
        "王五 <wang@example.net>",
        "快递丢件，商家不处理",
        "我在好店买的耳机，快递显示已签收但我没有收到。商家不处理。\n订单号 A-1001。",
        "",
        true,
    );
    let (code, reply) = send(rx.port, "wang@example.net", "complaints@example.com", raw).await;
    assert_eq!(code, 250, "{reply}");
    let no = queued_as(&reply);

    let case = staff_case(&t, &c.supervisor, &no).await;
    assert_eq!(case["channel"], "email");
    assert_eq!(case["status"], "submitted");
    assert_eq!(case["locale"], "zh-CN");
    assert_eq!(case["subject"], "快递丢件，商家不处理");
    let record = &case["record"];
    assert!(
        record["description"]
            .as_str()
            .unwrap()
            .contains("订单号 A-1001"),
        "{record}"
    );
    assert_eq!(record["complainant"]["name"], "王五");
    assert!(record["respondent"].is_null(), "{record}");
    let evidence = attachments(&case);
    assert_eq!(evidence.len(), 1, "{case}");
    assert_eq!(evidence[0]["filename"], "receipt.pdf");
    assert_eq!(evidence[0]["content_type"], "application/pdf");
    assert_eq!(evidence[0]["size"], PDF.len());
    // The message as received stays with the case, for staff only.
    let originals = originals(&case);
    assert_eq!(originals.len(), 1, "{case}");
    assert!(originals[0]["filename"].as_str().unwrap().ends_with(".eml"));
    assert_eq!(originals[0]["uploaded_by"]["kind"], "system");

    // The acknowledgement goes back to the sender, with the tracking link.
    t.app.sweep().await.unwrap();
    let got = sink.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, "wang@example.net");
    assert!(got[0].subject.contains(&no), "{:?}", got[0]);
    assert!(
        got[0].body.contains(&format!("{PUBLIC}/track/{no}")),
        "{}",
        got[0].body
    );
    // Replies are asked for at the case's reply address; pressing Reply
    // (our Message-ID in In-Reply-To) threads the answer into the case.
    let reply_to = got[0].header("Reply-To").unwrap();
    assert!(
        reply_to.contains(&format!("complaints+{}.", no.to_lowercase())),
        "{reply_to}"
    );
    let raw = mail(
        "王五 <wang@example.net>",
        "Re: 回执",
        "谢谢，耳机的照片稍后补上。",
        &format!("In-Reply-To: <{}>\r\n", got[0].message_id),
        false,
    );
    let (code, reply) = send(rx.port, "wang@example.net", "complaints@example.com", raw).await;
    assert_eq!(code, 250, "{reply}");
    assert_eq!(queued_as(&reply), no, "threaded, not a new case");

    // The respondent is unknown until an agent completes the record.
    let id = case["id"].as_str().unwrap();
    t.refused(
        &id,
        "accept",
        &c.intake,
        json!({"category": "delivery"}),
        422,
    )
    .await;
    t.call(
        "PATCH",
        &format!("/complaints/{id}"),
        Some(&c.intake),
        Some(json!({"respondent": {"kind": "merchant", "id": "shop-1", "name": "好店"}})),
    )
    .await
    .expect(200);
    t.act(&id, "accept", &c.intake, json!({"category": "delivery"}))
        .await;

    // The same mail delivered twice (the sender did not hear our 250) is
    // one case.
    let raw = mail(
        "lee@example.net",
        "Refund refused",
        "The shop refuses my refund.",
        "",
        false,
    );
    let (code, first) = send(
        rx.port,
        "lee@example.net",
        "complaints@example.com",
        raw.clone(),
    )
    .await;
    assert_eq!(code, 250);
    let before = total_cases(&t, &c.supervisor).await;
    let (code, again) = send(rx.port, "lee@example.net", "complaints@example.com", raw).await;
    assert_eq!(code, 250);
    assert_eq!(queued_as(&first), queued_as(&again));
    assert_eq!(total_cases(&t, &c.supervisor).await, before);
    // Written in English: an English case, acknowledged in English.
    let en = staff_case(&t, &c.supervisor, &queued_as(&first)).await;
    assert_eq!(en["locale"], "en");
    t.app.sweep().await.unwrap();
    let got = sink.wait_for(2).await;
    let ack = got.iter().find(|m| m.to == "lee@example.net").unwrap();
    assert!(ack.subject.starts_with("We have received"), "{ack:?}");
}

async fn replies_thread_from_the_complainant_and_others_are_held() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let rx = receiver(&t, 25 * 1024 * 1024).await;
    let (_, reply) = send(
        rx.port,
        "zhao@example.net",
        "complaints@example.com",
        mail("zhao@example.net", "退款被拒", "商家拒绝退款。", "", false),
    )
    .await;
    let no = queued_as(&reply);

    // The complainant answers to the address our notices give as Reply-To
    // (the case's reply token after a `+`): quoted history is cut, the
    // attachment kept.
    let reply_to = t.app.reply_address(&no).unwrap();
    let answer = format!(
        "补充：付款截图见附件。\n\n在 2026年11月29日，投诉处理 写道：\n> 您的投诉已收到（{no}）"
    );
    let raw = mail(
        "Zhao <ZHAO@example.net>",
        &format!("Re: 您的投诉已收到（{no}）"),
        &answer,
        "",
        true,
    );
    let (code, reply) = send(rx.port, "zhao@example.net", &reply_to, raw.clone()).await;
    assert_eq!(code, 250, "{reply}");
    assert_eq!(queued_as(&reply), no);
    // Delivered twice: added once.
    let (code, _) = send(rx.port, "zhao@example.net", &reply_to, raw).await;
    assert_eq!(code, 250);
    let case = staff_case(&t, &c.supervisor, &no).await;
    let from_complainant: Vec<&Value> = case["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"]["kind"] == "complainant")
        .collect();
    assert_eq!(from_complainant.len(), 1, "{case}");
    assert_eq!(from_complainant[0]["body"], "补充：付款截图见附件。");
    assert_eq!(attachments(&case).len(), 1, "{case}");
    assert_eq!(originals(&case).len(), 2, "the opening mail and the reply");

    // The reply address carries the token; but this sender is a stranger.
    let raw = mail(
        "mallory@example.org",
        "about a case",
        "我也有话说。",
        "",
        true,
    );
    let (code, reply) = send(rx.port, "mallory@example.org", &reply_to, raw).await;
    assert_eq!(code, 250, "{reply}");
    let case_after = staff_case(&t, &c.supervisor, &no).await;
    assert_eq!(case_after["messages"], case["messages"], "nothing added");

    // It waits in the held-mail queue: intake agents only, sender masked.
    t.get("/mail/held", Some(&c.handler))
        .await
        .expect_error(403);
    let held = t.get("/mail/held", Some(&c.intake)).await.expect(200);
    assert_eq!(held["total"], 1, "{held}");
    let item = &held["items"][0];
    assert_eq!(item["tracking_no"], no.as_str());
    assert_eq!(item["state"], "held");
    assert_eq!(item["sender"], "m***@example.org");
    let hid = item["id"].as_str().unwrap().to_string();
    let full = t
        .get(&format!("/mail/held/{hid}"), Some(&c.intake))
        .await
        .expect(200);
    assert_eq!(full["sender"], "mallory@example.org");
    assert_eq!(full["body"], "我也有话说。");
    assert_eq!(full["attachments"][0]["filename"], "receipt.pdf");

    // Attached as an internal note, with the attachment as evidence.
    let fields = t
        .post(
            &format!("/mail/held/{hid}/attach"),
            Some(&c.intake),
            json!({"as": "shout"}),
        )
        .await
        .expect_error(422);
    assert!(
        fields.get("case").is_some() && fields.get("as").is_some(),
        "{fields}"
    );
    let attached = t
        .post(
            &format!("/mail/held/{hid}/attach"),
            Some(&c.intake),
            json!({"case": no, "as": "note"}),
        )
        .await
        .expect(200);
    let notes = attached["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(
            |n| n["body"].as_str().unwrap().contains("mallory@example.org")
                && n["body"].as_str().unwrap().contains("我也有话说。")
        ),
        "{attached}"
    );
    assert_eq!(attachments(&attached).len(), 2, "{attached}");
    assert_eq!(originals(&attached).len(), 3, "{attached}");
    t.post(
        &format!("/mail/held/{hid}/attach"),
        Some(&c.intake),
        json!({"case": no}),
    )
    .await
    .expect_error(409);
    assert_eq!(
        t.get("/mail/held", Some(&c.intake)).await.expect(200)["total"],
        0
    );

    // A mail naming a case that does not exist is held as well; discarded.
    let raw = mail(
        "zhao@example.net",
        "Re: RD261129-ZZZZZZ",
        "hello",
        "",
        false,
    );
    let (code, reply) = send(rx.port, "zhao@example.net", "complaints@example.com", raw).await;
    assert_eq!((code, reply.contains("held")), (250, true), "{reply}");
    let held = t.get("/mail/held", Some(&c.intake)).await.expect(200);
    assert_eq!(held["total"], 1);
    let hid = held["items"][0]["id"].as_str().unwrap();
    let gone = t
        .post(
            &format!("/mail/held/{hid}/discard"),
            Some(&c.intake),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(gone["state"], "discarded");
    let all = t
        .get("/mail/held?state=all", Some(&c.intake))
        .await
        .expect(200);
    assert_eq!(all["total"], 2);

    // A tracking number alone is no reply token: from the complainant's
    // own address, naming the case in the subject or in a bare
    // plus-address, or with a forged token, the mail is held.
    let before = t
        .get("/mail/held?state=all", Some(&c.intake))
        .await
        .expect(200)["total"]
        .as_u64()
        .unwrap();
    let forged = reply_to.replace(
        &reply_to[reply_to.find('.').unwrap() + 1..reply_to.find('@').unwrap()],
        "0123456789abcdef",
    );
    for to in [
        "complaints@example.com".to_string(),
        format!("complaints+{}@example.com", no.to_lowercase()),
        forged,
    ] {
        let raw = mail(
            "zhao@example.net",
            &format!("Re: 您的投诉已收到（{no}）"),
            "再补充一句。",
            "",
            false,
        );
        let (code, reply) = send(rx.port, "zhao@example.net", &to, raw).await;
        assert_eq!(code, 250, "{reply}");
        assert!(reply.contains("held"), "{to}: {reply}");
    }
    let after = t
        .get("/mail/held?state=all", Some(&c.intake))
        .await
        .expect(200)["total"]
        .as_u64()
        .unwrap();
    assert_eq!(after, before + 3);
}

async fn automatic_mail_is_dropped_and_a_bounce_marks_the_notice() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let c = t.cast().await;
    let rx = receiver(&t, 25 * 1024 * 1024).await;
    let (_, reply) = send(
        rx.port,
        "gone@example.net",
        "complaints@example.com",
        mail("gone@example.net", "退款被拒", "商家拒绝退款。", "", false),
    )
    .await;
    let no = queued_as(&reply);
    t.app.sweep().await.unwrap();
    let sent = sink.wait_for(1).await;
    assert_eq!(sent.len(), 1);
    let before = total_cases(&t, &c.supervisor).await;

    // An auto-reply, a list mail and a mail from our own address: taken
    // and dropped, never answered, no case.
    for headers in [
        "Auto-Submitted: auto-replied\r\n",
        "Precedence: bulk\r\n",
        "List-Id: <news.example.org>\r\n",
    ] {
        let raw = mail(
            "robot@example.org",
            "Out of office",
            "I am away.",
            headers,
            false,
        );
        let (code, reply) = send(rx.port, "robot@example.org", "complaints@example.com", raw).await;
        assert_eq!(code, 250, "{headers}: {reply}");
        assert!(reply.contains("dropped"), "{reply}");
    }
    let raw = mail(
        "complaints@example.com",
        "loop",
        "our own notice",
        "",
        false,
    );
    let (code, _) = send(
        rx.port,
        "complaints@example.com",
        "complaints@example.com",
        raw,
    )
    .await;
    assert_eq!(code, 250);
    assert_eq!(total_cases(&t, &c.supervisor).await, before);
    t.app.sweep().await.unwrap();
    assert_eq!(sink.messages().len(), 1, "nothing answered");

    // A delivery status notification for our acknowledgement, from the
    // null sender: the delivery is marked bounced.
    let ours = &sent[0].message_id;
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: complaints@example.com\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.example.net>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\
         --r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n\
         Final-Recipient: rfc822; gone@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{ours}>\r\nSubject: x\r\n\r\n--r--\r\n"
    );
    let (code, reply) = send(rx.port, "", "complaints@example.com", dsn.into_bytes()).await;
    assert_eq!(code, 250, "{reply}");
    let case = staff_case(&t, &c.supervisor, &no).await;
    let email: Vec<&Value> = case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"] == "email")
        .collect();
    assert_eq!(email[0]["status"], "bounced", "{case}");
    assert_eq!(total_cases(&t, &c.supervisor).await, before);
}

async fn an_oversized_or_empty_mail_is_refused_and_leaves_nothing() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let rx = receiver(&t, 64 * 1024).await;
    let big = "退款".repeat(40_000);
    let raw = mail("big@example.net", "太大了", &big, "", false);
    assert!(raw.len() > 64 * 1024);
    let (code, reply) = send(rx.port, "big@example.net", "complaints@example.com", raw).await;
    assert_eq!(code, 552, "{reply}");
    // Nothing to make a complaint of: refused, naming why.
    let raw = b"From: empty@example.net\r\nSubject: \r\nMessage-ID: <e1@x>\r\n\r\n".to_vec();
    let (code, reply) = send(rx.port, "empty@example.net", "complaints@example.com", raw).await;
    assert_eq!(code, 550, "{reply}");
    assert!(reply.contains("body"), "{reply}");
    assert_eq!(total_cases(&t, &c.supervisor).await, 0);
    assert_eq!(
        t.get("/mail/held?state=all", Some(&c.intake))
            .await
            .expect(200)["total"],
        0
    );
}

/// How a sample mail names its attachment.
#[derive(Clone, Copy)]
enum FileName {
    /// `filename="=?cs?B?…?="` (RFC 2047 inside the parameter).
    Words,
    /// `filename*=cs''%XX…` (RFC 2231).
    Percent,
    /// `filename*0*=cs''%XX…; filename*1*=%XX…` (RFC 2231 continuations).
    Continued,
    /// Raw 8-bit bytes in the quoted value.
    Raw,
}

/// One complaint written by a mail client in a legacy character set.
struct Sample {
    /// The label the client puts on its text; `None`: it names none.
    label: Option<&'static str>,
    enc: &'static encoding_rs::Encoding,
    name: &'static str,
    subject: &'static str,
    body: &'static str,
    file: &'static str,
    file_form: FileName,
    /// `8bit`, `base64` or `quoted-printable`.
    transfer: &'static str,
    /// A word of the body that search must find.
    word: &'static str,
}

fn in_charset(enc: &'static encoding_rs::Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = enc.encode(text);
    assert!(!unmappable, "{text} fits {}", enc.name());
    bytes.into_owned()
}

fn quoted_printable(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut line = 0;
    for b in bytes {
        let piece = if b.is_ascii_graphic() && *b != b'=' || *b == b' ' {
            vec![*b]
        } else {
            format!("={b:02X}").into_bytes()
        };
        if line + piece.len() > 72 {
            out.extend_from_slice(b"=\r\n");
            line = 0;
        }
        line += piece.len();
        out.extend(piece);
    }
    out
}

/// The raw message a client writing `s` sends.
fn legacy_mail(s: &Sample, from: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let word = |text: &str| match s.label {
        Some(label) => {
            format!("=?{label}?B?{}?=", b64.encode(in_charset(s.enc, text))).into_bytes()
        }
        // No label to give: raw 8-bit bytes, as some clients send.
        None => in_charset(s.enc, text),
    };
    let pct = |text: &str| -> String {
        in_charset(s.enc, text)
            .iter()
            .map(|b| format!("%{b:02X}"))
            .collect()
    };
    let label = s.label.unwrap_or("gbk");
    let mut m: Vec<u8> = Vec::new();
    m.extend(b"From: ");
    m.extend(word(s.name));
    m.extend(format!(" <{from}>\r\nTo: complaints@example.com\r\nSubject: ").as_bytes());
    m.extend(word(s.subject));
    m.extend(
        format!(
            "\r\nMessage-ID: <{}@client.example.net>\r\nDate: Sun, 06 Dec 2026 10:00:00 +0800\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n",
            uuid::Uuid::now_v7()
        )
        .as_bytes(),
    );
    m.extend(b"Content-Type: text/plain");
    if let Some(label) = s.label {
        m.extend(format!("; charset=\"{label}\"").as_bytes());
    }
    m.extend(format!("\r\nContent-Transfer-Encoding: {}\r\n\r\n", s.transfer).as_bytes());
    let body = in_charset(s.enc, s.body);
    match s.transfer {
        "base64" => m.extend(b64.encode(&body).as_bytes()),
        "quoted-printable" => m.extend(quoted_printable(&body)),
        _ => m.extend(&body),
    }
    m.extend(b"\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;\r\n ");
    match s.file_form {
        FileName::Words => {
            m.extend(b"filename=\"");
            m.extend(word(s.file));
            m.extend(b"\"");
        }
        FileName::Percent => m.extend(format!("filename*={label}''{}", pct(s.file)).as_bytes()),
        FileName::Continued => {
            let all = pct(s.file);
            // Split between two %XX triplets, inside a character.
            let cut = (all.len() / 3 / 2) * 3 + 3;
            m.extend(
                format!(
                    "filename*0*={label}''{};\r\n filename*1*={}",
                    &all[..cut],
                    &all[cut..]
                )
                .as_bytes(),
            );
        }
        FileName::Raw => {
            m.extend(b"filename=\"");
            m.extend(in_charset(s.enc, s.file));
            m.extend(b"\"");
        }
    }
    m.extend(
        format!(
            "\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
            b64.encode(PDF)
        )
        .as_bytes(),
    );
    m
}

async fn mail_in_legacy_charsets_reads_as_sent() {
    use encoding_rs::{BIG5, GB18030, ISO_2022_JP, SHIFT_JIS};
    let t = TestApp::new().await;
    let c = t.cast().await;
    let rx = receiver(&t, 25 * 1024 * 1024).await;
    let samples = [
        Sample {
            label: Some("gb2312"),
            enc: GB18030,
            name: "王小明",
            subject: "投诉：收到的快递破损",
            body: "快递破损严重，商家拒绝退款。订单号 G-1001。",
            file: "破损照片.pdf",
            file_form: FileName::Words,
            transfer: "8bit",
            word: "破损",
        },
        Sample {
            label: Some("GBK"),
            enc: GB18030,
            name: "李四",
            subject: "商家虚假宣传，要求赔偿",
            body: "商品页面写的是纯棉，收到后发现是化纤。\r\n请平台核实。",
            file: "发票截图.pdf",
            file_form: FileName::Percent,
            transfer: "base64",
            word: "化纤",
        },
        Sample {
            // A four-byte character under the GB18030 label.
            label: Some("gb18030"),
            enc: GB18030,
            name: "𠮷田",
            subject: "𠮷野家外卖一直未送达",
            body: "在𠮷野家点的外卖三小时没有送到，骑手不接电话。",
            file: "订单详情𠮷.pdf",
            file_form: FileName::Continued,
            transfer: "quoted-printable",
            word: "骑手",
        },
        Sample {
            label: Some("big5"),
            enc: BIG5,
            name: "陳大文",
            subject: "退貨申請被拒絕",
            body: "網購的耳機壞了，賣家拒絕退貨。訂單 T-77。",
            file: "收據.pdf",
            file_form: FileName::Percent,
            transfer: "base64",
            word: "耳機",
        },
        Sample {
            label: Some("shift_jis"),
            enc: SHIFT_JIS,
            name: "山田太郎",
            subject: "返金されていません",
            body: "注文番号 J-1 の返金がまだです。確認をお願いします。",
            file: "領収書.pdf",
            file_form: FileName::Words,
            transfer: "base64",
            word: "返金",
        },
        Sample {
            label: Some("iso-2022-jp"),
            enc: ISO_2022_JP,
            name: "鈴木花子",
            subject: "配送遅延について",
            body: "注文した商品が二週間届きません。",
            file: "注文控え.pdf",
            file_form: FileName::Words,
            transfer: "7bit",
            word: "配送",
        },
        Sample {
            // No charset anywhere: raw 8-bit GBK headers, an unlabelled
            // body, a raw file name.
            label: None,
            enc: GB18030,
            name: "赵六",
            subject: "客服态度恶劣，投诉无人处理",
            body: "我多次联系客服，对方态度恶劣并挂断电话，至今没有人处理我的退款申请。",
            file: "通话记录截图.pdf",
            file_form: FileName::Raw,
            transfer: "8bit",
            word: "客服",
        },
    ];
    for (i, s) in samples.iter().enumerate() {
        let from = format!("sender{i}@example.net");
        let (code, reply) = send(
            rx.port,
            &from,
            "complaints@example.com",
            legacy_mail(s, &from),
        )
        .await;
        assert_eq!(code, 250, "{}: {reply}", s.subject);
        let no = queued_as(&reply);
        let case = staff_case(&t, &c.supervisor, &no).await;
        assert_eq!(case["subject"], s.subject, "{case}");
        let record = &case["record"];
        let want = s.body.replace("\r\n", "\n");
        assert_eq!(record["description"], want.as_str(), "{}", s.subject);
        assert_eq!(record["complainant"]["name"], s.name, "{}", s.subject);
        let names: Vec<&Value> = attachments(&case).iter().map(|e| &e["filename"]).collect();
        assert_eq!(names, [s.file], "{}", s.subject);
        assert_eq!(originals(&case).len(), 1, "{}", s.subject);
        // Indexed after decoding: search finds the sender's words.
        let found = t
            .get(&format!("/complaints?q={}", s.word), Some(&c.supervisor))
            .await
            .expect(200);
        assert!(
            found["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["tracking_no"] == no.as_str()),
            "q={} did not find {no}: {found}",
            s.word
        );
    }
}

/// A reply in GBK threads into its case as text, a stranger's GBK mail
/// is held readable, and a subject split inside a character across two
/// encoded-words, in a multipart/alternative with an HTML part, reads
/// whole.
async fn legacy_charsets_in_replies_held_mail_and_split_words() {
    use encoding_rs::GB18030;
    let t = TestApp::new().await;
    let c = t.cast().await;
    let rx = receiver(&t, 25 * 1024 * 1024).await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let gbk = |s: &str| in_charset(GB18030, s);
    let subject = gbk("售后服务拒绝维修");
    let mut m = b"From: =?gbk?Q?=D5=C5=C8=FD?= <zhang@example.net>\r\nTo: complaints@example.com\r\nSubject: "
        .to_vec();
    m.extend(
        format!(
            "=?GBK?B?{}?=\r\n =?GBK?B?{}?=\r\n",
            b64.encode(&subject[..5]),
            b64.encode(&subject[5..])
        )
        .as_bytes(),
    );
    m.extend(
        b"Message-ID: <mixed-1@client.example.net>\r\nMIME-Version: 1.0\r\n\
          Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
          --alt\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
    );
    m.extend(quoted_printable(&gbk("手机保修期内坏了，售后拒绝维修。")));
    m.extend(b"\r\n--alt\r\nContent-Type: text/html; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    m.extend(
        b64.encode(gbk("<p>手机保修期内坏了，<b>售后</b>拒绝维修。</p>"))
            .as_bytes(),
    );
    m.extend(b"\r\n--alt--\r\n");
    let (code, reply) = send(rx.port, "zhang@example.net", "complaints@example.com", m).await;
    assert_eq!(code, 250, "{reply}");
    let no = queued_as(&reply);
    let case = staff_case(&t, &c.supervisor, &no).await;
    assert_eq!(case["subject"], "售后服务拒绝维修");
    assert_eq!(case["record"]["complainant"]["name"], "张三");
    assert_eq!(
        case["record"]["description"],
        "手机保修期内坏了，售后拒绝维修。"
    );

    // The complainant replies in GBK, to the case's reply address.
    let mut r = b"From: zhang@example.net\r\nTo: complaints@example.com\r\nSubject: ".to_vec();
    r.extend(format!("Re: =?gbk?B?{}?= {no}\r\n", b64.encode(gbk("补充材料"))).as_bytes());
    r.extend(
        b"Message-ID: <reply-1@client.example.net>\r\nMIME-Version: 1.0\r\n\
          Content-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    r.extend(gbk("保修卡照片稍后补充。\r\n"));
    let reply_to = t.app.reply_address(&no).unwrap();
    let (code, reply) = send(rx.port, "zhang@example.net", &reply_to, r.clone()).await;
    assert_eq!(code, 250, "{reply}");
    let case = staff_case(&t, &c.supervisor, &no).await;
    assert!(
        case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "保修卡照片稍后补充。"),
        "{case}"
    );

    // The same text from a stranger is held, and reads as sent.
    let mut stranger = format!(
        "From: =?big5?B?{}?= <other@example.org>\r\nTo: complaints@example.com\r\n\
         Subject: Re: =?gbk?B?{}?= {no}\r\nMessage-ID: <reply-2@client.example.net>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=gbk\r\n\r\n",
        b64.encode(in_charset(encoding_rs::BIG5, "路人甲")),
        b64.encode(gbk("补充材料"))
    )
    .into_bytes();
    stranger.extend(gbk("我也要投诉这家店。\r\n"));
    let (code, _) = send(
        rx.port,
        "other@example.org",
        "complaints@example.com",
        stranger,
    )
    .await;
    assert_eq!(code, 250);
    let held = t.get("/mail/held", Some(&c.intake)).await.expect(200);
    let item = &held["items"][0];
    assert_eq!(item["subject"], format!("Re: 补充材料 {no}"), "{held}");
    let full = t
        .get(
            &format!("/mail/held/{}", item["id"].as_str().unwrap()),
            Some(&c.intake),
        )
        .await
        .expect(200);
    assert_eq!(full["body"], "我也要投诉这家店。");
}

tests![
    a_mail_opens_a_case_with_its_attachment_and_is_acknowledged,
    replies_thread_from_the_complainant_and_others_are_held,
    automatic_mail_is_dropped_and_a_bounce_marks_the_notice,
    an_oversized_or_empty_mail_is_refused_and_leaves_nothing,
    mail_in_legacy_charsets_reads_as_sent,
    legacy_charsets_in_replies_held_mail_and_split_words,
];
