//! What every room of the server shares: errors and languages, sessions and CSRF, the page
//! layout, idempotent creation, addressing a case, and the service's own routes.

pub mod auth;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod openapi;
pub mod page;
pub mod qr;
pub mod state;

pub use state::AppState;

use crate::http::error::ApiError;
use crate::http::i18n::Lang;
use auth::Caller;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use yichuang_core::{CaseNumber, Permission};

pub(crate) type ApiResult<T = Response> = Result<T, ApiError>;

pub(crate) fn store_err(lang: Lang) -> impl Fn(yichuang_store::StoreError) -> ApiError {
    move |e| ApiError::from_store(e, lang)
}

/// A case is addressed by its number (`360822-20261123-000001-7`) or, before it has one, by id.
pub async fn resolve_case(state: &AppState, key: &str, lang: Lang) -> ApiResult<i64> {
    if let Ok(id) = key.parse::<i64>() {
        return Ok(id);
    }
    if CaseNumber::parse(key).is_err() {
        return Err(ApiError::not_found_case(lang));
    }
    state
        .store
        .case_id_by_number(key)
        .await?
        .ok_or_else(|| ApiError::not_found_case(lang))
}

/// Runs a creating request at most once per `Idempotency-Key`: the same key and body give the
/// same answer; the same key with another body is refused.
pub(crate) async fn idempotent<Fut>(
    st: &AppState,
    c: &Caller,
    headers: &HeaderMap,
    request: &impl serde::Serialize,
    run: Fut,
) -> ApiResult
where
    Fut: std::future::Future<Output = ApiResult>,
{
    use sha2::Digest;
    use yichuang_store::accounts::Idempotency;
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    else {
        return run.await;
    };
    if key.is_empty() || key.len() > 200 {
        return Err(ApiError::bad_request(
            "idempotency.key",
            c.lang,
            "Idempotency-Key 应为1-200个字符。",
            "Idempotency-Key must be 1-200 characters.",
        ));
    }
    let hash = hex::encode(sha2::Sha256::digest(
        serde_json::to_vec(request).unwrap_or_default(),
    ));
    let account = c.account.id;
    match st.store.idempotency_begin(account, key, &hash).await? {
        Idempotency::Replay(status, body) => Ok((
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            [
                ("content-type", "application/json"),
                ("idempotent-replayed", "true"),
            ],
            body,
        )
            .into_response()),
        Idempotency::Mismatch => Err(ApiError::unprocessable(
            "idempotency.mismatch",
            c.lang,
            "该 Idempotency-Key 已用于另一个请求。",
            "This Idempotency-Key was used for a different request.",
        )),
        Idempotency::InFlight => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency.in_flight",
            c.lang.t(
                "相同请求正在处理中，请稍后重试。",
                "The same request is still being processed; retry shortly.",
            ),
        )),
        Idempotency::Fresh => {
            let answer = run.await;
            let recorded = match answer {
                Ok(resp) if resp.status().is_success() => {
                    let status = resp.status();
                    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                        .await
                        .unwrap_or_default();
                    let text = String::from_utf8_lossy(&body).into_owned();
                    st.store
                        .idempotency_finish(account, key, Some((status.as_u16(), text.clone())))
                        .await?;
                    return Ok(
                        (status, [("content-type", "application/json")], text).into_response()
                    );
                }
                other => other,
            };
            st.store.idempotency_finish(account, key, None).await?;
            recorded
        }
    }
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "ok")))]
pub(crate) async fn healthz(State(st): State<AppState>) -> Response {
    match sqlx_ping(&st).await {
        true => Json(json!({"status": "ok", "backend": st.store.backend().name()})).into_response(),
        false => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable"})),
        )
            .into_response(),
    }
}

async fn sqlx_ping(st: &AppState) -> bool {
    st.store.meta("demo_loaded").await.is_ok()
}

/// A room of the server: its routes, and its part of the OpenAPI document.
pub struct Room {
    pub routes: fn() -> Router<AppState>,
    pub openapi: fn() -> utoipa::openapi::OpenApi,
}

/// The service's own routes: liveness and the OpenAPI document of all rooms.
pub fn routes(doc: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route(
        "/api/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { Json(doc.as_ref().clone()) }
        }),
    )
}

/// An admin manages only what lies inside their own region; the CLI (system) manages all.
pub fn require_admin_in(actor: &yichuang_core::Actor, region: &str, lang: Lang) -> ApiResult<()> {
    if actor.may_in(Permission::Administer, region) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "admin.out_of_region",
        lang.t(
            "该区划不在您的管理范围内。",
            "That region is outside the one you administer.",
        ),
    ))
}
