//! Accounts over HTTP: log in and out, register as a person or an enterprise, who am I.

use crate::http::auth::{self, Caller, MaybeCaller};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::i18n::Lang;
use crate::http::ApiResult;
use crate::http::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use utoipa::OpenApi;
use yichuang_core::{ResidentId, Uscc};
use yichuang_store::accounts::NewAccount;

#[derive(OpenApi)]
#[openapi(paths(login, logout, register, me))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sessions", post(login).delete(logout))
        .route("/api/v1/accounts", post(register))
        .route("/api/v1/me", get(me))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    login: String,
    password: String,
}

/// Log in. Returns a bearer token for API clients and sets the session cookie for browsers.
#[utoipa::path(post, path = "/api/v1/sessions", request_body = LoginBody,
    responses((status = 200, description = "token"), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(st): State<AppState>,
    mc: MaybeCaller,
    headers: HeaderMap,
    Json(b): Json<LoginBody>,
) -> ApiResult {
    let MaybeCaller(_, lang, addr) = mc;
    let li = auth::login(&st, &b.login, &b.password, &addr, lang).await?;
    let cookie = auth::session_cookie(&headers, &li.token, li.max_age_s);
    Ok((
        [("set-cookie", cookie)],
        Json(json!({"token": li.token, "csrf": li.csrf, "account": li.account})),
    )
        .into_response())
}

/// Log out.
#[utoipa::path(delete, path = "/api/v1/sessions", responses((status = 204, description = "logged out")))]
async fn logout(State(st): State<AppState>, headers: HeaderMap) -> ApiResult {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| auth::cookie(&headers, auth::SESSION_COOKIE));
    if let Some(t) = token {
        st.store.end_session(&t).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            "set-cookie",
            format!("{}=; Path=/; Max-Age=0", auth::SESSION_COOKIE),
        )],
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterBody {
    /// person | enterprise
    pub kind: String,
    pub name: String,
    /// Resident ID number for a person, USCC for an enterprise. It is also the login.
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub legal_rep: String,
    pub password: String,
}

/// Validates a registration; shared by the API and the page.
pub fn check_registration(b: &RegisterBody, lang: Lang) -> ApiResult<NewAccount> {
    let bad = |code: &str, zh: String, en: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            if lang == Lang::En { en } else { zh },
        )
    };
    if b.name.trim().is_empty() || b.name.chars().count() > 100 {
        return Err(bad(
            "account.name",
            "名称：请填写（100字以内）。".into(),
            "name: required (at most 100 characters).".into(),
        ));
    }
    let id_number = match b.kind.as_str() {
        "person" => ResidentId::parse(&b.id_number)
            .map_err(|e| {
                bad(
                    "account.id_number",
                    format!("身份证号码：{}。", e.zh()),
                    format!("id_number: {e}."),
                )
            })?
            .to_string(),
        "enterprise" => Uscc::parse(&b.id_number)
            .map_err(|e| {
                bad(
                    "account.id_number",
                    format!("统一社会信用代码：{}。", e.zh()),
                    format!("id_number: unified social credit code {e}."),
                )
            })?
            .to_string(),
        _ => {
            return Err(bad(
                "account.kind",
                "申请人类型应为个人或企业。".into(),
                "kind must be person or enterprise.".into(),
            ))
        }
    };
    if b.kind == "person" && !yichuang_core::ids::valid_phone(b.phone.trim()) {
        return Err(bad(
            "account.phone",
            "手机号码：应为11位数字。".into(),
            "phone: must be an 11-digit mobile number.".into(),
        ));
    }
    if b.kind == "enterprise" && b.legal_rep.trim().is_empty() {
        return Err(bad(
            "account.legal_rep",
            "法定代表人：请填写。".into(),
            "legal_rep: required for an enterprise.".into(),
        ));
    }
    if !auth::password_ok(&b.password) {
        return Err(bad(
            "account.password",
            "密码：至少8位，且包含大写字母、小写字母、数字、符号中的三类。".into(),
            "password: at least 8 characters from 3 of upper, lower, digit, symbol.".into(),
        ));
    }
    Ok(NewAccount {
        kind: b.kind.clone(),
        login: id_number.clone(),
        name: b.name.trim().into(),
        id_number: Some(id_number),
        phone: Some(b.phone.trim().to_string()).filter(|s| !s.is_empty()),
        legal_rep: Some(b.legal_rep.trim().to_string()).filter(|s| !s.is_empty()),
        ..Default::default()
    })
}

/// Register as a person or an enterprise. The login is the ID number or USCC.
#[utoipa::path(post, path = "/api/v1/accounts", request_body = RegisterBody,
    responses((status = 201, description = "created"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Json(b): Json<RegisterBody>,
) -> ApiResult {
    let MaybeCaller(_, lang, addr) = mc;
    let mut acc = check_registration(&b, lang)?;
    acc.password_hash = Some(auth::hash_password(b.password.clone()).await);
    let mut actor = yichuang_core::Actor::system();
    actor.client_addr = addr;
    let id = st.store.create_account(acc.clone(), &actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "login": acc.login})),
    )
        .into_response())
}

/// The logged-in account.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, description = "account"), (status = 401, body = ErrorBody)))]
async fn me(c: Caller) -> Json<serde_json::Value> {
    Json(json!({"account": c.account, "csrf": c.csrf}))
}
