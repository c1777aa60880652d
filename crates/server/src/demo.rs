//! Demo data loaded on first start: the demo catalog, three halls from the seeds, staff for
//! every role and two applicants, so a new user can try every page at once.

use crate::admin::api::{create_staff, StaffBody};
use crate::http::auth;
use crate::http::i18n::Lang;
use crate::http::AppState;
use yichuang_core::catalog::CatalogFile;
use yichuang_core::Actor;
use yichuang_store::accounts::{Hall, NewAccount, Window};

pub const CATALOG: &str = include_str!("../../../demo/catalog.toml");
pub const PASSWORD: &str = "Yichuang@2026";

/// Logins printed at start: (login, role, where).
pub const LOGINS: &[(&str, &str, &str)] = &[
    ("admin", "admin 系统管理员", "吉水县 360822"),
    ("clerk.js", "clerk 综合受理员", "吉水县行政服务中心 360822"),
    ("clerk.gd", "clerk 综合受理员", "广东省政务服务中心 440000"),
    ("clerk.hy", "clerk 综合受理员", "汉阳区政务服务中心 420105"),
    ("manager.js", "manager 大厅管理员", "吉水县 360822"),
    ("supervisor.js", "supervisor 电子监察员", "吉水县 360822"),
    ("reviewer.js", "reviewer 审核人员", "吉水县住建局 360822"),
    (
        "360822-zjj.a, 360822-zjj.b, 360822-zrzyj.a …",
        "reviewer 审核人员 A/B角",
        "every department: <code>.a and <code>.b",
    ),
];

/// A valid demo resident ID and USCC, made with the real check characters.
pub fn demo_person_id() -> String {
    let body = "36082219900101123";
    format!(
        "{body}{}",
        yichuang_core::ResidentId::check_char(body) as char
    )
}
pub fn demo_enterprise_uscc() -> String {
    let body = "91360822MA35DEMO0";
    format!(
        "{body}{}",
        yichuang_core::Uscc::check_char(body).unwrap_or('0')
    )
}

/// Loads the demo once; later starts find the marker and do nothing.
pub async fn load(st: &AppState) -> Result<bool, String> {
    let store = &st.store;
    if store
        .meta("demo_loaded")
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Ok(false);
    }
    let actor = Actor::system();
    let file: CatalogFile = toml::from_str(CATALOG).map_err(|e| format!("demo catalog: {e}"))?;
    let departments: Vec<(String, String, String)> = file
        .departments
        .iter()
        .map(|d| (d.code.clone(), d.name.clone(), d.region.clone()))
        .collect();
    match store
        .import_catalog(file, &actor)
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(_) => {}
        Err(errs) => {
            let list: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            return Err(format!("demo catalog is invalid:\n{}", list.join("\n")));
        }
    }
    let halls = [
        (
            "JX-JS",
            "吉水县行政服务中心",
            "Jishui County Administrative Service Centre",
            "360822",
            "吉水县市民服务中心一楼",
        ),
        (
            "GD-PROV",
            "广东省政务服务中心",
            "Guangdong Provincial Government Service Centre",
            "440000",
            "广州市越秀区",
        ),
        (
            "WH-HY",
            "汉阳区政务服务中心",
            "Hanyang District Government Service Centre",
            "420105",
            "武汉市汉阳区",
        ),
    ];
    for (id, name, en, region, addr) in halls {
        let h = Hall {
            id: id.into(),
            name: name.into(),
            name_en: en.into(),
            region: region.into(),
            address: addr.into(),
        };
        store
            .upsert_hall(h, &actor)
            .await
            .map_err(|e| e.to_string())?;
        for n in 1..=3 {
            let w = Window {
                id: format!("{id}-W{n:02}"),
                hall_id: id.into(),
                name: format!("{n}号综合受理窗口"),
                comprehensive: true,
            };
            store
                .upsert_window(w, &actor)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let staff = [
        (
            "admin",
            "系统管理员",
            "admin",
            "360822",
            None,
            Some("JX-JS"),
        ),
        ("clerk.js", "李受理", "clerk", "360822", None, Some("JX-JS")),
        (
            "clerk.gd",
            "陈受理",
            "clerk",
            "440000",
            None,
            Some("GD-PROV"),
        ),
        ("clerk.hy", "王受理", "clerk", "420105", None, Some("WH-HY")),
        (
            "manager.js",
            "赵主任",
            "manager",
            "360822",
            None,
            Some("JX-JS"),
        ),
        (
            "supervisor.js",
            "钱监察",
            "supervisor",
            "360822",
            None,
            Some("JX-JS"),
        ),
        (
            "reviewer.js",
            "孙审核",
            "reviewer",
            "360822",
            Some("360822-ZJJ"),
            None,
        ),
    ];
    for (login, name, role, region, dept, hall) in staff {
        let b = StaffBody {
            login: login.into(),
            name: name.into(),
            password: PASSWORD.into(),
            role: role.into(),
            region: region.into(),
            department: dept.map(str::to_string),
            hall_id: hall.map(str::to_string),
            window_id: hall.map(|h| format!("{h}-W01")),
        };
        create_staff(st, b, &actor, Lang::Zh)
            .await
            .map_err(|e| e.message)?;
    }
    let hash = auth::hash_password(PASSWORD.into()).await;
    // Two reviewers in every department (A and B of A/B review, and the parallel reviews):
    // `<department code in lower case>.a` and `.b`.
    for (code, name, region) in &departments {
        for (suffix, who) in [("a", "A角"), ("b", "B角")] {
            let staff = NewAccount {
                kind: "staff".into(),
                login: format!("{}.{suffix}", code.to_lowercase()),
                password_hash: Some(hash.clone()),
                name: format!("{name}审核员{who}"),
                role: Some("reviewer".into()),
                region: Some(region.clone()),
                department: Some(code.clone()),
                ..Default::default()
            };
            store
                .create_account(staff, &actor)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let person = NewAccount {
        kind: "person".into(),
        login: demo_person_id(),
        password_hash: Some(hash.clone()),
        name: "张三".into(),
        id_number: Some(demo_person_id()),
        phone: Some("13800138000".into()),
        ..Default::default()
    };
    store
        .create_account(person, &actor)
        .await
        .map_err(|e| e.to_string())?;
    let firm = NewAccount {
        kind: "enterprise".into(),
        login: demo_enterprise_uscc(),
        password_hash: Some(hash),
        name: "吉水县示范建设有限公司".into(),
        id_number: Some(demo_enterprise_uscc()),
        legal_rep: Some("刘建国".into()),
        phone: Some("13900139000".into()),
        ..Default::default()
    };
    store
        .create_account(firm, &actor)
        .await
        .map_err(|e| e.to_string())?;
    demo_cases(st).await?;
    store
        .set_meta("demo_loaded", "1")
        .await
        .map_err(|e| e.to_string())?;
    Ok(true)
}

/// A value that passes the field's check, for demo forms.
fn sample_value(f: &yichuang_core::catalog::FormField) -> String {
    use yichuang_core::catalog::FieldKind;
    match f.kind {
        FieldKind::Number => "10".into(),
        FieldKind::Date => "2026-12-01".into(),
        FieldKind::Select => f.options.first().cloned().unwrap_or_default(),
        FieldKind::Text => "示范".into(),
    }
}

/// Cases in Jishui in every state a hall sees: waiting at the window, waiting for corrections,
/// and accepted on days chosen so that every light shows today; the later half concluded
/// today, some in time and some late, for the statistics and the public 办件公示.
async fn demo_cases(st: &AppState) -> Result<(), String> {
    use yichuang_core::deadline::{Deadlines, Light};
    use yichuang_store::cases::WindowDecision;
    let store = &st.store;
    let e = |e: yichuang_store::StoreError| e.to_string();
    let person = store
        .account_by_login(&demo_person_id())
        .await
        .map_err(e)?
        .ok_or("no demo person")?;
    let clerk = store
        .account_by_login("clerk.js")
        .await
        .map_err(e)?
        .ok_or("no demo clerk")?;
    let (applicant, clerk) = (person.actor("demo"), clerk.actor("demo"));
    let (hash, _) = st
        .blobs
        .put(b"%PDF-1.4\n% Yichuang demo material\n%%EOF\n")
        .map_err(e)?;
    let items: Vec<_> = store
        .items(&yichuang_store::catalog::ItemFilter {
            region: Some("360822".into()),
            ..Default::default()
        })
        .await
        .map_err(e)?;
    let mut plan = Vec::new();
    for summary in items.iter().filter(|i| i.case_type == "2") {
        let item = store.item(&summary.code).await.map_err(e)?;
        if item.service_objects.iter().any(|o| o == "1") && item.online {
            plan.push(item);
        }
    }
    let targets = [
        None,
        Some(Light::Green),
        Some(Light::Yellow),
        Some(Light::Red),
        Some(Light::Overdue),
        None,
    ];
    let today = store.today();
    for (n, item) in plan.iter().cycle().take(24).enumerate() {
        let (id, checks) = submitted_case(st, &applicant, item, &hash).await?;
        match (n % targets.len(), targets[n % targets.len()]) {
            (5, _) => {
                let mut wrong = checks.clone();
                if let Some(first) = wrong.first_mut() {
                    first.verdict = "wrong".into();
                    first.reason = "未加盖公章".into();
                }
                store
                    .window_decision(
                        &clerk,
                        id,
                        wrong,
                        Some(WindowDecision::Corrections {
                            note: "请补正后重新提交".into(),
                        }),
                    )
                    .await
                    .map_err(e)?;
            }
            (_, None) => {}
            (_, Some(light)) => {
                store
                    .window_decision(&clerk, id, checks, Some(WindowDecision::Accept))
                    .await
                    .map_err(e)?;
                let cal = store.calendar(Some(&item.region)).await.map_err(e)?;
                let accepted_on = (0..120)
                    .map(|k| today - time::Duration::days(k))
                    .find(|acc| {
                        Deadlines::compute(&cal, *acc, &item.limits(), 0)
                            .is_ok_and(|d| d.light_on(today) == light)
                    });
                if let Some(acc) = accepted_on {
                    store
                        .backdate_acceptance(&yichuang_core::Actor::system(), id, acc)
                        .await
                        .map_err(e)?;
                }
                // Some stay at their first task, some have moved on, the later half is done.
                let steps = match n {
                    12.. => usize::MAX,
                    _ if n % 6 == 2 => 1,
                    _ if n % 6 == 3 => 2,
                    _ => 0,
                };
                drive(st, id, steps, &[]).await?;
            }
        }
    }
    // Seed 004: a construction project's planning permit in its parallel review; the civil
    // air defence office stays silent past its limit, so the worker consents for it by default.
    let firm = store
        .account_by_login(&demo_enterprise_uscc())
        .await
        .map_err(e)?
        .ok_or("no demo enterprise")?
        .actor("demo");
    let item = store.item("360822-ZRZYJ-XK-003").await.map_err(e)?;
    let (id, checks) = submitted_case(st, &firm, &item, &hash).await?;
    store
        .window_decision(&clerk, id, checks, Some(WindowDecision::Accept))
        .await
        .map_err(e)?;
    drive(st, id, 5, &["360822-RFB"]).await?;
    if let Some(t) = store
        .case_tasks(id)
        .await
        .map_err(e)?
        .iter()
        .find(|t| t.department == "360822-RFB" && t.state == "open")
    {
        store
            .backdate_task_due(
                &yichuang_core::Actor::system(),
                t.id,
                today - time::Duration::days(1),
            )
            .await
            .map_err(e)?;
    }
    Ok(())
}

/// A case of `item_code` filled in with sample values, its materials referenced by `hash`,
/// submitted by `applicant` and accepted by `clerk` (tests and benchmarks start from here).
pub async fn accepted_case(
    store: &yichuang_store::Store,
    applicant: &Actor,
    clerk: &Actor,
    item_code: &str,
    hash: &str,
) -> Result<i64, yichuang_store::StoreError> {
    use yichuang_store::cases::{MaterialCheck, NewSubmission, WindowDecision};
    let item = store.item(item_code).await?;
    let form = item
        .fields
        .iter()
        .map(|f| (f.key.clone(), sample_value(f)))
        .collect();
    let id = store
        .create_draft(applicant, &item.code, form, item.commitment)
        .await?;
    let mut checks = Vec::new();
    for m in item
        .materials
        .iter()
        .filter(|m| item.must_submit(m, item.commitment))
    {
        let sub = NewSubmission {
            material_code: m.code.clone(),
            hash: hash.to_string(),
            file_name: format!("{}.pdf", m.name),
            content_type: "application/pdf".into(),
            size: 40,
        };
        store.add_submission(applicant, id, sub).await?;
        checks.push(MaterialCheck {
            material_code: m.code.clone(),
            verdict: "ok".into(),
            reason: String::new(),
            due_date: None,
        });
    }
    store.submit(applicant, id).await?;
    store
        .window_decision(clerk, id, checks, Some(WindowDecision::Accept))
        .await?;
    Ok(id)
}

/// A case filled in with sample values and PDF materials, submitted.
async fn submitted_case(
    st: &AppState,
    applicant: &Actor,
    item: &yichuang_core::catalog::ServiceItem,
    hash: &str,
) -> Result<(i64, Vec<yichuang_store::cases::MaterialCheck>), String> {
    use yichuang_store::cases::{MaterialCheck, NewSubmission};
    let store = &st.store;
    let e = |e: yichuang_store::StoreError| e.to_string();
    let form: std::collections::BTreeMap<String, String> = item
        .fields
        .iter()
        .map(|f| (f.key.clone(), sample_value(f)))
        .collect();
    let id = store
        .create_draft(applicant, &item.code, form, item.commitment)
        .await
        .map_err(e)?;
    let mut checks = Vec::new();
    for m in item
        .materials
        .iter()
        .filter(|m| item.must_submit(m, item.commitment))
    {
        let sub = NewSubmission {
            material_code: m.code.clone(),
            hash: hash.to_string(),
            file_name: format!("{}.pdf", m.name),
            content_type: "application/pdf".into(),
            size: 40,
        };
        store.add_submission(applicant, id, sub).await.map_err(e)?;
        checks.push(MaterialCheck {
            material_code: m.code.clone(),
            verdict: "ok".into(),
            reason: String::new(),
            due_date: None,
        });
    }
    store.submit(applicant, id).await.map_err(e)?;
    Ok((id, checks))
}

/// Works a case's open tasks the way its departments would: A answers (consent), B approves
/// A's proposal; at most `steps` actions, skipping tasks of the `silent` departments.
async fn drive(st: &AppState, id: i64, steps: usize, silent: &[&str]) -> Result<(), String> {
    use yichuang_store::flows::TaskAction;
    let e = |e: yichuang_store::StoreError| e.to_string();
    let mut done = 0;
    while done < steps {
        let tasks = st.store.case_tasks(id).await.map_err(e)?;
        let Some(t) = tasks.iter().find(|t| {
            matches!(t.state.as_str(), "open" | "claimed" | "proposed")
                && !silent.contains(&t.department.as_str())
        }) else {
            return Ok(());
        };
        let (who, action) = if t.state == "proposed" {
            ("b", TaskAction::Approve)
        } else {
            (
                "a",
                TaskAction::Answer {
                    consent: true,
                    opinion: match t.stage_kind.as_str() {
                        "issue" => "已制证并送达".into(),
                        "decision" => "准予许可".into(),
                        _ => "材料齐全，符合法定条件".into(),
                    },
                    legal_basis: String::new(),
                },
            )
        };
        let login = format!("{}.{who}", t.department.to_lowercase());
        let staff = st
            .store
            .account_by_login(&login)
            .await
            .map_err(e)?
            .ok_or(format!("no demo staff {login}"))?;
        st.store
            .task_action(&staff.actor("demo"), t.id, action)
            .await
            .map_err(e)?;
        done += 1;
    }
    Ok(())
}
