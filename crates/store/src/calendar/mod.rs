//! The working-day calendar in the database: the national schedule ('CN') and each region's
//! own days. A region's calendar is the nation's overlaid by its ancestors' and its own days.

use crate::args;
use crate::audit::{self, Entry};
use crate::{Result, Store, StoreError};
use sqlx::Row;
use std::sync::Arc;
use yichuang_core::calendar::{Calendar, CalendarFile, DayKind};
use yichuang_core::{Actor, RegionCode};
pub mod cache;
pub use cache::Cache;

/// The region key of the national schedule.
pub const NATIONAL: &str = "CN";

/// The official schedules shipped with the platform, loaded on first start.
pub const SHIPPED: &str = include_str!("../../../../calendar/cn-2024-2026.toml");

#[derive(Debug, Clone, serde::Serialize)]
pub struct ListedDay {
    pub region: String,
    pub date: String,
    pub kind: DayKind,
    pub name: String,
}

/// The region itself and every region above it, most general first.
fn chain(region: &str) -> Vec<String> {
    let Ok(r) = RegionCode::parse(region) else {
        return Vec::new();
    };
    let s = r.as_str();
    let mut out = vec![
        format!("{}0000", &s[..2]),
        format!("{}00", &s[..4]),
        s[..6].to_string(),
    ];
    if s.len() >= 9 {
        out.push(s[..9].to_string());
    }
    if s.len() == 12 {
        out.push(s.to_string());
    }
    out.dedup();
    out
}

fn kind_str(k: DayKind) -> &'static str {
    match k {
        DayKind::Holiday => "holiday",
        DayKind::Workday => "workday",
    }
}

fn parse_kind(s: &str) -> DayKind {
    if s == "workday" {
        DayKind::Workday
    } else {
        DayKind::Holiday
    }
}

impl Store {
    /// Loads the shipped national schedule when the database has none.
    pub async fn ensure_national_calendar(&self) -> Result<()> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM calendar_days WHERE region = $1")
            .bind(NATIONAL)
            .fetch_one(self.pool())
            .await?;
        if n > 0 {
            return Ok(());
        }
        let file: CalendarFile = toml::from_str(SHIPPED)
            .map_err(|e| StoreError::Unavailable(format!("shipped calendar: {e}")))?;
        self.import_calendar(file, &Actor::system())
            .await
            .map(|_| ())
    }

    /// Imports a calendar file: all of it or, on any problem, nothing.
    pub async fn import_calendar(&self, file: CalendarFile, actor: &Actor) -> Result<usize> {
        let days = file.days().map_err(|e| {
            StoreError::rule(crate::RuleKind::Invalid, e.code(), e.to_string(), e.zh())
        })?;
        let region = if file.region.trim().is_empty() {
            NATIONAL.to_string()
        } else {
            let code = file.region.trim().to_string();
            let known: Option<String> =
                sqlx::query_scalar("SELECT code FROM regions WHERE code = $1")
                    .bind(&code)
                    .fetch_optional(self.pool())
                    .await?;
            if known.is_none() {
                return Err(StoreError::invalid(
                    "calendar.unknown_region",
                    format!("region: unknown region {code}"),
                    format!("区划：{code} 不存在"),
                ));
            }
            code
        };
        let actor = actor.clone();
        let count = days.len();
        self.write(move |c| {
            Box::pin(async move {
                for (d, k, name) in &days {
                    c.exec(
                        "INSERT INTO calendar_days (region, day, kind, name) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (region, day) DO UPDATE SET kind = excluded.kind, name = excluded.name",
                        args![&region, d.to_string(), kind_str(*k), name],
                    )
                    .await?;
                }
                audit::record(
                    c,
                    &actor,
                    Entry {
                        action: "calendar.import",
                        detail: format!("{region}: {count} days"),
                        ..Default::default()
                    },
                )
                .await
            })
        })
        .await?;
        self.calendars.clear();
        Ok(count)
    }

    /// Sets one day of a region's (or the nation's) calendar; `None` removes the listing.
    pub async fn set_calendar_day(
        &self,
        region: &str,
        date: time::Date,
        kind: Option<DayKind>,
        name: &str,
        actor: &Actor,
    ) -> Result<()> {
        let region = if region.is_empty() {
            NATIONAL.to_string()
        } else {
            region.to_string()
        };
        let (actor, name) = (actor.clone(), name.to_string());
        self.write(move |c| {
            Box::pin(async move {
                match kind {
                    Some(k) => {
                        c.exec(
                            "INSERT INTO calendar_days (region, day, kind, name) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (region, day) DO UPDATE SET kind = excluded.kind, name = excluded.name",
                            args![&region, date.to_string(), kind_str(k), &name],
                        )
                        .await?
                    }
                    None => {
                        c.exec(
                            "DELETE FROM calendar_days WHERE region = $1 AND day = $2",
                            args![&region, date.to_string()],
                        )
                        .await?
                    }
                };
                audit::record(
                    c,
                    &actor,
                    Entry {
                        action: "calendar.set_day",
                        detail: format!("{region} {date} {}", kind.map(kind_str).unwrap_or("normal")),
                        ..Default::default()
                    },
                )
                .await
            })
        })
        .await?;
        self.calendars.clear();
        Ok(())
    }

    /// The calendar that applies in a region (the nation's when `region` is None), from the
    /// short-lived cache when it can.
    pub async fn calendar(&self, region: Option<&str>) -> Result<Arc<Calendar>> {
        let key = region.unwrap_or(NATIONAL);
        if let Some(c) = self.calendars.get(key) {
            return Ok(c);
        }
        let c = Arc::new(self.load_calendar(region).await?);
        self.calendars.put(key.to_string(), c.clone());
        Ok(c)
    }

    async fn load_calendar(&self, region: Option<&str>) -> Result<Calendar> {
        let mut keys = vec![NATIONAL.to_string()];
        if let Some(r) = region {
            keys.extend(chain(r));
        }
        let mut cal = Calendar::default();
        for key in keys {
            let rows = sqlx::query("SELECT day, kind FROM calendar_days WHERE region = $1")
                .bind(&key)
                .fetch_all(self.pool())
                .await?;
            let mut days = Vec::with_capacity(rows.len());
            for r in &rows {
                let d: String = r.try_get("day")?;
                let k: String = r.try_get("kind")?;
                let d = yichuang_core::calendar::parse_date(&d)
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                days.push((d, parse_kind(&k)));
            }
            let layer = Calendar::new(days).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            cal = cal.overlay(&layer);
        }
        Ok(cal)
    }

    /// The listed days of a year that apply in a region, with where each comes from.
    pub async fn calendar_days(&self, region: Option<&str>, year: i32) -> Result<Vec<ListedDay>> {
        let mut keys = vec![NATIONAL.to_string()];
        if let Some(r) = region {
            keys.extend(chain(r));
        }
        let mut by_date = std::collections::BTreeMap::new();
        for key in keys {
            let rows = sqlx::query(
                "SELECT region, day, kind, name FROM calendar_days WHERE region = $1 AND day LIKE $2 ORDER BY day",
            )
            .bind(&key)
            .bind(format!("{year:04}-%"))
            .fetch_all(self.pool())
            .await?;
            for r in &rows {
                let day: String = r.try_get("day")?;
                let kind: String = r.try_get("kind")?;
                by_date.insert(
                    day.clone(),
                    ListedDay {
                        region: r.try_get("region")?,
                        date: day,
                        kind: parse_kind(&kind),
                        name: r.try_get("name")?,
                    },
                );
            }
        }
        Ok(by_date.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::chain;
    #[test]
    fn chain_goes_from_province_down() {
        assert_eq!(
            chain("360822100201"),
            ["360000", "360800", "360822", "360822100", "360822100201"]
        );
        assert_eq!(chain("440000"), ["440000"]);
        assert_eq!(chain("440100"), ["440000", "440100"]);
        assert!(chain("bad").is_empty());
    }
}
