//! Workflow persistence: a case's flow is its `tasks` rows plus `flow_stage` and
//! `flow_result` on the case; the stages are the snapshot taken at acceptance. Each command
//! loads the flow, asks `core::workflow::step`, writes the rows that changed (guarded by
//! their old state, so two servers racing on one task cannot both win) and its audit record,
//! in one transaction. When the flow finishes, the case concludes (办结) in the same one.

use crate::args;
use crate::cases::change::audit_case;
use crate::db::tx::Tx;
use crate::flows::load::load;
use crate::flows::load::Loaded;
use crate::flows::save::flow_columns;
use crate::flows::save::save;
use crate::{Result, StoreError};
use yichuang_core::calendar::{parse_date, Calendar};
use yichuang_core::workflow::{
    step, Ctx, Flow, FlowCommand, FlowError, FlowEvent, Stage, StageKind,
};
use yichuang_core::{apply, Actor, CaseCommand, CaseState, CaseStatus};

/// A one-line account of what a step did, for the audit detail and the timeline.
fn describe(events: &[FlowEvent], stages: &[Stage], next: &Flow) -> String {
    events
        .iter()
        .map(|e| match e {
            FlowEvent::StageStarted { stage, .. } => {
                format!("stage {} {} started", stage + 1, stages[*stage].title())
            }
            FlowEvent::Claimed { task, .. } => format!("task {task} claimed"),
            FlowEvent::Proposed { task, consent, .. } => format!(
                "task {task} proposed {}",
                if *consent { "consent" } else { "denial" }
            ),
            FlowEvent::Answered { task, consent, .. } => format!(
                "{} {}",
                next.tasks[*task].department,
                if *consent { "consents" } else { "denies" }
            ),
            FlowEvent::Approved { task, .. } => format!("task {task} approved"),
            FlowEvent::Returned { task, .. } => format!("task {task} returned"),
            FlowEvent::DefaultConsent { task } => format!(
                "{} silent past {}: consent by default",
                next.tasks[*task].department, next.tasks[*task].due
            ),
            FlowEvent::Transferred { from, to, .. } => format!("transferred {from} -> {to}"),
            FlowEvent::TaskWithdrawn { task } => format!("task {task} withdrawn"),
            FlowEvent::StageCompleted { stage, consent } => format!(
                "stage {} {} {}",
                stage + 1,
                stages[*stage].title(),
                if *consent { "passed" } else { "denied" }
            ),
            FlowEvent::Finished { approved } => {
                (if *approved { "approved" } else { "denied" }).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs one command on a case's flow inside the caller's transaction; concludes the case when
/// the flow finishes. Returns the events and the row ids by position.
pub(crate) async fn run(
    c: &mut dyn Tx,
    actor: &Actor,
    case_id: i64,
    cmd: FlowCommand,
    cal: &Calendar,
    today: time::Date,
) -> Result<(Vec<FlowEvent>, Vec<i64>)> {
    // The case row's lock orders commands on one case: two departments answering at the same
    // moment must not both see the other's task still open (and leave the stage unfinished).
    // The SQLite writer runs one command at a time, so there it needs none.
    if !c.serial() {
        c.opt(
            "SELECT id FROM cases WHERE id = $1 FOR UPDATE",
            args![case_id],
        )
        .await?
        .ok_or_else(StoreError::no_case)?;
    }
    let l = load(c, case_id).await?;
    run_loaded(c, actor, case_id, l, cmd, cal, today).await
}

/// [`run`] on the case's workflow as loaded in this transaction (after the lock, if any).
pub(crate) async fn run_loaded(
    c: &mut dyn Tx,
    actor: &Actor,
    case_id: i64,
    loaded: Option<Loaded>,
    cmd: FlowCommand,
    cal: &Calendar,
    today: time::Date,
) -> Result<(Vec<FlowEvent>, Vec<i64>)> {
    let Some(l) = loaded else {
        return Err(FlowError::NotStarted.into());
    };
    let (action, note) = match &cmd {
        FlowCommand::Start => ("flow.start", ""),
        FlowCommand::Claim { .. } => ("task.claim", ""),
        FlowCommand::Answer { opinion, .. } => ("task.answer", opinion.as_str()),
        FlowCommand::Approve { .. } => ("task.approve", ""),
        FlowCommand::Return { reason, .. } => ("task.return", reason.as_str()),
        FlowCommand::Transfer { reason, .. } => ("task.transfer", reason.as_str()),
        FlowCommand::Tick => ("task.default_consent", ""),
        FlowCommand::Cancel => ("flow.cancel", ""),
    };
    if l.status == CaseStatus::Suspended && !matches!(cmd, FlowCommand::Cancel) {
        return Err(StoreError::conflict(
            "case.suspended",
            "The clock is stopped by a special procedure; end it first.",
            "办件处于特别程序中，请先结束特别程序。",
        ));
    }
    let ctx = Ctx {
        stages: &l.stages,
        department: &l.department,
        calendar: cal,
        today,
    };
    let (next, events) = step(&ctx, &l.flow, &cmd)?;
    if events.is_empty() {
        return Ok((events, l.ids));
    }
    let opinion = match &cmd {
        FlowCommand::Answer {
            task,
            opinion,
            legal_basis,
            ..
        } => Some((*task, opinion.as_str(), legal_basis.as_str())),
        _ => None,
    };
    let finished = events.iter().find_map(|e| match e {
        FlowEvent::Finished { approved } => Some(*approved),
        _ => None,
    });
    let concludes = finished.is_some() && !matches!(cmd, FlowCommand::Cancel);
    // A concluding step writes the flow's end with the case's status, in one UPDATE.
    let ids = save(c, case_id, &l.region, &l, &next, opinion, !concludes).await?;
    if let FlowCommand::Transfer { task, to, reason } = &cmd {
        c.exec(
            "INSERT INTO task_transfers (task_id, case_id, region, from_department, to_department, reason, by_id, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            args![ids[*task], case_id, &l.region, &l.flow.tasks[*task].department, to, reason.trim(), actor.account_id, crate::now_ms()],
        )
        .await?;
    }
    let mut detail = describe(&events, &l.stages, &next);
    if !note.trim().is_empty() {
        detail = format!("{detail}: {}", note.trim());
    }
    match finished {
        Some(approve) if concludes => {
            // 办结: the case concludes with the decision's opinion, in this transaction.
            let reason = decision_reason(c, case_id, &l, &cmd, opinion).await?;
            let state = CaseState {
                status: l.status,
                immediate: false,
                corrections_issued: 0,
            };
            let (st, _) = apply(
                &state,
                &CaseCommand::Decide {
                    approve,
                    reason: reason.clone(),
                },
            )?;
            let by = Some(actor.account_id).filter(|id| *id > 0);
            crate::cases::conclude::conclude_flow(
                c,
                case_id,
                st.status,
                reason.trim(),
                flow_columns(&next),
                by,
                (cal, today),
            )
            .await?;
            audit_case(
                c,
                actor,
                action,
                l.number.as_deref(),
                l.status,
                st.status,
                detail,
            )
            .await?;
            return Ok((events, ids));
        }
        _ => {
            audit_case(
                c,
                actor,
                action,
                l.number.as_deref(),
                l.status,
                l.status,
                detail,
            )
            .await?
        }
    }
    Ok((events, ids))
}

/// A withdrawn case's open tasks are withdrawn with it (nothing to do without a flow).
pub(crate) async fn cancel(c: &mut dyn Tx, actor: &Actor, case_id: i64) -> Result<()> {
    let started: Option<i64> = c
        .one("SELECT flow_stage FROM cases WHERE id = $1", args![case_id])
        .await?
        .opt_i64("flow_stage")?;
    let finished = c
        .one(
            "SELECT flow_result FROM cases WHERE id = $1",
            args![case_id],
        )
        .await?
        .opt_i64("flow_result")?
        .is_some();
    if started.is_none() || finished {
        return Ok(());
    }
    let cal =
        Calendar::new(std::iter::empty()).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    run(
        c,
        actor,
        case_id,
        FlowCommand::Cancel,
        &cal,
        time::OffsetDateTime::now_utc().date(),
    )
    .await?;
    Ok(())
}

/// A special procedure stopped the clock for `k` working days: every open task's due date
/// moves by as many.
pub(crate) async fn shift_due(c: &mut dyn Tx, case_id: i64, cal: &Calendar, k: i64) -> Result<()> {
    if k <= 0 {
        return Ok(());
    }
    for t in c
        .query(
            "SELECT id, due_on FROM tasks WHERE case_id = $1 AND state IN ('open', 'claimed', 'proposed')",
            args![case_id],
        )
        .await?
    {
        let due = parse_date(&t.str("due_on")?).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let moved = cal.add_working_days(due, k).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        c.exec("UPDATE tasks SET due_on = $1 WHERE id = $2", args![moved.to_string(), t.i64("id")?]).await?;
    }
    Ok(())
}

/// The reasons a concluding step decides with: the decision's opinion (and its legal basis).
/// When this very command answered the decision, that opinion is at hand.
async fn decision_reason(
    c: &mut dyn Tx,
    case_id: i64,
    l: &Loaded,
    cmd: &FlowCommand,
    opinion: Option<(usize, &str, &str)>,
) -> Result<String> {
    let answered = match (cmd, opinion) {
        (FlowCommand::Answer { .. }, Some((task, text, basis)))
            if l.flow.tasks.get(task).is_some_and(|t| {
                l.stages.get(t.stage).map(|s| s.kind) == Some(StageKind::Decision)
            }) =>
        {
            Some((text.trim().to_string(), basis.trim().to_string()))
        }
        _ => None,
    };
    let d = match answered {
        Some(d) => Some(d),
        None => c
            .opt(
                "SELECT opinion, legal_basis FROM tasks WHERE case_id = $1 AND stage_kind = 'decision' AND state = 'done' ORDER BY seq DESC",
                args![case_id],
            )
            .await?
            .map(|d| Ok::<_, StoreError>((d.str("opinion")?, d.str("legal_basis")?)))
            .transpose()?,
    };
    let reason = match d {
        Some((text, basis)) if basis.is_empty() => text,
        Some((text, basis)) => format!("{text}（{basis}）"),
        None => String::new(),
    };
    Ok(reason)
}
