//! Writing what a step changed, and the first stage of a case being accepted.

use crate::args;
use crate::db::tx::Tx;
use crate::flows::load::state_cols;
use crate::flows::load::Loaded;
use crate::{Result, StoreError};
use std::sync::Arc;
use yichuang_core::calendar::Calendar;
use yichuang_core::workflow::{step, Ctx, Flow, FlowCommand, Stage, StageKind, TaskState};
use yichuang_core::CaseStatus;

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
                    opened.push(crate::notify::events::Opened {
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
    crate::notify::events::on_tasks_opened(c, case_id, &opened).await?;
    if case_row && (!l.flow.started || l.flow.stage != next.stage || l.flow.result != next.result) {
        // A task's own changes are guarded by its state; the case's version moves with the
        // case's stage, as with its status.
        let (stage, result) = flow_columns(next);
        crate::cases::write::set_flow(c, case_id, stage, result).await?;
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

pub(crate) fn flow_columns(f: &Flow) -> (i64, Option<i64>) {
    (f.stage as i64, f.result.map(i64::from))
}

/// Opens the first stage of a case just accepted: its first tasks. Part of the acceptance
/// transaction, after the case row is written.
pub(crate) async fn start(c: &mut dyn Tx, case_id: i64, begun: Begun) -> Result<()> {
    let l = &begun.loaded;
    save(c, case_id, &l.region, l, &begun.next, None, false).await?;
    Ok(())
}
