//! 办结: the decision that concludes a case, what it records against each limit, and the
//! on-time statistics and public 办件公示 counted from those records.

use crate::args;
use crate::cases::change::audit_case;
use crate::cases::conclude::record_conclusion;
use crate::cases::row::load;
use crate::cases::row::state_of;
use crate::cases::write::{set_decision_reason, set_status_completed};
use crate::{Result, Store, StoreError};
use sqlx::Row;
use yichuang_core::{
    apply, Actor, ActorKind, CaseCommand, CaseStatus, Permission, RegionCode, Role,
};

/// Department staff who may decide: reviewers and managers in the case's region.
fn may_decide(actor: &Actor, region: &str) -> bool {
    matches!(
        &actor.kind,
        ActorKind::Staff {
            role: Role::Reviewer | Role::Manager,
            ..
        }
    ) && actor.may_in(Permission::ReadCases, region)
        || matches!(actor.kind, ActorKind::System)
}

/// One row of on-time statistics: a group's concluded cases against their limits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OnTimeRow {
    /// Item code, department code, staff id or month (`YYYY-MM`), by the grouping asked for.
    pub key: String,
    pub name: String,
    pub concluded: i64,
    pub within_internal: i64,
    pub within_promised: i64,
    pub within_legal: i64,
    /// Share concluded within the promised limit, 0–1.
    pub on_time_rate: f64,
    /// Average working days used, clock stops excluded.
    pub average_days: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Item,
    Department,
    Staff,
    Month,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        match s {
            "item" => Some(GroupBy::Item),
            "department" => Some(GroupBy::Department),
            "staff" => Some(GroupBy::Staff),
            "month" => Some(GroupBy::Month),
            _ => None,
        }
    }
    /// The key and display-name expressions, and the join the name needs.
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            GroupBy::Item => (
                "c.item_code",
                "MAX(i.name)",
                "LEFT JOIN items i ON i.code = c.item_code",
            ),
            GroupBy::Department => (
                "c.department",
                "MAX(d.name)",
                "LEFT JOIN departments d ON d.code = c.department",
            ),
            GroupBy::Staff => (
                "CAST(COALESCE(c.decided_by, 0) AS TEXT)",
                "MAX(COALESCE(a.name, ''))",
                "LEFT JOIN accounts a ON a.id = c.decided_by",
            ),
            GroupBy::Month => (
                "SUBSTR(c.concluded_on, 1, 7)",
                "SUBSTR(c.concluded_on, 1, 7)",
                "",
            ),
        }
    }
}

/// The period and place statistics cover; dates are local days, inclusive.
#[derive(Debug, Clone)]
pub struct StatsScope {
    pub region: Option<RegionCode>,
    pub from: Option<time::Date>,
    pub to: Option<time::Date>,
}

/// One line of the public 办件公示: an item of a department.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PublicRow {
    pub department: String,
    pub department_name: String,
    pub item_code: String,
    pub item_name: String,
    pub concluded: i64,
    pub within_promised: i64,
    pub on_time_rate: f64,
    pub average_days: f64,
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl Store {
    /// 办结 with a decision on the hall's today: approval completes the case, a denial needs
    /// its reasons. Records the working days used against every limit.
    pub async fn decide(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
        reason: &str,
    ) -> Result<CaseStatus> {
        let cal = self.case_calendar(id).await?;
        let today = self.today();
        let (actor, reason) = (actor.clone(), reason.trim().to_string());
        self.write(move |c| {
            Box::pin(async move {
                let row = load(c, id).await?;
                if !actor.may_in(Permission::ReadCases, &row.region) {
                    return Err(StoreError::no_case());
                }
                if !may_decide(&actor, &row.region) {
                    return Err(StoreError::forbidden(
                        "case.role",
                        "Only the department's reviewers and managers decide a case.",
                        "只有部门审核人员或管理人员可以作出办理决定。",
                    ));
                }
                let flow = c
                    .opt(
                        "SELECT id FROM cases WHERE id = $1 AND workflow_id IS NOT NULL",
                        args![id],
                    )
                    .await?;
                if flow.is_some() {
                    return Err(StoreError::conflict(
                        "case.has_workflow",
                        "This case is decided through its workflow's decision stage.",
                        "该办件按办理流程在决定环节作出决定。",
                    ));
                }
                let (next, _) = apply(
                    &state_of(&row),
                    &CaseCommand::Decide {
                        approve,
                        reason: reason.clone(),
                    },
                )?;
                crate::cases::buckets::bucket_delta(c, id, -1).await?;
                set_status_completed(c, &row, next.status).await?;
                set_decision_reason(c, id, reason.clone()).await?;
                record_conclusion(c, id, &cal, today, Some(actor.account_id)).await?;
                let detail = if approve {
                    format!("approved {reason}")
                } else {
                    format!("denied: {reason}")
                };
                audit_case(
                    c,
                    &actor,
                    "case.decide",
                    row.number.as_deref(),
                    row.status,
                    next.status,
                    detail.trim().to_string(),
                )
                .await?;
                Ok(next.status)
            })
        })
        .await
    }

    /// On-time statistics of concluded cases, grouped as asked, inside the actor's region.
    pub async fn on_time_stats(
        &self,
        actor: &Actor,
        by: GroupBy,
        scope: &StatsScope,
    ) -> Result<Vec<OnTimeRow>> {
        let ActorKind::Staff { region, .. } = &actor.kind else {
            return Err(StoreError::forbidden(
                "stats.staff_only",
                "Statistics are for staff.",
                "统计仅供工作人员查看。",
            ));
        };
        let within = match &scope.region {
            Some(r) if region.contains(r) => r.clone(),
            Some(_) => {
                return Err(StoreError::forbidden(
                    "stats.region",
                    "That region is outside yours.",
                    "该区划不在您的管辖范围内。",
                ))
            }
            None => region.clone(),
        };
        let (key, name, join) = by.sql();
        let sql = format!(
            "SELECT {key} AS k, {name} AS name, COUNT(*) AS n, CAST(SUM(c.within_internal) AS BIGINT) AS wi, \
             CAST(SUM(c.within_promised) AS BIGINT) AS wp, CAST(SUM(c.within_legal) AS BIGINT) AS wl, CAST(SUM(c.days_used) AS BIGINT) AS du \
             FROM cases c {join} WHERE c.concluded_on >= $1 AND c.concluded_on <= $2 AND c.region >= $3 AND c.region < $4 \
             GROUP BY {key} ORDER BY {key}"
        );
        let rows = self.grouped(&sql, Some(&within), scope).await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("n")?;
                let wp: i64 = r.try_get("wp")?;
                Ok(OnTimeRow {
                    key: r.try_get("k")?,
                    name: r.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                    concluded: n,
                    within_internal: r.try_get("wi")?,
                    within_promised: wp,
                    within_legal: r.try_get("wl")?,
                    on_time_rate: rate(wp, n),
                    average_days: rate(r.try_get("du")?, n),
                })
            })
            .collect()
    }

    /// The public 办件公示: per department and item, cases concluded, the share within the
    /// promised limit and the average working days. No personal data; anyone may read it.
    pub async fn public_performance(&self, scope: &StatsScope) -> Result<Vec<PublicRow>> {
        let sql = "SELECT c.department AS dep, MAX(d.name) AS dep_name, c.item_code AS item, MAX(i.name) AS item_name, COUNT(*) AS n, \
             CAST(SUM(c.within_promised) AS BIGINT) AS wp, CAST(SUM(c.days_used) AS BIGINT) AS du \
             FROM cases c LEFT JOIN departments d ON d.code = c.department LEFT JOIN items i ON i.code = c.item_code \
             WHERE c.concluded_on >= $1 AND c.concluded_on <= $2 AND c.region >= $3 AND c.region < $4 \
             GROUP BY c.department, c.item_code ORDER BY c.department, c.item_code";
        let rows = self.grouped(sql, scope.region.as_ref(), scope).await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("n")?;
                let wp: i64 = r.try_get("wp")?;
                Ok(PublicRow {
                    department: r.try_get("dep")?,
                    department_name: r
                        .try_get::<Option<String>, _>("dep_name")?
                        .unwrap_or_default(),
                    item_code: r.try_get("item")?,
                    item_name: r
                        .try_get::<Option<String>, _>("item_name")?
                        .unwrap_or_default(),
                    concluded: n,
                    within_promised: wp,
                    on_time_rate: rate(wp, n),
                    average_days: rate(r.try_get("du")?, n),
                })
            })
            .collect()
    }

    /// Runs a grouping over concluded cases of `region` (all regions when none) in the period.
    async fn grouped(
        &self,
        sql: &str,
        region: Option<&RegionCode>,
        scope: &StatsScope,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        let (lo, hi) = region.map_or_else(
            || ("0".to_string(), ":".to_string()),
            RegionCode::code_range,
        );
        let from = scope
            .from
            .map_or_else(|| "0000-01-01".to_string(), |d| d.to_string());
        let to = scope
            .to
            .map_or_else(|| "9999-12-31".to_string(), |d| d.to_string());
        Ok(sqlx::query(sql)
            .bind(from)
            .bind(to)
            .bind(lo)
            .bind(hi)
            .fetch_all(self.pool())
            .await?)
    }
}
