//! The working-day calendar through the API, on SQLite and PostgreSQL.

mod support;

use serde_json::json;
use support::{Api, Db, PASSWORD};

async fn calendar(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let anon = Api::anon(&app);

    let (s, v) = anon
        .get("/api/v1/calendar/add-working-days?date=2025-09-30&n=1")
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["result"].as_str(), v["schedule_known"].as_bool()),
        (Some("2025-10-09"), Some(true))
    );
    let (_, v) = anon
        .get("/api/v1/calendar/add-working-days?date=2026-09-18&n=20&region=360822")
        .await;
    assert_eq!(v["result"], "2026-10-22");
    let (_, v) = anon
        .get("/api/v1/calendar/add-working-days?date=2026-12-20&n=10")
        .await;
    assert_eq!(
        v["schedule_known"], false,
        "2027's schedule is not loaded: {v}"
    );

    for (q, code) in [
        ("date=2026-01-01&n=-1", "calendar.bad_count"),
        ("date=2026-01-01&n=abc", "calendar.bad_count"),
        ("date=2026-01-01&n=100000", "calendar.bad_count"),
        ("date=2026-02-30&n=1", "calendar.bad_date"),
        (
            "date=2026-01-01&n=1&region=999999",
            "calendar.unknown_region",
        ),
    ] {
        let (s, v) = anon
            .get(&format!("/api/v1/calendar/add-working-days?{q}"))
            .await;
        assert_eq!((s, v["code"].as_str()), (422, Some(code)), "{q}: {v}");
    }

    let (_, v) = anon
        .get("/api/v1/calendar/is-working-day?date=2026-02-14")
        .await;
    assert_eq!(
        (v["working_day"].as_bool(), v["reason"].as_str()),
        (Some(true), Some("春节调休上班"))
    );
    let (_, v) = anon
        .get("/api/v1/calendar/is-working-day?date=2026-02-16")
        .await;
    assert_eq!(
        (v["working_day"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("春节"))
    );
    let (_, v) = anon.get("/api/v1/calendar/days?year=2026").await;
    let days = v["days"].as_array().unwrap();
    assert!(days
        .iter()
        .any(|d| d["date"] == "2026-10-10" && d["kind"] == "workday"));
    assert_eq!(days.iter().filter(|d| d["kind"] == "workday").count(), 6);

    // A county adds its own day off; it applies there and below, not elsewhere.
    let admin = Api::login(&app, "admin", PASSWORD).await;
    let (s, v) = admin
        .put(
            "/api/v1/admin/calendar/days",
            json!({"region": "360822", "date": "2026-03-02", "kind": "holiday", "name": "县庆"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = anon
        .get("/api/v1/calendar/is-working-day?date=2026-03-02&region=360822100")
        .await;
    assert_eq!(
        (v["working_day"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("县庆"))
    );
    let (_, v) = anon
        .get("/api/v1/calendar/is-working-day?date=2026-03-02&region=420105")
        .await;
    assert_eq!(v["working_day"], true);
    let (_, v) = anon
        .get("/api/v1/calendar/add-working-days?date=2026-02-27&n=1&region=360822")
        .await;
    assert_eq!(
        v["result"], "2026-02-28",
        "the make-up Saturday still counts"
    );
    let (_, v) = anon
        .get("/api/v1/calendar/add-working-days?date=2026-02-28&n=1&region=360822")
        .await;
    assert_eq!(v["result"], "2026-03-03");

    // A county admin cannot change the national schedule or another county's days.
    let (s, v) = admin
        .put(
            "/api/v1/admin/calendar/days",
            json!({"date": "2026-03-03", "kind": "holiday"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("admin.out_of_region")));
    let (s, _) = admin
        .put(
            "/api/v1/admin/calendar/days",
            json!({"region": "420105", "date": "2026-03-03", "kind": "holiday"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, v) = admin
        .put(
            "/api/v1/admin/calendar/days",
            json!({"region": "360822", "date": "2026-03-03", "kind": "sometimes"}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("calendar.kind")));

    // A bad file changes nothing.
    let bad = "region = \"360822\"\n[[holiday]]\nname = \"a\"\nfrom = \"2026-04-13\"\n[[workday]]\nname = \"b\"\ndate = \"2026-04-13\"\n";
    let r = admin
        .http
        .post(format!("{}/api/v1/admin/calendar", app.base))
        .bearer_auth(admin.token.as_ref().unwrap())
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], "calendar.holiday_and_workday");
    let (_, v) = anon
        .get("/api/v1/calendar/is-working-day?date=2026-04-13&region=360822")
        .await;
    assert_eq!(v["working_day"], true);
    let good = "region = \"360822\"\n[[holiday]]\nname = \"防汛\"\nfrom = \"2026-04-13\"\nto = \"2026-04-14\"\n";
    let r = admin
        .http
        .post(format!("{}/api/v1/admin/calendar", app.base))
        .bearer_auth(admin.token.as_ref().unwrap())
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, v) = anon
        .get("/api/v1/calendar/is-working-day?date=2026-04-14&region=360822")
        .await;
    assert_eq!(v["working_day"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_calendar() {
    calendar(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_calendar() {
    calendar(Db::Postgres).await;
}

/// The demo's cases show every light; the dashboard counts and filters them by region.
async fn supervision(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let sup = Api::login(&app, "supervisor.js", PASSWORD).await;
    let (s, v) = sup.get("/api/v1/supervision/cases").await;
    assert_eq!(s, 200, "{v}");
    for light in ["green", "yellow", "red", "overdue"] {
        assert!(
            v["counts"][light].as_i64().unwrap_or(0) >= 1,
            "no {light} case in the demo: {v}"
        );
    }
    let total = v["total"].as_i64().unwrap();
    assert_eq!(total, v["cases"].as_array().unwrap().len() as i64);
    let (_, red) = sup.get("/api/v1/supervision/cases?light=red").await;
    let reds = red["cases"].as_array().unwrap();
    assert_eq!(reds.len() as i64, v["counts"]["red"].as_i64().unwrap());
    assert!(reds.iter().all(|c| c["light"] == "red"));
    // The light on the case itself agrees with the dashboard.
    let (_, one) = sup.get(&format!("/api/v1/cases/{}", reds[0]["id"])).await;
    assert_eq!(one["case"]["light"], "red", "{one}");
    let dept = reds[0]["department"].as_str().unwrap();
    let (_, by_dept) = sup
        .get(&format!("/api/v1/supervision/cases?department={dept}"))
        .await;
    assert!(by_dept["cases"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["department"] == dept));
    // Withdrawing an open case takes it out of the counts at once.
    let person = Api::login(&app, &yichuang_server::demo::demo_person_id(), PASSWORD).await;
    let (s, _) = person
        .post(
            &format!("/api/v1/cases/{}/withdraw", reds[0]["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, after) = sup.get("/api/v1/supervision/cases").await;
    assert_eq!(after["total"].as_i64().unwrap(), total - 1);
    assert_eq!(
        after["counts"]["red"].as_i64().unwrap_or(0),
        v["counts"]["red"].as_i64().unwrap() - 1
    );
    assert_eq!(
        after["total"].as_i64().unwrap(),
        after["cases"].as_array().unwrap().len() as i64
    );
    // A special procedure stops the clock: the case leaves the lights and is counted apart;
    // ending it moves every deadline by exactly the working days it took.
    let open = after["cases"].as_array().unwrap()[0].clone();
    let oid = open["id"].as_i64().unwrap();
    let clerk_api = Api::login(&app, "clerk.js", PASSWORD).await;
    let (s, v2) = clerk_api
        .post(
            &format!("/api/v1/cases/{oid}/suspend"),
            json!({"kind": "2", "name": "专家评审", "reason": ""}),
        )
        .await;
    assert_eq!(
        (s, v2["code"].as_str()),
        (422, Some("case.reason_required"))
    );
    let (s, v2) = clerk_api
        .post(
            &format!("/api/v1/cases/{oid}/suspend"),
            json!({"kind": "7", "name": "专家评审", "reason": "需专家论证"}),
        )
        .await;
    assert_eq!((s, v2["code"].as_str()), (422, Some("suspension.kind")));
    let (s, _) = clerk_api
        .post(
            &format!("/api/v1/cases/{oid}/suspend"),
            json!({"kind": "2", "name": "专家评审", "reason": "需专家论证"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, during) = sup.get("/api/v1/supervision/cases").await;
    assert_eq!(
        during["total"].as_i64().unwrap(),
        after["total"].as_i64().unwrap() - 1
    );
    assert_eq!(during["counts"]["stopped"], 1);
    let (_, case) = sup.get(&format!("/api/v1/cases/{oid}")).await;
    assert!(
        case["case"]["light"].is_null(),
        "no light while the clock is stopped"
    );
    let (s, _) = clerk_api
        .post(
            &format!("/api/v1/cases/{oid}/suspend"),
            json!({"kind": "2", "name": "听证", "reason": "x"}),
        )
        .await;
    assert_eq!(s, 409, "already stopped");
    let (s, v2) = clerk_api
        .post(&format!("/api/v1/cases/{oid}/resume"), json!({}))
        .await;
    assert_eq!((s, v2["stopped_working_days"].as_i64()), (200, Some(0)));
    let (_, back) = sup.get(&format!("/api/v1/cases/{oid}")).await;
    assert_eq!(
        back["case"]["deadlines"], case["case"]["deadlines"],
        "a same-day procedure moves nothing"
    );
    assert_eq!(back["suspensions"].as_array().unwrap().len(), 1);
    // The store, given dates: a procedure over N calendar days moves deadlines by its working days.
    let clerk_actor = app
        .store
        .account_by_login("clerk.js")
        .await
        .unwrap()
        .unwrap()
        .actor("test");
    let d1 = time::macros::date!(2026 - 09 - 24);
    let d2 = time::macros::date!(2026 - 10 - 12);
    app.store
        .suspend(&clerk_actor, oid, "2", "检验检测", "送检", d1)
        .await
        .unwrap();
    let k = app.store.resume(&clerk_actor, oid, d2).await.unwrap();
    let cal = app.store.calendar(Some("360822")).await.unwrap();
    assert_eq!(k, cal.working_days_between(d1, d2));
    assert_eq!(
        k, 7,
        "9/25-9/27 中秋 and 10/1-10/7 国庆 do not count; 10/10 is worked"
    );
    let (_, moved) = sup.get(&format!("/api/v1/cases/{oid}")).await;
    let before = yichuang_core::calendar::parse_date(
        back["case"]["deadlines"]["promised"].as_str().unwrap(),
    )
    .unwrap();
    let after_p = yichuang_core::calendar::parse_date(
        moved["case"]["deadlines"]["promised"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(cal.working_days_between(before, after_p), k);

    // Window and staff filters reach the counts (buckets) and the list (cases) alike.
    let (_, all) = sup.get("/api/v1/supervision/cases").await;
    let (_, w) = sup.get("/api/v1/supervision/cases?window=JX-JS-W01").await;
    assert_eq!(
        w["total"], all["total"],
        "clerk.js at JX-JS-W01 accepted every demo case"
    );
    assert_eq!(
        w["cases"].as_array().unwrap().len(),
        all["cases"].as_array().unwrap().len()
    );
    let (_, other) = sup
        .get("/api/v1/supervision/cases?window=GD-PROV-W01")
        .await;
    assert_eq!(
        (
            other["total"].as_i64(),
            other["cases"].as_array().unwrap().len()
        ),
        (Some(0), 0)
    );
    let clerk_id = app
        .store
        .account_by_login("clerk.js")
        .await
        .unwrap()
        .unwrap()
        .id;
    let (_, by_staff) = sup
        .get(&format!("/api/v1/supervision/cases?staff={clerk_id}"))
        .await;
    assert_eq!(by_staff["total"], all["total"]);
    // The buckets kept command by command equal a recount from the cases.
    app.store.rebuild_open_buckets().await.unwrap();
    let (_, recounted) = sup.get("/api/v1/supervision/cases").await;
    assert_eq!(recounted["counts"], all["counts"]);

    let (s, v) = sup.get("/api/v1/supervision/cases?light=purple").await;
    assert_eq!((s, v["code"].as_str()), (422, Some("supervision.light")));
    // Another region's supervisor sees none of Jishui's cases; a clerk sees no dashboard.
    let clerk = Api::login(&app, "clerk.js", PASSWORD).await;
    let (s, _) = clerk.get("/api/v1/supervision/cases").await;
    assert_eq!(s, 403);
    let admin = Api::login(&app, "admin", PASSWORD).await;
    let (s, _) = admin
        .post("/api/v1/admin/staff", json!({"login": "sup.town", "name": "镇监察", "password": PASSWORD, "role": "supervisor", "region": "360822100"}))
        .await;
    assert_eq!(s, 201);
    let town = Api::login(&app, "sup.town", PASSWORD).await;
    let (_, v) = town.get("/api/v1/supervision/cases").await;
    assert_eq!(v["total"], 0, "the township sees only its own cases: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_supervision() {
    supervision(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_supervision() {
    supervision(Db::Postgres).await;
}
