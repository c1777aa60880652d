//! 办结 on the case row: the working days used and whether each limit was kept.

use crate::args;
use crate::cases::row::stored_deadlines;
use crate::db::tx::Tx;
use crate::Result;
use yichuang_core::calendar::Calendar;

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
    c.exec(
        "UPDATE cases SET concluded_on = $1, days_used = $2, within_internal = $3, within_promised = $4, within_legal = $5, decided_by = $6, next_alert_on = NULL WHERE id = $7",
        args,
    )
    .await?;
    Ok(())
}

/// The case's columns [`conclusion_of`] reads.
macro_rules! deadline_columns {
    () => {
        "accepted_on, internal_due, promised_due, legal_due, yellow_from, stopped_days"
    };
}
pub(crate) use deadline_columns;

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
