//! Server-rendered pages for applicants, window clerks and admins. Chinese first, English by
//! the switch in the header; every form carries the session's CSRF token; no external assets.

use crate::api::{check_registration, create_staff, resolve_case, RegisterBody, StaffBody};
use crate::auth::{self, Caller, MaybeCaller};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use yichuang_core::catalog::{codes, FieldKind};
use yichuang_core::{ActorKind, CaseStatus, Permission};
use yichuang_store::cases::{CaseView, MaterialCheck, WindowDecision};
use yichuang_store::catalog::ItemFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(catalog))
        .route("/items", get(catalog))
        .route("/items/{code}", get(guide))
        .route("/items/{code}/apply", post(apply))
        .route("/register", get(register_page).post(register_post))
        .route("/login", get(login_page).post(login_post))
        .route("/logout", post(logout))
        .route("/lang/{lang}", get(switch_lang))
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
        .route("/window", get(window_page))
        .route("/walk-in", post(walk_in_post))
        .route("/admin", get(admin_page))
        .route("/admin/staff", post(admin_staff_post))
        .route("/status", get(status_page))
        .route("/calendar", get(calendar_page))
        .route("/calendar/days", post(calendar_day_post))
}

const CSS: &str = r#"
*{box-sizing:border-box}body{margin:0;font:15px/1.6 -apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#1f2328;background:#f5f6f8}
header{background:#b71c1c;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
header a{color:#fff;text-decoration:none}header .brand{font-weight:700;font-size:1.15rem;margin-right:auto}
main{max-width:980px;margin:0 auto;padding:1rem}
.card{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:1rem;margin:0 0 1rem}
h1{font-size:1.35rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:.2rem 0 .6rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:.4rem;text-align:left;vertical-align:top}
th{background:#fafafa;white-space:nowrap}
input,select,textarea{font:inherit;padding:.4rem;border:1px solid #c9ccd1;border-radius:4px;max-width:100%}
input[type=text],input[type=password],input[type=date],input[type=number],select,textarea{width:100%}
button,.btn{font:inherit;background:#b71c1c;color:#fff;border:0;border-radius:4px;padding:.45rem 1rem;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.btn.secondary{background:#57606a}
label{display:block;margin:.5rem 0 .2rem;font-weight:600}
.row{display:flex;flex-wrap:wrap;gap:.6rem}.row>*{flex:1 1 180px}
.muted{color:#57606a;font-size:.9rem}.err{background:#ffebe9;border:1px solid #ff8182;padding:.6rem;border-radius:4px;margin-bottom:1rem}
.ok{background:#dafbe1;border:1px solid #4ac26b;padding:.6rem;border-radius:4px;margin-bottom:1rem}
.tag{display:inline-block;padding:0 .4rem;border-radius:3px;background:#eef;font-size:.85rem}
.status{font-weight:700;color:#b71c1c}
.light{display:inline-block;padding:0 .5rem;border-radius:10px;font-size:.85rem;color:#fff}
.stage{margin:.3rem 0}.stage-current>strong{color:#b71c1c}.stage-skipped,.stage-pending{color:#8c959f}.task{margin:.2rem 0 .2rem 1rem}
.light-green{background:#1a7f37}.light-yellow{background:#bf8700}.light-red{background:#cf222e}.light-overdue{background:#6e1b1b}
@media print{header,.noprint{display:none}body{background:#fff}.card{border:0}}
@media (max-width:600px){td,th{display:block;border:0;padding:.15rem .4rem}tr{border-bottom:1px solid #ddd;display:block;padding:.3rem 0}th{background:none;color:#57606a;font-size:.85rem;font-weight:600}}
"#;

pub(crate) fn layout(lang: Lang, who: Option<&Caller>, title: &str, body: Markup) -> Markup {
    let t = |zh, en| lang.t(zh, en).to_string();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t("一窗政务服务", "Yichuang One-Window Services")) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    a.brand href="/" { (t("一窗 · 政务服务", "Yichuang · Gov Services")) }
                    a href="/items" { (t("我要看", "Guides")) }
                    a href="/status" { (t("我要查", "Track")) }
                    a href="/calendar" { (t("工作日", "Calendar")) }
                    a href="/public" { (t("办件公示", "Performance")) }
                    @if let Some(c) = who {
                        @if c.account.is_staff() {
                            @if c.actor().may_in(Permission::Accept, c.account.region.as_deref().unwrap_or("")) {
                                a href="/window" { (t("窗口受理", "Window")) }
                            }
                            @if c.account.role.as_deref() == Some("admin") { a href="/admin" { (t("管理", "Admin")) } a href="/admin/notices" { (t("通知管理", "Notices")) } }
                            @if matches!(c.account.role.as_deref(), Some("supervisor" | "manager" | "admin")) {
                                a href="/supervise" { (t("电子监察", "Supervision")) }
                                a href="/statistics" { (t("统计", "Statistics")) }
                            }
                            @if c.account.department.is_some() { a href="/tasks" { (t("待办", "Tasks")) } }
                            a href="/notices" { (t("督办", "Notices")) }
                            a href="/inbox" { (t("消息", "Inbox")) }
                        } @else {
                            a href="/my" { (t("我的办件", "My cases")) }
                            a href="/inbox" { (t("消息", "Inbox")) }
                        }
                        span.muted style="color:#fdd" { (c.account.name) }
                        form method="post" action="/logout" style="display:inline" {
                            input type="hidden" name="csrf" value=(c.csrf);
                            button.secondary type="submit" { (t("退出", "Log out")) }
                        }
                    } @else {
                        a href="/login" { (t("登录", "Log in")) }
                        a href="/register" { (t("注册", "Register")) }
                    }
                    @if lang == Lang::Zh { a href="/lang/en" { "English" } } @else { a href="/lang/zh" { "中文" } }
                }
                main { (body) }
            }
        }
    }
}

/// Errors on pages: the same message as the API, on a page with a way back.
pub(crate) struct PageError(pub(crate) ApiError, pub(crate) Lang);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (e, lang) = (self.0, self.1);
        if e.status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/login").into_response();
        }
        let body = html! {
            div.err { strong { (e.message) } br; span.muted { (e.code) } }
            a.btn.secondary href="javascript:history.back()" { (lang.t("返回", "Back")) }
        };
        (
            e.status,
            layout(lang, None, lang.t("出错了", "Error"), body),
        )
            .into_response()
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

pub(crate) fn pe(lang: Lang) -> impl Fn(ApiError) -> PageError {
    move |e| PageError(e, lang)
}
pub(crate) fn se(lang: Lang) -> impl Fn(yichuang_store::StoreError) -> PageError {
    move |e| PageError(ApiError::from_store(e, lang), lang)
}

/// The hall's offset from UTC in hours, for times shown on pages; set from the config when
/// the router is built (one hall's time zone per process).
static HALL_OFFSET_HOURS: std::sync::atomic::AtomicI8 = std::sync::atomic::AtomicI8::new(8);

pub(crate) fn set_hall_offset(hours: i8) {
    HALL_OFFSET_HOURS.store(hours, std::sync::atomic::Ordering::Relaxed);
}

pub(crate) fn fmt_ms(ms: Option<i64>) -> String {
    let Some(ms) = ms else { return "—".into() };
    let hours = HALL_OFFSET_HOURS.load(std::sync::atomic::Ordering::Relaxed);
    let off = time::UtcOffset::from_hms(hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .map(|t| {
            let t = t.to_offset(off);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
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
        (crate::bundle_pages::bundle_list(lang, &bundles))
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

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    pub(crate) csrf: Option<String>,
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

async fn register_page(mc: MaybeCaller) -> Response {
    let MaybeCaller(who, lang, _) = mc;
    let body = html! {
        div.card {
            h1 { (lang.t("注册", "Register")) }
            form method="post" action="/register" {
                label for="kind" { (lang.t("申请人类型", "Applicant type")) }
                select #kind name="kind" { option value="person" { (lang.t("个人", "Person")) } option value="enterprise" { (lang.t("企业", "Enterprise")) } }
                label for="name" { (lang.t("姓名 / 企业名称", "Name / company name")) } input #name type="text" name="name" required;
                label for="id_number" { (lang.t("居民身份证号码 / 统一社会信用代码", "Resident ID / unified social credit code")) } input #id_number type="text" name="id_number" required maxlength="18";
                label for="phone" { (lang.t("手机号码", "Mobile phone")) } input #phone type="text" name="phone" maxlength="11";
                label for="legal_rep" { (lang.t("法定代表人（企业）", "Legal representative (enterprise)")) } input #legal_rep type="text" name="legal_rep";
                label for="password" { (lang.t("密码（至少8位，含三类字符）", "Password (8+ characters, 3 classes)")) } input #password type="password" name="password" required;
                p { button type="submit" { (lang.t("注册", "Register")) } }
            }
        }
    };
    layout(lang, who.as_ref(), lang.t("注册", "Register"), body).into_response()
}

async fn register_post(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Form(b): Form<RegisterBody>,
) -> PageResult {
    let MaybeCaller(_, lang, addr) = mc;
    let mut acc = check_registration(&b, lang).map_err(pe(lang))?;
    acc.password_hash = Some(auth::hash_password(b.password.clone()).await);
    let mut actor = yichuang_core::Actor::system();
    actor.client_addr = addr;
    st.store
        .create_account(acc, &actor)
        .await
        .map_err(se(lang))?;
    Ok(Redirect::to("/login?registered=1").into_response())
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    registered: Option<String>,
}

async fn login_page(mc: MaybeCaller, Query(q): Query<LoginQuery>) -> Response {
    let MaybeCaller(who, lang, _) = mc;
    let body = html! {
        div.card {
            h1 { (lang.t("登录", "Log in")) }
            @if q.registered.is_some() { div.ok { (lang.t("注册成功，请登录。", "Registered. Please log in.")) } }
            form method="post" action="/login" {
                label for="login" { (lang.t("证件号码或工作账号", "ID number or staff login")) } input #login type="text" name="login" required;
                label for="password" { (lang.t("密码", "Password")) } input #password type="password" name="password" required;
                p { button type="submit" { (lang.t("登录", "Log in")) } }
            }
        }
    };
    layout(lang, who.as_ref(), lang.t("登录", "Log in"), body).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
}

async fn login_post(
    State(st): State<AppState>,
    mc: MaybeCaller,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> PageResult {
    let MaybeCaller(_, lang, addr) = mc;
    let li = auth::login(&st, &f.login, &f.password, &addr, lang)
        .await
        .map_err(|e| {
            // A failed login stays on a page rather than redirecting to itself.
            PageError(
                ApiError {
                    status: if e.status == StatusCode::UNAUTHORIZED {
                        StatusCode::FORBIDDEN
                    } else {
                        e.status
                    },
                    ..e
                },
                lang,
            )
        })?;
    let to = if li.account.is_staff() {
        if li.account.role.as_deref() == Some("admin") {
            "/admin"
        } else {
            "/window"
        }
    } else {
        "/my"
    };
    Ok((
        [(
            "set-cookie",
            auth::session_cookie(&headers, &li.token, li.max_age_s),
        )],
        Redirect::to(to),
    )
        .into_response())
}

async fn logout(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    if let Some(t) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        st.store.end_session(&t).await.map_err(se(c.lang))?;
    }
    Ok((
        [(
            "set-cookie",
            format!("{}=; Path=/; Max-Age=0", auth::SESSION_COOKIE),
        )],
        Redirect::to("/"),
    )
        .into_response())
}

async fn switch_lang(Path(l): Path<String>, headers: HeaderMap) -> Response {
    let l = if l == "en" { "en" } else { "zh" };
    let back = headers
        .get("referer")
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
        })
        .unwrap_or_else(|| "/".into());
    (
        [(
            "set-cookie",
            format!("lang={l}; Path=/; Max-Age=31536000; SameSite=Lax"),
        )],
        Redirect::to(&back),
    )
        .into_response()
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
                        td { (fmt_ms(Some(k.updated_at))) }
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
                tr { th { (lang.t("提交 / 受理时间", "Submitted / accepted")) } td { (fmt_ms(v.submitted_at)) " / " (fmt_ms(v.accepted_at)) } }
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
                p.muted { (fmt_ms(Some(n.issued_at))) }
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
                    (materials_table(lang, &item, &v, true, &c))
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
                (materials_table(lang, &item, &v, false, &c))
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
    let flow = crate::workflow::flow_view(&st, &c, &v.id.to_string())
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
            (crate::workflow_pages::flow_card(lang, &flow, &c, v.id, &departments))
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
                (crate::supervision_pages::notices_table(lang, &notices, Some((c.account.id, &c.csrf))))
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
                            td { (fmt_ms(Some(r.at))) }
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
                        a href={"/cases/" (v.id) "/files/" (s.id)} { (s.file_name) } " " span.muted { (fmt_ms(Some(s.uploaded_at))) } br;
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
                crate::uploads::store_material(&st, &c.actor(), id, &material, &name, &bytes, lang)
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
            p { "您于 " (fmt_ms(v.submitted_at)) " 提出的“" (item.name) "”申请，经审查，申请材料齐全、符合法定形式，根据《中华人民共和国行政许可法》第三十二条的规定，决定予以受理。" }
            p { "承诺办结时限：" (item.promised_limit) " 个工作日（法定 " (item.legal_limit) " 个工作日），自受理之日起计算"
                @if let Some(d) = &v.deadlines { "，承诺于 " strong #receipt-promised { (d.promised.to_string()) } " 前办结（特别程序所需时间不计算在内）" } "。" }
            @if !deferred.is_empty() {
                p { "容缺受理材料（请在期限内补交）：" }
                ul { @for d in &deferred { li { (item.material(&d.material_code).map(|m| m.name.clone()).unwrap_or_default()) " — " (d.due_date.clone().unwrap_or_default()) } } }
            }
            div.row {
                div { p { "扫码或登录网上办事大厅查询办理进度。" } p { "查询码：" strong #receipt-code { (secret) } } p { "受理时间：" (fmt_ms(v.accepted_at)) } p.muted { "咨询电话：" (item.consultation_phone) "　监督电话：" (item.complaint_phone) } }
                div style="max-width:200px" { (PreEscaped(crate::qr::svg(&url))) }
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
struct WindowQuery {
    status: Option<String>,
    cursor: Option<i64>,
}

#[derive(Deserialize, Default)]
struct PageQuery {
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
                    tr { td { a href={"/cases/" (k.id)} { (k.number.clone().unwrap_or_else(|| format!("#{}", k.id))) } } td { (k.item_name) } td { (k.applicant_name) } td { (fmt_ms(k.submitted_at)) } }
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

async fn admin_page(State(st): State<AppState>, c: Caller) -> PageResult {
    let lang = c.lang;
    if c.account.role.as_deref() != Some("admin") {
        return Err(PageError(ApiError::forbidden(lang), lang));
    }
    let regions = st.store.regions().await.map_err(se(lang))?;
    let depts = st.store.departments().await.map_err(se(lang))?;
    let halls = st.store.halls().await.map_err(se(lang))?;
    let windows = st.store.windows().await.map_err(se(lang))?;
    let staff = st.store.staff().await.map_err(se(lang))?;
    let body = html! {
        div.card { h1 { (lang.t("系统管理", "Administration")) }
            p.muted { (lang.t("区划、部门和事项通过目录文件导入：yichuang catalog import FILE，或 POST /api/v1/admin/catalog。", "Regions, departments and items come from catalog files: yichuang catalog import FILE, or POST /api/v1/admin/catalog.")) } }
        div.card { h2 { (lang.t("工作人员", "Staff")) }
            table { tr { th { (lang.t("账号", "Login")) } th { (lang.t("姓名", "Name")) } th { (lang.t("角色", "Role")) } th { (lang.t("区划", "Region")) } th { (lang.t("部门/大厅", "Dept / hall")) } }
                @for s in &staff { tr { td { (s.login) } td { (s.name) } td { (s.role().map(|r| lang.t(r.zh(), r.as_str()).to_string()).unwrap_or_default()) } td { (s.region.clone().unwrap_or_default()) } td { (s.department.clone().unwrap_or_default()) " " (s.hall_id.clone().unwrap_or_default()) } } } }
            h2 { (lang.t("新增工作人员", "Add staff")) }
            form method="post" action="/admin/staff" {
                input type="hidden" name="csrf" value=(c.csrf);
                div.row {
                    div { label for="s_login" { (lang.t("账号", "Login")) } input #s_login type="text" name="login" required; }
                    div { label for="s_name" { (lang.t("姓名", "Name")) } input #s_name type="text" name="name" required; }
                    div { label for="s_pw" { (lang.t("初始密码", "Initial password")) } input #s_pw type="password" name="password" required; }
                }
                div.row {
                    div { label for="s_role" { (lang.t("角色", "Role")) } select #s_role name="role" { @for r in yichuang_core::Role::ALL { option value=(r.as_str()) { (lang.t(r.zh(), r.as_str())) } } } }
                    div { label for="s_region" { (lang.t("区划", "Region")) } select #s_region name="region" { @for (r, _) in &regions { option value=(r.code) { (r.code) " " (r.name) } } } }
                    div { label for="s_dept" { (lang.t("部门", "Department")) } select #s_dept name="department" { option value="" { "—" } @for d in &depts { option value=(d.code) { (d.name) } } } }
                    div { label for="s_hall" { (lang.t("大厅", "Hall")) } select #s_hall name="hall_id" { option value="" { "—" } @for h in &halls { option value=(h.id) { (h.name) } } } }
                }
                p { button type="submit" { (lang.t("新增", "Add")) } }
            }
        }
        div.card { h2 { (lang.t("大厅与窗口", "Halls and windows")) }
            table { @for h in &halls { tr { td { (h.id) } td { (h.name) } td { (h.region) } td { @for w in windows.iter().filter(|w| w.hall_id == h.id) { (w.name) " " } } } } } }
        div.card { h2 { (lang.t("区划与部门", "Regions and departments")) }
            table { @for (r, level) in &regions { tr { td { (r.code) } td { (r.name) } td { "L" (level) } td { @for d in depts.iter().filter(|d| d.region == r.code) { (d.name) br; } } } } } }
    };
    Ok(layout(lang, Some(&c), lang.t("系统管理", "Admin"), body).into_response())
}

#[derive(Deserialize)]
struct StaffForm {
    csrf: Option<String>,
    login: String,
    name: String,
    password: String,
    role: String,
    region: String,
    department: Option<String>,
    hall_id: Option<String>,
}

async fn admin_staff_post(
    State(st): State<AppState>,
    c: Caller,
    Form(f): Form<StaffForm>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    if c.account.role.as_deref() != Some("admin") {
        return Err(PageError(ApiError::forbidden(c.lang), c.lang));
    }
    let b = StaffBody {
        login: f.login,
        name: f.name,
        password: f.password,
        role: f.role,
        region: f.region,
        department: f.department,
        hall_id: f.hall_id,
        window_id: None,
    };
    create_staff(&st, b, &c.actor(), c.lang)
        .await
        .map_err(pe(c.lang))?;
    Ok(Redirect::to("/admin").into_response())
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
            match crate::notify::lookup(&st, &addr, n, code)
                .await
                .map_err(pe(lang))?
            {
                crate::notify::Lookup::Found(v) => {
                    stages = crate::notify::public_stages(&st, &v.number)
                        .await
                        .map_err(pe(lang))?;
                    found = Some(*v);
                }
                crate::notify::Lookup::NotFound => {}
                crate::notify::Lookup::Blocked(ms) => blocked = Some(ms),
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
                    tr { th { (lang.t("提交", "Submitted")) } td { (fmt_ms(v.submitted_at)) } }
                    tr { th { (lang.t("受理", "Accepted")) } td { (fmt_ms(v.accepted_at)) } }
                    tr { th { (lang.t("承诺办结", "Promised by")) } td { (v.promised_due.clone().unwrap_or_default()) } }
                    tr { th { (lang.t("办结", "Completed")) } td { (fmt_ms(v.completed_at)) } }
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
    let region = crate::calendar::region_param(&st, q.region.as_deref(), lang)
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
    let region = crate::calendar::region_param(&st, Some(f.region.as_str()), lang)
        .await
        .map_err(pe(lang))?;
    let Some(region) = region else {
        return Err(PageError(ApiError::forbidden(lang), lang));
    };
    crate::api::require_admin_in(&c.actor(), &region, lang).map_err(pe(lang))?;
    st.store
        .set_calendar_day(&region, date, kind, &f.name, &c.actor())
        .await
        .map_err(se(lang))?;
    Ok(Redirect::to(&format!("/calendar?year={}&region={region}", date.year())).into_response())
}
