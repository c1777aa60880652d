//! Workflows over real HTTP on both databases: A/B review, parallel review with default
//! consent (exactly once, across two connections), the refusals, transfers, withdrawal and
//! the flow as the applicant and staff see it.

mod support;

use serde_json::json;
use std::collections::HashMap;
use support::{Api, Db, TestApp, PASSWORD};
use yichuang_store::Store;

/// Seed 004's construction planning permit: A/B review, then a parallel review by housing,
/// environment, civil air defence and weather with default consent, decision, issue.
const PARALLEL: &str = "360822-ZRZYJ-XK-003";

async fn actor(app: &TestApp, login: &str) -> yichuang_core::Actor {
    app.store
        .account_by_login(login)
        .await
        .unwrap()
        .unwrap()
        .actor("test")
}

async fn new_case(app: &TestApp, item: &str) -> (i64, String) {
    let firm = actor(app, &yichuang_server::demo::demo_enterprise_uscc()).await;
    let clerk = actor(app, "clerk.js").await;
    let id = yichuang_server::demo::accepted_case(&app.store, &firm, &clerk, item, &"0".repeat(64))
        .await
        .unwrap();
    let number = app
        .store
        .case_view_unchecked(id)
        .await
        .unwrap()
        .unwrap()
        .number
        .unwrap();
    (id, number)
}

/// The open tasks of a case: (task id, department, state).
async fn open_tasks(app: &TestApp, id: i64) -> Vec<(i64, String, String)> {
    app.store
        .case_tasks(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| matches!(t.state.as_str(), "open" | "claimed" | "proposed"))
        .map(|t| (t.id, t.department, t.state))
        .collect()
}

/// Seed 004's A/B review passed (proposed by A, approved by B): the parallel review opens.
/// Returns the tasks the approval opened.
async fn pass_ab_review(app: &TestApp, id: i64) -> Vec<i64> {
    use yichuang_store::flows::TaskAction;
    let review = open_tasks(app, id).await[0].0;
    let answer = TaskAction::Answer {
        consent: true,
        opinion: "同意".into(),
        legal_basis: String::new(),
    };
    let a = actor(app, "360822-zrzyj.a").await;
    app.store.task_action(&a, review, answer).await.unwrap();
    let b = actor(app, "360822-zrzyj.b").await;
    app.store
        .task_action(&b, review, TaskAction::Approve)
        .await
        .unwrap()
        .opened
}

struct Staff<'a> {
    app: &'a TestApp,
    apis: HashMap<String, Api>,
}

impl Staff<'_> {
    async fn api(&mut self, login: &str) -> &Api {
        if !self.apis.contains_key(login) {
            let api = Api::login(self.app, login, PASSWORD).await;
            self.apis.insert(login.to_string(), api);
        }
        &self.apis[login]
    }
    async fn act(
        &mut self,
        login: &str,
        task: i64,
        action: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.api(login)
            .await
            .post(&format!("/api/v1/tasks/{task}/{action}"), body)
            .await
    }
}

async fn workflow(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let mut staff = Staff {
        app: &app,
        apis: HashMap::new(),
    };
    // The demo's own silent department gets its default consent first.
    app.store.flow_tick(app.store.today()).await.unwrap();
    let (id, number) = new_case(&app, PARALLEL).await;
    let tasks = open_tasks(&app, id).await;
    assert_eq!(tasks.len(), 1, "A/B review first: {tasks:?}");
    let (review, dept, _) = tasks[0].clone();
    assert_eq!(dept, "360822-ZRZYJ");

    // A step past its own due date gets one supervision notice, whoever runs the clock.
    let sup = Api::login(&app, "supervisor.js", PASSWORD).await;
    let late = app.store.today() + time::Duration::days(10);
    app.store.step_tick(app.store.today()).await.unwrap();
    let step_notices = |v: &serde_json::Value| {
        v["notices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["step"] == format!("task:{review}"))
            .count()
    };
    let (_, v) = sup
        .get(&format!("/api/v1/supervision/notices?case={number}"))
        .await;
    assert_eq!(step_notices(&v), 0, "not yet due");
    let other = Store::connect(&app.url).await.unwrap().with_utc_offset(8);
    let (a, b) = tokio::join!(app.store.step_tick(late), other.step_tick(late));
    assert!(a.unwrap() + b.unwrap() >= 1);
    assert_eq!(app.store.step_tick(late).await.unwrap(), 0);
    let (_, v) = sup
        .get(&format!("/api/v1/supervision/notices?case={number}"))
        .await;
    assert_eq!(step_notices(&v), 1, "{v}");
    drop(other);

    // The inbox of the department's reviewers holds it, with its due date and light.
    let (s, inbox) = staff.api("360822-zrzyj.a").await.get("/api/v1/tasks").await;
    assert_eq!(s, 200);
    let mine = inbox["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == review)
        .cloned()
        .expect("the task is in the inbox");
    assert_eq!(mine["light"], "green");
    assert!(mine["due_on"].as_str().unwrap() > app.store.today().to_string().as_str());
    let (_, other) = staff.api("360822-rfb.a").await.get("/api/v1/tasks").await;
    assert!(other["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["id"] != review));
    // The department's manager sees every role's tasks in the same inbox.
    let manager = yichuang_store::accounts::NewAccount {
        kind: "staff".into(),
        login: "360822-zrzyj.m".into(),
        password_hash: Some(yichuang_server::http::auth::hash_password(PASSWORD.into()).await),
        name: "自然资源局负责人".into(),
        role: Some("manager".into()),
        region: Some("360822".into()),
        department: Some("360822-ZRZYJ".into()),
        ..Default::default()
    };
    app.store
        .create_account(manager, &yichuang_core::Actor::system())
        .await
        .unwrap();
    let (s, v) = staff.api("360822-zrzyj.m").await.get("/api/v1/tasks").await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == review),
        "{v}"
    );

    // Another department may not touch it; A claims and proposes; B is someone else.
    let (s, v) = staff.act("360822-rfb.a", review, "claim", json!({})).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("task.not_yours")));
    let (s, _) = staff
        .act("360822-zrzyj.a", review, "claim", json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, v) = staff
        .act(
            "360822-zrzyj.b",
            review,
            "answer",
            json!({"consent": true, "opinion": "同意"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("task.claimed_by_other"))
    );
    let (s, v) = staff
        .act(
            "360822-zrzyj.a",
            review,
            "answer",
            json!({"consent": true, "opinion": "拟同意"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = staff
        .act("360822-zrzyj.a", review, "approve", json!({}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("task.same_person")),
        "the proposer never approves"
    );
    let (s, v) = staff
        .act("360822-zrzyj.b", review, "return", json!({"reason": " "}))
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("task.reason_required")));
    let (s, _) = staff
        .act(
            "360822-zrzyj.b",
            review,
            "return",
            json!({"reason": "补充日照分析"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(open_tasks(&app, id).await[0].2, "claimed", "back with A");
    staff
        .act(
            "360822-zrzyj.a",
            review,
            "answer",
            json!({"consent": true, "opinion": "已补充，拟同意"}),
        )
        .await;
    let (s, _) = staff
        .act("360822-zrzyj.b", review, "approve", json!({}))
        .await;
    assert_eq!(s, 200);
    // Finished, it leaves the department's inbox.
    let (_, inbox) = staff.api("360822-zrzyj.a").await.get("/api/v1/tasks").await;
    assert!(
        inbox["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"] != review),
        "{inbox}"
    );

    // The parallel review: four departments at the same moment.
    let tasks = open_tasks(&app, id).await;
    let depts: Vec<&str> = tasks.iter().map(|t| t.1.as_str()).collect();
    assert_eq!(
        depts,
        ["360822-ZJJ", "360822-STHJJ", "360822-RFB", "360822-QXJ"]
    );
    let task_of = |d: &str| tasks.iter().find(|t| t.1 == d).unwrap().0;
    let (s, v) = staff
        .act("360822-zrzyj.a", review, "answer", json!({"consent": true}))
        .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("task.not_current")));
    // Two departments answer at the same instant: neither hides the other's answer.
    let (zjj, sthjj) = (
        staff.api("360822-zjj.a").await.token.clone(),
        staff.api("360822-sthjj.a").await.token.clone(),
    );
    let post = |token: Option<String>, task: i64| {
        let base = app.base.clone();
        async move {
            support::client()
                .post(format!("{base}/api/v1/tasks/{task}/answer"))
                .bearer_auth(token.unwrap())
                .json(&json!({"consent": true, "opinion": "无意见"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (a, b) = tokio::join!(
        post(zjj, task_of("360822-ZJJ")),
        post(sthjj, task_of("360822-STHJJ"))
    );
    assert_eq!((a, b), (200, 200));
    let (s, v) = staff
        .act(
            "360822-zjj.b",
            task_of("360822-ZJJ"),
            "answer",
            json!({"consent": true}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("task.already_answered")),
        "one answer per department"
    );
    staff
        .act(
            "360822-qxj.a",
            task_of("360822-QXJ"),
            "answer",
            json!({"consent": true, "opinion": "同意"}),
        )
        .await;
    // Civil air defence stays silent. Nothing happens on its last day; the day after, the
    // clock consents for it — once, though two servers run their clocks at the same time.
    let rfb = task_of("360822-RFB");
    let due = app
        .store
        .case_tasks(id)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.id == rfb)
        .unwrap()
        .due_on;
    let due = yichuang_core::calendar::parse_date(&due).unwrap();
    assert_eq!(app.store.flow_tick(due).await.unwrap(), 0);
    let other = Store::connect(&app.url).await.unwrap().with_utc_offset(8);
    let after = due + time::Duration::days(1);
    // Every silent task past its limit on that day, this case's and the demo's, once each.
    let mut expected = 0;
    for cid in 1..=id {
        for t in app.store.case_tasks(cid).await.unwrap_or_default() {
            if t.silence_consents
                && matches!(t.state.as_str(), "open" | "claimed")
                && t.due_on < after.to_string()
            {
                expected += 1;
            }
        }
    }
    let (x, y, z) = tokio::join!(
        app.store.flow_tick(after),
        other.flow_tick(after),
        app.store.flow_tick(after)
    );
    assert!(expected >= 1);
    assert_eq!(
        x.unwrap() + y.unwrap() + z.unwrap(),
        expected,
        "default consent exactly once"
    );
    assert_eq!(other.flow_tick(after).await.unwrap(), 0);
    let tasks = open_tasks(&app, id).await;
    assert_eq!(tasks.len(), 1, "on to the decision: {tasks:?}");
    let decision = tasks[0].0;

    // The timeline and audit say so; the applicant sees departments, not people.
    let (_, audit) = sup.get(&format!("/api/v1/cases/{number}/audit")).await;
    let records = audit["records"].as_array().unwrap();
    let by_default = records
        .iter()
        .filter(|r| r["action"] == "task.default_consent")
        .collect::<Vec<_>>();
    assert_eq!(by_default.len(), 1);
    assert!(
        by_default[0]["detail"]
            .as_str()
            .unwrap()
            .contains("360822-RFB"),
        "{by_default:?}"
    );
    assert!(records
        .iter()
        .any(|r| r["action"] == "task.return"
            && r["detail"].as_str().unwrap().contains("补充日照分析")));
    let firm = Api::login(
        &app,
        &yichuang_server::demo::demo_enterprise_uscc(),
        PASSWORD,
    )
    .await;
    let (s, flow) = firm.get(&format!("/api/v1/cases/{number}/flow")).await;
    assert_eq!(s, 200);
    let stages = flow["stages"].as_array().unwrap();
    assert_eq!(
        stages
            .iter()
            .map(|s| s["state"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["done", "done", "current", "pending"]
    );
    let parallel = stages[1]["tasks"].as_array().unwrap();
    assert!(parallel
        .iter()
        .all(|t| t["handler_name"].is_null() && t["opinion"] == ""));
    assert!(parallel
        .iter()
        .any(|t| t["department_name"] == "吉水县人民防空办公室" && t["by_default"] == true));
    let (_, staff_flow) = sup.get(&format!("/api/v1/cases/{number}/flow")).await;
    assert!(staff_flow["stages"][0]["tasks"][0]["handler_name"].is_string());

    // The decision: a denial needs its reasons and legal basis; a transfer needs a reason.
    let (s, v) = staff
        .act(
            "360822-zrzyj.a",
            decision,
            "answer",
            json!({"consent": false, "opinion": ""}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("task.reason_required")));
    let (s, v) = staff
        .act(
            "360822-zrzyj.a",
            decision,
            "transfer",
            json!({"department": "NOPE", "reason": "x"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("task.unknown_department"))
    );
    let (s, v) = staff
        .act(
            "360822-zrzyj.a",
            decision,
            "transfer",
            json!({"department": "360822-ZJJ", "reason": ""}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("task.reason_required")));
    let (s, _) = staff
        .act(
            "360822-zrzyj.a",
            decision,
            "transfer",
            json!({"department": "360822-ZJJ", "reason": "职责调整"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = sup.get("/api/v1/supervision/transfers").await;
    assert_eq!(s, 200);
    let x = &v["transfers"][0];
    assert_eq!(
        (
            x["from_department"].as_str(),
            x["to_department"].as_str(),
            x["reason"].as_str()
        ),
        (Some("360822-ZRZYJ"), Some("360822-ZJJ"), Some("职责调整"))
    );
    let (s, _) = staff
        .api("360822-zjj.a")
        .await
        .get("/api/v1/supervision/transfers")
        .await;
    assert_eq!(s, 403, "a reviewer does not see every transfer");
    let (_, audit) = sup.get(&format!("/api/v1/cases/{number}/audit")).await;
    assert!(audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["action"] == "task.transfer"
            && r["detail"]
                .as_str()
                .unwrap()
                .contains("360822-ZRZYJ -> 360822-ZJJ")));
    let (s, _) = staff
        .act(
            "360822-zjj.a",
            decision,
            "answer",
            json!({"consent": true, "opinion": "准予"}),
        )
        .await;
    assert_eq!(s, 200);
    let issue = open_tasks(&app, id).await[0].0;
    staff
        .act(
            "360822-zrzyj.a",
            issue,
            "answer",
            json!({"consent": true, "opinion": "已制证"}),
        )
        .await;
    let (_, v) = sup.get(&format!("/api/v1/cases/{number}")).await;
    assert_eq!(v["case"]["status"], "completed", "{v}");
    assert!(v["case"]["conclusion"]["days_used"].is_i64());
    let (s, v) = staff
        .act("360822-zrzyj.a", issue, "answer", json!({"consent": true}))
        .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("workflow.finished")));

    // Withdrawn before the decision: every open task is withdrawn with it.
    let (id2, number2) = new_case(&app, PARALLEL).await;
    let (s, _) = firm
        .post(&format!("/api/v1/cases/{number2}/withdraw"), json!({}))
        .await;
    assert_eq!(s, 200);
    assert!(open_tasks(&app, id2).await.is_empty());
    let (_, flow) = firm.get(&format!("/api/v1/cases/{number2}/flow")).await;
    assert_eq!(flow["stages"][0]["tasks"][0]["state"], "cancelled");

    // One view of the applicant: every case of the enterprise in the staff member's region.
    let firm_id = actor(&app, &yichuang_server::demo::demo_enterprise_uscc())
        .await
        .account_id;
    let (s, v) = sup.get(&format!("/api/v1/applicants/{firm_id}")).await;
    assert_eq!(s, 200, "{v}");
    let cases = v["applicant"]["cases"].as_array().unwrap();
    let of = |n: &str| cases.iter().find(|k| k["number"] == n).cloned().unwrap();
    assert_eq!(of(&number)["status"], "completed");
    assert!(of(&number)["concluded_on"].is_string());
    assert_eq!(of(&number2)["status"], "withdrawn");
    assert!(
        cases.iter().any(|k| k["current_stage"].is_string()),
        "the demo's case in review"
    );
    assert!(v["applicant"]["id_masked"].as_str().unwrap().contains('*'));
    let (s, _) = firm.get(&format!("/api/v1/applicants/{firm_id}")).await;
    assert_eq!(s, 403);
    let gd = Api::login(&app, "clerk.gd", PASSWORD).await;
    let (_, v) = gd.get(&format!("/api/v1/applicants/{firm_id}")).await;
    assert_eq!(
        v["applicant"]["cases"].as_array().unwrap().len(),
        0,
        "another region's cases stay hidden"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_workflow() {
    workflow(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_workflow() {
    workflow(Db::Postgres).await;
}

/// The demo's seed 004 case: the worker's first pass gives the silent department's consent.
async fn demo_default_consent(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let today = app.store.today();
    assert_eq!(app.store.flow_tick(today).await.unwrap(), 1);
    assert_eq!(app.store.flow_tick(today).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_demo_default_consent() {
    demo_default_consent(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_demo_default_consent() {
    demo_default_consent(Db::Postgres).await;
}

/// Every department of a parallel review answers at the same instant: the last answer to be
/// written sees all the others, so the stage completes and the decision opens exactly once.
/// (On PostgreSQL the case row's lock orders them; without it each answer could see the
/// others still open and leave the stage unfinished.)
async fn parallel_answers_at_once(db: Db) {
    use yichuang_store::flows::TaskAction;
    let Some(app) = support::start(db).await else {
        return;
    };
    let answer = || TaskAction::Answer {
        consent: true,
        opinion: "同意".into(),
        legal_basis: String::new(),
    };
    for _ in 0..3 {
        let (id, _) = new_case(&app, PARALLEL).await;
        pass_ab_review(&app, id).await;
        let tasks = open_tasks(&app, id).await;
        assert_eq!(tasks.len(), 4, "{tasks:?}");
        let mut reviewers = Vec::new();
        for (_, dept, _) in &tasks {
            reviewers.push(actor(&app, &format!("{}.a", dept.to_lowercase())).await);
        }
        let answers = tasks
            .iter()
            .zip(&reviewers)
            .map(|((task, ..), who)| app.store.task_action(who, *task, answer()));
        let opened: Vec<i64> = futures::future::join_all(answers)
            .await
            .into_iter()
            .flat_map(|r| r.unwrap().opened)
            .collect();
        let open = open_tasks(&app, id).await;
        assert_eq!(open.len(), 1, "on to the decision: {open:?}");
        assert_eq!(opened, vec![open[0].0], "the decision opened once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_parallel_answers_at_once() {
    parallel_answers_at_once(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_parallel_answers_at_once() {
    parallel_answers_at_once(Db::Postgres).await;
}

/// A parallel review opens every department's task at once: each department's staff of the
/// task's role who gave a phone hear of their own department's task by SMS, once; staff of
/// another role, and departments whose staff gave none, hear nothing.
async fn parallel_tasks_are_announced(db: Db) {
    use yichuang_store::accounts::NewAccount;
    let Some(app) = support::start(db).await else {
        return;
    };
    let system = yichuang_core::Actor::system();
    for (login, role, dept, phone) in [
        ("zjj.c", "reviewer", "360822-ZJJ", "13600001111"),
        ("sthjj.c", "reviewer", "360822-STHJJ", "13600002222"),
        ("zjj.clerk", "clerk", "360822-ZJJ", "13600003333"),
    ] {
        let staff = NewAccount {
            kind: "staff".into(),
            login: login.into(),
            name: login.into(),
            role: Some(role.into()),
            region: Some("360822".into()),
            department: Some(dept.into()),
            phone: Some(phone.into()),
            ..Default::default()
        };
        app.store.create_account(staff, &system).await.unwrap();
    }
    let (id, number) = new_case(&app, PARALLEL).await;
    let opened = pass_ab_review(&app, id).await;
    assert_eq!(opened.len(), 4, "the parallel review opens");

    let admin = Api::login(&app, "admin", PASSWORD).await;
    let (s, v) = admin
        .get(&format!("/api/v1/admin/deliveries?case={number}&limit=200"))
        .await;
    assert_eq!(s, 200, "{v}");
    let mut told: Vec<String> = v["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event"] == "task_opened")
        .map(|d| {
            assert_eq!(d["channel"], "sms", "{d}");
            d["recipient"].as_str().unwrap().to_string()
        })
        .collect();
    told.sort();
    assert_eq!(told.len(), 2, "{v}");
    assert!(
        told[0].ends_with("1111") && told[1].ends_with("2222"),
        "{told:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_parallel_tasks_are_announced() {
    parallel_tasks_are_announced(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_parallel_tasks_are_announced() {
    parallel_tasks_are_announced(Db::Postgres).await;
}

/// A case runs the stages its item declared when it was accepted: a catalog edit afterwards
/// changes the cases accepted after it, not the ones already running; cases accepted under the
/// same stages read the same ones.
async fn stages_are_kept_from_acceptance(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let stage_names = |stages: Vec<yichuang_core::workflow::Stage>| {
        stages.into_iter().map(|s| s.title()).collect::<Vec<_>>()
    };
    let (before, _) = new_case(&app, PARALLEL).await;
    let first = stage_names(app.store.case_stages(before).await.unwrap());
    assert!(first.len() >= 3, "{first:?}");

    let mut item = app.store.item(PARALLEL).await.unwrap();
    item.workflow[0].name = "审查（改）".into();
    let file = yichuang_core::catalog::CatalogFile {
        items: vec![item],
        ..Default::default()
    };
    app.store
        .import_catalog(file, &yichuang_core::Actor::system())
        .await
        .unwrap()
        .unwrap();
    let (after, _) = new_case(&app, PARALLEL).await;
    let (again, _) = new_case(&app, PARALLEL).await;

    assert_eq!(
        stage_names(app.store.case_stages(before).await.unwrap()),
        first
    );
    let edited = stage_names(app.store.case_stages(after).await.unwrap());
    assert_eq!(edited[0], "审查（改）");
    assert_eq!(edited[1..], first[1..]);
    assert_eq!(
        stage_names(app.store.case_stages(again).await.unwrap()),
        edited
    );
    // The running case's tasks are still its own stages' (the first stage opened as before).
    assert_eq!(open_tasks(&app, before).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_stages_are_kept_from_acceptance() {
    stages_are_kept_from_acceptance(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stages_are_kept_from_acceptance() {
    stages_are_kept_from_acceptance(Db::Postgres).await;
}
