//! Regions, departments and service items: import (all or nothing), export, browse.

use crate::args;
use crate::audit::{self, Entry};
use crate::{now_ms, Result, Store, StoreError};
use sqlx::Row;
use yichuang_core::catalog::{self, CatalogError, CatalogFile, Department, Region, ServiceItem};
use yichuang_core::{Actor, RegionCode};

#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub department: Option<String>,
    pub category: Option<String>,
    /// Items implemented in this region or below it.
    pub region: Option<String>,
    pub q: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ItemSummary {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub department: String,
    pub department_name: String,
    pub region: String,
    pub category: String,
    pub item_type: String,
    pub case_type: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    pub regions: usize,
    pub departments: usize,
    pub items: usize,
}

impl Store {
    pub async fn known(&self) -> Result<catalog::Known> {
        let mut k = catalog::Known::default();
        for r in sqlx::query("SELECT code FROM regions")
            .fetch_all(self.pool())
            .await?
        {
            k.regions.insert(r.try_get("code")?);
        }
        for r in sqlx::query("SELECT code, region FROM departments")
            .fetch_all(self.pool())
            .await?
        {
            k.departments
                .insert(r.try_get("code")?, r.try_get("region")?);
        }
        for r in sqlx::query("SELECT code, region FROM items")
            .fetch_all(self.pool())
            .await?
        {
            k.items.insert(r.try_get("code")?, r.try_get("region")?);
        }
        Ok(k)
    }

    /// Validates the whole file against itself and the database, then writes all of it in
    /// one transaction. Returns every problem found, or what was imported.
    pub async fn import_catalog(
        &self,
        file: CatalogFile,
        actor: &Actor,
    ) -> Result<std::result::Result<ImportReport, Vec<CatalogError>>> {
        let errs = catalog::validate(&file, &self.known().await?);
        if !errs.is_empty() {
            return Ok(Err(errs));
        }
        let actor = actor.clone();
        let report = self
            .write(move |c| {
                Box::pin(async move {
                    // Parents first, so the foreign key holds.
                    let mut regions = file.regions.clone();
                    regions.sort_by_key(|r| RegionCode::parse(&r.code).map(|c| c.level()).ok());
                    for r in &regions {
                        let level = RegionCode::parse(&r.code).map(|c| c.level() as i64).unwrap_or(0);
                        c.exec("INSERT INTO regions (code, name, name_en, parent, level) VALUES ($1,$2,$3,$4,$5) \
                            ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, parent = excluded.parent", args![&r.code, &r.name, &r.name_en, &r.parent, level]).await?;
                    }
                    for d in &file.departments {
                        c.exec("INSERT INTO departments (code, name, name_en, region, uscc, phone) VALUES ($1,$2,$3,$4,$5,$6) \
                            ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, region = excluded.region, uscc = excluded.uscc, phone = excluded.phone", args![&d.code, &d.name, &d.name_en, &d.region, &d.uscc, &d.phone]).await?;
                    }
                    let now = now_ms();
                    for it in &file.items {
                        let body = serde_json::to_string(it).map_err(|e| StoreError::Unavailable(e.to_string()))?;
                        c.exec("INSERT INTO items (code, name, name_en, department, region, category, item_type, case_type, body, updated_at) \
                            VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, \
                            department = excluded.department, region = excluded.region, category = excluded.category, item_type = excluded.item_type, \
                            case_type = excluded.case_type, body = excluded.body, \
                            updated_at = CASE WHEN excluded.updated_at > items.updated_at THEN excluded.updated_at ELSE items.updated_at + 1 END", args![&it.code, &it.name, &it.name_en, &it.department, &it.region, &it.category, &it.item_type, &it.case_type, body, now]).await?;
                    }
                    for b in &file.bundles {
                        let body = serde_json::to_string(b).map_err(|e| StoreError::Unavailable(e.to_string()))?;
                        c.exec("INSERT INTO bundles (code, name, region, body, updated_at) VALUES ($1,$2,$3,$4,$5) \
                            ON CONFLICT (code) DO UPDATE SET name = excluded.name, region = excluded.region, body = excluded.body, updated_at = excluded.updated_at",
                            args![&b.code, &b.name, &b.region, body, now]).await?;
                    }
                    let report = ImportReport {
                        regions: file.regions.len(),
                        departments: file.departments.len(),
                        items: file.items.len(),
                    };
                    audit::record(c, &actor, Entry {
                        action: "catalog.import",
                        detail: format!("{} regions, {} departments, {} items", report.regions, report.departments, report.items),
                        ..Default::default()
                    }).await?;
                    Ok(report)
                })
            })
            .await?;
        Ok(Ok(report))
    }

    pub async fn export_catalog(&self) -> Result<CatalogFile> {
        let mut f = CatalogFile::default();
        for r in sqlx::query("SELECT code, name, name_en, parent FROM regions ORDER BY level, code")
            .fetch_all(self.pool())
            .await?
        {
            f.regions.push(Region {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                name_en: r.try_get("name_en")?,
                parent: r.try_get("parent")?,
            });
        }
        f.departments = self.departments().await?;
        for r in sqlx::query("SELECT body FROM items ORDER BY code")
            .fetch_all(self.pool())
            .await?
        {
            f.items.push(parse_item(&r.try_get::<String, _>("body")?)?);
        }
        f.bundles = self.bundles().await?;
        Ok(f)
    }

    pub async fn regions(&self) -> Result<Vec<(Region, i64)>> {
        let mut out = Vec::new();
        for r in sqlx::query("SELECT code, name, name_en, parent, level FROM regions ORDER BY code")
            .fetch_all(self.pool())
            .await?
        {
            out.push((
                Region {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    name_en: r.try_get("name_en")?,
                    parent: r.try_get("parent")?,
                },
                r.try_get("level")?,
            ));
        }
        Ok(out)
    }

    pub async fn departments(&self) -> Result<Vec<Department>> {
        let rows = sqlx::query("SELECT code, name, name_en, region, uscc, phone FROM departments ORDER BY region, code")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_department).collect()
    }

    pub async fn categories(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT category FROM items WHERE category <> '' ORDER BY category",
        )
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn items(&self, f: &ItemFilter) -> Result<Vec<ItemSummary>> {
        let mut sql = String::from(
            "SELECT i.code, i.name, i.name_en, i.department, d.name AS dname, i.region, i.category, i.item_type, i.case_type \
             FROM items i JOIN departments d ON d.code = i.department WHERE 1=1",
        );
        let mut args: Vec<String> = Vec::new();
        if let Some(d) = f.department.as_ref().filter(|s| !s.is_empty()) {
            args.push(d.clone());
            sql.push_str(&format!(" AND i.department = ${}", args.len()));
        }
        if let Some(cat) = f.category.as_ref().filter(|s| !s.is_empty()) {
            args.push(cat.clone());
            sql.push_str(&format!(" AND i.category = ${}", args.len()));
        }
        if let Some(r) = f.region.as_ref().and_then(|r| RegionCode::parse(r).ok()) {
            args.push(format!("{}%", r.prefix()));
            sql.push_str(&format!(" AND i.region LIKE ${}", args.len()));
        }
        if let Some(q) = f.q.as_ref().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let pat = format!("%{}%", q.replace(['%', '_'], ""));
            args.push(pat.clone());
            let n = args.len();
            args.push(pat);
            sql.push_str(&format!(
                " AND (i.name LIKE ${n} OR i.name_en LIKE ${})",
                args.len()
            ));
        }
        sql.push_str(" ORDER BY i.region, i.department, i.code LIMIT 500");
        let mut query = sqlx::query(&sql);
        for a in &args {
            query = query.bind(a);
        }
        let mut out = Vec::new();
        for r in query.fetch_all(self.pool()).await? {
            out.push(ItemSummary {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                name_en: r.try_get("name_en")?,
                department: r.try_get("department")?,
                department_name: r.try_get("dname")?,
                region: r.try_get("region")?,
                category: r.try_get("category")?,
                item_type: r.try_get("item_type")?,
                case_type: r.try_get("case_type")?,
            });
        }
        Ok(out)
    }

    pub async fn item(&self, code: &str) -> Result<ServiceItem> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM items WHERE code = $1")
            .bind(code)
            .fetch_optional(self.pool())
            .await?;
        match body {
            Some(b) => parse_item(&b),
            None => Err(StoreError::not_found(
                "item.not_found",
                format!("No service item {code}."),
                format!("未找到事项 {code}。"),
            )),
        }
    }

    pub async fn department(&self, code: &str) -> Result<Option<Department>> {
        let r = sqlx::query(
            "SELECT code, name, name_en, region, uscc, phone FROM departments WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(row_department).transpose()
    }

    pub async fn region_name(&self, code: &str) -> Result<String> {
        Ok(
            sqlx::query_scalar("SELECT name FROM regions WHERE code = $1")
                .bind(code)
                .fetch_optional(self.pool())
                .await?
                .unwrap_or_default(),
        )
    }
}

fn row_department(r: &sqlx::any::AnyRow) -> Result<Department> {
    Ok(Department {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        name_en: r.try_get("name_en")?,
        region: r.try_get("region")?,
        uscc: r.try_get("uscc")?,
        phone: r.try_get("phone")?,
    })
}

pub(crate) fn parse_item(body: &str) -> Result<ServiceItem> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Unavailable(format!("stored item is unreadable: {e}")))
}

/// A parsed item by its code and version (`updated_at`, which every import moves forward), so
/// a command reads the item's small version column instead of its whole guide text.
pub(crate) async fn item_by_version(
    c: &mut dyn crate::db::tx::Tx,
    code: &str,
    version: i64,
) -> Result<std::sync::Arc<ServiceItem>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache = Mutex<HashMap<(String, i64), Arc<ServiceItem>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (code.to_string(), version);
    if let Some(it) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(it);
    }
    let body = c
        .opt_text(
            "SELECT body FROM items WHERE code = $1 AND updated_at = $2",
            crate::args![code, version],
        )
        .await?;
    let Some(body) = body else {
        // Changed since the caller read its version: parse what is there, uncached.
        let body = c
            .opt_text("SELECT body FROM items WHERE code = $1", crate::args![code])
            .await?
            .ok_or_else(|| StoreError::Unavailable(format!("item {code} vanished")))?;
        return Ok(Arc::new(parse_item(&body)?));
    };
    let it = Arc::new(parse_item(&body)?);
    if let Ok(mut m) = cache.lock() {
        if m.len() > 10_000 {
            m.clear();
        }
        m.insert(key, it.clone());
    }
    Ok(it)
}
