//! A case change's audit record, with the applicant's notices it causes, in the same
//! transaction.

use crate::audit::{self, Entry};
use crate::db::tx::Tx;
use crate::Result;
use yichuang_core::{Actor, CaseStatus};

pub(crate) async fn audit_case(
    c: &mut dyn Tx,
    actor: &Actor,
    action: &str,
    number: Option<&str>,
    before: CaseStatus,
    after: CaseStatus,
    detail: String,
) -> Result<()> {
    let stream_number = number.map(str::to_string);
    audit::record(
        c,
        actor,
        Entry {
            action,
            case_number: stream_number.as_deref(),
            status_before: Some(before.as_str()),
            status_after: Some(after.as_str()),
            detail,
        },
    )
    .await?;
    // The applicant's notice commits with the change it tells of, or not at all.
    crate::notify::events::on_case_change(c, number, before, after).await
}
