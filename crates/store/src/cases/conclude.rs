//! 办结 on the case row: the working days used and whether each limit was kept.

use crate::args;
use crate::cases::row::stored_deadlines;
use crate::cases::sql;
use crate::db::tx::Tx;
use crate::Result;
use yichuang_core::calendar::Calendar;
use yichuang_core::CaseStatus;

/// Records, for a case whose deadlines are stored, the working days used and whether each
/// limit was kept, concluded on `on` by `by`. Part of the concluding transaction.
pub(crate) async fn record_conclusion(
    c: &mut dyn Tx,
    id: i64,
    cal: &Calendar,
    on: time::Date,
    by: Option<i64>,
) -> Result<()> {
    let Some(done) = conclusion(c, id, cal, on).await? else {
        return Ok(());
    };
    let mut args = conclusion_args(&done, by);
    args.push(id.into());
    c.exec(sql::RECORD_CONCLUSION, args).await?;
    Ok(())
}

/// The case's columns [`conclusion_of`] reads.
macro_rules! deadline_columns {
    () => {
        "accepted_on, internal_due, promised_due, legal_due, yellow_from, stopped_days"
    };
}

/// How a case concluding on `on` kept its limits; None if it has no deadlines (never accepted).
pub(crate) async fn conclusion(
    c: &mut dyn Tx,
    id: i64,
    cal: &Calendar,
    on: time::Date,
) -> Result<Option<yichuang_core::deadline::Conclusion>> {
    let r = c
        .one(
            concat!("SELECT ", deadline_columns!(), " FROM cases WHERE id = $1"),
            args![id],
        )
        .await?;
    conclusion_of(&r, cal, on)
}

/// [`conclusion`] from the case's row (with [`deadline_columns`]) read in this transaction.
pub(crate) fn conclusion_of(
    r: &crate::db::tx::Row,
    cal: &Calendar,
    on: time::Date,
) -> Result<Option<yichuang_core::deadline::Conclusion>> {
    let Some(d) = stored_deadlines(r)? else {
        return Ok(None);
    };
    Ok(Some(d.conclusion(cal, on, r.i64("stopped_days")?)))
}

/// The values of [`record_conclusion`]'s columns, `$1`…`$6`.
pub(crate) fn conclusion_args(
    done: &yichuang_core::deadline::Conclusion,
    by: Option<i64>,
) -> Vec<crate::db::tx::Val> {
    args![
        done.concluded_on.to_string(),
        done.days_used,
        i64::from(done.within_internal),
        i64::from(done.within_promised),
        i64::from(done.within_legal),
        by
    ]
}

/// 办结 through a workflow: out of its open-case bucket, then the status, the decision's
/// `reason`, the conclusion (how it kept its limits, when it has deadlines) and the flow's end
/// (`flow`: stage and result) in one statement. The case's bucket and its limits come from one
/// read of the row (locked by this transaction since its first statement).
pub(crate) async fn conclude_flow(
    c: &mut dyn Tx,
    case_id: i64,
    status: CaseStatus,
    reason: &str,
    flow: (i64, Option<i64>),
    by: Option<i64>,
    (cal, today): (&Calendar, time::Date),
) -> Result<()> {
    let row = c
        .one(
            concat!(
                "SELECT ",
                crate::cases::buckets::bucket_columns!(),
                ", ",
                deadline_columns!(),
                " FROM cases WHERE id = $1"
            ),
            args![case_id],
        )
        .await?;
    crate::cases::buckets::bucket_delta_of(c, case_id, &row, -1).await?;
    let now = crate::now_ms();
    let (stage, result) = flow;
    match conclusion_of(&row, cal, today)? {
        Some(done) => {
            let mut args = conclusion_args(&done, by);
            args.extend(args![status.as_str(), now, reason, case_id, stage, result]);
            c.exec(sql::CONCLUDE_FLOW_DATED, args).await?;
        }
        None => {
            c.exec(
                sql::CONCLUDE_FLOW,
                args![status.as_str(), now, reason, case_id, stage, result],
            )
            .await?;
        }
    }
    Ok(())
}
