//! The window: a clerk's verdicts on materials, then accept, reject, one correction notice, or
//! completion on the spot.

use crate::args;
use crate::cases::change::audit_case;
use crate::cases::row::load;
use crate::cases::row::state_of;
use crate::cases::row::Row0;
use crate::cases::types::MaterialCheck;
use crate::cases::types::WindowDecision;
use crate::cases::write::{window_decision as window_decision_row, WindowWrite};
use crate::db::tx::Tx;
use crate::{now_ms, Result, Store, StoreError};
use yichuang_core::calendar::Calendar;
use yichuang_core::deadline::Deadlines;
use yichuang_core::{apply, Actor, CaseCommand, CaseStatus, Permission, Verdict};

impl Store {
    /// A clerk's verdicts on materials, then an optional decision, in one transaction.
    pub async fn window_decision(
        &self,
        actor: &Actor,
        id: i64,
        checks: Vec<MaterialCheck>,
        decision: Option<WindowDecision>,
    ) -> Result<CaseStatus> {
        let actor = actor.clone();
        let today = self.today();
        // Acceptance fixes the deadlines, counted on the case region's calendar.
        let cal = match decision {
            Some(WindowDecision::Accept | WindowDecision::CompleteOnSpot) => {
                Some(self.case_calendar(id).await?)
            }
            _ => None,
        };
        self.write(move |c| {
            Box::pin(async move {
                decide_in(c, &actor, id, checks, decision, cal.as_deref(), today).await
            })
        })
        .await
    }
}

pub(crate) async fn decide_in(
    c: &mut dyn Tx,
    actor: &Actor,
    id: i64,
    checks: Vec<MaterialCheck>,
    decision: Option<WindowDecision>,
    cal: Option<&Calendar>,
    today: time::Date,
) -> Result<CaseStatus> {
    let row = load(c, id).await?;
    if !actor.may_in(Permission::ReadCases, &row.region) {
        return Err(StoreError::no_case());
    }
    if !actor.may_in(Permission::Accept, &row.region) {
        return Err(StoreError::forbidden(
            "case.role",
            "Your role cannot act at the window.",
            "您的角色不能进行窗口受理。",
        ));
    }
    let now = now_ms();
    if !checks.is_empty() && row.status != CaseStatus::Submitted {
        return Err(yichuang_core::DomainError::InvalidTransition {
            from: row.status,
            action: "check",
        }
        .into());
    }
    record_checks(c, actor, &row, &checks, today, now).await?;
    // With a decision following, its audit record carries the verdicts too.
    if !checks.is_empty() && decision.is_none() {
        audit_case(
            c,
            actor,
            "case.check_materials",
            row.number.as_deref(),
            row.status,
            row.status,
            checks
                .iter()
                .map(|c| format!("{}={}", c.material_code, c.verdict))
                .collect::<Vec<_>>()
                .join(","),
        )
        .await?;
    }
    let Some(decision) = decision else {
        return Ok(row.status);
    };
    let stored: Vec<MaterialCheck> = c.query("SELECT material_code, verdict, reason, due_date FROM material_checks WHERE case_id = $1", args![id])
    .await?
    .iter()
    .map(|r| {
        Ok(MaterialCheck {
            material_code: r.try_get("material_code")?,
            verdict: r.try_get("verdict")?,
            reason: r.try_get("reason")?,
            due_date: r.try_get("due_date")?,
        })
    })
    .collect::<Result<_>>()?;
    let verdict_of = |code: &str| {
        stored
            .iter()
            .find(|c| c.material_code == code)
            .and_then(|c| Verdict::parse(&c.verdict))
    };
    let problems: Vec<MaterialCheck> = stored
        .iter()
        .filter(|c| {
            matches!(
                Verdict::parse(&c.verdict),
                Some(Verdict::Missing | Verdict::Wrong)
            )
        })
        .cloned()
        .collect();
    let (cmd, action) = match &decision {
        WindowDecision::Accept => {
            if let Some(p) = problems.first() {
                return Err(StoreError::invalid(
                    "case.materials_not_ok",
                    format!(
                        "Material {} is marked {}; issue a correction notice instead.",
                        p.material_code, p.verdict
                    ),
                    "仍有材料缺少或有误，请出具一次性补正告知书。",
                ));
            }
            if let Some(m) = row.item.materials.iter().find(|m| {
                row.item.must_submit(m, row.commitment_signed) && verdict_of(&m.code).is_none()
            }) {
                return Err(StoreError::invalid(
                    "case.materials_unchecked",
                    format!("Check every required material first: {}.", m.name),
                    format!("请先审查全部必交材料：{}。", m.name),
                ));
            }
            let deferred = stored.iter().filter(|c| c.verdict == "deferred").count() as u32;
            (CaseCommand::Accept { deferred }, "case.accept")
        }
        WindowDecision::Reject { reason } => (
            CaseCommand::Reject {
                reason: reason.clone(),
            },
            "case.reject",
        ),
        WindowDecision::Corrections { note } => {
            let n = problems.len() as u32 + u32::from(!note.trim().is_empty());
            (
                CaseCommand::NotifyCorrections { problems: n },
                "case.notify_corrections",
            )
        }
        WindowDecision::CompleteOnSpot => (CaseCommand::CompleteOnSpot, "case.complete"),
    };
    let mut st = state_of(&row);
    // 即办件: accept and complete at once when asked to complete a submitted case.
    let mut cmds = vec![cmd.clone()];
    if matches!(decision, WindowDecision::CompleteOnSpot) && row.status == CaseStatus::Submitted {
        if !problems.is_empty() {
            return Err(StoreError::invalid(
                "case.materials_not_ok",
                "Some materials are missing or wrong.",
                "仍有材料缺少或有误。",
            ));
        }
        cmds.insert(0, CaseCommand::Accept { deferred: 0 });
    }
    for cm in &cmds {
        st = apply(&st, cm)?.0;
    }
    // An item with a workflow goes straight into its first stage on acceptance.
    let flow = matches!(decision, WindowDecision::Accept) && !row.item.workflow.is_empty();
    if flow {
        st = apply(&st, &CaseCommand::OpenStage)?.0;
    }
    let reason = match &decision {
        WindowDecision::Reject { reason } => reason.trim().to_string(),
        _ => String::new(),
    };
    let deadlines = match (cal, &decision) {
        (Some(cal), WindowDecision::Accept | WindowDecision::CompleteOnSpot) => Some(
            Deadlines::compute(cal, today, &row.item.limits(), 0)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
        ),
        _ => None,
    };
    let due = |f: fn(&Deadlines) -> time::Date| deadlines.as_ref().map(|d| f(d).to_string());
    // 容缺: a deferred material is due no later than the promised completion date.
    if let Some(d) = &deadlines {
        let promised = d.promised.to_string();
        if let Some(late) = stored.iter().find(|k| {
            k.verdict == "deferred"
                && k.due_date
                    .as_deref()
                    .is_some_and(|due| due > promised.as_str())
        }) {
            return Err(StoreError::invalid(
                "check.due_after_promised",
                format!("The deferred material {} is due after the promised completion date {promised}.", late.material_code),
                format!("容缺材料 {} 的补交日期晚于承诺办结日期 {promised}。", late.material_code),
            ));
        }
    }
    // The first stage is worked out now (its snapshot found or stored), after every check
    // that could refuse the acceptance, and written with the status.
    let begun = match (flow, cal) {
        (true, Some(cal)) => Some(
            crate::flows::save::Begun::new(
                c,
                &row.region,
                &row.item.department,
                &row.item.workflow,
                cal,
                today,
            )
            .await?,
        ),
        _ => None,
    };
    let write = match &decision {
        WindowDecision::Accept => WindowWrite::Accept {
            dated: deadlines.is_some(),
            flow: begun.is_some(),
        },
        WindowDecision::Reject { .. } => WindowWrite::Reject,
        WindowDecision::Corrections { .. } => WindowWrite::Corrections,
        WindowDecision::CompleteOnSpot => WindowWrite::CompleteOnSpot {
            accepted_too: cmds.len() == 2,
            dated: deadlines.is_some(),
        },
    };
    let (flow_stage, flow_result, workflow_id) = match begun.as_ref().map(|b| b.case_columns()) {
        Some((stage, result, workflow)) => (Some(stage), result, Some(workflow)),
        None => (None, None, None),
    };
    // The supervision buckets follow the case: out of its old bucket (only an open case is
    // in one), into its new one.
    if matches!(row.status, CaseStatus::Accepted | CaseStatus::InStage) {
        crate::cases::buckets::bucket_delta(c, id, -1).await?;
    }
    let done = window_decision_row(
        c,
        write,
        args![
            st.status.as_str(),
            now,
            id,
            row.version,
            actor.account_id,
            reason.clone(),
            due(|d| d.accepted_on),
            due(|d| d.internal),
            due(|d| d.promised),
            due(|d| d.legal),
            due(|d| d.yellow_from),
            flow_stage,
            flow_result,
            workflow_id
        ],
    )
    .await?;
    if done != 1 {
        return Err(StoreError::conflict(
            "case.changed",
            "The case was changed by someone else; reload and try again.",
            "办件已被他人更新，请刷新后重试。",
        ));
    }
    crate::cases::buckets::bucket_delta(c, id, 1).await?;
    if let (WindowDecision::CompleteOnSpot, Some(cal)) = (&decision, cal) {
        crate::cases::conclude::record_conclusion(c, id, cal, today, Some(actor.account_id))
            .await?;
    }
    if let Some(begun) = begun {
        crate::flows::save::start(c, id, begun).await?;
    }
    if let WindowDecision::Corrections { note } = &decision {
        c.exec("INSERT INTO correction_notices (case_id, issued_by, issued_at, problems, note) VALUES ($1,$2,$3,$4,$5)", args![id, actor.account_id, now, serde_json::to_string(&problems).unwrap_or_else(|_| "[]".into()), note.trim()])
            .await?;
        // The next round starts from a clean sheet for the materials that were wrong.
        c.exec(
            "DELETE FROM material_checks WHERE case_id = $1 AND verdict IN ('missing','wrong')",
            args![id],
        )
        .await?;
    }
    let verdicts = checks
        .iter()
        .map(|c| format!("{}={}", c.material_code, c.verdict))
        .collect::<Vec<_>>()
        .join(",");
    let detail = match (reason.is_empty(), verdicts.is_empty()) {
        (true, _) => verdicts,
        (false, true) => reason,
        (false, false) => format!("{reason}; {verdicts}"),
    };
    audit_case(
        c,
        actor,
        action,
        row.number.as_deref(),
        row.status,
        st.status,
        detail,
    )
    .await?;
    Ok(st.status)
}

/// Records a clerk's verdicts on materials, each checked against the item first.
async fn record_checks(
    c: &mut dyn Tx,
    actor: &Actor,
    row: &Row0,
    checks: &[MaterialCheck],
    today: time::Date,
    now: i64,
) -> Result<()> {
    let id = row.id;
    for ch in checks {
        let Some(m) = row.item.material(&ch.material_code) else {
            return Err(StoreError::invalid(
                "material.unknown",
                format!("material: the item has no material '{}'.", ch.material_code),
                format!("材料：该事项没有材料“{}”。", ch.material_code),
            ));
        };
        let Some(v) = Verdict::parse(&ch.verdict) else {
            return Err(StoreError::invalid(
                "check.verdict",
                "verdict must be ok, missing, wrong or deferred.",
                "审查结论应为合格、缺少、有误或容缺。",
            ));
        };
        if matches!(v, Verdict::Missing | Verdict::Wrong) && ch.reason.trim().is_empty() {
            return Err(StoreError::invalid(
                "check.reason_required",
                format!("Give the reason for '{}'.", m.name),
                format!("请写明“{}”的问题。", m.name),
            ));
        }
        if v == Verdict::Deferred {
            if !m.deferrable {
                return Err(StoreError::invalid(
                    "check.not_deferrable",
                    format!("'{}' is a main material and cannot be deferred.", m.name),
                    format!("“{}”为主要材料，不能容缺。", m.name),
                ));
            }
            let due = ch.due_date.as_deref().and_then(|d| {
                time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()
            });
            match due {
                Some(d) if d > today => {}
                _ => {
                    return Err(StoreError::invalid(
                        "check.due_date",
                        "A deferred material needs a due date after today (YYYY-MM-DD).",
                        "容缺材料须填写今天以后的补交日期。",
                    ))
                }
            }
        }
        c.exec("INSERT INTO material_checks (case_id, material_code, verdict, reason, due_date, checked_by, checked_at) VALUES ($1,$2,$3,$4,$5,$6,$7) \
             ON CONFLICT (case_id, material_code) DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason, due_date = excluded.due_date, checked_by = excluded.checked_by, checked_at = excluded.checked_at", args![id, &ch.material_code, v.as_str(), ch.reason.trim(), if v == Verdict::Deferred { ch.due_date.clone() } else { None }, actor.account_id, now])
        .await?;
    }
    Ok(())
}
