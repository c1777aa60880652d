//! What task commands take and give, and how a workflow's refusal reads.

use crate::StoreError;
use yichuang_core::workflow::{FlowError, FlowEvent};

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

pub(crate) fn no_task() -> StoreError {
    StoreError::not_found("task.not_found", "No such task.", "未找到该任务。")
}
