//! A person's in-app notices.

use crate::args;
use crate::common::Page;
use crate::{now_ms, Result, Store};
use yichuang_core::Actor;

/// An in-app notice in a person's inbox.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InboxNotice {
    pub id: i64,
    pub event: String,
    pub case_id: Option<i64>,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub read: bool,
}

impl Store {
    /// A person's in-app notices, newest first.
    pub async fn inbox_notices(&self, actor: &Actor, page: Page) -> Result<Vec<InboxNotice>> {
        use sqlx::Row as _;
        let rows = sqlx::query(
            "SELECT o.id, o.event, o.case_id, o.subject, o.body, o.created_at, o.read_at FROM cases c JOIN outbox o ON o.case_id = c.id \
             WHERE c.applicant_id = $1 AND o.account_id = $1 AND o.channel = 'inapp' AND o.status = 'sent' AND o.id < $2 ORDER BY o.id DESC LIMIT $3",
        )
        .bind(actor.account_id)
        .bind(page.cursor.unwrap_or(i64::MAX))
        .bind(page.limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxNotice {
                    id: r.try_get("id")?,
                    event: r.try_get("event")?,
                    case_id: r.try_get("case_id")?,
                    subject: r
                        .try_get::<Option<String>, _>("subject")?
                        .unwrap_or_default(),
                    body: r.try_get::<Option<String>, _>("body")?.unwrap_or_default(),
                    created_at: r.try_get("created_at")?,
                    read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
                })
            })
            .collect()
    }

    /// Marks a person's in-app notices read, up to and including `up_to`.
    pub async fn mark_inbox_read(&self, actor: &Actor, up_to: i64) -> Result<u64> {
        let who = actor.account_id;
        self.write(move |c| {
            Box::pin(async move {
                c.exec(
                    "UPDATE outbox SET read_at = $1 WHERE case_id IN (SELECT id FROM cases WHERE applicant_id = $2) \
                     AND account_id = $2 AND channel = 'inapp' AND read_at IS NULL AND id <= $3",
                    args![now_ms(), who, up_to],
                )
                .await
            })
        })
        .await
    }
}
