//! The HTML pages, driven as a browser would (forms, CSRF tokens, multipart uploads, cookies).

mod support;

use support::{pdf, Db, PASSWORD};

struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: String,
}

impl Browser {
    fn new(app: &support::TestApp) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            base: app.base.clone(),
            http,
            cookie: String::new(),
        }
    }
    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("accept", "text/html")
            .form(form)
            .send()
            .await
            .unwrap();
        if let Some(c) = r.headers().get("set-cookie") {
            self.cookie = c.to_str().unwrap().split(';').next().unwrap().to_string();
        }
        let status = r.status().as_u16();
        let loc = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        (
            status,
            if status == 303 {
                loc
            } else {
                r.text().await.unwrap()
            },
        )
    }
    async fn upload(&self, path: &str, csrf: &str, bytes: Vec<u8>) -> (u16, String) {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("m.pdf"),
            );
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .multipart(form)
            .send()
            .await
            .unwrap();
        (
            r.status().as_u16(),
            r.headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default(),
        )
    }
}

async fn anon_calendar(app: &support::TestApp) -> (u16, String) {
    Browser::new(app)
        .get("/calendar?year=2026&date=2026-09-30&n=1")
        .await
}

fn csrf(html: &str) -> String {
    let i = html
        .find("name=\"csrf\" value=\"")
        .expect("page has a CSRF field")
        + 19;
    html[i..i + 32].to_string()
}

async fn flow(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let mut a = Browser::new(&app);
    let (s, html) = a.get("/").await;
    assert_eq!(s, 200);
    assert!(html.contains("办事指南") && html.contains("width=device-width"));
    let (s, html) = a.get("/items/360822-ZJJ-XK-002").await;
    assert!(
        s == 200
            && html.contains("承诺办结时限")
            && html.contains("法定办结时限")
            && html.contains("救济途径")
    );
    let (s, loc) = a.get("/my").await;
    assert_eq!(s, 303, "{loc}");

    // Register and log in through the forms; a bad ID number is refused on the page.
    let (s, html) = a
        .post(
            "/register",
            &[
                ("kind", "person"),
                ("name", "周九"),
                ("id_number", "110105194912310021"),
                ("phone", "13800000009"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains("校验码错误"), "{html}");
    let (s, loc) = a
        .post(
            "/register",
            &[
                ("kind", "person"),
                ("name", "周九"),
                ("id_number", "11010519491231002X"),
                ("phone", "13800000009"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!((s, loc.as_str()), (303, "/login?registered=1"));
    let (s, loc) = a
        .post(
            "/login",
            &[("login", "11010519491231002X"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!((s, loc.as_str()), (303, "/my"));

    // A form without the CSRF token changes nothing.
    let (s, _) = a.post("/items/360822-ZJJ-XK-002/apply", &[]).await;
    assert_eq!(s, 403);
    let (_, html) = a.get("/items/360822-ZJJ-XK-002").await;
    let token = csrf(&html);
    let (s, case_url) = a
        .post("/items/360822-ZJJ-XK-002/apply", &[("csrf", &token)])
        .await;
    assert_eq!(s, 303);
    let (s, _) = a
        .post(
            &format!("{case_url}/form"),
            &[
                ("csrf", &token),
                ("f_purpose", "其他"),
                ("f_road_section", "文峰路"),
                ("f_area", "30"),
                ("f_start_date", "2026-12-01"),
                ("f_end_date", "2026-12-02"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    for m in ["M01", "M03"] {
        let (s, _) = a
            .upload(&format!("{case_url}/upload/{m}"), &token, pdf(m))
            .await;
        assert_eq!(s, 303);
    }
    let (s, _) = a
        .post(&format!("{case_url}/submit"), &[("csrf", &token)])
        .await;
    assert_eq!(s, 303);
    let (_, html) = a.get(&case_url).await;
    assert!(html.contains("已提交待受理"), "{html}");

    // The clerk issues one notice; the applicant sees both problems.
    let mut clerk = Browser::new(&app);
    clerk
        .post("/login", &[("login", "clerk.js"), ("password", PASSWORD)])
        .await;
    let (_, queue) = clerk.get("/window").await;
    assert!(queue.contains(&case_url), "queue lacks the case");
    let (_, html) = clerk.get(&case_url).await;
    let ct = csrf(&html);
    let (s, _) = clerk
        .post(
            &format!("{case_url}/decide"),
            &[
                ("csrf", &ct),
                ("v_M01", "wrong"),
                ("r_M01", "未盖章"),
                ("v_M03", "missing"),
                ("r_M03", "缺页"),
                ("action", "corrections"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, html) = a.get(&case_url).await;
    assert!(html.contains("一次性补正告知") && html.contains("未盖章") && html.contains("缺页"));
    for m in ["M01", "M03"] {
        a.upload(
            &format!("{case_url}/upload/{m}"),
            &token,
            pdf(&format!("{m} v2")),
        )
        .await;
    }
    let (s, _) = a
        .post(&format!("{case_url}/submit"), &[("csrf", &token)])
        .await;
    assert_eq!(s, 303);
    let (s, _) = clerk
        .post(
            &format!("{case_url}/decide"),
            &[
                ("csrf", &ct),
                ("v_M01", "ok"),
                ("v_M03", "ok"),
                ("action", "accept"),
            ],
        )
        .await;
    assert_eq!(s, 303);

    // The applicant sees the receipt with the number and a QR code.
    let (s, html) = a.get(&format!("{case_url}/receipt")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("受理通知书") && html.contains("<svg"),
        "{html}"
    );
    let i = html.find("id=\"receipt-number\">").unwrap() + 20;
    let number = &html[i..i + 24];
    assert!(number.starts_with("360822-"), "{number}");
    // The QR code encodes the status page's address with the query code printed beside it;
    // following it without an account shows the case and the stage it is in.
    let i = html.find("查询码：<strong id=\"receipt-code\">").unwrap()
        + "查询码：<strong id=\"receipt-code\">".len();
    let code: String = html[i..].chars().take_while(|c| *c != '<').collect();
    let target = format!("{}/status?n={number}&s={code}", app.base);
    assert!(
        html.contains(&yichuang_server::http::qr::svg(&target)),
        "the receipt's QR code does not encode {target}"
    );
    let (s, status) = Browser::new(&app)
        .get(target.strip_prefix(&app.base).unwrap())
        .await;
    assert_eq!(s, 200);
    assert!(
        status.contains("id=\"status-result\"")
            && status.contains(number)
            && status.contains("stage-current"),
        "{status}"
    );

    // The calendar page answers "when will it be done" and lets an admin mark a county's day.
    let (s, html) = anon_calendar(&app).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("2026-10-08") && html.contains("调休上班"),
        "calendar page"
    );
    let mut admin = Browser::new(&app);
    admin
        .post("/login", &[("login", "admin"), ("password", PASSWORD)])
        .await;
    let (_, html) = admin.get("/calendar?year=2026&region=360822").await;
    let at = csrf(&html);
    let (s, _) = admin
        .post(
            "/calendar/days",
            &[
                ("csrf", &at),
                ("date", "2026-03-02"),
                ("kind", "holiday"),
                ("name", "县庆"),
                ("region", "360822"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, html) = admin.get("/calendar?year=2026&region=360822").await;
    assert!(html.contains("县庆"));
    let (s, _) = admin
        .post(
            "/calendar/days",
            &[
                ("csrf", &at),
                ("date", "2026-03-03"),
                ("kind", "holiday"),
                ("region", "420105"),
            ],
        )
        .await;
    assert_eq!(s, 403, "outside the admin's region");

    // The supervisor's dashboard shows the region's open cases by light; a clerk has none.
    let mut sup = Browser::new(&app);
    sup.post(
        "/login",
        &[("login", "supervisor.js"), ("password", PASSWORD)],
    )
    .await;
    let (s, html) = sup.get("/supervise").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("id=\"count-red\"")
            && html.contains("open-cases")
            && html.contains("light-overdue")
    );
    let (s, html) = sup.get("/supervise?light=red").await;
    assert_eq!(s, 200);
    assert!(
        !html.contains(">超期</span>"),
        "a red filter shows no overdue case"
    );
    let (s, _) = clerk.get("/supervise").await;
    assert_eq!(s, 403);
    // Staff see the case timeline.
    let (_, html) = clerk.get(&case_url).await;
    assert!(html.contains("id=\"timeline\"") && html.contains("一次性告知补正"));

    // The public status page needs the receipt's code.
    let anon = Browser::new(&app);
    let (_, html) = anon.get(&format!("/status?n={number}&s=WRONG1")).await;
    assert!(html.contains("未找到该办件"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pages() {
    flow(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pages() {
    flow(Db::Postgres).await;
}

/// Supervision on the pages: the worker's notices in the inbox, a supervisor's notice by
/// hand and the handler's reply, a reviewer's decision with the working days used, the
/// statistics page and the public 办件公示.
async fn supervision_flow(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let sent = app.store.supervise_tick(app.store.today()).await.unwrap();
    assert!(sent > 0);
    let mut sup = Browser::new(&app);
    sup.post(
        "/login",
        &[("login", "supervisor.js"), ("password", PASSWORD)],
    )
    .await;
    let (_, html) = sup.get("/notices").await;
    assert!(html.contains("督办") && html.contains("预警"), "{html}");
    let (_, html) = sup.get("/supervise?light=red").await;
    let i = html
        .find("href=\"/cases/")
        .expect("a red case on the dashboard")
        + 13;
    let id: String = html[i..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let case_url = format!("/cases/{id}");
    let (_, html) = sup.get(&case_url).await;
    assert!(html.contains("id=\"issue-notice\"") && html.contains("id=\"notices\""));
    let reply_by = (app.store.today() + time::Duration::days(2)).to_string();
    let (s, loc) = sup
        .post(
            &format!("{case_url}/notice"),
            &[
                ("csrf", &csrf(&html)),
                ("comment", "请当日说明超期原因"),
                ("reply_by", &reply_by),
            ],
        )
        .await;
    assert_eq!(
        (s, loc.as_str()),
        (303, format!("{case_url}#notices").as_str())
    );

    let mut clerk = Browser::new(&app);
    clerk
        .post("/login", &[("login", "clerk.js"), ("password", PASSWORD)])
        .await;
    let (_, html) = clerk.get("/notices?mine=true&awaiting_reply=true").await;
    assert!(html.contains("请当日说明超期原因"), "{html}");
    let i = html.find("action=\"/notices/").unwrap() + 17;
    let nid: String = html[i..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let (s, _) = clerk
        .post(
            &format!("/notices/{nid}/reply"),
            &[("csrf", &csrf(&html)), ("reply", "专家评审延期，已报告")],
        )
        .await;
    assert_eq!(s, 303);
    let (_, html) = sup.get(&case_url).await;
    assert!(html.contains("专家评审延期，已报告"));

    // The case's departments work its workflow on the case page until it is concluded: A
    // gives an opinion (a denial without reasons is refused), B approves an A/B proposal.
    let case_id: i64 = id.parse().unwrap();
    let mut staff: std::collections::HashMap<String, Browser> = std::collections::HashMap::new();
    for _ in 0..30 {
        let tasks = app.store.case_tasks(case_id).await.unwrap();
        let Some(t) = tasks
            .iter()
            .find(|t| matches!(t.state.as_str(), "open" | "proposed"))
        else {
            break;
        };
        let login = format!(
            "{}.{}",
            t.department.to_lowercase(),
            if t.state == "proposed" { "b" } else { "a" }
        );
        if !staff.contains_key(&login) {
            let mut b = Browser::new(&app);
            b.post("/login", &[("login", &login), ("password", PASSWORD)])
                .await;
            staff.insert(login.clone(), b);
        }
        let b = staff.get_mut(&login).unwrap();
        let (_, html) = b.get(&case_url).await;
        let ct = csrf(&html);
        let back = format!("{case_url}#flow");
        let (s, loc) = if t.state == "proposed" {
            assert!(
                html.contains(&format!("id=\"approve-{}\"", t.id)),
                "{login} sees B's form"
            );
            b.post(
                &format!("/tasks/{}/approve", t.id),
                &[("csrf", &ct), ("back", &back)],
            )
            .await
        } else {
            assert!(
                html.contains(&format!("id=\"consent-{}\"", t.id)),
                "{login} sees the form"
            );
            let (s, err) = b
                .post(
                    &format!("/tasks/{}/answer", t.id),
                    &[
                        ("csrf", &ct),
                        ("consent", "0"),
                        ("opinion", ""),
                        ("back", &back),
                    ],
                )
                .await;
            assert_eq!(s, 422, "{err}");
            assert!(err.contains("task.reason_required"));
            b.post(
                &format!("/tasks/{}/answer", t.id),
                &[
                    ("csrf", &ct),
                    ("consent", "1"),
                    ("opinion", "同意"),
                    ("back", &back),
                ],
            )
            .await
        };
        assert_eq!((s, loc.as_str()), (303, back.as_str()));
    }
    let (_, html) = sup.get(&case_url).await;
    assert!(
        html.contains("id=\"days-used\"") && html.contains("已办结"),
        "{html}"
    );
    assert!(
        !html.contains("id=\"approve\""),
        "no decision card on a workflow case"
    );
    // From the case to the applicant's one view: this case among all of theirs.
    let i = html
        .find("href=\"/applicants/")
        .expect("staff see the applicant link")
        + 6;
    let link: String = html[i..].chars().take_while(|c| *c != '"').collect();
    let (s, one) = sup.get(&link).await;
    assert_eq!(s, 200);
    assert!(
        one.contains("id=\"applicant-cases\"") && one.contains(&case_url),
        "{one}"
    );
    let (s, v) = sup
        .post(
            &format!("{case_url}/conclude"),
            &[("csrf", &csrf(&html)), ("decision", "approve")],
        )
        .await;
    assert_eq!(s, 403, "{v}");

    let (s, html) = sup.get("/statistics?by=staff").await;
    assert_eq!(s, 200);
    assert!(html.contains("id=\"on-time\"") && html.contains("审核员A角"));
    let (s, html) = Browser::new(&app).get("/public").await;
    assert_eq!(s, 200);
    assert!(html.contains("办件公示") && html.contains("id=\"public-performance\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_supervision_pages() {
    supervision_flow(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_supervision_pages() {
    supervision_flow(Db::Postgres).await;
}

/// Notices on the pages: the applicant's inbox and channel choice (refused without a phone,
/// saved with one), and the admin's templates (preview with a real case, a broken text
/// refused, a good one saved) and delivery log with resend.
async fn notice_pages(db: Db) {
    let Some(app) = support::start(db).await else {
        return;
    };
    let person = yichuang_server::demo::demo_person_id();
    let mut a = Browser::new(&app);
    let (s, _) = a
        .post("/login", &[("login", &person), ("password", PASSWORD)])
        .await;
    assert_eq!(s, 303);
    let (s, html) = a.get("/inbox").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("id=\"inbox\"") && html.contains("id=\"prefs\""),
        "{html}"
    );
    let token = csrf(&html);
    let (s, html) = a
        .post(
            "/inbox/prefs",
            &[
                ("csrf", &token),
                ("email", "1"),
                ("phone", ""),
                ("email_address", ""),
                ("lang", "zh"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(html.contains("prefs.no_email"), "{html}");
    let (s, loc) = a
        .post(
            "/inbox/prefs",
            &[
                ("csrf", &token),
                ("sms", "1"),
                ("inapp", "1"),
                ("phone", "13988887777"),
                ("email_address", ""),
                ("lang", "en"),
            ],
        )
        .await;
    assert_eq!((s, loc.as_str()), (303, "/inbox?saved=1#prefs"));
    let (_, html) = a.get("/inbox?saved=1").await;
    assert!(
        html.contains("13988887777") && html.contains("<option value=\"en\" selected"),
        "{html}"
    );

    let mut admin = Browser::new(&app);
    let (s, _) = admin
        .post("/login", &[("login", "admin"), ("password", PASSWORD)])
        .await;
    assert_eq!(s, 303);
    let (s, html) = admin.get("/admin/notices").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("id=\"deliveries\"") && html.contains("id=\"template-accepted-zh\""),
        "{html}"
    );
    assert!(
        html.contains("未配置短信网关"),
        "the page says SMS has no gateway here"
    );
    let token = csrf(&html);
    let number = app
        .store
        .my_cases(
            &app.store
                .account_by_login(&person)
                .await
                .unwrap()
                .unwrap()
                .actor("t"),
            Default::default(),
        )
        .await
        .unwrap()
        .into_iter()
        .find_map(|c| c.number)
        .expect("a demo case with a number");
    let (s, html) = admin
        .post(
            "/admin/notices/templates/accepted/zh",
            &[
                ("csrf", &token),
                ("subject", "受理"),
                ("body", "办件{{ number }}，{{ item }}"),
                ("case", &number),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&format!("办件{number}，")),
        "preview with the real case"
    );
    let (s, html) = admin
        .post(
            "/admin/notices/templates/accepted/zh",
            &[
                ("csrf", &token),
                ("subject", "受理"),
                ("body", "办件{{ nmber }}"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(html.contains("template.broken"), "{html}");
    let (s, _) = admin
        .post(
            "/admin/notices/templates/accepted/zh",
            &[
                ("csrf", &token),
                ("subject", "受理"),
                ("body", "办件{{ number }}已受理"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, html) = admin.get("/admin/notices").await;
    assert!(html.contains("办件{{ number }}已受理") && html.contains("已修改"));
    let i = html.find("id=\"resend-").expect("a notice to resend") + "id=\"resend-".len();
    let id: String = html[i..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let (s, loc) = admin
        .post(&format!("/admin/notices/{id}/resend"), &[("csrf", &token)])
        .await;
    assert_eq!(s, 303);
    assert!(loc.starts_with("/admin/notices#delivery-"), "{loc}");
    let (s, _) = a.get("/admin/notices").await;
    assert_eq!(s, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_notice_pages() {
    notice_pages(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notice_pages() {
    notice_pages(Db::Postgres).await;
}
