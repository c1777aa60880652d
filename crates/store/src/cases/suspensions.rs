//! Special procedures (特别程序): expert review, hearing, testing, inspection … stop the clock.
//! Resuming moves every deadline by exactly the working days the procedure took.

use crate::args;
use crate::cases::change::audit_case;
use crate::cases::row::load;
use crate::cases::row::state_of;
use crate::cases::write::set_status;
use crate::{Result, Store, StoreError};
use sqlx::Row;
use yichuang_core::calendar::parse_date;
use yichuang_core::deadline::Deadlines;
use yichuang_core::{apply, Actor, ActorKind, CaseCommand, CaseStatus, Permission, Role};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Suspension {
    pub id: i64,
    /// GB/T 39046 A.7: 1 延长审批, 2 other special procedures.
    pub kind: String,
    pub name: String,
    pub reason: String,
    pub started_on: String,
    pub ended_on: Option<String>,
    pub working_days: Option<i64>,
}

/// Window and department staff in the case's region may start and end a special procedure.
fn may_stop_clock(actor: &Actor, region: &str) -> bool {
    matches!(&actor.kind, ActorKind::Staff { role, .. } if matches!(role, Role::Clerk | Role::Reviewer | Role::Manager))
        && actor.may_in(Permission::ReadCases, region)
        || matches!(actor.kind, ActorKind::System)
}

impl Store {
    /// Starts a special procedure on `today` (the hall's local date).
    pub async fn suspend(
        &self,
        actor: &Actor,
        id: i64,
        kind: &str,
        name: &str,
        reason: &str,
        today: time::Date,
    ) -> Result<()> {
        if !matches!(kind, "1" | "2") {
            return Err(StoreError::invalid(
                "suspension.kind",
                "kind must be 1 (extension) or 2 (other special procedure), GB/T 39046 A.7.",
                "特别程序种类应为1（延长审批）或2（其他）。",
            ));
        }
        if name.trim().is_empty() {
            return Err(StoreError::invalid(
                "suspension.name",
                "Name the procedure (expert review, hearing, testing …).",
                "请填写特别程序名称（专家评审、听证、检验等）。",
            ));
        }
        let (actor, kind, name, reason) = (
            actor.clone(),
            kind.to_string(),
            name.trim().to_string(),
            reason.trim().to_string(),
        );
        self.write(move |c| {
            Box::pin(async move {
                let row = load(c, id).await?;
                if !actor.may_in(Permission::ReadCases, &row.region) {
                    return Err(StoreError::no_case());
                }
                if !may_stop_clock(&actor, &row.region) {
                    return Err(StoreError::forbidden("case.role", "Your role cannot start a special procedure.", "您的角色不能启动特别程序。"));
                }
                let (next, _) = apply(&state_of(&row), &CaseCommand::Suspend { reason: reason.clone() })?;
                crate::cases::buckets::bucket_delta(c, id, -1).await?;
                set_status(c, &row, next.status).await?;
                c.exec(
                    "INSERT INTO suspensions (case_id, kind, name, reason, resume_to, started_on, started_by, started_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                    args![id, &kind, &name, &reason, row.status.as_str(), today.to_string(), actor.account_id, crate::now_ms()],
                )
                .await?;
                audit_case(c, &actor, "case.suspend", row.number.as_deref(), row.status, next.status, format!("{kind} {name}: {reason}")).await
            })
        })
        .await
    }

    /// Ends the open special procedure on `today`; returns the working days it stopped the clock.
    pub async fn resume(&self, actor: &Actor, id: i64, today: time::Date) -> Result<i64> {
        let cal = self.case_calendar(id).await?;
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let row = load(c, id).await?;
                if !actor.may_in(Permission::ReadCases, &row.region) {
                    return Err(StoreError::no_case());
                }
                if !may_stop_clock(&actor, &row.region) {
                    return Err(StoreError::forbidden("case.role", "Your role cannot end a special procedure.", "您的角色不能结束特别程序。"));
                }
                let open = c
                    .opt("SELECT id, resume_to, started_on FROM suspensions WHERE case_id = $1 AND ended_on IS NULL ORDER BY id DESC", args![id])
                    .await?;
                let Some(open) = open else {
                    return Err(yichuang_core::DomainError::InvalidTransition { from: row.status, action: "resume" }.into());
                };
                let to = CaseStatus::parse(&open.str("resume_to")?).unwrap_or(CaseStatus::Accepted);
                let (next, _) = apply(&state_of(&row), &CaseCommand::Resume { to })?;
                let started = parse_date(&open.str("started_on")?).map_err(|e| StoreError::Unavailable(e.to_string()))?;
                if today < started {
                    return Err(StoreError::invalid("suspension.end_before_start", "A special procedure cannot end before it started.", "特别程序的结束日期不能早于开始日期。"));
                }
                let k = cal.working_days_between(started, today);
                let dates = c
                    .one("SELECT accepted_on, stopped_days, alerted FROM cases WHERE id = $1", args![id])
                    .await?;
                let stopped = dates.i64("stopped_days")? + k;
                set_status(c, &row, next.status).await?;
                if let Some(acc) = dates.opt_str("accepted_on")? {
                    let acc = parse_date(&acc).map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    let d = Deadlines::compute(&cal, acc, &row.item.limits(), stopped)
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    let next_alert = d.next_alert(dates.i64("alerted")?.clamp(0, 3) as u8).map(|x| x.to_string());
                    crate::cases::write::shift_deadlines(c, id, stopped, &d, next_alert).await?;
                }
                c.exec(
                    "UPDATE suspensions SET ended_on = $1, working_days = $2, ended_by = $3, ended_at = $4 WHERE id = $5",
                    args![today.to_string(), k, actor.account_id, crate::now_ms(), open.i64("id")?],
                )
                .await?;
                crate::flows::run::shift_due(c, id, &cal, k).await?;
                crate::flows::run::shift_due(c, id, &cal, k).await?;
                crate::cases::buckets::bucket_delta(c, id, 1).await?;
                audit_case(c, &actor, "case.resume", row.number.as_deref(), row.status, next.status, format!("clock stopped {k} working days")).await?;
                Ok(k)
            })
        })
        .await
    }

    pub async fn suspensions(&self, case_id: i64) -> Result<Vec<Suspension>> {
        let mut out = Vec::new();
        for r in sqlx::query("SELECT id, kind, name, reason, started_on, ended_on, working_days FROM suspensions WHERE case_id = $1 ORDER BY id")
            .bind(case_id)
            .fetch_all(self.pool())
            .await?
        {
            out.push(Suspension {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                name: r.try_get("name")?,
                reason: r.try_get("reason")?,
                started_on: r.try_get("started_on")?,
                ended_on: r.try_get("ended_on")?,
                working_days: r.try_get("working_days")?,
            });
        }
        Ok(out)
    }
}
