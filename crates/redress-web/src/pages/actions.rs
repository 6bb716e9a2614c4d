//! The corrective actions across cases in the console (`/staff/actions`):
//! open, overdue or done, by owner and department, each row linking to
//! its case. The same use case as `GET /api/v1/actions`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::AppError;
use redress_app::actions::ActionQuery;
use serde::Deserialize;

use super::{Base, local_time};
use crate::state::AppState;

struct Row {
    case_id: String,
    tracking_no: String,
    description: String,
    owner: String,
    department: String,
    due: String,
    overdue: bool,
    done_at: String,
    done_by: String,
}

#[derive(Template)]
#[template(path = "staff_actions.html")]
struct ListPage<'a> {
    base: &'a Base,
    rows: Vec<Row>,
    status: String,
    owner: String,
    department: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    status: Option<String>,
    owner: Option<String>,
    department: Option<String>,
}

/// `GET /staff/actions`.
pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (ctx, who) =
        match super::staff::staff_ctx(&s, &headers, "/staff/actions", q.lang.as_deref()).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let clean = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or_default().to_string();
    let (status, owner, department) = (clean(&q.status), clean(&q.owner), clean(&q.department));
    let query = ActionQuery {
        status: Some(status.clone()).filter(|v| !v.is_empty()),
        owner: Some(owner.clone()).filter(|v| !v.is_empty()),
        department: Some(department.clone()).filter(|v| !v.is_empty()),
        limit: None,
    };
    let tz = s.app.config.time_zone;
    let (rows, error, code) = match s.app.list_actions(&who, &query).await {
        Ok(v) => (
            v.items
                .into_iter()
                .map(|a| Row {
                    case_id: a.case_id.to_string(),
                    tracking_no: a.tracking_no,
                    description: a.description,
                    owner: a.owner,
                    department: a.department.unwrap_or_default(),
                    due: local_time(a.due_at, tz),
                    overdue: a.overdue,
                    done_at: a.done_at.map(|t| local_time(t, tz)).unwrap_or_default(),
                    done_by: a.done_by.unwrap_or_default(),
                })
                .collect(),
            None,
            StatusCode::OK,
        ),
        Err(AppError::Invalid(fields)) => (
            Vec::new(),
            Some(super::fields_message(ctx.tr(), &fields)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return ctx.fail(&e),
    };
    let page = ListPage {
        base: &ctx.base,
        rows,
        status: if status.is_empty() {
            "open".into()
        } else {
            status
        },
        owner,
        department,
        error,
    }
    .render();
    ctx.respond(code, page)
}
