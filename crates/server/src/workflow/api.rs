//! Workflow over HTTP: a department's inbox of tasks, the actions on a task (claim, answer,
//! A/B approve or return, transfer) and the case's flow as the applicant and staff see it.

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Csrf;
use crate::http::AppState;
use crate::http::{resolve_case, ApiResult};
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use yichuang_core::Permission;
use yichuang_store::flows::{TaskAction, TaskView};
use yichuang_store::Page;

#[derive(utoipa::OpenApi)]
#[openapi(paths(inbox_api, task_api, flow_api, applicant_api))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tasks", get(inbox_api))
        .route("/api/v1/tasks/{id}/{action}", post(task_api))
        .route("/api/v1/cases/{case}/flow", get(flow_api))
        .route("/api/v1/applicants/{id}", get(applicant_api))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct InboxQuery {
    pub cursor: Option<i64>,
    pub limit: Option<i64>,
}

/// The caller's department inbox: open tasks for their role, due first, with lights.
#[utoipa::path(get, path = "/api/v1/tasks", params(InboxQuery),
    responses((status = 200, description = "tasks"), (status = 403, body = ErrorBody)))]
pub async fn inbox_api(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<InboxQuery>,
) -> ApiResult {
    if !c.account.is_staff() {
        return Err(ApiError::forbidden(c.lang));
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let tasks = st
        .store
        .task_inbox(
            &c.actor(),
            Page {
                cursor: q.cursor,
                limit,
            },
        )
        .await?;
    let next = (tasks.len() as i64 == limit)
        .then(|| tasks.last().map(|t| t.id))
        .flatten();
    Ok(Json(json!({"tasks": tasks, "next_cursor": next})).into_response())
}

/// The body of a task action; each action reads the fields it needs.
#[derive(Deserialize, Serialize, Default, utoipa::ToSchema)]
pub struct TaskBody {
    /// answer: consent (true) or deny (false)
    #[serde(default)]
    pub consent: Option<bool>,
    /// answer: the opinion (required to deny)
    #[serde(default)]
    pub opinion: String,
    /// answer at the decision: the legal basis (required to deny)
    #[serde(default)]
    pub legal_basis: String,
    /// return, transfer: why
    #[serde(default)]
    pub reason: String,
    /// transfer: the department code
    #[serde(default)]
    pub department: String,
}

pub fn action_of(action: &str, b: TaskBody) -> Option<TaskAction> {
    Some(match action {
        "claim" => TaskAction::Claim,
        "answer" => TaskAction::Answer {
            consent: b.consent.unwrap_or(true),
            opinion: b.opinion,
            legal_basis: b.legal_basis,
        },
        "approve" => TaskAction::Approve,
        "return" => TaskAction::Return { reason: b.reason },
        "transfer" => TaskAction::Transfer {
            department: b.department,
            reason: b.reason,
        },
        _ => return None,
    })
}

/// Act on a task: `claim`, `answer` (propose, under A/B review), `approve`, `return`,
/// `transfer`. Refused: a task not in the current stage (409), a second answer (409), the
/// proposer approving (422), a denial without reasons or legal basis (422).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/{action}", request_body = TaskBody,
    responses((status = 200, description = "what happened"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn task_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path((id, action)): Path<(i64, String)>,
    body: Option<Json<TaskBody>>,
) -> ApiResult {
    let b = body.map(|Json(b)| b).unwrap_or_default();
    let Some(a) = action_of(&action, b) else {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "task.unknown_action",
            c.lang.t("未知的任务操作。", "Unknown task action."),
        ));
    };
    let out = st.store.task_action(&c.actor(), id, a).await?;
    Ok(Json(json!({"task": id, "events": out.events, "opened": out.opened})).into_response())
}

/// One stage of a case's flow as shown to people.
#[derive(Serialize)]
pub struct StageView {
    pub index: usize,
    pub name: String,
    pub kind: String,
    /// done | current | pending | skipped
    pub state: &'static str,
    pub tasks: Vec<TaskView>,
}

/// The case's stages with their tasks. Applicants see departments, states and dates; staff
/// also see handlers and opinions.
pub async fn flow_view(st: &AppState, c: &Caller, key: &str) -> Result<Vec<StageView>, ApiError> {
    let id = resolve_case(st, key, c.lang).await?;
    let v = st.store.case_view(&c.actor(), id).await?;
    let staff = c.actor().may_in(Permission::ReadCases, &v.region);
    let stages = st.store.case_stages(id).await?;
    let mut tasks = st.store.case_tasks(id).await?;
    if !staff {
        for t in &mut tasks {
            t.claimed_by = None;
            t.proposed_by = None;
            t.answered_by = None;
            t.handler_name = None;
            if t.stage_kind != "decision" {
                t.opinion.clear();
            }
        }
    }
    let current = tasks
        .iter()
        .filter(|t| matches!(t.state.as_str(), "open" | "claimed" | "proposed"))
        .map(|t| t.stage)
        .min();
    Ok(stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mine: Vec<TaskView> = tasks
                .iter()
                .filter(|t| t.stage == i as i64)
                .cloned()
                .collect();
            let state = if current == Some(i as i64) {
                "current"
            } else if !mine.is_empty() {
                "done"
            } else if current.is_some_and(|c| c < i as i64)
                || (current.is_none() && tasks.is_empty())
            {
                "pending"
            } else {
                "skipped"
            };
            StageView {
                index: i,
                name: s.title(),
                kind: format!("{:?}", s.kind).to_lowercase(),
                state,
                tasks: mine,
            }
        })
        .collect())
}

/// One view of an applicant for staff: every case of that person or enterprise in the
/// caller's region, with corrections, the stage now worked and the result.
#[utoipa::path(get, path = "/api/v1/applicants/{id}", params(InboxQuery),
    responses((status = 200, description = "the applicant and their cases"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn applicant_api(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<InboxQuery>,
) -> ApiResult {
    let v = st
        .store
        .applicant_view(
            &c.actor(),
            id,
            Page {
                cursor: q.cursor,
                limit: q.limit.unwrap_or(50),
            },
        )
        .await?;
    Ok(Json(json!({"applicant": v})).into_response())
}

/// A case's workflow: every stage with its state, department and dates.
#[utoipa::path(get, path = "/api/v1/cases/{case}/flow",
    responses((status = 200, description = "stages"), (status = 404, body = ErrorBody)))]
pub async fn flow_api(State(st): State<AppState>, c: Caller, Path(key): Path<String>) -> ApiResult {
    let stages = flow_view(&st, &c, &key).await?;
    Ok(Json(json!({"stages": stages})).into_response())
}
