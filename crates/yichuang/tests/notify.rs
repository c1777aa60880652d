//! Notices end to end over real HTTP on both databases, with a real SMTP sink and an SMS
//! gateway stand-in on real ports: the applicant's notices at each step on the channels they
//! chose, nothing from a step that rolls back, templates refused when broken and used when
//! saved, the masked delivery log with resend, the public status lookup and its brake, a
//! provider outage that ends with everything delivered without a retry storm, and two
//! workers sharing one outbox without sending anything twice.

mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::providers::{Gateway, Mode, SmtpSink};
use support::{pdf, Api, Db, TestApp, PASSWORD};
use yichuang_server::{Config, Delivery};

const ITEM: &str = "360822-ZJJ-XK-002";
const PHONE: &str = "13912345678";

fn policy() -> yichuang_notify::Policy {
    yichuang_notify::Policy {
        batch: 32,
        concurrency: 8,
        max_attempts: 12,
        backoff_base: Duration::from_millis(100),
        backoff_cap: Duration::from_millis(800),
        breaker_threshold: 3,
        breaker_open: Duration::from_millis(400),
        breaker_cap: Duration::from_millis(800),
        idle: Duration::from_millis(30),
        lease: Duration::from_secs(5),
    }
}

async fn start(db: Db, gw: &Gateway, smtp: &SmtpSink) -> Option<TestApp> {
    let config = Config {
        delivery: Some(Delivery {
            smtp: Some(yichuang_notify::channels::SmtpConfig {
                host: "127.0.0.1".into(),
                port: smtp.port,
                from: "一窗通知 <notice@hall.example.gov.cn>".into(),
                timeout_secs: 2,
            }),
            sms: Some(gw.config()),
            policy: policy(),
        }),
        ..Config::default()
    };
    support::start_with(db, config).await
}

fn form() -> serde_json::Value {
    json!({"purpose": "施工临时用电线路敷设", "road_section": "文峰大道东段", "area": "120",
           "start_date": "2026-12-01", "end_date": "2026-12-20"})
}

async fn register(app: &TestApp, id17: &str, phone: &str) -> (Api, String) {
    let id = format!(
        "{id17}{}",
        yichuang_core::ResidentId::check_char(id17) as char
    );
    let (s, v) = Api::anon(app)
        .post("/api/v1/accounts", json!({"kind": "person", "name": "钱七", "id_number": id, "phone": phone, "password": PASSWORD}))
        .await;
    assert_eq!(s, 201, "{v}");
    (Api::login(app, &id, PASSWORD).await, id)
}

async fn submitted_case(a: &Api) -> String {
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
    let (s, v) = a
        .post(&format!("/api/v1/cases/{id}/submit"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    v["number"].as_str().unwrap().to_string()
}

/// Waits until `f` holds, for at most `secs`.
async fn until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn outbox_rows(app: &TestApp, number: &str) -> i64 {
    let admin = Api::login(app, "admin", PASSWORD).await;
    let (s, v) = admin
        .get(&format!("/api/v1/admin/deliveries?case={number}&limit=200"))
        .await;
    assert_eq!(s, 200, "{v}");
    v["deliveries"].as_array().unwrap().len() as i64
}

async fn notices(db: Db) {
    let gw = Gateway::start().await;
    let smtp = SmtpSink::start().await;
    let Some(app) = start(db, &gw, &smtp).await else {
        return;
    };
    let (a, _) = register(&app, "36082219930101123", PHONE).await;

    // Choosing channels: each needs its address; nothing changes when refused.
    let (s, v) = a.get("/api/v1/me/notice-prefs").await;
    assert_eq!(
        (s, v["channels"].clone()),
        (200, json!(["inapp", "sms"])),
        "{v}"
    );
    for (body, code) in [
        (
            json!({"channels": ["email"], "phone": PHONE}),
            "prefs.no_email",
        ),
        (
            json!({"channels": ["fax"], "phone": PHONE}),
            "prefs.channel",
        ),
        (
            json!({"channels": ["sms"], "phone": "12345"}),
            "prefs.phone",
        ),
        (
            json!({"channels": ["email"], "email": "not-an-address"}),
            "prefs.email",
        ),
    ] {
        let (s, v) = a.put("/api/v1/me/notice-prefs", body).await;
        assert_eq!((s, v["code"].as_str()), (422, Some(code)), "{v}");
    }
    let (_, v) = a.get("/api/v1/me/notice-prefs").await;
    assert_eq!(v["channels"], json!(["inapp", "sms"]));
    let (s, v) = a
        .put("/api/v1/me/notice-prefs", json!({"channels": ["sms", "email", "inapp"], "phone": PHONE, "email": "qian.qi@example.com"}))
        .await;
    assert_eq!(s, 200, "{v}");

    // Submitted: one SMS, one e-mail and one in-app notice, each saying the case number.
    let number = submitted_case(&a).await;
    until(10, "the submitted SMS", || !gw.to(PHONE).is_empty()).await;
    until(10, "the submitted e-mail", || smtp.count() >= 1).await;
    let sms = gw.to(PHONE);
    assert_eq!(sms.len(), 1);
    assert!(
        sms[0].text.contains(&number) && sms[0].text.contains("/status?n="),
        "{}",
        sms[0].text
    );
    let mails = smtp.mails.lock().unwrap().clone();
    assert_eq!(mails[0].to, vec!["qian.qi@example.com".to_string()]);
    assert!(
        mails[0].message_id.contains("yc-submitted-"),
        "{}",
        mails[0].message_id
    );
    let (_, v) = a.get("/api/v1/me/notices").await;
    let inbox_has = |v: &serde_json::Value, event: &str| {
        v["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["event"] == event)
    };
    let mut v = v;
    for _ in 0..100 {
        if inbox_has(&v, "submitted") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
        v = a.get("/api/v1/me/notices").await.1;
    }
    assert!(inbox_has(&v, "submitted"), "{v}");
    assert_eq!(v["unread"], 1);
    // Marking read reaches the person's notices, found through their cases.
    let newest = v["notices"][0]["id"].as_i64().unwrap();
    let (s, r) = a
        .post("/api/v1/me/notices/read", json!({"up_to": newest}))
        .await;
    assert_eq!((s, r["marked"].as_i64()), (200, Some(1)), "{r}");
    let (_, v) = a.get("/api/v1/me/notices").await;
    assert_eq!(v["unread"], 0, "{v}");
    assert_eq!(v["notices"][0]["read"], true, "{v}");

    // The correction notice lists every problem at once.
    let clerk = Api::login(&app, "clerk.js", PASSWORD).await;
    let (s, v) = clerk
        .post(
            &format!("/api/v1/cases/{number}/corrections"),
            json!({"checks": [
                {"material_code": "M01", "verdict": "wrong", "reason": "未加盖公章"},
                {"material_code": "M03", "verdict": "missing", "reason": "缺少施工方案第3页"}
            ], "note": "请一并补正"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    until(10, "the correction SMS", || gw.to(PHONE).len() >= 2).await;
    let text = gw.to(PHONE)[1].text.clone();
    assert!(
        text.contains("未加盖公章") && text.contains("缺少施工方案第3页"),
        "{text}"
    );

    // A refused step writes no notice: accepting a case waiting for corrections.
    let before = outbox_rows(&app, &number).await;
    let (s, _) = clerk
        .post(&format!("/api/v1/cases/{number}/accept"), json!({}))
        .await;
    assert!(s >= 400);
    assert_eq!(outbox_rows(&app, &number).await, before);

    // Staff who give a phone hear of new tasks by SMS (their in-app inbox is the task list).
    let zjj = Api::login(&app, "360822-zjj.a", PASSWORD).await;
    let (s, v) = zjj
        .put(
            "/api/v1/me/notice-prefs",
            json!({"channels": ["sms"], "phone": "13600001111"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // Fixed and resubmitted, then accepted: the notice gives the promised date.
    let id = app.store.case_id_by_number(&number).await.unwrap().unwrap();
    for m in ["M01", "M03"] {
        let (s, _) = a
            .upload(
                &format!("/api/v1/cases/{id}/materials/{m}"),
                "b.pdf",
                pdf(&format!("fixed {m}")),
            )
            .await;
        assert_eq!(s, 201);
    }
    let (s, _) = a
        .post(&format!("/api/v1/cases/{id}/submit"), json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, v) = clerk
        .post(
            &format!("/api/v1/cases/{number}/accept"),
            json!({"checks": [{"material_code": "M01", "verdict": "ok"}, {"material_code": "M03", "verdict": "ok"}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, case) = a.get(&format!("/api/v1/cases/{number}")).await;
    let promised = case["case"]["deadlines"]["promised"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no promised date in {case}"));
    until(10, "the accepted SMS", || {
        gw.to(PHONE).iter().any(|m| m.text.contains("已受理"))
    })
    .await;
    let accepted = gw
        .to(PHONE)
        .into_iter()
        .find(|m| m.text.contains("已受理"))
        .unwrap();
    assert!(
        accepted.text.contains(&promised),
        "{} / {promised}",
        accepted.text
    );
    until(10, "the reviewer's task SMS", || {
        gw.to("13600001111")
            .iter()
            .any(|m| m.text.contains("新的待办") && m.text.contains(&number))
    })
    .await;

    // The clock stops and restarts: both are told, the restart with the new date.
    let (s, v) = clerk
        .post(
            &format!("/api/v1/cases/{number}/suspend"),
            json!({"kind": "2", "name": "现场勘验", "reason": "需现场核实占道范围"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    until(10, "the clock-stop SMS", || {
        gw.to(PHONE)
            .iter()
            .any(|m| m.text.contains("需现场核实占道范围"))
    })
    .await;
    let (s, v) = clerk
        .post(&format!("/api/v1/cases/{number}/resume"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, case) = a.get(&format!("/api/v1/cases/{number}")).await;
    let moved = case["case"]["deadlines"]["promised"]
        .as_str()
        .unwrap()
        .to_string();
    until(10, "the clock-restart SMS", || {
        gw.to(PHONE)
            .iter()
            .any(|m| m.text.contains("特别程序已结束") && m.text.contains(&moved))
    })
    .await;

    // Review, decision and issue: the decision and the rating invitation reach the applicant.
    let reviewer = app
        .store
        .account_by_login("360822-zjj.a")
        .await
        .unwrap()
        .unwrap()
        .actor("test");
    for _ in 0..5 {
        let open: Vec<i64> = app
            .store
            .case_tasks(id)
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.state == "open")
            .map(|t| t.id)
            .collect();
        if open.is_empty() {
            break;
        }
        for t in open {
            let answer = yichuang_store::flows::TaskAction::Answer {
                consent: true,
                opinion: "同意".into(),
                legal_basis: String::new(),
            };
            app.store.task_action(&reviewer, t, answer).await.unwrap();
        }
    }
    let (_, case) = a.get(&format!("/api/v1/cases/{number}")).await;
    assert_eq!(case["case"]["status"], "completed", "{case}");
    until(10, "the decision SMS", || {
        gw.to(PHONE)
            .iter()
            .any(|m| m.text.contains("已办结：准予办理"))
    })
    .await;
    until(10, "the rating invitation", || {
        gw.to(PHONE).iter().any(|m| m.text.contains("好差评"))
    })
    .await;
    until(10, "the result-ready notice", || {
        gw.to(PHONE)
            .iter()
            .any(|m| m.text.contains("结果文书已制作完成"))
    })
    .await;

    // The delivery log: admins only, addresses masked, the provider's answer kept.
    let (s, _) = clerk.get("/api/v1/admin/deliveries").await;
    assert_eq!(s, 403);
    let admin = Api::login(&app, "admin", PASSWORD).await;
    let mut log = serde_json::Value::Null;
    for _ in 0..200 {
        log = admin
            .get(&format!("/api/v1/admin/deliveries?case={number}&limit=200"))
            .await
            .1;
        let rows = log["deliveries"].as_array().unwrap();
        if rows.iter().all(|r| r["status"] == "sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let rows = log["deliveries"].as_array().unwrap().clone();
    assert!(rows.iter().all(|r| r["status"] == "sent"), "{log}");
    let text = log.to_string();
    assert!(
        !text.contains(PHONE) && !text.contains("qian.qi@"),
        "unmasked: {text}"
    );
    assert!(rows.iter().any(|r| r["recipient"] == "139****5678"));
    assert!(rows.iter().any(|r| r["recipient"] == "q***@example.com"));
    let sms_row = rows.iter().find(|r| r["channel"] == "sms").unwrap();
    assert!(
        sms_row["provider_answer"]
            .as_str()
            .unwrap()
            .starts_with("200"),
        "{sms_row}"
    );
    assert_eq!(sms_row["attempts"], 1);

    // Resend: a new notice with its own key, so the gateway does not drop it as a repeat.
    let n_before = gw.to(PHONE).len();
    let (s, v) = admin
        .post(
            &format!("/api/v1/admin/deliveries/{}/resend", sms_row["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    until(10, "the resent SMS", || gw.to(PHONE).len() == n_before + 1).await;
    assert_eq!(gw.duplicates(), 0);
    assert_eq!(gw.bad_signatures(), 0);

    // Templates: a broken one is refused and the old text stays; a good one is used.
    let (s, v) = admin
        .put(
            "/api/v1/admin/notice-templates/submitted/zh",
            json!({"subject": "已提交", "body": "办件{{ numbr }}已提交"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("template.broken")),
        "{v}"
    );
    let (s, v) = admin
        .put(
            "/api/v1/admin/notice-templates/submitted/zh",
            json!({"subject": "已提交", "body": "{% if %}"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("template.broken")),
        "{v}"
    );
    let (_, v) = admin.get("/api/v1/admin/notice-templates").await;
    let t = v["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["event"] == "submitted" && t["lang"] == "zh")
        .unwrap()
        .clone();
    assert_eq!(t["edited"], false);
    let (s, v) = admin
        .post("/api/v1/admin/notice-templates/preview", json!({"event": "accepted", "subject": "预览", "body": "办件{{ number }}承诺{{ date }}办结", "case": number}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["body"], format!("办件{number}承诺{promised}办结"));
    let (s, v) = admin
        .put("/api/v1/admin/notice-templates/submitted/zh", json!({"subject": "已提交", "body": "【吉水】{{ applicant }}，您的办件{{ number }}已提交。"}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = clerk
        .put(
            "/api/v1/admin/notice-templates/submitted/zh",
            json!({"subject": "x", "body": "y"}),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    let second = submitted_case(&a).await;
    until(10, "the SMS from the edited template", || {
        gw.to(PHONE)
            .iter()
            .any(|m| m.text == format!("【吉水】钱七，您的办件{second}已提交。"))
    })
    .await;

    // The status page without an account, from the receipt's code or the ID's last six.
    let anon = Api::anon(&app);
    let (s, v) = anon
        .get(&format!("/api/v1/public/status?n={number}&s=WRONG1"))
        .await;
    assert_eq!((s, v["code"].as_str()), (404, Some("status.not_found")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_notices() {
    notices(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notices() {
    notices(Db::Postgres).await;
}

/// The status lookup: the receipt's code works, wrong tries slow down and then block the
/// address for a while, with the same answer for a wrong number and a wrong code.
async fn status_brake(db: Db) {
    let gw = Gateway::start().await;
    let smtp = SmtpSink::start().await;
    let Some(app) = start(db, &gw, &smtp).await else {
        return;
    };
    let (a, id_number) = register(&app, "36082219930101124", "13912340000").await;
    let number = submitted_case(&a).await;
    let anon = Api::anon(&app);
    let tail = &id_number[id_number.len() - 6..];
    let (s, v) = anon
        .get(&format!("/api/v1/public/status?n={number}&s={tail}"))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("submitted")), "{v}");
    assert_eq!(v["number"], number.as_str());
    // Five wrong tries answer at once; the next ones are slowed; after the tenth, blocked.
    let t = Instant::now();
    for i in 0..4 {
        let (s, _) = anon
            .get(&format!("/api/v1/public/status?n={number}&s=BAD00{i}"))
            .await;
        assert_eq!(s, 404);
    }
    assert!(
        t.elapsed() < Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    let (s, _) = anon
        .get(&format!("/api/v1/public/status?n={number}&s=BAD005"))
        .await;
    assert_eq!(s, 404);
    let (s, _) = anon
        .get(&format!("/api/v1/public/status?n={number}&s=BAD006"))
        .await;
    assert_eq!(s, 404);
    assert!(
        t.elapsed() >= Duration::from_millis(1000),
        "slowed: {:?}",
        t.elapsed()
    );
    // A burst of ten guesses at once is counted as it arrives: the ones past the tenth wrong
    // try are refused at once, and at most four more are answered at all.
    let mut burst = Vec::new();
    for i in 7..=16 {
        let url = format!("{}/api/v1/public/status?n={number}&s=BAD0{i:02}", app.base);
        burst.push(tokio::spawn(async move {
            support::client().get(url).send().await.unwrap()
        }));
    }
    let mut blocked = None;
    let mut answered = 0;
    for b in burst {
        let r = b.await.unwrap();
        match r.status().as_u16() {
            429 => blocked = Some(r.headers().get("retry-after").cloned()),
            404 => answered += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(answered <= 4, "{answered} of the burst were answered");
    let retry = blocked
        .expect("blocked after ten wrong tries")
        .expect("Retry-After");
    assert!(retry.to_str().unwrap().parse::<u64>().unwrap() > 60);
    // Blocked means blocked: even the right code waits.
    let (s, v) = anon
        .get(&format!("/api/v1/public/status?n={number}&s={tail}"))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (429, Some("status.blocked")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_status_brake() {
    status_brake(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_status_brake() {
    status_brake(Db::Postgres).await;
}

/// A provider that fails, then hangs, then recovers: every notice ends delivered exactly once,
/// and while it is down the worker calls it a handful of times, not once per notice per try.
async fn outage(db: Db) {
    let gw = Gateway::start().await;
    let smtp = SmtpSink::start().await;
    // The outage begins with the gateway refusing the hall's credentials: a pause, not a
    // reason to give every notice up.
    gw.set_mode(Mode::Unauthorized);
    let Some(app) = start(db, &gw, &smtp).await else {
        return;
    };
    let (a, _) = register(&app, "36082219930101125", "13912349999").await;
    const N: usize = 30;
    for _ in 0..N {
        submitted_case(&a).await;
    }
    // Half the outage refused (1 s) then down, half hanging past the client's timeout: 6 s here, a minute with
    // YICHUANG_OUTAGE_SECS=60.
    let secs: u64 = std::env::var("YICHUANG_OUTAGE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    tokio::time::sleep(Duration::from_secs(1)).await;
    gw.set_mode(Mode::Down);
    tokio::time::sleep(Duration::from_secs(secs / 2 - 1)).await;
    gw.set_mode(Mode::Hang);
    tokio::time::sleep(Duration::from_secs(secs - secs / 2)).await;
    let during = gw.requests();
    // The first pass's sends in flight, then at most one probe per shortest pause (0.4 s).
    // Retrying each of the 30 notices on its own 0.1–0.8 s back-off would make hundreds.
    let bound = 10 + secs as usize * 1000 / 400;
    assert!(
        during <= bound,
        "{during} calls to a provider that was down (bound {bound})"
    );
    gw.set_mode(Mode::Up);
    until(30, "every notice delivered after the outage", || {
        gw.to("13912349999").len() == N
    })
    .await;
    let keys: std::collections::HashSet<_> =
        gw.to("13912349999").into_iter().map(|m| m.key).collect();
    assert_eq!(keys.len(), N);
    let counts = app.store.outbox_counts().await.unwrap();
    assert!(
        !counts.iter().any(|(s, n)| s == "given_up" && *n > 0),
        "{counts:?}"
    );
    eprintln!(
        "outage of {secs} s: {during} provider calls while down for {N} notices; {} duplicates",
        gw.duplicates()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_outage() {
    outage(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage() {
    outage(Db::Postgres).await;
}

/// Two workers on one outbox (two processes' worth): every notice goes out once.
async fn shared_outbox(db: Db) {
    let gw = Gateway::start().await;
    // This server delivers nothing itself; the two workers below share the work.
    let Some(app) = support::start_with(db, Config::default()).await else {
        return;
    };
    let (a, _) = register(&app, "36082219930101126", "13912348888").await;
    const N: usize = 40;
    for _ in 0..N {
        submitted_case(&a).await;
    }
    let second = yichuang_store::Store::connect(&app.url).await.unwrap();
    let d = Delivery {
        smtp: None,
        sms: Some(gw.config()),
        policy: policy(),
    };
    gw.set_delay(Duration::from_millis(5));
    let w1 = std::sync::Arc::new(d.deliverer(app.store.clone(), &app.base).unwrap());
    let w2 = std::sync::Arc::new(d.deliverer(second, &app.base).unwrap());
    let h1 = tokio::spawn(w1.run());
    let h2 = tokio::spawn(w2.run());
    until(30, "all delivered by two workers", || {
        gw.to("13912348888").len() == N
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    h1.abort();
    h2.abort();
    assert_eq!(gw.duplicates(), 0, "a notice went out twice");
    // Every call to the gateway was a first send (the demo's own notices included).
    assert_eq!(gw.requests(), gw.accepted().len(), "one call per notice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_shared_outbox() {
    shared_outbox(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_shared_outbox() {
    shared_outbox(Db::Postgres).await;
}

/// Behind the hall's reverse proxy the brake counts the address the proxy adds to
/// X-Forwarded-For, not the entries the client wrote itself.
async fn proxy_brake(db: Db) {
    let config = Config {
        behind_proxy: true,
        ..Config::default()
    };
    let Some(app) = support::start_with(db, config).await else {
        return;
    };
    let url = |code: &str| {
        format!(
            "{}/api/v1/public/status?n=360822-20261201-000001-7&s={code}",
            app.base
        )
    };
    let mut burst = Vec::new();
    for i in 0..12 {
        let u = url(&format!("BAD{i:03}"));
        burst.push(tokio::spawn(async move {
            support::client()
                .get(u)
                .header("x-forwarded-for", "9.9.9.9, 203.0.113.5")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for b in burst {
        codes.push(b.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 2, "{codes:?}");
    let status = |fwd: &'static str| {
        let u = url("BAD999");
        async move {
            support::client()
                .get(u)
                .header("x-forwarded-for", fwd)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // The same client is blocked whatever it claims first; another client is not.
    assert_eq!(status("1.1.1.1, 203.0.113.5").await, 429);
    assert_eq!(status("9.9.9.9, 203.0.113.6").await, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_proxy_brake() {
    proxy_brake(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_proxy_brake() {
    proxy_brake(Db::Postgres).await;
}
