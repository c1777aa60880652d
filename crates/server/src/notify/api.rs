//! Notices over HTTP (C6): a person's in-app inbox and how they want to hear from us, the
//! admin's templates (with preview against a real case) and delivery log (with resend), and
//! the public status lookup with its brake on guessing.

use crate::http::auth::{Caller, MaybeCaller};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::Csrf;
use crate::http::i18n::Lang;
use crate::http::ApiResult;
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use yichuang_store::cases::CaseStatusView;
use yichuang_store::notify::{NoticePrefs, TryGate};
use yichuang_store::Page;

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    inbox_api,
    read_api,
    prefs_get_api,
    prefs_put_api,
    templates_api,
    template_put_api,
    template_preview_api,
    deliveries_api,
    resend_api,
    public_status_api
))]
pub struct Doc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me/notices", get(inbox_api))
        .route("/api/v1/me/notices/read", post(read_api))
        .route(
            "/api/v1/me/notice-prefs",
            get(prefs_get_api).put(prefs_put_api),
        )
        .route("/api/v1/admin/notice-templates", get(templates_api))
        .route(
            "/api/v1/admin/notice-templates/{event}/{lang}",
            put(template_put_api),
        )
        .route(
            "/api/v1/admin/notice-templates/preview",
            post(template_preview_api),
        )
        .route("/api/v1/admin/deliveries", get(deliveries_api))
        .route("/api/v1/admin/deliveries/{id}/resend", post(resend_api))
        .route("/api/v1/public/status", get(public_status_api))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct PageQuery {
    pub cursor: Option<i64>,
    pub limit: Option<i64>,
}

fn page(q: &PageQuery) -> Page {
    Page {
        cursor: q.cursor,
        limit: q.limit.unwrap_or(50).clamp(1, 200),
    }
}

/// The caller's in-app notices, newest first.
#[utoipa::path(get, path = "/api/v1/me/notices", params(PageQuery),
    responses((status = 200, description = "notices"), (status = 401, body = ErrorBody)))]
pub async fn inbox_api(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult {
    let list = st.store.inbox_notices(&c.actor(), page(&q)).await?;
    let unread = list.iter().filter(|n| !n.read).count();
    Ok(Json(json!({"notices": list, "unread": unread})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReadBody {
    /// Marks every notice up to and including this id read.
    pub up_to: i64,
}

#[utoipa::path(post, path = "/api/v1/me/notices/read", request_body = ReadBody,
    responses((status = 200, description = "how many were marked"), (status = 401, body = ErrorBody)))]
pub async fn read_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Json(b): Json<ReadBody>,
) -> ApiResult {
    let n = st.store.mark_inbox_read(&c.actor(), b.up_to).await?;
    Ok(Json(json!({"marked": n})).into_response())
}

#[utoipa::path(get, path = "/api/v1/me/notice-prefs",
    responses((status = 200, description = "channels, phone, e-mail, language"), (status = 401, body = ErrorBody)))]
pub async fn prefs_get_api(State(st): State<AppState>, c: Caller) -> ApiResult {
    let p = st.store.notice_prefs(&c.actor()).await?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PrefsBody {
    /// Any of `sms`, `email`, `inapp`.
    pub channels: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// `zh` (default) or `en`.
    pub lang: Option<String>,
}

/// Sets how the caller hears from us: channels among `sms`, `email`, `inapp`, with the phone
/// and e-mail they need, and the language (`zh`, `en`).
#[utoipa::path(put, path = "/api/v1/me/notice-prefs",
    responses((status = 200, description = "saved"), (status = 422, body = ErrorBody)))]
pub async fn prefs_put_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Json(b): Json<PrefsBody>,
) -> ApiResult {
    let p = st
        .store
        .set_notice_prefs(
            &c.actor(),
            NoticePrefs {
                channels: b.channels,
                phone: b.phone,
                email: b.email,
                lang: b.lang.unwrap_or_else(|| "zh".into()),
            },
        )
        .await?;
    Ok(Json(p).into_response())
}

/// Every event's text in Chinese and English, edited or built in, with the fields a text
/// may use.
#[utoipa::path(get, path = "/api/v1/admin/notice-templates",
    responses((status = 200, description = "templates"), (status = 403, body = ErrorBody)))]
pub async fn templates_api(State(st): State<AppState>, c: Caller) -> ApiResult {
    if c.account.role.as_deref() != Some("admin") {
        return Err(ApiError::forbidden(c.lang));
    }
    let list = st.store.notice_templates(&c.actor()).await?;
    Ok(Json(json!({"templates": list, "fields": fields()})).into_response())
}

/// What a text can say, for the admin page: the fields every notice renders from.
pub fn fields() -> Vec<String> {
    match serde_json::to_value(yichuang_core::notify::Fields::default()) {
        Ok(serde_json::Value::Object(m)) => m.into_iter().map(|(k, _)| k).collect(),
        _ => Vec::new(),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TemplateBody {
    pub subject: String,
    pub body: String,
}

/// Saves a text. One that does not render (a syntax error, an unknown field) is refused
/// with 422 `template.broken` and the old text stays.
#[utoipa::path(put, path = "/api/v1/admin/notice-templates/{event}/{lang}", request_body = TemplateBody,
    responses((status = 200, description = "saved"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn template_put_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path((event, lang)): Path<(String, String)>,
    Json(b): Json<TemplateBody>,
) -> ApiResult {
    st.store
        .save_template(&c.actor(), &event, &lang, &b.subject, &b.body)
        .await?;
    Ok(Json(json!({"event": event, "lang": lang, "saved": true})).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PreviewBody {
    pub event: String,
    pub subject: String,
    pub body: String,
    /// A case number whose data the preview uses; without one, sample data.
    pub case: Option<String>,
}

/// Renders a text against a real case of the caller's region (or sample data) without saving.
#[utoipa::path(post, path = "/api/v1/admin/notice-templates/preview", request_body = PreviewBody,
    responses((status = 200, description = "rendered subject and body"), (status = 422, body = ErrorBody)))]
pub async fn template_preview_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Json(b): Json<PreviewBody>,
) -> ApiResult {
    let (subject, body) = st
        .store
        .preview_template(
            &c.actor(),
            &b.event,
            &b.subject,
            &b.body,
            b.case.as_deref(),
            &st.config.public_url,
        )
        .await?;
    Ok(Json(json!({"subject": subject, "body": body})).into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct DeliveryQuery {
    /// queued | sent | failed | given_up
    pub status: Option<String>,
    /// A case number.
    pub case: Option<String>,
    pub cursor: Option<i64>,
    pub limit: Option<i64>,
}

pub const STATUSES: [&str; 4] = ["queued", "sent", "failed", "given_up"];

/// The delivery log: every notice with channel, masked recipient, status, attempts and the
/// provider's answer. Admins only.
#[utoipa::path(get, path = "/api/v1/admin/deliveries", params(DeliveryQuery),
    responses((status = 200, description = "log and counts"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deliveries_api(
    State(st): State<AppState>,
    c: Caller,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult {
    let (rows, counts) = load_deliveries(&st, &c, &q).await?;
    let next = (rows.len() as i64 == q.limit.unwrap_or(50).clamp(1, 200))
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(Json(json!({"deliveries": rows, "counts": counts, "next_cursor": next})).into_response())
}

pub async fn load_deliveries(
    st: &AppState,
    c: &Caller,
    q: &DeliveryQuery,
) -> Result<
    (
        Vec<yichuang_store::notify::DeliveryRow>,
        std::collections::BTreeMap<String, i64>,
    ),
    ApiError,
> {
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    if status.is_some_and(|s| !STATUSES.contains(&s)) {
        return Err(ApiError::unprocessable(
            "delivery.status",
            c.lang,
            "status 应为 queued、sent、failed 或 given_up。",
            "status must be queued, sent, failed or given_up.",
        ));
    }
    let rows = st
        .store
        .delivery_log(
            &c.actor(),
            status,
            q.case.as_deref().filter(|s| !s.is_empty()),
            Page {
                cursor: q.cursor,
                limit: q.limit.unwrap_or(50).clamp(1, 200),
            },
        )
        .await?;
    let counts = st
        .store
        .delivery_counts(&c.actor())
        .await?
        .into_iter()
        .collect();
    Ok((rows, counts))
}

/// Sends a notice again, as a new notice with its own key.
#[utoipa::path(post, path = "/api/v1/admin/deliveries/{id}/resend",
    responses((status = 201, description = "the new notice"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn resend_api(
    State(st): State<AppState>,
    Csrf(c): Csrf,
    Path(id): Path<i64>,
) -> ApiResult {
    let new_id = st.store.resend_notice(&c.actor(), id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": new_id, "resent": id})),
    )
        .into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct StatusQuery {
    /// The case number.
    pub n: Option<String>,
    /// The query code on the receipt, or the last six characters of the applicant's ID.
    pub s: Option<String>,
}

/// What a status lookup found; `Err` carries the refusal to show.
pub enum Lookup {
    Found(Box<CaseStatusView>),
    NotFound,
    Blocked(u64),
}

/// The status lookup with its brake: after five wrong tries in 15 minutes an address waits a
/// little longer for each answer, after ten it is blocked for 15 minutes. The answer
/// for "no such case" and "wrong code" is the same, so numbers cannot be probed.
/// Whose tries a client's count: its address, or for IPv6 its /64 (one household or phone
/// gets a whole /64 and can pick any address in it).
pub fn brake_key(addr: &str) -> String {
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        _ => addr.to_string(),
    }
}

pub async fn lookup(st: &AppState, addr: &str, n: &str, code: &str) -> Result<Lookup, ApiError> {
    let _lang = Lang::Zh;
    let addr = &brake_key(addr);
    match st.store.status_try(addr).await? {
        TryGate::Blocked(ms) => return Ok(Lookup::Blocked(ms)),
        TryGate::Slow(ms) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
        TryGate::Open => {}
    }
    match st.store.case_status(n.trim()).await? {
        Some(v) if v.unlocks(code.trim()) => {
            st.store.status_right(addr).await?;
            Ok(Lookup::Found(Box::new(v)))
        }
        _ => Ok(Lookup::NotFound),
    }
}

pub fn blocked_response(lang: Lang, ms: u64) -> Response {
    let mut r = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "status.blocked",
        lang.t(
            &format!("查询错误次数过多，请{}分钟后再试。", ms.div_ceil(60_000)),
            &format!(
                "Too many wrong tries; try again in {} minutes.",
                ms.div_ceil(60_000)
            ),
        ),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&ms.div_ceil(1000).to_string()) {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// A case's status without an account: number plus the receipt's query code (or the last
/// six characters of the ID number). 404 `status.not_found` for a wrong pair; 429
/// `status.blocked` (with Retry-After) after too many.
#[utoipa::path(get, path = "/api/v1/public/status", params(StatusQuery),
    responses((status = 200, description = "status and dates"), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn public_status_api(
    State(st): State<AppState>,
    mc: MaybeCaller,
    Query(q): Query<StatusQuery>,
) -> ApiResult {
    let MaybeCaller(_, lang, addr) = mc;
    let (n, s) = (q.n.unwrap_or_default(), q.s.unwrap_or_default());
    if n.trim().is_empty() || s.trim().is_empty() {
        return Err(ApiError::unprocessable(
            "status.missing",
            lang,
            "请输入办件编号和查询码。",
            "Give the case number and the query code.",
        ));
    }
    match lookup(&st, &addr, &n, &s).await? {
        Lookup::Found(v) => {
            let stages = public_stages(&st, &v.number).await?;
            Ok(Json(json!({
                "number": v.number, "item": v.item_name, "item_en": v.item_name_en,
                "status": v.status, "status_zh": v.status_zh, "status_en": v.status_en,
                "submitted_at": v.submitted_at, "accepted_at": v.accepted_at, "completed_at": v.completed_at,
                "promised_due": v.promised_due, "stages": stages,
            }))
            .into_response())
        }
        Lookup::NotFound => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "status.not_found",
            lang.t(
                "未找到该办件，或查询码不正确。",
                "No case matches that number and code.",
            ),
        )),
        Lookup::Blocked(ms) => Ok(blocked_response(lang, ms)),
    }
}

/// A stage as the public sees it: its name, state and the departments working on it (never
/// a person's name).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PublicStage {
    pub name: String,
    /// done | current | pending
    pub state: &'static str,
    pub departments: Vec<String>,
}

pub async fn public_stages(st: &AppState, number: &str) -> Result<Vec<PublicStage>, ApiError> {
    let _lang = Lang::Zh;
    let Some(id) = st.store.case_id_by_number(number).await? else {
        return Ok(vec![]);
    };
    let stages = st.store.case_stages(id).await?;
    let tasks = st.store.case_tasks(id).await?;
    let open = |s: &str| matches!(s, "open" | "claimed" | "proposed");
    Ok(stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mine: Vec<_> = tasks.iter().filter(|t| t.stage == i as i64).collect();
            let state = if mine.iter().any(|t| open(&t.state)) {
                "current"
            } else if mine.is_empty() {
                "pending"
            } else {
                "done"
            };
            let mut departments: Vec<String> = mine
                .iter()
                .map(|t| {
                    if t.department_name.is_empty() {
                        t.department.clone()
                    } else {
                        t.department_name.clone()
                    }
                })
                .collect();
            departments.dedup();
            PublicStage {
                name: s.title(),
                state,
                departments,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::brake_key;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(brake_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(brake_key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(brake_key("::ffff:10.0.0.7"), "10.0.0.7");
        assert_eq!(brake_key("10.0.0.7"), "10.0.0.7");
        assert_eq!(brake_key("unknown"), "unknown");
    }
}
