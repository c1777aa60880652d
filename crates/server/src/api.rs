//! JSON API under `/api/v1/`. The OpenAPI document at `/api/openapi.json` is generated from
//! the annotations on these handlers.

use crate::auth::{self, Caller, MaybeCaller};
use crate::error::{ApiError, ErrorBody};
use crate::i18n::Lang;
use crate::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::OpenApi;
use yichuang_core::{ActorKind, CaseNumber, CaseStatus, Permission, ResidentId, Uscc};
use yichuang_store::accounts::{Hall, NewAccount, Window};
use yichuang_store::cases::{MaterialCheck, WindowDecision};
use yichuang_store::catalog::ItemFilter;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Yichuang 一窗 API",
        description = "One-window government service platform. Errors are {\"code\", \"message\"}."
    ),
    paths(
        healthz,
        login,
        logout,
        register,
        me,
        list_items,
        get_item,
        list_departments,
        list_regions,
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
        walk_in,
        crate::calendar::add_working_days,
        crate::supervision::dashboard_api,
        crate::supervision::notices_api,
        crate::supervision::transfers_api,
        crate::supervision::issue_notice_api,
        crate::supervision::reply_api,
        crate::supervision::stats_api,
        crate::supervision::public_api,
        crate::workflow::inbox_api,
        crate::workflow::task_api,
        crate::workflow::flow_api,
        crate::workflow::applicant_api,
        crate::bundles::list_api,
        crate::bundles::guide_api,
        crate::bundles::create_api,
        crate::bundles::view_api,
        crate::bundles::form_api,
        crate::bundles::upload_api,
        crate::bundles::submit_api,
        crate::bundles::accept_api,
        crate::bundles::corrections_api,
        crate::calendar::is_working_day,
        crate::calendar::list_days,
        crate::calendar::import,
        crate::calendar::set_day,
        admin_put_region,
        admin_put_department,
        admin_halls,
        admin_put_hall,
        admin_windows,
        admin_put_window,
        admin_staff,
        admin_create_staff,
        admin_import_catalog,
        admin_export_catalog,
        case_audit,
        crate::notify::inbox_api,
        crate::notify::read_api,
        crate::notify::prefs_get_api,
        crate::notify::prefs_put_api,
        crate::notify::templates_api,
        crate::notify::template_put_api,
        crate::notify::template_preview_api,
        crate::notify::deliveries_api,
        crate::notify::resend_api,
        crate::notify::public_status_api
    ),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/sessions", post(login).delete(logout))
        .route("/api/v1/accounts", post(register))
        .route("/api/v1/me", get(me))
        .route("/api/v1/items", get(list_items))
        .route("/api/v1/items/{code}", get(get_item))
        .route("/api/v1/departments", get(list_departments))
        .route("/api/v1/regions", get(list_regions))
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
        .route("/api/v1/admin/regions", put(admin_put_region))
        .route("/api/v1/admin/departments", put(admin_put_department))
        .route("/api/v1/admin/halls", get(admin_halls).put(admin_put_hall))
        .route(
            "/api/v1/admin/windows",
            get(admin_windows).put(admin_put_window),
        )
        .route(
            "/api/v1/admin/staff",
            get(admin_staff).post(admin_create_staff),
        )
        .route(
            "/api/v1/admin/catalog",
            get(admin_export_catalog).post(admin_import_catalog),
        )
}

pub(crate) type ApiResult<T = Response> = Result<T, ApiError>;

pub(crate) fn store_err(lang: Lang) -> impl Fn(yichuang_store::StoreError) -> ApiError {
    move |e| ApiError::from_store(e, lang)
}

/// A case is addressed by its number (`360822-20261123-000001-7`) or, before it has one, by id.
pub async fn resolve_case(state: &AppState, key: &str, lang: Lang) -> ApiResult<i64> {
    if let Ok(id) = key.parse::<i64>() {
        return Ok(id);
    }
    if CaseNumber::parse(key).is_err() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "case.not_found",
            lang.t("未找到该办件。", "No such case."),
        ));
    }
    state
        .store
        .case_id_by_number(key)
        .await
        .map_err(store_err(lang))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "case.not_found",
                lang.t("未找到该办件。", "No such case."),
            )
        })
}

/// Runs a creating request at most once per `Idempotency-Key`: the same key and body give the
/// same answer; the same key with another body is refused.
pub(crate) async fn idempotent<Fut>(
    st: &AppState,
    c: &Caller,
    headers: &HeaderMap,
    request: &impl serde::Serialize,
    run: Fut,
) -> ApiResult
where
    Fut: std::future::Future<Output = ApiResult>,
{
    use sha2::Digest;
    use yichuang_store::accounts::Idempotency;
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    else {
        return run.await;
    };
    if key.is_empty() || key.len() > 200 {
        return Err(ApiError::bad_request(
            "idempotency.key",
            c.lang,
            "Idempotency-Key 应为1-200个字符。",
            "Idempotency-Key must be 1-200 characters.",
        ));
    }
    let hash = hex::encode(sha2::Sha256::digest(
        serde_json::to_vec(request).unwrap_or_default(),
    ));
    let account = c.account.id;
    match st
        .store
        .idempotency_begin(account, key, &hash)
        .await
        .map_err(store_err(c.lang))?
    {
        Idempotency::Replay(status, body) => Ok((
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            [
                ("content-type", "application/json"),
                ("idempotent-replayed", "true"),
            ],
            body,
        )
            .into_response()),
        Idempotency::Mismatch => Err(ApiError::unprocessable(
            "idempotency.mismatch",
            c.lang,
            "该 Idempotency-Key 已用于另一个请求。",
            "This Idempotency-Key was used for a different request.",
        )),
        Idempotency::InFlight => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency.in_flight",
            c.lang.t(
                "相同请求正在处理中，请稍后重试。",
                "The same request is still being processed; retry shortly.",
            ),
        )),
        Idempotency::Fresh => {
            let answer = run.await;
            let recorded = match answer {
                Ok(resp) if resp.status().is_success() => {
                    let status = resp.status();
                    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                        .await
                        .unwrap_or_default();
                    let text = String::from_utf8_lossy(&body).into_owned();
                    st.store
                        .idempotency_finish(account, key, Some((status.as_u16(), text.clone())))
                        .await
                        .map_err(store_err(c.lang))?;
                    return Ok(
                        (status, [("content-type", "application/json")], text).into_response()
                    );
                }
                other => other,
            };
            st.store
                .idempotency_finish(account, key, None)
                .await
                .map_err(store_err(c.lang))?;
            recorded
        }
    }
}

pub(crate) fn csrf_header(h: &HeaderMap) -> Option<&str> {
    h.get("x-csrf-token").and_then(|v| v.to_str().ok())
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "ok")))]
async fn healthz(State(st): State<AppState>) -> Response {
    match sqlx_ping(&st).await {
        true => Json(json!({"status": "ok", "backend": st.store.backend().name()})).into_response(),
        false => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable"})),
        )
            .into_response(),
    }
}

async fn sqlx_ping(st: &AppState) -> bool {
    st.store.meta("demo_loaded").await.is_ok()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    login: String,
    password: String,
}

/// Log in. Returns a bearer token for API clients and sets the session cookie for browsers.
#[utoipa::path(post, path = "/api/v1/sessions", request_body = LoginBody,
    responses((status = 200, description = "token"), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(st): State<AppState>,
    mc: MaybeCaller,
    headers: HeaderMap,
    Json(b): Json<LoginBody>,
) -> ApiResult {
    let MaybeCaller(_, lang, addr) = mc;
    let li = auth::login(&st, &b.login, &b.password, &addr, lang).await?;
    let cookie = auth::session_cookie(&headers, &li.token, li.max_age_s);
    Ok((
        [("set-cookie", cookie)],
        Json(json!({"token": li.token, "csrf": li.csrf, "account": li.account})),
    )
        .into_response())
}

/// Log out.
#[utoipa::path(delete, path = "/api/v1/sessions", responses((status = 204, description = "logged out")))]
async fn logout(State(st): State<AppState>, headers: HeaderMap) -> ApiResult {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| auth::cookie(&headers, auth::SESSION_COOKIE));
    if let Some(t) = token {
        st.store
            .end_session(&t)
            .await
            .map_err(store_err(Lang::Zh))?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            "set-cookie",
            format!("{}=; Path=/; Max-Age=0", auth::SESSION_COOKIE),
        )],
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterBody {
    /// person | enterprise
    pub kind: String,
    pub name: String,
    /// Resident ID number for a person, USCC for an enterprise. It is also the login.
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub legal_rep: String,
    pub password: String,
}

/// Validates a registration; shared by the API and the page.
pub fn check_registration(b: &RegisterBody, lang: Lang) -> ApiResult<NewAccount> {
    let bad = |code: &str, zh: String, en: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            if lang == Lang::En { en } else { zh },
        )
    };
    if b.name.trim().is_empty() || b.name.chars().count() > 100 {
        return Err(bad(
            "account.name",
            "名称：请填写（100字以内）。".into(),
            "name: required (at most 100 characters).".into(),
        ));
    }
    let id_number = match b.kind.as_str() {
        "person" => ResidentId::parse(&b.id_number)
            .map_err(|e| {
                bad(
                    "account.id_number",
                    format!("身份证号码：{}。", e.zh()),
                    format!("id_number: {e}."),
                )
            })?
            .to_string(),
        "enterprise" => Uscc::parse(&b.id_number)
            .map_err(|e| {
                bad(
                    "account.id_number",
                    format!("统一社会信用代码：{}。", e.zh()),
                    format!("id_number: unified social credit code {e}."),
                )
            })?
            .to_string(),
        _ => {
            return Err(bad(
                "account.kind",
                "申请人类型应为个人或企业。".into(),
                "kind must be person or enterprise.".into(),
            ))
        }
    };
    if b.kind == "person" && !yichuang_core::ids::valid_phone(b.phone.trim()) {
        return Err(bad(
            "account.phone",
            "手机号码：应为11位数字。".into(),
            "phone: must be an 11-digit mobile number.".into(),
        ));
    }
    if b.kind == "enterprise" && b.legal_rep.trim().is_empty() {
        return Err(bad(
            "account.legal_rep",
            "法定代表人：请填写。".into(),
            "legal_rep: required for an enterprise.".into(),
        ));
    }
    if !auth::password_ok(&b.password) {
        return Err(bad(
            "account.password",
            "密码：至少8位，且包含大写字母、小写字母、数字、符号中的三类。".into(),
            "password: at least 8 characters from 3 of upper, lower, digit, symbol.".into(),
        ));
    }
    Ok(NewAccount {
        kind: b.kind.clone(),
        login: id_number.clone(),
        name: b.name.trim().into(),
        id_number: Some(id_number),
        phone: Some(b.phone.trim().to_string()).filter(|s| !s.is_empty()),
        legal_rep: Some(b.legal_rep.trim().to_string()).filter(|s| !s.is_empty()),
        ..Default::default()
    })
}

/// Register as a person or an enterprise. The login is the ID number or USCC.
#[utoipa::path(post, path = "/api/v1/accounts", request_body = RegisterBody,
    responses((status = 201, description = "created"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Json(b): Json<RegisterBody>,
) -> ApiResult {
    let MaybeCaller(_, lang, addr) = mc;
    let mut acc = check_registration(&b, lang)?;
    acc.password_hash = Some(auth::hash_password(b.password.clone()).await);
    let mut actor = yichuang_core::Actor::system();
    actor.client_addr = addr;
    let id = st
        .store
        .create_account(acc.clone(), &actor)
        .await
        .map_err(store_err(lang))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "login": acc.login})),
    )
        .into_response())
}

/// The logged-in account.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, description = "account"), (status = 401, body = ErrorBody)))]
async fn me(c: Caller) -> Json<serde_json::Value> {
    Json(json!({"account": c.account, "csrf": c.csrf}))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ItemQuery {
    department: Option<String>,
    category: Option<String>,
    region: Option<String>,
    q: Option<String>,
}

/// The public catalog, filtered by department, category, region (and below) and name.
#[utoipa::path(get, path = "/api/v1/items", params(ItemQuery), responses((status = 200, description = "items")))]
async fn list_items(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<ItemQuery>,
) -> ApiResult {
    let MaybeCaller(_, lang, _) = mc;
    let items = st
        .store
        .items(&ItemFilter {
            department: q.department,
            category: q.category,
            region: q.region,
            q: q.q,
        })
        .await
        .map_err(store_err(lang))?;
    Ok(Json(json!({"items": items})).into_response())
}

/// One item's full guide, with the national code names alongside the codes.
#[utoipa::path(get, path = "/api/v1/items/{code}", responses((status = 200, description = "guide"), (status = 404, body = ErrorBody)))]
async fn get_item(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Path(code): Path<String>,
) -> ApiResult {
    let MaybeCaller(_, lang, _) = mc;
    use yichuang_core::catalog::codes;
    let it = st.store.item(&code).await.map_err(store_err(lang))?;
    let names = json!({
        "item_type": codes::name(codes::ITEM_TYPE, &it.item_type),
        "exercise_level": codes::name(codes::EXERCISE_LEVEL, &it.exercise_level),
        "case_type": codes::name(codes::CASE_TYPE, &it.case_type),
        "subject_nature": codes::name(codes::SUBJECT_NATURE, &it.subject_nature),
        "service_objects": it.service_objects.iter().map(|c| codes::name(codes::SERVICE_OBJECT, c)).collect::<Vec<_>>(),
        "handling_forms": it.handling_forms.iter().map(|c| codes::name(codes::HANDLING_FORM, c)).collect::<Vec<_>>(),
    });
    Ok(Json(json!({"item": it, "code_names": names})).into_response())
}

/// Departments.
#[utoipa::path(get, path = "/api/v1/departments", responses((status = 200, description = "departments")))]
async fn list_departments(State(st): State<AppState>) -> ApiResult {
    Ok(
        Json(json!({"departments": st.store.departments().await.map_err(store_err(Lang::Zh))?}))
            .into_response(),
    )
}

/// Regions (GB/T 2260), with their level 1–5.
#[utoipa::path(get, path = "/api/v1/regions", responses((status = 200, description = "regions")))]
async fn list_regions(State(st): State<AppState>) -> ApiResult {
    let regions: Vec<_> = st
        .store
        .regions()
        .await
        .map_err(store_err(Lang::Zh))?
        .into_iter()
        .map(|(r, level)| json!({"code": r.code, "name": r.name, "name_en": r.name_en, "parent": r.parent, "level": level}))
        .collect();
    Ok(Json(json!({"regions": regions})).into_response())
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
    c: Caller,
    headers: HeaderMap,
    Json(b): Json<NewCase>,
) -> ApiResult {
    c.check_csrf(csrf_header(&headers))?;
    let run = async {
        let id = st
            .store
            .create_draft(&c.actor(), &b.item_code, b.form.clone(), b.commitment)
            .await
            .map_err(store_err(c.lang))?;
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
    }
    .map_err(store_err(c.lang))?;
    let next = (cases.len() as i64 == page.limit)
        .then(|| cases.last().map(|k| k.id.to_string()))
        .flatten();
    Ok(Json(json!({"cases": cases, "next_cursor": next})).into_response())
}

/// One case: status, materials, checks, correction notices.
#[utoipa::path(get, path = "/api/v1/cases/{case}", responses((status = 200, description = "case"), (status = 404, body = ErrorBody)))]
async fn get_case(State(st): State<AppState>, c: Caller, Path(key): Path<String>) -> ApiResult {
    let id = resolve_case(&st, &key, c.lang).await?;
    let v = st
        .store
        .case_view(&c.actor(), id)
        .await
        .map_err(store_err(c.lang))?;
    let suspensions = st.store.suspensions(id).await.map_err(store_err(c.lang))?;
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
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<FormBody>,
) -> ApiResult {
    c.check_csrf(csrf_header(&headers))?;
    let id = resolve_case(&st, &key, c.lang).await?;
    st.store
        .save_draft(&c.actor(), id, b.form, b.commitment)
        .await
        .map_err(store_err(c.lang))?;
    Ok(Json(json!({"saved": true})).into_response())
}

/// Upload one material as multipart field `file` (PDF, JPEG, PNG or OFD by content).
#[utoipa::path(post, path = "/api/v1/cases/{case}/materials/{material}",
    responses((status = 201, description = "stored"), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn upload_material(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path((key, material)): Path<(String, String)>,
    mut mp: Multipart,
) -> ApiResult {
    c.check_csrf(csrf_header(&headers))?;
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
        let sid =
            crate::uploads::store_material(&st, &c.actor(), id, &material, &name, &bytes, c.lang)
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
async fn submit_case(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ApiResult {
    c.check_csrf(csrf_header(&headers))?;
    let id = resolve_case(&st, &key, c.lang).await?;
    let number = st
        .store
        .submit(&c.actor(), id)
        .await
        .map_err(store_err(c.lang))?;
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
    headers: &HeaderMap,
    key: &str,
    b: DecisionBody,
    d: Option<WindowDecision>,
) -> ApiResult {
    c.check_csrf(csrf_header(headers))?;
    let id = resolve_case(st, key, c.lang).await?;
    let actor = c.actor();
    let status = st
        .store
        .window_decision(&actor, id, b.checks, d)
        .await
        .map_err(store_err(c.lang))?;
    Ok(Json(json!({"id": id, "status": status, "status_zh": status.zh()})).into_response())
}

/// Record the clerk's verdict on materials: ok, missing, wrong (with a reason) or deferred (容缺, with a due date).
#[utoipa::path(post, path = "/api/v1/cases/{case}/checks", request_body = DecisionBody, responses((status = 200, description = "recorded")))]
async fn check_materials(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<DecisionBody>,
) -> ApiResult {
    decide(&st, &c, &headers, &key, b, None).await
}

/// Accept (受理). Every required material must be checked ok or deferred.
#[utoipa::path(post, path = "/api/v1/cases/{case}/accept", request_body = DecisionBody,
    responses((status = 200, description = "accepted"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn accept_case(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    b: Option<Json<DecisionBody>>,
) -> ApiResult {
    decide(
        &st,
        &c,
        &headers,
        &key,
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
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<DecisionBody>,
) -> ApiResult {
    let reason = b.reason.clone();
    decide(
        &st,
        &c,
        &headers,
        &key,
        b,
        Some(WindowDecision::Reject { reason }),
    )
    .await
}

/// Issue ONE correction notice listing every material marked missing or wrong (一次性告知).
#[utoipa::path(post, path = "/api/v1/cases/{case}/corrections", request_body = DecisionBody,
    responses((status = 200, description = "notice issued"), (status = 422, body = ErrorBody)))]
async fn correct_case(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<DecisionBody>,
) -> ApiResult {
    let note = b.note.clone();
    decide(
        &st,
        &c,
        &headers,
        &key,
        b,
        Some(WindowDecision::Corrections { note }),
    )
    .await
}

/// Complete a 即办件 on the spot (accepting it first if needed).
#[utoipa::path(post, path = "/api/v1/cases/{case}/complete", request_body = DecisionBody,
    responses((status = 200, description = "completed"), (status = 422, body = ErrorBody)))]
async fn complete_case(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    b: Option<Json<DecisionBody>>,
) -> ApiResult {
    decide(
        &st,
        &c,
        &headers,
        &key,
        b.map(|j| j.0).unwrap_or_default(),
        Some(WindowDecision::CompleteOnSpot),
    )
    .await
}

/// The applicant withdraws the case before the decision.
#[utoipa::path(post, path = "/api/v1/cases/{case}/withdraw", responses((status = 200, description = "withdrawn"), (status = 409, body = ErrorBody)))]
async fn withdraw_case(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ApiResult {
    c.check_csrf(csrf_header(&headers))?;
    let id = resolve_case(&st, &key, c.lang).await?;
    st.store
        .withdraw(&c.actor(), id)
        .await
        .map_err(store_err(c.lang))?;
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
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<SuspendBody>,
) -> ApiResult {
    c.check_csrf(csrf_header(&headers))?;
    let id = resolve_case(&st, &key, c.lang).await?;
    let today = st.store.today();
    st.store
        .suspend(&c.actor(), id, &b.kind, &b.name, &b.reason, today)
        .await
        .map_err(store_err(c.lang))?;
    Ok(Json(json!({"id": id, "status": "suspended"})).into_response())
}

/// End the special procedure: every deadline moves by the working days it took.
#[utoipa::path(post, path = "/api/v1/cases/{case}/resume",
    responses((status = 200, description = "clock running"), (status = 409, body = ErrorBody)))]
async fn resume_case(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ApiResult {
    c.check_csrf(csrf_header(&headers))?;
    let id = resolve_case(&st, &key, c.lang).await?;
    let today = st.store.today();
    let k = st
        .store
        .resume(&c.actor(), id, today)
        .await
        .map_err(store_err(c.lang))?;
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
    c: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<DecideBody>,
) -> ApiResult {
    c.check_csrf(csrf_header(&headers))?;
    let id = resolve_case(&st, &key, c.lang).await?;
    st.store
        .decide(&c.actor(), id, b.approve, &b.reason)
        .await
        .map_err(store_err(c.lang))?;
    let v = st
        .store
        .case_view(&c.actor(), id)
        .await
        .map_err(store_err(c.lang))?;
    Ok(Json(json!({"id": id, "status": v.status, "conclusion": v.conclusion})).into_response())
}

/// The audit trail of one case (staff in the case's region only).
#[utoipa::path(get, path = "/api/v1/cases/{case}/audit", responses((status = 200, description = "audit records"), (status = 404, body = ErrorBody)))]
async fn case_audit(State(st): State<AppState>, c: Caller, Path(key): Path<String>) -> ApiResult {
    let id = resolve_case(&st, &key, c.lang).await?;
    let v = st
        .store
        .case_view(&c.actor(), id)
        .await
        .map_err(store_err(c.lang))?;
    if !c.actor().may_in(Permission::ReadCases, &v.region) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "case.not_found",
            c.lang.t("未找到该办件。", "No such case."),
        ));
    }
    let records = match &v.number {
        Some(n) => st
            .store
            .audit_for_case(n)
            .await
            .map_err(store_err(c.lang))?,
        None => Vec::new(),
    };
    let intact = match &v.number {
        Some(n) => st
            .store
            .verify_case_chain(n)
            .await
            .map_err(store_err(c.lang))?,
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
    c: Caller,
    headers: HeaderMap,
    Json(b): Json<WalkInBody>,
) -> ApiResult {
    c.check_csrf(csrf_header(&headers))?;
    let phone = Some(b.phone.trim().to_string()).filter(|s| !s.is_empty());
    let run = async {
        let id = st
            .store
            .walk_in(&c.actor(), &b.id_number, &b.name, phone, &b.item_code)
            .await
            .map_err(store_err(c.lang))?;
        Ok((
            StatusCode::CREATED,
            Json(json!({"id": id, "status": "draft"})),
        )
            .into_response())
    };
    idempotent(&st, &c, &headers, &b, run).await
}

fn require_admin(c: &Caller) -> ApiResult<()> {
    match c.actor().kind {
        ActorKind::Staff { role, .. } if role.may(Permission::Administer) => Ok(()),
        _ => Err(ApiError::forbidden(c.lang)),
    }
}

/// An admin manages only what lies inside their own region; the CLI (system) manages all.
pub fn require_admin_in(actor: &yichuang_core::Actor, region: &str, lang: Lang) -> ApiResult<()> {
    if actor.may_in(Permission::Administer, region) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "admin.out_of_region",
        lang.t(
            "该区划不在您的管理范围内。",
            "That region is outside the one you administer.",
        ),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegionBody {
    code: String,
    name: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    parent: Option<String>,
}

/// Imports a one-entry catalog, so regions and departments get the same validation as files.
async fn import_one(
    st: &AppState,
    c: &Caller,
    file: yichuang_core::catalog::CatalogFile,
) -> ApiResult {
    match st.store.import_catalog(file, &c.actor()).await.map_err(store_err(c.lang))? {
        Ok(_) => Ok(Json(json!({"saved": true})).into_response()),
        Err(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"code": "catalog.invalid", "message": errors.first().map(|e| e.to_string()).unwrap_or_default(), "errors": errors})),
        )
            .into_response()),
    }
}

/// Create or update a region (GB/T 2260 code: 6 digits down to county, 9 township, 12 village).
#[utoipa::path(put, path = "/api/v1/admin/regions", request_body = RegionBody,
    responses((status = 200, description = "saved"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn admin_put_region(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Json(b): Json<RegionBody>,
) -> ApiResult {
    require_admin(&c)?;
    c.check_csrf(csrf_header(&headers))?;
    if let Err(e) = yichuang_core::RegionCode::parse(&b.code) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "region.code",
            match c.lang {
                Lang::Zh => format!("区划代码：{}。", e.zh()),
                Lang::En => format!("code: {e}."),
            },
        ));
    }
    require_admin_in(&c.actor(), &b.code, c.lang)?;
    let region = yichuang_core::catalog::Region {
        code: b.code,
        name: b.name,
        name_en: b.name_en,
        parent: b.parent.filter(|p| !p.is_empty()),
    };
    import_one(
        &st,
        &c,
        yichuang_core::catalog::CatalogFile {
            regions: vec![region],
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DepartmentBody {
    code: String,
    name: String,
    #[serde(default)]
    name_en: String,
    region: String,
    #[serde(default)]
    uscc: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

/// Create or update a department.
#[utoipa::path(put, path = "/api/v1/admin/departments", request_body = DepartmentBody,
    responses((status = 200, description = "saved"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn admin_put_department(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Json(b): Json<DepartmentBody>,
) -> ApiResult {
    require_admin(&c)?;
    c.check_csrf(csrf_header(&headers))?;
    require_admin_in(&c.actor(), &b.region, c.lang)?;
    let d = yichuang_core::catalog::Department {
        code: b.code,
        name: b.name,
        name_en: b.name_en,
        region: b.region,
        uscc: b.uscc.filter(|s| !s.is_empty()),
        phone: b.phone.filter(|s| !s.is_empty()),
    };
    import_one(
        &st,
        &c,
        yichuang_core::catalog::CatalogFile {
            departments: vec![d],
            ..Default::default()
        },
    )
    .await
}

/// Halls.
#[utoipa::path(get, path = "/api/v1/admin/halls", responses((status = 200, description = "halls")))]
async fn admin_halls(State(st): State<AppState>, c: Caller) -> ApiResult {
    require_admin(&c)?;
    Ok(Json(json!({"halls": st.store.halls().await.map_err(store_err(c.lang))?})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct HallBody {
    id: String,
    name: String,
    #[serde(default)]
    name_en: String,
    region: String,
    #[serde(default)]
    address: String,
}

/// Create or update a hall.
#[utoipa::path(put, path = "/api/v1/admin/halls", request_body = HallBody, responses((status = 200, description = "saved"), (status = 403, body = ErrorBody)))]
async fn admin_put_hall(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Json(b): Json<HallBody>,
) -> ApiResult {
    require_admin(&c)?;
    c.check_csrf(csrf_header(&headers))?;
    require_admin_in(&c.actor(), &b.region, c.lang)?;
    let h = Hall {
        id: b.id,
        name: b.name,
        name_en: b.name_en,
        region: b.region,
        address: b.address,
    };
    st.store
        .upsert_hall(h, &c.actor())
        .await
        .map_err(store_err(c.lang))?;
    Ok(Json(json!({"saved": true})).into_response())
}

/// Windows.
#[utoipa::path(get, path = "/api/v1/admin/windows", responses((status = 200, description = "windows")))]
async fn admin_windows(State(st): State<AppState>, c: Caller) -> ApiResult {
    require_admin(&c)?;
    Ok(
        Json(json!({"windows": st.store.windows().await.map_err(store_err(c.lang))?}))
            .into_response(),
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WindowBody {
    id: String,
    hall_id: String,
    name: String,
    #[serde(default = "yes")]
    comprehensive: bool,
}
fn yes() -> bool {
    true
}

/// Create or update a window.
#[utoipa::path(put, path = "/api/v1/admin/windows", request_body = WindowBody, responses((status = 200, description = "saved")))]
async fn admin_put_window(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Json(b): Json<WindowBody>,
) -> ApiResult {
    require_admin(&c)?;
    c.check_csrf(csrf_header(&headers))?;
    let halls = st.store.halls().await.map_err(store_err(c.lang))?;
    if let Some(h) = halls.iter().find(|h| h.id == b.hall_id) {
        require_admin_in(&c.actor(), &h.region, c.lang)?;
    }
    let w = Window {
        id: b.id,
        hall_id: b.hall_id,
        name: b.name,
        comprehensive: b.comprehensive,
    };
    st.store
        .upsert_window(w, &c.actor())
        .await
        .map_err(store_err(c.lang))?;
    Ok(Json(json!({"saved": true})).into_response())
}

/// Staff accounts.
#[utoipa::path(get, path = "/api/v1/admin/staff", responses((status = 200, description = "staff")))]
async fn admin_staff(State(st): State<AppState>, c: Caller) -> ApiResult {
    require_admin(&c)?;
    Ok(Json(json!({"staff": st.store.staff().await.map_err(store_err(c.lang))?})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema, Clone)]
pub struct StaffBody {
    pub login: String,
    pub name: String,
    pub password: String,
    /// clerk | reviewer | manager | supervisor | admin
    pub role: String,
    pub region: String,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub hall_id: Option<String>,
    #[serde(default)]
    pub window_id: Option<String>,
}

/// Validates and creates a staff account; used by the API, the page, the CLI and the demo.
pub async fn create_staff(
    st: &AppState,
    b: StaffBody,
    actor: &yichuang_core::Actor,
    lang: Lang,
) -> ApiResult<i64> {
    let role = yichuang_core::Role::parse(&b.role).ok_or_else(|| {
        ApiError::unprocessable(
            "staff.role",
            lang,
            "角色应为 clerk、reviewer、manager、supervisor 或 admin。",
            "role must be clerk, reviewer, manager, supervisor or admin.",
        )
    })?;
    let known = st.store.known().await.map_err(store_err(lang))?;
    if known.regions.contains(&b.region) {
        require_admin_in(actor, &b.region, lang)?;
    } else {
        return Err(ApiError::unprocessable(
            "staff.region",
            lang,
            "区划不存在。",
            "region: unknown region.",
        ));
    }
    if let Some(d) = b.department.as_ref().filter(|d| !d.is_empty()) {
        if !known.departments.contains_key(d) {
            return Err(ApiError::unprocessable(
                "staff.department",
                lang,
                "部门不存在。",
                "department: unknown department.",
            ));
        }
    }
    let login_ok = !b.login.is_empty()
        && b.login.len() <= 64
        && b.login
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-');
    if !login_ok {
        return Err(ApiError::unprocessable(
            "staff.login",
            lang,
            "登录名只能包含字母、数字、下划线、点和横线。",
            "login: letters, digits, '_', '.', '-' only.",
        ));
    }
    if !auth::password_ok(&b.password) {
        return Err(ApiError::unprocessable(
            "staff.password",
            lang,
            "密码：至少8位，且包含三类字符。",
            "password: at least 8 characters from 3 classes.",
        ));
    }
    let acc = NewAccount {
        kind: "staff".into(),
        login: b.login,
        password_hash: Some(auth::hash_password(b.password).await),
        name: b.name,
        role: Some(role.as_str().into()),
        region: Some(b.region),
        department: b.department.filter(|s| !s.is_empty()),
        hall_id: b.hall_id.filter(|s| !s.is_empty()),
        window_id: b.window_id.filter(|s| !s.is_empty()),
        ..Default::default()
    };
    st.store
        .create_account(acc, actor)
        .await
        .map_err(store_err(lang))
}

/// Create a staff account with a role, scoped to a region.
#[utoipa::path(post, path = "/api/v1/admin/staff", request_body = StaffBody,
    responses((status = 201, description = "created"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn admin_create_staff(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Json(b): Json<StaffBody>,
) -> ApiResult {
    require_admin(&c)?;
    c.check_csrf(csrf_header(&headers))?;
    let id = create_staff(&st, b, &c.actor(), c.lang).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

/// Import a catalog file (TOML body). All or nothing: every problem is listed.
#[utoipa::path(post, path = "/api/v1/admin/catalog", request_body = String,
    responses((status = 200, description = "imported"), (status = 422, body = ErrorBody)))]
async fn admin_import_catalog(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    body: String,
) -> ApiResult {
    require_admin(&c)?;
    c.check_csrf(csrf_header(&headers))?;
    let file: yichuang_core::catalog::CatalogFile = toml::from_str(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "catalog.syntax",
            e.to_string(),
        )
    })?;
    match st.store.import_catalog(file, &c.actor()).await.map_err(store_err(c.lang))? {
        Ok(report) => Ok(Json(json!({"imported": report})).into_response()),
        Err(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"code": "catalog.invalid", "message": c.lang.t("目录文件有错误，未导入任何内容。", "The catalog has errors; nothing was imported."), "errors": errors})),
        )
            .into_response()),
    }
}

/// Export the whole catalog as TOML.
#[utoipa::path(get, path = "/api/v1/admin/catalog", responses((status = 200, description = "TOML")))]
async fn admin_export_catalog(State(st): State<AppState>, c: Caller) -> ApiResult {
    require_admin(&c)?;
    let f = st.store.export_catalog().await.map_err(store_err(c.lang))?;
    let text = toml::to_string(&f).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "catalog.export",
            e.to_string(),
        )
    })?;
    Ok(([("content-type", "application/toml; charset=utf-8")], text).into_response())
}
