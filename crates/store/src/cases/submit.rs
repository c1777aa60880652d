//! Submission (and resubmission after a correction notice) and withdrawal.

use crate::args;
use crate::cases::change::audit_case;
use crate::cases::draft::missing_required;
use crate::cases::row::load;
use crate::cases::row::may_edit;
use crate::cases::row::state_of;
use crate::cases::types::MaterialCheck;
use crate::cases::write::set_status;
use crate::db::tx::Tx;
use crate::{now_ms, Result, Store, StoreError};
use std::collections::BTreeMap;
use yichuang_core::{apply, Actor, CaseCommand, CaseNumber, CaseStatus};

impl Store {
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

    pub async fn withdraw(&self, actor: &Actor, id: i64) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let row = load(c, id).await?;
                if !actor.owns(row.applicant_id) {
                    return Err(StoreError::no_case());
                }
                let (next, _) = apply(&state_of(&row), &CaseCommand::Withdraw)?;
                crate::cases::buckets::bucket_delta(c, id, -1).await?;
                set_status(c, &row, next.status).await?;
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
                crate::flows::run::cancel(c, &actor, id).await
            })
        })
        .await
    }
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
    let resubmit = cmd != CaseCommand::Submit;
    let done =
        crate::cases::write::submitted(c, resubmit, next.status, id, row.version, &number).await?;
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
