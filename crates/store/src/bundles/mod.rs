//! 一件事一次办: a bundle application is one form, one set of materials and one acceptance for
//! several items. Its parts are ordinary cases, one per item, created, filled, submitted and
//! accepted together in single transactions; each then runs its own workflow. The bundle is
//! done when every part is concluded.

use crate::args;
use crate::cases::change::audit_case;
use crate::cases::draft::check_form;
use crate::cases::draft::insert_draft;
use crate::cases::row::load;
use crate::cases::row::may_edit;
use crate::cases::submit::submit_in;
use crate::cases::types::MaterialCheck;
use crate::cases::types::NewSubmission;
use crate::cases::types::WindowDecision;
use crate::cases::window::decide_in;
use crate::{Result, Store, StoreError};
use sqlx::Row;
use std::collections::BTreeMap;
use yichuang_core::catalog::{Bundle, FormField, Material, ServiceItem};
use yichuang_core::{Actor, ActorKind, CaseStatus, Permission};

/// A bundle with its items, and the form and materials an applicant fills once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BundleGuide {
    pub bundle: Bundle,
    pub items: Vec<ServiceItem>,
    /// Every item's fields, each key once.
    pub fields: Vec<FormField>,
    /// Every item's materials, each name once, with the items that need it.
    pub materials: Vec<SharedMaterial>,
    /// The longest promised limit of its items: when the whole bundle is promised.
    pub promised_limit: u32,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SharedMaterial {
    pub name: String,
    pub required: bool,
    /// (item code, material code) of every item that asks for it.
    pub used_by: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BundlePart {
    pub case_id: i64,
    pub number: Option<String>,
    pub item_code: String,
    pub item_name: String,
    pub status: CaseStatus,
    pub status_zh: &'static str,
    pub status_en: &'static str,
    pub promised_due: Option<String>,
    pub current_stage: Option<String>,
    pub concluded_on: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BundleApp {
    pub id: i64,
    pub bundle_code: String,
    pub bundle_name: String,
    pub applicant_id: i64,
    pub region: String,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub accepted_at: Option<i64>,
    /// draft | submitted | correction_required | in_progress | completed | withdrawn
    pub status: &'static str,
    pub parts: Vec<BundlePart>,
    /// Material names already uploaded (to every part that asks for them).
    pub uploaded: Vec<String>,
}

fn guide_of(bundle: Bundle, items: Vec<ServiceItem>) -> BundleGuide {
    let mut fields: Vec<FormField> = Vec::new();
    let mut materials: Vec<SharedMaterial> = Vec::new();
    for it in &items {
        for f in &it.fields {
            if !fields.iter().any(|x| x.key == f.key) {
                fields.push(f.clone());
            }
        }
        for m in &it.materials {
            let needed = it.must_submit(m, false);
            match materials.iter_mut().find(|x| x.name == m.name) {
                Some(x) => {
                    x.required |= needed;
                    x.used_by.push((it.code.clone(), m.code.clone()));
                }
                None => materials.push(SharedMaterial {
                    name: m.name.clone(),
                    required: needed,
                    used_by: vec![(it.code.clone(), m.code.clone())],
                }),
            }
        }
    }
    let promised_limit = items.iter().map(|i| i.promised_limit).max().unwrap_or(0);
    BundleGuide {
        bundle,
        items,
        fields,
        materials,
        promised_limit,
    }
}

/// The values of `form` that an item's own form has.
fn form_for(item: &ServiceItem, form: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    item.fields
        .iter()
        .filter_map(|f| form.get(&f.key).map(|v| (f.key.clone(), v.clone())))
        .collect()
}

/// Every key must be a field of some item of the bundle.
fn check_keys(g: &BundleGuide, form: &BTreeMap<String, String>) -> Result<()> {
    match form.keys().find(|k| !g.fields.iter().any(|f| &&f.key == k)) {
        Some(k) => Err(StoreError::invalid(
            "form.unknown_field",
            format!("The form has no field '{k}'."),
            format!("表单没有字段“{k}”。"),
        )),
        None => Ok(()),
    }
}

/// A bundle's verdicts name shared materials; each part checks them under its own codes.
fn part_checks(item: &ServiceItem, checks: &[MaterialCheck]) -> Vec<MaterialCheck> {
    item.materials
        .iter()
        .filter_map(|m| {
            checks
                .iter()
                .find(|k| k.material_code == m.name)
                .map(|k| MaterialCheck {
                    material_code: m.code.clone(),
                    ..k.clone()
                })
        })
        .collect()
}

fn no_bundle() -> StoreError {
    StoreError::not_found(
        "bundle.not_found",
        "No such bundle application.",
        "未找到该一件事申请。",
    )
}

impl Store {
    pub async fn bundles(&self) -> Result<Vec<Bundle>> {
        let rows = sqlx::query("SELECT body FROM bundles ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(&r.try_get::<String, _>("body")?)
                    .map_err(|e| StoreError::Unavailable(e.to_string()))
            })
            .collect()
    }

    pub async fn bundle_guide(&self, code: &str) -> Result<BundleGuide> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM bundles WHERE code = $1")
            .bind(code)
            .fetch_optional(self.pool())
            .await?;
        let body = body.ok_or_else(|| {
            StoreError::not_found("bundle.not_found", "No such bundle.", "未找到该一件事。")
        })?;
        let bundle: Bundle =
            serde_json::from_str(&body).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut items = Vec::new();
        for code in &bundle.items {
            items.push(self.item(code).await?);
        }
        Ok(guide_of(bundle, items))
    }

    /// Starts a bundle application: one draft per item, sharing the form, in one transaction.
    pub async fn create_bundle_app(
        &self,
        actor: &Actor,
        code: &str,
        form: BTreeMap<String, String>,
    ) -> Result<i64> {
        if !matches!(actor.kind, ActorKind::Applicant) {
            return Err(StoreError::forbidden(
                "case.applicant_only",
                "Only an applicant can start an application.",
                "只有申请人可以发起申请。",
            ));
        }
        let g = self.bundle_guide(code).await?;
        check_keys(&g, &form)?;
        for it in &g.items {
            check_form(it, &form_for(it, &form))?;
        }
        let actor = actor.clone();
        let owner = actor.account_id;
        self.write(move |c| {
            Box::pin(async move {
                let app = c
                    .one(
                        "INSERT INTO bundle_apps (bundle_code, applicant_id, region, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                        args![&g.bundle.code, owner, &g.bundle.region, crate::now_ms()],
                    )
                    .await?
                    .i64("id")?;
                for it in &g.items {
                    let id = insert_draft(c, &actor, owner, it, &form_for(it, &form), false, "online").await?;
                    crate::cases::write::set_bundle_app(c, id, app).await?;
                }
                Ok(app)
            })
        })
        .await
    }

    /// The part cases of a bundle application; not found when it has none.
    async fn bundle_parts(&self, app: i64) -> Result<Vec<i64>> {
        let parts: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM cases WHERE bundle_app = $1 ORDER BY id")
                .bind(app)
                .fetch_all(self.pool())
                .await?;
        if parts.is_empty() {
            return Err(no_bundle());
        }
        Ok(parts)
    }

    /// Saves the shared form on every part (each keeps the fields its item has).
    pub async fn save_bundle_form(
        &self,
        actor: &Actor,
        app: i64,
        form: BTreeMap<String, String>,
    ) -> Result<()> {
        let code: Option<String> =
            sqlx::query_scalar("SELECT bundle_code FROM bundle_apps WHERE id = $1")
                .bind(app)
                .fetch_optional(self.pool())
                .await?;
        check_keys(
            &self.bundle_guide(&code.ok_or_else(no_bundle)?).await?,
            &form,
        )?;
        let parts = self.bundle_parts(app).await?;
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                for id in parts {
                    let row = load(c, id).await?;
                    if !may_edit(&actor, &row) {
                        return Err(no_bundle());
                    }
                    if !matches!(
                        row.status,
                        CaseStatus::Draft | CaseStatus::CorrectionRequired
                    ) {
                        return Err(StoreError::conflict(
                            "case.not_editable",
                            "The application can no longer be edited.",
                            "当前状态不能再修改申请。",
                        ));
                    }
                    let mine = form_for(&row.item, &form);
                    check_form(&row.item, &mine)?;
                    crate::cases::write::set_bundle_form(
                        c,
                        id,
                        serde_json::to_string(&mine).unwrap_or_else(|_| "{}".into()),
                    )
                    .await?;
                    audit_case(
                        c,
                        &actor,
                        "case.save_draft",
                        row.number.as_deref(),
                        row.status,
                        row.status,
                        "bundle form".into(),
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// One upload of a shared material, filed with every part whose item asks for it.
    pub async fn bundle_upload(
        &self,
        actor: &Actor,
        app: i64,
        material_name: &str,
        file: NewSubmission,
    ) -> Result<usize> {
        let parts = self.bundle_parts(app).await?;
        let (actor, name) = (actor.clone(), material_name.to_string());
        self.write(move |c| {
            Box::pin(async move {
                let (mut filed, mut closed) = (0, 0);
                for id in parts {
                    let row = load(c, id).await?;
                    if !may_edit(&actor, &row) {
                        return Err(no_bundle());
                    }
                    let Some(m) = row.item.materials.iter().find(|m| m.name == name).map(|m: &Material| m.code.clone()) else {
                        continue;
                    };
                    // After a correction notice only the parts sent back take the new file.
                    if !matches!(row.status, CaseStatus::Draft | CaseStatus::CorrectionRequired) {
                        closed += 1;
                        continue;
                    }
                    c.exec(
                        "INSERT INTO submissions (case_id, material_code, file_hash, file_name, content_type, size, uploaded_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
                        args![id, &m, &file.hash, &file.file_name, &file.content_type, file.size, crate::now_ms()],
                    )
                    .await?;
                    audit_case(c, &actor, "case.upload", row.number.as_deref(), row.status, row.status, format!("{m} {} {} (bundle)", file.hash, file.size)).await?;
                    filed += 1;
                }
                if filed == 0 && closed > 0 {
                    return Err(StoreError::conflict("case.not_editable", "Materials can no longer be added.", "当前状态不能再上传材料。"));
                }
                if filed == 0 {
                    return Err(StoreError::invalid("material.unknown", format!("No item of this bundle asks for '{name}'."), format!("该一件事的事项均不需要材料“{name}”。")));
                }
                Ok(filed)
            })
        })
        .await
    }

    /// Submits every part at once: all get their numbers, or none does.
    pub async fn submit_bundle(&self, actor: &Actor, app: i64) -> Result<Vec<String>> {
        let parts = self.bundle_parts(app).await?;
        let today = self.today();
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let mut numbers = Vec::new();
                // After a correction notice only the parts sent back are submitted again; the
                // others are still waiting at the window.
                for id in &parts {
                    let row = load(c, *id).await?;
                    if matches!(
                        row.status,
                        CaseStatus::Draft | CaseStatus::CorrectionRequired
                    ) {
                        numbers.push(submit_in(c, &actor, *id, today).await?);
                    }
                }
                if numbers.is_empty() {
                    return Err(StoreError::conflict(
                        "bundle.already_submitted",
                        "The bundle is already submitted.",
                        "该一件事已提交。",
                    ));
                }
                c.exec(
                    "UPDATE bundle_apps SET submitted_at = $1 WHERE id = $2",
                    args![crate::now_ms(), app],
                )
                .await?;
                Ok(numbers)
            })
        })
        .await
    }

    /// One acceptance for the whole bundle: every part's materials checked as given and every
    /// part accepted (its workflow starts), in one transaction.
    pub async fn accept_bundle(
        &self,
        actor: &Actor,
        app: i64,
        checks: Vec<MaterialCheck>,
    ) -> Result<Vec<CaseStatus>> {
        let parts = self.bundle_parts(app).await?;
        let cal = self.case_calendar(parts[0]).await?;
        let today = self.today();
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let mut out = Vec::new();
                for id in &parts {
                    let row = load(c, *id).await?;
                    if matches!(
                        row.status,
                        CaseStatus::Accepted
                            | CaseStatus::InStage
                            | CaseStatus::Suspended
                            | CaseStatus::Completed
                            | CaseStatus::Denied
                    ) {
                        return Err(StoreError::conflict(
                            "case.already_accepted",
                            "The bundle has been accepted already.",
                            "该一件事已受理。",
                        ));
                    }
                    let mine = part_checks(&row.item, &checks);
                    out.push(
                        decide_in(
                            c,
                            &actor,
                            *id,
                            mine,
                            Some(WindowDecision::Accept),
                            Some(&cal),
                            today,
                        )
                        .await?,
                    );
                }
                c.exec(
                    "UPDATE bundle_apps SET accepted_at = $1 WHERE id = $2",
                    args![crate::now_ms(), app],
                )
                .await?;
                Ok(out)
            })
        })
        .await
    }

    /// One correction notice for the bundle (一次性告知): verdicts by shared material name;
    /// every part with a material missing or wrong goes back to the applicant with its own
    /// list, in one transaction. The applicant fixes each shared material once and submits the
    /// bundle again.
    pub async fn correct_bundle(
        &self,
        actor: &Actor,
        app: i64,
        checks: Vec<MaterialCheck>,
        note: String,
    ) -> Result<Vec<CaseStatus>> {
        let parts = self.bundle_parts(app).await?;
        let today = self.today();
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let mut out = Vec::new();
                for id in &parts {
                    let row = load(c, *id).await?;
                    if row.status != CaseStatus::Submitted {
                        continue;
                    }
                    let mine = part_checks(&row.item, &checks);
                    if !mine.iter().any(|k| matches!(k.verdict.as_str(), "missing" | "wrong")) {
                        continue;
                    }
                    let decision = WindowDecision::Corrections { note: note.clone() };
                    out.push(decide_in(c, &actor, *id, mine, Some(decision), None, today).await?);
                }
                if out.is_empty() {
                    return Err(StoreError::invalid(
                        "bundle.no_problems",
                        "A correction notice needs a submitted part with a material missing or wrong.",
                        "补正告知须至少指出一项待受理事项的材料缺少或有误。",
                    ));
                }
                Ok(out)
            })
        })
        .await
    }

    /// The application and its parts: the applicant's own, or staff of its region.
    pub async fn bundle_app(&self, actor: &Actor, app: i64) -> Result<BundleApp> {
        let r = sqlx::query("SELECT a.*, b.name AS bundle_name FROM bundle_apps a JOIN bundles b ON b.code = a.bundle_code WHERE a.id = $1")
            .bind(app)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(no_bundle)?;
        let applicant: i64 = r.try_get("applicant_id")?;
        let region: String = r.try_get("region")?;
        if !actor.owns(applicant) && !actor.may_in(Permission::ReadCases, &region) {
            return Err(no_bundle());
        }
        let rows = sqlx::query(
            "SELECT c.id, c.number, c.item_code, i.name AS item_name, c.status, c.promised_due, c.concluded_on, \
             (SELECT MIN(t.stage_name) FROM tasks t WHERE t.case_id = c.id AND t.state IN ('open', 'claimed', 'proposed')) AS current_stage \
             FROM cases c JOIN items i ON i.code = c.item_code WHERE c.bundle_app = $1 ORDER BY c.id",
        )
        .bind(app)
        .fetch_all(self.pool())
        .await?;
        let mut parts = Vec::new();
        for p in rows {
            let status =
                CaseStatus::parse(&p.try_get::<String, _>("status")?).unwrap_or(CaseStatus::Draft);
            parts.push(BundlePart {
                case_id: p.try_get("id")?,
                number: p.try_get("number")?,
                item_code: p.try_get("item_code")?,
                item_name: p.try_get("item_name")?,
                status,
                status_zh: status.zh(),
                status_en: status.en(),
                promised_due: p.try_get("promised_due")?,
                current_stage: p.try_get("current_stage")?,
                concluded_on: p.try_get("concluded_on")?,
            });
        }
        let uploaded: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT m.material_code FROM submissions m JOIN cases c ON c.id = m.case_id WHERE c.bundle_app = $1",
        )
        .bind(app)
        .fetch_all(self.pool())
        .await?;
        let guide = self
            .bundle_guide(&r.try_get::<String, _>("bundle_code")?)
            .await?;
        let uploaded = guide
            .materials
            .iter()
            .filter(|m| {
                m.used_by.iter().all(|(item, code)| {
                    // Uploaded when every part that asks for it has it (codes are per item).
                    parts
                        .iter()
                        .filter(|p| &p.item_code == item)
                        .all(|_| uploaded.contains(code))
                })
            })
            .map(|m| m.name.clone())
            .collect();
        use CaseStatus as S;
        let all = |f: &dyn Fn(S) -> bool| parts.iter().all(|p| f(p.status));
        let status = if all(&|s| s == S::Withdrawn) {
            "withdrawn"
        } else if all(&|s| {
            matches!(
                s,
                S::Completed | S::Denied | S::Delivered | S::Withdrawn | S::Rejected
            )
        }) {
            "completed"
        } else if parts.iter().any(|p| p.status == S::Draft) {
            "draft"
        } else if parts.iter().any(|p| p.status == S::CorrectionRequired) {
            "correction_required"
        } else if parts.iter().any(|p| p.status == S::Submitted) {
            "submitted"
        } else {
            "in_progress"
        };
        Ok(BundleApp {
            id: r.try_get("id")?,
            bundle_code: r.try_get("bundle_code")?,
            bundle_name: r.try_get("bundle_name")?,
            applicant_id: applicant,
            region,
            created_at: r.try_get("created_at")?,
            submitted_at: r.try_get("submitted_at")?,
            accepted_at: r.try_get("accepted_at")?,
            status,
            parts,
            uploaded,
        })
    }

    /// The applicant's bundle applications, newest first.
    pub async fn my_bundle_apps(&self, actor: &Actor) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM bundle_apps WHERE applicant_id = $1 ORDER BY id DESC LIMIT 50",
        )
        .bind(actor.account_id)
        .fetch_all(self.pool())
        .await?)
    }
}
