//! One error type for everything the store refuses, typed so the server can map it to HTTP.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// 404: missing, or not yours to know about.
    NotFound,
    /// 409: the state does not allow it (already accepted, concurrent change).
    Conflict,
    /// 422: well-formed but invalid content.
    Invalid,
    /// 403: known to the caller but not theirs to do.
    Forbidden,
    /// 401: login refused.
    Unauthenticated,
    /// 429: too many tries.
    TooMany,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The database could not take the command now (writer gone, commit failed).
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("{code}: {en}")]
    Rule {
        kind: RuleKind,
        code: &'static str,
        en: String,
        zh: String,
    },
}

impl StoreError {
    pub fn rule(
        kind: RuleKind,
        code: &'static str,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        StoreError::Rule {
            kind,
            code,
            en: en.into(),
            zh: zh.into(),
        }
    }
    pub fn not_found(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::rule(RuleKind::NotFound, code, en, zh)
    }
    pub fn conflict(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::rule(RuleKind::Conflict, code, en, zh)
    }
    pub fn invalid(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::rule(RuleKind::Invalid, code, en, zh)
    }
    pub fn forbidden(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::rule(RuleKind::Forbidden, code, en, zh)
    }
    /// The case is missing or the caller may not see it: the same answer either way.
    pub fn no_case() -> Self {
        Self::not_found("case.not_found", "No such case.", "未找到该办件。")
    }
}

impl From<yichuang_core::DomainError> for StoreError {
    fn from(e: yichuang_core::DomainError) -> Self {
        use yichuang_core::DomainError as D;
        let zh = match &e {
            D::InvalidTransition { from, .. } => {
                if e.code() == "case.already_accepted" {
                    "该办件已受理，不能重复受理。".to_string()
                } else {
                    format!("办件当前状态为“{}”，不能进行此操作。", from.zh())
                }
            }
            D::ReasonRequired => "请填写理由。".into(),
            D::EmptyCorrectionNotice => "补正告知书须至少列明一项问题。".into(),
            D::NotImmediate => "只有即办件可以当场办结。".into(),
        };
        let kind = match e {
            D::InvalidTransition { .. } => RuleKind::Conflict,
            _ => RuleKind::Invalid,
        };
        StoreError::Rule {
            kind,
            code: e.code(),
            en: e.to_string(),
            zh,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
