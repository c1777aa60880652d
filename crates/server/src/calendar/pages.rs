//! The working-day calendar page.

use crate::http::auth::{Caller, MaybeCaller};
use crate::http::error::ApiError;
use crate::http::i18n::Lang;
use crate::http::page::{layout, pe, se, PageError, PageResult};
use crate::http::AppState;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(calendar_page))
        .route("/calendar/days", post(calendar_day_post))
}

#[derive(Deserialize, Default)]
struct CalendarQuery {
    year: Option<i32>,
    region: Option<String>,
    date: Option<String>,
    n: Option<String>,
}

/// The working-day calendar: the listed days of a year, the "N working days after" tool a
/// clerk uses to answer "when will it be done", and (for admins) marking days.
async fn calendar_page(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<CalendarQuery>,
) -> PageResult {
    let MaybeCaller(who, lang, _) = mc;
    let region = crate::calendar::api::region_param(&st, q.region.as_deref(), lang)
        .await
        .map_err(pe(lang))?;
    let year = q
        .year
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().year())
        .clamp(2000, 2100);
    let days = st
        .store
        .calendar_days(region.as_deref(), year)
        .await
        .map_err(se(lang))?;
    let regions = st.store.regions().await.map_err(se(lang))?;
    let cal = st
        .store
        .calendar(region.as_deref())
        .await
        .map_err(se(lang))?;
    let answer = match (&q.date, &q.n) {
        (Some(d), Some(n)) if !d.is_empty() => Some(
            yichuang_core::calendar::parse_date(d)
                .and_then(|d| {
                    let n: i64 = n
                        .trim()
                        .parse()
                        .map_err(|_| yichuang_core::calendar::CalendarError::BadCount(-1))?;
                    cal.add_working_days(d, n).map(|r| (d, n, r))
                })
                .map_err(|e| {
                    if lang == Lang::En {
                        e.to_string()
                    } else {
                        e.zh()
                    }
                }),
        ),
        _ => None,
    };
    let is_admin = who
        .as_ref()
        .is_some_and(|c| c.account.role.as_deref() == Some("admin"));
    let rq = region.clone().unwrap_or_default();
    let body = html! {
        div.card {
            h1 { (lang.t("工作日计算", "Working days")) }
            form method="get" action="/calendar" {
                div.row {
                    div { label for="c_date" { (lang.t("起算日期（受理日）", "From (acceptance date)")) } input #c_date type="date" name="date" value=(q.date.clone().unwrap_or_default()); }
                    div { label for="c_n" { (lang.t("工作日数", "Working days")) } input #c_n type="number" name="n" value=(q.n.clone().unwrap_or_default()); }
                    div { label for="c_region" { (lang.t("区划", "Region")) }
                        select #c_region name="region" { option value="" { (lang.t("全国", "National")) }
                            @for (r, _) in &regions { option value=(r.code) selected[rq == r.code] { (r.code) " " (lang.t(&r.name, &r.name_en)) } } } }
                }
                input type="hidden" name="year" value=(year);
                p { button type="submit" { (lang.t("计算", "Compute")) } }
            }
            @match &answer {
                Some(Ok((d, n, r))) => { div.ok #calendar-answer { (d.to_string()) " + " (n) " " (lang.t("个工作日 = ", "working days = ")) strong { (r.to_string()) }
                    @if !(d.year()..=r.year()).all(|y| cal.knows_year(y)) { br; (lang.t("注意：部分年份尚未导入节假日安排，仅按周末计算。", "Note: no holiday schedule is loaded for part of this range; only weekends were skipped there.")) } } }
                Some(Err(e)) => { div.err { (e) } }
                None => {}
            }
        }
        div.card {
            h2 { (year) " " (lang.t("节假日与调休上班日", "holidays and make-up working days")) }
            p {
                a href={"/calendar?year=" (year - 1) "&region=" (rq)} { "« " (year - 1) } " · "
                a href={"/calendar?year=" (year + 1) "&region=" (rq)} { (year + 1) " »" }
            }
            @if days.is_empty() { p.muted { (lang.t("该年尚未导入节假日安排。", "No schedule is loaded for this year.")) } }
            table #calendar-days {
                tr { th { (lang.t("日期", "Date")) } th { (lang.t("类型", "Kind")) } th { (lang.t("名称", "Name")) } th { (lang.t("来源", "From")) } }
                @for d in &days {
                    tr {
                        td { (d.date) }
                        td { @if d.kind == yichuang_core::calendar::DayKind::Holiday { (lang.t("放假", "day off")) } @else { strong { (lang.t("调休上班", "make-up working day")) } } }
                        td { (d.name) }
                        td.muted { @if d.region == yichuang_store::calendar::NATIONAL { (lang.t("全国", "national")) } @else { (d.region) } }
                    }
                }
            }
        }
        @if let (true, Some(c)) = (is_admin, &who) {
            div.card {
                h2 { (lang.t("标记日期", "Mark a day")) }
                form method="post" action="/calendar/days" {
                    input type="hidden" name="csrf" value=(c.csrf);
                    div.row {
                        div { label for="m_date" { (lang.t("日期", "Date")) } input #m_date type="date" name="date" required; }
                        div { label for="m_kind" { (lang.t("类型", "Kind")) } select #m_kind name="kind" {
                            option value="holiday" { (lang.t("放假", "day off")) }
                            option value="workday" { (lang.t("调休上班", "make-up working day")) }
                            option value="normal" { (lang.t("恢复正常", "back to normal")) } } }
                        div { label for="m_name" { (lang.t("名称", "Name")) } input #m_name type="text" name="name"; }
                        div { label for="m_region" { (lang.t("区划", "Region")) } select #m_region name="region" {
                            @for (r, _) in &regions { option value=(r.code) selected[c.account.region.as_deref() == Some(r.code.as_str())] { (r.code) " " (r.name) } } } }
                    }
                    p { button type="submit" { (lang.t("保存", "Save")) } }
                }
                p.muted { (lang.t("新年度的国务院节假日安排可用 yichuang calendar import FILE 或 POST /api/v1/admin/calendar 导入。", "Load a new year's State Council schedule with yichuang calendar import FILE or POST /api/v1/admin/calendar.")) }
            }
        }
    };
    Ok(layout(lang, who.as_ref(), lang.t("工作日", "Calendar"), body).into_response())
}

#[derive(Deserialize)]
struct DayForm {
    csrf: Option<String>,
    date: String,
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    region: String,
}

async fn calendar_day_post(
    State(st): State<AppState>,
    c: Caller,
    Form(f): Form<DayForm>,
) -> PageResult {
    let lang = c.lang;
    c.check_csrf(f.csrf.as_deref()).map_err(pe(lang))?;
    let date = yichuang_core::calendar::parse_date(&f.date).map_err(|e| {
        PageError(
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                e.code(),
                if lang == Lang::En {
                    e.to_string()
                } else {
                    e.zh()
                },
            ),
            lang,
        )
    })?;
    let kind = match f.kind.as_str() {
        "holiday" => Some(yichuang_core::calendar::DayKind::Holiday),
        "workday" => Some(yichuang_core::calendar::DayKind::Workday),
        _ => None,
    };
    let region = crate::calendar::api::region_param(&st, Some(f.region.as_str()), lang)
        .await
        .map_err(pe(lang))?;
    let Some(region) = region else {
        return Err(PageError(ApiError::forbidden(lang), lang));
    };
    crate::http::require_admin_in(&c.actor(), &region, lang).map_err(pe(lang))?;
    st.store
        .set_calendar_day(&region, date, kind, &f.name, &c.actor())
        .await
        .map_err(se(lang))?;
    Ok(Redirect::to(&format!("/calendar?year={}&region={region}", date.year())).into_response())
}
