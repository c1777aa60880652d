//! The spine, end to end over real HTTP, on SQLite and on a real PostgreSQL.

mod support;

use serde_json::json;
use support::{pdf, stored_files, Api, Db, PASSWORD};

const ITEM: &str = "360822-ZJJ-XK-002"; // 临时占用、挖掘城市道路审批, 吉水县, for persons and firms

fn form() -> serde_json::Value {
    json!({"purpose": "施工临时用电线路敷设", "road_section": "文峰大道东段", "area": "120",
           "start_date": "2026-12-01", "end_date": "2026-12-20"})
}

async fn register(app: &support::TestApp, name: &str, id: &str, phone: &str) -> Api {
    let anon = Api::anon(app);
    let (s, v) = anon
        .post("/api/v1/accounts", json!({"kind": "person", "name": name, "id_number": id, "phone": phone, "password": PASSWORD}))
        .await;
    assert_eq!(s, 201, "{v}");
    Api::login(app, id, PASSWORD).await
}

fn resident_id(body17: &str) -> String {
    format!(
        "{body17}{}",
        yichuang_core::ResidentId::check_char(body17) as char
    )
}

/// A draft with the form filled and both required materials uploaded.
async fn ready_draft(a: &Api) -> i64 {
    let (s, v) = a
        .post("/api/v1/cases", json!({"item_code": ITEM, "form": form()}))
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_i64().unwrap();
    for m in ["M01", "M03"] {
        let (s, v) = a
            .upload(
                &format!("/api/v1/cases/{id}/materials/{m}"),
                "a.pdf",
                pdf(&format!("{id}{m}")),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    id
}

async fn story(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let anon = Api::anon(&app);

    // Health and the generated OpenAPI document.
    let (s, v) = anon.get("/healthz").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
    let (s, v) = anon.get("/api/openapi.json").await;
    assert_eq!(s, 200);
    assert!(
        v["paths"]["/api/v1/cases/{case}/accept"]["post"].is_object(),
        "openapi lacks accept"
    );

    // Catalog: filters and the full guide.
    let (_, v) = anon.get("/api/v1/items?region=360822").await;
    let items = v["items"].as_array().unwrap();
    assert!(
        items.len() >= 10
            && items
                .iter()
                .all(|i| i["region"].as_str().unwrap().starts_with("360822"))
    );
    let (_, v) = anon.get("/api/v1/items?q=%E5%8F%91%E7%A5%A8").await; // 发票
    assert!(v["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["name"].as_str().unwrap().contains("发票")));
    assert!(!v["items"].as_array().unwrap().is_empty());
    let (s, v) = anon.get(&format!("/api/v1/items/{ITEM}")).await;
    assert_eq!(s, 200);
    assert!(
        v["item"]["legal_limit"].as_u64().unwrap() >= v["item"]["promised_limit"].as_u64().unwrap()
    );
    assert_eq!(v["code_names"]["item_type"], "行政许可");
    let (s, v) = anon.get("/api/v1/items/NOPE").await;
    assert_eq!((s, v["code"].as_str()), (404, Some("item.not_found")));

    // Registration: a bad ID number is refused naming the field, and nothing is created.
    let (s, v) = anon
        .post("/api/v1/accounts", json!({"kind": "person", "name": "王五", "id_number": "360822199001011230", "phone": "13800000000", "password": PASSWORD}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("account.id_number")),
        "{v}"
    );
    let id_a = resident_id("36082219851203551");
    let a = register(&app, "王五", &id_a, "13800000001").await;
    let (s, v) = anon
        .post("/api/v1/accounts", json!({"kind": "person", "name": "王五", "id_number": id_a, "phone": "13800000001", "password": PASSWORD}))
        .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("account.exists")));
    let (s, v) = anon
        .post(
            "/api/v1/sessions",
            json!({"login": id_a, "password": "wrong"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (401, Some("auth.bad_credentials")));

    // Apply: a required field and a required material are enforced.
    let (s, v) = a
        .post(
            "/api/v1/cases",
            json!({"item_code": ITEM, "form": {"area": "lots"}}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("form.invalid_value")),
        "{v}"
    );
    let (s, v) = a
        .post("/api/v1/cases", json!({"item_code": ITEM, "form": {}}))
        .await;
    assert_eq!(s, 201);
    let id = v["id"].as_i64().unwrap();
    let (s, v) = a
        .post(&format!("/api/v1/cases/{id}/submit"), json!({}))
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("form.required")), "{v}");
    let (s, _) = a
        .put(&format!("/api/v1/cases/{id}/form"), json!({"form": form()}))
        .await;
    assert_eq!(s, 200);
    let (s, v) = a
        .post(&format!("/api/v1/cases/{id}/submit"), json!({}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("material.required")),
        "{v}"
    );

    // Uploads: checked by content, not name; a refused upload leaves no file.
    let before = stored_files(&app);
    let (s, v) = a
        .upload(
            &format!("/api/v1/cases/{id}/materials/M01"),
            "looks.pdf",
            b"MZ\x90\x00not a pdf".to_vec(),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (415, Some("upload.type")));
    let (s, v) = a
        .upload(
            &format!("/api/v1/cases/{id}/materials/NOPE"),
            "a.pdf",
            pdf("x"),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("material.unknown")));
    assert_eq!(
        stored_files(&app),
        before,
        "a refused upload left a file behind"
    );
    for m in ["M01", "M03"] {
        let (s, v) = a
            .upload(
                &format!("/api/v1/cases/{id}/materials/{m}"),
                "申请表.pdf",
                pdf(m),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }

    // Submit twice: one case, one number.
    let (s, v) = a
        .post(&format!("/api/v1/cases/{id}/submit"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let number = v["number"].as_str().unwrap().to_string();
    assert!(number.starts_with("360822-"), "{number}");
    let (s, v) = a
        .post(&format!("/api/v1/cases/{id}/submit"), json!({}))
        .await;
    assert_eq!((s, v["number"].as_str()), (200, Some(number.as_str())));
    let (_, v) = a.get("/api/v1/cases").await;
    assert_eq!(
        v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["number"] == number.as_str())
            .count(),
        1
    );

    // Someone else's case does not exist for them.
    let b = register(
        &app,
        "赵六",
        &resident_id("36082219920315002"),
        "13800000002",
    )
    .await;
    let (s, v) = b.get(&format!("/api/v1/cases/{number}")).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("case.not_found")));
    let (s, _) = b
        .post(&format!("/api/v1/cases/{id}/withdraw"), json!({}))
        .await;
    assert_eq!(s, 404);

    // A clerk from another region cannot see or act; the local clerk can.
    let hy = Api::login(&app, "clerk.hy", PASSWORD).await;
    let (s, _) = hy
        .post(&format!("/api/v1/cases/{number}/accept"), json!({}))
        .await;
    assert_eq!(s, 404);
    let (_, v) = hy.get("/api/v1/cases").await;
    assert!(v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["number"] != number.as_str()));
    let sup = Api::login(&app, "supervisor.js", PASSWORD).await;
    let (s, v) = sup
        .post(&format!("/api/v1/cases/{number}/accept"), json!({}))
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("case.role")));
    let clerk = Api::login(&app, "clerk.js", PASSWORD).await;
    let (_, v) = clerk.get("/api/v1/cases").await;
    assert!(v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["number"] == number.as_str()));

    // Accepting with a material still unchecked is refused; one correction notice lists all.
    let (s, v) = clerk
        .post(&format!("/api/v1/cases/{number}/accept"), json!({}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("case.materials_unchecked")),
        "{v}"
    );
    let (s, v) = clerk
        .post(
            &format!("/api/v1/cases/{number}/corrections"),
            json!({"checks": [
            {"material_code": "M01", "verdict": "wrong", "reason": "未加盖公章"},
            {"material_code": "M03", "verdict": "missing", "reason": "缺少施工方案第3页"},
            {"material_code": "M02", "verdict": "ok"}
        ], "note": "请一并补正"}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (200, Some("correction_required")),
        "{v}"
    );
    let (_, v) = a.get(&format!("/api/v1/cases/{number}")).await;
    let notice = &v["case"]["corrections"][0];
    assert_eq!(notice["problems"].as_array().unwrap().len(), 2, "{notice}");
    assert_eq!(notice["note"], "请一并补正");

    // Resubmitting without fixing everything is refused; after fixing both it goes through.
    let (s, _) = a
        .upload(
            &format!("/api/v1/cases/{id}/materials/M01"),
            "fixed.pdf",
            pdf("M01 fixed"),
        )
        .await;
    assert_eq!(s, 201);
    let (s, v) = a
        .post(&format!("/api/v1/cases/{id}/submit"), json!({}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("correction.unresolved")),
        "{v}"
    );
    let (s, _) = a
        .upload(
            &format!("/api/v1/cases/{id}/materials/M03"),
            "fixed.pdf",
            pdf("M03 fixed"),
        )
        .await;
    assert_eq!(s, 201);
    let (s, v) = a
        .post(&format!("/api/v1/cases/{id}/submit"), json!({}))
        .await;
    assert_eq!(
        (s, v["number"].as_str()),
        (200, Some(number.as_str())),
        "{v}"
    );

    // Deferral only for a deferrable material, with a future date; then accept, once.
    let (s, v) = clerk
        .post(&format!("/api/v1/cases/{number}/checks"), json!({"checks": [{"material_code": "M01", "verdict": "deferred", "due_date": "2099-01-01"}]}))
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("check.not_deferrable")));
    // 容缺 is never due after the promised completion date; nothing changes when refused.
    let (s, v) = clerk
        .post(
            &format!("/api/v1/cases/{number}/accept"),
            json!({"checks": [
            {"material_code": "M01", "verdict": "ok"}, {"material_code": "M03", "verdict": "ok"},
            {"material_code": "M04", "verdict": "deferred", "due_date": "2099-01-01"}]}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("check.due_after_promised")),
        "{v}"
    );
    let (_, still) = a.get(&format!("/api/v1/cases/{number}")).await;
    assert_eq!(still["case"]["status"], "submitted");
    let today = app.store.today();
    let (_, next) = anon
        .get(&format!(
            "/api/v1/calendar/add-working-days?date={today}&n=1&region=360822"
        ))
        .await;
    let due = next["result"].as_str().unwrap().to_string();
    let (s, v) = clerk
        .post(
            &format!("/api/v1/cases/{number}/accept"),
            json!({"checks": [
            {"material_code": "M01", "verdict": "ok"}, {"material_code": "M03", "verdict": "ok"},
            {"material_code": "M04", "verdict": "deferred", "due_date": due}]}),
        )
        .await;
    // The item has a workflow: acceptance opens its first stage at once.
    assert_eq!((s, v["status"].as_str()), (200, Some("in_stage")), "{v}");
    let (s, v) = clerk
        .post(&format!("/api/v1/cases/{number}/accept"), json!({}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("case.already_accepted")),
        "{v}"
    );

    // Acceptance fixes the deadlines on the region's working-day calendar.
    let (_, v) = a.get(&format!("/api/v1/cases/{number}")).await;
    let d = &v["case"]["deadlines"];
    let (_, g) = anon.get(&format!("/api/v1/items/{ITEM}")).await;
    let promised = g["item"]["promised_limit"].as_i64().unwrap();
    let (_, want) = anon
        .get(&format!(
            "/api/v1/calendar/add-working-days?date={}&n={promised}&region=360822",
            d["accepted_on"].as_str().unwrap()
        ))
        .await;
    assert_eq!(d["promised"], want["result"], "{v}");
    assert!(
        d["internal"].as_str() <= d["promised"].as_str()
            && d["promised"].as_str() <= d["legal"].as_str()
    );
    assert_eq!(v["case"]["light"], "green", "{v}");

    // The audit trail has every step with statuses, and the chain verifies.
    let (s, v) = clerk.get(&format!("/api/v1/cases/{number}/audit")).await;
    assert_eq!(s, 200);
    assert_eq!(v["chain_intact"], true);
    let actions: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for want in [
        "submit",
        "case.notify_corrections",
        "resubmit",
        "case.accept",
    ] {
        assert!(actions.contains(&want), "audit lacks {want}: {actions:?}");
    }
    let accept = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "case.accept")
        .unwrap();
    assert_eq!(
        (
            accept["status_before"].as_str(),
            accept["status_after"].as_str()
        ),
        (Some("submitted"), Some("in_stage"))
    );
    assert_eq!(accept["actor_role"], "clerk");
    assert!(app.store.verify_case_chain(&number).await.unwrap());

    // A walk-in: the clerk finds or creates the applicant by ID number.
    let walk_id = resident_id("36082219700808123");
    let (s, v) = clerk
        .post(
            "/api/v1/walk-ins",
            json!({"id_number": "123", "name": "钱七", "item_code": ITEM}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("applicant.id_number")));
    let (s, v) = clerk
        .post(
            "/api/v1/walk-ins",
            json!({"id_number": walk_id, "name": "钱七", "item_code": ITEM}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, _) = hy
        .post(
            "/api/v1/walk-ins",
            json!({"id_number": walk_id, "name": "钱七", "item_code": ITEM}),
        )
        .await;
    assert_eq!(s, 403);

    // 告知承诺: the signed commitment replaces the listed materials; unsigned, they are required.
    let permit = "360822-ZJJ-XK-001";
    let permit_form = json!({"project_name": "文峰商业综合体", "contract_price": "12000000", "floor_area": "8600",
                             "structure_type": "框架结构", "planned_start": "2027-01-10"});
    let (s, v) = a
        .post(
            "/api/v1/cases",
            json!({"item_code": permit, "form": permit_form}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let pid = v["id"].as_i64().unwrap();
    for m in ["M01", "M03"] {
        let (s, _) = a
            .upload(
                &format!("/api/v1/cases/{pid}/materials/{m}"),
                "m.pdf",
                pdf(&format!("p{m}")),
            )
            .await;
        assert_eq!(s, 201);
    }
    let (s, v) = a
        .post(&format!("/api/v1/cases/{pid}/submit"), json!({}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("material.required")),
        "{v}"
    );
    let (s, _) = a
        .put(
            &format!("/api/v1/cases/{pid}/form"),
            json!({"form": permit_form, "commitment": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = a
        .post(&format!("/api/v1/cases/{pid}/submit"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = clerk
        .post(
            &format!("/api/v1/cases/{pid}/accept"),
            json!({"checks": [
            {"material_code": "M01", "verdict": "ok"}, {"material_code": "M03", "verdict": "ok"}]}),
        )
        .await;
    // The item has a workflow: acceptance opens its first stage at once.
    assert_eq!((s, v["status"].as_str()), (200, Some("in_stage")), "{v}");

    // 即办件 completed on the spot.
    let firm = Api::login(
        &app,
        &yichuang_server::demo::demo_enterprise_uscc(),
        PASSWORD,
    )
    .await;
    let (s, v) = firm
        .post(
            "/api/v1/cases",
            json!({"item_code": "360822-FGW-QT-001", "form": {}}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let fid = v["id"].as_i64().unwrap();
    let (_, g) = anon.get("/api/v1/items/360822-FGW-QT-001").await;
    let mut filled = serde_json::Map::new();
    for f in g["item"]["fields"].as_array().unwrap() {
        let val = match f["kind"].as_str().unwrap() {
            "number" => json!("10"),
            "date" => json!("2026-12-01"),
            "select" => f["options"][0].clone(),
            _ => json!("示范项目"),
        };
        filled.insert(f["key"].as_str().unwrap().into(), val);
    }
    let (s, v) = firm
        .put(
            &format!("/api/v1/cases/{fid}/form"),
            json!({"form": filled, "commitment": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let mut checks = Vec::new();
    for m in g["item"]["materials"].as_array().unwrap() {
        let code = m["code"].as_str().unwrap();
        let (s, v) = firm
            .upload(
                &format!("/api/v1/cases/{fid}/materials/{code}"),
                "m.pdf",
                pdf(code),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        checks.push(json!({"material_code": code, "verdict": "ok"}));
    }
    let (s, v) = firm
        .post(&format!("/api/v1/cases/{fid}/submit"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = clerk
        .post(
            &format!("/api/v1/cases/{fid}/complete"),
            json!({"checks": checks}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("completed")), "{v}");

    // Admin: staff with roles, checked; a clerk is not an admin.
    let admin = Api::login(&app, "admin", PASSWORD).await;
    let (s, v) = admin
        .post("/api/v1/admin/staff", json!({"login": "clerk.new", "name": "新受理员", "password": PASSWORD, "role": "clerk", "region": "999999"}))
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("staff.region")));
    let (s, _) = admin
        .post("/api/v1/admin/staff", json!({"login": "clerk.new", "name": "新受理员", "password": PASSWORD, "role": "clerk", "region": "360822100"}))
        .await;
    assert_eq!(s, 201);
    let (s, _) = clerk.get("/api/v1/admin/staff").await;
    assert_eq!(s, 403);

    // Regions, departments, halls and windows: validated, and only inside the admin's region.
    let (s, _) = admin
        .put(
            "/api/v1/admin/regions",
            json!({"code": "360822101", "name": "醪桥镇", "parent": "360822"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = admin
        .put(
            "/api/v1/admin/regions",
            json!({"code": "3608221", "name": "坏区划", "parent": "360822"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("region.code")), "{v}");
    let (s, v) = admin
        .put(
            "/api/v1/admin/regions",
            json!({"code": "360822102", "name": "孤儿镇", "parent": "360899"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("catalog.invalid")),
        "{v}"
    );
    let (s, v) = admin
        .put(
            "/api/v1/admin/regions",
            json!({"code": "440105", "name": "海珠区", "parent": "440100"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("admin.out_of_region")));
    let (s, _) = admin
        .put(
            "/api/v1/admin/departments",
            json!({"code": "360822101-LQZ", "name": "醪桥镇人民政府", "region": "360822101"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = admin.put("/api/v1/admin/departments", json!({"code": "360822-BAD", "name": "坏部门", "region": "360822", "uscc": "91350100M000100Y44"})).await;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (422, Some("uscc")),
        "{v}"
    );
    let (s, _) = admin
        .put(
            "/api/v1/admin/halls",
            json!({"id": "LQ", "name": "醪桥镇便民服务中心", "region": "360822101"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = admin
        .put(
            "/api/v1/admin/windows",
            json!({"id": "LQ-W01", "hall_id": "LQ", "name": "1号窗口"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = admin
        .put(
            "/api/v1/admin/windows",
            json!({"id": "X-W01", "hall_id": "NOPE", "name": "1号窗口"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("window.hall")));
    let (_, v) = admin.get("/api/v1/admin/windows").await;
    assert!(v["windows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["id"] == "LQ-W01"));
    let (s, v) = admin
        .put(
            "/api/v1/admin/halls",
            json!({"id": "GZ", "name": "广州", "region": "440100"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("admin.out_of_region")));
    let (s, v) = admin
        .post("/api/v1/admin/staff", json!({"login": "clerk.gz", "name": "外地", "password": PASSWORD, "role": "clerk", "region": "440100"}))
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("admin.out_of_region")));
    let (_, v) = anon.get("/api/v1/regions").await;
    let town = v["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "360822101")
        .cloned()
        .unwrap();
    assert_eq!(town["level"], 4);

    // Errors speak the caller's language.
    let r = anon
        .http
        .get(format!("{}/api/v1/items/NOPE", app.base))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["message"], "No service item NOPE.");
    let (s, v) = anon.get("/api/v1/items/NOPE").await;
    assert_eq!((s, v["code"].as_str()), (404, Some("item.not_found")));
    assert!(
        v["message"].as_str().unwrap().contains("NOPE")
            && !v["message"].as_str().unwrap().contains("No service"),
        "Chinese unless English is asked for: {v}"
    );

    // The audit chain shows tampering.
    assert!(app.store.verify_case_chain(&number).await.unwrap());
    sqlx_tamper(&app, &number).await;
    assert!(
        !app.store.verify_case_chain(&number).await.unwrap(),
        "an edited audit record went unnoticed"
    );

    // Catalog import through the API is all or nothing.
    let bad = r#"
[[item]]
code = "BAD-1"
name = "坏事项"
item_type = "01"
exercise_level = "4"
service_objects = ["1"]
handling_forms = ["1"]
case_type = "2"
department = "NO-SUCH-DEPT"
region = "360822"
legal_limit = 5
promised_limit = 9
"#;
    let r = admin
        .http
        .post(format!("{}/api/v1/admin/catalog", app.base))
        .bearer_auth(admin.token.as_ref().unwrap())
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let v: serde_json::Value = r.json().await.unwrap();
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"department") && fields.contains(&"promised_limit"),
        "{v}"
    );
    let (s, _) = anon.get("/api/v1/items/BAD-1").await;
    assert_eq!(s, 404);
}

async fn sqlx_tamper(app: &support::TestApp, number: &str) {
    let n = sqlx::query("UPDATE audit SET detail = 'edited' WHERE id = (SELECT MIN(id) FROM audit WHERE case_number = $1)")
        .bind(number)
        .execute(app.store.pool())
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(n, 1);
}

/// Uploads over the limit are refused with 413 and leave nothing behind.
async fn limits(db: Db) {
    let config = yichuang_server::Config {
        max_upload: 1024,
        ..Default::default()
    };
    let Some(app) = support::start_with(db, config).await else {
        return;
    };
    let a = register(
        &app,
        "郑一",
        &resident_id("36082219660606006"),
        "13800000011",
    )
    .await;
    let (s, v) = a
        .post("/api/v1/cases", json!({"item_code": ITEM, "form": form()}))
        .await;
    assert_eq!(s, 201);
    let id = v["id"].as_i64().unwrap();
    let mut big = pdf("big");
    big.resize(4096, b' ');
    let before = stored_files(&app);
    let (s, v) = a
        .upload(&format!("/api/v1/cases/{id}/materials/M01"), "big.pdf", big)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (413, Some("upload.too_large")),
        "{v}"
    );
    let (s, v) = a
        .upload(
            &format!("/api/v1/cases/{id}/materials/M01"),
            "empty.pdf",
            Vec::new(),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("upload.empty")), "{v}");
    assert_eq!(stored_files(&app), before);
    let (_, v) = a.get(&format!("/api/v1/cases/{id}")).await;
    assert!(v["case"]["submissions"].as_array().unwrap().is_empty());
}

/// Sessions end after their idle time, and each use (at most once a minute) extends them.
async fn sessions(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let clerk = Api::login(&app, "clerk.js", PASSWORD).await;
    let token = clerk.token.clone().unwrap();
    let hash = yichuang_store::accounts::token_hash(&token);
    let now = yichuang_store::now_ms();
    // Last used two minutes ago, ending in a second: a use now slides it a full idle time on.
    sqlx::query("UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE token_hash = $3")
        .bind(now - 120_000)
        .bind(now + 1_000)
        .bind(&hash)
        .execute(app.store.pool())
        .await
        .unwrap();
    let (s, _) = clerk.get("/api/v1/me").await;
    assert_eq!(s, 200);
    let exp: i64 = sqlx::query_scalar("SELECT expires_at FROM sessions WHERE token_hash = $1")
        .bind(&hash)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(
        exp >= now + 9 * 60_000,
        "a staff session slides by its 10-minute idle time"
    );
    // Idle past its end: refused.
    sqlx::query("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2")
        .bind(now - 1)
        .bind(&hash)
        .execute(app.store.pool())
        .await
        .unwrap();
    let (s, v) = clerk.get("/api/v1/me").await;
    assert_eq!((s, v["code"].as_str()), (401, Some("auth.required")));
    // The export is the catalog, as TOML an import takes back.
    let admin = Api::login(&app, "admin", PASSWORD).await;
    let r = admin
        .http
        .get(format!("{}/api/v1/admin/catalog", app.base))
        .bearer_auth(admin.token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.unwrap();
    let back: yichuang_core::catalog::CatalogFile = toml::from_str(&text).unwrap();
    assert!(back.items.iter().any(|i| i.code == ITEM));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sessions() {
    sessions(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sessions() {
    sessions(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_limits() {
    limits(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_limits() {
    limits(Db::Postgres).await;
}

/// Concurrent submissions never share a number; concurrent accepts succeed once.
async fn races(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let a = register(
        &app,
        "孙八",
        &resident_id("36082219800101001"),
        "13800000003",
    )
    .await;
    // Idempotency-Key: a retried create makes one draft; another body with the key is refused.
    let body = json!({"item_code": ITEM, "form": form()});
    let (r1, r2) = tokio::join!(
        a.post_keyed("/api/v1/cases", "k-1", body.clone()),
        a.post_keyed("/api/v1/cases", "k-1", body.clone())
    );
    let statuses = [r1.0, r2.0];
    assert!(statuses.contains(&201), "{r1:?} {r2:?}");
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{r1:?} {r2:?}"
    );
    let (s, again) = a.post_keyed("/api/v1/cases", "k-1", body.clone()).await;
    assert_eq!(s, 201);
    let first = if r1.0 == 201 { &r1.1 } else { &r2.1 };
    assert_eq!(again["id"], first["id"]);
    let (s, v) = a
        .post_keyed(
            "/api/v1/cases",
            "k-1",
            json!({"item_code": ITEM, "form": {}}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("idempotency.mismatch")));
    let (_, v) = a.get("/api/v1/cases").await;
    assert_eq!(
        v["cases"].as_array().unwrap().len(),
        1,
        "a retried create made two drafts"
    );

    let mut ids = Vec::new();
    for _ in 0..16 {
        ids.push(ready_draft(&a).await);
    }
    let a = std::sync::Arc::new(a);
    let mut tasks = Vec::new();
    for id in ids.clone() {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            // Two submits of the same draft at once: one case.
            let path = format!("/api/v1/cases/{id}/submit");
            let (r1, r2) = tokio::join!(a.post(&path, json!({})), a.post(&path, json!({})));
            assert_eq!((r1.0, r2.0), (200, 200), "{r1:?} {r2:?}");
            assert_eq!(r1.1["number"], r2.1["number"]);
            r1.1["number"].as_str().unwrap().to_string()
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    let unique: std::collections::HashSet<_> = numbers.iter().collect();
    assert_eq!(
        unique.len(),
        numbers.len(),
        "duplicate case numbers: {numbers:?}"
    );

    // Paging by cursor walks every case exactly once, newest first.
    let mut seen = Vec::new();
    let mut path = "/api/v1/cases?limit=5".to_string();
    loop {
        let (s, v) = a.get(&path).await;
        assert_eq!(s, 200, "{v}");
        let page = v["cases"].as_array().unwrap();
        assert!(page.len() <= 5);
        seen.extend(page.iter().map(|c| c["id"].as_i64().unwrap()));
        match v["next_cursor"].as_str() {
            Some(cur) => path = format!("/api/v1/cases?limit=5&cursor={cur}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 17, "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "not newest first: {seen:?}"
    );
    let (s, v) = a.get("/api/v1/cases?cursor=abc").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("page.cursor")));

    let c1 = std::sync::Arc::new(Api::login(&app, "clerk.js", PASSWORD).await);
    let c2 = std::sync::Arc::new(Api::login(&app, "manager.js", PASSWORD).await);
    let body = json!({"checks": [{"material_code": "M01", "verdict": "ok"}, {"material_code": "M03", "verdict": "ok"}]});
    let mut wins = 0;
    for n in &numbers[..8] {
        let path = format!("/api/v1/cases/{n}/accept");
        let (r1, r2) = tokio::join!(c1.post(&path, body.clone()), c2.post(&path, body.clone()));
        let ok = [r1.0, r2.0].iter().filter(|s| **s == 200).count();
        assert_eq!(ok, 1, "{r1:?} {r2:?}");
        assert!([r1.0, r2.0].contains(&409));
        wins += ok;
    }
    assert_eq!(wins, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_story() {
    story(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_story() {
    story(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_races() {
    races(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_races() {
    races(Db::Postgres).await;
}
