//! 一件事一次办 over real HTTP on both databases: seed 004's construction bundle from one
//! application to completion — one form, shared materials once, one acceptance, four
//! workflows in parallel with one department silent and consenting by default.

mod support;

use serde_json::json;
use std::collections::HashMap;
use support::{pdf, Api, Db, TestApp, PASSWORD};

const BUNDLE: &str = "360822-YJS-GCJS-001";

fn sample(field: &serde_json::Value) -> String {
    match field["kind"].as_str().unwrap() {
        "number" => "1200".into(),
        "date" => "2026-12-15".into(),
        "select" => field["options"][0].as_str().unwrap().into(),
        _ => "吉水县示范综合楼".into(),
    }
}

/// Works every open task of the given cases (A answers, B approves), leaving `silent`'s.
async fn work(app: &TestApp, cases: &[i64], silent: &str) {
    let mut staff: HashMap<String, Api> = HashMap::new();
    for _ in 0..80 {
        let mut next = None;
        for id in cases {
            let tasks = app.store.case_tasks(*id).await.unwrap();
            if let Some(t) = tasks.into_iter().find(|t| {
                matches!(t.state.as_str(), "open" | "claimed" | "proposed")
                    && t.department != silent
            }) {
                next = Some(t);
                break;
            }
        }
        let Some(t) = next else { return };
        let login = format!(
            "{}.{}",
            t.department.to_lowercase(),
            if t.state == "proposed" { "b" } else { "a" }
        );
        if !staff.contains_key(&login) {
            staff.insert(login.clone(), Api::login(app, &login, PASSWORD).await);
        }
        let (action, body) = if t.state == "proposed" {
            ("approve", json!({}))
        } else {
            ("answer", json!({"consent": true, "opinion": "同意"}))
        };
        let (s, v) = staff[&login]
            .post(&format!("/api/v1/tasks/{}/{action}", t.id), body)
            .await;
        assert_eq!(s, 200, "{login}: {v}");
    }
    panic!("the workflows did not settle");
}

async fn bundle(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let firm = Api::login(
        &app,
        &yichuang_server::demo::demo_enterprise_uscc(),
        PASSWORD,
    )
    .await;
    let (_, list) = firm.get("/api/v1/bundles").await;
    assert!(list["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["code"] == BUNDLE));
    let (s, g) = firm.get(&format!("/api/v1/bundles/{BUNDLE}")).await;
    assert_eq!(s, 200);
    let guide = &g["guide"];
    let fields = guide["fields"].as_array().unwrap();
    let keys: Vec<&str> = fields.iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys.iter().filter(|k| **k == "project_name").count(),
        1,
        "one form: {keys:?}"
    );
    let materials = guide["materials"].as_array().unwrap().clone();
    let shared = materials
        .iter()
        .position(|m| m["name"] == "建设工程规划许可证")
        .expect("the planning permit is asked for by two items");
    assert_eq!(materials[shared]["used_by"].as_array().unwrap().len(), 2);

    // One application: a field no item has is refused and nothing is created.
    let (s, v) = firm
        .post(
            "/api/v1/bundle-cases",
            json!({"bundle": BUNDLE, "form": {"colour": "red"}}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("form.unknown_field")));
    let form: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|f| (f["key"].as_str().unwrap().to_string(), json!(sample(f))))
        .collect();
    let (s, v) = firm
        .post(
            "/api/v1/bundle-cases",
            json!({"bundle": BUNDLE, "form": form}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["bundle_case"]["parts"].as_array().unwrap().len(), 4);
    assert_eq!(v["bundle_case"]["status"], "draft");

    // Each material once; the shared one lands in both parts that ask for it.
    for (i, m) in materials.iter().enumerate() {
        if !m["required"].as_bool().unwrap() {
            continue;
        }
        let (s, v) = firm
            .upload(
                &format!("/api/v1/bundle-cases/{id}/materials/{i}"),
                "m.pdf",
                pdf(m["name"].as_str().unwrap()),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let expected = m["used_by"].as_array().unwrap().len() as i64;
        assert_eq!(v["parts"].as_i64().unwrap(), expected, "{m}");
    }
    let (s, v) = firm
        .upload(
            &format!("/api/v1/bundle-cases/{id}/materials/999"),
            "m.pdf",
            pdf("x"),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("material.unknown")));

    // One submission: every part gets its number at once.
    let (s, v) = firm
        .post(&format!("/api/v1/bundle-cases/{id}/submit"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["numbers"].as_array().unwrap().len(), 4);
    let (_, v) = firm.get(&format!("/api/v1/bundle-cases/{id}")).await;
    assert_eq!(v["bundle_case"]["status"], "submitted");

    // One correction notice for the bundle: only the part whose material is wrong goes back;
    // the applicant replaces it once and submits the bundle again.
    let clerk = Api::login(&app, "clerk.js", PASSWORD).await;
    let (mi, single) = materials
        .iter()
        .enumerate()
        .find(|(_, m)| {
            m["required"].as_bool().unwrap() && m["used_by"].as_array().unwrap().len() == 1
        })
        .expect("a material only one part asks for");
    let name = single["name"].as_str().unwrap();
    let (s, v) = clerk
        .post(
            &format!("/api/v1/bundle-cases/{id}/corrections"),
            json!({"checks": [], "note": "x"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("bundle.no_problems")),
        "{v}"
    );
    let (s, v) = clerk
        .post(
            &format!("/api/v1/bundle-cases/{id}/corrections"),
            json!({"checks": [{"material": name, "verdict": "wrong", "reason": "未加盖公章"}], "note": "请补正后一并提交"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["statuses"], json!(["correction_required"]));
    let (_, v) = firm.get(&format!("/api/v1/bundle-cases/{id}")).await;
    assert_eq!(v["bundle_case"]["status"], "correction_required");
    let (s, _) = clerk
        .post(&format!("/api/v1/bundle-cases/{id}/accept"), json!({}))
        .await;
    assert!(s >= 400, "a bundle waiting for corrections is not accepted");
    let (_, v) = firm.get(&format!("/api/v1/bundle-cases/{id}")).await;
    assert_eq!(v["bundle_case"]["status"], "correction_required");
    let (s, v) = firm
        .upload(
            &format!("/api/v1/bundle-cases/{id}/materials/{mi}"),
            "fixed.pdf",
            pdf("fixed"),
        )
        .await;
    assert_eq!((s, v["parts"].as_i64()), (201, Some(1)), "{v}");
    let (s, v) = firm
        .post(&format!("/api/v1/bundle-cases/{id}/submit"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["numbers"].as_array().unwrap().len(), 1);
    let (_, v) = firm.get(&format!("/api/v1/bundle-cases/{id}")).await;
    assert_eq!(v["bundle_case"]["status"], "submitted");

    // One acceptance at the window: the applicant cannot, the clerk does, for all four.
    let (s, _) = firm
        .post(&format!("/api/v1/bundle-cases/{id}/accept"), json!({}))
        .await;
    assert!(s == 403 || s == 404, "{s}");
    let (s, v) = clerk
        .post(&format!("/api/v1/bundle-cases/{id}/accept"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s == "in_stage"));
    let (s, v) = clerk
        .post(&format!("/api/v1/bundle-cases/{id}/accept"), json!({}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("case.already_accepted"))
    );

    // Each part runs its own workflow; civil air defence stays silent in the planning
    // permit's parallel review and consents by default once its limit has passed.
    let (_, v) = firm.get(&format!("/api/v1/bundle-cases/{id}")).await;
    let parts: Vec<i64> = v["bundle_case"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["case_id"].as_i64().unwrap())
        .collect();
    work(&app, &parts, "360822-RFB").await;
    let (_, v) = firm.get(&format!("/api/v1/bundle-cases/{id}")).await;
    assert_eq!(v["bundle_case"]["status"], "in_progress", "{v}");
    let waiting: Vec<_> = v["bundle_case"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] != "completed")
        .cloned()
        .collect();
    assert!(
        !waiting.is_empty(),
        "the silent department holds up its parts: {v}"
    );
    let later = app.store.today() + time::Duration::days(10);
    assert!(app.store.flow_tick(later).await.unwrap() >= 1);
    work(&app, &parts, "360822-RFB").await;
    // The air defence office's own permit is worked by it, of course.
    work(&app, &parts, "").await;
    let (_, v) = firm.get(&format!("/api/v1/bundle-cases/{id}")).await;
    assert_eq!(v["bundle_case"]["status"], "completed", "{v}");
    assert!(v["bundle_case"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["status"] == "completed" && p["concluded_on"].is_string()));
    // Another applicant sees nothing of it.
    let person = Api::login(&app, &yichuang_server::demo::demo_person_id(), PASSWORD).await;
    let (s, _) = person.get(&format!("/api/v1/bundle-cases/{id}")).await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_bundle() {
    bundle(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bundle() {
    bundle(Db::Postgres).await;
}
