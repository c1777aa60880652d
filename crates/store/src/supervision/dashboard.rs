//! Electronic supervision (电子监察): open cases by light, counted and listed in the database
//! from the dates fixed at acceptance, so the dashboard stays fast at scale.

use crate::common::Page;
use crate::{Result, Store};
use sqlx::Row;
use std::collections::BTreeMap;
use yichuang_core::deadline::Light;
use yichuang_core::{Actor, ActorKind, Permission};

/// The light of a case on date `$1`, from its stored dates (the same rule as
/// `Deadlines::light_on`, which a property test ties to the calendar's rule).
const LIGHT_SQL: &str = "CASE WHEN c.promised_due < $1 OR c.legal_due < $1 THEN 'overdue' \
     WHEN c.internal_due < $1 THEN 'red' WHEN c.yellow_from <= $1 THEN 'yellow' ELSE 'green' END";

/// The same rule as [`LIGHT_SQL`] for one light, as plain column comparisons that a
/// planner can estimate from its statistics.
fn light_predicate(l: Light) -> &'static str {
    match l {
        Light::Overdue => "(c.promised_due < $1 OR c.legal_due < $1)",
        Light::Red => "(c.internal_due < $1 AND c.promised_due >= $1 AND c.legal_due >= $1)",
        Light::Yellow => "(c.yellow_from <= $1 AND c.internal_due >= $1)",
        // yellow_from ≤ internal ≤ promised ≤ legal, so a later yellow line is green.
        Light::Green => "(c.yellow_from > $1)",
    }
}

#[derive(Debug, Clone, Default)]
pub struct DashboardFilter {
    pub department: Option<String>,
    pub item: Option<String>,
    pub window: Option<String>,
    pub staff: Option<i64>,
    pub light: Option<Light>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenCase {
    pub id: i64,
    pub number: Option<String>,
    pub item_code: String,
    pub item_name: String,
    pub department: String,
    pub status: String,
    pub handler: Option<String>,
    pub accepted_on: Option<String>,
    pub internal_due: Option<String>,
    pub promised_due: Option<String>,
    pub legal_due: Option<String>,
    pub light: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Dashboard {
    pub counts: BTreeMap<String, i64>,
    pub total: i64,
    pub cases: Vec<OpenCase>,
}

impl Store {
    /// Open cases in the actor's region on `today` (a local date, `YYYY-MM-DD`): counts by light
    /// and a page of cases (`page.limit == 0`: counts only).
    pub async fn dashboard(
        &self,
        actor: &Actor,
        f: &DashboardFilter,
        today: &str,
        page: Page,
    ) -> Result<Dashboard> {
        let ActorKind::Staff { region, .. } = &actor.kind else {
            return Ok(Dashboard::default());
        };
        if !actor.may_in(Permission::ReadCases, region.as_str()) {
            return Ok(Dashboard::default());
        }
        let (lo, hi) = region.code_range();
        let mut args: Vec<String> = vec![today.to_string(), lo, hi];
        // The filters, written once for a table alias: `c` for cases, `b` for buckets. Ids
        // come from typed values, never from raw text.
        let mut filters: Vec<(&str, String)> = Vec::new();
        for (col, v) in [("department", &f.department), ("item_code", &f.item)] {
            if let Some(v) = v.clone().filter(|s| !s.is_empty()) {
                args.push(v);
                filters.push((col, format!("= ${}", args.len())));
            }
        }
        if let Some(w) = f.window.clone().filter(|s| !s.is_empty()) {
            args.push(w);
            filters.push((
                "handled_by",
                format!(
                    "IN (SELECT id FROM accounts WHERE window_id = ${})",
                    args.len()
                ),
            ));
        }
        if let Some(s) = f.staff {
            filters.push(("handled_by", format!("= {s}")));
        }
        let filter_sql = |alias: &str| -> String {
            filters
                .iter()
                .map(|(col, test)| format!(" AND {alias}.{col} {test}"))
                .collect()
        };
        // Counts come from the buckets, which hold only open cases with deadlines.
        let counts_sql = format!(
            "SELECT {} AS light, CAST(SUM(b.n) AS BIGINT) AS n FROM open_buckets b \
             WHERE b.region >= $2 AND b.region < $3{} GROUP BY 1",
            LIGHT_SQL.replace("c.", "b."),
            filter_sql("b")
        );
        let mut q = sqlx::query(&counts_sql);
        for a in &args {
            q = q.bind(a);
        }
        let mut out = Dashboard::default();
        for r in q.fetch_all(self.pool()).await? {
            let n: i64 = r.try_get("n")?;
            out.total += n;
            out.counts.insert(r.try_get("light")?, n);
        }
        // Cases whose clock is stopped by a special procedure, counted apart.
        let stopped: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE status = 'suspended' AND region >= $1 AND region < $2",
        )
        .bind(&args[1])
        .bind(&args[2])
        .fetch_one(self.pool())
        .await?;
        out.counts.insert("stopped".into(), stopped);
        // A page of no cases asks for the counts alone; and when the counts say nothing
        // matches, there is nothing to look for.
        let matching = match f.light {
            Some(l) => out.counts.get(l.as_str()).copied().unwrap_or(0),
            None => out.total,
        };
        if page.limit == 0 || matching == 0 {
            return Ok(out);
        }
        // Newest first, read along the primary key: wrapping the indexed columns in an
        // expression keeps both planners from sorting a whole county's cases for 50 rows.
        // PostgreSQL, for a county or below, reads the county's open cases newest first from
        // the partial index on (county, id); its planner sorts the whole county otherwise.
        let county = (self.backend() == crate::db::backend::Backend::Postgres
            && region.level() >= yichuang_core::ids::RegionLevel::County)
            .then(|| region.as_str()[..6].to_string());
        let mut list_cond = match &county {
            Some(k) => format!(
                "c.status IN ('accepted', 'in_stage') AND substr(c.region, 1, 6) = '{k}' \
                 AND (c.region || '') >= $2 AND (c.region || '') < $3 AND c.promised_due IS NOT NULL{}",
                filter_sql("c")
            ),
            None => format!(
                "(c.status || '') IN ('accepted', 'in_stage') AND (c.region || '') >= $2 AND (c.region || '') < $3 \
                 AND c.promised_due IS NOT NULL{}",
                filter_sql("c")
            ),
        };
        if let Some(l) = f.light {
            list_cond.push_str(" AND ");
            list_cond.push_str(light_predicate(l));
        }
        if let Some(cur) = page.cursor {
            list_cond.push_str(&format!(" AND c.id < {cur}"));
        }
        let from = "FROM cases c JOIN items i ON i.code = c.item_code LEFT JOIN accounts h ON h.id = c.handled_by";
        let list_sql = format!(
            "SELECT c.id, c.number, c.item_code, i.name AS item_name, c.department, c.status, h.name AS handler, \
             c.accepted_on, c.internal_due, c.promised_due, c.legal_due, {LIGHT_SQL} AS light {from} \
             WHERE {list_cond} ORDER BY c.id DESC LIMIT {}",
            page.limit.clamp(1, 200)
        );
        let mut q = sqlx::query(&list_sql);
        for a in &args {
            q = q.bind(a);
        }
        let rows = if self.backend() == crate::db::backend::Backend::Postgres {
            // PostgreSQL multiplies the selectivities of the correlated deadline columns, expects
            // a handful of matches and sorts the whole county; reading the index newest first
            // finds 50 in a few hundred rows. Sorting off for this one read-only statement.
            let mut tx = self.pool().begin().await?;
            sqlx::query("SET LOCAL enable_sort = off")
                .execute(&mut *tx)
                .await?;
            let rows = q.fetch_all(&mut *tx).await?;
            tx.commit().await?;
            rows
        } else {
            q.fetch_all(self.pool()).await?
        };
        for r in rows {
            out.cases.push(OpenCase {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                item_code: r.try_get("item_code")?,
                item_name: r.try_get("item_name")?,
                department: r.try_get("department")?,
                status: r.try_get("status")?,
                handler: r.try_get("handler")?,
                accepted_on: r.try_get("accepted_on")?,
                internal_due: r.try_get("internal_due")?,
                promised_due: r.try_get("promised_due")?,
                legal_due: r.try_get("legal_due")?,
                light: r.try_get("light")?,
            });
        }
        Ok(out)
    }
}
