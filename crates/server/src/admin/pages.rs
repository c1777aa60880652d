//! The admin's page: halls, windows and staff.

use crate::admin::api::{create_staff, StaffBody};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::page::{layout, pe, se, PageError, PageResult};
use crate::http::AppState;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_page))
        .route("/admin/staff", post(admin_staff_post))
}

async fn admin_page(State(st): State<AppState>, c: Caller) -> PageResult {
    let lang = c.lang;
    if c.account.role.as_deref() != Some("admin") {
        return Err(PageError(ApiError::forbidden(lang), lang));
    }
    let regions = st.store.regions().await.map_err(se(lang))?;
    let depts = st.store.departments().await.map_err(se(lang))?;
    let halls = st.store.halls().await.map_err(se(lang))?;
    let windows = st.store.windows().await.map_err(se(lang))?;
    let staff = st.store.staff().await.map_err(se(lang))?;
    let body = html! {
        div.card { h1 { (lang.t("系统管理", "Administration")) }
            p.muted { (lang.t("区划、部门和事项通过目录文件导入：yichuang catalog import FILE，或 POST /api/v1/admin/catalog。", "Regions, departments and items come from catalog files: yichuang catalog import FILE, or POST /api/v1/admin/catalog.")) } }
        div.card { h2 { (lang.t("工作人员", "Staff")) }
            table { tr { th { (lang.t("账号", "Login")) } th { (lang.t("姓名", "Name")) } th { (lang.t("角色", "Role")) } th { (lang.t("区划", "Region")) } th { (lang.t("部门/大厅", "Dept / hall")) } }
                @for s in &staff { tr { td { (s.login) } td { (s.name) } td { (s.role().map(|r| lang.t(r.zh(), r.as_str()).to_string()).unwrap_or_default()) } td { (s.region.clone().unwrap_or_default()) } td { (s.department.clone().unwrap_or_default()) " " (s.hall_id.clone().unwrap_or_default()) } } } }
            h2 { (lang.t("新增工作人员", "Add staff")) }
            form method="post" action="/admin/staff" {
                input type="hidden" name="csrf" value=(c.csrf);
                div.row {
                    div { label for="s_login" { (lang.t("账号", "Login")) } input #s_login type="text" name="login" required; }
                    div { label for="s_name" { (lang.t("姓名", "Name")) } input #s_name type="text" name="name" required; }
                    div { label for="s_pw" { (lang.t("初始密码", "Initial password")) } input #s_pw type="password" name="password" required; }
                }
                div.row {
                    div { label for="s_role" { (lang.t("角色", "Role")) } select #s_role name="role" { @for r in yichuang_core::Role::ALL { option value=(r.as_str()) { (lang.t(r.zh(), r.as_str())) } } } }
                    div { label for="s_region" { (lang.t("区划", "Region")) } select #s_region name="region" { @for (r, _) in &regions { option value=(r.code) { (r.code) " " (r.name) } } } }
                    div { label for="s_dept" { (lang.t("部门", "Department")) } select #s_dept name="department" { option value="" { "—" } @for d in &depts { option value=(d.code) { (d.name) } } } }
                    div { label for="s_hall" { (lang.t("大厅", "Hall")) } select #s_hall name="hall_id" { option value="" { "—" } @for h in &halls { option value=(h.id) { (h.name) } } } }
                }
                p { button type="submit" { (lang.t("新增", "Add")) } }
            }
        }
        div.card { h2 { (lang.t("大厅与窗口", "Halls and windows")) }
            table { @for h in &halls { tr { td { (h.id) } td { (h.name) } td { (h.region) } td { @for w in windows.iter().filter(|w| w.hall_id == h.id) { (w.name) " " } } } } } }
        div.card { h2 { (lang.t("区划与部门", "Regions and departments")) }
            table { @for (r, level) in &regions { tr { td { (r.code) } td { (r.name) } td { "L" (level) } td { @for d in depts.iter().filter(|d| d.region == r.code) { (d.name) br; } } } } } }
    };
    Ok(layout(lang, Some(&c), lang.t("系统管理", "Admin"), body).into_response())
}

#[derive(Deserialize)]
struct StaffForm {
    csrf: Option<String>,
    login: String,
    name: String,
    password: String,
    role: String,
    region: String,
    department: Option<String>,
    hall_id: Option<String>,
}

async fn admin_staff_post(
    State(st): State<AppState>,
    c: Caller,
    Form(f): Form<StaffForm>,
) -> PageResult {
    c.check_csrf(f.csrf.as_deref()).map_err(pe(c.lang))?;
    if c.account.role.as_deref() != Some("admin") {
        return Err(PageError(ApiError::forbidden(c.lang), c.lang));
    }
    let b = StaffBody {
        login: f.login,
        name: f.name,
        password: f.password,
        role: f.role,
        region: f.region,
        department: f.department,
        hall_id: f.hall_id,
        window_id: None,
    };
    create_staff(&st, b, &c.actor(), c.lang)
        .await
        .map_err(pe(c.lang))?;
    Ok(Redirect::to("/admin").into_response())
}
