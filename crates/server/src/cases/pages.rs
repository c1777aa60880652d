//! The case pages: an applicant's cases, one case with its form, materials, decisions and
//! timeline, the receipt and the files.

use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::i18n::Lang;
use crate::http::page::{fmt_ms, layout, pe, se, CsrfOnly, PageError, PageResult};
use crate::http::resolve_case;
use crate::http::AppState;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use yichuang_core::catalog::FieldKind;
use yichuang_core::{CaseStatus, Permission};
use yichuang_store::cases::{CaseView, MaterialCheck, WindowDecision};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/items/{code}/apply", post(apply))
        .route("/my", get(my_cases))
        .route("/cases/{case}", get(case_page))
        .route("/cases/{case}/form", post(case_form))
        .route("/cases/{case}/upload/{material}", post(case_upload))
        .route("/cases/{case}/submit", post(case_submit))
        .route("/cases/{case}/withdraw", post(case_withdraw))
        .route("/cases/{case}/suspend", post(case_suspend))
        .route("/cases/{case}/resume", post(case_resume))
        .route("/cases/{case}/decide", post(case_decide))
        .route("/cases/{case}/receipt", get(receipt))
        .route("/cases/{case}/files/{sid}", get(download))
}

async fn apply(
    State(st): State<AppState>,
    c: Caller,
    Path(code): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let id = st
        .store
        .create_draft(&c.actor(), &code, BTreeMap::new(), false)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

async fn my_cases(State(st): State<AppState>, c: Caller, Query(q): Query<PageQuery>) -> PageResult {
    let lang = c.lang;
    let cases = st
        .store
        .my_cases(
            &c.actor(),
            yichuang_store::Page {
                cursor: q.cursor,
                limit: 50,
            },
        )
        .await
        .map_err(se(lang))?;
    let bundles = st
        .store
        .my_bundle_apps(&c.actor())
        .await
        .map_err(se(lang))?;
    let body = html! {
        @if !bundles.is_empty() {
            div.card #my-bundles {
                h2 { (lang.t("我的一件事", "My bundle applications")) }
                ul { @for b in &bundles { li { a href={"/bundle-cases/" (b)} { (lang.t("一件事申请 #", "Bundle application #")) (b) } } } }
            }
        }
        div.card {
            h1 { (lang.t("我的办件", "My cases")) }
            @if cases.is_empty() { p { (lang.t("还没有办件。", "No cases yet.")) " " a href="/items" { (lang.t("查找事项", "Find a service")) } } }
            table {
                tr { th { (lang.t("办件编号", "Case number")) } th { (lang.t("事项", "Item")) } th { (lang.t("状态", "Status")) } th { (lang.t("更新时间", "Updated")) } }
                @for k in &cases {
                    tr {
                        td { a href={"/cases/" (k.id)} { (k.number.clone().unwrap_or_else(|| lang.t("（草稿）", "(draft)").into())) } }
                        td { (k.item_name) }
                        td.status { (lang.t(k.status_zh, k.status.as_str())) }
                        td { (fmt_ms(Some(k.updated_at), st.config.utc_offset_hours)) }
                    }
                }
            }
        }
    };
    Ok(layout(lang, Some(&c), lang.t("我的办件", "My cases"), body).into_response())
}

async fn load_case(st: &AppState, c: &Caller, key: &str) -> Result<CaseView, PageError> {
    let id = resolve_case(st, key, c.lang).await.map_err(pe(c.lang))?;
    st.store.case_view(&c.actor(), id).await.map_err(se(c.lang))
}

async fn case_page(State(st): State<AppState>, c: Caller, Path(key): Path<String>) -> PageResult {
    let lang = c.lang;
    let v = load_case(&st, &c, &key).await?;
    let item = st.store.item(&v.item_code).await.map_err(se(lang))?;
    let actor = c.actor();
    let is_owner = actor.owns(v.applicant_id);
    let editable = matches!(v.status, CaseStatus::Draft | CaseStatus::CorrectionRequired)
        && (is_owner || (v.channel == "window" && actor.may_in(Permission::WalkIn, &v.region)));
    // A bundle's parts are accepted together on the bundle's page.
    let clerk = actor.may_in(Permission::Accept, &v.region)
        && v.status == CaseStatus::Submitted
        && v.bundle_app.is_none();
    let open_notice = v.corrections.iter().rev().find(|n| n.resolved_at.is_none());
    let body = html! {
        div.card {
            h1 { (lang.t(&v.item_name, &v.item_name_en)) }
            table {
                tr { th { (lang.t("办件编号", "Case number")) } td #case-number { (v.number.clone().unwrap_or_else(|| lang.t("提交后生成", "assigned on submit").into())) } }
                tr { th { (lang.t("状态", "Status")) } td.status #case-status { (lang.t(v.status_zh, v.status_en)) } }
                tr { th { (lang.t("申请人", "Applicant")) } td {
                    @if c.account.is_staff() { a #applicant-link href={"/applicants/" (v.applicant_id)} { (v.applicant_name) } } @else { (v.applicant_name) }
                    " " span.muted { (v.applicant_id_masked) } } }
                tr { th { (lang.t("提交 / 受理时间", "Submitted / accepted")) } td { (fmt_ms(v.submitted_at, st.config.utc_offset_hours)) " / " (fmt_ms(v.accepted_at, st.config.utc_offset_hours)) } }
                @if let Some(d) = &v.deadlines {
                    tr { th { (lang.t("承诺办结日期", "Promised by")) } td #promised-due { strong { (d.promised.to_string()) } " " @if let Some(l) = v.light { span class={"light light-" (l.as_str())} #case-light { (lang.t(l.zh(), l.en())) } } } }
                    @if c.account.is_staff() {
                        tr { th { (lang.t("内控线 / 法定期限", "Internal line / legal limit")) } td { (d.internal.to_string()) " / " (d.legal.to_string()) } }
                    }
                }
                @if let Some(r) = &v.reject_reason { @if !r.is_empty() { tr { th { (lang.t("不予受理理由", "Reason not accepted")) } td { (r) } } } }
                @if let Some(k) = &v.conclusion {
                    tr #conclusion { th { (lang.t("办结", "Concluded")) } td {
                        (k.concluded_on.to_string()) " · " (lang.t("用时 ", "took ")) strong #days-used { (k.days_used) } (lang.t(" 个工作日", " working days")) " · "
                        @if k.within_promised { span.tag #on-time { (lang.t("承诺时限内办结", "within the promised limit")) } } @else { span.status #on-time { (lang.t("超过承诺时限", "past the promised limit")) } }
                        @if c.account.is_staff() { br; span.muted { (lang.t("内控线内：", "Within internal line: ")) (yes_no(lang, k.within_internal)) " · " (lang.t("法定时限内：", "within legal limit: ")) (yes_no(lang, k.within_legal)) } }
                    } }
                }
                @if let Some(r) = &v.decision_reason { @if !r.is_empty() { tr { th { (lang.t("决定理由", "Reasons")) } td #decision-reason { (r) } } } }
            }
            @if is_owner && matches!(v.status, CaseStatus::Submitted | CaseStatus::CorrectionRequired | CaseStatus::Accepted | CaseStatus::InStage | CaseStatus::Suspended) {
                form.noprint method="post" action={"/cases/" (v.id) "/withdraw"} onsubmit={"return confirm('" (lang.t("确定撤回该申请？", "Withdraw this application?")) "')"} {
                    input type="hidden" name="csrf" value=(c.csrf);
                    button.secondary #withdraw type="submit" { (lang.t("撤回申请", "Withdraw")) }
                }
            }
            @if let Some(b) = v.bundle_app {
                p { a.btn.secondary #bundle-link href={"/bundle-cases/" (b)} { (lang.t("属于一件事申请，查看全部事项", "Part of a bundle application: see all its items")) } }
            }
            @if matches!(v.status, CaseStatus::Accepted | CaseStatus::InStage | CaseStatus::Completed) {
                p { a.btn #receipt-link href={"/cases/" (v.id) "/receipt"} { (lang.t("查看受理通知书", "View the acceptance receipt")) } }
            }
        }
        @if let Some(n) = open_notice {
            div.card #correction-notice {
                h2 { (lang.t("一次性补正告知", "Correction notice (everything at once)")) }
                p.muted { (fmt_ms(Some(n.issued_at), st.config.utc_offset_hours)) }
                ul { @for p in &n.problems {
                    li { strong { (item.material(&p.material_code).map(|m| m.name.clone()).unwrap_or_else(|| p.material_code.clone())) } " — " (lang.t(yichuang_core::Verdict::parse(&p.verdict).map(|v| v.zh()).unwrap_or(""), &p.verdict)) "：" (p.reason) }
                } }
                @if !n.note.is_empty() { p { (n.note) } }
                p.muted { (lang.t("请重新上传以上全部材料后再次提交。", "Upload every listed material again, then resubmit.")) }
            }
        }
        @if editable {
            div.card {
                h2 { (lang.t("申请表", "Application form")) }
                form method="post" action={"/cases/" (v.id) "/form"} {
                    input type="hidden" name="csrf" value=(c.csrf);
                    @for f in &item.fields {
                        label for={"f_" (f.key)} { (lang.t(&f.label, &f.label_en)) @if f.required { " *" } }
                        @let val = v.form.get(&f.key).cloned().unwrap_or_default();
                        @match f.kind {
                            FieldKind::Select => { select id={"f_" (f.key)} name={"f_" (f.key)} { option value="" { "—" } @for o in &f.options { option value=(o) selected[&val == o] { (o) } } } }
                            FieldKind::Date => { input id={"f_" (f.key)} type="date" name={"f_" (f.key)} value=(val); }
                            FieldKind::Number => { input id={"f_" (f.key)} type="number" step="any" name={"f_" (f.key)} value=(val); }
                            FieldKind::Text => { input id={"f_" (f.key)} type="text" name={"f_" (f.key)} value=(val); }
                        }
                    }
                    @if item.commitment {
                        div.card style="margin-top:1rem" {
                            strong { (lang.t("告知承诺书", "Commitment letter")) }
                            p { (item.commitment_text.clone().unwrap_or_default()) }
                            label { input type="checkbox" name="commitment" value="1" checked[v.commitment_signed]; " " (lang.t("本人已阅读并承诺", "I have read this and commit to it")) }
                        }
                    }
                    p { button.secondary #save-draft type="submit" { (lang.t("保存草稿", "Save draft")) } }
                }
            }
        }
        div.card {
            h2 { (lang.t("申请材料", "Materials")) }
            @if clerk {
                form #check-form method="post" action={"/cases/" (v.id) "/decide"} {
                    input type="hidden" name="csrf" value=(c.csrf);
                    (materials_table(&st, lang, &item, &v, true, &c))
                    label for="reason" { (lang.t("不予受理理由（法律依据）", "Reason for not accepting (legal basis)")) } textarea #reason name="reason" rows="2" {}
                    label for="note" { (lang.t("补正告知备注", "Note on the correction notice")) } textarea #note name="note" rows="2" {}
                    p.row {
                        button #accept type="submit" name="action" value="accept" { (lang.t("受理", "Accept")) }
                        button #corrections.secondary type="submit" name="action" value="corrections" { (lang.t("一次性告知补正", "Issue correction notice")) }
                        button #reject.secondary type="submit" name="action" value="reject" { (lang.t("不予受理", "Do not accept")) }
                        @if item.is_immediate() { button #complete type="submit" name="action" value="complete" { (lang.t("即办：当场办结", "Complete on the spot")) } }
                    }
                }
            } @else {
                (materials_table(&st, lang, &item, &v, false, &c))
            }
            @if editable {
                @for m in &item.materials {
                    form.upload method="post" enctype="multipart/form-data" action={"/cases/" (v.id) "/upload/" (m.code)} style="margin:.4rem 0" {
                        input type="hidden" name="csrf" value=(c.csrf);
                        span { (m.code) " " (m.name) @if item.must_submit(m, v.commitment_signed) { " *" } " " }
                        input type="file" name="file" id={"file_" (m.code)} accept=".pdf,.jpg,.jpeg,.png,.ofd";
                        " " button.secondary type="submit" id={"upload_" (m.code)} { (lang.t("上传", "Upload")) }
                    }
                }
                form method="post" action={"/cases/" (v.id) "/submit"} {
                    input type="hidden" name="csrf" value=(c.csrf);
                    p { button #submit type="submit" { @if v.status == CaseStatus::CorrectionRequired { (lang.t("补正后重新提交", "Resubmit after corrections")) } @else { (lang.t("提交申请", "Submit")) } } }
                }
            }
        }
    };
    let timeline = match &v.number {
        Some(n) => st.store.audit_for_case(n).await.map_err(se(lang))?,
        None => Vec::new(),
    };
    let staff_view = c.account.is_staff();
    let stops = st.store.suspensions(v.id).await.map_err(se(lang))?;
    let role = c.account.role.as_deref();
    let in_region = actor.may_in(Permission::ReadCases, &v.region);
    let flow = crate::workflow::api::flow_view(&st, &c, &v.id.to_string())
        .await
        .map_err(pe(lang))?;
    let departments: Vec<(String, String)> = if staff_view {
        st.store
            .departments()
            .await
            .map_err(se(lang))?
            .into_iter()
            .filter(|d| d.region.starts_with(&v.region[..v.region.len().min(2)]))
            .map(|d| (d.code, d.name))
            .collect()
    } else {
        Vec::new()
    };
    let may_decide = in_region
        && flow.is_empty()
        && matches!(role, Some("reviewer" | "manager"))
        && matches!(v.status, CaseStatus::Accepted | CaseStatus::InStage);
    let notices = if staff_view && in_region {
        st.store
            .supervision_notices(
                &actor,
                &yichuang_store::supervision::NoticeFilter {
                    case_id: Some(v.id),
                    ..Default::default()
                },
                yichuang_store::Page {
                    cursor: None,
                    limit: 50,
                },
            )
            .await
            .map_err(se(lang))?
    } else {
        Vec::new()
    };
    let may_notice = in_region && role == Some("supervisor") && v.deadlines.is_some();
    let may_stop = staff_view
        && matches!(
            c.account.role.as_deref(),
            Some("clerk" | "reviewer" | "manager")
        )
        && actor.may_in(Permission::ReadCases, &v.region);
    let body = html! {
        (body)
        @if !stops.is_empty() || (may_stop && matches!(v.status, CaseStatus::Accepted | CaseStatus::InStage | CaseStatus::Suspended)) {
            div.card #special-procedures {
                h2 { (lang.t("特别程序（不计入办理时限）", "Special procedures (not counted in the time limit)")) }
                @if !stops.is_empty() {
                    table {
                        tr { th { (lang.t("程序", "Procedure")) } th { (lang.t("理由", "Reason")) } th { (lang.t("起止", "From / to")) } th { (lang.t("工作日", "Working days")) } }
                        @for p in &stops {
                            tr { td { (p.name) } td { (p.reason) } td { (p.started_on) " — " (p.ended_on.clone().unwrap_or_else(|| lang.t("进行中", "ongoing").into())) } td { (p.working_days.map(|k| k.to_string()).unwrap_or_default()) } }
                        }
                    }
                }
                @if may_stop && v.status == CaseStatus::Suspended {
                    form method="post" action={"/cases/" (v.id) "/resume"} {
                        input type="hidden" name="csrf" value=(c.csrf);
                        button #resume type="submit" { (lang.t("结束特别程序，恢复计时", "End the procedure, restart the clock")) }
                    }
                }
                @if may_stop && matches!(v.status, CaseStatus::Accepted | CaseStatus::InStage) {
                    form method="post" action={"/cases/" (v.id) "/suspend"} {
                        input type="hidden" name="csrf" value=(c.csrf);
                        div.row {
                            div { label for="sp_kind" { (lang.t("种类", "Kind")) } select #sp_kind name="kind" {
                                option value="2" { (lang.t("2 除延长审批外的特别程序", "2 other special procedure")) }
                                option value="1" { (lang.t("1 延长审批", "1 extension")) } } }
                            div { label for="sp_name" { (lang.t("名称", "Name")) } input #sp_name type="text" name="name" placeholder="专家评审" required; }
                            div { label for="sp_reason" { (lang.t("理由", "Reason")) } input #sp_reason type="text" name="reason" required; }
                        }
                        p { button.secondary #suspend type="submit" { (lang.t("启动特别程序（暂停计时）", "Start (stop the clock)")) } }
                    }
                }
            }
        }
        @if !flow.is_empty() {
            (crate::workflow::pages::flow_card(&st, lang, &flow, &c, v.id, &departments))
        }
        @if may_decide {
            div.card #decision {
                h2 { (lang.t("办理决定（办结）", "Decision (concludes the case)")) }
                form method="post" action={"/cases/" (v.id) "/conclude"} {
                    input type="hidden" name="csrf" value=(c.csrf);
                    label for="decision_reason" { (lang.t("意见与理由（不予许可时必填，并写明法律依据）", "Opinion and reasons (required for a denial, with the legal basis)")) }
                    textarea #decision_reason name="reason" rows="2" {}
                    p.row {
                        button #approve type="submit" name="decision" value="approve" { (lang.t("准予，办结", "Approve and conclude")) }
                        button.secondary #deny type="submit" name="decision" value="deny" { (lang.t("不予许可", "Deny")) }
                    }
                }
            }
        }
        @if !notices.is_empty() || may_notice {
            div.card #notices {
                h2 { (lang.t("预警与督办", "Warnings and supervision notices")) }
                (crate::supervision::pages::notices_table(&st, lang, &notices, Some((c.account.id, &c.csrf))))
                @if may_notice {
                    form method="post" action={"/cases/" (v.id) "/notice"} {
                        input type="hidden" name="csrf" value=(c.csrf);
                        div.row {
                            div { label for="notice_comment" { (lang.t("督办意见", "Comment")) } input #notice_comment type="text" name="comment" required; }
                            div { label for="notice_reply_by" { (lang.t("回复期限", "Reply by")) } input #notice_reply_by type="date" name="reply_by" required; }
                        }
                        p { button.secondary #issue-notice type="submit" { (lang.t("发出督办通知", "Issue a supervision notice")) } }
                    }
                }
            }
        }
        @if !timeline.is_empty() {
            div.card #timeline {
                h2 { (lang.t("办理过程", "Timeline")) }
                table {
                    tr { th { (lang.t("时间", "When")) } th { (lang.t("环节", "Step")) } th { (lang.t("状态", "Status")) } @if staff_view { th { (lang.t("经办", "By")) } th { (lang.t("说明", "Detail")) } } }
                    @for r in &timeline {
                        tr {
                            td { (fmt_ms(Some(r.at), st.config.utc_offset_hours)) }
                            td { (action_name(lang, &r.action)) }
                            td { (r.status_after.as_deref().and_then(CaseStatus::parse).map(|s| lang.t(s.zh(), s.en()).to_string()).unwrap_or_default()) }
                            @if staff_view { td { (r.actor_role) " #" (r.actor_id) } td.muted { (r.detail) } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(lang, Some(&c), &v.item_name, body).into_response())
}

fn yes_no(lang: Lang, b: bool) -> &'static str {
    if b {
        lang.t("是", "yes")
    } else {
        lang.t("否", "no")
    }
}

/// What each audited step is called on a timeline.
fn action_name(lang: Lang, action: &str) -> String {
    let (zh, en) = match action {
        "submit" => ("提交申请", "Submitted"),
        "resubmit" => ("补正后重新提交", "Resubmitted"),
        "case.upload" => ("上传材料", "Material uploaded"),
        "case.save_draft" => ("保存", "Saved"),
        "case.check_materials" => ("材料审查", "Materials checked"),
        "case.accept" => ("受理", "Accepted"),
        "case.reject" => ("不予受理", "Not accepted"),
        "case.notify_corrections" => ("一次性告知补正", "Correction notice"),
        "case.complete" => ("办结", "Completed"),
        "case.withdraw" => ("撤回", "Withdrawn"),
        "case.suspend" => (
            "启动特别程序（暂停计时）",
            "Special procedure started (clock stopped)",
        ),
        "case.resume" => (
            "特别程序结束（恢复计时）",
            "Special procedure ended (clock running)",
        ),
        "demo.backdate" => ("演示数据：调整受理日期", "Demo: acceptance date moved"),
        "case.decide" => ("办理决定，办结", "Decided and concluded"),
        "task.claim" => ("认领任务", "Task claimed"),
        "task.answer" => ("提出办理意见", "Opinion given"),
        "task.approve" => ("B角审核通过", "Approved by the second reviewer"),
        "task.return" => ("退回A角", "Returned to the first reviewer"),
        "task.transfer" => ("转交其他部门", "Transferred to another department"),
        "task.default_consent" => (
            "逾期未答复，默认同意",
            "Consent by default (silent past the limit)",
        ),
        "flow.cancel" => ("撤回，任务撤销", "Withdrawn: tasks withdrawn"),
        "supervision.warning" => ("黄灯预警", "Yellow-line warning"),
        "supervision.notice" => ("督办通知", "Supervision notice"),
        "supervision.manual_notice" => ("人工督办", "Supervisor's notice"),
        "supervision.reply" => ("督办回复", "Reply to a notice"),
        other => (other, other),
    };
    lang.t(zh, en).to_string()
}

fn materials_table(
    st: &AppState,
    lang: Lang,
    item: &yichuang_core::catalog::ServiceItem,
    v: &CaseView,
    clerk: bool,
    c: &Caller,
) -> Markup {
    let check_of = |code: &str| v.checks.iter().find(|k| k.material_code == code);
    html! {
        table {
            tr { th { (lang.t("材料", "Material")) } th { (lang.t("已上传文件", "Uploaded")) } th { (lang.t("审查", "Check")) } }
            @for m in &item.materials {
                tr {
                    td { (m.code) " " (m.name) @if m.required { " *" } @if m.shared_data { br; span.tag { (lang.t("共享获取", "shared data")) } } }
                    td { @for s in v.submissions.iter().filter(|s| s.material_code == m.code) {
                        a href={"/cases/" (v.id) "/files/" (s.id)} { (s.file_name) } " " span.muted { (fmt_ms(Some(s.uploaded_at), st.config.utc_offset_hours)) } br;
                    } }
                    td {
                        @if clerk {
                            @let cur = check_of(&m.code).map(|k| k.verdict.clone()).unwrap_or_default();
                            select name={"v_" (m.code)} id={"v_" (m.code)} {
                                option value="" { "—" }
                                option value="ok" selected[cur == "ok"] { (lang.t("合格", "ok")) }
                                option value="missing" selected[cur == "missing"] { (lang.t("缺少", "missing")) }
                                option value="wrong" selected[cur == "wrong"] { (lang.t("有误", "wrong")) }
                                @if m.deferrable { option value="deferred" selected[cur == "deferred"] { (lang.t("容缺后补", "deferred")) } }
                            }
                            input type="text" name={"r_" (m.code)} id={"r_" (m.code)} placeholder=(lang.t("问题说明", "What is wrong"));
                            @if m.deferrable { input type="date" name={"d_" (m.code)} id={"d_" (m.code)} title=(lang.t("补交日期", "Due date")); }
                        } @else if let Some(k) = check_of(&m.code) {
                            (lang.t(yichuang_core::Verdict::parse(&k.verdict).map(|v| v.zh()).unwrap_or(""), &k.verdict))
                            @if let Some(d) = &k.due_date { " " (lang.t("补交期限", "due")) " " (d) }
                        }
                    }
                }
            }
        }
        @if !clerk && c.account.is_staff() { p.muted { (lang.t("仅在“已提交待受理”状态下可审查材料。", "Materials can be checked while the case awaits acceptance.")) } }
    }
}

async fn case_form(
    State(st): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult {
    c.check_csrf(f.get("csrf").map(String::as_str))
        .map_err(pe(c.lang))?;
    let id = resolve_case(&st, &key, c.lang).await.map_err(pe(c.lang))?;
    let form: BTreeMap<String, String> = f
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("f_")
                .map(|k| (k.to_string(), v.trim().to_string()))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let commitment = f.contains_key("commitment");
    st.store
        .save_draft(&c.actor(), id, form, commitment)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

async fn case_upload(
    State(st): State<AppState>,
    c: Caller,
    Path((key, material)): Path<(String, String)>,
    mut mp: Multipart,
) -> PageResult {
    let lang = c.lang;
    let id = resolve_case(&st, &key, lang).await.map_err(pe(lang))?;
    let too_large = || {
        PageError(
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "upload.too_large",
                lang.t("文件过大。", "The file is too large."),
            ),
            lang,
        )
    };
    let mut csrf_ok = false;
    while let Some(field) = mp.next_field().await.map_err(|_| too_large())? {
        match field.name() {
            Some("csrf") => {
                let t = field.text().await.map_err(|_| too_large())?;
                c.check_csrf(Some(&t)).map_err(pe(lang))?;
                csrf_ok = true;
            }
            Some("file") if csrf_ok || !c.via_cookie => {
                let name = field.file_name().unwrap_or("").to_string();
                let bytes = field.bytes().await.map_err(|_| too_large())?;
                crate::cases::uploads::store_material(
                    &st,
                    &c.actor(),
                    id,
                    &material,
                    &name,
                    &bytes,
                    lang,
                )
                .await
                .map_err(pe(lang))?;
                return Ok(Redirect::to(&format!("/cases/{id}")).into_response());
            }
            _ => {}
        }
    }
    Err(PageError(
        if csrf_ok {
            ApiError::bad_request("upload.no_file", lang, "请选择文件。", "Choose a file.")
        } else {
            ApiError::csrf(lang)
        },
        lang,
    ))
}

async fn case_submit(
    State(st): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let id = resolve_case(&st, &key, c.lang).await.map_err(pe(c.lang))?;
    st.store.submit(&c.actor(), id).await.map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

async fn case_withdraw(
    State(st): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let id = resolve_case(&st, &key, c.lang).await.map_err(pe(c.lang))?;
    st.store
        .withdraw(&c.actor(), id)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

#[derive(Deserialize)]
struct SuspendForm {
    csrf: Option<String>,
    kind: String,
    name: String,
    reason: String,
}

async fn case_suspend(
    State(st): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
    Form(f): Form<SuspendForm>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let id = resolve_case(&st, &key, c.lang).await.map_err(pe(c.lang))?;
    let today = st.store.today();
    st.store
        .suspend(&c.actor(), id, &f.kind, &f.name, &f.reason, today)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

async fn case_resume(
    State(st): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let id = resolve_case(&st, &key, c.lang).await.map_err(pe(c.lang))?;
    let today = st.store.today();
    st.store
        .resume(&c.actor(), id, today)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

async fn case_decide(
    State(st): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult {
    let lang = c.lang;
    c.check_csrf(f.get("csrf").map(String::as_str))
        .map_err(pe(lang))?;
    let id = resolve_case(&st, &key, lang).await.map_err(pe(lang))?;
    let checks: Vec<MaterialCheck> = f
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("v_")
                .filter(|_| !v.is_empty())
                .map(|m| (m.to_string(), v.clone()))
        })
        .map(|(m, verdict)| MaterialCheck {
            reason: f.get(&format!("r_{m}")).cloned().unwrap_or_default(),
            due_date: f.get(&format!("d_{m}")).cloned().filter(|d| !d.is_empty()),
            material_code: m,
            verdict,
        })
        .collect();
    let decision = match f.get("action").map(String::as_str) {
        Some("accept") => Some(WindowDecision::Accept),
        Some("reject") => Some(WindowDecision::Reject {
            reason: f.get("reason").cloned().unwrap_or_default(),
        }),
        Some("corrections") => Some(WindowDecision::Corrections {
            note: f.get("note").cloned().unwrap_or_default(),
        }),
        Some("complete") => Some(WindowDecision::CompleteOnSpot),
        _ => None,
    };
    st.store
        .window_decision(&c.actor(), id, checks, decision)
        .await
        .map_err(se(lang))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

async fn receipt(State(st): State<AppState>, c: Caller, Path(key): Path<String>) -> PageResult {
    let lang = c.lang;
    let v = load_case(&st, &c, &key).await?;
    if !matches!(
        v.status,
        CaseStatus::Accepted
            | CaseStatus::InStage
            | CaseStatus::Completed
            | CaseStatus::Suspended
            | CaseStatus::Approved
            | CaseStatus::Denied
            | CaseStatus::Delivered
    ) {
        return Err(PageError(
            ApiError::new(
                StatusCode::CONFLICT,
                "case.not_accepted",
                lang.t(
                    "办件尚未受理，没有受理通知书。",
                    "The case is not accepted yet; there is no receipt.",
                ),
            ),
            lang,
        ));
    }
    let item = st.store.item(&v.item_code).await.map_err(se(lang))?;
    let dept = st
        .store
        .department(&v.department)
        .await
        .map_err(se(lang))?
        .map(|d| d.name)
        .unwrap_or_default();
    let number = v.number.clone().unwrap_or_default();
    let secret = v.secret.clone().unwrap_or_default();
    let url = format!("{}/status?n={}&s={}", st.config.public_url, number, secret);
    let deferred: Vec<&MaterialCheck> = v
        .checks
        .iter()
        .filter(|k| k.verdict == "deferred")
        .collect();
    let body = html! {
        div.card #receipt {
            h1 style="text-align:center" { (dept) br; "受理通知书" }
            p { "编号：" strong #receipt-number { (number) } }
            p { (v.applicant_name) "：" }
            p { "您于 " (fmt_ms(v.submitted_at, st.config.utc_offset_hours)) " 提出的“" (item.name) "”申请，经审查，申请材料齐全、符合法定形式，根据《中华人民共和国行政许可法》第三十二条的规定，决定予以受理。" }
            p { "承诺办结时限：" (item.promised_limit) " 个工作日（法定 " (item.legal_limit) " 个工作日），自受理之日起计算"
                @if let Some(d) = &v.deadlines { "，承诺于 " strong #receipt-promised { (d.promised.to_string()) } " 前办结（特别程序所需时间不计算在内）" } "。" }
            @if !deferred.is_empty() {
                p { "容缺受理材料（请在期限内补交）：" }
                ul { @for d in &deferred { li { (item.material(&d.material_code).map(|m| m.name.clone()).unwrap_or_default()) " — " (d.due_date.clone().unwrap_or_default()) } } }
            }
            div.row {
                div { p { "扫码或登录网上办事大厅查询办理进度。" } p { "查询码：" strong #receipt-code { (secret) } } p { "受理时间：" (fmt_ms(v.accepted_at, st.config.utc_offset_hours)) } p.muted { "咨询电话：" (item.consultation_phone) "　监督电话：" (item.complaint_phone) } }
                div style="max-width:200px" { (PreEscaped(crate::http::qr::svg(&url))) }
            }
            p.noprint { button onclick="window.print()" { (lang.t("打印", "Print")) } }
        }
    };
    Ok(layout(lang, Some(&c), "受理通知书", body).into_response())
}

async fn download(
    State(st): State<AppState>,
    c: Caller,
    Path((key, sid)): Path<(String, i64)>,
) -> PageResult {
    let v = load_case(&st, &c, &key).await?;
    let s = v.submissions.iter().find(|s| s.id == sid).ok_or_else(|| {
        PageError(
            ApiError::new(
                StatusCode::NOT_FOUND,
                "file.not_found",
                c.lang.t("文件不存在。", "No such file."),
            ),
            c.lang,
        )
    })?;
    let bytes = st.blobs.get(&s.file_hash).map_err(se(c.lang))?;
    let disposition = format!(
        "inline; filename=\"file.{}\"",
        s.content_type.rsplit('/').next().unwrap_or("bin")
    );
    Ok((
        [
            ("content-type", s.content_type.clone()),
            ("content-disposition", disposition),
            ("x-content-type-options", "nosniff".into()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, Default)]
struct PageQuery {
    cursor: Option<i64>,
}
