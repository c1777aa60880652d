//! The writes of the `cases` row, each one statement of [`super::sql`]. Other modules change a
//! case through these functions; none of them writes the row itself.

use crate::args;
use crate::cases::row::Row0;
use crate::cases::sql;
use crate::db::tx::{Tx, Val};
use crate::{now_ms, Result, StoreError};
use yichuang_core::deadline::Deadlines;
use yichuang_core::CaseStatus;

/// A status change guarded by the version the command read; a conflict when it moved.
pub(crate) async fn set_status(c: &mut dyn Tx, row: &Row0, next: CaseStatus) -> Result<()> {
    guarded_status(c, sql::SET_STATUS, row, next).await
}

/// [`set_status`] that also completes the case (`completed_at`).
pub(crate) async fn set_status_completed(
    c: &mut dyn Tx,
    row: &Row0,
    next: CaseStatus,
) -> Result<()> {
    guarded_status(c, sql::SET_STATUS_COMPLETED, row, next).await
}

async fn guarded_status(
    c: &mut dyn Tx,
    sql: &'static str,
    row: &Row0,
    next: CaseStatus,
) -> Result<()> {
    let done = c
        .exec(sql, args![next.as_str(), now_ms(), row.id, row.version])
        .await?;
    if done != 1 {
        return Err(StoreError::conflict(
            "case.changed",
            "The case was changed by someone else; reload and try again.",
            "办件已被他人更新，请刷新后重试。",
        ));
    }
    Ok(())
}

/// A draft's form and commitment, guarded by `version`; the rows changed.
pub(crate) async fn save_draft(
    c: &mut dyn Tx,
    id: i64,
    version: i64,
    form_json: String,
    commitment: bool,
) -> Result<u64> {
    c.exec(
        sql::SAVE_DRAFT,
        args![form_json, i64::from(commitment), now_ms(), id, version],
    )
    .await
}

/// Submission (`resubmit`: after a correction notice) with the case's number, guarded by
/// `version`; the rows changed.
pub(crate) async fn submitted(
    c: &mut dyn Tx,
    resubmit: bool,
    next: CaseStatus,
    id: i64,
    version: i64,
    number: &str,
) -> Result<u64> {
    let sql = if resubmit { sql::RESUBMIT } else { sql::SUBMIT };
    c.exec(sql, args![next.as_str(), now_ms(), id, version, number])
        .await
}

/// Which of the window's statements a decision writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WindowWrite {
    /// Acceptance; `dated`: with its deadlines; `flow`: and its workflow's first stage
    /// (a workflow starts only on a dated acceptance).
    Accept {
        dated: bool,
        flow: bool,
    },
    Reject,
    Corrections,
    /// Completion on the spot; `accepted_too`: of a case submitted, not yet accepted.
    CompleteOnSpot {
        accepted_too: bool,
        dated: bool,
    },
}

impl WindowWrite {
    fn sql(self) -> &'static str {
        match self {
            WindowWrite::Accept {
                dated: true,
                flow: true,
            } => sql::ACCEPT_DATED_FLOW,
            WindowWrite::Accept { dated: true, .. } => sql::ACCEPT_DATED,
            WindowWrite::Accept { dated: false, .. } => sql::ACCEPT,
            WindowWrite::Reject => sql::REJECT,
            WindowWrite::Corrections => sql::CORRECTIONS,
            WindowWrite::CompleteOnSpot {
                accepted_too: false,
                dated: false,
            } => sql::COMPLETE_ON_SPOT,
            WindowWrite::CompleteOnSpot {
                accepted_too: false,
                dated: true,
            } => sql::COMPLETE_ON_SPOT_DATED,
            WindowWrite::CompleteOnSpot {
                accepted_too: true,
                dated: false,
            } => sql::ACCEPT_COMPLETE_ON_SPOT,
            WindowWrite::CompleteOnSpot {
                accepted_too: true,
                dated: true,
            } => sql::ACCEPT_COMPLETE_ON_SPOT_DATED,
        }
    }
}

/// The window's decision on the case row, guarded by the version: `args` are `$1`…`$14` (status,
/// now, id, version, handler, reason, the five deadline dates, the flow's stage, result and
/// snapshot), each statement taking those it names. The rows changed.
pub(crate) async fn window_decision(
    c: &mut dyn Tx,
    write: WindowWrite,
    args: Vec<Val>,
) -> Result<u64> {
    c.exec(write.sql(), args).await
}

/// A decision's reasons.
pub(crate) async fn set_decision_reason(c: &mut dyn Tx, id: i64, reason: String) -> Result<()> {
    c.exec(sql::SET_DECISION_REASON, args![reason, id]).await?;
    Ok(())
}

/// The workflow's stage and result (the case's version moves with its stage).
pub(crate) async fn set_flow(
    c: &mut dyn Tx,
    case_id: i64,
    stage: i64,
    result: Option<i64>,
) -> Result<()> {
    c.exec(sql::SET_FLOW, args![stage, result, case_id]).await?;
    Ok(())
}

/// A special procedure ended: `stopped` working days in all, deadlines `d` moved by them.
pub(crate) async fn shift_deadlines(
    c: &mut dyn Tx,
    id: i64,
    stopped: i64,
    d: &Deadlines,
    next_alert_on: Option<String>,
) -> Result<()> {
    c.exec(
        sql::SHIFT_DEADLINES,
        args![
            stopped,
            d.internal.to_string(),
            d.promised.to_string(),
            d.legal.to_string(),
            d.yellow_from.to_string(),
            next_alert_on,
            id
        ],
    )
    .await?;
    Ok(())
}

/// Deadlines fixed anew from `d.accepted_on`, supervision starting over.
pub(crate) async fn set_deadlines(c: &mut dyn Tx, id: i64, d: &Deadlines) -> Result<()> {
    c.exec(
        sql::SET_DEADLINES,
        args![
            d.accepted_on.to_string(),
            d.internal.to_string(),
            d.promised.to_string(),
            d.legal.to_string(),
            d.yellow_from.to_string(),
            id
        ],
    )
    .await?;
    Ok(())
}

/// Nothing due for supervision until a command sets a new date.
pub(crate) async fn clear_next_alert(c: &mut dyn Tx, id: i64) -> Result<()> {
    c.exec(sql::CLEAR_NEXT_ALERT, args![id]).await?;
    Ok(())
}

/// The day the next supervision line is due.
pub(crate) async fn set_next_alert(c: &mut dyn Tx, id: i64, next: Option<String>) -> Result<()> {
    c.exec(sql::SET_NEXT_ALERT, args![next, id]).await?;
    Ok(())
}

/// Claims supervision line `level` (from `done`); 1 when this transaction has it.
pub(crate) async fn claim_alert(
    c: &mut dyn Tx,
    id: i64,
    level: u8,
    next: Option<String>,
    done: u8,
) -> Result<u64> {
    c.exec(
        sql::CLAIM_ALERT,
        args![i64::from(level), next, id, i64::from(done)],
    )
    .await
}

/// A part case joins its bundle application.
pub(crate) async fn set_bundle_app(c: &mut dyn Tx, id: i64, app: i64) -> Result<()> {
    c.exec(sql::SET_BUNDLE_APP, args![app, id]).await?;
    Ok(())
}

/// A bundle part's share of the bundle's form.
pub(crate) async fn set_bundle_form(c: &mut dyn Tx, id: i64, form_json: String) -> Result<()> {
    c.exec(sql::SET_BUNDLE_FORM, args![form_json, now_ms(), id])
        .await?;
    Ok(())
}

/// The benchmark's steady state: every open case's alerts as if the worker had sent what was
/// due by `today`.
pub(crate) async fn settle_alerts(
    c: &mut dyn Tx,
    backend: crate::Backend,
    today: String,
) -> Result<()> {
    c.exec(sql::SETTLE_ALERTED, args![today]).await?;
    let next = match backend {
        crate::Backend::Sqlite => sql::SETTLE_NEXT_ALERT_SQLITE,
        crate::Backend::Postgres => sql::SETTLE_NEXT_ALERT_POSTGRES,
    };
    c.exec(next, args![]).await?;
    Ok(())
}
