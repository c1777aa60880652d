//! What only the demo loader and the tests use: moving dates into the past so that the demo
//! shows cases in every light and a department silent past its limit, and counts for checks.
//! Only the platform itself (the system actor) may move a date; each move is audited.

use crate::cases::buckets::bucket_delta;
use crate::flows::types::no_task;
use crate::{args, Result, Store, StoreError};
use sqlx::Row;
use yichuang_core::{Actor, ActorKind};

impl Store {
    /// The benchmark's steady state: every open case's alerts as if the supervision worker
    /// had already sent all that was due by `today`, so that a pass measures an idle sweep.
    pub async fn settle_alerts(&self, today: time::Date) -> Result<()> {
        let backend = self.backend();
        let today = today.to_string();
        self.write(move |c| {
            Box::pin(async move { crate::cases::write::settle_alerts(c, backend, today).await })
        })
        .await
    }

    /// Moves a case's acceptance to an earlier day and recomputes its deadlines. Only the
    /// platform itself may do this (the demo loader shows cases in every light); it is audited.
    pub async fn backdate_acceptance(
        &self,
        actor: &Actor,
        id: i64,
        accepted_on: time::Date,
    ) -> Result<()> {
        if !matches!(actor.kind, ActorKind::System) {
            return Err(crate::StoreError::forbidden(
                "case.backdate",
                "Only the platform may backdate.",
                "只有系统可以调整受理日期。",
            ));
        }
        let r = sqlx::query("SELECT c.region, c.number, i.body FROM cases c JOIN items i ON i.code = c.item_code WHERE c.id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(crate::StoreError::no_case)?;
        let region: String = r.try_get("region")?;
        let number: Option<String> = r.try_get("number")?;
        let item = crate::catalog::parse_item(&r.try_get::<String, _>("body")?)?;
        let cal = self.calendar(Some(&region)).await?;
        let d = yichuang_core::deadline::Deadlines::compute(&cal, accepted_on, &item.limits(), 0)
            .map_err(|e| crate::StoreError::Unavailable(e.to_string()))?;
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                bucket_delta(c, id, -1).await?;
                crate::cases::write::set_deadlines(c, id, &d).await?;
                bucket_delta(c, id, 1).await?;
                crate::audit::record(
                    c,
                    &actor,
                    crate::audit::Entry {
                        action: "demo.backdate",
                        case_number: number.as_deref(),
                        detail: format!("accepted_on {}", d.accepted_on),
                        ..Default::default()
                    },
                )
                .await
            })
        })
        .await
    }

    /// Moves an open task's due date (only the platform: the demo shows a silent department
    /// past its limit); audited.
    pub async fn backdate_task_due(
        &self,
        actor: &Actor,
        task_id: i64,
        due: time::Date,
    ) -> Result<()> {
        if !matches!(actor.kind, ActorKind::System) {
            return Err(StoreError::forbidden(
                "task.backdate",
                "Only the platform may backdate.",
                "只有系统可以调整期限。",
            ));
        }
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let r = c
                    .opt("SELECT c.number FROM tasks t JOIN cases c ON c.id = t.case_id WHERE t.id = $1", args![task_id])
                    .await?
                    .ok_or_else(no_task)?;
                c.exec("UPDATE tasks SET due_on = $1 WHERE id = $2", args![due.to_string(), task_id]).await?;
                crate::audit::record(
                    c,
                    &actor,
                    crate::audit::Entry {
                        action: "demo.backdate",
                        case_number: r.opt_str("number")?.as_deref(),
                        detail: format!("task {task_id} due {due}"),
                        ..Default::default()
                    },
                )
                .await
            })
        })
        .await
    }

    /// Counts of all notices by status (the tests and the benchmark).
    pub async fn outbox_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT status, CAST(COUNT(*) AS BIGINT) FROM outbox GROUP BY status ORDER BY status",
        )
        .fetch_all(self.pool())
        .await?)
    }
}
