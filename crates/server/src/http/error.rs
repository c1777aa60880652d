//! One error envelope for the API: `{"code": "...", "message": "..."}` with the right status.
//! Internal detail is logged, never sent.

use crate::http::i18n::Lang;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use yichuang_store::{RuleKind, StoreError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn bad_request(code: &str, lang: Lang, zh: &str, en: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, lang.t(zh, en))
    }
    pub fn unprocessable(code: &str, lang: Lang, zh: &str, en: &str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, lang.t(zh, en))
    }
    pub fn unauthenticated(lang: Lang) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "auth.required",
            lang.t("请先登录。", "Please log in."),
        )
    }
    pub fn forbidden(lang: Lang) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "auth.forbidden",
            lang.t("您无权进行此操作。", "You may not do this."),
        )
    }
    pub fn csrf(lang: Lang) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "auth.csrf",
            lang.t(
                "页面已过期，请刷新后重试。",
                "The form has expired; reload the page and try again.",
            ),
        )
    }

    pub fn from_store(e: StoreError, lang: Lang) -> Self {
        match e {
            StoreError::Rule { kind, code, en, zh } => {
                let status = match kind {
                    RuleKind::NotFound => StatusCode::NOT_FOUND,
                    RuleKind::Conflict => StatusCode::CONFLICT,
                    RuleKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                    RuleKind::Forbidden => StatusCode::FORBIDDEN,
                    RuleKind::Unauthenticated => StatusCode::UNAUTHORIZED,
                    RuleKind::TooMany => StatusCode::TOO_MANY_REQUESTS,
                };
                ApiError::new(status, code, if lang == Lang::En { en } else { zh })
            }
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "store unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store.unavailable",
                    lang.t(
                        "系统繁忙，请稍后重试。",
                        "The service cannot save right now; try again shortly.",
                    ),
                )
            }
            StoreError::Db(err) => {
                tracing::error!(%err, "database error");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store.unavailable",
                    lang.t(
                        "系统繁忙，请稍后重试。",
                        "The service cannot save right now; try again shortly.",
                    ),
                )
            }
        }
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A browser that is not logged in goes to the login page instead of a JSON error.
        if self.code == "auth.login_page" {
            return axum::response::Redirect::to("/login").into_response();
        }
        (
            self.status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response()
    }
}
