//! The public catalog over HTTP: items with their guides, departments, regions.

use crate::http::auth::MaybeCaller;
use crate::http::error::ErrorBody;
use crate::http::ApiResult;
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::OpenApi;
use yichuang_store::catalog::ItemFilter;

#[derive(OpenApi)]
#[openapi(paths(list_items, get_item, list_departments, list_regions))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/items", get(list_items))
        .route("/api/v1/items/{code}", get(get_item))
        .route("/api/v1/departments", get(list_departments))
        .route("/api/v1/regions", get(list_regions))
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
    let MaybeCaller(_, _lang, _) = mc;
    let items = st
        .store
        .items(&ItemFilter {
            department: q.department,
            category: q.category,
            region: q.region,
            q: q.q,
        })
        .await?;
    Ok(Json(json!({"items": items})).into_response())
}

/// One item's full guide, with the national code names alongside the codes.
#[utoipa::path(get, path = "/api/v1/items/{code}", responses((status = 200, description = "guide"), (status = 404, body = ErrorBody)))]
async fn get_item(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Path(code): Path<String>,
) -> ApiResult {
    let MaybeCaller(_, _lang, _) = mc;
    use yichuang_core::catalog::codes;
    let it = st.store.item(&code).await?;
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
    Ok(Json(json!({"departments": st.store.departments().await?})).into_response())
}

/// Regions (GB/T 2260), with their level 1–5.
#[utoipa::path(get, path = "/api/v1/regions", responses((status = 200, description = "regions")))]
async fn list_regions(State(st): State<AppState>) -> ApiResult {
    let regions: Vec<_> = st
        .store
        .regions()
        .await?
        .into_iter()
        .map(|(r, level)| json!({"code": r.code, "name": r.name, "name_en": r.name_en, "parent": r.parent, "level": level}))
        .collect();
    Ok(Json(json!({"regions": regions})).into_response())
}
