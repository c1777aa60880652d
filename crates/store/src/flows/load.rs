//! A case's flow as stored: its stages' snapshot, its stage and result, its tasks' rows.

use crate::args;
use crate::db::tx::Tx;
use crate::{Result, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use yichuang_core::calendar::parse_date;
use yichuang_core::workflow::{Flow, Stage, Task, TaskState};
use yichuang_core::CaseStatus;

/// A task state as its columns: (state, claimed_by, proposed_by, consent, by_default,
/// answered_by).
pub(crate) type StateCols = (
    &'static str,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
);

pub(crate) fn state_cols(s: &TaskState) -> StateCols {
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

fn task_state(r: &crate::db::tx::Row) -> Result<TaskState> {
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

pub(crate) fn parsed(case_id: i64, def: String) -> Result<Arc<Vec<Stage>>> {
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
pub(crate) use flow_case_columns;

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
pub(crate) async fn load_tasks(c: &mut dyn Tx, case_id: i64) -> Result<Vec<crate::db::tx::Row>> {
    c.query(
        "SELECT id, stage, department, role, ab, due_on, state, claimed_by, proposed_by, consent, by_default, answered_by \
         FROM tasks WHERE case_id = $1 ORDER BY seq",
        args![case_id],
    )
    .await
}

/// The workflow of a case from its row (with [`flow_case_columns`]) and its tasks' rows (from
/// [`load_tasks`]).
pub(crate) fn load_from(
    case_id: i64,
    r: &crate::db::tx::Row,
    tasks: &[crate::db::tx::Row],
) -> Result<Option<Loaded>> {
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
