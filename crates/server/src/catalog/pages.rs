//! The public catalog and an item's guide (办事指南).

use crate::http::auth::MaybeCaller;
use crate::http::page::{layout, se, PageResult};
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use maud::html;
use serde::Deserialize;
use yichuang_core::catalog::codes;
use yichuang_store::catalog::ItemFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(catalog))
        .route("/items", get(catalog))
        .route("/items/{code}", get(guide))
}

#[derive(Deserialize, Default)]
struct CatalogQuery {
    department: Option<String>,
    category: Option<String>,
    region: Option<String>,
    q: Option<String>,
}

async fn catalog(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<CatalogQuery>,
) -> PageResult {
    let MaybeCaller(who, lang, _) = mc;
    let items = st
        .store
        .items(&ItemFilter {
            department: q.department.clone(),
            category: q.category.clone(),
            region: q.region.clone(),
            q: q.q.clone(),
        })
        .await
        .map_err(se(lang))?;
    let depts = st.store.departments().await.map_err(se(lang))?;
    let cats = st.store.categories().await.map_err(se(lang))?;
    let regions = st.store.regions().await.map_err(se(lang))?;
    let sel = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    let bundles = st.store.bundles().await.map_err(se(lang))?;
    let body = html! {
        (crate::bundles::pages::bundle_list(lang, &bundles))
        div.card {
            h1 { (lang.t("办事指南", "Service guides")) }
            form method="get" action="/items" {
                div.row {
                    div { label for="q" { (lang.t("事项名称", "Name")) } input #q type="text" name="q" value=(q.q.clone().unwrap_or_default()) placeholder=(lang.t("如：施工许可", "e.g. permit")); }
                    div { label for="department" { (lang.t("部门", "Department")) }
                        select #department name="department" { option value="" { (lang.t("全部", "All")) }
                            @for d in &depts { option value=(d.code) selected[sel(&q.department, &d.code)] { (lang.t(&d.name, &d.name_en)) } } } }
                    div { label for="category" { (lang.t("主题", "Topic")) }
                        select #category name="category" { option value="" { (lang.t("全部", "All")) }
                            @for c in &cats { option value=(c) selected[sel(&q.category, c)] { (c) } } } }
                    div { label for="region" { (lang.t("区划", "Region")) }
                        select #region name="region" { option value="" { (lang.t("全部", "All")) }
                            @for (r, level) in &regions { option value=(r.code) selected[sel(&q.region, &r.code)] { (r.code) " " (lang.t(&r.name, &r.name_en)) " (L" (level) ")" } } } }
                }
                p { button type="submit" { (lang.t("查询", "Search")) } }
            }
        }
        div.card {
            p.muted { (items.len()) " " (lang.t("项", "items")) }
            table {
                tr { th { (lang.t("事项", "Item")) } th { (lang.t("实施部门", "Department")) } th { (lang.t("类型", "Type")) } }
                @for i in &items {
                    tr {
                        td { a href={"/items/" (i.code)} { (lang.t(&i.name, &i.name_en)) } br; span.muted { (i.code) } }
                        td { (i.department_name) }
                        td { span.tag { (codes::name(codes::ITEM_TYPE, &i.item_type)) } " " span.tag { (codes::name(codes::CASE_TYPE, &i.case_type)) } }
                    }
                }
            }
        }
    };
    Ok(layout(lang, who.as_ref(), lang.t("办事指南", "Guides"), body).into_response())
}

async fn guide(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Path(code): Path<String>,
) -> PageResult {
    let MaybeCaller(who, lang, _) = mc;
    let it = st.store.item(&code).await.map_err(se(lang))?;
    let dept = st
        .store
        .department(&it.department)
        .await
        .map_err(se(lang))?;
    let region = st.store.region_name(&it.region).await.map_err(se(lang))?;
    let yes_no = |b: bool| {
        if b {
            lang.t("是", "yes")
        } else {
            lang.t("否", "no")
        }
    };
    let body = html! {
        div.card {
            h1 { (lang.t(&it.name, &it.name_en)) }
            table {
                tr { th { (lang.t("实施编码", "Code")) } td { (it.code) @if let Some(b) = &it.basic_code { " / " (b) } } }
                tr { th { (lang.t("事项类型", "Type")) } td { (it.item_type) " " (codes::name(codes::ITEM_TYPE, &it.item_type)) } }
                tr { th { (lang.t("实施主体", "Department")) } td { (dept.as_ref().map(|d| d.name.clone()).unwrap_or_default()) " (" (codes::name(codes::SUBJECT_NATURE, &it.subject_nature)) ")" } }
                tr { th { (lang.t("实施区划 / 行使层级", "Region / level")) } td { (it.region) " " (region) " · " (codes::name(codes::EXERCISE_LEVEL, &it.exercise_level)) } }
                tr { th { (lang.t("服务对象", "Who may apply")) } td { @for o in &it.service_objects { span.tag { (codes::name(codes::SERVICE_OBJECT, o)) } " " } } }
                tr { th { (lang.t("办理形式", "Ways to apply")) } td { @for o in &it.handling_forms { span.tag { (codes::name(codes::HANDLING_FORM, o)) } " " } } }
                tr { th { (lang.t("办件类型", "Handling mode")) } td { (codes::name(codes::CASE_TYPE, &it.case_type)) } }
                tr { th { (lang.t("法定办结时限", "Legal time limit")) } td { (it.legal_limit) " " (lang.t("个工作日", "working days")) } }
                tr { th { (lang.t("承诺办结时限", "Promised time limit")) } td { strong { (it.promised_limit) " " (lang.t("个工作日", "working days")) } } }
                tr { th { (lang.t("到办事现场次数", "Visits needed")) } td { (it.visits) } }
                tr { th { (lang.t("设定依据", "Legal basis")) } td { (it.legal_basis) } }
                tr { th { (lang.t("受理条件", "Conditions")) } td style="white-space:pre-line" { (it.conditions) } }
                @if it.commitment { tr { th { (lang.t("告知承诺", "Commitment")) } td { (it.commitment_text.clone().unwrap_or_default()) } } }
                @if !it.special_procedures.is_empty() { tr { th { (lang.t("特别程序", "Special procedures")) } td { (it.special_procedures.join("、")) } } }
                tr { th { (lang.t("办理流程", "Process")) } td { (it.process.join(" → ")) } }
                tr { th { (lang.t("办理结果", "Result")) } td { (it.result_name) } }
                tr { th { (lang.t("收费", "Fees")) } td {
                    @if it.fees.is_empty() { (lang.t("不收费", "Free")) }
                    @for f in &it.fees { (f.name) ": " (format!("{:.2}", f.amount_fen as f64 / 100.0)) " " (lang.t("元", "yuan")) br; span.muted { (lang.t("依据：", "Basis: ")) (f.basis) } br; }
                } }
                tr { th { (lang.t("办理地点 / 时间", "Where / when")) } td { (it.location) br; (it.hours) } }
                tr { th { (lang.t("咨询电话", "Questions")) } td { (it.consultation_phone) } }
                tr { th { (lang.t("监督投诉电话", "Complaints")) } td { (it.complaint_phone) } }
                tr { th { (lang.t("救济途径", "Remedies")) } td { (it.remedies) } }
                tr { th { (lang.t("网上办理", "Online")) } td { (yes_no(it.online)) } }
            }
        }
        div.card {
            h2 { (lang.t("申请材料", "Materials")) }
            table {
                tr { th { (lang.t("材料", "Material")) } th { (lang.t("必要性", "Required")) } th { (lang.t("原件/复印件", "Originals/copies")) } th { (lang.t("说明", "Notes")) } }
                @for m in &it.materials {
                    tr {
                        td { (m.code) " " (m.name) }
                        td { @if m.required { (lang.t("必要", "required")) } @else { (lang.t("非必要", "optional")) } }
                        td { (m.originals) " / " (m.copies) }
                        td {
                            @if m.shared_data { span.tag { (lang.t("可通过共享获取，免提交", "fetched from shared data")) } " " }
                            @if m.deferrable { span.tag { (lang.t("可容缺后补", "may be deferred")) } " " }
                            @if it.commitment_materials.contains(&m.code) { span.tag { (lang.t("签署告知承诺书后免提交", "waived by the signed commitment")) } " " }
                            @if let Some(s) = &m.sample_note { span.muted { (s) } }
                        }
                    }
                }
            }
        }
        @if it.online {
            div.card.noprint {
                @match &who {
                    Some(c) if !c.account.is_staff() => {
                        form method="post" action={"/items/" (it.code) "/apply"} {
                            input type="hidden" name="csrf" value=(c.csrf);
                            button type="submit" { (lang.t("在线申请", "Apply online")) }
                        }
                    }
                    Some(_) => { p.muted { (lang.t("工作人员请在“窗口受理”中为现场申请人办理。", "Staff: open walk-in cases from the Window page.")) } }
                    None => { a.btn href="/login" { (lang.t("登录后在线申请", "Log in to apply")) } }
                }
            }
        }
    };
    Ok(layout(lang, who.as_ref(), &it.name, body).into_response())
}
