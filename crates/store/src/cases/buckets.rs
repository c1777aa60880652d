//! The open-case buckets the supervision dashboard counts: each open case with deadlines is
//! in the bucket of its region, department, item, handler and dates, and moves with its row.

use crate::args;
use crate::db::tx::Tx;
use crate::{Result, Store};

/// Open-case buckets per key (matches the `id % 8` of migration 0015 and the rebuild).
const BUCKET_SHARDS: i64 = 8;

/// The case's columns that say which bucket it is in, for [`bucket_delta_of`].
macro_rules! bucket_columns {
    () => {
        "region, department, item_code, COALESCE(handled_by, 0) AS handled_by, yellow_from, internal_due, promised_due, legal_due, status"
    };
}
pub(crate) use bucket_columns;

/// Adds `delta` to the open-case bucket of a case (its current dates and handler). Call with
/// -1 before a change that moves the case out of the bucket and +1 after it.
pub async fn bucket_delta(c: &mut dyn Tx, case_id: i64, delta: i64) -> Result<()> {
    let Some(r) = c
        .opt(
            concat!("SELECT ", bucket_columns!(), " FROM cases WHERE id = $1"),
            args![case_id],
        )
        .await?
    else {
        return Ok(());
    };
    bucket_delta_of(c, case_id, &r, delta).await
}

/// [`bucket_delta`] for a case whose row (with [`bucket_columns`]) this transaction has read.
pub(crate) async fn bucket_delta_of(
    c: &mut dyn Tx,
    case_id: i64,
    r: &crate::db::tx::Row,
    delta: i64,
) -> Result<()> {
    // A case in a special procedure has its clock stopped: it has no light to count.
    let open = matches!(r.str("status")?.as_str(), "accepted" | "in_stage");
    let (Some(y), Some(i), Some(p), Some(l)) = (
        r.opt_str("yellow_from")?,
        r.opt_str("internal_due")?,
        r.opt_str("promised_due")?,
        r.opt_str("legal_due")?,
    ) else {
        return Ok(());
    };
    if !open {
        return Ok(());
    }
    // Eight shards by case id: concurrent acceptances rarely wait on one row's lock.
    let key = args![
        r.str("region")?,
        r.str("department")?,
        r.str("item_code")?,
        r.i64("handled_by")?,
        y,
        i,
        p,
        l,
        case_id % BUCKET_SHARDS,
        delta
    ];
    c.exec(
        "INSERT INTO open_buckets (region, department, item_code, handled_by, yellow_from, internal_due, promised_due, legal_due, shard, n) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (region, department, item_code, handled_by, yellow_from, internal_due, promised_due, legal_due, shard) DO UPDATE SET n = open_buckets.n + excluded.n",
        key.clone(),
    )
    .await?;
    // Only this bucket can have emptied: a lookup by key, not a scan of every bucket.
    if delta < 0 {
        c.exec(
            "DELETE FROM open_buckets WHERE region = $1 AND department = $2 AND item_code = $3 AND handled_by = $4 \
             AND yellow_from = $5 AND internal_due = $6 AND promised_due = $7 AND legal_due = $8 AND shard = $9 AND n <= 0",
            key[..9].to_vec(),
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// Recounts the open-case buckets from the cases (after a bulk load, or to check them).
    pub async fn rebuild_open_buckets(&self) -> Result<()> {
        self.write(|c| {
            Box::pin(async move {
                c.exec("DELETE FROM open_buckets", args![]).await?;
                c.exec(
                    "INSERT INTO open_buckets (region, department, item_code, handled_by, yellow_from, internal_due, promised_due, legal_due, shard, n) \
                     SELECT region, department, item_code, COALESCE(handled_by, 0), yellow_from, internal_due, promised_due, legal_due, id % 8, COUNT(*) \
                     FROM cases WHERE status IN ('accepted', 'in_stage') AND yellow_from IS NOT NULL AND internal_due IS NOT NULL \
                     AND promised_due IS NOT NULL AND legal_due IS NOT NULL \
                     GROUP BY region, department, item_code, COALESCE(handled_by, 0), yellow_from, internal_due, promised_due, legal_due, id % 8",
                    args![],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }
}
