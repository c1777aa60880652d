//! Reads of cases: by number, one case, the public status, lists.

use crate::cases::row::may_read;
use crate::cases::types::CaseStatusView;
use crate::cases::types::CaseSummary;
use crate::cases::types::CaseView;
use crate::cases::types::CorrectionNoticeView;
use crate::cases::types::MaterialCheck;
use crate::cases::types::SubmissionView;
use crate::common::Page;
use crate::{local_date_of, Result, Store, StoreError};
use sqlx::Row;
use yichuang_core::deadline::{Conclusion, Deadlines, Light};
use yichuang_core::{Actor, ActorKind, CaseNumber, CaseStatus, Permission};

impl Store {
    pub async fn case_id_by_number(&self, number: &str) -> Result<Option<i64>> {
        let Ok(n) = CaseNumber::parse(number) else {
            return Ok(None);
        };
        Ok(sqlx::query_scalar("SELECT id FROM cases WHERE number = $1")
            .bind(n.as_str())
            .fetch_optional(self.pool())
            .await?)
    }

    /// The case if the actor may see it; otherwise "not found", whether or not it exists.
    pub async fn case_view(&self, actor: &Actor, id: i64) -> Result<CaseView> {
        let v = self
            .case_view_unchecked(id)
            .await?
            .ok_or_else(StoreError::no_case)?;
        if !may_read(actor, v.applicant_id, &v.region) {
            return Err(StoreError::no_case());
        }
        Ok(v)
    }

    /// What the public status page shows, in one indexed query. `None` when no case has the
    /// number; the caller checks the code.
    pub async fn case_status(&self, number: &str) -> Result<Option<CaseStatusView>> {
        let Ok(n) = CaseNumber::parse(number) else {
            return Ok(None);
        };
        let r = sqlx::query(
            "SELECT c.number, c.status, c.secret, c.submitted_at, c.accepted_at, c.completed_at, c.promised_due, i.name AS item_name, i.name_en AS item_name_en, a.id_number \
             FROM cases c JOIN items i ON i.code = c.item_code JOIN accounts a ON a.id = c.applicant_id WHERE c.number = $1",
        )
        .bind(n.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let status: String = r.try_get("status")?;
        let status = CaseStatus::parse(&status).unwrap_or(CaseStatus::Draft);
        Ok(Some(CaseStatusView {
            number: r.try_get("number")?,
            item_name: r.try_get("item_name")?,
            item_name_en: r.try_get("item_name_en")?,
            status,
            status_zh: status.zh(),
            status_en: status.en(),
            submitted_at: r.try_get("submitted_at")?,
            accepted_at: r.try_get("accepted_at")?,
            completed_at: r.try_get("completed_at")?,
            promised_due: r.try_get("promised_due")?,
            secret: r.try_get("secret")?,
            applicant_id_number: r
                .try_get::<Option<String>, _>("id_number")?
                .unwrap_or_default(),
        }))
    }

    /// For the public status page, which checks the secret itself.
    pub async fn case_view_unchecked(&self, id: i64) -> Result<Option<CaseView>> {
        let r = sqlx::query(
            "SELECT c.*, i.name AS item_name, i.name_en AS item_name_en, i.case_type, a.name AS applicant_name, a.id_number AS applicant_idn \
             FROM cases c JOIN items i ON i.code = c.item_code JOIN accounts a ON a.id = c.applicant_id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let status: String = r.try_get("status")?;
        let status = CaseStatus::parse(&status).unwrap_or(CaseStatus::Draft);
        let idn: Option<String> = r.try_get("applicant_idn")?;
        let masked = idn
            .as_deref()
            .map(|s| {
                if s.len() == 18 {
                    format!("{}********{}", &s[..6], &s[14..])
                } else {
                    "****".into()
                }
            })
            .unwrap_or_default();
        let form: String = r.try_get("form")?;
        let mut submissions = Vec::new();
        for s in sqlx::query("SELECT id, material_code, file_hash, file_name, content_type, size, uploaded_at FROM submissions WHERE case_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.pool())
            .await?
        {
            submissions.push(SubmissionView {
                id: s.try_get("id")?,
                material_code: s.try_get("material_code")?,
                file_hash: s.try_get("file_hash")?,
                file_name: s.try_get("file_name")?,
                content_type: s.try_get("content_type")?,
                size: s.try_get("size")?,
                uploaded_at: s.try_get("uploaded_at")?,
            });
        }
        let mut checks = Vec::new();
        for s in sqlx::query("SELECT material_code, verdict, reason, due_date FROM material_checks WHERE case_id = $1 ORDER BY material_code")
            .bind(id)
            .fetch_all(self.pool())
            .await?
        {
            checks.push(MaterialCheck {
                material_code: s.try_get("material_code")?,
                verdict: s.try_get("verdict")?,
                reason: s.try_get("reason")?,
                due_date: s.try_get("due_date")?,
            });
        }
        let mut corrections = Vec::new();
        for s in sqlx::query("SELECT id, issued_at, problems, note, resolved_at FROM correction_notices WHERE case_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.pool())
            .await?
        {
            let p: String = s.try_get("problems")?;
            corrections.push(CorrectionNoticeView {
                id: s.try_get("id")?,
                issued_at: s.try_get("issued_at")?,
                problems: serde_json::from_str(&p).unwrap_or_default(),
                note: s.try_get("note")?,
                resolved_at: s.try_get("resolved_at")?,
            });
        }
        let date = |col: &str| -> Result<Option<time::Date>> {
            Ok(r.try_get::<Option<String>, _>(col)?
                .and_then(|d| yichuang_core::calendar::parse_date(&d).ok()))
        };
        let deadlines = match (
            date("accepted_on")?,
            date("internal_due")?,
            date("promised_due")?,
            date("legal_due")?,
            date("yellow_from")?,
        ) {
            (Some(accepted_on), Some(internal), Some(promised), Some(legal), Some(yellow_from)) => {
                Some(Deadlines {
                    accepted_on,
                    internal,
                    promised,
                    legal,
                    yellow_from,
                })
            }
            _ => None,
        };
        let light = match (&deadlines, status) {
            (
                Some(d),
                CaseStatus::Accepted
                | CaseStatus::InStage
                | CaseStatus::Approved
                | CaseStatus::Denied
                | CaseStatus::Completed
                | CaseStatus::Delivered,
            ) => {
                let completed: Option<i64> = r.try_get("completed_at")?;
                let on = match (date("concluded_on")?, completed) {
                    (Some(d), _) => d,
                    (None, Some(ms)) => local_date_of(ms, self.utc_offset_hours()),
                    (None, None) => self.today(),
                };
                Some(d.light_on(on))
            }
            _ => None,
        };
        Ok(Some(CaseView {
            id,
            number: r.try_get("number")?,
            item_code: r.try_get("item_code")?,
            item_name: r.try_get("item_name")?,
            item_name_en: r.try_get("item_name_en")?,
            case_type: r.try_get("case_type")?,
            applicant_id: r.try_get("applicant_id")?,
            applicant_name: r.try_get("applicant_name")?,
            applicant_id_masked: masked,
            status,
            status_zh: status.zh(),
            status_en: status.en(),
            region: r.try_get("region")?,
            department: r.try_get("department")?,
            channel: r.try_get("channel")?,
            form: serde_json::from_str(&form).unwrap_or_default(),
            commitment_signed: r.try_get::<i64, _>("commitment_signed")? != 0,
            secret: Some(r.try_get("secret")?),
            created_at: r.try_get("created_at")?,
            submitted_at: r.try_get("submitted_at")?,
            accepted_at: r.try_get("accepted_at")?,
            completed_at: r.try_get("completed_at")?,
            reject_reason: r.try_get("reject_reason")?,
            submissions,
            checks,
            corrections,
            deadlines,
            light,
            light_zh: light.map(Light::zh),
            conclusion: match (
                date("concluded_on")?,
                r.try_get::<Option<i64>, _>("days_used")?,
            ) {
                (Some(concluded_on), Some(days_used)) => {
                    let yes = |col: &str| -> Result<bool> {
                        Ok(r.try_get::<Option<i64>, _>(col)?.unwrap_or(0) != 0)
                    };
                    Some(Conclusion {
                        concluded_on,
                        days_used,
                        within_internal: yes("within_internal")?,
                        within_promised: yes("within_promised")?,
                        within_legal: yes("within_legal")?,
                    })
                }
                _ => None,
            },
            decision_reason: r.try_get("decision_reason")?,
            bundle_app: r.try_get("bundle_app")?,
            version: r.try_get("version")?,
        }))
    }

    /// An applicant's own cases, newest first.
    pub async fn my_cases(&self, actor: &Actor, page: Page) -> Result<Vec<CaseSummary>> {
        self.summaries("c.applicant_id = $1", vec![Arg::I(actor.account_id)], page)
            .await
    }

    /// Cases waiting at the window (submitted, or walk-in drafts) in the clerk's region.
    pub async fn window_queue(
        &self,
        actor: &Actor,
        status: Option<CaseStatus>,
        page: Page,
    ) -> Result<Vec<CaseSummary>> {
        let ActorKind::Staff { region, .. } = &actor.kind else {
            return Ok(Vec::new());
        };
        if !actor.may_in(Permission::ReadCases, region.as_str()) {
            return Ok(Vec::new());
        }
        let status = status.unwrap_or(CaseStatus::Submitted);
        self.summaries(
            "c.region >= $1 AND c.region < $3 AND c.status = $2",
            vec![
                Arg::S(region.code_range().0),
                Arg::S(status.as_str().into()),
                Arg::S(region.code_range().1),
            ],
            page,
        )
        .await
    }

    async fn summaries(
        &self,
        filter: &str,
        args: Vec<Arg>,
        page: Page,
    ) -> Result<Vec<CaseSummary>> {
        let limit = page.limit.clamp(1, 200);
        let before = page
            .cursor
            .map(|c| format!(" AND c.id < {c}"))
            .unwrap_or_default();
        let sql = format!(
            "SELECT c.id, c.number, c.item_code, i.name AS item_name, a.name AS applicant_name, c.status, c.channel, c.submitted_at, c.updated_at \
             FROM cases c JOIN items i ON i.code = c.item_code JOIN accounts a ON a.id = c.applicant_id \
             WHERE {filter}{before} ORDER BY c.id DESC LIMIT {limit}"
        );
        let mut q = sqlx::query(&sql);
        for a in args {
            q = match a {
                Arg::I(i) => q.bind(i),
                Arg::S(s) => q.bind(s),
            };
        }
        let mut out = Vec::new();
        for r in q.fetch_all(self.pool()).await? {
            let status: String = r.try_get("status")?;
            let status = CaseStatus::parse(&status).unwrap_or(CaseStatus::Draft);
            out.push(CaseSummary {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                item_code: r.try_get("item_code")?,
                item_name: r.try_get("item_name")?,
                applicant_name: r.try_get("applicant_name")?,
                status,
                status_zh: status.zh(),
                channel: r.try_get("channel")?,
                submitted_at: r.try_get("submitted_at")?,
                updated_at: r.try_get("updated_at")?,
            });
        }
        Ok(out)
    }
}

enum Arg {
    I(i64),
    S(String),
}
