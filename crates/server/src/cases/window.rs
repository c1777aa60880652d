//! The comprehensive window's queue and walk-in applications.

use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::page::{fmt_ms, layout, pe, se, PageError, PageResult};
use crate::http::AppState;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde::Deserialize;
use yichuang_core::{ActorKind, CaseStatus};
use yichuang_store::catalog::ItemFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/window", get(window_page))
        .route("/walk-in", post(walk_in_post))
}

#[derive(Deserialize, Default)]
struct WindowQuery {
    status: Option<String>,
    cursor: Option<i64>,
}

async fn window_page(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<WindowQuery>,
) -> PageResult {
    let lang = c.lang;
    let actor = c.actor();
    let ActorKind::Staff { region, .. } = &actor.kind else {
        return Err(PageError(ApiError::forbidden(lang), lang));
    };
    let status = q
        .status
        .as_deref()
        .and_then(CaseStatus::parse)
        .unwrap_or(CaseStatus::Submitted);
    let cases = st
        .store
        .window_queue(
            &actor,
            Some(status),
            yichuang_store::Page {
                cursor: q.cursor,
                limit: 50,
            },
        )
        .await
        .map_err(se(lang))?;
    let items = st
        .store
        .items(&ItemFilter {
            region: Some(region.to_string()),
            ..Default::default()
        })
        .await
        .map_err(se(lang))?;
    let body = html! {
        div.card {
            h1 { (lang.t("综合受理窗口", "Comprehensive window")) }
            p.row {
                @for s in [CaseStatus::Submitted, CaseStatus::CorrectionRequired, CaseStatus::Draft, CaseStatus::Accepted, CaseStatus::Completed] {
                    a.btn.secondary[s != status] href={"/window?status=" (s.as_str())} { (lang.t(s.zh(), s.en())) }
                }
            }
            table #queue {
                tr { th { (lang.t("办件编号", "Case number")) } th { (lang.t("事项", "Item")) } th { (lang.t("申请人", "Applicant")) } th { (lang.t("提交时间", "Submitted")) } }
                @for k in &cases {
                    tr { td { a href={"/cases/" (k.id)} { (k.number.clone().unwrap_or_else(|| format!("#{}", k.id))) } } td { (k.item_name) } td { (k.applicant_name) } td { (fmt_ms(k.submitted_at, st.config.utc_offset_hours)) } }
                }
            }
            @if cases.is_empty() { p.muted { (lang.t("暂无办件。", "Nothing waiting.")) } }
            @if cases.len() == 50 { @if let Some(last) = cases.last() { p { a href={"/window?status=" (status.as_str()) "&cursor=" (last.id)} { (lang.t("下一页", "Next page")) } } } }
        }
        div.card {
            h2 { (lang.t("现场申请（按证件号码查找或新建申请人）", "Walk-in applicant (found or created by ID number)")) }
            form method="post" action="/walk-in" {
                input type="hidden" name="csrf" value=(c.csrf);
                div.row {
                    div { label for="w_id" { (lang.t("证件号码", "ID number / USCC")) } input #w_id type="text" name="id_number" required; }
                    div { label for="w_name" { (lang.t("姓名（新申请人）", "Name (new applicant)")) } input #w_name type="text" name="name"; }
                    div { label for="w_phone" { (lang.t("手机", "Phone")) } input #w_phone type="text" name="phone"; }
                }
                label for="w_item" { (lang.t("事项", "Item")) }
                select #w_item name="item_code" { @for i in &items { option value=(i.code) { (i.name) } } }
                p { button type="submit" { (lang.t("开始受理", "Open case")) } }
            }
        }
    };
    Ok(layout(lang, Some(&c), lang.t("窗口受理", "Window"), body).into_response())
}

#[derive(Deserialize)]
struct WalkInForm {
    csrf: Option<String>,
    id_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    item_code: String,
}

async fn walk_in_post(
    State(st): State<AppState>,
    c: Caller,
    Form(f): Form<WalkInForm>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let phone = Some(f.phone.trim().to_string()).filter(|s| !s.is_empty());
    let id = st
        .store
        .walk_in(&c.actor(), &f.id_number, &f.name, phone, &f.item_code)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}
