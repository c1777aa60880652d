//! Supervision pages: the dashboard of open cases by light, the notice inbox with replies,
//! on-time statistics for staff and the public 办件公示 for everyone.

use crate::http::auth::{Caller, MaybeCaller};
use crate::http::page::{fmt_ms, layout, pe, se, PageError, PageResult};
use crate::http::resolve_case;
use crate::http::AppState;
use crate::supervision::api::{
    load_notices, load_stats, parse_day, stats_scope, NoticeQuery, StatsQuery,
};
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;
use yichuang_store::catalog::ItemFilter;
use yichuang_store::supervision::Notice;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/supervise", get(supervise_page))
        .route("/notices", get(notices_page))
        .route("/notices/{id}/reply", post(reply_post))
        .route("/cases/{case}/notice", post(issue_post))
        .route("/cases/{case}/conclude", post(conclude_post))
        .route("/statistics", get(statistics_page))
        .route("/public", get(public_page))
}

async fn supervise_page(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<crate::supervision::api::DashboardQuery>,
) -> PageResult {
    use yichuang_core::deadline::Light;
    let lang = c.lang;
    let d = crate::supervision::api::load(&st, &c, &q)
        .await
        .map_err(pe(lang))?;
    let region = c.account.region.clone().unwrap_or_default();
    let depts: Vec<_> = st
        .store
        .departments()
        .await
        .map_err(se(lang))?
        .into_iter()
        .filter(|d| d.region.starts_with(&region[..region.len().min(6)]) || region.is_empty())
        .collect();
    let items = st
        .store
        .items(&ItemFilter {
            region: Some(region.clone()),
            ..Default::default()
        })
        .await
        .map_err(se(lang))?;
    let staff: Vec<_> = st
        .store
        .staff()
        .await
        .map_err(se(lang))?
        .into_iter()
        .filter(|s| s.region.as_deref().is_some_and(|r| r.starts_with(&region)))
        .collect();
    let windows = st.store.windows().await.map_err(se(lang))?;
    let transfers = st
        .store
        .transfers(
            &c.actor(),
            yichuang_store::Page {
                cursor: None,
                limit: 20,
            },
        )
        .await
        .map_err(se(lang))?;
    let sel = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    let link = |l: &str| {
        format!(
            "/supervise?light={l}&department={}&item={}&window={}&staff={}",
            q.department.clone().unwrap_or_default(),
            q.item.clone().unwrap_or_default(),
            q.window.clone().unwrap_or_default(),
            q.staff.clone().unwrap_or_default()
        )
    };
    let body = html! {
        div.card {
            h1 { (lang.t("电子监察：在办件", "Supervision: open cases")) " " span.muted { (region) } }
            div.row #light-counts {
                @for l in [Light::Green, Light::Yellow, Light::Red, Light::Overdue] {
                    a href=(link(l.as_str())) class={"light light-" (l.as_str())} style="padding:.6rem 1rem;font-size:1rem;text-align:center;text-decoration:none" {
                        (lang.t(l.zh(), l.en())) br; strong id={"count-" (l.as_str())} style="font-size:1.4rem" { (d.counts.get(l.as_str()).copied().unwrap_or(0)) }
                    }
                }
            }
            p.muted { (lang.t("在办件合计：", "Open cases: ")) (d.total) " · " (lang.t("特别程序暂停计时：", "Clock stopped by a special procedure: ")) span #count-stopped { (d.counts.get("stopped").copied().unwrap_or(0)) } }
            form method="get" action="/supervise" {
                div.row {
                    div { label for="s_dept" { (lang.t("部门", "Department")) } select #s_dept name="department" { option value="" { (lang.t("全部", "All")) } @for x in &depts { option value=(x.code) selected[sel(&q.department, &x.code)] { (x.name) } } } }
                    div { label for="s_item" { (lang.t("事项", "Item")) } select #s_item name="item" { option value="" { (lang.t("全部", "All")) } @for x in &items { option value=(x.code) selected[sel(&q.item, &x.code)] { (x.name) } } } }
                    div { label for="s_window" { (lang.t("窗口", "Window")) } select #s_window name="window" { option value="" { (lang.t("全部", "All")) } @for x in &windows { option value=(x.id) selected[sel(&q.window, &x.id)] { (x.id) " " (x.name) } } } }
                    div { label for="s_staff" { (lang.t("经办人", "Staff")) } select #s_staff name="staff" { option value="" { (lang.t("全部", "All")) } @for x in &staff { option value=(x.id) selected[sel(&q.staff, &x.id.to_string())] { (x.name) } } } }
                    div { label for="s_light" { (lang.t("灯", "Light")) } select #s_light name="light" { option value="" { (lang.t("全部", "All")) } @for l in [Light::Green, Light::Yellow, Light::Red, Light::Overdue] { option value=(l.as_str()) selected[sel(&q.light, l.as_str())] { (lang.t(l.zh(), l.en())) } } } }
                }
                p { button type="submit" { (lang.t("筛选", "Filter")) } }
            }
        }
        div.card {
            table #open-cases {
                tr { th { (lang.t("办件编号", "Case")) } th { (lang.t("事项", "Item")) } th { (lang.t("经办人", "Handler")) } th { (lang.t("受理日", "Accepted")) } th { (lang.t("内控线", "Internal")) } th { (lang.t("承诺期限", "Promised")) } th { (lang.t("灯", "Light")) } }
                @for k in &d.cases {
                    tr {
                        td { a href={"/cases/" (k.id)} { (k.number.clone().unwrap_or_default()) } }
                        td { (k.item_name) }
                        td { (k.handler.clone().unwrap_or_default()) }
                        td { (k.accepted_on.clone().unwrap_or_default()) }
                        td { (k.internal_due.clone().unwrap_or_default()) }
                        td { (k.promised_due.clone().unwrap_or_default()) }
                        td { @if let Some(l) = crate::supervision::api::parse_light(&k.light) { span class={"light light-" (l.as_str())} { (lang.t(l.zh(), l.en())) } } }
                    }
                }
            }
            @if d.cases.is_empty() { p.muted { (lang.t("没有符合条件的在办件。", "No open cases match.")) } }
        }
        @if !transfers.is_empty() {
            div.card #transfers {
                h2 { (lang.t("转交记录", "Transfers")) }
                table {
                    tr { th { (lang.t("时间", "When")) } th { (lang.t("办件", "Case")) } th { (lang.t("环节", "Stage")) } th { (lang.t("从 → 到", "From → to")) } th { (lang.t("理由", "Reason")) } }
                    @for x in &transfers {
                        tr {
                            td { (fmt_ms(Some(x.at), st.config.utc_offset_hours)) }
                            td { a href={"/cases/" (x.case_id)} { (x.case_number.clone().unwrap_or_default()) } br; span.muted { (x.item_name) } }
                            td { (x.stage_name) }
                            td { (x.from_department) " → " (x.to_department) br; span.muted { (x.by_name.clone().unwrap_or_default()) } }
                            td { (x.reason) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(lang, Some(&c), lang.t("电子监察", "Supervision"), body).into_response())
}

fn pct(r: f64) -> String {
    format!("{:.1}%", r * 100.0)
}

/// A table of notices; `reply_as` shows a reply form on those addressed to that account.
pub(crate) fn notices_table(
    st: &AppState,
    lang: crate::http::i18n::Lang,
    list: &[Notice],
    reply_as: Option<(i64, &str)>,
) -> Markup {
    let kind = |k: &str| match k {
        "warning" => lang.t("预警", "Warning"),
        "supervision" => lang.t("督办", "Supervision notice"),
        _ => lang.t("人工督办", "Supervisor's notice"),
    };
    html! {
        table.notices {
            tr { th { (lang.t("时间", "When")) } th { (lang.t("办件", "Case")) } th { (lang.t("类别", "Kind")) } th { (lang.t("发给", "To")) } th { (lang.t("内容", "Comment")) } th { (lang.t("回复", "Reply")) } }
            @for n in list {
                tr id={"notice-" (n.id)} {
                    td { (fmt_ms(Some(n.created_at), st.config.utc_offset_hours)) }
                    td { a href={"/cases/" (n.case_id)} { (n.case_number.clone().unwrap_or_default()) } br; span.muted { (n.item_name) } }
                    td { span class={"light light-" (match n.line.as_str() { "yellow" => "yellow", "red" => "red", "overdue" => "overdue", _ => "red" })} { (kind(&n.kind)) } }
                    td { (n.recipient_name.clone().unwrap_or_else(|| "—".into())) }
                    td { (n.comment) @if let Some(d) = &n.reply_by { br; span.muted { (lang.t("回复期限 ", "Reply by ")) (d) } } }
                    td {
                        @if let Some(r) = &n.reply { (r) br; span.muted { (fmt_ms(n.replied_at, st.config.utc_offset_hours)) } }
                        @else if n.reply_late { span.status { (lang.t("逾期未回复", "Reply overdue")) } }
                        @if n.reply.is_none() && n.kind != "warning" {
                            @if let Some((me, csrf)) = reply_as {
                                @if n.recipient_id == Some(me) {
                                    form method="post" action={"/notices/" (n.id) "/reply"} {
                                        input type="hidden" name="csrf" value=(csrf);
                                        textarea name="reply" id={"reply-" (n.id)} rows="2" required {}
                                        button type="submit" id={"reply-btn-" (n.id)} { (lang.t("回复", "Reply")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if list.is_empty() { p.muted { (lang.t("暂无督办或预警。", "No warnings or notices.")) } }
    }
}

async fn notices_page(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let lang = c.lang;
    let list = load_notices(&st, &c, &q).await.map_err(pe(lang))?;
    let body = html! {
        div.card {
            h1 { (lang.t("预警与督办", "Warnings and supervision notices")) }
            p.row {
                a.btn.secondary href="/notices?mine=true" { (lang.t("发给我的", "Addressed to me")) }
                a.btn.secondary href="/notices?awaiting_reply=true" { (lang.t("待回复", "Awaiting reply")) }
                a.btn.secondary href="/notices" { (lang.t("全部", "All")) }
            }
            (notices_table(&st, lang, &list, Some((c.account.id, &c.csrf))))
        }
    };
    Ok(layout(lang, Some(&c), lang.t("预警与督办", "Notices"), body).into_response())
}

#[derive(Deserialize)]
struct ReplyForm {
    csrf: Option<String>,
    reply: String,
}

async fn reply_post(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<ReplyForm>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    st.store
        .reply_supervision_notice(&c.actor(), id, &f.reply)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/notices#notice-{id}")).into_response())
}

#[derive(Deserialize)]
struct IssueForm {
    csrf: Option<String>,
    comment: String,
    reply_by: String,
}

async fn issue_post(
    State(st): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
    Form(f): Form<IssueForm>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let id = resolve_case(&st, &key, c.lang).await.map_err(pe(c.lang))?;
    let by = parse_day(&f.reply_by, "reply_by", c.lang).map_err(pe(c.lang))?;
    st.store
        .issue_supervision_notice(&c.actor(), id, &f.comment, by)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/cases/{id}#notices")).into_response())
}

#[derive(Deserialize)]
struct ConcludeForm {
    csrf: Option<String>,
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn conclude_post(
    State(st): State<AppState>,
    c: Caller,
    Path(key): Path<String>,
    Form(f): Form<ConcludeForm>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let id = resolve_case(&st, &key, c.lang).await.map_err(pe(c.lang))?;
    st.store
        .decide(&c.actor(), id, f.decision == "approve", &f.reason)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

fn period_form(
    lang: crate::http::i18n::Lang,
    action: &str,
    q: &StatsQuery,
    with_by: bool,
) -> Markup {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    html! {
        form method="get" action=(action) {
            div.row {
                @if with_by {
                    div { label for="st_by" { (lang.t("按", "By")) } select #st_by name="by" {
                        @for (k, zh, en) in [("item", "事项", "Item"), ("department", "部门", "Department"), ("staff", "经办人", "Staff"), ("month", "月份", "Month")] {
                            option value=(k) selected[q.by.as_deref() == Some(k)] { (lang.t(zh, en)) }
                        }
                    } }
                }
                div { label for="st_region" { (lang.t("区划代码", "Region code")) } input #st_region type="text" name="region" value=(v(&q.region)); }
                div { label for="st_from" { (lang.t("办结日期自", "Concluded from")) } input #st_from type="date" name="from" value=(v(&q.from)); }
                div { label for="st_to" { (lang.t("至", "to")) } input #st_to type="date" name="to" value=(v(&q.to)); }
            }
            p { button type="submit" { (lang.t("查询", "Show")) } }
        }
    }
}

async fn statistics_page(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let lang = c.lang;
    let rows = load_stats(&st, &c, &q).await.map_err(pe(lang))?;
    let body = html! {
        div.card {
            h1 { (lang.t("按时办结统计", "On-time statistics")) }
            (period_form(lang, "/statistics", &q, true))
            table #on-time {
                tr { th { (lang.t("分组", "Group")) } th { (lang.t("办结", "Concluded")) } th { (lang.t("内控线内", "Within internal")) } th { (lang.t("承诺时限内", "Within promised")) } th { (lang.t("法定时限内", "Within legal")) } th { (lang.t("按时率", "On-time rate")) } th { (lang.t("平均用时（工作日）", "Average working days")) } }
                @for r in &rows {
                    tr { td { (r.name) " " span.muted { (r.key) } } td { (r.concluded) } td { (r.within_internal) } td { (r.within_promised) } td { (r.within_legal) } td { (pct(r.on_time_rate)) } td { (format!("{:.1}", r.average_days)) } }
                }
            }
            @if rows.is_empty() { p.muted { (lang.t("该期间没有办结的办件。", "No cases concluded in this period.")) } }
        }
    };
    Ok(layout(
        lang,
        Some(&c),
        lang.t("按时办结统计", "On-time statistics"),
        body,
    )
    .into_response())
}

async fn public_page(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let lang = mc.1;
    let scope = stats_scope(&q, lang).map_err(|e| PageError(e, lang))?;
    let rows = st
        .store
        .public_performance(&scope)
        .await
        .map_err(se(lang))?;
    let total: i64 = rows.iter().map(|r| r.concluded).sum();
    let on_time: i64 = rows.iter().map(|r| r.within_promised).sum();
    let body = html! {
        div.card {
            h1 { (lang.t("办件公示", "Public service performance")) }
            p.muted { (lang.t("按部门和事项公示已办结件数、承诺时限内办结比例和平均办理工作日（不含特别程序）。", "Per department and item: cases concluded, the share within the promised limit, and average working days taken (special procedures excluded).")) }
            (period_form(lang, "/public", &q, false))
            p #public-total { (lang.t("合计办结 ", "Concluded in all: ")) strong { (total) } " · " (lang.t("承诺时限内 ", "within the promised limit: ")) strong { (pct(if total == 0 { 0.0 } else { on_time as f64 / total as f64 })) } }
            table #public-performance {
                tr { th { (lang.t("部门", "Department")) } th { (lang.t("事项", "Item")) } th { (lang.t("办结件数", "Concluded")) } th { (lang.t("按承诺时限办结率", "Within promised limit")) } th { (lang.t("平均办理工作日", "Average working days")) } }
                @for r in &rows {
                    tr { td { (r.department_name) } td { a href={"/items/" (r.item_code)} { (r.item_name) } } td { (r.concluded) } td { (pct(r.on_time_rate)) } td { (format!("{:.1}", r.average_days)) } }
                }
            }
            @if rows.is_empty() { p.muted { (lang.t("暂无办结的办件。", "No concluded cases yet.")) } }
        }
    };
    Ok(layout(lang, mc.0.as_ref(), lang.t("办件公示", "Performance"), body).into_response())
}
