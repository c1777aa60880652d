//! Notice pages: a person's inbox with how they want to hear from us, and the admin's page of
//! templates (edit, preview with a real case, save) and the delivery log (filter, resend).

use crate::http::auth::Caller;
use crate::http::page::{fmt_ms, layout, pe, se, PageResult};
use crate::http::AppState;
use crate::notify::api::{load_deliveries, DeliveryQuery, STATUSES};
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde::Deserialize;
use yichuang_store::notify::NoticePrefs;
use yichuang_store::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox_page))
        .route("/inbox/prefs", post(prefs_post))
        .route("/inbox/read", post(read_post))
        .route("/admin/notices", get(admin_page))
        .route(
            "/admin/notices/templates/{event}/{lang}",
            post(template_post),
        )
        .route("/admin/notices/{id}/resend", post(resend_post))
}

#[derive(Deserialize, Default)]
struct InboxQuery {
    saved: Option<String>,
}

async fn inbox_page(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<InboxQuery>,
) -> PageResult {
    inbox_view(&st, &c, q.saved.is_some(), None).await
}

async fn inbox_view(
    st: &AppState,
    c: &Caller,
    saved: bool,
    error: Option<(NoticePrefs, crate::http::error::ApiError)>,
) -> PageResult {
    let lang = c.lang;
    let list = st
        .store
        .inbox_notices(&c.actor(), Page::default())
        .await
        .map_err(se(lang))?;
    let (prefs, err) = match error {
        Some((p, e)) => (p, Some(e)),
        None => (
            st.store.notice_prefs(&c.actor()).await.map_err(se(lang))?,
            None,
        ),
    };
    let has = |ch: &str| prefs.channels.iter().any(|c| c == ch);
    let newest = list.first().map(|n| n.id);
    let body = html! {
        div.card #inbox {
            h1 { (lang.t("消息", "Inbox")) }
            @if list.is_empty() {
                p.muted { (lang.t("暂无消息。", "No notices yet.")) }
            } @else {
                table {
                    @for n in &list {
                        tr id={"notice-" (n.id)} class=(if n.read { "read" } else { "unread" }) {
                            td style="white-space:nowrap" { (fmt_ms(Some(n.created_at), st.config.utc_offset_hours)) }
                            td {
                                @if !n.read { span.tag { (lang.t("未读", "new")) } " " }
                                strong { (n.subject) } br;
                                (n.body)
                                @if let Some(cid) = n.case_id { " " a href={"/cases/" (cid)} { (lang.t("查看办件", "Open case")) } }
                            }
                        }
                    }
                }
                @if let Some(up) = newest {
                    form method="post" action="/inbox/read" {
                        input type="hidden" name="csrf" value=(c.csrf);
                        input type="hidden" name="up_to" value=(up);
                        p { button.secondary #mark-read type="submit" { (lang.t("全部标为已读", "Mark all read")) } }
                    }
                }
            }
        }
        div.card #prefs {
            h2 { (lang.t("通知方式", "How we reach you")) }
            @if saved { div.ok { (lang.t("已保存。", "Saved.")) } }
            @if let Some(e) = &err { div.err { strong { (e.message) } br; span.muted { (e.code) } } }
            form method="post" action="/inbox/prefs" {
                input type="hidden" name="csrf" value=(c.csrf);
                p {
                    label style="display:inline;font-weight:400" { input type="checkbox" name="sms" value="1" checked[has("sms")]; " " (lang.t("短信", "SMS")) } " "
                    label style="display:inline;font-weight:400" { input type="checkbox" name="email" value="1" checked[has("email")]; " " (lang.t("电子邮件", "E-mail")) } " "
                    label style="display:inline;font-weight:400" { input type="checkbox" name="inapp" value="1" checked[has("inapp")]; " " (lang.t("站内消息", "In-app")) }
                }
                div.row {
                    div { label for="phone" { (lang.t("手机号码", "Mobile number")) } input #phone type="text" inputmode="numeric" name="phone" value=(prefs.phone.clone().unwrap_or_default()); }
                    div { label for="email" { (lang.t("电子邮箱", "E-mail address")) } input #email type="text" inputmode="email" name="email_address" value=(prefs.email.clone().unwrap_or_default()); }
                    div { label for="lang" { (lang.t("通知语言", "Language")) }
                        select #lang name="lang" {
                            option value="zh" selected[prefs.lang == "zh"] { "中文" }
                            option value="en" selected[prefs.lang == "en"] { "English" }
                        }
                    }
                }
                p { button #save-prefs type="submit" { (lang.t("保存", "Save")) } }
            }
        }
    };
    Ok(layout(lang, Some(c), lang.t("消息", "Inbox"), body).into_response())
}

#[derive(Deserialize)]
struct PrefsForm {
    csrf: Option<String>,
    sms: Option<String>,
    email: Option<String>,
    inapp: Option<String>,
    phone: Option<String>,
    email_address: Option<String>,
    lang: Option<String>,
}

async fn prefs_post(State(st): State<AppState>, c: Caller, Form(f): Form<PrefsForm>) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let channels = [("sms", &f.sms), ("email", &f.email), ("inapp", &f.inapp)]
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| k.to_string())
        .collect();
    let p = NoticePrefs {
        channels,
        phone: f.phone,
        email: f.email_address,
        lang: f.lang.unwrap_or_else(|| "zh".into()),
    };
    match st.store.set_notice_prefs(&c.actor(), p.clone()).await {
        Ok(_) => Ok(Redirect::to("/inbox?saved=1#prefs").into_response()),
        // The form comes back with what was typed and the reason, nothing saved.
        Err(e) => {
            let e = crate::http::error::ApiError::from_store(e, c.lang);
            inbox_view(&st, &c, false, Some((p, e))).await
        }
    }
}

#[derive(Deserialize)]
struct ReadForm {
    csrf: Option<String>,
    up_to: i64,
}

async fn read_post(State(st): State<AppState>, c: Caller, Form(f): Form<ReadForm>) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    st.store
        .mark_inbox_read(&c.actor(), f.up_to)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to("/inbox").into_response())
}

/// A template form's state after a preview or a refused save.
struct Draft {
    event: String,
    lang: String,
    subject: String,
    body: String,
    case: String,
    preview: Option<(String, String)>,
    error: Option<crate::http::error::ApiError>,
}

async fn admin_page(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<DeliveryQuery>,
) -> PageResult {
    admin_view(&st, &c, &q, None).await
}

async fn admin_view(
    st: &AppState,
    c: &Caller,
    q: &DeliveryQuery,
    draft: Option<Draft>,
) -> PageResult {
    let lang = c.lang;
    if c.account.role.as_deref() != Some("admin") {
        return Err(pe(lang)(crate::http::error::ApiError::forbidden(lang)));
    }
    let (rows, counts) = load_deliveries(st, c, q).await.map_err(pe(lang))?;
    let templates = st
        .store
        .notice_templates(&c.actor())
        .await
        .map_err(se(lang))?;
    let channels: Vec<&str> = st
        .config
        .delivery
        .as_ref()
        .map(|d| {
            let mut v = vec!["inapp"];
            if d.smtp.is_some() {
                v.push("email");
            }
            if d.sms.is_some() {
                v.push("sms");
            }
            v
        })
        .unwrap_or_default();
    let status_name = |s: &str| match s {
        "queued" => lang.t("待发送", "queued"),
        "sent" => lang.t("已发送", "sent"),
        "failed" => lang.t("失败待重试", "failed, will retry"),
        "given_up" => lang.t("已放弃", "given up"),
        _ => "",
    };
    let body = html! {
        div.card #deliveries {
            h1 { (lang.t("通知发送记录", "Delivery log")) }
            p.muted {
                (lang.t("本进程发送渠道：", "Channels this server delivers: "))
                @if channels.is_empty() { (lang.t("无（由其他进程发送）", "none (another process delivers)")) }
                @else { (channels.join(", ")) }
                @if !channels.contains(&"sms") { " · " (lang.t("未配置短信网关，短信通知保持待发送。", "No SMS gateway is configured: SMS notices stay queued.")) }
                @if !channels.contains(&"email") { " · " (lang.t("未配置邮件服务器，邮件通知保持待发送。", "No SMTP relay is configured: e-mail notices stay queued.")) }
            }
            p #delivery-counts {
                @for s in STATUSES {
                    a.tag href={"/admin/notices?status=" (s)} { (status_name(s)) " " (counts.get(s).copied().unwrap_or(0)) } " "
                }
                a href="/admin/notices" { (lang.t("全部", "all")) }
            }
            form method="get" action="/admin/notices" {
                div.row {
                    div { label for="case" { (lang.t("办件编号", "Case number")) } input #case type="text" name="case" value=(q.case.clone().unwrap_or_default()); }
                    div { label for="status" { (lang.t("状态", "Status")) }
                        select #status name="status" {
                            option value="" { (lang.t("全部", "all")) }
                            @for s in STATUSES { option value=(s) selected[q.status.as_deref() == Some(s)] { (status_name(s)) } }
                        }
                    }
                }
                p { button.secondary type="submit" { (lang.t("筛选", "Filter")) } }
            }
            table {
                tr { th { "#" } th { (lang.t("事件", "Event")) } th { (lang.t("渠道与接收人", "Channel, recipient")) } th { (lang.t("状态", "Status")) } th { (lang.t("服务商答复", "Provider answer")) } th {} }
                @for r in &rows {
                    tr id={"delivery-" (r.id)} {
                        td { (r.id) br; span.muted { (fmt_ms(Some(r.created_at), st.config.utc_offset_hours)) } }
                        td { (r.event) @if let Some(n) = &r.case_number { br; span.muted { (n) } } @if let Some(s) = &r.subject { br; (s) } }
                        td { (r.channel) br; (r.recipient) }
                        td.status { (status_name(&r.status)) br; span.muted { (lang.t("尝试", "attempts")) " " (r.attempts) } }
                        td { span.muted { (r.provider_answer.clone().unwrap_or_default()) } }
                        td {
                            form method="post" action={"/admin/notices/" (r.id) "/resend"} {
                                input type="hidden" name="csrf" value=(c.csrf);
                                button.secondary type="submit" id={"resend-" (r.id)} { (lang.t("重发", "Resend")) }
                            }
                        }
                    }
                }
            }
        }
        div.card #templates {
            h2 { (lang.t("通知模板", "Notice templates")) }
            p.muted {
                (lang.t("可用字段：", "Fields: "))
                @for f in crate::notify::api::fields() { code { "{{ " (f) " }}" } " " }
                (lang.t("。补正清单：", ". The correction list: ")) code { "{% for c in corrections %}{{ c }}{% endfor %}" }
            }
            @for t in &templates {
                @let mine = draft.as_ref().filter(|d| d.event == t.event && d.lang == t.lang);
                details id={"template-" (t.event) "-" (t.lang)} open[mine.is_some()] {
                    summary { (t.event_name) " · " (t.event) " · " (t.lang) @if t.edited { " " span.tag { (lang.t("已修改", "edited")) } } }
                    @if let Some(d) = mine {
                        @if let Some(e) = &d.error { div.err { strong { (e.message) } br; span.muted { (e.code) } } }
                        @if let Some((s, b)) = &d.preview { div.ok.preview { strong { (s) } br; (b) } }
                    }
                    form method="post" action={"/admin/notices/templates/" (t.event) "/" (t.lang)} {
                        input type="hidden" name="csrf" value=(c.csrf);
                        label { (lang.t("标题", "Subject")) }
                        input type="text" name="subject" value=(mine.map_or(&t.subject, |d| &d.subject));
                        label { (lang.t("正文", "Body")) }
                        textarea name="body" rows="4" { (mine.map_or(&t.body, |d| &d.body)) }
                        label { (lang.t("用于预览的办件编号（可不填）", "Case number to preview with (optional)")) }
                        input type="text" name="case" value=(mine.map_or("", |d| d.case.as_str()));
                        p {
                            button.secondary type="submit" name="action" value="preview" { (lang.t("预览", "Preview")) } " "
                            button type="submit" name="action" value="save" { (lang.t("保存", "Save")) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(lang, Some(c), lang.t("通知管理", "Notices"), body).into_response())
}

#[derive(Deserialize)]
struct TemplateForm {
    csrf: Option<String>,
    subject: String,
    body: String,
    case: Option<String>,
    action: Option<String>,
}

async fn template_post(
    State(st): State<AppState>,
    c: Caller,
    Path((event, tlang)): Path<(String, String)>,
    Form(f): Form<TemplateForm>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let mut draft = Draft {
        event: event.clone(),
        lang: tlang.clone(),
        subject: f.subject.clone(),
        body: f.body.clone(),
        case: f.case.clone().unwrap_or_default(),
        preview: None,
        error: None,
    };
    let to_api = |e| crate::http::error::ApiError::from_store(e, c.lang);
    if f.action.as_deref() == Some("save") {
        match st
            .store
            .save_template(&c.actor(), &event, &tlang, &f.subject, &f.body)
            .await
        {
            Ok(()) => {
                return Ok(
                    Redirect::to(&format!("/admin/notices#template-{event}-{tlang}"))
                        .into_response(),
                )
            }
            Err(e) => draft.error = Some(to_api(e)),
        }
    } else {
        match st
            .store
            .preview_template(
                &c.actor(),
                &event,
                &f.subject,
                &f.body,
                f.case.as_deref(),
                &st.config.public_url,
            )
            .await
        {
            Ok(p) => draft.preview = Some(p),
            Err(e) => draft.error = Some(to_api(e)),
        }
    }
    admin_view(&st, &c, &DeliveryQuery::default(), Some(draft)).await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

async fn resend_post(
    State(st): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    let new_id = st
        .store
        .resend_notice(&c.actor(), id)
        .await
        .map_err(se(c.lang))?;
    Ok(Redirect::to(&format!("/admin/notices#delivery-{new_id}")).into_response())
}
