//! Progress without an account (办件查询).

use crate::http::auth::MaybeCaller;
use crate::http::page::{fmt_ms, layout, pe, PageResult};
use crate::http::AppState;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use maud::html;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/status", get(status_page))
}

#[derive(Deserialize, Default)]
struct StatusQuery {
    n: Option<String>,
    s: Option<String>,
}

/// Progress without an account: case number plus the secret on the receipt (or the last
/// six characters of the applicant's ID number). The same answer for "no such case" and
/// "wrong secret", so numbers cannot be probed.
async fn status_page(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<StatusQuery>,
) -> PageResult {
    let MaybeCaller(who, lang, addr) = mc;
    let asked = q.n.as_deref().is_some_and(|n| !n.is_empty());
    let mut found = None;
    let mut blocked = None;
    let mut stages = Vec::new();
    if let (Some(n), Some(code)) = (&q.n, &q.s) {
        if !n.trim().is_empty() {
            match crate::notify::api::lookup(&st, &addr, n, code)
                .await
                .map_err(pe(lang))?
            {
                crate::notify::api::Lookup::Found(v) => {
                    stages = crate::notify::api::public_stages(&st, &v.number)
                        .await
                        .map_err(pe(lang))?;
                    found = Some(*v);
                }
                crate::notify::api::Lookup::NotFound => {}
                crate::notify::api::Lookup::Blocked(ms) => blocked = Some(ms),
            }
        }
    }
    let body = html! {
        div.card {
            h1 { (lang.t("办件进度查询", "Case status")) }
            form method="get" action="/status" {
                div.row {
                    div { label for="n" { (lang.t("办件编号", "Case number")) } input #n type="text" name="n" value=(q.n.clone().unwrap_or_default()); }
                    div { label for="s" { (lang.t("查询码或证件号码后6位", "Receipt code or last 6 of ID number")) } input #s type="text" name="s"; }
                }
                p { button type="submit" { (lang.t("查询", "Look up")) } }
            }
            @if let Some(v) = &found {
                table #status-result {
                    tr { th { (lang.t("办件编号", "Case number")) } td #status-number { (v.number) } }
                    tr { th { (lang.t("事项", "Item")) } td { (lang.t(&v.item_name, &v.item_name_en)) } }
                    tr { th { (lang.t("状态", "Status")) } td.status { (lang.t(v.status_zh, v.status_en)) } }
                    tr { th { (lang.t("提交", "Submitted")) } td { (fmt_ms(v.submitted_at, st.config.utc_offset_hours)) } }
                    tr { th { (lang.t("受理", "Accepted")) } td { (fmt_ms(v.accepted_at, st.config.utc_offset_hours)) } }
                    tr { th { (lang.t("承诺办结", "Promised by")) } td { (v.promised_due.clone().unwrap_or_default()) } }
                    tr { th { (lang.t("办结", "Completed")) } td { (fmt_ms(v.completed_at, st.config.utc_offset_hours)) } }
                }
                @if !stages.is_empty() {
                    h2 { (lang.t("办理环节", "Stages")) }
                    @for s in &stages {
                        div class={"stage stage-" (s.state)} {
                            strong { (s.name) } " "
                            span.tag { (match s.state { "done" => lang.t("已完成", "done"), "current" => lang.t("办理中", "in progress"), _ => lang.t("未开始", "not yet") }) }
                            @if !s.departments.is_empty() { " " span.muted { (s.departments.join("、")) } }
                        }
                    }
                }
            } @else if let Some(ms) = blocked {
                div.err #status-blocked { (lang.t(&format!("查询错误次数过多，请{}分钟后再试。", ms.div_ceil(60_000)), &format!("Too many wrong tries; try again in {} minutes.", ms.div_ceil(60_000)))) }
            } @else if asked {
                div.err { (lang.t("未找到该办件，或查询码不正确。", "No case matches that number and code.")) }
            }
        }
    };
    Ok(layout(lang, who.as_ref(), lang.t("进度查询", "Status"), body).into_response())
}
