//! The case archive (SPEC §8): one ZIP holding the registration record,
//! every event, message, note, decision, review and delivery as JSON, a
//! human-readable case file (HTML), the evidence files and a manifest of
//! SHA-256 hashes.
//!
//! Layout, all under a top folder named after the tracking number:
//!
//! ```text
//! RD261128-7K3F9Q/record.json
//! RD261128-7K3F9Q/events.json
//! RD261128-7K3F9Q/messages.json
//! RD261128-7K3F9Q/notes.json
//! RD261128-7K3F9Q/decision.json
//! RD261128-7K3F9Q/review.json
//! RD261128-7K3F9Q/deliveries.json
//! RD261128-7K3F9Q/evidence.json
//! RD261128-7K3F9Q/case-file.html
//! RD261128-7K3F9Q/evidence/<sha256>      (one per distinct file, by hash)
//! RD261128-7K3F9Q/manifest.sha256        (`sha256sum -c` format)
//! RD261128-7K3F9Q/manifest.json          (always last)
//! ```
//!
//! The complainant's satisfaction rating is kept beside the sealed file, not
//! in it: neither `Case::feedback` nor journal entries of kind `feedback`
//! reach the archive. Uploaders' file names are metadata in `evidence.json`
//! only; inside the ZIP an evidence file is named by its hash alone.
//!
//! The output is deterministic: the same input gives the same bytes (file
//! order is fixed, entry times are `generated_at`).

use std::collections::BTreeSet;
use std::io::{Cursor, Write};

use askama::Template;
use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use redress_domain::{
    ActorKind, Audience, Case, Channel, Closure, DeliveryChannel, DeliveryStatus, Locale, Measure,
    NoteKind, NoticeKind, Outcome, Party, RespondentKind, ReviewResult, Status,
};
use redress_store::JournalEntry;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

/// Everything an archive is made from.
pub struct ArchiveInput<'a> {
    /// Contact data already in the form the archive should show (unmasked).
    pub case: &'a Case,
    /// The case's journal entries, in order, as stored (payloads sealed).
    pub events: &'a [JournalEntry],
    /// The case's key, which opens the payloads (`None` once purged).
    pub key: Option<&'a crate::privacy::CaseKey>,
    pub generated_at: DateTime<Utc>,
    /// For the HTML file's human-readable times.
    pub time_zone: Tz,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("evidence {0} is missing from storage")]
    MissingEvidence(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Zip(String),
}

impl From<zip::result::ZipError> for ArchiveError {
    fn from(e: zip::result::ZipError) -> Self {
        match e {
            zip::result::ZipError::Io(io) => ArchiveError::Io(io),
            other => ArchiveError::Zip(other.to_string()),
        }
    }
}

/// The journal kind of the satisfaction rating, which stays out of the archive.
const FEEDBACK_EVENT: &str = "feedback";

/// Builds the archive ZIP in memory (tests and small cases): see
/// [`write_archive`].
pub fn build_archive(
    input: &ArchiveInput,
    read_evidence: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
) -> Result<Vec<u8>, ArchiveError> {
    Ok(write_archive(input, read_evidence, Cursor::new(Vec::new()))?.into_inner())
}

/// Writes the archive ZIP to `out`. `read_evidence(sha256)` returns a
/// file's bytes; an [`std::io::ErrorKind::NotFound`] error becomes
/// [`ArchiveError::MissingEvidence`], and so do bytes that no longer match
/// their hash (the archive must never seal a file that is not the
/// evidence). Evidence files pass one at a time: memory holds the records
/// and one file, never the whole archive.
pub fn write_archive<W: Write + std::io::Seek>(
    input: &ArchiveInput,
    read_evidence: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    out: W,
) -> Result<W, ArchiveError> {
    let case = input.case;
    let root = top_folder(case);

    // Content files in their fixed order; paths relative to the top folder.
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("record.json".into(), to_json(&record_json(case))?),
        (
            "events.json".into(),
            to_json(&events_json(input.events, input.key))?,
        ),
        ("messages.json".into(), to_json(&case.messages)?),
        ("notes.json".into(), to_json(&case.notes)?),
        ("decision.json".into(), to_json(&case.decision)?),
        (
            "review.json".into(),
            to_json(&json!({"appeal": case.appeal, "review": case.review}))?,
        ),
        ("deliveries.json".into(), to_json(&case.deliveries)?),
        ("evidence.json".into(), to_json(&evidence_json(case))?),
    ];

    let html = CaseFile::new(input)
        .render()
        .map_err(|e| ArchiveError::Zip(format!("case file: {e}")))?;
    files.push(("case-file.html".into(), html.into_bytes()));

    // Evidence files, once per distinct hash, in hash order.
    let mut hashes = BTreeSet::new();
    for e in &case.evidence {
        let hash = e.sha256.to_ascii_lowercase();
        if !is_sha256_hex(&hash) {
            return Err(ArchiveError::Zip(format!(
                "evidence {} has a malformed hash",
                e.id
            )));
        }
        hashes.insert(hash);
    }

    let time = zip_time(input.generated_at, input.time_zone);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(time)
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(out);
    // What the manifests list: path, SHA-256 and size of each file.
    let mut listed: Vec<ManifestFile> = Vec::new();
    for (path, bytes) in &files {
        zip.start_file(format!("{root}/{path}"), options)?;
        zip.write_all(bytes)?;
        listed.push(ManifestFile {
            path: path.clone(),
            sha256: sha256_hex(bytes),
            size: bytes.len() as u64,
        });
    }
    drop(files);
    for hash in hashes {
        let bytes = match read_evidence(&hash) {
            Ok(b) => b,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(ArchiveError::MissingEvidence(hash));
            }
            Err(err) => return Err(ArchiveError::Io(err)),
        };
        if sha256_hex(&bytes) != hash {
            return Err(ArchiveError::MissingEvidence(hash));
        }
        let path = format!("evidence/{hash}");
        zip.start_file(
            format!("{root}/{path}"),
            options.large_file(bytes.len() as u64 >= u32::MAX as u64),
        )?;
        zip.write_all(&bytes)?;
        listed.push(ManifestFile {
            path,
            sha256: hash,
            size: bytes.len() as u64,
        });
    }

    // manifest.sha256 lists the content files; manifest.json lists every
    // other file of the ZIP, manifest.sha256 included.
    let mut sums = String::new();
    for f in &listed {
        sums.push_str(&format!("{}  {}\n", f.sha256, f.path));
    }
    let sums = sums.into_bytes();
    zip.start_file(format!("{root}/manifest.sha256"), options)?;
    zip.write_all(&sums)?;
    listed.push(ManifestFile {
        path: "manifest.sha256".into(),
        sha256: sha256_hex(&sums),
        size: sums.len() as u64,
    });
    let manifest = Manifest {
        tracking_no: &case.tracking_no,
        generated_at: input.generated_at,
        files: listed,
    };
    zip.start_file(format!("{root}/manifest.json"), options)?;
    zip.write_all(&to_json(&manifest)?)?;
    Ok(zip.finish()?)
}

#[derive(Serialize)]
struct Manifest<'a> {
    tracking_no: &'a str,
    generated_at: DateTime<Utc>,
    files: Vec<ManifestFile>,
}

#[derive(Serialize)]
struct ManifestFile {
    path: String,
    sha256: String,
    size: u64,
}

/// The entry time: `generated_at` as local time (what unzip tools show),
/// clamped to the range a ZIP can hold.
pub(crate) fn zip_time(at: DateTime<Utc>, tz: Tz) -> zip::DateTime {
    let local = at.with_timezone(&tz);
    let year = local.year().clamp(1980, 2107) as u16;
    zip::DateTime::from_date_and_time(
        year,
        local.month() as u8,
        local.day() as u8,
        local.hour() as u8,
        local.minute() as u8,
        (local.second() as u8).min(58),
    )
    .unwrap_or_default()
}

/// The top folder: the tracking number, or the case id should the tracking
/// number ever hold anything but letters, digits, `-` and `_`.
fn top_folder(case: &Case) -> String {
    let t = &case.tracking_no;
    let safe = !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if safe { t.clone() } else { case.id.to_string() }
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ArchiveError> {
    let mut out =
        serde_json::to_vec_pretty(value).map_err(|e| ArchiveError::Zip(format!("json: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

// ---- the JSON files ---------------------------------------------------------

/// The registration record with the case's identity, state and procedure;
/// never the satisfaction rating nor storage internals (version).
#[derive(Serialize)]
struct RecordFile<'a> {
    id: uuid::Uuid,
    tracking_no: &'a str,
    channel: Channel,
    locale: Locale,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    status: Status,
    closure: Option<Closure>,
    closed_at: Option<DateTime<Utc>>,
    category: &'a Option<String>,
    department: &'a Option<String>,
    assignee: &'a Option<String>,
    call_reference: &'a Option<String>,
    deadlines: &'a redress_domain::Deadlines,
    record: &'a redress_domain::Registration,
    info_request: &'a Option<redress_domain::InfoRequest>,
    rejection: &'a Option<redress_domain::Rejection>,
    extensions: &'a [redress_domain::Extension],
    withdrawal_reason: &'a Option<String>,
    merged_into: Option<uuid::Uuid>,
    merged_from: &'a [uuid::Uuid],
    links: &'a [uuid::Uuid],
    possible_duplicates: &'a [uuid::Uuid],
    legal_hold: bool,
}

fn record_json(case: &Case) -> RecordFile<'_> {
    RecordFile {
        id: case.id,
        tracking_no: &case.tracking_no,
        channel: case.channel,
        locale: case.locale,
        created_at: case.created_at,
        updated_at: case.updated_at,
        status: case.status,
        closure: case.closure,
        closed_at: case.closed_at,
        category: &case.category,
        department: &case.department,
        assignee: &case.assignee,
        call_reference: &case.call_reference,
        deadlines: &case.deadlines,
        record: &case.record,
        info_request: &case.info_request,
        rejection: &case.rejection,
        extensions: &case.extensions,
        withdrawal_reason: &case.withdrawal_reason,
        merged_into: case.merged_into,
        merged_from: &case.merged_from,
        links: &case.links,
        possible_duplicates: &case.possible_duplicates,
        legal_hold: case.legal_hold,
    }
}

fn archived_events(events: &[JournalEntry]) -> impl Iterator<Item = &JournalEntry> {
    events.iter().filter(|e| e.kind != FEEDBACK_EVENT)
}

/// Event data is JSON text in the journal, sealed with the case's key; it
/// is embedded opened, as JSON (or kept as a string should it ever not
/// parse).
fn event_data(e: &JournalEntry, key: Option<&crate::privacy::CaseKey>) -> Value {
    let text = crate::stored::open_event(key, &e.kind, &e.data);
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// A journal entry as archived: its fields in journal order, with `data`
/// parsed. The journal's data text is compact JSON written by `serde_json`,
/// so `data` printed compactly gives the text back and each entry's `hash`
/// can be re-checked with `redress_store::journal::chain_hash` — over
/// `stored_data`, the sealed text the journal holds, when there is one.
#[derive(Serialize)]
struct EventFile<'a> {
    seq: i64,
    case_id: Option<uuid::Uuid>,
    kind: &'a str,
    actor: &'a str,
    at: DateTime<Utc>,
    data: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    stored_data: Option<&'a str>,
    prev_hash: &'a str,
    hash: &'a str,
}

fn events_json<'a>(
    events: &'a [JournalEntry],
    key: Option<&crate::privacy::CaseKey>,
) -> Vec<EventFile<'a>> {
    archived_events(events)
        .map(|e| EventFile {
            seq: e.seq,
            case_id: e.case_id,
            kind: &e.kind,
            actor: &e.actor,
            at: e.at,
            data: event_data(e, key),
            stored_data: crate::privacy::is_case_sealed(&e.data).then_some(e.data.as_str()),
            prev_hash: &e.prev_hash,
            hash: &e.hash,
        })
        .collect()
}

fn evidence_json(case: &Case) -> Value {
    Value::Array(
        case.evidence
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert(
                        "path".into(),
                        Value::String(format!("evidence/{}", e.sha256.to_ascii_lowercase())),
                    );
                }
                v
            })
            .collect(),
    )
}

// ---- the case file ------------------------------------------------------------

/// A labelled value: Chinese label with an English subtitle.
struct Row {
    zh: &'static str,
    en: &'static str,
    value: String,
}

fn row(zh: &'static str, en: &'static str, value: impl Into<String>) -> Row {
    Row {
        zh,
        en,
        value: value.into(),
    }
}

struct EventRow {
    seq: i64,
    at: String,
    kind: String,
    actor: String,
    data: String,
    hash: String,
}

struct MessageRow {
    at: String,
    author: String,
    body: String,
    from_case: Option<String>,
}

struct MessageGroup {
    title: &'static str,
    messages: Vec<MessageRow>,
}

struct NoteRow {
    at: String,
    kind: String,
    author: String,
    body: String,
}

struct ActionRow {
    description: String,
    owner: String,
    due_at: String,
    done: String,
}

struct DecisionView {
    rows: Vec<Row>,
    basis: Vec<String>,
    reply: String,
    remedies: Vec<String>,
    sanctions: Vec<String>,
    actions: Vec<ActionRow>,
}

struct AppealView {
    at: String,
    reason: String,
}

struct ReviewView {
    rows: Vec<Row>,
    basis: Vec<String>,
    reply: String,
}

struct DeliveryRow {
    party: String,
    notice: String,
    channel: String,
    status: String,
    recipient: String,
    created_at: String,
    sent_at: String,
}

struct EvidenceRow {
    filename: String,
    content_type: String,
    size: u64,
    uploaded_by: String,
    at: String,
    from_case: Option<String>,
    path: String,
    sha256: String,
}

#[derive(Template)]
#[template(path = "case_file.html")]
struct CaseFile {
    tracking_no: String,
    status: String,
    closure: Option<String>,
    generated_at: String,
    time_zone: String,
    overview: Vec<Row>,
    complainant: Vec<Row>,
    respondent: Vec<Row>,
    subject: String,
    description: String,
    demands: Option<String>,
    facts: Vec<Row>,
    links: Vec<String>,
    order_numbers: Vec<String>,
    procedure: Vec<Row>,
    info_items: Vec<String>,
    events: Vec<EventRow>,
    message_groups: Vec<MessageGroup>,
    notes: Vec<NoteRow>,
    decision: Option<DecisionView>,
    appeal: Option<AppealView>,
    review: Option<ReviewView>,
    deliveries: Vec<DeliveryRow>,
    evidence: Vec<EvidenceRow>,
}

impl CaseFile {
    fn new(input: &ArchiveInput) -> Self {
        let case = input.case;
        let tz = input.time_zone;
        let t = |at: DateTime<Utc>| fmt_time(at, tz);
        let ot = |at: Option<DateTime<Utc>>| at.map(|a| fmt_time(a, tz)).unwrap_or_else(dash);
        let os = |s: &Option<String>| s.clone().unwrap_or_else(dash);

        let d = &case.deadlines;
        let overview = vec![
            row("案件编号", "Case id", case.id.to_string()),
            row("查询码", "Tracking number", case.tracking_no.clone()),
            row("状态", "Status", status_label(case.status)),
            row(
                "结案方式",
                "Closure",
                case.closure.map(closure_label).unwrap_or_else(dash),
            ),
            row("渠道", "Channel", channel_label(case.channel)),
            row("语言", "Locale", locale_label(case.locale)),
            row("登记时间", "Registered at", t(case.created_at)),
            row("最后更新", "Last change", t(case.updated_at)),
            row("结案时间", "Closed at", ot(case.closed_at)),
            row("分类", "Category", os(&case.category)),
            row("承办部门", "Department", os(&case.department)),
            row("承办人", "Assignee", os(&case.assignee)),
            row("来电/会话编号", "Call reference", os(&case.call_reference)),
            row("受理期限", "Acceptance due", ot(d.acceptance_due_at)),
            row("补正期限", "Supplement due", ot(d.supplement_due_at)),
            row("办理期限", "Handling due", ot(d.handling_due_at)),
            row("复核申请期限", "Appeal due", ot(d.appeal_due_at)),
            row("复核期限", "Review due", ot(d.review_due_at)),
            row("保存期限", "Retained until", ot(d.retention_until)),
            row(
                "诉讼保全",
                "Legal hold",
                if case.legal_hold { "是 Yes" } else { "否 No" },
            ),
        ];

        let r = &case.record;
        let c = &r.complainant;
        let complainant = vec![
            row("姓名", "Name", c.name.clone()),
            row("平台用户号", "User id", os(&c.user_id)),
            row("电子邮箱", "Email", os(&c.email)),
            row("电话", "Phone", os(&c.phone)),
            row("通信地址", "Postal address", os(&c.postal_address)),
        ];
        let respondent = match &r.respondent {
            Some(p) => vec![
                row("类型", "Kind", respondent_kind_label(p.kind)),
                row("标识", "Id", p.id.clone()),
                row("名称", "Name", os(&p.name)),
            ],
            None => vec![row("被投诉方", "Respondent", "未登记 Not recorded")],
        };
        let facts = vec![row("发生时间", "Occurred at", ot(r.occurred_at))];

        let mut procedure = Vec::new();
        let mut info_items = Vec::new();
        if let Some(ir) = &case.info_request {
            procedure.push(row("补正通知", "Request for material", t(ir.requested_at)));
            procedure.push(row("通知人", "Requested by", ir.requested_by.clone()));
            procedure.push(row("补正期限", "Due", t(ir.due_at)));
            procedure.push(row("补正时间", "Answered at", ot(ir.answered_at)));
            info_items = ir.items.clone();
        }
        if let Some(rej) = &case.rejection {
            procedure.push(row("不予受理", "Rejected at", t(rej.at)));
            procedure.push(row("决定人", "Rejected by", rej.by.clone()));
            procedure.push(row("理由", "Reason", rej.reason.clone()));
            procedure.push(row("指引", "Guidance", rej.guidance.clone()));
        }
        for x in &case.extensions {
            procedure.push(row(
                "延长办理期限",
                "Extension",
                format!(
                    "{} → {}（{}，{}）：{}",
                    ot(x.previous_due_at),
                    t(x.due_at),
                    x.by,
                    t(x.at),
                    x.reason
                ),
            ));
        }
        if let Some(w) = &case.withdrawal_reason {
            procedure.push(row("撤回理由", "Withdrawal reason", w.clone()));
        }
        if let Some(m) = case.merged_into {
            procedure.push(row("已并入", "Merged into", m.to_string()));
        }
        if !case.merged_from.is_empty() {
            procedure.push(row(
                "并入的案件",
                "Merged from",
                join_ids(&case.merged_from),
            ));
        }
        if !case.links.is_empty() {
            procedure.push(row("关联案件", "Linked cases", join_ids(&case.links)));
        }
        if !case.possible_duplicates.is_empty() {
            procedure.push(row(
                "可能重复",
                "Possible duplicates",
                join_ids(&case.possible_duplicates),
            ));
        }

        let events = archived_events(input.events)
            .map(|e| EventRow {
                seq: e.seq,
                at: t(e.at),
                kind: event_kind_label(&e.kind),
                actor: e.actor.clone(),
                data: match event_data(e, input.key) {
                    Value::String(s) => s,
                    Value::Object(m) if m.is_empty() => String::new(),
                    v => v.to_string(),
                },
                hash: e.hash.clone(),
            })
            .collect();

        let message_groups = [
            (Audience::Complainant, "与投诉人往来 Complainant thread"),
            (Audience::Respondent, "与被投诉方往来 Respondent thread"),
            (Audience::Internal, "内部沟通 Internal"),
        ]
        .into_iter()
        .map(|(audience, title)| MessageGroup {
            title,
            messages: case
                .messages
                .iter()
                .filter(|m| m.audience == audience)
                .map(|m| MessageRow {
                    at: t(m.at),
                    author: format!("{} · {}", actor_kind_label(m.author.kind), m.author.name),
                    body: m.body.clone(),
                    from_case: m.from_case.clone(),
                })
                .collect(),
        })
        .collect();

        let notes = case
            .notes
            .iter()
            .map(|n| NoteRow {
                at: t(n.at),
                kind: note_kind_label(n.kind),
                author: n.author.clone(),
                body: n.body.clone(),
            })
            .collect();

        let decision = case.decision.as_ref().map(|dec| DecisionView {
            rows: vec![
                row("处理结果", "Outcome", outcome_label(dec.outcome)),
                row(
                    "决定人",
                    "Decided by",
                    format!("{}（级别 level {}）", dec.decided_by, dec.decider_level),
                ),
                row("部门", "Department", os(&dec.department)),
                row("决定时间", "Decided at", t(dec.decided_at)),
            ],
            basis: dec.basis.clone(),
            reply: dec.reply.clone(),
            remedies: dec.remedies.iter().map(measure_text).collect(),
            sanctions: dec.sanctions.iter().map(measure_text).collect(),
            actions: dec
                .actions
                .iter()
                .map(|a| ActionRow {
                    description: a.description.clone(),
                    owner: a.owner.clone(),
                    due_at: t(a.due_at),
                    done: match a.done_at {
                        Some(at) => {
                            let mut s = format!("已完成 Done {}", t(at));
                            if let Some(by) = &a.done_by {
                                s.push_str(&format!("（{by}）"));
                            }
                            if let Some(note) = &a.done_note {
                                s.push_str(&format!("：{note}"));
                            }
                            s
                        }
                        None => "未完成 Open".into(),
                    },
                })
                .collect(),
        });

        let appeal = case.appeal.as_ref().map(|a| AppealView {
            at: t(a.at),
            reason: a.reason.clone(),
        });
        let review = case.review.as_ref().map(|rv| ReviewView {
            rows: vec![
                row("复核结论", "Result", review_result_label(rv.result)),
                row(
                    "变更后的结果",
                    "New outcome",
                    rv.outcome.map(outcome_label).unwrap_or_else(dash),
                ),
                row("复核人", "Reviewed by", rv.reviewed_by.clone()),
                row("复核时间", "Reviewed at", t(rv.reviewed_at)),
            ],
            basis: rv.basis.clone(),
            reply: rv.reply.clone(),
        });

        let deliveries = case
            .deliveries
            .iter()
            .map(|dl| DeliveryRow {
                party: party_label(dl.party),
                notice: notice_label(dl.notice),
                channel: delivery_channel_label(dl.channel),
                status: delivery_status_label(dl.status),
                recipient: dl.recipient.clone(),
                created_at: t(dl.created_at),
                sent_at: ot(dl.sent_at),
            })
            .collect();

        let evidence = case
            .evidence
            .iter()
            .map(|e| {
                let sha256 = e.sha256.to_ascii_lowercase();
                EvidenceRow {
                    filename: e.filename.clone(),
                    content_type: e.content_type.clone(),
                    size: e.size,
                    uploaded_by: format!(
                        "{} · {}",
                        actor_kind_label(e.uploaded_by.kind),
                        e.uploaded_by.name
                    ),
                    at: t(e.at),
                    from_case: e.from_case.clone(),
                    path: format!("evidence/{sha256}"),
                    sha256,
                }
            })
            .collect();

        CaseFile {
            tracking_no: case.tracking_no.clone(),
            status: status_label(case.status),
            closure: case.closure.map(closure_label),
            generated_at: t(input.generated_at),
            time_zone: tz.name().to_string(),
            overview,
            complainant,
            respondent,
            subject: r.subject.clone(),
            description: r.description.clone(),
            demands: r.demands.clone(),
            facts,
            links: r.links.clone(),
            order_numbers: r.order_numbers.clone(),
            procedure,
            info_items,
            events,
            message_groups,
            notes,
            decision,
            appeal,
            review,
            deliveries,
            evidence,
        }
    }
}

fn dash() -> String {
    "—".into()
}

fn fmt_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

fn join_ids(ids: &[uuid::Uuid]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn measure_text(m: &Measure) -> String {
    let mut s = m.kind.clone();
    if let Some(a) = m.amount {
        s.push_str(&format!(" {a}"));
    }
    if let Some(d) = &m.description {
        s.push_str(&format!("：{d}"));
    }
    s
}

/// The journal kind with a Chinese name for the kinds a case goes through.
fn event_kind_label(kind: &str) -> String {
    let zh = match kind {
        "registered" => "登记",
        "info_requested" => "通知补正",
        "supplemented" => "补正",
        "rejected" => "不予受理",
        "accepted" => "受理",
        "assigned" => "分派",
        "message_added" => "留言",
        "note_added" => "办理记录",
        "evidence_added" => "提交证据",
        "record_updated" => "修改登记表",
        "extended" => "延长期限",
        "decided" => "作出决定",
        "sanction_ordered" => "处罚",
        "action_completed" => "整改完成",
        "appealed" => "申请复核",
        "reviewed" => "复核决定",
        "withdrawn" => "撤回",
        "lapsed" => "逾期终止",
        "closed" => "结案",
        "deadline_missed" => "超期",
        "respondent_replied" => "被投诉方答复",
        "respondent_reminder_sent" => "提醒被投诉方答复",
        "respondent_reply_missed" => "被投诉方逾期未答复",
        "linked" => "关联案件",
        "merged" => "并入其他案件",
        "merged_from" => "合并案件",
        "personal_data_viewed" => "查看个人信息",
        "evidence_viewed" => "查看证据文件",
        "case_viewed" => "系统接口查看案件",
        "archive_exported" => "导出案卷",
        _ => return kind.to_string(),
    };
    format!("{zh} {kind}")
}

fn status_label(s: Status) -> String {
    match s {
        Status::Submitted => "已提交 Submitted",
        Status::NeedsInfo => "待补正 Needs information",
        Status::InProgress => "办理中 In progress",
        Status::Resolved => "已答复 Resolved",
        Status::UnderReview => "复核中 Under review",
        Status::Closed => "已结案 Closed",
    }
    .into()
}

fn closure_label(c: Closure) -> String {
    match c {
        Closure::Rejected => "不予受理 Rejected",
        Closure::Lapsed => "逾期未补正 Lapsed",
        Closure::Resolved => "办结 Resolved",
        Closure::Reviewed => "复核办结 Reviewed",
        Closure::Withdrawn => "撤回 Withdrawn",
        Closure::Merged => "合并 Merged",
    }
    .into()
}

fn outcome_label(o: Outcome) -> String {
    match o {
        Outcome::Upheld => "投诉成立 Upheld",
        Outcome::PartiallyUpheld => "部分成立 Partially upheld",
        Outcome::NotUpheld => "投诉不成立 Not upheld",
        Outcome::Settled => "和解 Settled",
    }
    .into()
}

fn review_result_label(r: ReviewResult) -> String {
    match r {
        ReviewResult::Upheld => "维持 Upheld",
        ReviewResult::Modified => "变更 Modified",
    }
    .into()
}

fn channel_label(c: Channel) -> String {
    match c {
        Channel::Web => "网页 Web",
        Channel::Api => "接口 API",
        Channel::Chat => "在线客服 Chat",
        Channel::Email => "邮件 Email",
        Channel::Phone => "电话 Phone",
        Channel::Letter => "来信 Letter",
        Channel::InPerson => "来访 In person",
    }
    .into()
}

fn locale_label(l: Locale) -> String {
    match l {
        Locale::ZhCn => "中文 zh-CN",
        Locale::En => "英文 en",
    }
    .into()
}

fn respondent_kind_label(k: RespondentKind) -> String {
    match k {
        RespondentKind::User => "用户 User",
        RespondentKind::Merchant => "商家 Merchant",
        RespondentKind::Content => "内容 Content",
        RespondentKind::Order => "订单 Order",
        RespondentKind::Platform => "平台 Platform",
    }
    .into()
}

fn actor_kind_label(k: ActorKind) -> &'static str {
    match k {
        ActorKind::Staff => "工作人员 Staff",
        ActorKind::Complainant => "投诉人 Complainant",
        ActorKind::Respondent => "被投诉方 Respondent",
        ActorKind::Integration => "系统接口 Integration",
        ActorKind::System => "系统 System",
    }
}

fn note_kind_label(k: NoteKind) -> String {
    match k {
        NoteKind::Investigation => "调查 Investigation",
        NoteKind::Contact => "联系记录 Contact",
        NoteKind::Note => "备注 Note",
    }
    .into()
}

fn party_label(p: Party) -> String {
    match p {
        Party::Complainant => "投诉人 Complainant",
        Party::Respondent => "被投诉方 Respondent",
        Party::Staff => "工作人员 Staff",
    }
    .into()
}

fn notice_label(n: NoticeKind) -> String {
    match n {
        NoticeKind::Acknowledgement => "收件回执 Acknowledgement",
        NoticeKind::RequestForMaterial => "补正通知 Request for material",
        NoticeKind::Refusal => "不予受理通知 Refusal",
        NoticeKind::Acceptance => "受理通知 Acceptance",
        NoticeKind::Progress => "进度通知 Progress",
        NoticeKind::Result => "处理结果 Result",
        NoticeKind::ReviewResult => "复核结果 Review result",
        NoticeKind::Lapsed => "终止通知 Lapsed",
        NoticeKind::Withdrawn => "撤回确认 Withdrawn",
        NoticeKind::Merged => "合并通知 Merged",
        NoticeKind::Message => "留言 Message",
        NoticeKind::NewComplaint => "投诉转达 New complaint",
        NoticeKind::AppealReceived => "复核申请回执 Appeal received",
        NoticeKind::Closed => "结案通知 Closed",
        NoticeKind::Reminder => "期限提醒 Reminder",
        NoticeKind::Escalation => "逾期督办 Escalation",
        NoticeKind::AccessCode => "查询码补发 New access code",
    }
    .into()
}

fn delivery_channel_label(c: DeliveryChannel) -> String {
    match c {
        DeliveryChannel::Email => "邮件 Email",
        DeliveryChannel::Sms => "短信 SMS",
        DeliveryChannel::Webhook => "Webhook",
        DeliveryChannel::InApp => "站内 In app",
        DeliveryChannel::Post => "邮寄 Post",
    }
    .into()
}

fn delivery_status_label(s: DeliveryStatus) -> String {
    match s {
        DeliveryStatus::Queued => "待发送 Queued",
        DeliveryStatus::Sent => "已发送 Sent",
        DeliveryStatus::Failed => "失败 Failed",
        DeliveryStatus::Bounced => "退回 Bounced",
    }
    .into()
}
