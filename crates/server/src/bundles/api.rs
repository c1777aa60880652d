//! 一件事一次办 over HTTP: the bundles in the catalog, and an applicant's bundle application —
//! one form, each shared material once, one submission, one acceptance — with its parts.

use crate::http::auth::{Caller, MaybeCaller};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Csrf;
use crate::http::AppState;
use crate::http::{idempotent, store_err, ApiResult};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use yichuang_store::cases::MaterialCheck;

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_api,
    guide_api,
    create_api,
    view_api,
    form_api,
    upload_api,
    submit_api,
    accept_api,
    corrections_api
))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/bundles", get(list_api))
        .route("/api/v1/bundles/{code}", get(guide_api))
        .route("/api/v1/bundle-cases", post(create_api))
        .route("/api/v1/bundle-cases/{id}", get(view_api))
        .route("/api/v1/bundle-cases/{id}/form", put(form_api))
        .route(
            "/api/v1/bundle-cases/{id}/materials/{index}",
            post(upload_api),
        )
        .route("/api/v1/bundle-cases/{id}/submit", post(submit_api))
        .route("/api/v1/bundle-cases/{id}/accept", post(accept_api))
        .route(
            "/api/v1/bundle-cases/{id}/corrections",
            post(corrections_api),
        )
}

/// The bundles (一件事) in the catalog.
#[utoipa::path(get, path = "/api/v1/bundles", responses((status = 200, description = "bundles")))]
pub async fn list_api(State(st): State<AppState>, mc: MaybeCaller) -> ApiResult {
    let b = st.store.bundles().await.map_err(store_err(mc.1))?;
    Ok(Json(json!({"bundles": b})).into_response())
}

/// A bundle with its items, the one form (every field once) and the shared materials.
#[utoipa::path(get, path = "/api/v1/bundles/{code}", responses((status = 200, description = "the guide"), (status = 404, body = ErrorBody)))]
pub async fn guide_api(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Path(code): Path<String>,
) -> ApiResult {
    let g = st
        .store
        .bundle_guide(&code)
        .await
        .map_err(store_err(mc.1))?;
    Ok(Json(json!({"guide": g})).into_response())
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct CreateBody {
    pub bundle: String,
    #[serde(default)]
    pub form: BTreeMap<String, String>,
}

/// Start a bundle application: one draft per item, sharing the form. Idempotency-Key honoured.
#[utoipa::path(post, path = "/api/v1/bundle-cases", request_body = CreateBody,
    responses((status = 201, description = "created"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    headers: HeaderMap,
    Json(b): Json<CreateBody>,
) -> ApiResult {
    let run = async {
        let id = st
            .store
            .create_bundle_app(&c.actor(), &b.bundle, b.form.clone())
            .await?;
        let v = st.store.bundle_app(&c.actor(), id).await?;
        Ok((
            StatusCode::CREATED,
            Json(json!({"id": id, "bundle_case": v})),
        )
            .into_response())
    };
    idempotent(&st, &c, &headers, &b, run).await
}

/// The application with its parts (each an ordinary case) and the materials already given.
#[utoipa::path(get, path = "/api/v1/bundle-cases/{id}", responses((status = 200, description = "the application"), (status = 404, body = ErrorBody)))]
pub async fn view_api(State(st): State<AppState>, c: Caller, Path(id): Path<i64>) -> ApiResult {
    let v = st.store.bundle_app(&c.actor(), id).await?;
    Ok(Json(json!({"bundle_case": v})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct FormBody {
    pub form: BTreeMap<String, String>,
}

/// Save the one form (each part keeps the fields its item has).
#[utoipa::path(put, path = "/api/v1/bundle-cases/{id}/form", request_body = FormBody,
    responses((status = 200, description = "saved"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn form_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path(id): Path<i64>,
    Json(b): Json<FormBody>,
) -> ApiResult {
    st.store.save_bundle_form(&c.actor(), id, b.form).await?;
    Ok(Json(json!({"id": id, "saved": true})).into_response())
}

/// Upload a shared material once (`index` in the guide's materials); it is filed with every
/// part that asks for it. Multipart field `file`.
#[utoipa::path(post, path = "/api/v1/bundle-cases/{id}/materials/{index}",
    responses((status = 201, description = "filed with N parts"), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path((id, index)): Path<(i64, usize)>,
    mut mp: Multipart,
) -> ApiResult {
    let name = material_name(&st, &c, id, index).await?;
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
        let file_name = field.file_name().unwrap_or("").to_string();
        let bytes = field.bytes().await.map_err(|_| too_large())?;
        let n = crate::cases::uploads::store_file(
            &st,
            &c.actor(),
            crate::cases::uploads::Target::Bundle(id, &name),
            &file_name,
            &bytes,
            c.lang,
        )
        .await?;
        return Ok((
            StatusCode::CREATED,
            Json(json!({"material": name, "parts": n})),
        )
            .into_response());
    }
    Err(ApiError::bad_request(
        "upload.no_file",
        c.lang,
        "请求中没有名为 file 的文件。",
        "The request has no file field named 'file'.",
    ))
}

/// The name of the bundle's `index`-th shared material.
pub async fn material_name(
    st: &AppState,
    c: &Caller,
    id: i64,
    index: usize,
) -> Result<String, ApiError> {
    let v = st.store.bundle_app(&c.actor(), id).await?;
    let g = st.store.bundle_guide(&v.bundle_code).await?;
    g.materials
        .get(index)
        .map(|m| m.name.clone())
        .ok_or_else(|| {
            ApiError::unprocessable(
                "material.unknown",
                c.lang,
                "该一件事没有这项材料。",
                "The bundle has no such material.",
            )
        })
}

/// Submit every part at once (each gets its case number).
#[utoipa::path(post, path = "/api/v1/bundle-cases/{id}/submit",
    responses((status = 200, description = "submitted"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path(id): Path<i64>,
) -> ApiResult {
    let numbers = st.store.submit_bundle(&c.actor(), id).await?;
    Ok(Json(json!({"id": id, "numbers": numbers})).into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct AcceptBody {
    /// Verdicts by shared material name; a material left out counts as checked and in order.
    #[serde(default)]
    pub checks: Vec<CheckByName>,
}

#[derive(Deserialize, Clone, utoipa::ToSchema)]
pub struct CheckByName {
    pub material: String,
    pub verdict: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub due_date: Option<String>,
}

impl From<CheckByName> for MaterialCheck {
    /// The store expands a verdict given by material name to each part's own code.
    fn from(k: CheckByName) -> MaterialCheck {
        MaterialCheck {
            material_code: k.material,
            verdict: k.verdict,
            reason: k.reason,
            due_date: k.due_date,
        }
    }
}

/// One acceptance for the whole bundle (window clerk): every part accepted in one
/// transaction, each starting its own workflow.
#[utoipa::path(post, path = "/api/v1/bundle-cases/{id}/accept", request_body = AcceptBody,
    responses((status = 200, description = "accepted"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path(id): Path<i64>,
    body: Option<Json<AcceptBody>>,
) -> ApiResult {
    let b = body.map(|Json(b)| b).unwrap_or_default();
    let v = st.store.bundle_app(&c.actor(), id).await?;
    let g = st.store.bundle_guide(&v.bundle_code).await?;
    // Every material given counts as in order unless the clerk says otherwise.
    let checks: Vec<MaterialCheck> = g
        .materials
        .iter()
        .filter(|m| v.uploaded.contains(&m.name))
        .map(|m| match b.checks.iter().find(|k| k.material == m.name) {
            Some(k) => MaterialCheck::from(k.clone()),
            None => MaterialCheck {
                material_code: m.name.clone(),
                verdict: "ok".into(),
                reason: String::new(),
                due_date: None,
            },
        })
        .collect();
    let statuses = st.store.accept_bundle(&c.actor(), id, checks).await?;
    Ok(Json(json!({"id": id, "statuses": statuses})).into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct CorrectionsBody {
    /// Verdicts by shared material name; those `missing` or `wrong` need a reason.
    pub checks: Vec<CheckByName>,
    /// What the clerk adds for the applicant.
    #[serde(default)]
    pub note: String,
}

/// One correction notice for the bundle (一次性告知补正): each part with a material missing
/// or wrong goes back to the applicant, in one transaction; the bundle shows
/// `correction_required` until it is submitted again.
#[utoipa::path(post, path = "/api/v1/bundle-cases/{id}/corrections", request_body = CorrectionsBody,
    responses((status = 200, description = "parts sent back"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn corrections_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path(id): Path<i64>,
    Json(b): Json<CorrectionsBody>,
) -> ApiResult {
    let checks = b.checks.into_iter().map(MaterialCheck::from).collect();
    let statuses = st
        .store
        .correct_bundle(&c.actor(), id, checks, b.note)
        .await?;
    Ok(Json(json!({"id": id, "statuses": statuses})).into_response())
}
