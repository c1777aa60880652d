//! Task commands and reads: a staff member's action, the clock, a department's task inbox, a
//! case's tasks, transfers.

use crate::args;
use crate::common::Page;
use crate::flows::load::flow_case_columns;
use crate::flows::load::load_from;
use crate::flows::load::load_tasks;
use crate::flows::load::parsed;
use crate::flows::run::run;
use crate::flows::run::run_loaded;
use crate::flows::types::no_task;
use crate::flows::types::TaskAction;
use crate::flows::types::TaskOutcome;
use crate::flows::types::TaskView;
use crate::flows::types::Transfer;
use crate::{Result, Store, StoreError};
use sqlx::Row;
use yichuang_core::calendar::{parse_date, Calendar};
use yichuang_core::workflow::{FlowCommand, FlowEvent, Stage};
use yichuang_core::{Actor, ActorKind, Permission, Role};

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

    /// A department's inbox: open tasks of the caller's department (and role), due first.
    pub async fn task_inbox(&self, actor: &Actor, page: Page) -> Result<Vec<TaskView>> {
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
