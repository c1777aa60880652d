//! The public status page's brake on guessing: wrong tries per client slow, then block.

use crate::args;
use crate::{now_ms, Result, Store};

/// What the status page may do for a client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGate {
    Open,
    /// Answer, but only after this many milliseconds.
    Slow(u64),
    /// Refuse until this many milliseconds have passed.
    Blocked(u64),
}

/// Wrong tries counted per address over this window.
const TRY_WINDOW_MS: i64 = 15 * 60_000;

/// After this many wrong tries each answer is slowed…
const SLOW_AFTER: i64 = 5;

/// …and after this many the address is blocked.
const BLOCK_AFTER: i64 = 10;

const BLOCK_MS: i64 = 15 * 60_000;

impl Store {
    /// Takes one try for a client before the lookup, counted as wrong until
    /// [`Store::status_right`] says otherwise. Taking it first, in one statement, means a burst
    /// of parallel guesses is counted as it arrives rather than after it has been answered.
    pub async fn status_try(&self, client: &str) -> Result<TryGate> {
        let client = client.to_string();
        self.write(move |c| {
            Box::pin(async move {
                let now = now_ms();
                let r = c
                    .one(
                        "INSERT INTO status_tries (client, failures, window_start, blocked_until) VALUES ($1, 1, $2, 0) \
                         ON CONFLICT (client) DO UPDATE SET \
                           failures = CASE WHEN status_tries.blocked_until > $2 THEN status_tries.failures \
                                           WHEN $2 - status_tries.window_start >= $3 THEN 1 ELSE status_tries.failures + 1 END, \
                           window_start = CASE WHEN status_tries.blocked_until > $2 THEN status_tries.window_start \
                                               WHEN $2 - status_tries.window_start >= $3 THEN $2 ELSE status_tries.window_start END \
                         RETURNING failures, blocked_until",
                        args![&client, now, TRY_WINDOW_MS],
                    )
                    .await?;
                let blocked = r.i64("blocked_until")?;
                if blocked > now {
                    return Ok(TryGate::Blocked((blocked - now) as u64));
                }
                let f = r.i64("failures")?;
                if f > BLOCK_AFTER {
                    c.exec(
                        "UPDATE status_tries SET blocked_until = $1, failures = 0, window_start = $2 WHERE client = $3",
                        args![now + BLOCK_MS, now, &client],
                    )
                    .await?;
                    return Ok(TryGate::Blocked(BLOCK_MS as u64));
                }
                Ok(if f > SLOW_AFTER {
                    TryGate::Slow((f - SLOW_AFTER).min(5) as u64 * 1000)
                } else {
                    TryGate::Open
                })
            })
        })
        .await
    }

    /// The try taken by [`Store::status_try`] found its case: it does not count as wrong.
    pub async fn status_right(&self, client: &str) -> Result<()> {
        let client = client.to_string();
        self.write(move |c| {
            Box::pin(async move {
                c.exec(
                    "UPDATE status_tries SET failures = failures - 1 WHERE client = $1 AND failures > 0",
                    args![&client],
                )
                .await
                .map(|_| ())
            })
        })
        .await
    }
}
