//! One view of an applicant for staff (seed 002's one view of a taxpayer): every case of that
//! person or enterprise in the staff member's region, with its corrections, stage and result.

use crate::common::Page;
use crate::{Result, Store, StoreError};
use sqlx::Row;
use yichuang_core::{Actor, ActorKind, CaseStatus, Permission};

#[derive(Debug, Clone, serde::Serialize)]
pub struct ApplicantCase {
    pub id: i64,
    pub number: Option<String>,
    pub item_code: String,
    pub item_name: String,
    pub status: CaseStatus,
    pub status_zh: &'static str,
    pub status_en: &'static str,
    pub channel: String,
    pub submitted_at: Option<i64>,
    pub accepted_on: Option<String>,
    pub promised_due: Option<String>,
    /// Correction notices issued, and how many are still open.
    pub corrections: i64,
    pub corrections_open: i64,
    /// The stage now being worked, while the workflow runs.
    pub current_stage: Option<String>,
    pub concluded_on: Option<String>,
    pub within_promised: Option<bool>,
    pub decision_reason: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ApplicantView {
    pub id: i64,
    /// person | enterprise
    pub kind: String,
    pub name: String,
    pub id_masked: String,
    pub cases: Vec<ApplicantCase>,
}

fn mask(id: &str) -> String {
    let n = id.chars().count();
    if n <= 8 {
        return "****".into();
    }
    let head: String = id.chars().take(3).collect();
    let tail: String = id.chars().skip(n - 4).collect();
    format!("{head}{}{tail}", "*".repeat(n - 7))
}

impl Store {
    /// Staff only; cases outside the staff member's region are not shown.
    pub async fn applicant_view(
        &self,
        actor: &Actor,
        applicant_id: i64,
        page: Page,
    ) -> Result<ApplicantView> {
        let ActorKind::Staff { region, .. } = &actor.kind else {
            return Err(StoreError::forbidden(
                "applicant.staff_only",
                "Only staff see an applicant's cases.",
                "只有工作人员可以查看申请人全部办件。",
            ));
        };
        if !actor.may_in(Permission::ReadCases, region.as_str()) {
            return Err(StoreError::forbidden(
                "applicant.staff_only",
                "Your role does not read cases.",
                "您的角色不能查看办件。",
            ));
        }
        let a = sqlx::query(
            "SELECT id, kind, name, id_number FROM accounts WHERE id = $1 AND kind <> 'staff'",
        )
        .bind(applicant_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| {
            StoreError::not_found(
                "applicant.not_found",
                "No such applicant.",
                "未找到该申请人。",
            )
        })?;
        let (lo, hi) = region.code_range();
        let rows = sqlx::query(
            "SELECT c.id, c.number, c.item_code, i.name AS item_name, c.status, c.channel, c.submitted_at, c.accepted_on, c.promised_due, \
             c.concluded_on, c.within_promised, c.decision_reason, \
             (SELECT COUNT(*) FROM correction_notices n WHERE n.case_id = c.id) AS corrections, \
             (SELECT COUNT(*) FROM correction_notices n WHERE n.case_id = c.id AND n.resolved_at IS NULL) AS corrections_open, \
             (SELECT MIN(t.stage_name) FROM tasks t WHERE t.case_id = c.id AND t.state IN ('open', 'claimed', 'proposed')) AS current_stage \
             FROM cases c JOIN items i ON i.code = c.item_code \
             WHERE c.applicant_id = $1 AND c.region >= $2 AND c.region < $3 AND c.status <> 'draft' AND c.id < $4 \
             ORDER BY c.id DESC LIMIT $5",
        )
        .bind(applicant_id)
        .bind(lo)
        .bind(hi)
        .bind(page.cursor.unwrap_or(i64::MAX))
        .bind(page.limit.clamp(1, 200))
        .fetch_all(self.pool())
        .await?;
        let mut cases = Vec::new();
        for r in rows {
            let status: String = r.try_get("status")?;
            let status = CaseStatus::parse(&status).unwrap_or(CaseStatus::Draft);
            cases.push(ApplicantCase {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                item_code: r.try_get("item_code")?,
                item_name: r.try_get("item_name")?,
                status,
                status_zh: status.zh(),
                status_en: status.en(),
                channel: r.try_get("channel")?,
                submitted_at: r.try_get("submitted_at")?,
                accepted_on: r.try_get("accepted_on")?,
                promised_due: r.try_get("promised_due")?,
                corrections: r.try_get("corrections")?,
                corrections_open: r.try_get("corrections_open")?,
                current_stage: r.try_get("current_stage")?,
                concluded_on: r.try_get("concluded_on")?,
                within_promised: r
                    .try_get::<Option<i64>, _>("within_promised")?
                    .map(|w| w != 0),
                decision_reason: r.try_get("decision_reason")?,
            });
        }
        Ok(ApplicantView {
            id: a.try_get("id")?,
            kind: a.try_get("kind")?,
            name: a.try_get("name")?,
            id_masked: mask(
                &a.try_get::<Option<String>, _>("id_number")?
                    .unwrap_or_default(),
            ),
            cases,
        })
    }
}
