//! Administration over HTTP: regions, departments, halls, windows, staff and the catalog file.

use crate::http::auth::{self, Caller};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Csrf;
use crate::http::i18n::Lang;
use crate::http::require_admin_in;
use crate::http::AppState;
use crate::http::{store_err, ApiResult};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::OpenApi;
use yichuang_core::{ActorKind, Permission};
use yichuang_store::accounts::{Hall, NewAccount, Window};

#[derive(OpenApi)]
#[openapi(paths(
    admin_put_region,
    admin_put_department,
    admin_halls,
    admin_put_hall,
    admin_windows,
    admin_put_window,
    admin_staff,
    admin_create_staff,
    admin_import_catalog,
    admin_export_catalog
))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
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

fn require_admin(c: &Caller) -> ApiResult<()> {
    match c.actor().kind {
        ActorKind::Staff { role, .. } if role.may(Permission::Administer) => Ok(()),
        _ => Err(ApiError::forbidden(c.lang)),
    }
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
    match st.store.import_catalog(file, &c.actor()).await? {
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
    Csrf(c): Csrf,
    Json(b): Json<RegionBody>,
) -> ApiResult {
    require_admin(&c)?;
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
    Csrf(c): Csrf,
    Json(b): Json<DepartmentBody>,
) -> ApiResult {
    require_admin(&c)?;
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
    Ok(Json(json!({"halls": st.store.halls().await?})).into_response())
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
    Csrf(c): Csrf,
    Json(b): Json<HallBody>,
) -> ApiResult {
    require_admin(&c)?;
    require_admin_in(&c.actor(), &b.region, c.lang)?;
    let h = Hall {
        id: b.id,
        name: b.name,
        name_en: b.name_en,
        region: b.region,
        address: b.address,
    };
    st.store.upsert_hall(h, &c.actor()).await?;
    Ok(Json(json!({"saved": true})).into_response())
}

/// Windows.
#[utoipa::path(get, path = "/api/v1/admin/windows", responses((status = 200, description = "windows")))]
async fn admin_windows(State(st): State<AppState>, c: Caller) -> ApiResult {
    require_admin(&c)?;
    Ok(Json(json!({"windows": st.store.windows().await?})).into_response())
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
    Csrf(c): Csrf,
    Json(b): Json<WindowBody>,
) -> ApiResult {
    require_admin(&c)?;
    let halls = st.store.halls().await?;
    if let Some(h) = halls.iter().find(|h| h.id == b.hall_id) {
        require_admin_in(&c.actor(), &h.region, c.lang)?;
    }
    let w = Window {
        id: b.id,
        hall_id: b.hall_id,
        name: b.name,
        comprehensive: b.comprehensive,
    };
    st.store.upsert_window(w, &c.actor()).await?;
    Ok(Json(json!({"saved": true})).into_response())
}

/// Staff accounts.
#[utoipa::path(get, path = "/api/v1/admin/staff", responses((status = 200, description = "staff")))]
async fn admin_staff(State(st): State<AppState>, c: Caller) -> ApiResult {
    require_admin(&c)?;
    Ok(Json(json!({"staff": st.store.staff().await?})).into_response())
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
    let known = st.store.known().await?;
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
    Csrf(c): Csrf,
    Json(b): Json<StaffBody>,
) -> ApiResult {
    require_admin(&c)?;
    let id = create_staff(&st, b, &c.actor(), c.lang).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

/// Import a catalog file (TOML body). All or nothing: every problem is listed.
#[utoipa::path(post, path = "/api/v1/admin/catalog", request_body = String,
    responses((status = 200, description = "imported"), (status = 422, body = ErrorBody)))]
async fn admin_import_catalog(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    body: String,
) -> ApiResult {
    require_admin(&c)?;
    let file: yichuang_core::catalog::CatalogFile = toml::from_str(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "catalog.syntax",
            e.to_string(),
        )
    })?;
    match st.store.import_catalog(file, &c.actor()).await? {
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
    let f = st.store.export_catalog().await?;
    let text = toml::to_string(&f).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "catalog.export",
            e.to_string(),
        )
    })?;
    Ok(([("content-type", "application/toml; charset=utf-8")], text).into_response())
}
