//! The life of a case (办件) as a pure function: `(state, command) -> (state, events)`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Draft,
    Submitted,
    CorrectionRequired,
    Accepted,
    Rejected,
    InStage,
    Suspended,
    Approved,
    Denied,
    Completed,
    Delivered,
    Withdrawn,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 12] = [
        CaseStatus::Draft,
        CaseStatus::Submitted,
        CaseStatus::CorrectionRequired,
        CaseStatus::Accepted,
        CaseStatus::Rejected,
        CaseStatus::InStage,
        CaseStatus::Suspended,
        CaseStatus::Approved,
        CaseStatus::Denied,
        CaseStatus::Completed,
        CaseStatus::Delivered,
        CaseStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Draft => "draft",
            CaseStatus::Submitted => "submitted",
            CaseStatus::CorrectionRequired => "correction_required",
            CaseStatus::Accepted => "accepted",
            CaseStatus::Rejected => "rejected",
            CaseStatus::InStage => "in_stage",
            CaseStatus::Suspended => "suspended",
            CaseStatus::Approved => "approved",
            CaseStatus::Denied => "denied",
            CaseStatus::Completed => "completed",
            CaseStatus::Delivered => "delivered",
            CaseStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            CaseStatus::Draft => "草稿",
            CaseStatus::Submitted => "已提交待受理",
            CaseStatus::CorrectionRequired => "待补齐补正",
            CaseStatus::Accepted => "已受理",
            CaseStatus::Rejected => "不予受理",
            CaseStatus::InStage => "办理中",
            CaseStatus::Suspended => "特别程序（暂停计时）",
            CaseStatus::Approved => "准予许可",
            CaseStatus::Denied => "不予许可",
            CaseStatus::Completed => "已办结",
            CaseStatus::Delivered => "已送达",
            CaseStatus::Withdrawn => "已撤回",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            CaseStatus::Draft => "Draft",
            CaseStatus::Submitted => "Submitted, awaiting acceptance",
            CaseStatus::CorrectionRequired => "Corrections required",
            CaseStatus::Accepted => "Accepted",
            CaseStatus::Rejected => "Not accepted",
            CaseStatus::InStage => "In progress",
            CaseStatus::Suspended => "Special procedure (clock stopped)",
            CaseStatus::Approved => "Approved",
            CaseStatus::Denied => "Denied",
            CaseStatus::Completed => "Completed",
            CaseStatus::Delivered => "Delivered",
            CaseStatus::Withdrawn => "Withdrawn",
        }
    }

    /// No command moves a case out of these.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CaseStatus::Rejected | CaseStatus::Delivered | CaseStatus::Withdrawn
        )
    }
}

/// A clerk's verdict on one material at acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Missing,
    Wrong,
    /// 容缺: accepted now, the material follows by a due date.
    Deferred,
}

impl Verdict {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Verdict::Ok),
            "missing" => Some(Verdict::Missing),
            "wrong" => Some(Verdict::Wrong),
            "deferred" => Some(Verdict::Deferred),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Missing => "missing",
            Verdict::Wrong => "wrong",
            Verdict::Deferred => "deferred",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Verdict::Ok => "合格",
            Verdict::Missing => "缺少",
            Verdict::Wrong => "有误",
            Verdict::Deferred => "容缺后补",
        }
    }
}

/// What the state machine needs to know about a case beyond its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseState {
    pub status: CaseStatus,
    /// 即办件: may be completed on the spot after acceptance.
    pub immediate: bool,
    pub corrections_issued: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseCommand {
    Submit,
    /// Accept; `deferred` counts the materials accepted under 容缺.
    Accept {
        deferred: u32,
    },
    Reject {
        reason: String,
    },
    /// One notice with every problem; `problems` is how many it lists.
    NotifyCorrections {
        problems: u32,
    },
    Resubmit,
    /// Start the first workflow stage (later issues).
    OpenStage,
    CompleteOnSpot,
    Withdraw,
    /// Start a special procedure (特别程序): the clock stops.
    Suspend {
        reason: String,
    },
    /// End it: the case goes back to where it was (`to`), the clock runs again.
    Resume {
        to: CaseStatus,
    },
    /// 办结 with a decision: approval completes the case, a denial needs its reasons.
    Decide {
        approve: bool,
        reason: String,
    },
}

impl CaseCommand {
    pub fn action(&self) -> &'static str {
        match self {
            CaseCommand::Submit => "submit",
            CaseCommand::Accept { .. } => "accept",
            CaseCommand::Reject { .. } => "reject",
            CaseCommand::NotifyCorrections { .. } => "notify_corrections",
            CaseCommand::Resubmit => "resubmit",
            CaseCommand::OpenStage => "open_stage",
            CaseCommand::CompleteOnSpot => "complete",
            CaseCommand::Withdraw => "withdraw",
            CaseCommand::Suspend { .. } => "suspend",
            CaseCommand::Resume { .. } => "resume",
            CaseCommand::Decide { .. } => "decide",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CaseEvent {
    Submitted,
    Accepted { deferred: u32 },
    Rejected,
    CorrectionsNotified { problems: u32 },
    Resubmitted,
    StageOpened,
    Completed,
    Withdrawn,
    Suspended,
    Resumed,
    Decided { approved: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the case is {from:?}; '{action}' is not allowed now")]
    InvalidTransition {
        from: CaseStatus,
        action: &'static str,
    },
    #[error("a reason is required")]
    ReasonRequired,
    #[error("a correction notice must list at least one problem")]
    EmptyCorrectionNotice,
    #[error("only a 即办件 can be completed on the spot")]
    NotImmediate,
}

impl DomainError {
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::InvalidTransition { from, action } => match (from, *action) {
                (CaseStatus::Accepted | CaseStatus::InStage | CaseStatus::Completed, "accept") => {
                    "case.already_accepted"
                }
                _ => "case.invalid_transition",
            },
            DomainError::ReasonRequired => "case.reason_required",
            DomainError::EmptyCorrectionNotice => "case.empty_correction_notice",
            DomainError::NotImmediate => "case.not_immediate",
        }
    }
}

/// Applies one command. Pure: the caller persists the new state and the events together.
pub fn apply(
    state: &CaseState,
    cmd: &CaseCommand,
) -> Result<(CaseState, Vec<CaseEvent>), DomainError> {
    use CaseStatus as S;
    let bad = || DomainError::InvalidTransition {
        from: state.status,
        action: cmd.action(),
    };
    let mut next = state.clone();
    let event = match (state.status, cmd) {
        (S::Draft, CaseCommand::Submit) => {
            next.status = S::Submitted;
            CaseEvent::Submitted
        }
        (S::Submitted, CaseCommand::Accept { deferred }) => {
            next.status = S::Accepted;
            CaseEvent::Accepted {
                deferred: *deferred,
            }
        }
        (S::Submitted, CaseCommand::Reject { reason }) => {
            if reason.trim().is_empty() {
                return Err(DomainError::ReasonRequired);
            }
            next.status = S::Rejected;
            CaseEvent::Rejected
        }
        (S::Submitted, CaseCommand::NotifyCorrections { problems }) => {
            if *problems == 0 {
                return Err(DomainError::EmptyCorrectionNotice);
            }
            next.status = S::CorrectionRequired;
            next.corrections_issued += 1;
            CaseEvent::CorrectionsNotified {
                problems: *problems,
            }
        }
        (S::CorrectionRequired, CaseCommand::Resubmit) => {
            next.status = S::Submitted;
            CaseEvent::Resubmitted
        }
        (S::Accepted, CaseCommand::OpenStage) => {
            next.status = S::InStage;
            CaseEvent::StageOpened
        }
        (S::Accepted, CaseCommand::CompleteOnSpot) => {
            if !state.immediate {
                return Err(DomainError::NotImmediate);
            }
            next.status = S::Completed;
            CaseEvent::Completed
        }
        (S::Accepted | S::InStage, CaseCommand::Suspend { reason }) => {
            if reason.trim().is_empty() {
                return Err(DomainError::ReasonRequired);
            }
            next.status = S::Suspended;
            CaseEvent::Suspended
        }
        (
            S::Suspended,
            CaseCommand::Resume {
                to: to @ (S::Accepted | S::InStage),
            },
        ) => {
            next.status = *to;
            CaseEvent::Resumed
        }
        (S::Accepted | S::InStage, CaseCommand::Decide { approve, reason }) => {
            if !approve && reason.trim().is_empty() {
                return Err(DomainError::ReasonRequired);
            }
            next.status = if *approve { S::Completed } else { S::Denied };
            CaseEvent::Decided { approved: *approve }
        }
        (
            S::Submitted | S::CorrectionRequired | S::Accepted | S::InStage | S::Suspended,
            CaseCommand::Withdraw,
        ) => {
            next.status = S::Withdrawn;
            CaseEvent::Withdrawn
        }
        _ => return Err(bad()),
    };
    Ok((next, vec![event]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cmd() -> impl Strategy<Value = CaseCommand> {
        prop_oneof![
            Just(CaseCommand::Submit),
            (0u32..3).prop_map(|d| CaseCommand::Accept { deferred: d }),
            "[a-z ]{0,3}".prop_map(|r| CaseCommand::Reject { reason: r }),
            (0u32..3).prop_map(|p| CaseCommand::NotifyCorrections { problems: p }),
            Just(CaseCommand::Resubmit),
            Just(CaseCommand::OpenStage),
            Just(CaseCommand::CompleteOnSpot),
            Just(CaseCommand::Withdraw),
            "[a-z ]{0,3}".prop_map(|r| CaseCommand::Suspend { reason: r }),
            prop_oneof![
                Just(CaseStatus::Accepted),
                Just(CaseStatus::InStage),
                Just(CaseStatus::Completed)
            ]
            .prop_map(|to| CaseCommand::Resume { to }),
            (any::<bool>(), "[a-z ]{0,3}")
                .prop_map(|(approve, reason)| CaseCommand::Decide { approve, reason }),
        ]
    }

    fn start(immediate: bool) -> CaseState {
        CaseState {
            status: CaseStatus::Draft,
            immediate,
            corrections_issued: 0,
        }
    }

    proptest! {
        /// Whatever is tried, the case only moves along the table in DESIGN.md,
        /// a refused command changes nothing, and a final state is never left.
        #[test]
        fn only_table_transitions(immediate: bool, cmds in proptest::collection::vec(cmd(), 0..30)) {
            use CaseStatus as S;
            let allowed: &[(S, S)] = &[
                (S::Draft, S::Submitted), (S::Submitted, S::Accepted), (S::Submitted, S::Rejected),
                (S::Submitted, S::CorrectionRequired), (S::CorrectionRequired, S::Submitted),
                (S::Accepted, S::InStage), (S::Accepted, S::Completed),
                (S::Submitted, S::Withdrawn), (S::CorrectionRequired, S::Withdrawn),
                (S::Accepted, S::Withdrawn), (S::InStage, S::Withdrawn), (S::Suspended, S::Withdrawn),
                (S::Accepted, S::Suspended), (S::InStage, S::Suspended), (S::Suspended, S::Accepted), (S::Suspended, S::InStage),
                (S::Accepted, S::Denied), (S::InStage, S::Denied), (S::InStage, S::Completed),
            ];
            let mut st = start(immediate);
            for c in &cmds {
                if let Ok((next, events)) = apply(&st, c) {
                        prop_assert!(allowed.contains(&(st.status, next.status)), "{:?} -> {:?}", st.status, next.status);
                        prop_assert_eq!(events.len(), 1);
                        prop_assert!(!st.status.is_final());
                        if next.status == S::Completed && !matches!(c, CaseCommand::Decide { .. }) { prop_assert!(immediate); }
                        if let CaseCommand::Decide { approve: false, reason } = c { prop_assert!(!reason.trim().is_empty()); }
                        st = next;
                }
            }
        }

        /// Accepting twice never succeeds, whatever happened in between.
        #[test]
        fn never_accepted_twice(cmds in proptest::collection::vec(cmd(), 0..30)) {
            let mut st = start(true);
            let mut accepts = 0;
            for c in &cmds {
                if let Ok((next, ev)) = apply(&st, c) {
                    accepts += ev.iter().filter(|e| matches!(e, CaseEvent::Accepted{..})).count();
                    st = next;
                }
            }
            prop_assert!(accepts <= 1);
        }
    }

    #[test]
    fn second_accept_is_a_conflict_code() {
        let st = CaseState {
            status: CaseStatus::Accepted,
            immediate: false,
            corrections_issued: 0,
        };
        let e = apply(&st, &CaseCommand::Accept { deferred: 0 }).unwrap_err();
        assert_eq!(e.code(), "case.already_accepted");
    }

    #[test]
    fn correction_round_trip() {
        let st = start(false);
        let (st, _) = apply(&st, &CaseCommand::Submit).unwrap();
        assert_eq!(
            apply(&st, &CaseCommand::NotifyCorrections { problems: 0 }).unwrap_err(),
            DomainError::EmptyCorrectionNotice
        );
        let (st, _) = apply(&st, &CaseCommand::NotifyCorrections { problems: 2 }).unwrap();
        assert_eq!(st.status, CaseStatus::CorrectionRequired);
        let (st, _) = apply(&st, &CaseCommand::Resubmit).unwrap();
        let (st, _) = apply(&st, &CaseCommand::Accept { deferred: 1 }).unwrap();
        assert_eq!(
            apply(&st, &CaseCommand::CompleteOnSpot).unwrap_err(),
            DomainError::NotImmediate
        );
    }
}
