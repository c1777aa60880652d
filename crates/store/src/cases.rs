//! Case commands and reads. Each command loads the case inside its transaction, asks the core
//! state machine, writes the new state with an optimistic version check (so two clerks racing
//! on PostgreSQL get one success and one conflict), and writes its audit record.

use crate::args;
use crate::audit::{self, Entry};
use crate::tx::Tx;
use crate::{local_date_of, now_ms, Result, Store, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::BTreeMap;
use yichuang_core::calendar::Calendar;
use yichuang_core::catalog::{FieldKind, ServiceItem};
use yichuang_core::deadline::{Conclusion, Deadlines, Light};
use yichuang_core::{
    apply, Actor, ActorKind, CaseCommand, CaseNumber, CaseState, CaseStatus, Permission, Verdict,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmissionView {
    pub id: i64,
    pub material_code: String,
    pub file_hash: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaterialCheck {
    pub material_code: String,
    pub verdict: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorrectionNoticeView {
    pub id: i64,
    pub issued_at: i64,
    pub problems: Vec<MaterialCheck>,
    pub note: String,
    pub resolved_at: Option<i64>,
}

/// A stored file to attach to a case as one material.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub material_code: String,
    pub hash: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub id: i64,
    pub number: Option<String>,
    pub item_code: String,
    pub item_name: String,
    pub item_name_en: String,
    pub case_type: String,
    pub applicant_id: i64,
    pub applicant_name: String,
    pub applicant_id_masked: String,
    pub status: CaseStatus,
    pub status_zh: &'static str,
    pub status_en: &'static str,
    pub region: String,
    pub department: String,
    pub channel: String,
    pub form: BTreeMap<String, String>,
    pub commitment_signed: bool,
    /// Shown only to the applicant and staff: it opens the public status page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub reject_reason: Option<String>,
    pub submissions: Vec<SubmissionView>,
    pub checks: Vec<MaterialCheck>,
    pub corrections: Vec<CorrectionNoticeView>,
    /// Fixed at acceptance: day 0 and the three lines, local dates.
    pub deadlines: Option<Deadlines>,
    /// Today's light (or the light at completion, once completed).
    pub light: Option<Light>,
    pub light_zh: Option<&'static str>,
    /// 办结: working days used and each limit kept, once concluded.
    pub conclusion: Option<Conclusion>,
    /// The decision's reasons (required for a denial).
    pub decision_reason: Option<String>,
    /// The bundle application (一件事) this case is a part of.
    pub bundle_app: Option<i64>,
    pub version: i64,
}

/// The public status of a case: no names, no materials.
#[derive(Debug, Clone, Serialize)]
pub struct CaseStatusView {
    pub number: String,
    pub item_name: String,
    pub item_name_en: String,
    pub status: CaseStatus,
    pub status_zh: &'static str,
    pub status_en: &'static str,
    pub submitted_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// The promised completion date, once accepted.
    pub promised_due: Option<String>,
    #[serde(skip)]
    pub secret: String,
    #[serde(skip)]
    pub applicant_id_number: String,
}

impl CaseStatusView {
    /// The receipt's code, or the last six characters of the applicant's ID number.
    pub fn unlocks(&self, code: &str) -> bool {
        let code = code.trim().to_ascii_uppercase();
        (!code.is_empty() && code == self.secret)
            || (code.len() == 6
                && self.applicant_id_number.len() >= 6
                && self.applicant_id_number.ends_with(&code))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: i64,
    pub number: Option<String>,
    pub item_code: String,
    pub item_name: String,
    pub applicant_name: String,
    pub status: CaseStatus,
    pub status_zh: &'static str,
    pub channel: String,
    pub submitted_at: Option<i64>,
    pub updated_at: i64,
}

/// A page of a list, newest first: `cursor` is the last id of the previous page.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub cursor: Option<i64>,
    pub limit: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            cursor: None,
            limit: 50,
        }
    }
}

/// What a clerk decides at the window.
#[derive(Debug, Clone)]
pub enum WindowDecision {
    Accept,
    Reject { reason: String },
    Corrections { note: String },
    CompleteOnSpot,
}

pub(crate) struct Row0 {
    pub(crate) id: i64,
    pub(crate) number: Option<String>,
    pub(crate) item_code: String,
    pub(crate) applicant_id: i64,
    pub(crate) status: CaseStatus,
    pub(crate) region: String,
    pub(crate) channel: String,
    pub(crate) version: i64,
    pub(crate) form: String,
    pub(crate) commitment_signed: bool,
    pub(crate) item: std::sync::Arc<ServiceItem>,
}

pub(crate) async fn load(c: &mut dyn Tx, id: i64) -> Result<Row0> {
    let r = c.opt("SELECT c.id, c.number, c.item_code, c.applicant_id, c.status, c.region, c.channel, c.version, c.form, c.commitment_signed, i.updated_at AS item_version \
         FROM cases c JOIN items i ON i.code = c.item_code WHERE c.id = $1", args![id])
    .await?
    .ok_or_else(StoreError::no_case)?;
    let status: String = r.try_get("status")?;
    Ok(Row0 {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        item_code: r.try_get("item_code")?,
        applicant_id: r.try_get("applicant_id")?,
        status: CaseStatus::parse(&status)
            .ok_or_else(|| StoreError::Unavailable(format!("unknown status {status}")))?,
        region: r.try_get("region")?,
        channel: r.try_get("channel")?,
        version: r.try_get("version")?,
        form: r.try_get("form")?,
        commitment_signed: r.try_get::<i64, _>("commitment_signed")? != 0,
        item: crate::catalog::item_by_version(c, &r.str("item_code")?, r.i64("item_version")?)
            .await?,
    })
}

/// The applicant, or a window clerk for a walk-in case in their region.
pub(crate) fn may_edit(actor: &Actor, row: &Row0) -> bool {
    actor.owns(row.applicant_id)
        || (row.channel == "window" && actor.may_in(Permission::WalkIn, &row.region))
}

fn may_read(actor: &Actor, row_applicant: i64, region: &str) -> bool {
    actor.owns(row_applicant) || actor.may_in(Permission::ReadCases, region)
}

pub(crate) async fn set_status(
    c: &mut dyn Tx,
    row: &Row0,
    next: CaseStatus,
    extra_sql: &str,
) -> Result<()> {
    let sql = format!(
        "UPDATE cases SET status = $1, version = version + 1, updated_at = $2{extra_sql} WHERE id = $3 AND version = $4"
    );
    let done = c
        .exec(&sql, args![next.as_str(), now_ms(), row.id, row.version])
        .await?;
    if done != 1 {
        return Err(StoreError::conflict(
            "case.changed",
            "The case was changed by someone else; reload and try again.",
            "办件已被他人更新，请刷新后重试。",
        ));
    }
    Ok(())
}

/// The deadlines stored on a case row, once it has been accepted.
pub(crate) fn stored_deadlines(r: &crate::tx::Row) -> Result<Option<Deadlines>> {
    let date = |col: &str| -> Result<Option<time::Date>> {
        r.opt_str(col)?
            .map(|s| {
                yichuang_core::calendar::parse_date(&s)
                    .map_err(|e| StoreError::Unavailable(e.to_string()))
            })
            .transpose()
    };
    Ok(
        match (
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
        },
    )
}

pub(crate) fn state_of(row: &Row0) -> CaseState {
    CaseState {
        status: row.status,
        immediate: row.item.is_immediate(),
        corrections_issued: 0,
    }
}

pub(crate) async fn audit_case(
    c: &mut dyn Tx,
    actor: &Actor,
    action: &str,
    number: Option<&str>,
    before: CaseStatus,
    after: CaseStatus,
    detail: String,
) -> Result<()> {
    let stream_number = number.map(str::to_string);
    audit::record(
        c,
        actor,
        Entry {
            action,
            case_number: stream_number.as_deref(),
            status_before: Some(before.as_str()),
            status_after: Some(after.as_str()),
            detail,
        },
    )
    .await?;
    // The applicant's notice commits with the change it tells of, or not at all.
    crate::outbox::on_case_change(c, number, before, after).await
}

/// Checks the form against the item's declared fields.
pub fn check_form(item: &ServiceItem, form: &BTreeMap<String, String>) -> Result<()> {
    for (k, _) in form.iter() {
        if !item.fields.iter().any(|f| &f.key == k) {
            return Err(StoreError::invalid(
                "form.unknown_field",
                format!("The form has no field '{k}'."),
                format!("表单没有字段“{k}”。"),
            ));
        }
    }
    for f in &item.fields {
        let v = form.get(&f.key).map(|s| s.trim()).unwrap_or("");
        if v.is_empty() {
            continue;
        }
        let ok = match f.kind {
            FieldKind::Text => v.chars().count() <= 2000,
            FieldKind::Number => v.parse::<f64>().is_ok_and(f64::is_finite),
            FieldKind::Date => {
                time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
                    .is_ok()
            }
            FieldKind::Select => f.options.iter().any(|o| o == v),
        };
        if !ok {
            return Err(StoreError::invalid(
                "form.invalid_value",
                format!(
                    "'{}' is not a valid value for {}.",
                    v,
                    if f.label_en.is_empty() {
                        &f.key
                    } else {
                        &f.label_en
                    }
                ),
                format!("“{}”的填写内容无效。", f.label),
            ));
        }
    }
    Ok(())
}

fn missing_required(
    item: &ServiceItem,
    form: &BTreeMap<String, String>,
) -> Option<(String, String)> {
    item.fields
        .iter()
        .find(|f| f.required && form.get(&f.key).map(|s| s.trim()).unwrap_or("").is_empty())
        .map(|f| (f.label.clone(), f.label_en.clone()))
}

fn random_secret() -> String {
    use rand::Rng;
    const CH: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut r = rand::thread_rng();
    (0..6)
        .map(|_| CH[r.gen_range(0..CH.len())] as char)
        .collect()
}

impl Store {
    /// The calendar of a case's region (the nation's days overlaid by the region's own).
    pub(crate) async fn case_calendar(
        &self,
        id: i64,
    ) -> Result<std::sync::Arc<yichuang_core::calendar::Calendar>> {
        let region: Option<String> = sqlx::query_scalar("SELECT region FROM cases WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(region) = region else {
            return Err(StoreError::no_case());
        };
        self.calendar(Some(&region)).await
    }

    /// Starts a draft for the actor (an applicant) on an item.
    pub async fn create_draft(
        &self,
        actor: &Actor,
        item_code: &str,
        form: BTreeMap<String, String>,
        commitment: bool,
    ) -> Result<i64> {
        if !matches!(actor.kind, ActorKind::Applicant) {
            return Err(StoreError::forbidden(
                "case.applicant_only",
                "Only an applicant can start an application; staff use the walk-in form.",
                "只有申请人可以发起申请；窗口人员请使用现场受理。",
            ));
        }
        let item = self.item(item_code).await?;
        if !item.online {
            return Err(StoreError::invalid(
                "item.not_online",
                "This item cannot be applied for online.",
                "该事项不支持网上申请。",
            ));
        }
        check_form(&item, &form)?;
        let kind = self
            .account(actor.account_id)
            .await?
            .map(|a| a.kind)
            .unwrap_or_default();
        let object = if kind == "enterprise" { "2" } else { "1" };
        if !item
            .service_objects
            .iter()
            .any(|o| o == object || (object == "2" && o == "6"))
        {
            return Err(StoreError::invalid(
                "item.wrong_applicant_type",
                "This item is not for your type of applicant.",
                "该事项的服务对象不包括您的申请人类型。",
            ));
        }
        let actor = actor.clone();
        let owner = actor.account_id;
        self.write(move |c| {
            Box::pin(async move {
                insert_draft(c, &actor, owner, &item, &form, commitment, "online").await
            })
        })
        .await
    }

    /// A window clerk opens a case for a walk-in applicant, found by ID number or created.
    pub async fn walk_in(
        &self,
        actor: &Actor,
        id_number: &str,
        name: &str,
        phone: Option<String>,
        item_code: &str,
    ) -> Result<i64> {
        let item = self.item(item_code).await?;
        if !actor.may_in(Permission::WalkIn, &item.region) {
            return Err(StoreError::forbidden(
                "case.out_of_scope",
                "This item is outside your role or region.",
                "该事项不在您的权限或辖区范围内。",
            ));
        }
        let (kind, idn) = if let Ok(p) = yichuang_core::ResidentId::parse(id_number) {
            ("person", p.as_str().to_string())
        } else if let Ok(u) = yichuang_core::Uscc::parse(id_number) {
            ("enterprise", u.as_str().to_string())
        } else {
            return Err(StoreError::invalid(
                "applicant.id_number",
                "id_number: not a valid resident ID number or unified social credit code.",
                "证件号码：不是有效的居民身份证号码或统一社会信用代码。",
            ));
        };
        let existing = self.applicant_by_id_number(&idn).await?;
        let (actor, name, phone) = (actor.clone(), name.to_string(), phone);
        self.write(move |c| {
            Box::pin(async move {
                let owner = match existing {
                    Some(a) => a.id,
                    None => {
                        if name.trim().is_empty() {
                            return Err(StoreError::invalid(
                                "applicant.name",
                                "name: required for a new applicant.",
                                "姓名：新申请人必须填写。",
                            ));
                        }
                        crate::accounts::insert_account(
                            c,
                            &crate::accounts::NewAccount {
                                kind: kind.into(),
                                login: idn.clone(),
                                name: name.trim().into(),
                                id_number: Some(idn.clone()),
                                phone,
                                ..Default::default()
                            },
                        )
                        .await?
                    }
                };
                insert_draft(c, &actor, owner, &item, &BTreeMap::new(), false, "window").await
            })
        })
        .await
    }

    pub async fn save_draft(
        &self,
        actor: &Actor,
        id: i64,
        form: BTreeMap<String, String>,
        commitment: bool,
    ) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let row = load(c, id).await?;
                if !may_edit(&actor, &row) {
                    return Err(StoreError::no_case());
                }
                if !matches!(row.status, CaseStatus::Draft | CaseStatus::CorrectionRequired) {
                    return Err(StoreError::conflict("case.not_editable", "The case can no longer be edited.", "办件已提交，不能再修改。"));
                }
                check_form(&row.item, &form)?;
                let form_json = serde_json::to_string(&form).unwrap_or_else(|_| "{}".into());
                let done = c.exec("UPDATE cases SET form = $1, commitment_signed = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND version = $5", args![form_json, i64::from(commitment), now_ms(), id, row.version])
                    .await?;
                if done != 1 {
                    return Err(StoreError::conflict("case.changed", "The case was changed meanwhile; reload.", "办件已被更新，请刷新。"));
                }
                audit_case(c, &actor, "case.save_draft", row.number.as_deref(), row.status, row.status, String::new()).await
            })
        })
        .await
    }

    /// Records an uploaded file as a material of the case (the bytes are already stored).
    pub async fn add_submission(&self, actor: &Actor, id: i64, file: NewSubmission) -> Result<i64> {
        let actor = actor.clone();
        let NewSubmission {
            material_code: m,
            hash: h,
            file_name: f,
            content_type: t,
            size,
        } = file;
        self.write(move |c| {
            Box::pin(async move {
                let row = load(c, id).await?;
                if !may_edit(&actor, &row) {
                    return Err(StoreError::no_case());
                }
                if !matches!(row.status, CaseStatus::Draft | CaseStatus::CorrectionRequired | CaseStatus::Accepted) {
                    return Err(StoreError::conflict("case.not_editable", "Materials can no longer be added.", "当前状态不能再上传材料。"));
                }
                if row.item.material(&m).is_none() {
                    return Err(StoreError::invalid("material.unknown", format!("material: the item has no material '{m}'."), format!("材料：该事项没有材料“{m}”。")));
                }
                let sid: i64 = c.int("INSERT INTO submissions (case_id, material_code, file_hash, file_name, content_type, size, uploaded_at) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id", args![id, &m, &h, &f, &t, size, now_ms()])
                .await?;
                audit_case(c, &actor, "case.upload", row.number.as_deref(), row.status, row.status, format!("{m} {h} {size}")).await?;
                Ok(sid)
            })
        })
        .await
    }

    /// Submits a draft, or resubmits after a correction notice. Submitting a case that is
    /// already submitted returns it unchanged, so a double click makes one case.
    pub async fn submit(&self, actor: &Actor, id: i64) -> Result<String> {
        let today = self.today();
        let actor2 = actor.clone();
        let r = self
            .write(move |c| Box::pin(async move { submit_in(c, &actor2, id, today).await }))
            .await;
        match r {
            Err(StoreError::Rule {
                code: "case.changed",
                ..
            }) => {
                // Lost a race with our own other submit: answer with the case it made.
                let row = self.case_view(actor, id).await?;
                match (row.status, row.number) {
                    (CaseStatus::Submitted, Some(n)) => Ok(n),
                    _ => Err(StoreError::conflict(
                        "case.changed",
                        "The case was changed meanwhile; reload.",
                        "办件已被更新，请刷新。",
                    )),
                }
            }
            other => other,
        }
    }

    /// A clerk's verdicts on materials, then an optional decision, in one transaction.
    pub async fn window_decision(
        &self,
        actor: &Actor,
        id: i64,
        checks: Vec<MaterialCheck>,
        decision: Option<WindowDecision>,
    ) -> Result<CaseStatus> {
        let actor = actor.clone();
        let today = self.today();
        // Acceptance fixes the deadlines, counted on the case region's calendar.
        let cal = match decision {
            Some(WindowDecision::Accept | WindowDecision::CompleteOnSpot) => {
                Some(self.case_calendar(id).await?)
            }
            _ => None,
        };
        self.write(move |c| {
            Box::pin(async move {
                decide_in(c, &actor, id, checks, decision, cal.as_deref(), today).await
            })
        })
        .await
    }

    pub async fn withdraw(&self, actor: &Actor, id: i64) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let row = load(c, id).await?;
                if !actor.owns(row.applicant_id) {
                    return Err(StoreError::no_case());
                }
                let (next, _) = apply(&state_of(&row), &CaseCommand::Withdraw)?;
                crate::supervision::bucket_delta(c, id, -1).await?;
                set_status(c, &row, next.status, "").await?;
                audit_case(
                    c,
                    &actor,
                    "case.withdraw",
                    row.number.as_deref(),
                    row.status,
                    next.status,
                    String::new(),
                )
                .await?;
                crate::flows::cancel(c, &actor, id).await
            })
        })
        .await
    }

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

pub(crate) async fn insert_draft(
    c: &mut dyn Tx,
    actor: &Actor,
    owner: i64,
    item: &ServiceItem,
    form: &BTreeMap<String, String>,
    commitment: bool,
    channel: &str,
) -> Result<i64> {
    let now = now_ms();
    let id: i64 = c.int("INSERT INTO cases (item_code, applicant_id, status, region, department, form, commitment_signed, secret, channel, created_at, updated_at) \
         VALUES ($1,$2,'draft',$3,$4,$5,$6,$7,$8,$9,$9) RETURNING id", args![&item.code, owner, &item.region, &item.department, serde_json::to_string(form).unwrap_or_else(|_| "{}".into()), i64::from(commitment), random_secret(), channel, now])
    .await?;
    audit::record(
        c,
        actor,
        Entry {
            action: "case.create_draft",
            status_after: Some("draft"),
            detail: format!("case {id} item {} channel {channel}", item.code),
            ..Default::default()
        },
    )
    .await?;
    Ok(id)
}

pub(crate) async fn submit_in(
    c: &mut dyn Tx,
    actor: &Actor,
    id: i64,
    today: time::Date,
) -> Result<String> {
    let row = load(c, id).await?;
    if !may_edit(actor, &row) {
        return Err(StoreError::no_case());
    }
    if row.status == CaseStatus::Submitted {
        if let Some(n) = row.number {
            return Ok(n);
        }
    }
    let form: BTreeMap<String, String> = serde_json::from_str(&row.form).unwrap_or_default();
    if let Some((zh, en)) = missing_required(&row.item, &form) {
        return Err(StoreError::invalid(
            "form.required",
            format!(
                "{}: this field is required.",
                if en.is_empty() { &zh } else { &en }
            ),
            format!("“{zh}”为必填项。"),
        ));
    }
    // Where the commitment replaces materials, the applicant may instead hand those in.
    if row.item.commitment && !row.commitment_signed && row.item.commitment_materials.is_empty() {
        return Err(StoreError::invalid(
            "commitment.unsigned",
            "Sign the commitment letter before submitting.",
            "请先签署告知承诺书。",
        ));
    }
    let uploaded: Vec<(String, i64)> = c
        .query(
            "SELECT material_code, uploaded_at FROM submissions WHERE case_id = $1",
            args![id],
        )
        .await?
        .iter()
        .map(|r| Ok((r.try_get("material_code")?, r.try_get("uploaded_at")?)))
        .collect::<Result<_>>()?;
    let cmd = match row.status {
        CaseStatus::CorrectionRequired => CaseCommand::Resubmit,
        _ => CaseCommand::Submit,
    };
    if cmd == CaseCommand::Submit {
        // A walk-in case is checked by the clerk at the window, with paper in hand.
        if row.channel == "online" {
            if let Some(m) = row.item.materials.iter().find(|m| {
                row.item.must_submit(m, row.commitment_signed)
                    && !uploaded.iter().any(|(code, _)| code == &m.code)
            }) {
                return Err(StoreError::invalid(
                    "material.required",
                    format!("Upload the required material: {}.", m.name),
                    format!("请上传必交材料：{}。", m.name),
                ));
            }
        }
    } else {
        // Every problem on the open notice must have a new upload after it was issued.
        let notice = c.opt("SELECT id, issued_at, problems FROM correction_notices WHERE case_id = $1 AND resolved_at IS NULL ORDER BY id DESC", args![id])
            .await?;
        if let Some(n) = notice {
            let issued: i64 = n.try_get("issued_at")?;
            let problems: Vec<MaterialCheck> =
                serde_json::from_str(&n.try_get::<String, _>("problems")?).unwrap_or_default();
            for p in &problems {
                if p.material_code.is_empty() {
                    continue;
                }
                if !uploaded
                    .iter()
                    .any(|(code, at)| code == &p.material_code && *at >= issued)
                {
                    let name = row
                        .item
                        .material(&p.material_code)
                        .map(|m| m.name.clone())
                        .unwrap_or_else(|| p.material_code.clone());
                    return Err(StoreError::invalid(
                        "correction.unresolved",
                        format!("Upload a corrected file for: {name}."),
                        format!("请重新上传补正材料：{name}。"),
                    ));
                }
            }
            c.exec(
                "UPDATE correction_notices SET resolved_at = $1 WHERE id = $2",
                args![now_ms(), n.try_get::<i64, _>("id")?],
            )
            .await?;
        }
    }
    let (next, _) = apply(&state_of(&row), &cmd)?;
    let number = match row.number.clone() {
        Some(n) => n,
        None => {
            let day = today.to_string();
            let seq: i64 = if c.serial() {
                // One writer reads and then writes; SQLite runs a RETURNING through a
                // temporary table, which cost more than the read.
                let last = c
                    .opt_int(
                        "SELECT n FROM case_counters WHERE region = $1 AND day = $2",
                        args![&row.region, &day],
                    )
                    .await?;
                let sql = match last {
                    Some(_) => "UPDATE case_counters SET n = $3 WHERE region = $1 AND day = $2",
                    None => "INSERT INTO case_counters (region, day, n) VALUES ($1, $2, $3)",
                };
                let n = last.unwrap_or(0) + 1;
                c.exec(sql, args![&row.region, &day, n]).await?;
                n
            } else {
                c.int(
                    "INSERT INTO case_counters (region, day, n) VALUES ($1, $2, 1) \
                     ON CONFLICT (region, day) DO UPDATE SET n = case_counters.n + 1 RETURNING n",
                    args![&row.region, &day],
                )
                .await?
            };
            CaseNumber::new(&row.region, today, seq as u64).to_string()
        }
    };
    let extra = if cmd == CaseCommand::Submit {
        ", number = $5, submitted_at = $2"
    } else {
        ", number = $5"
    };
    let sql = format!(
        "UPDATE cases SET status = $1, version = version + 1, updated_at = $2{extra} WHERE id = $3 AND version = $4"
    );
    let done = c
        .exec(
            &sql,
            args![next.status.as_str(), now_ms(), id, row.version, &number],
        )
        .await?;
    if done != 1 {
        return Err(StoreError::conflict(
            "case.changed",
            "The case was changed meanwhile; reload.",
            "办件已被更新，请刷新。",
        ));
    }
    audit_case(
        c,
        actor,
        cmd.action(),
        Some(&number),
        row.status,
        next.status,
        format!("item {}", row.item_code),
    )
    .await?;
    Ok(number)
}

pub(crate) async fn decide_in(
    c: &mut dyn Tx,
    actor: &Actor,
    id: i64,
    checks: Vec<MaterialCheck>,
    decision: Option<WindowDecision>,
    cal: Option<&Calendar>,
    today: time::Date,
) -> Result<CaseStatus> {
    let row = load(c, id).await?;
    if !actor.may_in(Permission::ReadCases, &row.region) {
        return Err(StoreError::no_case());
    }
    if !actor.may_in(Permission::Accept, &row.region) {
        return Err(StoreError::forbidden(
            "case.role",
            "Your role cannot act at the window.",
            "您的角色不能进行窗口受理。",
        ));
    }
    let now = now_ms();
    if !checks.is_empty() && row.status != CaseStatus::Submitted {
        return Err(yichuang_core::DomainError::InvalidTransition {
            from: row.status,
            action: "check",
        }
        .into());
    }
    for ch in &checks {
        let Some(m) = row.item.material(&ch.material_code) else {
            return Err(StoreError::invalid(
                "material.unknown",
                format!("material: the item has no material '{}'.", ch.material_code),
                format!("材料：该事项没有材料“{}”。", ch.material_code),
            ));
        };
        let Some(v) = Verdict::parse(&ch.verdict) else {
            return Err(StoreError::invalid(
                "check.verdict",
                "verdict must be ok, missing, wrong or deferred.",
                "审查结论应为合格、缺少、有误或容缺。",
            ));
        };
        if matches!(v, Verdict::Missing | Verdict::Wrong) && ch.reason.trim().is_empty() {
            return Err(StoreError::invalid(
                "check.reason_required",
                format!("Give the reason for '{}'.", m.name),
                format!("请写明“{}”的问题。", m.name),
            ));
        }
        if v == Verdict::Deferred {
            if !m.deferrable {
                return Err(StoreError::invalid(
                    "check.not_deferrable",
                    format!("'{}' is a main material and cannot be deferred.", m.name),
                    format!("“{}”为主要材料，不能容缺。", m.name),
                ));
            }
            let due = ch.due_date.as_deref().and_then(|d| {
                time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()
            });
            match due {
                Some(d) if d > today => {}
                _ => {
                    return Err(StoreError::invalid(
                        "check.due_date",
                        "A deferred material needs a due date after today (YYYY-MM-DD).",
                        "容缺材料须填写今天以后的补交日期。",
                    ))
                }
            }
        }
        c.exec("INSERT INTO material_checks (case_id, material_code, verdict, reason, due_date, checked_by, checked_at) VALUES ($1,$2,$3,$4,$5,$6,$7) \
             ON CONFLICT (case_id, material_code) DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason, due_date = excluded.due_date, checked_by = excluded.checked_by, checked_at = excluded.checked_at", args![id, &ch.material_code, v.as_str(), ch.reason.trim(), if v == Verdict::Deferred { ch.due_date.clone() } else { None }, actor.account_id, now])
        .await?;
    }
    // With a decision following, its audit record carries the verdicts too.
    if !checks.is_empty() && decision.is_none() {
        audit_case(
            c,
            actor,
            "case.check_materials",
            row.number.as_deref(),
            row.status,
            row.status,
            checks
                .iter()
                .map(|c| format!("{}={}", c.material_code, c.verdict))
                .collect::<Vec<_>>()
                .join(","),
        )
        .await?;
    }
    let Some(decision) = decision else {
        return Ok(row.status);
    };
    let stored: Vec<MaterialCheck> = c.query("SELECT material_code, verdict, reason, due_date FROM material_checks WHERE case_id = $1", args![id])
    .await?
    .iter()
    .map(|r| {
        Ok(MaterialCheck {
            material_code: r.try_get("material_code")?,
            verdict: r.try_get("verdict")?,
            reason: r.try_get("reason")?,
            due_date: r.try_get("due_date")?,
        })
    })
    .collect::<Result<_>>()?;
    let verdict_of = |code: &str| {
        stored
            .iter()
            .find(|c| c.material_code == code)
            .and_then(|c| Verdict::parse(&c.verdict))
    };
    let problems: Vec<MaterialCheck> = stored
        .iter()
        .filter(|c| {
            matches!(
                Verdict::parse(&c.verdict),
                Some(Verdict::Missing | Verdict::Wrong)
            )
        })
        .cloned()
        .collect();
    let (cmd, extra, action) = match &decision {
        WindowDecision::Accept => {
            if let Some(p) = problems.first() {
                return Err(StoreError::invalid(
                    "case.materials_not_ok",
                    format!(
                        "Material {} is marked {}; issue a correction notice instead.",
                        p.material_code, p.verdict
                    ),
                    "仍有材料缺少或有误，请出具一次性补正告知书。",
                ));
            }
            if let Some(m) = row.item.materials.iter().find(|m| {
                row.item.must_submit(m, row.commitment_signed) && verdict_of(&m.code).is_none()
            }) {
                return Err(StoreError::invalid(
                    "case.materials_unchecked",
                    format!("Check every required material first: {}.", m.name),
                    format!("请先审查全部必交材料：{}。", m.name),
                ));
            }
            let deferred = stored.iter().filter(|c| c.verdict == "deferred").count() as u32;
            (
                CaseCommand::Accept { deferred },
                ", accepted_at = $2, handled_by = $5",
                "case.accept",
            )
        }
        WindowDecision::Reject { reason } => (
            CaseCommand::Reject {
                reason: reason.clone(),
            },
            ", reject_reason = $6, handled_by = $5",
            "case.reject",
        ),
        WindowDecision::Corrections { note } => {
            let n = problems.len() as u32 + u32::from(!note.trim().is_empty());
            (
                CaseCommand::NotifyCorrections { problems: n },
                ", handled_by = $5",
                "case.notify_corrections",
            )
        }
        WindowDecision::CompleteOnSpot => (
            CaseCommand::CompleteOnSpot,
            ", completed_at = $2, handled_by = $5",
            "case.complete",
        ),
    };
    let mut st = state_of(&row);
    // 即办件: accept and complete at once when asked to complete a submitted case.
    let mut cmds = vec![cmd.clone()];
    if matches!(decision, WindowDecision::CompleteOnSpot) && row.status == CaseStatus::Submitted {
        if !problems.is_empty() {
            return Err(StoreError::invalid(
                "case.materials_not_ok",
                "Some materials are missing or wrong.",
                "仍有材料缺少或有误。",
            ));
        }
        cmds.insert(0, CaseCommand::Accept { deferred: 0 });
    }
    for cm in &cmds {
        st = apply(&st, cm)?.0;
    }
    // An item with a workflow goes straight into its first stage on acceptance.
    let flow = matches!(decision, WindowDecision::Accept) && !row.item.workflow.is_empty();
    if flow {
        st = apply(&st, &CaseCommand::OpenStage)?.0;
    }
    let reason = match &decision {
        WindowDecision::Reject { reason } => reason.trim().to_string(),
        _ => String::new(),
    };
    let deadlines = match (cal, &decision) {
        (Some(cal), WindowDecision::Accept | WindowDecision::CompleteOnSpot) => Some(
            Deadlines::compute(cal, today, &row.item.limits(), 0)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
        ),
        _ => None,
    };
    let due = |f: fn(&Deadlines) -> time::Date| deadlines.as_ref().map(|d| f(d).to_string());
    // 容缺: a deferred material is due no later than the promised completion date.
    if let Some(d) = &deadlines {
        let promised = d.promised.to_string();
        if let Some(late) = stored.iter().find(|k| {
            k.verdict == "deferred"
                && k.due_date
                    .as_deref()
                    .is_some_and(|due| due > promised.as_str())
        }) {
            return Err(StoreError::invalid(
                "check.due_after_promised",
                format!("The deferred material {} is due after the promised completion date {promised}.", late.material_code),
                format!("容缺材料 {} 的补交日期晚于承诺办结日期 {promised}。", late.material_code),
            ));
        }
    }
    // The first stage is worked out now (its snapshot found or stored), after every check
    // that could refuse the acceptance, and written with the status.
    let begun = match (flow, cal) {
        (true, Some(cal)) => Some(
            crate::flows::Begun::new(
                c,
                &row.region,
                &row.item.department,
                &row.item.workflow,
                cal,
                today,
            )
            .await?,
        ),
        _ => None,
    };
    let sql = format!("UPDATE cases SET status = $1, version = version + 1, updated_at = $2{extra}{}{}{} WHERE id = $3 AND version = $4",
        if cmds.len() == 2 { ", accepted_at = $2" } else { "" },
        if deadlines.is_some() { ", accepted_on = $7, internal_due = $8, promised_due = $9, legal_due = $10, yellow_from = $11, next_alert_on = $11, alerted = 0" } else { "" },
        if begun.is_some() { ", flow_stage = $12, flow_result = $13, workflow_id = $14" } else { "" });
    let (flow_stage, flow_result, workflow_id) = match begun.as_ref().map(|b| b.case_columns()) {
        Some((stage, result, workflow)) => (Some(stage), result, Some(workflow)),
        None => (None, None, None),
    };
    // The supervision buckets follow the case: out of its old bucket (only an open case is
    // in one), into its new one.
    if matches!(row.status, CaseStatus::Accepted | CaseStatus::InStage) {
        crate::supervision::bucket_delta(c, id, -1).await?;
    }
    let done = c
        .exec(
            &sql,
            args![
                st.status.as_str(),
                now,
                id,
                row.version,
                actor.account_id,
                reason.clone(),
                due(|d| d.accepted_on),
                due(|d| d.internal),
                due(|d| d.promised),
                due(|d| d.legal),
                due(|d| d.yellow_from),
                flow_stage,
                flow_result,
                workflow_id
            ],
        )
        .await?;
    if done != 1 {
        return Err(StoreError::conflict(
            "case.changed",
            "The case was changed by someone else; reload and try again.",
            "办件已被他人更新，请刷新后重试。",
        ));
    }
    crate::supervision::bucket_delta(c, id, 1).await?;
    if let (WindowDecision::CompleteOnSpot, Some(cal)) = (&decision, cal) {
        crate::conclusions::record_conclusion(c, id, cal, today, Some(actor.account_id)).await?;
    }
    if let Some(begun) = begun {
        crate::flows::start(c, id, begun).await?;
    }
    if let WindowDecision::Corrections { note } = &decision {
        c.exec("INSERT INTO correction_notices (case_id, issued_by, issued_at, problems, note) VALUES ($1,$2,$3,$4,$5)", args![id, actor.account_id, now, serde_json::to_string(&problems).unwrap_or_else(|_| "[]".into()), note.trim()])
            .await?;
        // The next round starts from a clean sheet for the materials that were wrong.
        c.exec(
            "DELETE FROM material_checks WHERE case_id = $1 AND verdict IN ('missing','wrong')",
            args![id],
        )
        .await?;
    }
    let verdicts = checks
        .iter()
        .map(|c| format!("{}={}", c.material_code, c.verdict))
        .collect::<Vec<_>>()
        .join(",");
    let detail = match (reason.is_empty(), verdicts.is_empty()) {
        (true, _) => verdicts,
        (false, true) => reason,
        (false, false) => format!("{reason}; {verdicts}"),
    };
    audit_case(
        c,
        actor,
        action,
        row.number.as_deref(),
        row.status,
        st.status,
        detail,
    )
    .await?;
    Ok(st.status)
}
