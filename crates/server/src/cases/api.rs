//! Cases over HTTP: drafts, forms, uploads, submission, the window's decisions, special
//! procedures, the decision, walk-ins and a case's audit records.

use crate::http::auth::Caller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{CaseKey, Csrf};
use crate::http::AppState;
use crate::http::{idempotent, resolve_case, ApiResult};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::OpenApi;
use yichuang_core::{ActorKind, CaseStatus, Permission};
use yichuang_store::cases::{MaterialCheck, WindowDecision};

#[derive(OpenApi)]
#[openapi(paths(
    create_case,
    list_cases,
    get_case,
    save_form,
    upload_material,
    submit_case,
    check_materials,
    accept_case,
    reject_case,
    correct_case,
    complete_case,
    withdraw_case,
    suspend_case,
    resume_case,
    decide_case,
    case_audit,
    walk_in
))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", post(create_case).get(list_cases))
        .route("/api/v1/cases/{case}", get(get_case))
        .route("/api/v1/cases/{case}/form", put(save_form))
        .route(
            "/api/v1/cases/{case}/materials/{material}",
            post(upload_material),
        )
        .route("/api/v1/cases/{case}/submit", post(submit_case))
        .route("/api/v1/cases/{case}/checks", post(check_materials))
        .route("/api/v1/cases/{case}/accept", post(accept_case))
        .route("/api/v1/cases/{case}/reject", post(reject_case))
        .route("/api/v1/cases/{case}/corrections", post(correct_case))
        .route("/api/v1/cases/{case}/complete", post(complete_case))
        .route("/api/v1/cases/{case}/withdraw", post(withdraw_case))
        .route("/api/v1/cases/{case}/suspend", post(suspend_case))
        .route("/api/v1/cases/{case}/resume", post(resume_case))
        .route("/api/v1/cases/{case}/decide", post(decide_case))
        .route("/api/v1/cases/{case}/audit", get(case_audit))
        .route("/api/v1/walk-ins", post(walk_in))
}

#[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct NewCase {
    item_code: String,
    #[serde(default)]
    form: BTreeMap<String, String>,
    #[serde(default)]
    commitment: bool,
}

/// Start a draft application for an item. Send `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/cases", request_body = NewCase,
    responses((status = 201, description = "draft created"), (status = 422, body = ErrorBody)))]
async fn create_case(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    headers: HeaderMap,
    Json(b): Json<NewCase>,
) -> ApiResult {
    let run = async {
        let id = st
            .store
            .create_draft(&c.actor(), &b.item_code, b.form.clone(), b.commitment)
            .await?;
        Ok((
            StatusCode::CREATED,
            Json(json!({"id": id, "status": "draft"})),
        )
            .into_response())
    };
    idempotent(&st, &c, &headers, &b, run).await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CaseQuery {
    status: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// At most 200; default 50.
    limit: Option<i64>,
}

/// An applicant's own cases; for window staff, the cases waiting in their region (`?status=`).
#[utoipa::path(get, path = "/api/v1/cases", params(CaseQuery), responses((status = 200, description = "cases")))]
async fn list_cases(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<CaseQuery>,
) -> ApiResult {
    let actor = c.actor();
    let cursor = match q.cursor.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            ApiError::bad_request(
                "page.cursor",
                c.lang,
                "cursor 无效。",
                "cursor is not one this API gave out.",
            )
        })?),
        None => None,
    };
    let page = yichuang_store::Page {
        cursor,
        limit: q.limit.unwrap_or(50).clamp(1, 200),
    };
    let cases = match actor.kind {
        ActorKind::Staff { .. } => {
            let status = q.status.as_deref().and_then(CaseStatus::parse);
            st.store.window_queue(&actor, status, page).await
        }
        _ => st.store.my_cases(&actor, page).await,
    }?;
    let next = (cases.len() as i64 == page.limit)
        .then(|| cases.last().map(|k| k.id.to_string()))
        .flatten();
    Ok(Json(json!({"cases": cases, "next_cursor": next})).into_response())
}

/// One case: status, materials, checks, correction notices.
#[utoipa::path(get, path = "/api/v1/cases/{case}", responses((status = 200, description = "case"), (status = 404, body = ErrorBody)))]
async fn get_case(State(st): State<AppState>, c: Caller, CaseKey(id): CaseKey) -> ApiResult {
    let v = st.store.case_view(&c.actor(), id).await?;
    let suspensions = st.store.suspensions(id).await?;
    Ok(Json(json!({"case": v, "suspensions": suspensions})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct FormBody {
    #[serde(default)]
    form: BTreeMap<String, String>,
    #[serde(default)]
    commitment: bool,
}

/// Save the application form of a draft (or during correction).
#[utoipa::path(put, path = "/api/v1/cases/{case}/form", request_body = FormBody,
    responses((status = 200, description = "saved"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_form(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    CaseKey(id): CaseKey,
    Json(b): Json<FormBody>,
) -> ApiResult {
    st.store
        .save_draft(&c.actor(), id, b.form, b.commitment)
        .await?;
    Ok(Json(json!({"saved": true})).into_response())
}

/// Upload one material as multipart field `file` (PDF, JPEG, PNG or OFD by content).
#[utoipa::path(post, path = "/api/v1/cases/{case}/materials/{material}",
    responses((status = 201, description = "stored"), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn upload_material(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path((key, material)): Path<(String, String)>,
    mut mp: Multipart,
) -> ApiResult {
    let id = resolve_case(&st, &key, c.lang).await?;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "upload.too_large",
            c.lang.t("文件过大。", "The file is too large."),
        )
    };
    while let Some(field) = mp.next_field().await.map_err(|_| too_large())? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(|_| too_large())?;
        let sid = crate::cases::uploads::store_material(
            &st,
            &c.actor(),
            id,
            &material,
            &name,
            &bytes,
            c.lang,
        )
        .await?;
        return Ok((StatusCode::CREATED, Json(json!({"submission_id": sid}))).into_response());
    }
    Err(ApiError::bad_request(
        "upload.no_file",
        c.lang,
        "请求中没有名为 file 的文件。",
        "No multipart field named 'file'.",
    ))
}

/// Submit the draft (or resubmit after corrections). Submitting twice returns the same case.
#[utoipa::path(post, path = "/api/v1/cases/{case}/submit",
    responses((status = 200, description = "submitted, with its number"), (status = 422, body = ErrorBody)))]
async fn submit_case(State(st): State<AppState>, Csrf(c): Csrf, CaseKey(id): CaseKey) -> ApiResult {
    let number = st.store.submit(&c.actor(), id).await?;
    Ok(Json(json!({"id": id, "number": number, "status": "submitted"})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
pub struct DecisionBody {
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    checks: Vec<MaterialCheck>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

async fn decide(
    st: &AppState,
    c: &Caller,
    id: i64,
    b: DecisionBody,
    d: Option<WindowDecision>,
) -> ApiResult {
    let actor = c.actor();
    let status = st.store.window_decision(&actor, id, b.checks, d).await?;
    Ok(Json(json!({"id": id, "status": status, "status_zh": status.zh()})).into_response())
}

/// Record the clerk's verdict on materials: ok, missing, wrong (with a reason) or deferred (容缺, with a due date).
#[utoipa::path(post, path = "/api/v1/cases/{case}/checks", request_body = DecisionBody, responses((status = 200, description = "recorded")))]
async fn check_materials(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    CaseKey(id): CaseKey,
    Json(b): Json<DecisionBody>,
) -> ApiResult {
    decide(&st, &c, id, b, None).await
}

/// Accept (受理). Every required material must be checked ok or deferred.
#[utoipa::path(post, path = "/api/v1/cases/{case}/accept", request_body = DecisionBody,
    responses((status = 200, description = "accepted"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn accept_case(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    CaseKey(id): CaseKey,
    b: Option<Json<DecisionBody>>,
) -> ApiResult {
    decide(
        &st,
        &c,
        id,
        b.map(|j| j.0).unwrap_or_default(),
        Some(WindowDecision::Accept),
    )
    .await
}

/// Reject (不予受理) with the legal reason.
#[utoipa::path(post, path = "/api/v1/cases/{case}/reject", request_body = DecisionBody,
    responses((status = 200, description = "rejected"), (status = 422, body = ErrorBody)))]
async fn reject_case(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    CaseKey(id): CaseKey,
    Json(b): Json<DecisionBody>,
) -> ApiResult {
    let reason = b.reason.clone();
    decide(&st, &c, id, b, Some(WindowDecision::Reject { reason })).await
}

/// Issue ONE correction notice listing every material marked missing or wrong (一次性告知).
#[utoipa::path(post, path = "/api/v1/cases/{case}/corrections", request_body = DecisionBody,
    responses((status = 200, description = "notice issued"), (status = 422, body = ErrorBody)))]
async fn correct_case(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    CaseKey(id): CaseKey,
    Json(b): Json<DecisionBody>,
) -> ApiResult {
    let note = b.note.clone();
    decide(&st, &c, id, b, Some(WindowDecision::Corrections { note })).await
}

/// Complete a 即办件 on the spot (accepting it first if needed).
#[utoipa::path(post, path = "/api/v1/cases/{case}/complete", request_body = DecisionBody,
    responses((status = 200, description = "completed"), (status = 422, body = ErrorBody)))]
async fn complete_case(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    CaseKey(id): CaseKey,
    b: Option<Json<DecisionBody>>,
) -> ApiResult {
    decide(
        &st,
        &c,
        id,
        b.map(|j| j.0).unwrap_or_default(),
        Some(WindowDecision::CompleteOnSpot),
    )
    .await
}

/// The applicant withdraws the case before the decision.
#[utoipa::path(post, path = "/api/v1/cases/{case}/withdraw", responses((status = 200, description = "withdrawn"), (status = 409, body = ErrorBody)))]
async fn withdraw_case(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    CaseKey(id): CaseKey,
) -> ApiResult {
    st.store.withdraw(&c.actor(), id).await?;
    Ok(Json(json!({"id": id, "status": "withdrawn"})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SuspendBody {
    /// GB/T 39046 A.7: 1 延长审批, 2 other (expert review, hearing, testing, inspection …)
    kind: String,
    /// e.g. 专家评审
    name: String,
    reason: String,
}

/// Start a special procedure (特别程序): the clock stops until it ends.
#[utoipa::path(post, path = "/api/v1/cases/{case}/suspend", request_body = SuspendBody,
    responses((status = 200, description = "clock stopped"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn suspend_case(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    CaseKey(id): CaseKey,
    Json(b): Json<SuspendBody>,
) -> ApiResult {
    let today = st.store.today();
    st.store
        .suspend(&c.actor(), id, &b.kind, &b.name, &b.reason, today)
        .await?;
    Ok(Json(json!({"id": id, "status": "suspended"})).into_response())
}

/// End the special procedure: every deadline moves by the working days it took.
#[utoipa::path(post, path = "/api/v1/cases/{case}/resume",
    responses((status = 200, description = "clock running"), (status = 409, body = ErrorBody)))]
async fn resume_case(State(st): State<AppState>, Csrf(c): Csrf, CaseKey(id): CaseKey) -> ApiResult {
    let today = st.store.today();
    let k = st.store.resume(&c.actor(), id, today).await?;
    Ok(Json(json!({"id": id, "stopped_working_days": k})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DecideBody {
    /// true: 准予 (the case is completed); false: 不予 (reasons required).
    approve: bool,
    /// Reasons and legal basis; required for a denial.
    #[serde(default)]
    reason: String,
}

/// 办结 with a decision (department reviewers and managers): records the working days used
/// against the internal-control, promised and legal limits.
#[utoipa::path(post, path = "/api/v1/cases/{case}/decide", request_body = DecideBody,
    responses((status = 200, description = "concluded; the case with its conclusion"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_case(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    CaseKey(id): CaseKey,
    Json(b): Json<DecideBody>,
) -> ApiResult {
    st.store
        .decide(&c.actor(), id, b.approve, &b.reason)
        .await?;
    let v = st.store.case_view(&c.actor(), id).await?;
    Ok(Json(json!({"id": id, "status": v.status, "conclusion": v.conclusion})).into_response())
}

/// The audit trail of one case (staff in the case's region only).
#[utoipa::path(get, path = "/api/v1/cases/{case}/audit", responses((status = 200, description = "audit records"), (status = 404, body = ErrorBody)))]
async fn case_audit(State(st): State<AppState>, c: Caller, CaseKey(id): CaseKey) -> ApiResult {
    let v = st.store.case_view(&c.actor(), id).await?;
    if !c.actor().may_in(Permission::ReadCases, &v.region) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "case.not_found",
            c.lang.t("未找到该办件。", "No such case."),
        ));
    }
    let records = match &v.number {
        Some(n) => st.store.audit_for_case(n).await?,
        None => Vec::new(),
    };
    let intact = match &v.number {
        Some(n) => st.store.verify_case_chain(n).await?,
        None => true,
    };
    Ok(Json(json!({"records": records, "chain_intact": intact})).into_response())
}

#[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct WalkInBody {
    pub id_number: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    pub item_code: String,
}

/// A window clerk opens a case for a walk-in applicant, found or created by ID number.
#[utoipa::path(post, path = "/api/v1/walk-ins", request_body = WalkInBody,
    responses((status = 201, description = "draft case for the applicant"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn walk_in(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    headers: HeaderMap,
    Json(b): Json<WalkInBody>,
) -> ApiResult {
    let phone = Some(b.phone.trim().to_string()).filter(|s| !s.is_empty());
    let run = async {
        let id = st
            .store
            .walk_in(&c.actor(), &b.id_number, &b.name, phone, &b.item_code)
            .await?;
        Ok((
            StatusCode::CREATED,
            Json(json!({"id": id, "status": "draft"})),
        )
            .into_response())
    };
    idempotent(&st, &c, &headers, &b, run).await
}
