//! What the API document says beyond each handler's own description
//! (SPEC §11): a unique `operationId` for every call, named for what it
//! does, and the error answers every call can give by its shape — the
//! credentials it needs, its path, query and body. One place, applied to
//! the whole document after the routes are collected; a test keeps every
//! route named here.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// Each operation's id, by method and path (below `/api/v1`).
pub const OPERATION_IDS: &[(&str, &str)] = &[
    ("GET /actions", "listCorrectiveActions"),
    ("GET /admin/api-keys", "listApiKeys"),
    ("POST /admin/api-keys", "createApiKey"),
    ("DELETE /admin/api-keys/{id}", "revokeApiKey"),
    ("GET /admin/calendar/feed", "getCalendarFeed"),
    ("PUT /admin/calendar/feed", "subscribeCalendarFeed"),
    ("DELETE /admin/calendar/feed", "unsubscribeCalendarFeed"),
    ("POST /admin/calendar/feed/fetch", "fetchCalendarFeed"),
    ("POST /admin/calendar/import", "importCalendar"),
    ("PUT /admin/calendar/{date}", "setCalendarDay"),
    ("GET /admin/canned-replies", "listCannedReplies"),
    ("POST /admin/canned-replies", "createCannedReply"),
    ("DELETE /admin/canned-replies/{id}", "deleteCannedReply"),
    ("PATCH /admin/canned-replies/{id}", "updateCannedReply"),
    ("POST /admin/categories", "createCategory"),
    ("PATCH /admin/categories/{code}", "updateCategory"),
    ("POST /admin/departments", "createDepartment"),
    ("GET /admin/notice-templates", "listNoticeTemplates"),
    (
        "PUT /admin/notice-templates/{kind}/{locale}",
        "setNoticeTemplate",
    ),
    (
        "DELETE /admin/notice-templates/{kind}/{locale}",
        "resetNoticeTemplate",
    ),
    ("POST /admin/respondents", "createRespondent"),
    ("POST /admin/respondents/{id}/keys", "issueRespondentKey"),
    (
        "DELETE /admin/respondents/{id}/keys",
        "revokeRespondentKeys",
    ),
    ("GET /admin/settings/channels", "getChannelSettings"),
    ("PUT /admin/settings/channels", "setChannelSettings"),
    ("POST /admin/users", "createUser"),
    ("PATCH /admin/users/{username}", "updateUser"),
    // Admin lists and department changes (issue 15 item 6).
    ("GET /admin/users", "listUsers"),
    ("GET /admin/departments", "listDepartments"),
    ("PATCH /admin/departments/{code}", "updateDepartment"),
    ("GET /admin/respondents", "listRespondents"),
    ("GET /audit/security", "listSecurityNotices"),
    ("GET /audit/verify", "verifyJournal"),
    ("POST /auth/login", "login"),
    ("POST /auth/logout", "logout"),
    ("POST /auth/password", "changePassword"),
    ("GET /calendar/due", "dueDate"),
    ("GET /calendar/{year}", "calendarYear"),
    ("GET /channels", "publishedChannels"),
    ("GET /complaints", "listComplaints"),
    ("POST /complaints", "fileComplaint"),
    ("GET /complaints/{id}", "getComplaint"),
    ("PATCH /complaints/{id}", "correctComplaint"),
    ("POST /complaints/{id}/accept", "acceptComplaint"),
    (
        "PATCH /complaints/{id}/actions/{action_id}",
        "updateCorrectiveAction",
    ),
    (
        "POST /complaints/{id}/actions/{action_id}/complete",
        "completeCorrectiveAction",
    ),
    ("GET /complaints/{id}/archive", "exportComplaintArchive"),
    ("POST /complaints/{id}/assign", "assignComplaint"),
    ("POST /complaints/{id}/decide", "decideComplaint"),
    ("POST /complaints/{id}/deliveries", "recordPostedNotice"),
    ("POST /complaints/{id}/erase", "eraseComplaint"),
    ("POST /complaints/{id}/evidence", "addStaffEvidence"),
    (
        "GET /complaints/{id}/evidence/{evidence_id}",
        "openStaffEvidence",
    ),
    (
        "GET /complaints/{id}/evidence/{evidence_id}/thumbnail",
        "openStaffEvidenceThumbnail",
    ),
    ("POST /complaints/{id}/extend", "extendComplaint"),
    ("POST /complaints/{id}/legal-hold", "setLegalHold"),
    ("POST /complaints/{id}/links", "linkComplaints"),
    ("POST /complaints/{id}/merge", "mergeComplaint"),
    ("POST /complaints/{id}/messages", "sendMessage"),
    ("POST /complaints/{id}/notes", "addNote"),
    ("POST /complaints/{id}/pause", "pauseClock"),
    ("POST /complaints/{id}/reissue-code", "reissueAccessCode"),
    ("POST /complaints/{id}/reject", "rejectComplaint"),
    ("POST /complaints/{id}/request-info", "requestMaterial"),
    ("POST /complaints/{id}/resume", "resumeClock"),
    ("POST /complaints/{id}/review", "reviewAppeal"),
    ("GET /complaints/{id}/similar", "listSimilarComplaints"),
    ("GET /complaints/{id}/suggestions", "suggestCategories"),
    ("GET /mail/held", "listHeldMail"),
    ("GET /mail/held/{id}", "getHeldMail"),
    ("POST /mail/held/{id}/attach", "attachHeldMail"),
    ("POST /mail/held/{id}/discard", "discardHeldMail"),
    ("GET /public/stats", "publicStats"),
    ("GET /queues", "queues"),
    ("GET /reports/summary", "reportSummary"),
    ("GET /reports/summary.csv", "reportSummaryCsv"),
    // Respondent scorecards and spike alerts (issue 16).
    ("GET /reports/respondents", "reportRespondentScorecards"),
    ("GET /alerts", "listSpikeAlerts"),
    ("GET /exports/cases.csv", "exportCasesCsv"),
    ("GET /respondent/complaints", "respondentListComplaints"),
    (
        "POST /respondent/complaints/{id}/evidence",
        "respondentAddEvidence",
    ),
    (
        "GET /respondent/complaints/{id}/evidence/{evidence_id}",
        "respondentOpenEvidence",
    ),
    (
        "POST /respondent/complaints/{id}/messages",
        "respondentReply",
    ),
    ("POST /test-clock/advance", "advanceTestClock"),
    ("POST /track/recover", "trackRecoverCode"),
    ("GET /track/{tracking_no}", "trackComplaint"),
    ("POST /track/{tracking_no}/appeal", "trackAppeal"),
    ("POST /track/{tracking_no}/evidence", "trackAddEvidence"),
    (
        "GET /track/{tracking_no}/evidence/{evidence_id}",
        "trackOpenEvidence",
    ),
    ("GET /track/{tracking_no}/export", "trackExportData"),
    ("POST /track/{tracking_no}/feedback", "trackFeedback"),
    ("POST /track/{tracking_no}/messages", "trackMessage"),
    ("POST /track/{tracking_no}/supplement", "trackSupplement"),
    ("POST /track/{tracking_no}/withdraw", "trackWithdraw"),
    ("GET /webhooks", "listWebhooks"),
    ("POST /webhooks", "createWebhook"),
    ("POST /webhooks/calls/{call_id}/replay", "replayWebhookCall"),
    ("GET /webhooks/events", "listWebhookEvents"),
    ("GET /webhooks/{id}", "getWebhook"),
    ("DELETE /webhooks/{id}", "deleteWebhook"),
    ("PATCH /webhooks/{id}", "updateWebhook"),
    ("GET /webhooks/{id}/calls", "listWebhookCalls"),
];

/// Calls anyone may make without credentials.
const PUBLIC: &[&str] = &[
    "POST /auth/login",
    "POST /auth/logout",
    "GET /calendar/due",
    "GET /calendar/{year}",
    "GET /channels",
    "GET /public/stats",
    "POST /track/recover",
];

/// The prefix the API's paths carry in the document.
const PREFIX: &str = "/api/v1";

/// Names every operation and adds the error answers its shape implies:
/// 401 and 403 where credentials are needed (a complainant's calls answer
/// a wrong code with 401 only), 404 for a path naming an object, 400 and
/// 422 for a query or a body, 413 for a body, 429 and 503 for every call
/// (rate and concurrency limits).
pub fn finish(doc: &mut OpenApi) {
    event_kinds(doc);
    part_names(doc);
    upload_links(doc);
    let ids: std::collections::HashMap<&str, &str> = OPERATION_IDS.iter().copied().collect();
    for (path, item) in doc.paths.paths.iter_mut() {
        let local = path.strip_prefix(PREFIX).unwrap_or(path);
        let ops = [
            ("GET", item.get.as_mut()),
            ("PUT", item.put.as_mut()),
            ("POST", item.post.as_mut()),
            ("DELETE", item.delete.as_mut()),
            ("PATCH", item.patch.as_mut()),
        ];
        for (method, op) in ops {
            let Some(op) = op else { continue };
            let key = format!("{method} {local}");
            if let Some(id) = ids.get(key.as_str()) {
                op.operation_id = Some((*id).to_string());
            }
            add_errors(op, &key, local);
            no_empty_query_text(op);
        }
    }
}

/// The case event kinds a webhook may name, as an enum of the bodies'
/// `events` (the list lives in the domain).
fn event_kinds(doc: &mut OpenApi) {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let kinds: Vec<serde_json::Value> = std::iter::once("*")
        .chain(redress_domain::events::CASE_EVENTS.iter().copied())
        .map(serde_json::Value::from)
        .collect();
    for name in ["WebhookBody", "WebhookPatchBody"] {
        let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut(name) else {
            continue;
        };
        let Some(RefOr::T(Schema::Array(events))) = body.properties.get_mut("events") else {
            continue;
        };
        if let ArrayItems::RefOrSchema(item) = &mut events.items
            && let RefOr::T(Schema::Object(item)) = item.as_mut()
        {
            item.enum_values = Some(kinds.clone());
        }
    }
}

/// An upload answers with the whole case, whose `id` is the case's: a
/// link from each upload to the call that opens a file says where a file's
/// id is (`evidence/0/id`: the case's first file, which the caller may
/// open), so that a client — or a fuzzer following links — does not take
/// the case's id for the file's.
///
/// utoipa 5.5 writes a `Link`'s fields in snake case (`operation_id`),
/// which OpenAPI readers do not know, so the links object is written as
/// JSON through the answer's extension map (serialised flat into it).
fn upload_links(doc: &mut OpenApi) {
    use utoipa::openapi::extensions::Extensions;
    const UPLOADS: &[(&str, &str, &str)] = &[
        ("/complaints/{id}/evidence", "openStaffEvidence", "id"),
        (
            "/respondent/complaints/{id}/evidence",
            "respondentOpenEvidence",
            "id",
        ),
        (
            "/track/{tracking_no}/evidence",
            "trackOpenEvidence",
            "tracking_no",
        ),
    ];
    for (path, open, case) in UPLOADS {
        let Some(RefOr::T(answer)) = doc
            .paths
            .paths
            .get_mut(&format!("{PREFIX}{path}"))
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.responses.responses.get_mut("200"))
        else {
            continue;
        };
        let link = serde_json::json!({
            *open: {
                "operationId": open,
                "parameters": {
                    *case: format!("$request.path.{case}"),
                    "evidence_id": "$response.body#/evidence/0/id",
                },
                "description": "a file of the case (its first)",
            }
        });
        answer
            .extensions
            .get_or_insert_with(Extensions::default)
            .insert("links".to_string(), link);
    }
}

/// A query parameter given empty is refused (`extract::Params`), so a
/// text parameter says it has at least one character.
fn no_empty_query_text(op: &mut Operation) {
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    for p in op.parameters.iter_mut().flatten() {
        if !matches!(p.parameter_in, ParameterIn::Query) {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut()
            && matches!(&o.schema_type, SchemaType::Type(Type::String))
            && o.min_length.is_none()
        {
            o.min_length = Some(1);
        }
    }
}

/// A multipart part's name travels in a header (`Content-Disposition`),
/// which cannot hold control characters: the upload body says so.
fn part_names(doc: &mut OpenApi) {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    if let Some(RefOr::T(Schema::Object(body))) = components.schemas.get_mut("UploadBody") {
        body.property_names = Some(Box::new(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[^\\u0000-\\u001f\\u007f]*$"))
                .into(),
        ));
    }
}

fn add_errors(op: &mut Operation, key: &str, path: &str) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let has_path = path.contains('{');
    let has_body = op.request_body.is_some();
    let public = PUBLIC.contains(&key);
    let complainant = path.starts_with("/track/{");
    let mut add = |status: &str, what: &str| {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(what)
                        .content(
                            "application/json",
                            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                        )
                        .build(),
                )
            });
    };
    if !public {
        add("401", "no credentials, or credentials that are not valid");
        if !complainant {
            add("403", "the caller may not make this call");
        }
    }
    if has_path {
        add(
            "404",
            "the path names nothing this caller may see (SPEC §9: the same answer as for nothing)",
        );
    }
    if has_query || has_body || has_path {
        add(
            "400",
            "the path, the query string or the body could not be read (not JSON, wrong types)",
        );
        add(
            "422",
            "fields that are not valid: `error.fields` names each with the reason",
        );
    }
    if has_body {
        add("413", "the body is larger than the call takes");
    }
    add(
        "429",
        "too many calls from this address or with these credentials; `Retry-After` says when to try again",
    );
    add(
        "503",
        "the server is at its limit of calls in progress; try again",
    );
    // Error answers come in the order of their codes.
    let sorted: std::collections::BTreeMap<_, _> = std::mem::take(&mut op.responses.responses)
        .into_iter()
        .collect();
    op.responses.responses = sorted;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operations(doc: &OpenApi) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for (path, item) in &doc.paths.paths {
            let local = path.strip_prefix(PREFIX).unwrap_or(path);
            for (method, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ] {
                if let Some(op) = op {
                    out.push((format!("{method} {local}"), op.operation_id.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn every_operation_has_a_unique_id_named_for_what_it_does() {
        let doc = crate::api::document(64 * 1024);
        let ops = operations(&doc);
        assert!(ops.len() >= 90, "{} operations", ops.len());
        let mut seen = std::collections::HashSet::new();
        for (key, id) in &ops {
            let id = id.as_deref().unwrap_or_default();
            assert!(
                OPERATION_IDS.iter().any(|(k, i)| k == key && *i == id),
                "{key} has no id in OPERATION_IDS (it has {id:?})"
            );
            assert!(seen.insert(id.to_string()), "{id} is used twice");
            assert!(
                id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{id} is not lowerCamelCase"
            );
        }
        // Every reference names a schema the document holds.
        let text = serde_json::to_string(&doc).unwrap();
        let schemas = &doc.components.as_ref().unwrap().schemas;
        for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(
                schemas.contains_key(name),
                "{name} is referenced but not in the document"
            );
        }
        // No stale row: every id names an operation of the document.
        for (key, _) in OPERATION_IDS {
            assert!(ops.iter().any(|(k, _)| k == key), "{key} is not a route");
        }
    }

    #[test]
    fn every_operation_documents_the_errors_its_shape_can_give() {
        let doc = crate::api::document(64 * 1024);
        let accept = doc.paths.paths["/api/v1/complaints/{id}/accept"]
            .post
            .as_ref()
            .unwrap();
        let codes: Vec<&str> = accept
            .responses
            .responses
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            codes,
            [
                "200", "400", "401", "403", "404", "409", "413", "422", "429", "503"
            ]
        );
        let channels = doc.paths.paths["/api/v1/channels"].get.as_ref().unwrap();
        let codes: Vec<&str> = channels
            .responses
            .responses
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(codes, ["200", "429", "503"], "a public read without input");
        let track = doc.paths.paths["/api/v1/track/{tracking_no}"]
            .get
            .as_ref()
            .unwrap();
        assert!(track.responses.responses.contains_key("401"));
        assert!(!track.responses.responses.contains_key("403"));
    }

    /// The document as served, kept beside the crate so that a change to
    /// the contract shows in review. After a deliberate change:
    /// `REDRESS_UPDATE_OPENAPI=1 cargo test -p redress-web the_document_matches_its_snapshot`.
    #[test]
    fn the_document_matches_its_snapshot() {
        let doc = crate::api::document(64 * 1024);
        let json = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        if std::env::var_os("REDRESS_UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &json).unwrap();
            return;
        }
        let kept = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            kept == json,
            "the API document differs from crates/redress-web/openapi.json: if the change is meant, \
             run `REDRESS_UPDATE_OPENAPI=1 cargo test -p redress-web the_document_matches_its_snapshot` \
             and review the file's diff"
        );
    }
}
