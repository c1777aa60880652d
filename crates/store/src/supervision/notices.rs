//! Warnings (预警) and supervision notices (督办). The worker sends the automatic ones: a
//! warning to the handler when a case turns yellow, a notice to the handler's leader when it
//! turns red and again when it is overdue — each once per case, step and line. A supervisor
//! can also issue one by hand with a comment and a reply-by date; the handler replies.
//!
//! Exactly once without a lock service: each case stores the highest line noticed (`alerted`)
//! and the day the next is due (`next_alert_on`); a tick claims a case with a conditional
//! update in the same transaction as the notice and its audit record, so a restart finds the
//! work still due and a second process finds it already done.

use crate::args;
use crate::cases::change::audit_case;
use crate::cases::row::stored_deadlines;
use crate::common::Page;
use crate::db::tx::Tx;
use crate::{Result, Store, StoreError};
use sqlx::Row;
use yichuang_core::{Actor, ActorKind, CaseStatus, Permission, Role};

/// Cases claimed per write transaction by one tick.
const BATCH: i64 = 200;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Notice {
    pub id: i64,
    pub case_id: i64,
    pub case_number: Option<String>,
    pub item_name: String,
    /// warning | supervision | manual
    pub kind: String,
    /// yellow | red | overdue | manual
    pub line: String,
    /// The workflow step it concerns; empty for the whole case.
    pub step: String,
    pub recipient_id: Option<i64>,
    pub recipient_name: Option<String>,
    /// None: sent by the platform's worker.
    pub issued_by: Option<i64>,
    pub issuer_name: Option<String>,
    pub comment: String,
    pub reply_by: Option<String>,
    pub reply: Option<String>,
    pub replied_at: Option<i64>,
    pub created_at: i64,
    /// A reply is asked for and has not come by the reply-by date.
    pub reply_late: bool,
}

#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    pub case_id: Option<i64>,
    /// Only those addressed to the caller.
    pub mine: bool,
    /// Only those still waiting for a reply.
    pub awaiting_reply: bool,
}

fn level_line(level: u8) -> &'static str {
    match level {
        1 => "yellow",
        2 => "red",
        _ => "overdue",
    }
}

/// The handler's leader: a manager of the handler's hall, else of the case's region.
async fn leader_of(c: &mut dyn Tx, handler: Option<i64>, region: &str) -> Result<Option<i64>> {
    if let Some(h) = handler {
        let r = c
            .opt(
                "SELECT m.id FROM accounts m JOIN accounts h ON h.hall_id = m.hall_id \
                 WHERE h.id = $1 AND m.kind = 'staff' AND m.role = 'manager' AND m.active = 1 ORDER BY m.id",
                args![h],
            )
            .await?;
        if let Some(r) = r {
            return Ok(Some(r.i64("id")?));
        }
    }
    let r = c
        .opt(
            "SELECT id FROM accounts WHERE kind = 'staff' AND role = 'manager' AND active = 1 AND region = $1 ORDER BY id",
            args![region],
        )
        .await?;
    r.map(|r| r.i64("id")).transpose()
}

/// Sends what is due for one case on `today`; returns the notices written (0 or 1).
async fn alert_one(c: &mut dyn Tx, id: i64, today: time::Date) -> Result<usize> {
    let Some(r) = c
        .opt(
            "SELECT number, status, region, handled_by, alerted, accepted_on, internal_due, promised_due, legal_due, yellow_from \
             FROM cases WHERE id = $1",
            args![id],
        )
        .await?
    else {
        return Ok(0);
    };
    let status = CaseStatus::parse(&r.str("status")?).unwrap_or(CaseStatus::Draft);
    let open = matches!(status, CaseStatus::Accepted | CaseStatus::InStage);
    let d = stored_deadlines(&r)?;
    let (true, Some(d)) = (open, d) else {
        // Concluded, withdrawn or stopped: nothing is due until a command sets a new date.
        crate::cases::write::clear_next_alert(c, id).await?;
        return Ok(0);
    };
    let done = r.i64("alerted")?.clamp(0, 3) as u8;
    let level = d.light_on(today).level();
    let next = d
        .next_alert(level.max(done))
        .filter(|n| *n > today)
        .map(|n| n.to_string());
    if level <= done {
        crate::cases::write::set_next_alert(c, id, next).await?;
        return Ok(0);
    }
    // The claim: only one transaction moves `alerted` past `done`.
    let claimed = crate::cases::write::claim_alert(c, id, level, next, done).await?;
    if claimed != 1 {
        return Ok(0);
    }
    let region = r.str("region")?;
    let handler = r.opt_i64("handled_by")?;
    let (kind, recipient, comment) = match level {
        1 => (
            "warning",
            handler,
            format!(
                "办件将于 {} 到达内控线，请抓紧办理。The case reaches its internal-control line on {}.",
                d.internal, d.internal
            ),
        ),
        2 => (
            "supervision",
            leader_of(c, handler, &region).await?,
            format!(
                "办件已超过内控线（{}），承诺时限 {}，请督促办理。The case is past its internal-control line ({}); promised by {}.",
                d.internal, d.promised, d.internal, d.promised
            ),
        ),
        _ => (
            "supervision",
            leader_of(c, handler, &region).await?,
            format!(
                "办件已超过承诺时限（{}），请立即督办。The case is past its promised limit ({}).",
                d.promised.min(d.legal),
                d.promised.min(d.legal)
            ),
        ),
    };
    let line = level_line(level);
    c.exec(
        "INSERT INTO supervision_notices (case_id, region, kind, line, step, recipient_id, issued_by, comment, created_at) \
         VALUES ($1, $2, $3, $4, '', $5, NULL, $6, $7)",
        args![id, &region, kind, line, recipient, &comment, crate::now_ms()],
    )
    .await?;
    crate::notify::events::on_supervision(c, id, recipient, &comment, None).await?;
    let number = r.opt_str("number")?;
    audit_case(
        c,
        &Actor::system(),
        if kind == "warning" {
            "supervision.warning"
        } else {
            "supervision.notice"
        },
        number.as_deref(),
        status,
        status,
        format!(
            "line {line} to {}",
            recipient.map_or_else(|| "-".to_string(), |r| r.to_string())
        ),
    )
    .await?;
    Ok(1)
}

impl Store {
    /// One pass of the supervision worker for the hall's local `today`: every case whose next
    /// line has come gets its notice, once. Returns how many notices were sent.
    pub async fn supervise_tick(&self, today: time::Date) -> Result<usize> {
        let mut sent = 0;
        let mut last: Option<Vec<i64>> = None;
        loop {
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM cases WHERE next_alert_on <= $1 ORDER BY next_alert_on, id LIMIT $2",
            )
            .bind(today.to_string())
            .bind(BATCH)
            .fetch_all(self.pool())
            .await?;
            // Each claim moves the date past today; the same batch twice means another process
            // holds these rows right now, and the next tick will find them settled.
            if ids.is_empty() || last.as_ref() == Some(&ids) {
                break;
            }
            let batch = ids.clone();
            sent += self
                .write(move |c| {
                    Box::pin(async move {
                        let mut n = 0;
                        for id in batch {
                            n += alert_one(c, id, today).await?;
                        }
                        Ok(n)
                    })
                })
                .await?;
            if (ids.len() as i64) < BATCH {
                break;
            }
            last = Some(ids);
        }
        Ok(sent)
    }

    /// Each workflow step (task) past its own due date gets one supervision notice, to the
    /// person holding it (the department sees it in the region's list when nobody does).
    pub async fn step_tick(&self, today: time::Date) -> Result<usize> {
        let rows = sqlx::query(
            "SELECT t.id, t.case_id, t.stage_name, t.department, t.due_on, COALESCE(t.claimed_by, t.proposed_by) AS holder \
             FROM tasks t WHERE t.done_at IS NULL AND t.due_on < $1 \
             AND NOT EXISTS (SELECT 1 FROM supervision_notices n WHERE n.case_id = t.case_id AND n.step = 'task:' || CAST(t.id AS TEXT) AND n.line = 'overdue') \
             ORDER BY t.due_on LIMIT 500",
        )
        .bind(today.to_string())
        .fetch_all(self.pool())
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut due = Vec::new();
        for r in rows {
            due.push((
                r.try_get::<i64, _>("id")?,
                r.try_get::<i64, _>("case_id")?,
                r.try_get::<String, _>("stage_name")?,
                r.try_get::<String, _>("department")?,
                r.try_get::<String, _>("due_on")?,
                r.try_get::<Option<i64>, _>("holder")?,
            ));
        }
        self.write(move |c| {
            Box::pin(async move {
                let mut sent = 0;
                for (task, case_id, stage, department, due_on, holder) in due {
                    let r = c.one("SELECT number, status, region FROM cases WHERE id = $1", args![case_id]).await?;
                    let comment = format!(
                        "{stage}（{department}）已超过本环节期限 {due_on}，请尽快办理。The step {stage} ({department}) is past its own limit ({due_on})."
                    );
                    // The partial unique index makes a second insert for this step a no-op.
                    let n = c
                        .exec(
                            "INSERT INTO supervision_notices (case_id, region, kind, line, step, recipient_id, issued_by, comment, created_at) \
                             VALUES ($1, $2, 'supervision', 'overdue', $3, $4, NULL, $5, $6) \
                             ON CONFLICT (case_id, step, line) WHERE kind <> 'manual' DO NOTHING",
                            args![case_id, r.str("region")?, format!("task:{task}"), holder, &comment, crate::now_ms()],
                        )
                        .await?;
                    if n == 1 {
                        crate::notify::events::on_supervision(c, case_id, holder, &comment, None).await?;
                        let status = CaseStatus::parse(&r.str("status")?).unwrap_or(CaseStatus::Draft);
                        let number = r.opt_str("number")?;
                        audit_case(c, &Actor::system(), "supervision.notice", number.as_deref(), status, status, format!("step {stage} ({department}) past {due_on}")).await?;
                        sent += 1;
                    }
                }
                Ok(sent)
            })
        })
        .await
    }

    /// A supervisor's notice by hand to the case's handler, who must reply by `reply_by`.
    pub async fn issue_supervision_notice(
        &self,
        actor: &Actor,
        case_id: i64,
        comment: &str,
        reply_by: time::Date,
    ) -> Result<i64> {
        let comment = comment.trim().to_string();
        if comment.is_empty() {
            return Err(StoreError::invalid(
                "notice.comment",
                "Write what the handler must do.",
                "请填写督办意见。",
            ));
        }
        if reply_by < self.today() {
            return Err(StoreError::invalid(
                "notice.reply_by",
                "The reply-by date is already past.",
                "回复期限不能早于今天。",
            ));
        }
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let r = c
                    .opt("SELECT number, status, region, handled_by FROM cases WHERE id = $1", args![case_id])
                    .await?
                    .ok_or_else(StoreError::no_case)?;
                let region = r.str("region")?;
                if !actor.may_in(Permission::ReadCases, &region) {
                    return Err(StoreError::no_case());
                }
                if !matches!(&actor.kind, ActorKind::Staff { role: Role::Supervisor, .. }) {
                    return Err(StoreError::forbidden("notice.role", "Only supervisors issue supervision notices.", "只有电子监察人员可以发出督办通知。"));
                }
                let Some(handler) = r.opt_i64("handled_by")? else {
                    return Err(StoreError::invalid("notice.no_handler", "Nobody handles this case yet.", "该办件尚无承办人。"));
                };
                let id = c
                    .one(
                        "INSERT INTO supervision_notices (case_id, region, kind, line, step, recipient_id, issued_by, comment, reply_by, created_at) \
                         VALUES ($1, $2, 'manual', 'manual', '', $3, $4, $5, $6, $7) RETURNING id",
                        args![case_id, &region, handler, actor.account_id, &comment, reply_by.to_string(), crate::now_ms()],
                    )
                    .await?
                    .i64("id")?;
                crate::notify::events::on_supervision(c, case_id, Some(handler), &comment, Some(&reply_by.to_string())).await?;
                let status = CaseStatus::parse(&r.str("status")?).unwrap_or(CaseStatus::Draft);
                let number = r.opt_str("number")?;
                audit_case(c, &actor, "supervision.manual_notice", number.as_deref(), status, status, format!("to {handler}, reply by {reply_by}: {comment}")).await?;
                Ok(id)
            })
        })
        .await
    }

    /// The handler's reply to a notice addressed to them; one reply per notice.
    pub async fn reply_supervision_notice(
        &self,
        actor: &Actor,
        notice_id: i64,
        reply: &str,
    ) -> Result<()> {
        let reply = reply.trim().to_string();
        if reply.is_empty() {
            return Err(StoreError::invalid(
                "notice.reply",
                "Write a reply.",
                "请填写回复内容。",
            ));
        }
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let r = c
                    .opt(
                        "SELECT n.recipient_id, n.reply, c.number, c.status FROM supervision_notices n JOIN cases c ON c.id = n.case_id WHERE n.id = $1",
                        args![notice_id],
                    )
                    .await?;
                let Some(r) = r.filter(|r| r.opt_i64("recipient_id").ok().flatten() == Some(actor.account_id)) else {
                    return Err(StoreError::not_found("notice.not_found", "No such notice addressed to you.", "未找到发给您的督办通知。"));
                };
                let done = c
                    .exec(
                        "UPDATE supervision_notices SET reply = $1, replied_by = $2, replied_at = $3 WHERE id = $4 AND reply IS NULL",
                        args![&reply, actor.account_id, crate::now_ms(), notice_id],
                    )
                    .await?;
                if done != 1 {
                    return Err(StoreError::conflict("notice.already_replied", "This notice has been answered already.", "该督办通知已回复。"));
                }
                let status = CaseStatus::parse(&r.str("status")?).unwrap_or(CaseStatus::Draft);
                let number = r.opt_str("number")?;
                audit_case(c, &actor, "supervision.reply", number.as_deref(), status, status, format!("notice {notice_id}: {reply}")).await
            })
        })
        .await
    }

    /// Notices the actor may see: their own, and for supervisors, managers and admins every
    /// notice of their region. Newest first.
    pub async fn supervision_notices(
        &self,
        actor: &Actor,
        f: &NoticeFilter,
        page: Page,
    ) -> Result<Vec<Notice>> {
        let ActorKind::Staff { region, role } = &actor.kind else {
            return Ok(Vec::new());
        };
        let sees_region = matches!(role, Role::Supervisor | Role::Manager | Role::Admin) && !f.mine;
        let (lo, hi) = region.code_range();
        let mut sql = String::from(
            "SELECT n.*, c.number, i.name AS item_name, r.name AS recipient_name, s.name AS issuer_name \
             FROM supervision_notices n JOIN cases c ON c.id = n.case_id JOIN items i ON i.code = c.item_code \
             LEFT JOIN accounts r ON r.id = n.recipient_id LEFT JOIN accounts s ON s.id = n.issued_by \
             WHERE n.region >= $1 AND n.region < $2 AND n.id < $3",
        );
        if !sees_region {
            sql.push_str(" AND n.recipient_id = $4");
        } else {
            sql.push_str(" AND $4 = $4");
        }
        if let Some(case) = f.case_id {
            sql.push_str(&format!(" AND n.case_id = {case}"));
        }
        if f.awaiting_reply {
            sql.push_str(" AND n.kind = 'manual' AND n.reply IS NULL");
        }
        sql.push_str(" ORDER BY n.id DESC LIMIT $5");
        let today = self.today().to_string();
        let rows = sqlx::query(&sql)
            .bind(lo)
            .bind(hi)
            .bind(page.cursor.unwrap_or(i64::MAX))
            .bind(actor.account_id)
            .bind(page.limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let reply: Option<String> = r.try_get("reply")?;
                let reply_by: Option<String> = r.try_get("reply_by")?;
                Ok(Notice {
                    id: r.try_get("id")?,
                    case_id: r.try_get("case_id")?,
                    case_number: r.try_get("number")?,
                    item_name: r.try_get("item_name")?,
                    kind: r.try_get("kind")?,
                    line: r.try_get("line")?,
                    step: r.try_get("step")?,
                    recipient_id: r.try_get("recipient_id")?,
                    recipient_name: r.try_get("recipient_name")?,
                    issued_by: r.try_get("issued_by")?,
                    issuer_name: r.try_get("issuer_name")?,
                    comment: r.try_get("comment")?,
                    reply_late: reply.is_none()
                        && reply_by.as_deref().is_some_and(|d| d < today.as_str()),
                    reply_by,
                    reply,
                    replied_at: r.try_get("replied_at")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}
