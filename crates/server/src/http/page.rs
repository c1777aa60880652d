//! The page layout every room shares: the style sheet, the header with the language switch,
//! page errors, and times in the hall's zone.

use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::i18n::Lang;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;
use yichuang_core::Permission;

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

/// A time in the hall's zone (`utc_offset_hours` from the config), to the minute.
pub(crate) fn fmt_ms(ms: Option<i64>, hours: i8) -> String {
    let Some(ms) = ms else { return "—".into() };
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

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    pub(crate) csrf: Option<String>,
}
