//! Drafts: started online or at the window, filled, materials attached.

use crate::args;
use crate::audit::{self, Entry};
use crate::cases::change::audit_case;
use crate::cases::row::load;
use crate::cases::row::may_edit;
use crate::cases::types::NewSubmission;
use crate::db::tx::Tx;
use crate::{now_ms, Result, Store, StoreError};
use std::collections::BTreeMap;
use yichuang_core::catalog::{FieldKind, ServiceItem};
use yichuang_core::{Actor, ActorKind, CaseStatus, Permission};

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

pub(crate) fn missing_required(
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
                        crate::accounts::account::insert_account(
                            c,
                            &crate::accounts::account::NewAccount {
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
                if !matches!(
                    row.status,
                    CaseStatus::Draft | CaseStatus::CorrectionRequired
                ) {
                    return Err(StoreError::conflict(
                        "case.not_editable",
                        "The case can no longer be edited.",
                        "办件已提交，不能再修改。",
                    ));
                }
                check_form(&row.item, &form)?;
                let form_json = serde_json::to_string(&form).unwrap_or_else(|_| "{}".into());
                let done =
                    crate::cases::write::save_draft(c, id, row.version, form_json, commitment)
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
                    &actor,
                    "case.save_draft",
                    row.number.as_deref(),
                    row.status,
                    row.status,
                    String::new(),
                )
                .await
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
