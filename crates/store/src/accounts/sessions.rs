//! Logins and sessions.

use crate::accounts::account::Account;
use crate::args;
use crate::audit::{self, Entry};
use crate::{now_ms, Result, Store};
use sha2::{Digest, Sha256};
use sqlx::Row;
use yichuang_core::Actor;

#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub csrf: String,
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Records a login attempt's outcome; five failures lock the account for ten minutes.
    pub async fn login_outcome(&self, id: i64, ok: bool, addr: &str) -> Result<()> {
        let addr = addr.to_string();
        self.write(move |c| {
            Box::pin(async move {
                if ok {
                    c.exec("UPDATE accounts SET failed_logins = 0 WHERE id = $1", args![id])
                        .await?;
                } else {
                    c.exec("UPDATE accounts SET failed_logins = failed_logins + 1, \
                         locked_until = CASE WHEN failed_logins + 1 >= 5 THEN $2 ELSE locked_until END WHERE id = $1", args![id, now_ms() + 10 * 60 * 1000])
                    .await?;
                }
                let actor = Actor { account_id: id, kind: yichuang_core::ActorKind::Applicant, client_addr: addr };
                audit::record(c, &actor, Entry {
                    action: if ok { "login.ok" } else { "login.failed" },
                    ..Default::default()
                })
                .await
            })
        })
        .await
    }

    pub async fn create_session(
        &self,
        account_id: i64,
        token: &str,
        csrf: &str,
        ttl_ms: i64,
    ) -> Result<()> {
        let (th, csrf) = (token_hash(token), csrf.to_string());
        self.write(move |c| {
            Box::pin(async move {
                let now = now_ms();
                c.exec("DELETE FROM sessions WHERE expires_at < $1", args![now])
                    .await?;
                c.exec("INSERT INTO sessions (token_hash, account_id, csrf, created_at, last_seen, expires_at, idle_ms) VALUES ($1,$2,$3,$4,$4,$5,$6)", args![th, account_id, csrf, now, now + ttl_ms, ttl_ms])
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// The live session for a token. A session ends after its idle time without use; each use
    /// extends it (written at most once a minute, so reads stay reads).
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let th = token_hash(token);
        let r = sqlx::query(
            "SELECT account_id, csrf, expires_at, last_seen, idle_ms FROM sessions WHERE token_hash = $1",
        )
        .bind(&th)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let exp: i64 = r.try_get("expires_at")?;
        let now = now_ms();
        if exp < now {
            return Ok(None);
        }
        let last_seen: i64 = r.try_get("last_seen")?;
        let idle: i64 = r.try_get("idle_ms")?;
        if now - last_seen > 60_000 {
            self.write(move |c| {
                Box::pin(async move {
                    c.exec(
                        "UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE token_hash = $3",
                        args![now, now + idle, th],
                    )
                    .await?;
                    Ok(())
                })
            })
            .await?;
        }
        let Some(account) = self.account(r.try_get("account_id")?).await? else {
            return Ok(None);
        };
        if !account.active {
            return Ok(None);
        }
        Ok(Some(Session {
            account,
            csrf: r.try_get("csrf")?,
        }))
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        let th = token_hash(token);
        self.write(move |c| {
            Box::pin(async move {
                c.exec("DELETE FROM sessions WHERE token_hash = $1", args![th])
                    .await?;
                Ok(())
            })
        })
        .await
    }
}
