//! Electronic supervision over HTTP: the dashboard of open cases by light, warnings and
//! supervision notices with replies, on-time statistics and the public 办件公示.

use crate::http::auth::{Caller, MaybeCaller};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Csrf;
use crate::http::i18n::Lang;
use crate::http::AppState;
use crate::http::{idempotent, resolve_case, store_err, ApiResult};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use yichuang_core::calendar::parse_date;
use yichuang_core::deadline::Light;
use yichuang_core::RegionCode;
use yichuang_core::{ActorKind, Permission};
use yichuang_store::conclusions::{GroupBy, OnTimeRow, StatsScope};
use yichuang_store::supervision::{Dashboard, DashboardFilter};
use yichuang_store::supervision::{Notice, NoticeFilter};
use yichuang_store::Page;

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    dashboard_api,
    notices_api,
    transfers_api,
    issue_notice_api,
    reply_api,
    stats_api,
    public_api
))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/supervision/cases", get(dashboard_api))
        .route("/api/v1/supervision/notices", get(notices_api))
        .route("/api/v1/supervision/transfers", get(transfers_api))
        .route("/api/v1/supervision/notices/{id}/reply", post(reply_api))
        .route(
            "/api/v1/cases/{case}/supervision-notices",
            post(issue_notice_api),
        )
        .route("/api/v1/statistics/on-time", get(stats_api))
        .route("/api/v1/public/performance", get(public_api))
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

#[derive(Deserialize, utoipa::IntoParams)]
pub struct NoticeQuery {
    /// A case number or id: only that case's notices.
    pub case: Option<String>,
    /// `true`: only those addressed to me (supervisors otherwise see the whole region).
    pub mine: Option<bool>,
    /// `true`: only manual notices still waiting for the handler's reply.
    pub awaiting_reply: Option<bool>,
    pub cursor: Option<i64>,
    pub limit: Option<i64>,
}

pub async fn load_notices(
    st: &AppState,
    c: &Caller,
    q: &NoticeQuery,
) -> Result<Vec<Notice>, ApiError> {
    if !c.account.is_staff() {
        return Err(ApiError::forbidden(c.lang));
    }
    let case_id = match q.case.as_deref().filter(|s| !s.is_empty()) {
        Some(k) => Some(resolve_case(st, k, c.lang).await?),
        None => None,
    };
    let f = NoticeFilter {
        case_id,
        mine: q.mine.unwrap_or(false),
        awaiting_reply: q.awaiting_reply.unwrap_or(false),
    };
    st.store
        .supervision_notices(
            &c.actor(),
            &f,
            Page {
                cursor: q.cursor,
                limit: q.limit.unwrap_or(50).clamp(1, 200),
            },
        )
        .await
        .map_err(store_err(c.lang))
}

/// Warnings and supervision notices: the caller's own, or (supervisors, managers, admins)
/// every one of their region. Newest first.
#[utoipa::path(get, path = "/api/v1/supervision/notices", params(NoticeQuery),
    responses((status = 200, description = "notices and the next cursor"), (status = 403, body = ErrorBody)))]
pub async fn notices_api(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<NoticeQuery>,
) -> ApiResult {
    let list = load_notices(&st, &c, &q).await?;
    let next = (list.len() as i64 == q.limit.unwrap_or(50).clamp(1, 200))
        .then(|| list.last().map(|n| n.id))
        .flatten();
    Ok(Json(json!({"notices": list, "next_cursor": next})).into_response())
}

/// Every transfer of a task to another department in the caller's region, newest first.
#[utoipa::path(get, path = "/api/v1/supervision/transfers", params(NoticeQuery),
    responses((status = 200, description = "transfers"), (status = 403, body = ErrorBody)))]
pub async fn transfers_api(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<NoticeQuery>,
) -> ApiResult {
    let list = st
        .store
        .transfers(
            &c.actor(),
            Page {
                cursor: q.cursor,
                limit: q.limit.unwrap_or(50).clamp(1, 200),
            },
        )
        .await?;
    Ok(Json(json!({"transfers": list})).into_response())
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct NoticeBody {
    /// What the handler must do.
    pub comment: String,
    /// The date the handler must reply by, `YYYY-MM-DD`.
    pub reply_by: String,
}

pub fn parse_day(s: &str, field: &str, lang: Lang) -> Result<time::Date, ApiError> {
    parse_date(s.trim()).map_err(|_| {
        ApiError::unprocessable(
            "date.invalid",
            lang,
            &format!("{field} 应为日期（YYYY-MM-DD）。"),
            &format!("{field} must be a date (YYYY-MM-DD)."),
        )
    })
}

/// A supervisor's notice (督办) by hand to the case's handler, who must reply by the date.
#[utoipa::path(post, path = "/api/v1/cases/{case}/supervision-notices", request_body = NoticeBody,
    responses((status = 201, description = "notice issued"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue_notice_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(b): Json<NoticeBody>,
) -> ApiResult {
    let request = (&key, &b);
    let run = async {
        let id = resolve_case(&st, &key, c.lang).await?;
        let reply_by = parse_day(&b.reply_by, "reply_by", c.lang)?;
        let notice = st
            .store
            .issue_supervision_notice(&c.actor(), id, &b.comment, reply_by)
            .await?;
        Ok((
            StatusCode::CREATED,
            Json(json!({"id": notice, "case_id": id})),
        )
            .into_response())
    };
    idempotent(&st, &c, &headers, &request, run).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReplyBody {
    pub reply: String,
}

/// The handler's reply to a notice addressed to them (once).
#[utoipa::path(post, path = "/api/v1/supervision/notices/{id}/reply", request_body = ReplyBody,
    responses((status = 200, description = "replied"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reply_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path(id): Path<i64>,
    Json(b): Json<ReplyBody>,
) -> ApiResult {
    st.store
        .reply_supervision_notice(&c.actor(), id, &b.reply)
        .await?;
    Ok(Json(json!({"id": id, "replied": true})).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct StatsQuery {
    /// item | department | staff | month
    pub by: Option<String>,
    /// A region inside the caller's (defaults to the caller's; on the public page: all).
    pub region: Option<String>,
    /// First and last day of the period by conclusion date, `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
}

pub fn stats_scope(q: &StatsQuery, lang: Lang) -> Result<StatsScope, ApiError> {
    let day = |v: &Option<String>, f: &str| -> Result<Option<time::Date>, ApiError> {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_day(s, f, lang))
            .transpose()
    };
    let region = match q.region.as_deref().filter(|s| !s.is_empty()) {
        Some(r) => Some(RegionCode::parse(r).map_err(|_| {
            ApiError::unprocessable(
                "region.invalid",
                lang,
                "region 应为行政区划代码。",
                "region must be an administrative division code.",
            )
        })?),
        None => None,
    };
    let scope = StatsScope {
        region,
        from: day(&q.from, "from")?,
        to: day(&q.to, "to")?,
    };
    if let (Some(a), Some(b)) = (scope.from, scope.to) {
        if a > b {
            return Err(ApiError::unprocessable(
                "stats.period",
                lang,
                "开始日期晚于结束日期。",
                "from is after to.",
            ));
        }
    }
    Ok(scope)
}

pub async fn load_stats(
    st: &AppState,
    c: &Caller,
    q: &StatsQuery,
) -> Result<Vec<OnTimeRow>, ApiError> {
    let by = match q.by.as_deref().filter(|s| !s.is_empty()) {
        None => GroupBy::Item,
        Some(s) => GroupBy::parse(s).ok_or_else(|| {
            ApiError::unprocessable(
                "stats.by",
                c.lang,
                "by 应为 item、department、staff 或 month。",
                "by must be item, department, staff or month.",
            )
        })?,
    };
    let scope = stats_scope(q, c.lang)?;
    st.store
        .on_time_stats(&c.actor(), by, &scope)
        .await
        .map_err(store_err(c.lang))
}

/// On-time statistics of concluded cases in the caller's region: per item, department,
/// staff (who decided) or month; counts within each limit, on-time rate, average working days.
#[utoipa::path(get, path = "/api/v1/statistics/on-time", params(StatsQuery),
    responses((status = 200, description = "one row per group"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn stats_api(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<StatsQuery>,
) -> ApiResult {
    let rows = load_stats(&st, &c, &q).await?;
    Ok(
        Json(json!({"by": q.by.clone().unwrap_or_else(|| "item".into()), "rows": rows}))
            .into_response(),
    )
}

/// The public 办件公示: per department and item, cases concluded, the share within the
/// promised limit, average working days. No login.
#[utoipa::path(get, path = "/api/v1/public/performance", params(StatsQuery),
    responses((status = 200, description = "one row per department and item"), (status = 422, body = ErrorBody)))]
pub async fn public_api(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<StatsQuery>,
) -> ApiResult {
    let scope = stats_scope(&q, mc.1)?;
    let rows = st
        .store
        .public_performance(&scope)
        .await
        .map_err(store_err(mc.1))?;
    Ok(Json(json!({"rows": rows})).into_response())
}
