//! Workflow persistence: a case's flow is its `tasks` rows plus `flow_stage` and
//! `flow_result` on the case; the stages are the snapshot taken at acceptance. Each command
//! loads the flow, asks `core::workflow::step`, writes the rows that changed (guarded by
//! their old state, so two servers racing on one task cannot both win) and its audit record,
//! in one transaction. When the flow finishes, the case concludes (办结) in the same one.

use crate::args;
use crate::cases::{audit_case, Page};
use crate::tx::Tx;
use crate::{Result, Store, StoreError};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use yichuang_core::calendar::{parse_date, Calendar};
use yichuang_core::workflow::{
    step, Ctx, Flow, FlowCommand, FlowError, FlowEvent, Stage, StageKind, Task, TaskState,
};
use yichuang_core::{
    apply, Actor, ActorKind, CaseCommand, CaseState, CaseStatus, Permission, Role,
};

impl From<FlowError> for StoreError {
    fn from(e: FlowError) -> Self {
        let (en, zh) = match &e {
            FlowError::NotStarted => ("The workflow has not started.", "办理流程尚未开始。"),
            FlowError::AlreadyStarted => ("The workflow has started already.", "办理流程已开始。"),
            FlowError::Finished => ("The workflow is over.", "办理流程已结束。"),
            FlowError::UnknownTask => ("No such task.", "未找到该任务。"),
            FlowError::NotCurrent => (
                "That task is not in the current stage.",
                "该任务不在当前环节。",
            ),
            FlowError::AlreadyAnswered => {
                ("That task has been answered already.", "该任务已办理。")
            }
            FlowError::ClaimedByOther => (
                "Someone else has claimed that task.",
                "该任务已被他人认领。",
            ),
            FlowError::SameAsProposer => (
                "The approver must not be the proposer (A/B review).",
                "审核人（B角）不能与承办人（A角）为同一人。",
            ),
            FlowError::NotProposed => (
                "There is no proposal to approve or return.",
                "尚无待审核的拟办意见。",
            ),
            FlowError::ReasonRequired => ("Give the reason.", "请填写理由。"),
            FlowError::LegalBasisRequired => (
                "A denial needs its legal basis.",
                "不予许可须写明法律依据。",
            ),
            FlowError::BadTransfer => ("Transfer to another department.", "请转交其他部门。"),
            FlowError::Calendar(_) => (
                "The calendar cannot count that far.",
                "工作日历无法计算该期限。",
            ),
        };
        let code = e.code();
        if e.is_conflict() {
            StoreError::conflict(code, en, zh)
        } else {
            StoreError::invalid(code, en, zh)
        }
    }
}

/// What a staff member does with a task.
#[derive(Debug, Clone)]
pub enum TaskAction {
    Claim,
    Answer {
        consent: bool,
        opinion: String,
        legal_basis: String,
    },
    Approve,
    Return {
        reason: String,
    },
    Transfer {
        department: String,
        reason: String,
    },
}

/// What a task action did: the engine's events and the tasks it opened (row ids), so that
/// a client can go on without reading the case again.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskOutcome {
    pub events: Vec<FlowEvent>,
    pub opened: Vec<i64>,
}

/// A task as its inbox and the case's flow view show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskView {
    pub id: i64,
    pub case_id: i64,
    pub case_number: Option<String>,
    pub item_name: String,
    pub stage: i64,
    pub stage_kind: String,
    pub stage_name: String,
    pub department: String,
    pub department_name: String,
    pub role: String,
    pub ab: bool,
    /// Silence past the due date counts as consent (缺席默认).
    pub silence_consents: bool,
    pub due_on: String,
    /// open | claimed | proposed | done | cancelled
    pub state: String,
    pub consent: Option<bool>,
    pub by_default: bool,
    pub claimed_by: Option<i64>,
    pub proposed_by: Option<i64>,
    pub answered_by: Option<i64>,
    pub handler_name: Option<String>,
    pub opinion: String,
    pub legal_basis: String,
    pub created_at: i64,
    pub done_at: Option<i64>,
    /// green | yellow | overdue against the task's own due date (open tasks only).
    pub light: Option<String>,
}

/// A task state as its columns: (state, claimed_by, proposed_by, consent, by_default,
/// answered_by).
type StateCols = (
    &'static str,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
);

fn state_cols(s: &TaskState) -> StateCols {
    match s {
        TaskState::Open => ("open", None, None, None, 0, None),
        TaskState::Claimed { by } => ("claimed", Some(*by), None, None, 0, None),
        TaskState::Proposed { by, consent } => (
            "proposed",
            Some(*by),
            Some(*by),
            Some(i64::from(*consent)),
            0,
            None,
        ),
        TaskState::Done {
            consent,
            by,
            by_default,
        } => (
            "done",
            None,
            None,
            Some(i64::from(*consent)),
            i64::from(*by_default),
            *by,
        ),
        TaskState::Cancelled => ("cancelled", None, None, None, 0, None),
    }
}

fn task_state(r: &crate::tx::Row) -> Result<TaskState> {
    let consent = r.opt_i64("consent")?.map(|c| c != 0);
    Ok(match r.str("state")?.as_str() {
        "open" => TaskState::Open,
        "claimed" => TaskState::Claimed {
            by: r.opt_i64("claimed_by")?.unwrap_or(0),
        },
        "proposed" => TaskState::Proposed {
            by: r.opt_i64("proposed_by")?.unwrap_or(0),
            consent: consent.unwrap_or(true),
        },
        "done" => TaskState::Done {
            consent: consent.unwrap_or(true),
            by: r.opt_i64("answered_by")?,
            by_default: r.i64("by_default")? != 0,
        },
        _ => TaskState::Cancelled,
    })
}

/// The case's stages and flow as stored, with each task's row id by its position.
pub(crate) struct Loaded {
    pub number: Option<String>,
    pub status: CaseStatus,
    pub region: String,
    pub department: String,
    pub stages: Arc<Vec<Stage>>,
    pub flow: Flow,
    pub ids: Vec<i64>,
}

/// Workflow snapshots parsed, by their text: a case's every step read and parsed the same JSON,
/// and cases of one item version share it. Keyed by content, so any store may share it.
static PARSED: LazyLock<Mutex<HashMap<String, Arc<Vec<Stage>>>>> = LazyLock::new(Default::default);

fn parsed(case_id: i64, def: String) -> Result<Arc<Vec<Stage>>> {
    let mut cache = PARSED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = cache.get(&def) {
        return Ok(s.clone());
    }
    let stages: Arc<Vec<Stage>> = Arc::new(
        serde_json::from_str(&def)
            .map_err(|e| StoreError::Unavailable(format!("workflow of case {case_id}: {e}")))?,
    );
    // Every catalog edit makes a new snapshot; old ones are dropped wholesale now and then.
    if cache.len() >= 256 {
        cache.clear();
    }
    cache.insert(def, stages.clone());
    Ok(stages)
}

/// The case's columns [`load_from`] reads, from `cases c LEFT JOIN workflows w`.
macro_rules! flow_case_columns {
    () => {
        "c.number, c.status, c.region AS case_region, c.department AS case_department, \
         w.stages, c.flow_stage, c.flow_result"
    };
}

pub(crate) async fn load(c: &mut dyn Tx, case_id: i64) -> Result<Option<Loaded>> {
    let r = c
        .opt(
            concat!(
                "SELECT ",
                flow_case_columns!(),
                " FROM cases c LEFT JOIN workflows w ON w.id = c.workflow_id WHERE c.id = $1"
            ),
            args![case_id],
        )
        .await?
        .ok_or_else(StoreError::no_case)?;
    let tasks = load_tasks(c, case_id).await?;
    load_from(case_id, &r, &tasks)
}

/// The case's tasks' rows in order, for [`load_from`].
async fn load_tasks(c: &mut dyn Tx, case_id: i64) -> Result<Vec<crate::tx::Row>> {
    c.query(
        "SELECT id, stage, department, role, ab, due_on, state, claimed_by, proposed_by, consent, by_default, answered_by \
         FROM tasks WHERE case_id = $1 ORDER BY seq",
        args![case_id],
    )
    .await
}

/// The workflow of a case from its row (with [`flow_case_columns`]) and its tasks' rows (from
/// [`load_tasks`]).
fn load_from(case_id: i64, r: &crate::tx::Row, tasks: &[crate::tx::Row]) -> Result<Option<Loaded>> {
    let Some(def) = r.opt_str("stages")? else {
        return Ok(None);
    };
    let stages = parsed(case_id, def)?;
    let status = r.str("status")?;
    let mut flow = Flow {
        started: r.opt_i64("flow_stage")?.is_some(),
        stage: r.opt_i64("flow_stage")?.unwrap_or(0).max(0) as usize,
        tasks: Vec::new(),
        result: r.opt_i64("flow_result")?.map(|x| x != 0),
    };
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.i64("id")?);
        flow.tasks.push(Task {
            stage: t.i64("stage")?.max(0) as usize,
            department: t.str("department")?,
            role: t.str("role")?,
            ab: t.i64("ab")? != 0,
            due: parse_date(&t.str("due_on")?)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            state: task_state(t)?,
        });
    }
    Ok(Some(Loaded {
        number: r.opt_str("number")?,
        status: CaseStatus::parse(&status)
            .ok_or_else(|| StoreError::Unavailable(format!("unknown status {status}")))?,
        region: r.str("case_region")?,
        department: r.str("case_department")?,
        stages,
        flow,
        ids,
    }))
}

/// Writes what a step changed: new tasks, changed tasks (guarded by their old state), and
/// unless the caller writes them in its own UPDATE of the case row (`case_row` false), the
/// stage and result on the case. Returns the row ids by position, new ones included.
pub(crate) async fn save(
    c: &mut dyn Tx,
    case_id: i64,
    region: &str,
    l: &Loaded,
    next: &Flow,
    opinion: Option<(usize, &str, &str)>,
    case_row: bool,
) -> Result<Vec<i64>> {
    let now = crate::now_ms();
    let mut ids = l.ids.clone();
    let mut opened = Vec::new();
    for (seq, t) in next.tasks.iter().enumerate() {
        let (state, claimed, proposed, consent, by_default, answered) = state_cols(&t.state);
        let done_at =
            matches!(t.state, TaskState::Done { .. } | TaskState::Cancelled).then_some(now);
        match l.flow.tasks.get(seq) {
            None => {
                let s = &l.stages[t.stage];
                let id = c
                    .one(
                        "INSERT INTO tasks (case_id, seq, stage, stage_kind, stage_name, region, department, role, ab, silence_consents, due_on, state, \
                         claimed_by, proposed_by, consent, by_default, answered_by, created_at, done_at) \
                         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) RETURNING id",
                        args![case_id, seq as i64, t.stage as i64, kind_str(s.kind), s.title(), region, &t.department, &t.role, i64::from(t.ab),
                            i64::from(s.silence_consents), t.due.to_string(), state, claimed, proposed, consent, by_default, answered, now, done_at],
                    )
                    .await?
                    .i64("id")?;
                ids.push(id);
                if matches!(t.state, TaskState::Open) {
                    opened.push(crate::outbox::Opened {
                        department: &t.department,
                        role: &t.role,
                        task: s.title(),
                        due: t.due,
                    });
                }
            }
            Some(old) if old != t => {
                let (old_state, ..) = state_cols(&old.state);
                // The opinion that came with this change, if any, is written with it.
                let (op, basis) = match opinion {
                    Some((task, o, b)) if task == seq => (Some(o.trim()), Some(b.trim())),
                    _ => (None, None),
                };
                let n = c
                    .exec(
                        "UPDATE tasks SET state = $1, claimed_by = $2, proposed_by = COALESCE($3, proposed_by), consent = $4, by_default = $5, \
                         answered_by = $6, department = $7, due_on = $8, done_at = $9, opinion = COALESCE($13, opinion), legal_basis = COALESCE($14, legal_basis) \
                         WHERE id = $10 AND state = $11 AND department = $12",
                        args![state, claimed, proposed, consent, by_default, answered, &t.department, t.due.to_string(), done_at, ids[seq], old_state, &old.department, op, basis],
                    )
                    .await?;
                if n != 1 {
                    return Err(StoreError::conflict(
                        "task.changed",
                        "The task was changed meanwhile; reload.",
                        "任务已被更新，请刷新。",
                    ));
                }
            }
            Some(_) => {}
        }
    }
    crate::outbox::on_tasks_opened(c, case_id, &opened).await?;
    if case_row && (!l.flow.started || l.flow.stage != next.stage || l.flow.result != next.result) {
        // A task's own changes are guarded by its state; the case's version moves with the
        // case's stage, as with its status.
        let (stage, result) = flow_columns(next);
        c.exec(
            "UPDATE cases SET flow_stage = $1, flow_result = $2, version = version + 1 WHERE id = $3",
            args![stage, result, case_id],
        )
        .await?;
    }
    Ok(ids)
}

fn kind_str(k: StageKind) -> &'static str {
    match k {
        StageKind::Review => "review",
        StageKind::Parallel => "parallel",
        StageKind::Decision => "decision",
        StageKind::Issue => "issue",
    }
}

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

/// The first stage of a case about to be accepted, whose item declares a workflow: worked
/// out, and its stages' snapshot found or stored, before the acceptance's UPDATE of the case
/// row, which writes [`Begun::case_columns`] with the status; [`start`] then opens the tasks.
pub(crate) struct Begun {
    loaded: Loaded,
    next: Flow,
    workflow_id: i64,
}

impl Begun {
    pub(crate) async fn new(
        c: &mut dyn Tx,
        region: &str,
        department: &str,
        stages: &[Stage],
        cal: &Calendar,
        today: time::Date,
    ) -> Result<Begun> {
        let loaded = Loaded {
            number: None,
            status: CaseStatus::InStage,
            region: region.to_string(),
            department: department.to_string(),
            stages: Arc::new(stages.to_vec()),
            flow: Flow::default(),
            ids: Vec::new(),
        };
        let ctx = Ctx {
            stages,
            department,
            calendar: cal,
            today,
        };
        let (next, _) = step(&ctx, &loaded.flow, &FlowCommand::Start)?;
        let workflow_id = snapshot(c, stages).await?;
        Ok(Begun {
            loaded,
            next,
            workflow_id,
        })
    }

    /// `flow_stage`, `flow_result` and `workflow_id` of the case row.
    pub(crate) fn case_columns(&self) -> (i64, Option<i64>, i64) {
        let (stage, result) = flow_columns(&self.next);
        (stage, result, self.workflow_id)
    }
}

/// The id of the snapshot of these stages, stored now unless a case was accepted under the
/// same stages before (found by the digest of their JSON, which is what the snapshot holds).
async fn snapshot(c: &mut dyn Tx, stages: &[Stage]) -> Result<i64> {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_string(stages).unwrap_or_else(|_| "[]".into());
    let digest = hex::encode(Sha256::digest(json.as_bytes()));
    // Found first: the usual case, and a read, where an insert that does nothing still looks
    // up the key and may write.
    let sql = "SELECT id FROM workflows WHERE digest = $1";
    if let Some(id) = c.opt_int(sql, args![&digest]).await? {
        return Ok(id);
    }
    c.exec(
        "INSERT INTO workflows (digest, stages) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
        args![&digest, json],
    )
    .await?;
    c.int(sql, args![digest]).await
}

fn flow_columns(f: &Flow) -> (i64, Option<i64>) {
    (f.stage as i64, f.result.map(i64::from))
}

/// Opens the first stage of a case just accepted: its first tasks. Part of the acceptance
/// transaction, after the case row is written.
pub(crate) async fn start(c: &mut dyn Tx, case_id: i64, begun: Begun) -> Result<()> {
    let l = &begun.loaded;
    save(c, case_id, &l.region, l, &begun.next, None, false).await?;
    Ok(())
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
async fn run_loaded(
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
            // 办结: the case concludes with the decision's opinion, in this transaction. When
            // this very command answered the decision, that opinion is at hand.
            let answered = match (&cmd, opinion) {
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
            // The case's bucket and its limits, in one read of the row (locked by this
            // transaction since its first statement).
            let row = c
                .one(
                    concat!(
                        "SELECT ",
                        crate::supervision::bucket_columns!(),
                        ", ",
                        crate::conclusions::deadline_columns!(),
                        " FROM cases WHERE id = $1"
                    ),
                    args![case_id],
                )
                .await?;
            crate::supervision::bucket_delta_of(c, case_id, &row, -1).await?;
            // The conclusion (how it kept its limits) and the flow's end are written with the
            // status, in one statement.
            let now = crate::now_ms();
            let by = Some(actor.account_id).filter(|id| *id > 0);
            let (stage, result) = flow_columns(&next);
            match crate::conclusions::conclusion_of(&row, cal, today)? {
                Some(done) => {
                    let mut args = crate::conclusions::conclusion_args(&done, by);
                    args.extend(args![
                        st.status.as_str(),
                        now,
                        reason.trim(),
                        case_id,
                        stage,
                        result
                    ]);
                    c.exec(
                        "UPDATE cases SET status = $7, version = version + 1, updated_at = $8, completed_at = $8, decision_reason = $9, \
                         concluded_on = $1, days_used = $2, within_internal = $3, within_promised = $4, within_legal = $5, decided_by = $6, \
                         next_alert_on = NULL, flow_stage = $11, flow_result = $12 WHERE id = $10",
                        args,
                    )
                    .await?;
                }
                None => {
                    c.exec(
                        "UPDATE cases SET status = $1, version = version + 1, updated_at = $2, completed_at = $2, decision_reason = $3, \
                         flow_stage = $5, flow_result = $6 WHERE id = $4",
                        args![st.status.as_str(), now, reason.trim(), case_id, stage, result],
                    )
                    .await?;
                }
            }
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

impl Store {
    /// A staff member's action on a task: claim, answer (propose), approve, return, transfer.
    /// Only staff of the task's department with its role (or the department's manager), in
    /// the case's region.
    pub async fn task_action(
        &self,
        actor: &Actor,
        task_id: i64,
        action: TaskAction,
    ) -> Result<TaskOutcome> {
        // Usually the task's region's calendar is cached and the command runs in one visit to
        // the writer; otherwise the visit names the region, its calendar is loaded, and the
        // command runs again.
        for _ in 0..3 {
            match self
                .task_action_once(actor, task_id, action.clone())
                .await?
            {
                Ok(out) => return Ok(out),
                Err(region) => {
                    self.calendar(Some(&region)).await?;
                }
            }
        }
        Err(StoreError::Unavailable(
            "the calendar cache keeps missing".into(),
        ))
    }

    async fn task_action_once(
        &self,
        actor: &Actor,
        task_id: i64,
        action: TaskAction,
    ) -> Result<std::result::Result<TaskOutcome, String>> {
        let today = self.today();
        let actor = actor.clone();
        let calendars = self.calendars.clone();
        self.write(move |c| {
            Box::pin(async move {
                // One writer (SQLite): the case's workflow is read with the task, a statement
                // fewer per step. Elsewhere it is read after the case's lock (in `run`). (Its
                // tasks too, in the same statement, cost more: the case's columns again on
                // every task's row.)
                let serial = c.serial();
                let sql = if serial {
                    concat!(
                        "SELECT t.case_id, t.seq, t.region, t.department, t.role, COALESCE(a.department, '') AS mine, ",
                        flow_case_columns!(),
                        " FROM tasks t JOIN cases c ON c.id = t.case_id LEFT JOIN workflows w ON w.id = c.workflow_id, accounts a \
                         WHERE t.id = $1 AND a.id = $2"
                    )
                } else {
                    "SELECT t.case_id, t.seq, t.region, t.department, t.role, COALESCE(a.department, '') AS mine \
                     FROM tasks t, accounts a WHERE t.id = $1 AND a.id = $2"
                };
                let t = c
                    .opt(sql, args![task_id, actor.account_id])
                    .await?
                    .ok_or_else(no_task)?;
                let region = t.str("region")?;
                if !actor.may_in(Permission::ReadCases, &region) {
                    return Err(no_task());
                }
                let role_ok = match &actor.kind {
                    ActorKind::Staff { role, .. } => {
                        role.as_str() == t.str("role")? || *role == Role::Manager
                    }
                    _ => false,
                };
                if t.str("mine")? != t.str("department")? || !role_ok {
                    return Err(StoreError::forbidden(
                        "task.not_yours",
                        "That task belongs to another department or role.",
                        "该任务不属于您的部门或岗位。",
                    ));
                }
                let Some(cal) = calendars.get(&region) else {
                    return Ok(Err(region));
                };
                let case_id = t.i64("case_id")?;
                let task = t.i64("seq")?.max(0) as usize;
                let by = actor.account_id;
                let cmd = match action {
                    TaskAction::Claim => FlowCommand::Claim { task, by },
                    TaskAction::Answer {
                        consent,
                        opinion,
                        legal_basis,
                    } => FlowCommand::Answer {
                        task,
                        by,
                        consent,
                        opinion,
                        legal_basis,
                    },
                    TaskAction::Approve => FlowCommand::Approve { task, by },
                    TaskAction::Return { reason } => FlowCommand::Return { task, by, reason },
                    TaskAction::Transfer { department, reason } => {
                        let known = c
                            .opt(
                                "SELECT code FROM departments WHERE code = $1",
                                args![&department],
                            )
                            .await?;
                        if known.is_none() {
                            return Err(StoreError::invalid(
                                "task.unknown_department",
                                "No such department.",
                                "未找到该部门。",
                            ));
                        }
                        FlowCommand::Transfer {
                            task,
                            to: department,
                            reason,
                        }
                    }
                };
                let (events, ids) = if serial {
                    let tasks = load_tasks(c, case_id).await?;
                    let l = load_from(case_id, &t, &tasks)?;
                    run_loaded(c, &actor, case_id, l, cmd, &cal, today).await?
                } else {
                    run(c, &actor, case_id, cmd, &cal, today).await?
                };
                let opened = events
                    .iter()
                    .flat_map(|e| match e {
                        FlowEvent::StageStarted { tasks, .. } => tasks.clone(),
                        _ => Vec::new(),
                    })
                    .filter_map(|seq| ids.get(seq).copied())
                    .collect();
                Ok(Ok(TaskOutcome { events, opened }))
            })
        })
        .await
    }

    /// The clock for workflows: every task past its limit whose stage counts silence as
    /// consent gets that consent now, once (the task row's state guards it). Returns how many.
    pub async fn flow_tick(&self, today: time::Date) -> Result<usize> {
        let cases: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT case_id FROM tasks WHERE silence_consents = 1 AND state IN ('open', 'claimed') AND due_on < $1 LIMIT 500",
        )
        .bind(today.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut done = 0;
        for case_id in cases {
            let cal = self.case_calendar(case_id).await?;
            let r = self
                .write(move |c| {
                    Box::pin(async move {
                        let (events, _) =
                            run(c, &Actor::system(), case_id, FlowCommand::Tick, &cal, today)
                                .await?;
                        Ok(events
                            .iter()
                            .filter(|e| matches!(e, FlowEvent::DefaultConsent { .. }))
                            .count())
                    })
                })
                .await;
            match r {
                Ok(n) => done += n,
                // Another server did it first, or the case moved on: nothing left to do here.
                Err(StoreError::Rule { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Moves an open task's due date (only the platform: the demo shows a silent department
    /// past its limit); audited.
    pub async fn backdate_task_due(
        &self,
        actor: &Actor,
        task_id: i64,
        due: time::Date,
    ) -> Result<()> {
        if !matches!(actor.kind, ActorKind::System) {
            return Err(StoreError::forbidden(
                "task.backdate",
                "Only the platform may backdate.",
                "只有系统可以调整期限。",
            ));
        }
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let r = c
                    .opt("SELECT c.number FROM tasks t JOIN cases c ON c.id = t.case_id WHERE t.id = $1", args![task_id])
                    .await?
                    .ok_or_else(no_task)?;
                c.exec("UPDATE tasks SET due_on = $1 WHERE id = $2", args![due.to_string(), task_id]).await?;
                crate::audit::record(
                    c,
                    &actor,
                    crate::audit::Entry {
                        action: "demo.backdate",
                        case_number: r.opt_str("number")?.as_deref(),
                        detail: format!("task {task_id} due {due}"),
                        ..Default::default()
                    },
                )
                .await
            })
        })
        .await
    }

    /// A department's inbox: open tasks of the caller's department (and role), due first.
    pub async fn inbox(&self, actor: &Actor, page: Page) -> Result<Vec<TaskView>> {
        let ActorKind::Staff { role, .. } = &actor.kind else {
            return Ok(Vec::new());
        };
        let department: Option<String> =
            sqlx::query_scalar("SELECT department FROM accounts WHERE id = $1")
                .bind(actor.account_id)
                .fetch_optional(self.pool())
                .await?
                .flatten();
        let Some(department) = department else {
            return Ok(Vec::new());
        };
        // A manager sees every role's tasks.
        let sql = format!(
            "{TASK_SELECT} WHERE t.department = $1 AND t.done_at IS NULL AND t.id > $2 AND ($3 = 'manager' OR t.role = $3) ORDER BY t.due_on, t.id LIMIT {}",
            page.limit.clamp(1, 200)
        );
        let rows = sqlx::query(&sql)
            .bind(department)
            .bind(page.cursor.unwrap_or(0))
            .bind(role.as_str())
            .fetch_all(self.pool())
            .await?;
        let cal = self.calendar(None).await?;
        self.task_views(rows, Some(&cal))
    }

    /// Every task of a case in order; the caller decides what of it to show.
    pub async fn case_tasks(&self, case_id: i64) -> Result<Vec<TaskView>> {
        let rows = sqlx::query(&format!(
            "{TASK_SELECT} WHERE t.case_id = $1 ORDER BY t.seq"
        ))
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        let cal = self.case_calendar(case_id).await?;
        self.task_views(rows, Some(&cal))
    }

    /// The stages of a case's workflow (the snapshot taken at acceptance).
    pub async fn case_stages(&self, case_id: i64) -> Result<Vec<Stage>> {
        let def: Option<String> = sqlx::query_scalar(
            "SELECT w.stages FROM cases c JOIN workflows w ON w.id = c.workflow_id WHERE c.id = $1",
        )
        .bind(case_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(def
            .and_then(|d| parsed(case_id, d).ok())
            .map(|s| s.to_vec())
            .unwrap_or_default())
    }

    fn task_views(
        &self,
        rows: Vec<sqlx::any::AnyRow>,
        cal: Option<&Calendar>,
    ) -> Result<Vec<TaskView>> {
        let today = self.today();
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                let due_on: String = r.try_get("due_on")?;
                let light = match (cal, parse_date(&due_on)) {
                    (Some(cal), Ok(due))
                        if matches!(state.as_str(), "open" | "claimed" | "proposed") =>
                    {
                        Some(
                            if today > due {
                                "overdue"
                            } else if cal.working_days_between(today, due) <= 1 {
                                "yellow"
                            } else {
                                "green"
                            }
                            .to_string(),
                        )
                    }
                    _ => None,
                };
                Ok(TaskView {
                    id: r.try_get("id")?,
                    case_id: r.try_get("case_id")?,
                    case_number: r.try_get("number")?,
                    item_name: r.try_get("item_name")?,
                    stage: r.try_get("stage")?,
                    stage_kind: r.try_get("stage_kind")?,
                    stage_name: r.try_get("stage_name")?,
                    department: r.try_get("department")?,
                    department_name: r
                        .try_get::<Option<String>, _>("department_name")?
                        .unwrap_or_default(),
                    role: r.try_get("role")?,
                    ab: r.try_get::<i64, _>("ab")? != 0,
                    silence_consents: r.try_get::<i64, _>("silence_consents")? != 0,
                    due_on,
                    state,
                    consent: r.try_get::<Option<i64>, _>("consent")?.map(|c| c != 0),
                    by_default: r.try_get::<i64, _>("by_default")? != 0,
                    claimed_by: r.try_get("claimed_by")?,
                    proposed_by: r.try_get("proposed_by")?,
                    answered_by: r.try_get("answered_by")?,
                    handler_name: r.try_get("handler_name")?,
                    opinion: r.try_get("opinion")?,
                    legal_basis: r.try_get("legal_basis")?,
                    created_at: r.try_get("created_at")?,
                    done_at: r.try_get("done_at")?,
                    light,
                })
            })
            .collect()
    }
}

/// A transfer of a task, as the supervisor's list shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Transfer {
    pub id: i64,
    pub case_id: i64,
    pub case_number: Option<String>,
    pub item_name: String,
    pub stage_name: String,
    pub from_department: String,
    pub to_department: String,
    pub reason: String,
    pub by_name: Option<String>,
    pub at: i64,
}

impl Store {
    /// Every transfer in the caller's region, newest first (supervisors, managers, admins).
    pub async fn transfers(&self, actor: &Actor, page: Page) -> Result<Vec<Transfer>> {
        let ActorKind::Staff { region, role } = &actor.kind else {
            return Ok(Vec::new());
        };
        if !matches!(role, Role::Supervisor | Role::Manager | Role::Admin) {
            return Err(StoreError::forbidden(
                "transfer.role",
                "Only supervisors, managers and admins see every transfer.",
                "只有监察、管理人员可以查看全部转交记录。",
            ));
        }
        let (lo, hi) = region.code_range();
        let rows = sqlx::query(
            "SELECT x.id, x.case_id, c.number, i.name AS item_name, t.stage_name, x.from_department, x.to_department, x.reason, a.name AS by_name, x.at \
             FROM task_transfers x JOIN tasks t ON t.id = x.task_id JOIN cases c ON c.id = x.case_id JOIN items i ON i.code = c.item_code \
             LEFT JOIN accounts a ON a.id = x.by_id WHERE x.region >= $1 AND x.region < $2 AND x.id < $3 ORDER BY x.id DESC LIMIT $4",
        )
        .bind(lo)
        .bind(hi)
        .bind(page.cursor.unwrap_or(i64::MAX))
        .bind(page.limit.clamp(1, 200))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Transfer {
                    id: r.try_get("id")?,
                    case_id: r.try_get("case_id")?,
                    case_number: r.try_get("number")?,
                    item_name: r.try_get("item_name")?,
                    stage_name: r.try_get("stage_name")?,
                    from_department: r.try_get("from_department")?,
                    to_department: r.try_get("to_department")?,
                    reason: r.try_get("reason")?,
                    by_name: r.try_get("by_name")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}

const TASK_SELECT: &str = "SELECT t.id, t.case_id, c.number, i.name AS item_name, t.stage, t.stage_kind, t.stage_name, t.department, d.name AS department_name, \
     t.role, t.ab, t.silence_consents, t.due_on, t.state, t.consent, t.by_default, t.claimed_by, t.proposed_by, t.answered_by, \
     h.name AS handler_name, t.opinion, t.legal_basis, t.created_at, t.done_at \
     FROM tasks t JOIN cases c ON c.id = t.case_id JOIN items i ON i.code = c.item_code \
     LEFT JOIN departments d ON d.code = t.department \
     LEFT JOIN accounts h ON h.id = COALESCE(t.answered_by, t.proposed_by, t.claimed_by)";

fn no_task() -> StoreError {
    StoreError::not_found("task.not_found", "No such task.", "未找到该任务。")
}
