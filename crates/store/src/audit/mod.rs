//! The audit log: one record per command, written in the command's transaction, chained by
//! hash per stream (a case, or an account) so that a changed or deleted record shows.

use crate::args;
use crate::db::tx::Tx;
use crate::{now_ms, Result};
use sha2::{Digest, Sha256};
use sqlx::Row;
use yichuang_core::Actor;

#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    pub action: &'a str,
    pub case_number: Option<&'a str>,
    pub status_before: Option<&'a str>,
    pub status_after: Option<&'a str>,
    pub detail: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Record {
    pub id: i64,
    pub at: i64,
    pub actor_id: i64,
    pub actor_role: String,
    pub action: String,
    pub case_number: Option<String>,
    pub status_before: Option<String>,
    pub status_after: Option<String>,
    pub client_addr: String,
    pub detail: String,
    pub hash: String,
}

fn digest(prev: &str, at: i64, actor_id: i64, role: &str, addr: &str, e: &Entry<'_>) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &at.to_string(),
        &actor_id.to_string(),
        role,
        e.action,
        e.case_number.unwrap_or(""),
        e.status_before.unwrap_or(""),
        e.status_after.unwrap_or(""),
        addr,
        &e.detail,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// Writes one audit record inside the caller's transaction.
pub async fn record(c: &mut dyn Tx, actor: &Actor, e: Entry<'_>) -> Result<()> {
    let stream = match e.case_number {
        Some(n) => format!("case:{n}"),
        None => format!("account:{}", actor.account_id),
    };
    let at = now_ms();
    let serial = c.serial();
    let known = c.audit_heads().and_then(|h| h.get(&stream).cloned());
    let prev = if let Some(prev) = known {
        prev
    } else if serial {
        // One writer: the stream's last record is its head.
        c.opt_text(
            "SELECT hash FROM audit WHERE stream = $1 ORDER BY id DESC LIMIT 1",
            args![&stream],
        )
        .await?
        .unwrap_or_default()
    } else {
        // The upsert takes the stream's row lock on PostgreSQL, so a chain never forks; setting
        // the hash to itself makes RETURNING give the current head in the same statement.
        c.one(
            "INSERT INTO audit_heads (stream, hash) VALUES ($1, '') \
             ON CONFLICT (stream) DO UPDATE SET hash = audit_heads.hash RETURNING hash",
            args![&stream],
        )
        .await?
        .str("hash")?
    };
    let hash = digest(
        &prev,
        at,
        actor.account_id,
        actor.role_name(),
        &actor.client_addr,
        &e,
    );
    c.exec(
        "INSERT INTO audit (at, stream, actor_id, actor_role, action, case_number, status_before, status_after, client_addr, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        args![at, &stream, actor.account_id, actor.role_name(), e.action, e.case_number, e.status_before, e.status_after, &actor.client_addr, &e.detail, &prev, &hash],
    )
    .await?;
    if let Some(heads) = c.audit_heads() {
        heads.note(stream.clone(), hash.clone());
    }
    if !serial {
        c.exec(
            "UPDATE audit_heads SET hash = $1 WHERE stream = $2",
            args![&hash, &stream],
        )
        .await?;
    }
    Ok(())
}

fn row_to_record(r: &sqlx::any::AnyRow) -> Result<Record> {
    Ok(Record {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor_id: r.try_get("actor_id")?,
        actor_role: r.try_get("actor_role")?,
        action: r.try_get("action")?,
        case_number: r.try_get("case_number")?,
        status_before: r.try_get("status_before")?,
        status_after: r.try_get("status_after")?,
        client_addr: r.try_get("client_addr")?,
        detail: r.try_get("detail")?,
        hash: r.try_get("hash")?,
    })
}

impl crate::Store {
    /// Audit records of one case, oldest first.
    pub async fn audit_for_case(&self, number: &str) -> Result<Vec<Record>> {
        let rows = sqlx::query("SELECT * FROM audit WHERE stream = $1 ORDER BY id")
            .bind(format!("case:{number}"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_record).collect()
    }

    /// Recomputes a case's chain; false when any record was changed or removed.
    pub async fn verify_case_chain(&self, number: &str) -> Result<bool> {
        let rows = sqlx::query("SELECT * FROM audit WHERE stream = $1 ORDER BY id")
            .bind(format!("case:{number}"))
            .fetch_all(self.pool())
            .await?;
        let mut prev = String::new();
        for r in &rows {
            let role: String = r.try_get("actor_role")?;
            let addr: String = r.try_get("client_addr")?;
            let stored_prev: String = r.try_get("prev_hash")?;
            let action: String = r.try_get("action")?;
            let case_number: Option<String> = r.try_get("case_number")?;
            let before: Option<String> = r.try_get("status_before")?;
            let after: Option<String> = r.try_get("status_after")?;
            let e = Entry {
                action: &action,
                case_number: case_number.as_deref(),
                status_before: before.as_deref(),
                status_after: after.as_deref(),
                detail: r.try_get("detail")?,
            };
            let hash = digest(
                &prev,
                r.try_get("at")?,
                r.try_get("actor_id")?,
                &role,
                &addr,
                &e,
            );
            let stored: String = r.try_get("hash")?;
            if stored_prev != prev || stored != hash {
                return Ok(false);
            }
            prev = hash;
        }
        Ok(true)
    }
}
