//! `Idempotency-Key`s: the same key and request give the same answer.

use crate::args;
use crate::{now_ms, Result, Store};

/// Where an `Idempotency-Key` stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// First use: run the request, then record its answer.
    Fresh,
    /// Same key, same request: give the recorded answer again.
    Replay(u16, String),
    /// Same key, another request.
    Mismatch,
    /// The first request with this key has not finished.
    InFlight,
}

impl Store {
    pub async fn idempotency_begin(
        &self,
        account_id: i64,
        key: &str,
        request_hash: &str,
    ) -> Result<Idempotency> {
        let (key, hash) = (key.to_string(), request_hash.to_string());
        self.write(move |c| {
            Box::pin(async move {
                let inserted = c
                    .exec(
                        "INSERT INTO idempotency (account_id, key, request_hash, status, body, created_at) VALUES ($1,$2,$3,0,'',$4) \
                         ON CONFLICT (account_id, key) DO NOTHING",
                        args![account_id, &key, &hash, now_ms()],
                    )
                    .await?;
                if inserted == 1 {
                    return Ok(Idempotency::Fresh);
                }
                let r = c
                    .one("SELECT request_hash, status, body FROM idempotency WHERE account_id = $1 AND key = $2", args![account_id, &key])
                    .await?;
                Ok(if r.str("request_hash")? != hash {
                    Idempotency::Mismatch
                } else {
                    match r.i64("status")? {
                        0 => Idempotency::InFlight,
                        s => Idempotency::Replay(s as u16, r.str("body")?),
                    }
                })
            })
        })
        .await
    }

    /// Records the answer; `None` forgets the key (the request failed and may be tried again).
    pub async fn idempotency_finish(
        &self,
        account_id: i64,
        key: &str,
        answer: Option<(u16, String)>,
    ) -> Result<()> {
        let key = key.to_string();
        self.write(move |c| {
            Box::pin(async move {
                match answer {
                    Some((status, body)) => c
                        .exec("UPDATE idempotency SET status = $1, body = $2 WHERE account_id = $3 AND key = $4", args![i64::from(status), body, account_id, key])
                        .await?,
                    None => c.exec("DELETE FROM idempotency WHERE account_id = $1 AND key = $2", args![account_id, key]).await?,
                };
                Ok(())
            })
        })
        .await
    }
}
