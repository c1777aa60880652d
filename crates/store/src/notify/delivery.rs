//! Delivery: claiming due notices, recording how each send ended, the delivery log, resends.

use crate::args;
use crate::common::random_key;
use crate::common::Page;
use crate::notify::scope::admin_range;
use crate::notify::texts::absolute;
use crate::notify::texts::edited;
use crate::{now_ms, Backend, Result, Store, StoreError};
use yichuang_core::notify::{Channel, Event, Fields, Lang};
use yichuang_core::Actor;

/// The claim of a worker pass on one channel's due notices, along that channel's own index
/// (SQLite: one partial index per channel; PostgreSQL: (channel, next_at)). The channel is
/// written into the statement, a code of ours and never user input: SQLite uses a partial
/// index only for a statement that names what the index is limited to.
pub(crate) fn claim_sql(ch: Channel, lock: &str) -> String {
    format!(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1, claim = $4 WHERE id IN \
         (SELECT id FROM outbox WHERE status IN ('queued', 'failed') AND channel = '{}' AND next_at <= $2 AND locked_until <= $2 \
         ORDER BY next_at LIMIT $3{lock}) \
         RETURNING id, event, region, channel, address, address_masked, lang, fields, idem_key, attempts, claim",
        ch.code()
    )
}

/// A notice the worker has claimed, with its text rendered.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub event: String,
    pub channel: Channel,
    pub address: String,
    pub address_masked: String,
    pub subject: String,
    pub body: String,
    pub idem_key: String,
    pub attempts: i64,
    /// The claiming pass's token; the result is recorded only while it still holds.
    pub claim: String,
}

/// How a send ended, with the provider's answer.
#[derive(Debug, Clone)]
pub enum Delivered {
    Sent(String),
    /// Tried again at `at` (ms). `counted: false` when the send never reached the provider
    /// (its channel was paused by the breaker): the claim's attempt is given back.
    Retry {
        answer: String,
        at: i64,
        counted: bool,
    },
    GivenUp(String),
}

/// One line of the delivery log; addresses masked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub event: String,
    pub case_number: Option<String>,
    pub channel: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub provider_answer: Option<String>,
    pub subject: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub next_at: i64,
}

impl Store {
    /// Claims up to `limit` due notices on the given channels (those with a provider that is
    /// up) for this worker, and renders them. Each claim counts as an attempt.
    ///
    /// A claimed notice stays with its worker for `lease_ms`; a worker killed mid-send leaves
    /// it to be claimed again after that (the provider drops the second copy by its key).
    pub async fn claim_notices(
        &self,
        limit: i64,
        only: &[Channel],
        lease_ms: i64,
        public_url: &str,
    ) -> Result<Vec<Outgoing>> {
        if only.is_empty() {
            return Ok(vec![]);
        }
        let now = now_ms();
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // One channel at a time: a channel's backlog never slows the others' claims. The token
        // marks this pass's claims for recording.
        let token = random_key();
        let channels: Vec<Channel> = only.to_vec();
        let per = (limit / channels.len() as i64).max(1);
        let rows = self
            .write(move |c| {
                Box::pin(async move {
                    let mut rows = Vec::new();
                    for ch in channels {
                        rows.extend(
                            c.query(
                                &claim_sql(ch, lock),
                                args![now + lease_ms, now, per, &token],
                            )
                            .await?,
                        );
                    }
                    Ok(rows)
                })
            })
            .await?;
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let templates = self.template_map().await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut unknown = Vec::new();
        for r in rows {
            let event = r.str("event")?;
            let lang = r.str("lang")?;
            // A notice of an event this build does not know (a newer server wrote it during
            // a rolling upgrade) waits for that server; put back for a while, uncounted.
            let Some(ev) = Event::parse(&event) else {
                unknown.push(r.i64("id")?);
                continue;
            };
            let mut fields: Fields = serde_json::from_str(&r.str("fields")?).unwrap_or_default();
            absolute(&mut fields.url, public_url);
            let l = Lang::parse(&lang).unwrap_or(Lang::Zh);
            let (subject, body) = match edited(&templates, &r.str("region")?, &event, &lang) {
                Some((s, b)) => yichuang_core::notify::render(s, b, &fields),
                None => Err(yichuang_core::notify::TemplateError::Empty { part: "body" }),
            }
            .or_else(|e| {
                if !matches!(e, yichuang_core::notify::TemplateError::Empty { .. }) {
                    tracing::warn!(event = %ev, lang = %lang, error = %e, "edited notice text failed; the built-in text was sent");
                }
                // Only the built-in text is left when no edited one renders; it always does.
                let (s, b) = ev.default_template(l);
                yichuang_core::notify::render(s, b, &fields)
            })
            .unwrap_or_else(|e| (ev.name_zh().to_string(), e.to_string()));
            out.push(Outgoing {
                id: r.i64("id")?,
                event,
                channel: Channel::parse(&r.str("channel")?).unwrap_or(Channel::Inapp),
                address: r.str("address")?,
                address_masked: r.str("address_masked")?,
                subject,
                body,
                idem_key: r.str("idem_key")?,
                attempts: r.i64("attempts")?,
                claim: r.str("claim")?,
            });
        }
        if !unknown.is_empty() {
            self.write(move |c| {
                Box::pin(async move {
                    for id in unknown {
                        c.exec(
                            "UPDATE outbox SET attempts = attempts - 1, next_at = $1, locked_until = 0, claim = NULL WHERE id = $2",
                            args![now + 600_000, id],
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .await?;
        }
        Ok(out)
    }

    /// Records how each send ended; the rendered text is kept for the log.
    pub async fn record_deliveries(&self, results: Vec<(Outgoing, Delivered)>) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        self.write(move |c| {
            Box::pin(async move {
                let now = now_ms();
                for (n, r) in results {
                    // Providers often repeat the address in their answer: the log shows it masked.
                    let answer_of = |a: &str| {
                        a.replace(&n.address, &n.address_masked)
                            .chars()
                            .take(500)
                            .collect::<String>()
                    };
                    match r {
                        Delivered::Sent(answer) => {
                            c.exec(
                                "UPDATE outbox SET status = 'sent', sent_at = $1, provider_answer = $2, subject = $3, body = $4, locked_until = 0, claim = NULL WHERE id = $5 AND claim = $6",
                                args![now, answer_of(&answer), &n.subject, &n.body, n.id, &n.claim],
                            )
                            .await?;
                        }
                        Delivered::Retry { answer, at, counted } => {
                            c.exec(
                                "UPDATE outbox SET status = 'failed', next_at = $1, provider_answer = $2, subject = $3, body = $4, locked_until = 0, attempts = attempts - $6, claim = NULL WHERE id = $5 AND claim = $7",
                                args![at, answer_of(&answer), &n.subject, &n.body, n.id, i64::from(!counted), &n.claim],
                            )
                            .await?;
                        }
                        Delivered::GivenUp(answer) => {
                            c.exec(
                                "UPDATE outbox SET status = 'given_up', provider_answer = $1, subject = $2, body = $3, locked_until = 0, claim = NULL WHERE id = $4 AND claim = $5",
                                args![answer_of(&answer), &n.subject, &n.body, n.id, &n.claim],
                            )
                            .await?;
                        }
                    }
                }
                Ok(())
            })
        })
        .await
    }

    /// The delivery log, newest first; admins only; addresses masked.
    pub async fn delivery_log(
        &self,
        actor: &Actor,
        status: Option<&str>,
        case_number: Option<&str>,
        page: Page,
    ) -> Result<Vec<DeliveryRow>> {
        let (lo, hi) = admin_range(actor)?;
        let rows = sqlx::query(
            "SELECT o.id, o.event, c.number, o.channel, o.address_masked, o.status, o.attempts, o.provider_answer, o.subject, o.created_at, o.sent_at, o.next_at \
             FROM outbox o JOIN cases c ON c.id = o.case_id \
             WHERE o.id < $1 AND ($2 = '' OR o.status = $2) AND ($3 = '' OR c.number = $3) AND c.region >= $5 AND c.region < $6 ORDER BY o.id DESC LIMIT $4",
        )
        .bind(page.cursor.unwrap_or(i64::MAX))
        .bind(status.unwrap_or(""))
        .bind(case_number.unwrap_or(""))
        .bind(page.limit)
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?;
        use sqlx::Row as _;
        rows.iter()
            .map(|r| {
                Ok(DeliveryRow {
                    id: r.try_get("id")?,
                    event: r.try_get("event")?,
                    case_number: r.try_get("number")?,
                    channel: r.try_get("channel")?,
                    recipient: r.try_get("address_masked")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    provider_answer: r.try_get("provider_answer")?,
                    subject: r.try_get("subject")?,
                    created_at: r.try_get("created_at")?,
                    sent_at: r.try_get("sent_at")?,
                    next_at: r.try_get("next_at")?,
                })
            })
            .collect()
    }

    /// Sends a notice again as a new notice with a key of its own (the provider would drop a
    /// resend under the old key). Returns the new notice's id.
    pub async fn resend_notice(&self, actor: &Actor, id: i64) -> Result<i64> {
        let (lo, hi) = admin_range(actor)?;
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let now = now_ms();
                let new_id = c
                    .opt(
                        "INSERT INTO outbox (event, case_id, account_id, channel, address, address_masked, lang, fields, idem_key, status, next_at, created_at) \
                         SELECT o.event, o.case_id, o.account_id, o.channel, o.address, o.address_masked, o.lang, o.fields, $1, 'queued', $2, $2 \
                         FROM outbox o JOIN cases k ON k.id = o.case_id WHERE o.id = $3 AND k.region >= $4 AND k.region < $5 RETURNING id",
                        args![format!("yc-resend-{}", random_key()), now, id, &lo, &hi],
                    )
                    .await?
                    .ok_or_else(|| StoreError::not_found("notice.not_found", "No such notice.", "没有该通知。"))?
                    .i64("id")?;
                crate::audit::record(c, &actor, crate::audit::Entry {
                    action: "notice.resend",
                    detail: format!("notice {id} as {new_id}"),
                    ..Default::default()
                })
                .await?;
                Ok(new_id)
            })
        })
        .await
    }

    /// Counts by status of the notices of an admin's region, for the admin page.
    pub async fn delivery_counts(&self, actor: &Actor) -> Result<Vec<(String, i64)>> {
        let (lo, hi) = admin_range(actor)?;
        Ok(sqlx::query_as(
            "SELECT o.status, CAST(COUNT(*) AS BIGINT) FROM outbox o JOIN cases c ON c.id = o.case_id \
             WHERE c.region >= $1 AND c.region < $2 GROUP BY o.status ORDER BY o.status",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?)
    }
}
