//! Sessions, passwords and CSRF. Browsers hold an HttpOnly cookie and echo a per-session CSRF
//! token in every form; API clients send `Authorization: Bearer` and need no CSRF token.

use crate::http::error::ApiError;
use crate::http::i18n::Lang;
use crate::http::AppState;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use std::net::SocketAddr;
use yichuang_core::Actor;
use yichuang_store::accounts::Account;
use yichuang_store::now_ms;

pub const SESSION_COOKIE: &str = "yc_session";

pub use super::i18n::cookie;

pub fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A logged-in caller.
#[derive(Clone)]
pub struct Caller {
    pub account: Account,
    pub csrf: String,
    pub via_cookie: bool,
    pub addr: String,
    pub lang: Lang,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        self.account.actor(&self.addr)
    }
    /// Cookie-authenticated writes must carry the session's CSRF token.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), ApiError> {
        if !self.via_cookie {
            return Ok(());
        }
        match token {
            Some(t) if constant_eq(t.as_bytes(), self.csrf.as_bytes()) => Ok(()),
            _ => Err(ApiError::csrf(self.lang)),
        }
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Maybe a caller: pages that anyone may see.
pub struct MaybeCaller(pub Option<Caller>, pub Lang, pub String);

/// The client's address, for audit records and the status page's brake: the peer of the
/// connection or, behind the hall's reverse proxy (`behind_proxy`), the address that proxy
/// appended last to X-Forwarded-For (earlier entries are the client's own claims).
pub(crate) fn client_addr(parts: &Parts, behind_proxy: bool) -> String {
    if behind_proxy {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .next_back()
            .and_then(|a| a.parse::<std::net::IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip.to_string();
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    let lang = Lang::from_headers(&parts.headers);
    let bearer = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string());
    let (token, via_cookie) = match bearer {
        Some(t) => (t, false),
        None => match cookie(&parts.headers, SESSION_COOKIE) {
            Some(t) => (t, true),
            None => return Ok(None),
        },
    };
    let s = state
        .store
        .session(&token)
        .await
        .map_err(|e| ApiError::from_store(e, lang))?;
    Ok(s.map(|s| Caller {
        account: s.account,
        csrf: s.csrf,
        via_cookie,
        addr: client_addr(parts, state.config.behind_proxy),
        lang,
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let lang = Lang::from_headers(&parts.headers);
        let browser = parts
            .headers
            .get("accept")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
        resolve(parts, state).await?.ok_or_else(|| {
            if browser {
                ApiError::new(StatusCode::UNAUTHORIZED, "auth.login_page", "")
            } else {
                ApiError::unauthenticated(lang)
            }
        })
    }
}

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let lang = Lang::from_headers(&parts.headers);
        Ok(MaybeCaller(
            resolve(parts, state).await?,
            lang,
            client_addr(parts, state.config.behind_proxy),
        ))
    }
}

pub async fn hash_password(pw: String) -> String {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
    .await
    .unwrap_or_default()
}

async fn verify_password(pw: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// 等保 practice: at least 8 characters from at least 3 of lower, upper, digit, symbol.
pub fn password_ok(pw: &str) -> bool {
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    pw.chars().count() >= 8 && classes.iter().filter(|x| **x).count() >= 3
}

pub struct LoggedIn {
    pub token: String,
    pub csrf: String,
    pub account: Account,
    pub max_age_s: i64,
}

/// Checks the password; five failures lock the account for ten minutes.
pub async fn login(
    state: &AppState,
    login: &str,
    password: &str,
    addr: &str,
    lang: Lang,
) -> Result<LoggedIn, ApiError> {
    let store = &state.store;
    let refused = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "auth.bad_credentials",
            lang.t("账号或密码错误。", "Wrong login or password."),
        )
    };
    let acc = store
        .account_by_login(login.trim())
        .await
        .map_err(|e| ApiError::from_store(e, lang))?;
    let Some(acc) = acc else {
        // Spend the same time as a real check, so logins cannot be probed by timing.
        let _ = verify_password(password.to_string(), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()).await;
        return Err(refused());
    };
    if acc.locked_until > now_ms() {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "auth.locked",
            lang.t(
                "登录失败次数过多，账号已锁定10分钟。",
                "Too many failed logins; the account is locked for 10 minutes.",
            ),
        ));
    }
    let ok = match acc.password_hash.clone() {
        Some(h) => verify_password(password.to_string(), h).await,
        None => false,
    } && acc.active;
    store
        .login_outcome(acc.id, ok, addr)
        .await
        .map_err(|e| ApiError::from_store(e, lang))?;
    if !ok {
        return Err(refused());
    }
    let token = random_token(32);
    let csrf = random_token(16);
    let minutes = if acc.is_staff() {
        state.config.staff_session_minutes
    } else {
        state.config.applicant_session_minutes
    };
    store
        .create_session(acc.id, &token, &csrf, minutes * 60_000)
        .await
        .map_err(|e| ApiError::from_store(e, lang))?;
    Ok(LoggedIn {
        token,
        csrf,
        account: acc,
        max_age_s: minutes * 60,
    })
}

/// `Secure` unless the browser reached us over plain HTTP on a non-loopback host, where a
/// Secure cookie would be dropped and login would silently fail.
pub fn session_cookie(headers: &HeaderMap, token: &str, max_age_s: i64) -> String {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "https");
    let loopback =
        host.starts_with("localhost") || host.starts_with("127.") || host.starts_with("[::1]");
    let secure = if https || loopback { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}")
}
