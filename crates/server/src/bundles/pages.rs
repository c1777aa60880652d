//! 一件事一次办 pages: a bundle's guide, the one application (form, shared materials,
//! submission), one acceptance at the window, and the bundle with its parts.

use crate::bundles::api::material_name;
use crate::http::auth::{Caller, MaybeCaller};
use crate::http::i18n::Lang;
use crate::http::page::{fmt_ms, layout, pe, se, CsrfOnly, PageResult};
use crate::http::AppState;
use axum::extract::{Form, Multipart, Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use std::collections::{BTreeMap, HashMap};
use yichuang_core::catalog::FieldKind;
use yichuang_core::Permission;
use yichuang_store::bundles::BundleApp;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bundles/{code}", get(guide_page))
        .route("/bundles/{code}/apply", post(apply_post))
        .route("/bundle-cases/{id}", get(app_page))
        .route("/bundle-cases/{id}/form", post(form_post))
        .route("/bundle-cases/{id}/upload/{index}", post(upload_post))
        .route("/bundle-cases/{id}/submit", post(submit_post))
        .route("/bundle-cases/{id}/accept", post(accept_post))
}

/// The list of bundles for the catalog page.
pub fn bundle_list(lang: Lang, bundles: &[yichuang_core::catalog::Bundle]) -> Markup {
    html! {
        @if !bundles.is_empty() {
            div.card #bundles {
                h2 { (lang.t("一件事一次办", "One thing, one application")) }
                ul { @for b in bundles {
                    li { a href={"/bundles/" (b.code)} { (lang.t(&b.name, &b.name_en)) } " " span.muted { (b.items.len()) (lang.t(" 个事项", " items")) } }
                } }
            }
        }
    }
}

async fn guide_page(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Path(code): Path<String>,
) -> PageResult {
    let MaybeCaller(who, lang, _) = mc;
    let g = st.store.bundle_guide(&code).await.map_err(se(lang))?;
    let applicant = who.as_ref().is_some_and(|c| !c.account.is_staff());
    let body = html! {
        div.card {
            h1 { (lang.t(&g.bundle.name, &g.bundle.name_en)) }
            p { (g.bundle.description) }
            p { (lang.t("承诺办结时限：", "Promised within: ")) strong { (g.promised_limit) } (lang.t(" 个工作日（各事项并行办理）", " working days (the items run in parallel)")) }
            h2 { (lang.t("包含事项", "Items")) }
            ul { @for it in &g.items { li { a href={"/items/" (it.code)} { (it.name) } " " span.muted { (it.department) " · " (lang.t("承诺 ", "promised ")) (it.promised_limit) (lang.t(" 个工作日", " working days")) } } } }
            h2 { (lang.t("一套材料（共用材料只交一次）", "One set of materials (shared ones once)")) }
            ul { @for m in &g.materials { li { (m.name) @if m.required { " *" } @if m.used_by.len() > 1 { " " span.tag { (lang.t("共用 ×", "shared ×")) (m.used_by.len()) } } } } }
            @if applicant {
                @if let Some(c) = &who {
                    form method="post" action={"/bundles/" (g.bundle.code) "/apply"} {
                        input type="hidden" name="csrf" value=(c.csrf);
                        button #apply-bundle type="submit" { (lang.t("一次申请", "Apply once")) }
                    }
                }
            } @else if who.is_none() {
                p { a.btn href="/login" { (lang.t("登录后申请", "Log in to apply")) } }
            }
        }
    };
    Ok(layout(lang, who.as_ref(), &g.bundle.name, body).into_response())
}

async fn apply_post(
    State(st): State<AppState>,
    c: Caller,
    Path(code): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let id = st
        .store
        .create_bundle_app(&c.actor(), &code, BTreeMap::new())
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/bundle-cases/{id}")).into_response())
}

fn status_name(lang: Lang, s: &str) -> &'static str {
    match s {
        "draft" => lang.t("填写中", "draft"),
        "submitted" => lang.t("已提交待受理", "submitted, awaiting acceptance"),
        "correction_required" => lang.t("待补正", "corrections required"),
        "in_progress" => lang.t("各事项并行办理中", "items in progress in parallel"),
        "completed" => lang.t("已全部办结", "all concluded"),
        _ => lang.t("已撤回", "withdrawn"),
    }
}

async fn app_page(State(st): State<AppState>, c: Caller, Path(id): Path<i64>) -> PageResult {
    let lang = c.lang;
    let v: BundleApp = st
        .store
        .bundle_app(&c.actor(), id)
        .await
        .map_err(se(lang))?;
    let g = st
        .store
        .bundle_guide(&v.bundle_code)
        .await
        .map_err(se(lang))?;
    let owner = c.actor().owns(v.applicant_id);
    let editable = owner && matches!(v.status, "draft" | "correction_required");
    let clerk = c.actor().may_in(Permission::Accept, &v.region) && v.status == "submitted";
    // The form as saved: the union of the parts' forms.
    let mut form: HashMap<String, String> = HashMap::new();
    for p in &v.parts {
        if let Some(k) = st
            .store
            .case_view_unchecked(p.case_id)
            .await
            .map_err(se(lang))?
        {
            form.extend(k.form);
        }
    }
    let body = html! {
        div.card {
            h1 { (v.bundle_name) }
            p { (lang.t("状态：", "Status: ")) strong #bundle-status data-status=(v.status) { (status_name(lang, v.status)) } " · " span.muted { (lang.t("提交 ", "submitted ")) (fmt_ms(v.submitted_at, st.config.utc_offset_hours)) } }
            table #bundle-parts {
                tr { th { (lang.t("事项", "Item")) } th { (lang.t("办件编号", "Case")) } th { (lang.t("状态", "Status")) } th { (lang.t("当前环节 / 办结", "Stage / concluded")) } }
                @for p in &v.parts {
                    tr {
                        td { (p.item_name) }
                        td { a href={"/cases/" (p.case_id)} { (p.number.clone().unwrap_or_else(|| lang.t("（提交后生成）", "(on submission)").into())) } }
                        td.status { (lang.t(p.status_zh, p.status_en)) }
                        td { (p.current_stage.clone().unwrap_or_default()) @if let Some(d) = &p.concluded_on { (d) } @if let Some(d) = &p.promised_due { br; span.muted { (lang.t("承诺 ", "promised ")) (d) } } }
                    }
                }
            }
        }
        @if editable {
            div.card {
                h2 { (lang.t("一张表单", "One form")) }
                form method="post" action={"/bundle-cases/" (v.id) "/form"} {
                    input type="hidden" name="csrf" value=(c.csrf);
                    @for f in &g.fields {
                        @let val = form.get(&f.key).cloned().unwrap_or_default();
                        label for={"f_" (f.key)} { (lang.t(&f.label, &f.label_en)) @if f.required { " *" } }
                        @match f.kind {
                            FieldKind::Select => { select id={"f_" (f.key)} name={"f_" (f.key)} { option value="" { "—" } @for o in &f.options { option value=(o) selected[&val == o] { (o) } } } }
                            FieldKind::Date => { input id={"f_" (f.key)} type="date" name={"f_" (f.key)} value=(val); }
                            FieldKind::Number => { input id={"f_" (f.key)} type="number" step="any" name={"f_" (f.key)} value=(val); }
                            FieldKind::Text => { input id={"f_" (f.key)} type="text" name={"f_" (f.key)} value=(val); }
                        }
                    }
                    p { button.secondary #save-bundle type="submit" { (lang.t("保存", "Save")) } }
                }
            }
            div.card {
                h2 { (lang.t("一套材料", "One set of materials")) }
                @for (i, m) in g.materials.iter().enumerate() {
                    form.upload method="post" enctype="multipart/form-data" action={"/bundle-cases/" (v.id) "/upload/" (i)} style="margin:.4rem 0" {
                        input type="hidden" name="csrf" value=(c.csrf);
                        span { (m.name) @if m.required { " *" } @if m.used_by.len() > 1 { " " span.tag { (lang.t("共用 ×", "shared ×")) (m.used_by.len()) } } " " }
                        @if v.uploaded.contains(&m.name) { span.tag id={"uploaded-" (i)} { (lang.t("已上传", "uploaded")) } " " }
                        input type="file" name="file" id={"bfile_" (i)} accept=".pdf,.jpg,.jpeg,.png,.ofd";
                        " " button.secondary type="submit" id={"bupload_" (i)} { (lang.t("上传", "Upload")) }
                    }
                }
                form method="post" action={"/bundle-cases/" (v.id) "/submit"} {
                    input type="hidden" name="csrf" value=(c.csrf);
                    p { button #submit-bundle type="submit" { (lang.t("一次提交", "Submit once")) } }
                }
            }
        }
        @if clerk {
            div.card {
                h2 { (lang.t("一窗受理", "Accept at one window")) }
                p.muted { (lang.t("受理后各事项同时启动各自的办理流程。", "On acceptance every item starts its own workflow at once.")) }
                form method="post" action={"/bundle-cases/" (v.id) "/accept"} {
                    input type="hidden" name="csrf" value=(c.csrf);
                    table {
                        @for (i, m) in g.materials.iter().enumerate() {
                            @if v.uploaded.contains(&m.name) {
                                tr {
                                    td { (m.name) }
                                    td {
                                        select name={"v_" (i)} id={"bverdict_" (i)} {
                                            option value="ok" { (lang.t("合格", "in order")) }
                                            option value="wrong" { (lang.t("有误", "wrong")) }
                                            option value="missing" { (lang.t("缺少", "missing")) }
                                        }
                                    }
                                    td { input type="text" name={"r_" (i)} id={"breason_" (i)} placeholder=(lang.t("问题说明", "what is wrong")); }
                                }
                            }
                        }
                    }
                    label for="bnote" { (lang.t("补正说明（可不填）", "Note for the applicant (optional)")) }
                    input #bnote type="text" name="note";
                    p {
                        button #accept-bundle type="submit" name="action" value="accept" { (lang.t("一次受理全部事项", "Accept all items")) } " "
                        button.secondary #correct-bundle type="submit" name="action" value="corrections" { (lang.t("一次性告知补正", "One correction notice")) }
                    }
                }
            }
        }
    };
    Ok(layout(lang, Some(&c), &v.bundle_name, body).into_response())
}

async fn form_post(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult {
    c.check_csrf(f.get("csrf").map(String::as_str))
        .map_err(pe(c.lang))?;
    let form: BTreeMap<String, String> = f
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("f_")
                .map(|k| (k.to_string(), v.trim().to_string()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    st.store
        .save_bundle_form(&c.actor(), id, form)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/bundle-cases/{id}")).into_response())
}

async fn upload_post(
    State(st): State<AppState>,
    c: Caller,
    Path((id, index)): Path<(i64, usize)>,
    mut mp: Multipart,
) -> PageResult {
    let lang = c.lang;
    let mut csrf = None;
    let mut file = None;
    while let Ok(Some(field)) = mp.next_field().await {
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_string();
                file = Some((name, field.bytes().await.unwrap_or_default()));
            }
            _ => {}
        }
    }
    c.check_csrf(csrf.as_deref()).map_err(pe(lang))?;
    let Some((name, bytes)) = file else {
        return Err(pe(lang)(crate::http::error::ApiError::bad_request(
            "upload.no_file",
            lang,
            "请选择文件。",
            "Choose a file.",
        )));
    };
    let material = material_name(&st, &c, id, index).await.map_err(pe(lang))?;
    crate::cases::uploads::store_file(
        &st,
        &c.actor(),
        crate::cases::uploads::Target::Bundle(id, &material),
        &name,
        &bytes,
        lang,
    )
    .await
    .map_err(pe(lang))?;
    Ok(Redirect::to(&format!("/bundle-cases/{id}")).into_response())
}

async fn submit_post(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    st.store
        .submit_bundle(&c.actor(), id)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/bundle-cases/{id}")).into_response())
}

async fn accept_post(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> PageResult {
    c.check_csrf(f.get("csrf").map(String::as_str))
        .map_err(pe(c.lang))?;
    let v = st
        .store
        .bundle_app(&c.actor(), id)
        .await
        .map_err(se(c.lang))?;
    let g = st
        .store
        .bundle_guide(&v.bundle_code)
        .await
        .map_err(se(c.lang))?;
    // The clerk's verdict per shared material; one left unset is in order.
    let checks: Vec<_> = g
        .materials
        .iter()
        .enumerate()
        .filter(|(_, m)| v.uploaded.contains(&m.name))
        .map(|(i, m)| yichuang_store::cases::MaterialCheck {
            material_code: m.name.clone(),
            verdict: f
                .get(&format!("v_{i}"))
                .cloned()
                .unwrap_or_else(|| "ok".into()),
            reason: f.get(&format!("r_{i}")).cloned().unwrap_or_default(),
            due_date: None,
        })
        .collect();
    if f.get("action").map(String::as_str) == Some("corrections") {
        let note = f.get("note").cloned().unwrap_or_default();
        st.store
            .correct_bundle(&c.actor(), id, checks, note)
            .await
            .map_err(se(c.lang))?;
    } else {
        st.store
            .accept_bundle(&c.actor(), id, checks)
            .await
            .map_err(se(c.lang))?;
    }
    Ok(Redirect::to(&format!("/bundle-cases/{id}")).into_response())
}
