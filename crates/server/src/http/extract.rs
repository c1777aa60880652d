//! Extractors the handlers share, so that who is calling is settled before any body is read.

use super::auth::Caller;
use super::error::ApiError;
use super::i18n::Lang;
use super::{resolve_case, AppState};
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use std::collections::HashMap;

/// A caller whose request may change something: a browser session must send its CSRF token
/// in `x-csrf-token` (bearer tokens are not sent by browsers on their own, so need none).
pub struct Csrf(pub Caller);

impl FromRequestParts<AppState> for Csrf {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let c = Caller::from_request_parts(parts, state).await?;
        let token = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok());
        c.check_csrf(token)?;
        Ok(Csrf(c))
    }
}

/// The case a path names in its `{case}` segment (its number, or its id before it has one).
pub struct CaseKey(pub i64);

impl FromRequestParts<AppState> for CaseKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let lang = Lang::from_headers(&parts.headers);
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found_case(lang))?;
        let key = params.get("case").map(String::as_str).unwrap_or("");
        Ok(CaseKey(resolve_case(state, key, lang).await?))
    }
}
