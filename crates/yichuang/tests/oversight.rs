//! Supervision notices (warnings, 督办, by hand with replies), conclusions with working days
//! used, on-time statistics and the public 办件公示 — over real HTTP, on both databases.

mod support;

use serde_json::json;
use support::{Api, Db, PASSWORD};
use yichuang_store::Store;

fn count(v: &serde_json::Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or(0)
}

async fn notices(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let sup = Api::login(&app, "supervisor.js", PASSWORD).await;
    let clerk = Api::login(&app, "clerk.js", PASSWORD).await;
    let manager = Api::login(&app, "manager.js", PASSWORD).await;
    let (_, dash) = sup.get("/api/v1/supervision/cases").await;
    let counts = &dash["counts"];
    let (yellow, red, overdue) = (
        count(counts, "yellow"),
        count(counts, "red"),
        count(counts, "overdue"),
    );
    assert!(yellow >= 1 && red >= 1 && overdue >= 1, "{dash}");
    let (s, v) = sup.get("/api/v1/supervision/notices").await;
    assert_eq!(s, 200);
    assert_eq!(
        v["notices"].as_array().unwrap().len(),
        0,
        "no worker ran yet"
    );

    // One pass sends exactly one notice per case past a line: warnings to the handler,
    // supervision notices to the handler's leader (the hall's manager).
    let today = app.store.today();
    let sent = app.store.supervise_tick(today).await.unwrap();
    assert_eq!(sent as i64, yellow + red + overdue);
    let (_, mine) = clerk.get("/api/v1/supervision/notices?mine=true").await;
    let mine = mine["notices"].as_array().unwrap().clone();
    assert_eq!(mine.len() as i64, yellow, "{mine:?}");
    assert!(mine
        .iter()
        .all(|n| n["kind"] == "warning" && n["line"] == "yellow"));
    let (_, lead) = manager.get("/api/v1/supervision/notices?mine=true").await;
    let lead = lead["notices"].as_array().unwrap().clone();
    assert_eq!(lead.len() as i64, red + overdue);
    assert!(lead.iter().all(|n| n["kind"] == "supervision"));
    assert_eq!(
        lead.iter().filter(|n| n["line"] == "overdue").count() as i64,
        overdue
    );
    assert_eq!(
        app.store.supervise_tick(today).await.unwrap(),
        0,
        "never twice"
    );
    // The case's audit trail records the worker's notice.
    let case = mine[0]["case_number"].as_str().unwrap();
    let (_, audit) = sup.get(&format!("/api/v1/cases/{case}/audit")).await;
    assert!(
        audit["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "supervision.warning"),
        "{audit}"
    );

    // Sixty days on, every open case is overdue. Four passes at once, from this process and
    // from a second connection standing in for another server: each case gets one notice.
    let (_, open) = sup.get("/api/v1/supervision/cases").await;
    let not_yet_overdue = count(&open, "total") - count(&open["counts"], "overdue");
    let later = today + time::Duration::days(60);
    let other = Store::connect(&app.url).await.unwrap().with_utc_offset(8);
    let (a, b, c, d) = tokio::join!(
        app.store.supervise_tick(later),
        other.supervise_tick(later),
        app.store.supervise_tick(later),
        other.supervise_tick(later),
    );
    let total = a.unwrap() + b.unwrap() + c.unwrap() + d.unwrap();
    assert_eq!(total as i64, not_yet_overdue);
    // A restarted server finds nothing left to send for that day.
    drop(other);
    let restarted = Store::connect(&app.url).await.unwrap().with_utc_offset(8);
    assert_eq!(restarted.supervise_tick(later).await.unwrap(), 0);
    let (_, all) = sup.get("/api/v1/supervision/notices?limit=200").await;
    let all = all["notices"].as_array().unwrap().clone();
    assert_eq!(all.len() as i64, yellow + red + overdue + not_yet_overdue);
    let mut keys: Vec<(i64, String)> = all
        .iter()
        .map(|n| {
            (
                n["case_id"].as_i64().unwrap(),
                n["line"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), all.len(), "one notice per case and line");

    // By hand: a supervisor's notice with a comment and a reply-by date; the handler replies.
    let id = mine[0]["case_id"].as_i64().unwrap();
    let reply_by = (today + time::Duration::days(3)).to_string();
    let path = format!("/api/v1/cases/{id}/supervision-notices");
    for (body, code) in [
        (
            json!({"comment": " ", "reply_by": reply_by}),
            "notice.comment",
        ),
        (
            json!({"comment": "请说明进度", "reply_by": "2020-01-01"}),
            "notice.reply_by",
        ),
        (
            json!({"comment": "请说明进度", "reply_by": "soon"}),
            "date.invalid",
        ),
    ] {
        let (s, v) = sup.post(&path, body).await;
        assert_eq!((s, v["code"].as_str()), (422, Some(code)));
    }
    let (s, v) = clerk
        .post(&path, json!({"comment": "x", "reply_by": reply_by}))
        .await;
    assert_eq!((s, v["code"].as_str()), (403, Some("notice.role")));
    let body = json!({"comment": "请说明延误原因", "reply_by": reply_by});
    let (s, first) = sup.post_keyed(&path, "n-1", body.clone()).await;
    assert_eq!(s, 201, "{first}");
    let (s, again) = sup.post_keyed(&path, "n-1", body).await;
    assert_eq!(
        (s, &again["id"]),
        (201, &first["id"]),
        "the same key is one notice"
    );
    let nid = first["id"].as_i64().unwrap();
    let (_, waiting) = clerk
        .get("/api/v1/supervision/notices?mine=true&awaiting_reply=true")
        .await;
    let waiting = waiting["notices"].as_array().unwrap().clone();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["comment"], "请说明延误原因");
    assert_eq!(waiting[0]["reply_by"], reply_by.as_str());
    let reply = format!("/api/v1/supervision/notices/{nid}/reply");
    let reviewer = Api::login(&app, "reviewer.js", PASSWORD).await;
    let (s, _) = reviewer.post(&reply, json!({"reply": "不是我"})).await;
    assert_eq!(s, 404, "only the handler replies");
    let (s, v) = clerk.post(&reply, json!({"reply": "  "})).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("notice.reply")));
    let (s, _) = clerk
        .post(&reply, json!({"reply": "已联系申请人补充现场核查"}))
        .await;
    assert_eq!(s, 200);
    let (s, v) = clerk.post(&reply, json!({"reply": "again"})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("notice.already_replied"))
    );
    let (_, of_case) = sup
        .get(&format!("/api/v1/supervision/notices?case={id}"))
        .await;
    let manual = of_case["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "manual")
        .cloned()
        .unwrap();
    assert_eq!(manual["reply"], "已联系申请人补充现场核查");
    let number = manual["case_number"].as_str().unwrap();
    let (_, audit) = sup.get(&format!("/api/v1/cases/{number}/audit")).await;
    let actions: Vec<&str> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"supervision.manual_notice") && actions.contains(&"supervision.reply")
    );
    // Applicants see no notices at all.
    let person = Api::login(&app, &yichuang_server::demo::demo_person_id(), PASSWORD).await;
    let (s, _) = person.get("/api/v1/supervision/notices").await;
    assert_eq!(s, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_notices() {
    notices(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notices() {
    notices(Db::Postgres).await;
}

fn sum(rows: &serde_json::Value, key: &str) -> i64 {
    rows["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| count(r, key))
        .sum()
}

async fn conclusions(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    // The demo concluded eight cases today: six in time, two late.
    let anon = Api::anon(&app);
    let (s, public) = anon.get("/api/v1/public/performance").await;
    assert_eq!(s, 200);
    assert_eq!(sum(&public, "concluded"), 8, "{public}");
    assert_eq!(sum(&public, "within_promised"), 6, "{public}");

    let sup = Api::login(&app, "supervisor.js", PASSWORD).await;
    let (_, green) = sup.get("/api/v1/supervision/cases?light=green").await;
    let (_, over) = sup.get("/api/v1/supervision/cases?light=overdue").await;
    let g = green["cases"][0].clone();
    let o = over["cases"][0].clone();
    let reviewer = Api::login(&app, "reviewer.js", PASSWORD).await;
    let clerk = Api::login(&app, "clerk.js", PASSWORD).await;
    // A case with a workflow is decided at its decision stage, not by the plain decision.
    let decide = |c: &serde_json::Value| format!("/api/v1/cases/{}/decide", c["id"]);
    let (s, v) = clerk.post(&decide(&g), json!({"approve": true})).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("case.role")));
    let (s, v) = reviewer.post(&decide(&g), json!({"approve": true})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("case.has_workflow")),
        "{v}"
    );
    work(&app, g["id"].as_i64().unwrap(), false).await;
    let (_, v) = sup.get(&format!("/api/v1/cases/{}", g["id"])).await;
    assert_eq!(v["case"]["status"], "completed", "{v}");
    let k = &v["case"]["conclusion"];
    let cal = app.store.calendar(Some("360822")).await.unwrap();
    let accepted = yichuang_core::calendar::parse_date(g["accepted_on"].as_str().unwrap()).unwrap();
    let today = app.store.today();
    assert_eq!(
        k["days_used"].as_i64().unwrap(),
        cal.working_days_between(accepted, today)
    );
    assert_eq!(
        (
            &k["within_internal"],
            &k["within_promised"],
            &k["within_legal"]
        ),
        (&json!(true), &json!(true), &json!(true))
    );
    work(&app, o["id"].as_i64().unwrap(), true).await;
    let (_, case) = sup.get(&format!("/api/v1/cases/{}", o["id"])).await;
    assert_eq!(case["case"]["status"], "denied", "{case}");
    assert_eq!(case["case"]["conclusion"]["within_promised"], false);
    assert_eq!(
        case["case"]["decision_reason"],
        "不符合法定条件（《行政许可法》第三十八条第二款）"
    );
    // Concluded cases leave the dashboard.
    let (_, after) = sup.get("/api/v1/supervision/cases").await;
    assert_eq!(
        count(&after["counts"], "green"),
        count(&green["counts"], "green") - 1
    );
    assert_eq!(
        count(&after["counts"], "overdue"),
        count(&over["counts"], "overdue") - 1
    );

    // Statistics by item, department, staff and month add up to the same ten cases.
    for by in ["item", "department", "staff", "month"] {
        let (s, v) = sup
            .get(&format!("/api/v1/statistics/on-time?by={by}"))
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(sum(&v, "concluded"), 10, "by {by}: {v}");
        assert_eq!(sum(&v, "within_promised"), 7, "by {by}: {v}");
    }
    let (_, month) = sup.get("/api/v1/statistics/on-time?by=month").await;
    assert_eq!(month["rows"][0]["key"], today.to_string()[..7]);
    let rate = month["rows"][0]["on_time_rate"].as_f64().unwrap();
    assert!((rate - 0.7).abs() < 1e-9);
    // By staff: who concluded each case (the last hand on its workflow), with their names.
    let (_, staff) = sup.get("/api/v1/statistics/on-time?by=staff").await;
    let rows = staff["rows"].as_array().unwrap();
    assert!(
        rows.iter().all(|r| {
            r["key"].as_str().unwrap_or("0") != "0"
                && r["name"].as_str().unwrap_or("").contains("审核员")
        }),
        "{staff}"
    );
    let yesterday = (today - time::Duration::days(1)).to_string();
    let (_, none) = sup
        .get(&format!("/api/v1/statistics/on-time?to={yesterday}"))
        .await;
    assert_eq!(sum(&none, "concluded"), 0, "nothing concluded before today");
    for (q, status, code) in [
        ("by=week", 422, "stats.by"),
        ("from=2026-02-01&to=2026-01-01", 422, "stats.period"),
        ("from=yesterday", 422, "date.invalid"),
        ("region=440000", 403, "stats.region"),
    ] {
        let (s, v) = sup.get(&format!("/api/v1/statistics/on-time?{q}")).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{q}");
    }
    let person = Api::login(&app, &yichuang_server::demo::demo_person_id(), PASSWORD).await;
    let (s, _) = person.get("/api/v1/statistics/on-time").await;
    assert_eq!(s, 403);
    // The public page: anyone, no login; another region shows nothing of Jishui's.
    let (_, public) = anon.get("/api/v1/public/performance?region=360822").await;
    assert_eq!(sum(&public, "concluded"), 10);
    let (_, gd) = anon.get("/api/v1/public/performance?region=440000").await;
    assert_eq!(sum(&gd, "concluded"), 0);
    let html = support::client()
        .get(format!("{}/public", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("办件公示") && html.contains("id=\"public-performance\""));
    assert!(
        html.contains("70.0%"),
        "overall share within the promised limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_conclusions() {
    conclusions(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conclusions() {
    conclusions(Db::Postgres).await;
}

/// Works a case's tasks through the API as its departments' staff would (A answers, B
/// approves), denying at the decision when asked; checks the refusals on the way.
async fn work(app: &support::TestApp, case_id: i64, deny: bool) {
    let mut staff: std::collections::HashMap<String, Api> = std::collections::HashMap::new();
    for _ in 0..30 {
        let tasks = app.store.case_tasks(case_id).await.unwrap();
        let Some(t) = tasks
            .iter()
            .find(|t| matches!(t.state.as_str(), "open" | "claimed" | "proposed"))
        else {
            return;
        };
        let proposed = t.state == "proposed";
        let login = format!(
            "{}.{}",
            t.department.to_lowercase(),
            if proposed { "b" } else { "a" }
        );
        if !staff.contains_key(&login) {
            staff.insert(login.clone(), Api::login(app, &login, PASSWORD).await);
        }
        let api = &staff[&login];
        let path = |a: &str| format!("/api/v1/tasks/{}/{a}", t.id);
        let (s, v) = if proposed {
            api.post(&path("approve"), json!({})).await
        } else if deny && t.stage_kind == "decision" {
            let (s, v) = api
                .post(
                    &path("answer"),
                    json!({"consent": false, "opinion": "不符合法定条件"}),
                )
                .await;
            assert_eq!(
                (s, v["code"].as_str()),
                (422, Some("task.legal_basis_required"))
            );
            api.post(
                &path("answer"),
                json!({"consent": false, "opinion": "不符合法定条件", "legal_basis": "《行政许可法》第三十八条第二款"}),
            )
            .await
        } else {
            api.post(&path("answer"), json!({"consent": true, "opinion": "同意"}))
                .await
        };
        assert_eq!(s, 200, "{login} on task {}: {v}", t.id);
    }
    panic!("the workflow of case {case_id} did not finish");
}
