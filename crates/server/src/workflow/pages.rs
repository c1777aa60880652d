//! Workflow pages: a department's inbox (/tasks), the task forms, and the flow card on the
//! case page that applicants and staff both read.

use crate::http::auth::Caller;
use crate::http::i18n::Lang;
use crate::http::page::{fmt_ms, layout, se, PageError, PageResult};
use crate::http::AppState;
use crate::workflow::api::{action_of, StageView, TaskBody};
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use yichuang_store::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(inbox_page))
        .route("/tasks/{id}/{action}", post(task_post))
        .route("/applicants/{id}", get(applicant_page))
}

fn light(lang: Lang, l: Option<&str>) -> Markup {
    let (zh, en) = match l {
        Some("overdue") => ("已超期", "overdue"),
        Some("yellow") => ("临近期限", "due soon"),
        Some("green") => ("正常", "on time"),
        _ => return html! {},
    };
    let class = if l == Some("overdue") {
        "red"
    } else {
        l.unwrap_or("green")
    };
    html! { span class={"light light-" (class)} { (lang.t(zh, en)) } }
}

fn state_name(lang: Lang, state: &str, consent: Option<bool>, by_default: bool) -> &'static str {
    match (state, consent, by_default) {
        ("done", _, true) => lang.t(
            "逾期未答复，默认同意",
            "silent past the limit: consent by default",
        ),
        ("done", Some(false), _) => lang.t("不同意", "denied"),
        ("done", _, _) => lang.t("已办结", "done"),
        ("claimed", ..) => lang.t("办理中", "in hand"),
        ("proposed", ..) => lang.t("待B角审核", "awaiting the second reviewer"),
        ("cancelled", ..) => lang.t("已撤销", "withdrawn"),
        _ => lang.t("待办", "waiting"),
    }
}

async fn inbox_page(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<crate::workflow::api::InboxQuery>,
) -> PageResult {
    let lang = c.lang;
    let tasks = st
        .store
        .task_inbox(
            &c.actor(),
            Page {
                cursor: q.cursor,
                limit: q.limit.unwrap_or(50).clamp(1, 200),
            },
        )
        .await
        .map_err(se(lang))?;
    let body = html! {
        div.card {
            h1 { (lang.t("待办任务", "Tasks")) " " span.muted { (c.account.department.clone().unwrap_or_default()) } }
            table #inbox {
                tr { th { (lang.t("办件", "Case")) } th { (lang.t("环节", "Stage")) } th { (lang.t("状态", "State")) } th { (lang.t("办理期限", "Due")) } }
                @for t in &tasks {
                    tr {
                        td { a href={"/cases/" (t.case_id) "#flow"} { (t.case_number.clone().unwrap_or_default()) } br; span.muted { (t.item_name) } }
                        td { (t.stage_name) @if t.ab { " " span.tag { "A/B" } } }
                        td { (state_name(lang, &t.state, t.consent, t.by_default)) @if let Some(h) = &t.handler_name { br; span.muted { (h) } } }
                        td { (t.due_on) " " (light(lang, t.light.as_deref())) }
                    }
                }
            }
            @if tasks.is_empty() { p.muted { (lang.t("没有待办任务。", "Nothing to do.")) } }
        }
    };
    Ok(layout(lang, Some(&c), lang.t("待办任务", "Tasks"), body).into_response())
}

/// Seed 002's one view of a taxpayer: everything this applicant has in the region.
async fn applicant_page(State(st): State<AppState>, c: Caller, Path(id): Path<i64>) -> PageResult {
    let lang = c.lang;
    let v = st
        .store
        .applicant_view(
            &c.actor(),
            id,
            Page {
                cursor: None,
                limit: 200,
            },
        )
        .await
        .map_err(se(lang))?;
    let body = html! {
        div.card {
            h1 { (v.name) " " span.muted { (v.id_masked) } }
            p.muted { (if v.kind == "enterprise" { lang.t("法人", "Enterprise") } else { lang.t("自然人", "Person") }) " · " (lang.t("本区域全部办件 ", "all cases in your region: ")) (v.cases.len()) }
            table #applicant-cases {
                tr { th { (lang.t("办件", "Case")) } th { (lang.t("状态", "Status")) } th { (lang.t("补正", "Corrections")) } th { (lang.t("当前环节 / 结果", "Stage / result")) } }
                @for k in &v.cases {
                    tr {
                        td { a href={"/cases/" (k.id)} { (k.number.clone().unwrap_or_default()) } br; span.muted { (k.item_name) } }
                        td { (lang.t(k.status_zh, k.status_en)) @if let Some(p) = &k.promised_due { br; span.muted { (lang.t("承诺 ", "promised ")) (p) } } }
                        td { (k.corrections) @if k.corrections_open > 0 { " " span.status { (lang.t("待补正", "open")) } } }
                        td {
                            @if let Some(s) = &k.current_stage { (s) }
                            @if let Some(d) = &k.concluded_on {
                                (lang.t("办结 ", "concluded ")) (d)
                                @if k.within_promised == Some(false) { " " span.status { (lang.t("超期", "late")) } }
                                @if let Some(r) = &k.decision_reason { @if !r.is_empty() { br; span.muted { (r) } } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(lang, Some(&c), &v.name, body).into_response())
}

#[derive(Deserialize)]
struct TaskForm {
    csrf: Option<String>,
    #[serde(default)]
    consent: String,
    #[serde(default)]
    opinion: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    back: String,
}

async fn task_post(
    State(st): State<AppState>,
    c: Caller,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<TaskForm>,
) -> PageResult {
    let lang = c.lang;
    c.check_csrf(f.csrf.as_deref())
        .map_err(|e| PageError(e, lang))?;
    let body = TaskBody {
        consent: Some(f.consent != "0"),
        opinion: f.opinion,
        legal_basis: f.legal_basis,
        reason: f.reason,
        department: f.department,
    };
    let Some(a) = action_of(&action, body) else {
        return Err(PageError(
            crate::http::error::ApiError::forbidden(lang),
            lang,
        ));
    };
    st.store
        .task_action(&c.actor(), id, a)
        .await
        .map_err(se(lang))?;
    // Only ever back to a case page of this site.
    let back = if f.back.starts_with("/cases/") {
        f.back
    } else {
        "/tasks".into()
    };
    Ok(Redirect::to(&back).into_response())
}

/// The case's workflow: every stage, its departments, states and dates; for the staff of a
/// task's department, the forms to work it.
pub fn flow_card(
    st: &AppState,
    lang: Lang,
    stages: &[StageView],
    c: &Caller,
    case_id: i64,
    departments: &[(String, String)],
) -> Markup {
    let mine = |d: &str| c.account.is_staff() && c.account.department.as_deref() == Some(d);
    let back = format!("/cases/{case_id}#flow");
    html! {
        div.card #flow {
            h2 { (lang.t("办理流程", "Workflow")) }
            ol.stages {
                @for s in stages {
                    li class={"stage stage-" (s.state)} id={"stage-" (s.index)} {
                        strong { (s.name) } " "
                        span.tag { (match s.state { "current" => lang.t("进行中", "current"), "done" => lang.t("已完成", "done"), "skipped" => lang.t("未经过", "skipped"), _ => lang.t("待开始", "to come") }) }
                        @for t in &s.tasks {
                            div.task id={"task-" (t.id)} {
                                (t.department_name) " · " (state_name(lang, &t.state, t.consent, t.by_default))
                                " · " span.muted { (lang.t("期限 ", "due ")) (t.due_on) @if let Some(at) = t.done_at { " · " (lang.t("完成于 ", "done ")) (fmt_ms(Some(at), st.config.utc_offset_hours)) } }
                                " " (light(lang, t.light.as_deref()))
                                @if let Some(h) = &t.handler_name { br; span.muted { (lang.t("经办：", "By: ")) (h) } }
                                @if !t.opinion.is_empty() { br; span.opinion { (t.opinion) } @if !t.legal_basis.is_empty() { " （" (t.legal_basis) "）" } }
                                @if mine(&t.department) && matches!(t.state.as_str(), "open" | "claimed") {
                                    form method="post" action={"/tasks/" (t.id) "/answer"} {
                                        input type="hidden" name="csrf" value=(c.csrf);
                                        input type="hidden" name="back" value=(back);
                                        label for={"opinion-" (t.id)} { (lang.t("意见", "Opinion")) }
                                        textarea id={"opinion-" (t.id)} name="opinion" rows="2" {}
                                        @if t.stage_kind == "decision" {
                                            label for={"basis-" (t.id)} { (lang.t("法律依据（不予许可时必填）", "Legal basis (required to deny)")) }
                                            input type="text" id={"basis-" (t.id)} name="legal_basis";
                                        }
                                        p.row {
                                            button type="submit" name="consent" value="1" id={"consent-" (t.id)} {
                                                (match (t.stage_kind.as_str(), t.ab) { ("issue", _) => lang.t("已制证送达", "Issued"), ("decision", _) => lang.t("准予许可", "Approve"), (_, true) => lang.t("拟同意，报B角", "Propose consent"), _ => lang.t("同意", "Consent") })
                                            }
                                            @if t.stage_kind != "issue" {
                                                button.secondary type="submit" name="consent" value="0" id={"deny-" (t.id)} { (lang.t("不同意 / 不予许可", "Deny")) }
                                            }
                                        }
                                    }
                                    form method="post" action={"/tasks/" (t.id) "/transfer"} {
                                        input type="hidden" name="csrf" value=(c.csrf);
                                        input type="hidden" name="back" value=(back);
                                        div.row {
                                            div { select name="department" id={"transfer-to-" (t.id)} { @for (code, name) in departments { @if code != &t.department { option value=(code) { (name) } } } } }
                                            div { input type="text" name="reason" id={"transfer-reason-" (t.id)} placeholder=(lang.t("转交理由", "Reason for the transfer")); }
                                            div { button.secondary type="submit" id={"transfer-" (t.id)} { (lang.t("转交", "Transfer")) } }
                                        }
                                    }
                                }
                                @if mine(&t.department) && t.state == "proposed" && t.proposed_by != Some(c.account.id) {
                                    form method="post" action={"/tasks/" (t.id) "/approve"} style="display:inline" {
                                        input type="hidden" name="csrf" value=(c.csrf);
                                        input type="hidden" name="back" value=(back);
                                        button type="submit" id={"approve-" (t.id)} { (lang.t("B角审核通过", "Approve (B)")) }
                                    }
                                    form method="post" action={"/tasks/" (t.id) "/return"} {
                                        input type="hidden" name="csrf" value=(c.csrf);
                                        input type="hidden" name="back" value=(back);
                                        div.row {
                                            div { input type="text" name="reason" id={"return-reason-" (t.id)} placeholder=(lang.t("退回理由", "Reason for returning")); }
                                            div { button.secondary type="submit" id={"return-" (t.id)} { (lang.t("退回A角", "Return to A")) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
