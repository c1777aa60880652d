//! A case row as a command loads it in its transaction, who may act on it, and the audit
//! record (with the applicant's notices) of every case change.

use crate::args;
use crate::db::tx::Tx;
use crate::{Result, Store, StoreError};
use yichuang_core::catalog::ServiceItem;
use yichuang_core::deadline::Deadlines;
use yichuang_core::{Actor, CaseState, CaseStatus, Permission};

pub(crate) struct Row0 {
    pub(crate) id: i64,
    pub(crate) number: Option<String>,
    pub(crate) item_code: String,
    pub(crate) applicant_id: i64,
    pub(crate) status: CaseStatus,
    pub(crate) region: String,
    pub(crate) channel: String,
    pub(crate) version: i64,
    pub(crate) form: String,
    pub(crate) commitment_signed: bool,
    pub(crate) item: std::sync::Arc<ServiceItem>,
}

pub(crate) async fn load(c: &mut dyn Tx, id: i64) -> Result<Row0> {
    let r = c.opt("SELECT c.id, c.number, c.item_code, c.applicant_id, c.status, c.region, c.channel, c.version, c.form, c.commitment_signed, i.updated_at AS item_version \
         FROM cases c JOIN items i ON i.code = c.item_code WHERE c.id = $1", args![id])
    .await?
    .ok_or_else(StoreError::no_case)?;
    let status: String = r.try_get("status")?;
    Ok(Row0 {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        item_code: r.try_get("item_code")?,
        applicant_id: r.try_get("applicant_id")?,
        status: CaseStatus::parse(&status)
            .ok_or_else(|| StoreError::Unavailable(format!("unknown status {status}")))?,
        region: r.try_get("region")?,
        channel: r.try_get("channel")?,
        version: r.try_get("version")?,
        form: r.try_get("form")?,
        commitment_signed: r.try_get::<i64, _>("commitment_signed")? != 0,
        item: crate::catalog::item_by_version(c, &r.str("item_code")?, r.i64("item_version")?)
            .await?,
    })
}

/// The applicant, or a window clerk for a walk-in case in their region.
pub(crate) fn may_edit(actor: &Actor, row: &Row0) -> bool {
    actor.owns(row.applicant_id)
        || (row.channel == "window" && actor.may_in(Permission::WalkIn, &row.region))
}

pub(crate) fn may_read(actor: &Actor, row_applicant: i64, region: &str) -> bool {
    actor.owns(row_applicant) || actor.may_in(Permission::ReadCases, region)
}

/// The deadlines stored on a case row, once it has been accepted.
pub(crate) fn stored_deadlines(r: &crate::db::tx::Row) -> Result<Option<Deadlines>> {
    let date = |col: &str| -> Result<Option<time::Date>> {
        r.opt_str(col)?
            .map(|s| {
                yichuang_core::calendar::parse_date(&s)
                    .map_err(|e| StoreError::Unavailable(e.to_string()))
            })
            .transpose()
    };
    Ok(
        match (
            date("accepted_on")?,
            date("internal_due")?,
            date("promised_due")?,
            date("legal_due")?,
            date("yellow_from")?,
        ) {
            (Some(accepted_on), Some(internal), Some(promised), Some(legal), Some(yellow_from)) => {
                Some(Deadlines {
                    accepted_on,
                    internal,
                    promised,
                    legal,
                    yellow_from,
                })
            }
            _ => None,
        },
    )
}

pub(crate) fn state_of(row: &Row0) -> CaseState {
    CaseState {
        status: row.status,
        immediate: row.item.is_immediate(),
        corrections_issued: 0,
    }
}

impl Store {
    /// The calendar of a case's region (the nation's days overlaid by the region's own).
    pub(crate) async fn case_calendar(
        &self,
        id: i64,
    ) -> Result<std::sync::Arc<yichuang_core::calendar::Calendar>> {
        let region: Option<String> = sqlx::query_scalar("SELECT region FROM cases WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(region) = region else {
            return Err(StoreError::no_case());
        };
        self.calendar(Some(&region)).await
    }
}
