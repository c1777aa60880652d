//! Register, log in, log out, and the language switch.

use crate::accounts::api::{check_registration, RegisterBody};
use crate::http::auth::{self, Caller, MaybeCaller};
use crate::http::page::{layout, pe, se, CsrfOnly, PageError, PageResult};
use crate::http::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/register", get(register_page).post(register_post))
        .route("/login", get(login_page).post(login_post))
        .route("/logout", post(logout))
        .route("/lang/{lang}", get(switch_lang))
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
            let mut e = e;
            if e.status == StatusCode::UNAUTHORIZED {
                e.status = StatusCode::FORBIDDEN;
            }
            PageError(e, lang)
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
