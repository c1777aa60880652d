//! Halls and their windows.

use crate::args;
use crate::audit::{self, Entry};
use crate::{Result, Store, StoreError};
use sqlx::Row;
use yichuang_core::{Actor, RegionCode};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Hall {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub region: String,
    pub address: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Window {
    pub id: String,
    pub hall_id: String,
    pub name: String,
    pub comprehensive: bool,
}

impl Store {
    pub async fn upsert_hall(&self, h: Hall, actor: &Actor) -> Result<()> {
        if RegionCode::parse(&h.region).is_err() {
            return Err(StoreError::invalid(
                "hall.region",
                "The region code is malformed.",
                "区划代码格式错误。",
            ));
        }
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let exists: Option<String> = c.opt_text("SELECT code FROM regions WHERE code = $1", args![&h.region])
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::invalid("hall.region", "Unknown region.", "区划不存在。"));
                }
                c.exec("INSERT INTO halls (id, name, name_en, region, address) VALUES ($1,$2,$3,$4,$5) \
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, region = excluded.region, address = excluded.address", args![&h.id, &h.name, &h.name_en, &h.region, &h.address]).await?;
                audit::record(c, &actor, Entry { action: "hall.upsert", detail: h.id.clone(), ..Default::default() }).await
            })
        })
        .await
    }

    pub async fn upsert_window(&self, w: Window, actor: &Actor) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let hall: Option<String> = c.opt_text("SELECT id FROM halls WHERE id = $1", args![&w.hall_id])
                    .await?;
                if hall.is_none() {
                    return Err(StoreError::invalid("window.hall", "Unknown hall.", "大厅不存在。"));
                }
                c.exec("INSERT INTO windows (id, hall_id, name, comprehensive) VALUES ($1,$2,$3,$4) \
                    ON CONFLICT (id) DO UPDATE SET hall_id = excluded.hall_id, name = excluded.name, comprehensive = excluded.comprehensive", args![&w.id, &w.hall_id, &w.name, i64::from(w.comprehensive)]).await?;
                audit::record(c, &actor, Entry { action: "window.upsert", detail: w.id.clone(), ..Default::default() }).await
            })
        })
        .await
    }

    pub async fn halls(&self) -> Result<Vec<Hall>> {
        let mut out = Vec::new();
        for r in
            sqlx::query("SELECT id, name, name_en, region, address FROM halls ORDER BY region, id")
                .fetch_all(self.pool())
                .await?
        {
            out.push(Hall {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                name_en: r.try_get("name_en")?,
                region: r.try_get("region")?,
                address: r.try_get("address")?,
            });
        }
        Ok(out)
    }

    pub async fn windows(&self) -> Result<Vec<Window>> {
        let mut out = Vec::new();
        for r in
            sqlx::query("SELECT id, hall_id, name, comprehensive FROM windows ORDER BY hall_id, id")
                .fetch_all(self.pool())
                .await?
        {
            out.push(Window {
                id: r.try_get("id")?,
                hall_id: r.try_get("hall_id")?,
                name: r.try_get("name")?,
                comprehensive: r.try_get::<i64, _>("comprehensive")? != 0,
            });
        }
        Ok(out)
    }
}
