//! The supervisor's dashboard: every open case of the region by light.

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use yichuang_core::deadline::Light;
use yichuang_core::{ActorKind, Permission};
use yichuang_store::cases::Page;
use yichuang_store::supervision::{Dashboard, DashboardFilter};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/supervision/cases", get(dashboard_api))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct DashboardQuery {
    pub department: Option<String>,
    pub item: Option<String>,
    pub window: Option<String>,
    pub staff: Option<String>,
    /// green | yellow | red | overdue
    pub light: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub fn parse_light(s: &str) -> Option<Light> {
    [Light::Green, Light::Yellow, Light::Red, Light::Overdue]
        .into_iter()
        .find(|l| l.as_str() == s)
}

/// Loads the dashboard for a caller; only supervisors, managers and admins see it.
pub async fn load(st: &AppState, c: &Caller, q: &DashboardQuery) -> Result<Dashboard, ApiError> {
    let actor = c.actor();
    let allowed = matches!(&actor.kind, ActorKind::Staff { role, .. }
        if matches!(role, yichuang_core::Role::Supervisor | yichuang_core::Role::Manager | yichuang_core::Role::Admin) && role.may(Permission::ReadCases));
    if !allowed {
        return Err(ApiError::forbidden(c.lang));
    }
    let bad = |code: &str, zh: &str, en: &str| ApiError::unprocessable(code, c.lang, zh, en);
    let light = match q.light.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_light(s).ok_or_else(|| {
            bad(
                "supervision.light",
                "light 应为 green、yellow、red 或 overdue。",
                "light must be green, yellow, red or overdue.",
            )
        })?),
        None => None,
    };
    let staff = match q.staff.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            bad(
                "supervision.staff",
                "staff 应为工作人员编号。",
                "staff must be a staff account id.",
            )
        })?),
        None => None,
    };
    let cursor = match q.cursor.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            bad(
                "page.cursor",
                "cursor 无效。",
                "cursor is not one this API gave out.",
            )
        })?),
        None => None,
    };
    let f = DashboardFilter {
        department: q.department.clone(),
        item: q.item.clone(),
        window: q.window.clone(),
        staff,
        light,
    };
    let today = st.store.today().to_string();
    st.store
        .dashboard(
            &actor,
            &f,
            &today,
            Page {
                cursor,
                limit: q.limit.unwrap_or(50).clamp(1, 200),
            },
        )
        .await
        .map_err(|e| ApiError::from_store(e, c.lang))
}

/// Open cases of the caller's region by light, with counts; filter by department, item,
/// window, staff (handler id) and light.
#[utoipa::path(get, path = "/api/v1/supervision/cases", params(DashboardQuery),
    responses((status = 200, description = "counts and a page of cases"), (status = 403, body = ErrorBody)))]
pub async fn dashboard_api(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<DashboardQuery>,
) -> Result<Response, ApiError> {
    let d = load(&st, &c, &q).await?;
    let next = (d.cases.len() as i64 == q.limit.unwrap_or(50).clamp(1, 200))
        .then(|| d.cases.last().map(|k| k.id.to_string()))
        .flatten();
    Ok(Json(serde_json::json!({"counts": d.counts, "total": d.total, "cases": d.cases, "next_cursor": next})).into_response())
}
