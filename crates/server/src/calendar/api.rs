//! Working-day calendar API: what a clerk uses to answer "when will it be done", and the
//! admin's edits to the national schedule and a region's own days.

use crate::http::auth::{Caller, MaybeCaller};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Csrf;
use crate::http::i18n::Lang;
use crate::http::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use yichuang_core::calendar::{parse_date, CalendarError, CalendarFile, DayKind};
use yichuang_core::{ActorKind, Permission};

#[derive(utoipa::OpenApi)]
#[openapi(paths(add_working_days, is_working_day, list_days, import, set_day))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/calendar/add-working-days", get(add_working_days))
        .route("/api/v1/calendar/is-working-day", get(is_working_day))
        .route("/api/v1/calendar/days", get(list_days))
        .route("/api/v1/admin/calendar", post(import))
        .route("/api/v1/admin/calendar/days", put(set_day))
}

type ApiResult<T = Response> = Result<T, ApiError>;

fn cal_err(e: CalendarError, lang: Lang) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        e.code(),
        match lang {
            Lang::Zh => e.zh(),
            Lang::En => e.to_string(),
        },
    )
}

/// Checks an optional region code against the known regions.
pub async fn region_param(
    st: &AppState,
    region: Option<&str>,
    lang: Lang,
) -> ApiResult<Option<String>> {
    let Some(r) = region.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let known = st
        .store
        .known()
        .await
        .map_err(|e| ApiError::from_store(e, lang))?;
    if !known.regions.contains(r) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "calendar.unknown_region",
            match lang {
                Lang::Zh => format!("区划 {r} 不存在。"),
                Lang::En => format!("region: unknown region {r}."),
            },
        ));
    }
    Ok(Some(r.to_string()))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AddQuery {
    /// Local date, YYYY-MM-DD.
    date: String,
    /// Working days to add, 0..=2500.
    n: String,
    /// Region code; its own days override the national schedule.
    region: Option<String>,
}

/// The date N working days after DATE (DATE itself not counted).
#[utoipa::path(get, path = "/api/v1/calendar/add-working-days", params(AddQuery),
    responses((status = 200, description = "the date"), (status = 422, body = ErrorBody)))]
pub async fn add_working_days(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<AddQuery>,
) -> ApiResult {
    let lang = mc.1;
    let date = parse_date(&q.date).map_err(|e| cal_err(e, lang))?;
    let n: i64 =
        q.n.trim()
            .parse()
            .map_err(|_| cal_err(CalendarError::BadCount(-1), lang))?;
    let region = region_param(&st, q.region.as_deref(), lang).await?;
    let cal = st
        .store
        .calendar(region.as_deref())
        .await
        .map_err(|e| ApiError::from_store(e, lang))?;
    let result = cal
        .add_working_days(date, n)
        .map_err(|e| cal_err(e, lang))?;
    let known = (date.year()..=result.year()).all(|y| cal.knows_year(y));
    Ok(Json(json!({"date": date.to_string(), "n": n, "region": region, "result": result.to_string(), "schedule_known": known})).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DayQuery {
    date: String,
    region: Option<String>,
}

/// Whether DATE is a working day, and why.
#[utoipa::path(get, path = "/api/v1/calendar/is-working-day", params(DayQuery),
    responses((status = 200, description = "yes or no"), (status = 422, body = ErrorBody)))]
pub async fn is_working_day(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<DayQuery>,
) -> ApiResult {
    let lang = mc.1;
    let date = parse_date(&q.date).map_err(|e| cal_err(e, lang))?;
    let region = region_param(&st, q.region.as_deref(), lang).await?;
    let cal = st
        .store
        .calendar(region.as_deref())
        .await
        .map_err(|e| ApiError::from_store(e, lang))?;
    let listed = st
        .store
        .calendar_days(region.as_deref(), date.year())
        .await
        .map_err(|e| ApiError::from_store(e, lang))?
        .into_iter()
        .find(|d| d.date == date.to_string());
    let working = cal.is_working_day(date);
    let reason = match &listed {
        Some(d) => d.name.clone(),
        None if working => "weekday".into(),
        None => "weekend".into(),
    };
    Ok(Json(json!({"date": date.to_string(), "region": region, "working_day": working, "reason": reason, "schedule_known": cal.knows_year(date.year())})).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DaysQuery {
    year: i32,
    region: Option<String>,
}

/// Listed holidays and make-up working days of a year that apply in a region.
#[utoipa::path(get, path = "/api/v1/calendar/days", params(DaysQuery), responses((status = 200, description = "days")))]
pub async fn list_days(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<DaysQuery>,
) -> ApiResult {
    let lang = mc.1;
    let region = region_param(&st, q.region.as_deref(), lang).await?;
    let days = st
        .store
        .calendar_days(region.as_deref(), q.year)
        .await
        .map_err(|e| ApiError::from_store(e, lang))?;
    Ok(Json(json!({"year": q.year, "region": region, "days": days})).into_response())
}

fn require_admin_for(c: &Caller, region: Option<&str>) -> ApiResult<()> {
    let actor = c.actor();
    let ok = match (&actor.kind, region) {
        // The national schedule belongs to the top: an admin of a province or of nothing below.
        (ActorKind::Staff { role, region: own }, None) => {
            role.may(Permission::Administer)
                && own.level() == yichuang_core::ids::RegionLevel::Province
        }
        (_, Some(r)) => actor.may_in(Permission::Administer, r),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin.out_of_region",
            c.lang.t(
                "该区划的日历不在您的管理范围内。",
                "That calendar is outside the region you administer.",
            ),
        ))
    }
}

/// Import a calendar file (TOML body, same format as `calendar/cn-2024-2026.toml`): all or nothing.
#[utoipa::path(post, path = "/api/v1/admin/calendar", request_body = String,
    responses((status = 200, description = "imported"), (status = 422, body = ErrorBody)))]
pub async fn import(State(st): State<AppState>, Csrf(c): Csrf, body: String) -> ApiResult {
    let file: CalendarFile = toml::from_str(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "calendar.syntax",
            e.to_string(),
        )
    })?;
    let region = region_param(&st, Some(file.region.as_str()), c.lang).await?;
    require_admin_for(&c, region.as_deref())?;
    let n = st
        .store
        .import_calendar(file, &c.actor())
        .await
        .map_err(|e| ApiError::from_store(e, c.lang))?;
    Ok(Json(json!({"imported_days": n})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetDayBody {
    /// Empty for the national schedule.
    #[serde(default)]
    region: String,
    date: String,
    /// holiday | workday | normal (normal removes the listing)
    kind: String,
    #[serde(default)]
    name: String,
}

/// Mark one day as a holiday or a make-up working day, or back to normal.
#[utoipa::path(put, path = "/api/v1/admin/calendar/days", request_body = SetDayBody,
    responses((status = 200, description = "saved"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_day(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Json(b): Json<SetDayBody>,
) -> ApiResult {
    let date = parse_date(&b.date).map_err(|e| cal_err(e, c.lang))?;
    let kind = match b.kind.as_str() {
        "holiday" => Some(DayKind::Holiday),
        "workday" => Some(DayKind::Workday),
        "normal" => None,
        _ => {
            return Err(ApiError::unprocessable(
                "calendar.kind",
                c.lang,
                "kind 应为 holiday、workday 或 normal。",
                "kind must be holiday, workday or normal.",
            ))
        }
    };
    let region = region_param(&st, Some(b.region.as_str()), c.lang).await?;
    require_admin_for(&c, region.as_deref())?;
    st.store
        .set_calendar_day(
            region.as_deref().unwrap_or(""),
            date,
            kind,
            &b.name,
            &c.actor(),
        )
        .await
        .map_err(|e| ApiError::from_store(e, c.lang))?;
    Ok(Json(json!({"saved": true})).into_response())
}
