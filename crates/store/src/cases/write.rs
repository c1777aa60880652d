//! The writes of the `cases` row.

use crate::args;
use crate::cases::row::Row0;
use crate::db::tx::Tx;
use crate::{now_ms, Result, StoreError};
use yichuang_core::CaseStatus;

pub(crate) async fn set_status(
    c: &mut dyn Tx,
    row: &Row0,
    next: CaseStatus,
    extra_sql: &str,
) -> Result<()> {
    let sql = format!(
        "UPDATE cases SET status = $1, version = version + 1, updated_at = $2{extra_sql} WHERE id = $3 AND version = $4"
    );
    let done = c
        .exec(&sql, args![next.as_str(), now_ms(), row.id, row.version])
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
