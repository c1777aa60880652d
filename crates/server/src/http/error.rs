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
    /// In the request's language when the handler knew it; else Chinese, with `en` beside it.
    pub message: String,
    /// The English text of an error made without knowing the request's language (from a
    /// `StoreError` by `?`): `localize` answers it to a request in English.
    en: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            en: None,
        }
    }
    /// The text for a page in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        match (&self.en, lang) {
            (Some(en), Lang::En) => en,
            _ => &self.message,
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
    pub fn not_found_case(lang: Lang) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "case.not_found",
            lang.t("未找到该办件。", "No such case."),
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
        let mut e = ApiError::from(e);
        if lang == Lang::En {
            if let Some(en) = e.en.take() {
                e.message = en;
            }
        }
        e.en = None;
        e
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let unavailable = || ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "store.unavailable".into(),
            message: "系统繁忙，请稍后重试。".into(),
            en: Some("The service cannot save right now; try again shortly.".into()),
        };
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
                ApiError {
                    status,
                    code: code.into(),
                    message: zh,
                    en: Some(en),
                }
            }
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "store unavailable");
                unavailable()
            }
            StoreError::Db(err) => {
                tracing::error!(%err, "database error");
                unavailable()
            }
        }
    }
}

/// The English text of an error answered in Chinese, for `localize`.
#[derive(Clone)]
pub(crate) struct English(pub(crate) String);

/// Answers an error made without the request's language in English to a request in English.
pub(crate) async fn localize(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let lang = Lang::from_headers(req.headers());
    let mut resp = next.run(req).await;
    if lang == Lang::En {
        if let Some(English(en)) = resp.extensions_mut().remove::<English>() {
            let code = resp
                .extensions_mut()
                .remove::<ErrorCode>()
                .map(|c| c.0)
                .unwrap_or_default();
            let status = resp.status();
            return (status, Json(ErrorBody { code, message: en })).into_response();
        }
    }
    resp
}

#[derive(Clone)]
struct ErrorCode(String);

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
        let mut resp = (
            self.status,
            Json(ErrorBody {
                code: self.code.clone(),
                message: self.message,
            }),
        )
            .into_response();
        if let Some(en) = self.en {
            resp.extensions_mut().insert(English(en));
            resp.extensions_mut().insert(ErrorCode(self.code));
        }
        resp
    }
}
