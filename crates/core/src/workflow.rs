//! Workflow (办理流程): the stages a case goes through after acceptance, as its item's catalog
//! entry declares them, and the engine that moves it. Pure: given the definition, the case's
//! flow, a command (or a clock tick) and today's date on the case's calendar, [`step`] returns
//! the new flow and what happened; the store persists both in one transaction.
//!
//! A stage is a review (one department and role, optionally A/B: the approver is never the
//! proposer), a parallel review (several departments at once, each with its own limit; an
//! outcome rule; silence past the limit may count as consent, 缺席默认), the decision, or the
//! issue of the result. A denial at a review skips to the decision; a denial at the decision
//! ends the flow.

use crate::calendar::Calendar;
use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    Review,
    Parallel,
    Decision,
    Issue,
}

impl StageKind {
    pub fn zh(self) -> &'static str {
        match self {
            StageKind::Review => "审查",
            StageKind::Parallel => "并联审批",
            StageKind::Decision => "决定",
            StageKind::Issue => "制证送达",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            StageKind::Review => "Review",
            StageKind::Parallel => "Parallel review",
            StageKind::Decision => "Decision",
            StageKind::Issue => "Issue of the result",
        }
    }
}

/// How a parallel review's answers decide the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParallelRule {
    /// Every department answers (or consents by silence); the stage consents if all consent.
    #[default]
    AllConsent,
    /// The first denial decides the stage at once; the other departments' tasks are withdrawn.
    AnyDenialDenies,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParallelPart {
    pub department: String,
    /// Working days this department has to answer.
    pub limit: u32,
}

/// One stage as the catalog declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub kind: StageKind,
    #[serde(default)]
    pub name: String,
    /// Review, decision, issue: the department that works it (the item's by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The staff role that works its tasks: `reviewer` or `manager`.
    #[serde(default = "default_role")]
    pub role: String,
    /// A/B review: one proposes, another approves or returns.
    #[serde(default)]
    pub ab: bool,
    /// Working days (review, decision, issue).
    #[serde(default)]
    pub limit: u32,
    /// Parallel review: the departments and their limits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<ParallelPart>,
    #[serde(default)]
    pub rule: ParallelRule,
    /// Parallel review: a department silent past its limit consents (缺席默认).
    #[serde(default)]
    pub silence_consents: bool,
}

fn default_role() -> String {
    "reviewer".into()
}

impl Stage {
    /// The longest limit among its tasks: what the stage adds to the case's time.
    pub fn span(&self) -> u32 {
        match self.kind {
            StageKind::Parallel => self.departments.iter().map(|p| p.limit).max().unwrap_or(0),
            _ => self.limit,
        }
    }
    pub fn title(&self) -> String {
        if self.name.is_empty() {
            self.kind.zh().to_string()
        } else {
            self.name.clone()
        }
    }
}

/// Checks a workflow: the problems as (field, message) pairs, Chinese and English.
/// `known_department` says whether a department code exists.
pub fn check(stages: &[Stage], known_department: &dyn Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut err = |i: usize, field: &str, msg: String| {
        out.push((format!("workflow[{i}].{field}"), msg));
    };
    let decisions = stages
        .iter()
        .filter(|s| s.kind == StageKind::Decision)
        .count();
    if !stages.is_empty() && decisions != 1 {
        err(
            0,
            "kind",
            format!("a workflow needs exactly one decision stage, not {decisions} / 办理流程须有且仅有一个决定环节"),
        );
    }
    let mut after_decision = false;
    for (i, s) in stages.iter().enumerate() {
        match s.kind {
            StageKind::Review | StageKind::Parallel if after_decision => err(
                i,
                "kind",
                "a review stage after the decision / 决定之后不能再有审查环节".into(),
            ),
            StageKind::Issue if i + 1 != stages.len() => err(
                i,
                "kind",
                "a stage after the issue stage / 制证送达之后不能再有环节".into(),
            ),
            StageKind::Issue if !after_decision => err(
                i,
                "kind",
                "the issue stage comes before the decision / 制证送达须在决定之后".into(),
            ),
            _ => {}
        }
        if s.kind == StageKind::Decision {
            after_decision = true;
        }
        if !matches!(s.role.as_str(), "reviewer" | "manager") {
            err(
                i,
                "role",
                format!("unknown role '{}' (reviewer or manager) / 未知角色", s.role),
            );
        }
        if let Some(d) = &s.department {
            if !known_department(d) {
                err(
                    i,
                    "department",
                    format!("unknown department '{d}' / 未知部门"),
                );
            }
        }
        if s.kind == StageKind::Parallel {
            if s.departments.is_empty() {
                err(
                    i,
                    "departments",
                    "a parallel review with no departments / 并联审批未列部门".into(),
                );
            }
            if s.ab {
                err(
                    i,
                    "ab",
                    "A/B review is for a single department's review / A/B角审核只用于单部门审查"
                        .into(),
                );
            }
            let mut seen = std::collections::HashSet::new();
            for p in &s.departments {
                if !known_department(&p.department) {
                    err(
                        i,
                        "departments",
                        format!("unknown department '{}' / 未知部门", p.department),
                    );
                }
                if !seen.insert(p.department.as_str()) {
                    err(
                        i,
                        "departments",
                        format!("'{}' listed twice / 部门重复", p.department),
                    );
                }
            }
        } else if !s.departments.is_empty() {
            err(
                i,
                "departments",
                "only a parallel review lists departments / 只有并联审批列出部门".into(),
            );
        }
    }
    out
}

pub type TaskId = usize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TaskState {
    Open,
    Claimed {
        by: i64,
    },
    /// A/B review: A's proposal waits for B.
    Proposed {
        by: i64,
        consent: bool,
    },
    Done {
        consent: bool,
        by: Option<i64>,
        /// Consent recorded by silence past the limit (缺席默认).
        by_default: bool,
    },
    /// Withdrawn: the stage was decided without it, or the case was withdrawn.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub stage: usize,
    pub department: String,
    pub role: String,
    pub ab: bool,
    pub due: Date,
    pub state: TaskState,
}

impl Task {
    pub fn is_open(&self) -> bool {
        matches!(
            self.state,
            TaskState::Open | TaskState::Claimed { .. } | TaskState::Proposed { .. }
        )
    }
}

/// Where a case stands in its workflow. `stage == stages.len()` once finished.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub started: bool,
    pub stage: usize,
    pub tasks: Vec<Task>,
    /// Some(approved) once the flow is over.
    pub result: Option<bool>,
}

impl Flow {
    pub fn finished(&self) -> bool {
        self.result.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowCommand {
    /// Open the first stage (after acceptance).
    Start,
    Claim {
        task: TaskId,
        by: i64,
    },
    /// An opinion with consent or denial: a review's proposal (A/B) or answer, a parallel
    /// department's answer, the decision, or (issue stage) the result issued.
    Answer {
        task: TaskId,
        by: i64,
        consent: bool,
        opinion: String,
        legal_basis: String,
    },
    /// A/B: the second person approves the proposal.
    Approve {
        task: TaskId,
        by: i64,
    },
    /// A/B: the second person returns it to the proposer with a reason.
    Return {
        task: TaskId,
        by: i64,
        reason: String,
    },
    Transfer {
        task: TaskId,
        to: String,
        reason: String,
    },
    /// The clock: silent departments past their limit consent where the stage allows it.
    Tick,
    /// The case was withdrawn: every open task is withdrawn.
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum FlowEvent {
    StageStarted {
        stage: usize,
        tasks: Vec<TaskId>,
    },
    Claimed {
        task: TaskId,
        by: i64,
    },
    Proposed {
        task: TaskId,
        by: i64,
        consent: bool,
    },
    Answered {
        task: TaskId,
        by: i64,
        consent: bool,
    },
    Approved {
        task: TaskId,
        by: i64,
    },
    Returned {
        task: TaskId,
        by: i64,
    },
    DefaultConsent {
        task: TaskId,
    },
    Transferred {
        task: TaskId,
        from: String,
        to: String,
    },
    TaskWithdrawn {
        task: TaskId,
    },
    StageCompleted {
        stage: usize,
        consent: bool,
    },
    Finished {
        approved: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("the workflow has not started")]
    NotStarted,
    #[error("the workflow has started already")]
    AlreadyStarted,
    #[error("the workflow is over")]
    Finished,
    #[error("no such task")]
    UnknownTask,
    #[error("the task is not in the current stage")]
    NotCurrent,
    #[error("the task has been answered already")]
    AlreadyAnswered,
    #[error("another person has claimed the task")]
    ClaimedByOther,
    #[error("the approver must not be the proposer")]
    SameAsProposer,
    #[error("there is no proposal to approve or return")]
    NotProposed,
    #[error("a reason is required")]
    ReasonRequired,
    #[error("a denial needs its legal basis")]
    LegalBasisRequired,
    #[error("transfer to another department")]
    BadTransfer,
    #[error("calendar: {0}")]
    Calendar(String),
}

impl FlowError {
    pub fn code(&self) -> &'static str {
        match self {
            FlowError::NotStarted => "workflow.not_started",
            FlowError::AlreadyStarted => "workflow.already_started",
            FlowError::Finished => "workflow.finished",
            FlowError::UnknownTask => "task.not_found",
            FlowError::NotCurrent => "task.not_current",
            FlowError::AlreadyAnswered => "task.already_answered",
            FlowError::ClaimedByOther => "task.claimed_by_other",
            FlowError::SameAsProposer => "task.same_person",
            FlowError::NotProposed => "task.not_proposed",
            FlowError::ReasonRequired => "task.reason_required",
            FlowError::LegalBasisRequired => "task.legal_basis_required",
            FlowError::BadTransfer => "task.bad_transfer",
            FlowError::Calendar(_) => "calendar.error",
        }
    }
    /// Conflicts (the state moved on) rather than bad input.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            FlowError::AlreadyStarted
                | FlowError::Finished
                | FlowError::NotCurrent
                | FlowError::AlreadyAnswered
                | FlowError::ClaimedByOther
                | FlowError::NotProposed
        )
    }
}

/// What the engine needs besides the flow: the stages, the item's department (the default for
/// stages that name none), the case's calendar and today's local date.
pub struct Ctx<'a> {
    pub stages: &'a [Stage],
    pub department: &'a str,
    pub calendar: &'a Calendar,
    pub today: Date,
}

/// Applies one command. Pure; a refused command changes nothing.
pub fn step(
    ctx: &Ctx,
    flow: &Flow,
    cmd: &FlowCommand,
) -> Result<(Flow, Vec<FlowEvent>), FlowError> {
    let mut f = flow.clone();
    let mut ev = Vec::new();
    match cmd {
        FlowCommand::Start => {
            if f.started {
                return Err(FlowError::AlreadyStarted);
            }
            f.started = true;
            open_stage(ctx, &mut f, 0, &mut ev)?;
            return Ok((f, ev));
        }
        _ if !f.started => return Err(FlowError::NotStarted),
        _ if f.finished() => return Err(FlowError::Finished),
        FlowCommand::Tick => {
            let stage = &ctx.stages[f.stage];
            if stage.kind == StageKind::Parallel && stage.silence_consents {
                for (id, t) in f.tasks.iter_mut().enumerate() {
                    if t.stage == f.stage
                        && matches!(t.state, TaskState::Open | TaskState::Claimed { .. })
                        && ctx.today > t.due
                    {
                        t.state = TaskState::Done {
                            consent: true,
                            by: None,
                            by_default: true,
                        };
                        ev.push(FlowEvent::DefaultConsent { task: id });
                    }
                }
            }
        }
        FlowCommand::Cancel => {
            for (id, t) in f.tasks.iter_mut().enumerate() {
                if t.is_open() {
                    t.state = TaskState::Cancelled;
                    ev.push(FlowEvent::TaskWithdrawn { task: id });
                }
            }
            f.stage = ctx.stages.len();
            f.result = Some(false);
            return Ok((f, ev));
        }
        FlowCommand::Claim { task, by } => {
            let t = current(ctx, &mut f, *task)?;
            match t.state {
                TaskState::Open => {
                    t.state = TaskState::Claimed { by: *by };
                    ev.push(FlowEvent::Claimed {
                        task: *task,
                        by: *by,
                    });
                }
                TaskState::Claimed { by: b } if b == *by => {}
                TaskState::Claimed { .. } => return Err(FlowError::ClaimedByOther),
                _ => return Err(FlowError::AlreadyAnswered),
            }
            return Ok((f, ev));
        }
        FlowCommand::Answer {
            task,
            by,
            consent,
            opinion,
            legal_basis,
        } => {
            let kind = ctx.stages[f.stage].kind;
            let t = current(ctx, &mut f, *task)?;
            match t.state {
                TaskState::Open => {}
                TaskState::Claimed { by: b } if b == *by => {}
                TaskState::Claimed { .. } => return Err(FlowError::ClaimedByOther),
                _ => return Err(FlowError::AlreadyAnswered),
            }
            // Issuing the result is always a "yes"; a denial needs reasons, and the decision's
            // denial its legal basis (行政许可法 art. 38).
            let consent = *consent || kind == StageKind::Issue;
            if !consent && opinion.trim().is_empty() {
                return Err(FlowError::ReasonRequired);
            }
            if !consent && kind == StageKind::Decision && legal_basis.trim().is_empty() {
                return Err(FlowError::LegalBasisRequired);
            }
            if t.ab {
                t.state = TaskState::Proposed { by: *by, consent };
                ev.push(FlowEvent::Proposed {
                    task: *task,
                    by: *by,
                    consent,
                });
                return Ok((f, ev));
            }
            t.state = TaskState::Done {
                consent,
                by: Some(*by),
                by_default: false,
            };
            ev.push(FlowEvent::Answered {
                task: *task,
                by: *by,
                consent,
            });
        }
        FlowCommand::Approve { task, by } => {
            let t = current(ctx, &mut f, *task)?;
            let TaskState::Proposed { by: a, consent } = t.state else {
                return Err(FlowError::NotProposed);
            };
            if a == *by {
                return Err(FlowError::SameAsProposer);
            }
            t.state = TaskState::Done {
                consent,
                by: Some(*by),
                by_default: false,
            };
            ev.push(FlowEvent::Approved {
                task: *task,
                by: *by,
            });
        }
        FlowCommand::Return { task, by, reason } => {
            let t = current(ctx, &mut f, *task)?;
            let TaskState::Proposed { by: a, .. } = t.state else {
                return Err(FlowError::NotProposed);
            };
            if a == *by {
                return Err(FlowError::SameAsProposer);
            }
            if reason.trim().is_empty() {
                return Err(FlowError::ReasonRequired);
            }
            t.state = TaskState::Claimed { by: a };
            ev.push(FlowEvent::Returned {
                task: *task,
                by: *by,
            });
            return Ok((f, ev));
        }
        FlowCommand::Transfer { task, to, reason } => {
            let t = current(ctx, &mut f, *task)?;
            if !matches!(t.state, TaskState::Open | TaskState::Claimed { .. }) {
                return Err(FlowError::AlreadyAnswered);
            }
            if reason.trim().is_empty() {
                return Err(FlowError::ReasonRequired);
            }
            if to.trim().is_empty() || *to == t.department {
                return Err(FlowError::BadTransfer);
            }
            let from = std::mem::replace(&mut t.department, to.clone());
            t.state = TaskState::Open;
            ev.push(FlowEvent::Transferred {
                task: *task,
                from,
                to: to.clone(),
            });
            return Ok((f, ev));
        }
    }
    settle(ctx, &mut f, &mut ev)?;
    Ok((f, ev))
}

/// The task, if it belongs to the current stage and is still open.
fn current<'f>(ctx: &Ctx, f: &'f mut Flow, id: TaskId) -> Result<&'f mut Task, FlowError> {
    let stage = f.stage;
    let t = f.tasks.get_mut(id).ok_or(FlowError::UnknownTask)?;
    if t.stage != stage || stage >= ctx.stages.len() || t.state == TaskState::Cancelled {
        return Err(FlowError::NotCurrent);
    }
    Ok(t)
}

fn open_stage(ctx: &Ctx, f: &mut Flow, i: usize, ev: &mut Vec<FlowEvent>) -> Result<(), FlowError> {
    f.stage = i;
    let Some(s) = ctx.stages.get(i) else {
        let approved = f.result.unwrap_or(true);
        f.result = Some(approved);
        ev.push(FlowEvent::Finished { approved });
        return Ok(());
    };
    let due = |limit: u32| {
        ctx.calendar
            .add_working_days(ctx.today, i64::from(limit))
            .map_err(|e| FlowError::Calendar(e.to_string()))
    };
    let parts: Vec<(String, u32)> = match s.kind {
        StageKind::Parallel => s
            .departments
            .iter()
            .map(|p| (p.department.clone(), p.limit))
            .collect(),
        _ => vec![(
            s.department
                .clone()
                .unwrap_or_else(|| ctx.department.to_string()),
            s.limit,
        )],
    };
    let mut ids = Vec::new();
    for (department, limit) in parts {
        ids.push(f.tasks.len());
        f.tasks.push(Task {
            stage: i,
            department,
            role: s.role.clone(),
            ab: s.ab,
            due: due(limit)?,
            state: TaskState::Open,
        });
    }
    ev.push(FlowEvent::StageStarted {
        stage: i,
        tasks: ids,
    });
    Ok(())
}

/// Completes the current stage while its answers decide it, and opens the next.
fn settle(ctx: &Ctx, f: &mut Flow, ev: &mut Vec<FlowEvent>) -> Result<(), FlowError> {
    while !f.finished() {
        let s = f.stage;
        let Some(stage) = ctx.stages.get(s) else {
            break;
        };
        let mine = || f.tasks.iter().filter(move |t| t.stage == s);
        let denied = mine().any(|t| matches!(t.state, TaskState::Done { consent: false, .. }));
        let all_done = mine().all(|t| matches!(t.state, TaskState::Done { .. }));
        let early = stage.kind == StageKind::Parallel
            && stage.rule == ParallelRule::AnyDenialDenies
            && denied;
        if !all_done && !early {
            break;
        }
        for (id, t) in f.tasks.iter_mut().enumerate() {
            if t.stage == s && t.is_open() {
                t.state = TaskState::Cancelled;
                ev.push(FlowEvent::TaskWithdrawn { task: id });
            }
        }
        let consent = !denied;
        ev.push(FlowEvent::StageCompleted { stage: s, consent });
        let next = match stage.kind {
            StageKind::Review | StageKind::Parallel if !consent => ctx
                .stages
                .iter()
                .position(|x| x.kind == StageKind::Decision)
                .unwrap_or(ctx.stages.len()),
            StageKind::Decision => {
                f.result = if consent { None } else { Some(false) };
                if consent {
                    s + 1
                } else {
                    ev.push(FlowEvent::Finished { approved: false });
                    f.stage = ctx.stages.len();
                    return Ok(());
                }
            }
            _ => s + 1,
        };
        open_stage(ctx, f, next, ev)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use time::macros::date;

    fn cal() -> Calendar {
        Calendar::new(std::iter::empty()).unwrap()
    }

    fn review(ab: bool, limit: u32) -> Stage {
        Stage {
            kind: StageKind::Review,
            name: String::new(),
            department: None,
            role: "reviewer".into(),
            ab,
            limit,
            departments: vec![],
            rule: ParallelRule::AllConsent,
            silence_consents: false,
        }
    }

    fn parallel(n: usize, rule: ParallelRule, silence: bool) -> Stage {
        Stage {
            kind: StageKind::Parallel,
            departments: (0..n)
                .map(|i| ParallelPart {
                    department: format!("D{i}"),
                    limit: 1 + i as u32,
                })
                .collect(),
            rule,
            silence_consents: silence,
            ..review(false, 0)
        }
    }

    fn of(kind: StageKind, ab: bool) -> Stage {
        Stage {
            kind,
            ..review(ab, 2)
        }
    }

    fn answer(task: TaskId, by: i64, consent: bool) -> FlowCommand {
        FlowCommand::Answer {
            task,
            by,
            consent,
            opinion: "意见".into(),
            legal_basis: "《行政许可法》第三十八条".into(),
        }
    }

    /// Seed 004: a 3-department parallel review with default consent, then the decision.
    #[test]
    fn parallel_review_with_a_silent_department() {
        let stages = vec![
            parallel(3, ParallelRule::AllConsent, true),
            of(StageKind::Decision, false),
            of(StageKind::Issue, false),
        ];
        let c = cal();
        let mut ctx = Ctx {
            stages: &stages,
            department: "D",
            calendar: &c,
            today: date!(2026 - 11 - 23),
        };
        let (f, ev) = step(&ctx, &Flow::default(), &FlowCommand::Start).unwrap();
        assert_eq!(
            ev,
            vec![FlowEvent::StageStarted {
                stage: 0,
                tasks: vec![0, 1, 2]
            }]
        );
        assert_eq!(f.tasks[2].due, date!(2026 - 11 - 26), "3 working days");
        let (f, _) = step(&ctx, &f, &answer(0, 1, true)).unwrap();
        assert_eq!(
            step(&ctx, &f, &answer(0, 2, true)).unwrap_err(),
            FlowError::AlreadyAnswered,
            "a second answer from the same department"
        );
        let (f, _) = step(&ctx, &f, &answer(1, 2, true)).unwrap();
        // Department 2 stays silent: nothing on its last day, consent the day after.
        ctx.today = date!(2026 - 11 - 26);
        let (f, ev) = step(&ctx, &f, &FlowCommand::Tick).unwrap();
        assert!(ev.is_empty());
        ctx.today = date!(2026 - 11 - 27);
        let (f, ev) = step(&ctx, &f, &FlowCommand::Tick).unwrap();
        assert_eq!(ev[0], FlowEvent::DefaultConsent { task: 2 });
        assert_eq!(
            ev[1],
            FlowEvent::StageCompleted {
                stage: 0,
                consent: true
            }
        );
        assert_eq!(f.stage, 1);
        let (f, ev) = step(&ctx, &f, &FlowCommand::Tick).unwrap();
        assert!(ev.is_empty(), "default consent fires once");
        let e = step(
            &ctx,
            &f,
            &FlowCommand::Answer {
                task: 3,
                by: 5,
                consent: false,
                opinion: "不符合条件".into(),
                legal_basis: " ".into(),
            },
        )
        .unwrap_err();
        assert_eq!(e, FlowError::LegalBasisRequired);
        let (f, _) = step(&ctx, &f, &answer(3, 5, true)).unwrap();
        let (f, ev) = step(&ctx, &f, &answer(4, 6, true)).unwrap();
        assert_eq!(ev.last(), Some(&FlowEvent::Finished { approved: true }));
        assert_eq!(
            step(&ctx, &f, &FlowCommand::Tick).unwrap_err(),
            FlowError::Finished
        );
    }

    #[test]
    fn ab_review_never_approves_its_own_proposal() {
        let stages = vec![review(true, 3), of(StageKind::Decision, false)];
        let c = cal();
        let ctx = Ctx {
            stages: &stages,
            department: "D",
            calendar: &c,
            today: date!(2026 - 11 - 23),
        };
        let (f, _) = step(&ctx, &Flow::default(), &FlowCommand::Start).unwrap();
        let (f, _) = step(&ctx, &f, &FlowCommand::Claim { task: 0, by: 1 }).unwrap();
        assert_eq!(
            step(&ctx, &f, &answer(0, 2, true)).unwrap_err(),
            FlowError::ClaimedByOther
        );
        let (f, ev) = step(&ctx, &f, &answer(0, 1, true)).unwrap();
        assert!(matches!(ev[0], FlowEvent::Proposed { by: 1, .. }));
        assert_eq!(
            step(&ctx, &f, &FlowCommand::Approve { task: 0, by: 1 }).unwrap_err(),
            FlowError::SameAsProposer
        );
        let ret = FlowCommand::Return {
            task: 0,
            by: 2,
            reason: "".into(),
        };
        assert_eq!(step(&ctx, &f, &ret).unwrap_err(), FlowError::ReasonRequired);
        let (f, _) = step(
            &ctx,
            &f,
            &FlowCommand::Return {
                task: 0,
                by: 2,
                reason: "补充现场照片".into(),
            },
        )
        .unwrap();
        assert_eq!(f.tasks[0].state, TaskState::Claimed { by: 1 }, "back to A");
        let (f, _) = step(&ctx, &f, &answer(0, 1, false)).unwrap();
        let (f, ev) = step(&ctx, &f, &FlowCommand::Approve { task: 0, by: 2 }).unwrap();
        assert!(ev.contains(&FlowEvent::StageCompleted {
            stage: 0,
            consent: false
        }));
        assert_eq!(f.stage, 1, "a review's denial goes to the decision");
    }

    #[test]
    fn any_denial_denies_withdraws_the_others() {
        let stages = vec![
            parallel(3, ParallelRule::AnyDenialDenies, false),
            of(StageKind::Decision, false),
        ];
        let c = cal();
        let ctx = Ctx {
            stages: &stages,
            department: "D",
            calendar: &c,
            today: date!(2026 - 11 - 23),
        };
        let (f, _) = step(&ctx, &Flow::default(), &FlowCommand::Start).unwrap();
        let (f, ev) = step(&ctx, &f, &answer(1, 7, false)).unwrap();
        assert!(ev.contains(&FlowEvent::TaskWithdrawn { task: 0 }));
        assert!(ev.contains(&FlowEvent::TaskWithdrawn { task: 2 }));
        assert_eq!(f.stage, 1);
        assert_eq!(
            step(&ctx, &f, &answer(0, 1, true)).unwrap_err(),
            FlowError::NotCurrent
        );
    }

    #[test]
    fn bad_workflows_are_named() {
        let known = |d: &str| d.starts_with('D');
        let mut bad = vec![
            parallel(0, ParallelRule::AllConsent, true),
            of(StageKind::Issue, false),
            of(StageKind::Decision, false),
            review(false, 1),
        ];
        bad[3].department = Some("NOPE".into());
        let errs = check(&bad, &known);
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert!(fields.contains(&"workflow[0].departments"), "{errs:?}");
        assert!(fields.contains(&"workflow[1].kind"), "{errs:?}");
        assert!(fields.contains(&"workflow[3].kind"), "{errs:?}");
        assert!(fields.contains(&"workflow[3].department"), "{errs:?}");
        let good = vec![
            review(true, 2),
            parallel(3, ParallelRule::AllConsent, true),
            of(StageKind::Decision, false),
            of(StageKind::Issue, false),
        ];
        assert!(check(&good, &known).is_empty());
    }

    fn stages() -> impl Strategy<Value = Vec<Stage>> {
        (
            proptest::collection::vec(any::<bool>(), 0..3),
            proptest::option::of((1usize..5, any::<bool>(), any::<bool>())),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(reviews, par, dec_ab, issue)| {
                let mut v: Vec<Stage> = reviews.into_iter().map(|ab| review(ab, 2)).collect();
                if let Some((n, any_denial, silence)) = par {
                    let rule = if any_denial {
                        ParallelRule::AnyDenialDenies
                    } else {
                        ParallelRule::AllConsent
                    };
                    v.push(parallel(n, rule, silence));
                }
                v.push(of(StageKind::Decision, dec_ab));
                if issue {
                    v.push(of(StageKind::Issue, false));
                }
                v
            })
    }

    fn command() -> impl Strategy<Value = FlowCommand> {
        prop_oneof![
            (0usize..8, 1i64..4).prop_map(|(task, by)| FlowCommand::Claim { task, by }),
            (0usize..8, 1i64..4, any::<bool>(), any::<bool>()).prop_map(
                |(task, by, consent, reason)| {
                    FlowCommand::Answer {
                        task,
                        by,
                        consent,
                        opinion: if reason {
                            "理由".into()
                        } else {
                            String::new()
                        },
                        legal_basis: if reason {
                            "依据".into()
                        } else {
                            String::new()
                        },
                    }
                }
            ),
            (0usize..8, 1i64..4).prop_map(|(task, by)| FlowCommand::Approve { task, by }),
            (0usize..8, 1i64..4).prop_map(|(task, by)| FlowCommand::Return {
                task,
                by,
                reason: "退回".into()
            }),
            (0usize..8).prop_map(|task| FlowCommand::Transfer {
                task,
                to: "DX".into(),
                reason: "职责调整".into()
            }),
            Just(FlowCommand::Tick),
        ]
    }

    /// Drives a flow to its end the way a diligent department would; None if it gets stuck.
    fn finish(ctx: &Ctx, mut f: Flow) -> Option<Flow> {
        for _ in 0..100 {
            if f.finished() {
                return Some(f);
            }
            let (id, t) = f
                .tasks
                .iter()
                .enumerate()
                .find(|(_, t)| t.stage == f.stage && t.is_open())?;
            let cmd = match t.state {
                TaskState::Proposed { by, .. } => FlowCommand::Approve {
                    task: id,
                    by: by + 10,
                },
                TaskState::Claimed { by } => answer(id, by, true),
                _ => answer(id, 1, true),
            };
            f = step(ctx, &f, &cmd).ok()?.0;
        }
        None
    }

    proptest! {
        /// Whatever is tried in whatever order: every reachable state can still finish, default
        /// consent fires at most once per task and never for an answered one, no stage completes
        /// without every answer it needs, and no proposal is approved by its proposer.
        #[test]
        fn the_engine_keeps_its_promises(defs in stages(), cmds in proptest::collection::vec((command(), 0i64..3), 0..40)) {
            let c = cal();
            let mut today = date!(2026 - 11 - 23);
            let ctx0 = Ctx { stages: &defs, department: "D", calendar: &c, today };
            let (mut f, _) = step(&ctx0, &Flow::default(), &FlowCommand::Start).unwrap();
            let mut defaults: HashMap<TaskId, usize> = HashMap::new();
            let mut answered: HashMap<TaskId, bool> = HashMap::new();
            let mut proposer: HashMap<TaskId, i64> = HashMap::new();
            for (cmd, days) in &cmds {
                today += time::Duration::days(*days);
                let ctx = Ctx { stages: &defs, department: "D", calendar: &c, today };
                let before = f.clone();
                let Ok((next, ev)) = step(&ctx, &f, cmd) else { continue };
                for e in &ev {
                    match e {
                        FlowEvent::DefaultConsent { task } => {
                            *defaults.entry(*task).or_default() += 1;
                            prop_assert!(!answered.contains_key(task), "default consent after an answer");
                        }
                        FlowEvent::Answered { task, .. } | FlowEvent::Approved { task, .. } => {
                            answered.insert(*task, true);
                        }
                        FlowEvent::Proposed { task, by, .. } => { proposer.insert(*task, *by); }
                        FlowEvent::StageCompleted { stage, consent } => {
                            let s = &defs[*stage];
                            for t in next.tasks.iter().filter(|t| t.stage == *stage) {
                                let ok = matches!(t.state, TaskState::Done { .. })
                                    || (t.state == TaskState::Cancelled && s.kind == StageKind::Parallel
                                        && s.rule == ParallelRule::AnyDenialDenies && !consent);
                                prop_assert!(ok, "stage {} completed with {:?}", stage, t.state);
                            }
                        }
                        _ => {}
                    }
                }
                if let FlowCommand::Approve { task, by } = cmd {
                    prop_assert_ne!(proposer.get(task), Some(by));
                }
                prop_assert!(before.tasks.len() <= next.tasks.len());
                f = next;
            }
            prop_assert!(defaults.values().all(|n| *n == 1));
            let ctx = Ctx { stages: &defs, department: "D", calendar: &c, today };
            prop_assert!(finish(&ctx, f).is_some(), "a dead end");
        }
    }
}
