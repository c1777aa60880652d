//! End to end in Debian's headless Chromium through chromedriver: register, apply with an
//! upload, the clerk issues a correction notice, the applicant fixes and resubmits, the clerk
//! accepts, the applicant sees the receipt.

mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Db, PASSWORD};

struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    /// Ends chromedriver. The browser session itself is closed by the test; signalling a
    /// process group from here proved unsafe (it reached processes far outside the test).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn required() -> bool {
    std::env::var("YICHUANG_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// Starts chromedriver and waits until it answers; None when it is not installed.
async fn chromedriver() -> Option<Driver> {
    let bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(bin) = bin else {
        assert!(
            !required(),
            "YICHUANG_REQUIRE_BROWSER=1 but chromedriver is not installed"
        );
        eprintln!("!!! chromedriver not found: skipping the browser test (bash scripts/test.sh installs it)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let deadline = Instant::now() + Duration::from_secs(30);
    let http = reqwest::Client::new();
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/status"))
            .send()
            .await
        {
            if r.status().is_success() {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(Driver {
        child,
        port,
        _profile: tempfile::tempdir().unwrap(),
    })
}

async fn browser(d: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("/usr/bin/chromium");
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": binary,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=412,915", format!("--user-data-dir={}", d._profile.path().display())]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .expect("connect to chromedriver")
}

async fn find(c: &Client, loc: Locator<'_>) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(loc)
        .await
        .unwrap_or_else(|e| panic!("no {loc:?}: {e}"))
}

/// Clicks something that loads a new page and waits until the old page is gone.
async fn click(c: &Client, css: &str) {
    let old = find(c, Locator::Css("html")).await;
    find(c, Locator::Css(css)).await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while old.tag_name().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "clicking {css} did not load a page"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn fill(c: &Client, id: &str, text: &str) {
    let e = find(c, Locator::Id(id)).await;
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

async fn select(c: &Client, id: &str, value: &str) {
    find(c, Locator::Id(id))
        .await
        .select_by_value(value)
        .await
        .unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    find(c, Locator::Css(css)).await.text().await.unwrap()
}

async fn login(c: &Client, base: &str, login: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "login", login).await;
    fill(c, "password", PASSWORD).await;
    click(c, "main form button[type=submit]").await;
}

async fn logout(c: &Client) {
    click(c, "form[action='/logout'] button").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_correction_round_trip() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    // In-app notices are delivered by the server's own worker, as in a hall.
    let config = yichuang_server::Config {
        delivery: Some(yichuang_server::Delivery {
            policy: yichuang_notify::Policy {
                idle: std::time::Duration::from_millis(50),
                ..Default::default()
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let app = support::start_with(Db::Sqlite, config).await.expect("app");
    let base = app.base.clone();
    let c = browser(&driver).await;
    let files = tempfile::tempdir().unwrap();
    let upload = |name: &str, tag: &str| {
        let p = files.path().join(name);
        std::fs::write(&p, support::pdf(tag)).unwrap();
        p.display().to_string()
    };

    // Chinese first: the switch sets the language whatever the browser asks for.
    c.goto(&format!("{base}/lang/zh")).await.unwrap();
    // Register as a person and log in.
    c.goto(&format!("{base}/register")).await.unwrap();
    fill(&c, "name", "吴十").await;
    fill(&c, "id_number", "11010519491231002X").await;
    fill(&c, "phone", "13800000010").await;
    fill(&c, "password", PASSWORD).await;
    click(&c, "main form button[type=submit]").await;
    let page = c.source().await.unwrap();
    assert!(page.contains("注册成功"), "{page}");
    login(&c, &base, "11010519491231002X").await;

    // Apply: the form, two uploads, submit.
    c.goto(&format!("{base}/items/360822-ZJJ-XK-002"))
        .await
        .unwrap();
    click(&c, "form[action$='/apply'] button").await;
    let case_url = c.current_url().await.unwrap().to_string();
    select(&c, "f_purpose", "施工临时用电线路敷设").await;
    fill(&c, "f_road_section", "文峰大道东段").await;
    fill(&c, "f_area", "120").await;
    c.execute("document.getElementById('f_start_date').value='2026-12-01';document.getElementById('f_end_date').value='2026-12-20';", vec![]).await.unwrap();
    click(&c, "#save-draft").await;
    for m in ["M01", "M03"] {
        find(&c, Locator::Id(&format!("file_{m}")))
            .await
            .send_keys(&upload(&format!("{m}.pdf"), m))
            .await
            .unwrap();
        click(&c, &format!("#upload_{m}")).await;
    }
    click(&c, "#submit").await;
    assert_eq!(text(&c, "#case-status").await, "已提交待受理");
    let number = text(&c, "#case-number").await;
    assert!(number.starts_with("360822-"), "{number}");
    logout(&c).await;

    // The clerk finds it in the queue and issues one correction notice.
    login(&c, &base, "clerk.js").await;
    assert!(
        c.source().await.unwrap().contains(&number),
        "queue lacks {number}"
    );
    click(
        &c,
        &format!("a[href='{}']", case_url.trim_start_matches(&base)),
    )
    .await;
    select(&c, "v_M01", "wrong").await;
    fill(&c, "r_M01", "未加盖公章").await;
    select(&c, "v_M03", "missing").await;
    fill(&c, "r_M03", "缺少施工方案").await;
    click(&c, "#corrections").await;
    assert_eq!(text(&c, "#case-status").await, "待补齐补正");
    logout(&c).await;

    // The applicant sees the whole list, fixes everything and resubmits.
    login(&c, &base, "11010519491231002X").await;
    c.goto(&case_url).await.unwrap();
    let notice = text(&c, "#correction-notice").await;
    assert!(
        notice.contains("未加盖公章") && notice.contains("缺少施工方案"),
        "{notice}"
    );
    for m in ["M01", "M03"] {
        find(&c, Locator::Id(&format!("file_{m}")))
            .await
            .send_keys(&upload(&format!("{m}-v2.pdf"), &format!("{m} v2")))
            .await
            .unwrap();
        click(&c, &format!("#upload_{m}")).await;
    }
    click(&c, "#submit").await;
    assert_eq!(text(&c, "#case-status").await, "已提交待受理");
    logout(&c).await;

    // The clerk accepts.
    login(&c, &base, "clerk.js").await;
    c.goto(&case_url).await.unwrap();
    select(&c, "v_M01", "ok").await;
    select(&c, "v_M03", "ok").await;
    click(&c, "#accept").await;
    assert_eq!(text(&c, "#case-status").await, "办理中");
    logout(&c).await;

    // The applicant opens the receipt: number and QR code.
    login(&c, &base, "11010519491231002X").await;
    c.goto(&case_url).await.unwrap();
    click(&c, "#receipt-link").await;
    assert_eq!(text(&c, "#receipt-number").await, number);
    assert!(
        c.find(Locator::Css("#receipt svg")).await.is_ok(),
        "receipt has no QR code"
    );
    let png = c.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join("yichuang-receipt.png"), png).unwrap();
    // The QR code's address (the pages test checks the code encodes exactly this), opened
    // by someone without an account: the case, its status and the stage it is in.
    let code = text(&c, "#receipt-code").await;
    logout(&c).await;
    c.goto(&format!("{base}/status?n={number}&s={code}"))
        .await
        .unwrap();
    let found = text(&c, "#status-result").await;
    assert!(
        found.contains(&number) && found.contains("办理中"),
        "{found}"
    );
    assert!(c.find(Locator::Css(".stage-current")).await.is_ok());

    // The housing department works the item's workflow the same day — review, decision,
    // issue of the permit — on the case page: no working day used, within every limit.
    login(&c, &base, "reviewer.js").await;
    c.goto(&case_url).await.unwrap();
    for (stage, opinion) in [(0, "材料齐全"), (1, "准予许可"), (2, "已制证送达")] {
        assert!(
            text(&c, &format!("#stage-{stage}"))
                .await
                .contains("进行中"),
            "stage {stage} is current"
        );
        find(&c, Locator::Css("#flow textarea[id^='opinion-']"))
            .await
            .send_keys(opinion)
            .await
            .unwrap();
        click(&c, "#flow button[id^='consent-']").await;
    }
    assert_eq!(text(&c, "#case-status").await, "已办结");
    assert!(text(&c, "#flow").await.contains("准予许可"));
    assert_eq!(text(&c, "#days-used").await, "0");
    assert_eq!(text(&c, "#on-time").await, "承诺时限内办结");
    logout(&c).await;

    // The applicant's inbox tells the story: accepted with its date, the result, the rating.
    login(&c, &base, "11010519491231002X").await;
    let mut inbox = String::new();
    for _ in 0..100 {
        c.goto(&format!("{base}/inbox")).await.unwrap();
        inbox = text(&c, "#inbox").await;
        if inbox.contains("请您评价") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for want in ["申请已提交", "请补正材料", "已受理", "办理结果", "请您评价"]
    {
        assert!(inbox.contains(want), "inbox lacks {want}: {inbox}");
    }
    logout(&c).await;

    // The supervisor's dashboard drills down from a count to the red cases; the public
    // 办件公示 counts the case just concluded.
    login(&c, &base, "supervisor.js").await;
    c.goto(&format!("{base}/supervise")).await.unwrap();
    let reds: i64 = text(&c, "#count-red").await.trim().parse().unwrap();
    assert!(reds >= 1);
    click(&c, "a.light-red").await;
    let rows = c
        .find_all(Locator::Css("#open-cases tr"))
        .await
        .unwrap()
        .len() as i64;
    assert_eq!(rows - 1, reds, "one row per red case under the header");
    logout(&c).await;
    c.goto(&format!("{base}/public")).await.unwrap();
    let table = text(&c, "#public-performance").await;
    assert!(table.contains("临时占用、挖掘城市道路审批"), "{table}");
    c.close().await.unwrap();
}

/// Seed 004 in the browser: the construction bundle applied for once, accepted once, the
/// planning permit's parallel review answered by three departments with the fourth silent and
/// consenting by default, its decision and issue; the other parts' departments work through
/// the API; the applicant sees the whole bundle concluded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_construction_bundle() {
    let Some(driver) = chromedriver().await else {
        return;
    };
    let app = support::start(Db::Sqlite).await.expect("app");
    let base = app.base.clone();
    // The demo's own silent department is settled first, as the worker would at start.
    app.store.flow_tick(app.store.today()).await.unwrap();
    let c = browser(&driver).await;
    let files = tempfile::tempdir().unwrap();
    c.goto(&format!("{base}/lang/zh")).await.unwrap();
    let firm = yichuang_server::demo::demo_enterprise_uscc();
    login(&c, &base, &firm).await;
    let code = "360822-YJS-GCJS-001";
    c.goto(&format!("{base}/bundles/{code}")).await.unwrap();
    click(&c, "#apply-bundle").await;
    let bundle_url = c.current_url().await.unwrap().to_string();
    let guide = app.store.bundle_guide(code).await.unwrap();
    for f in &guide.fields {
        let id = format!("f_{}", f.key);
        match f.kind {
            yichuang_core::catalog::FieldKind::Select => select(&c, &id, &f.options[0]).await,
            yichuang_core::catalog::FieldKind::Date => {
                c.execute(
                    &format!("document.getElementById('{id}').value='2026-12-15';"),
                    vec![],
                )
                .await
                .unwrap();
            }
            yichuang_core::catalog::FieldKind::Number => fill(&c, &id, "1200").await,
            yichuang_core::catalog::FieldKind::Text => fill(&c, &id, "吉水县示范综合楼").await,
        }
    }
    click(&c, "#save-bundle").await;
    for (i, m) in guide.materials.iter().enumerate() {
        if !m.required {
            continue;
        }
        let p = files.path().join(format!("m{i}.pdf"));
        std::fs::write(&p, support::pdf(&m.name)).unwrap();
        find(&c, Locator::Id(&format!("bfile_{i}")))
            .await
            .send_keys(&p.display().to_string())
            .await
            .unwrap();
        click(&c, &format!("#bupload_{i}")).await;
        find(&c, Locator::Id(&format!("uploaded-{i}"))).await;
    }
    click(&c, "#submit-bundle").await;
    assert_eq!(text(&c, "#bundle-status").await, "已提交待受理");
    logout(&c).await;

    // One acceptance at the window for all four items.
    login(&c, &base, "clerk.js").await;
    c.goto(&bundle_url).await.unwrap();
    click(&c, "#accept-bundle").await;
    assert_eq!(text(&c, "#bundle-status").await, "各事项并行办理中");
    logout(&c).await;

    let app_id: i64 = bundle_url.rsplit('/').next().unwrap().parse().unwrap();
    let owner = app
        .store
        .account_by_login(&firm)
        .await
        .unwrap()
        .unwrap()
        .actor("test");
    let parts = app.store.bundle_app(&owner, app_id).await.unwrap().parts;
    let planning = parts
        .iter()
        .find(|p| p.item_code == "360822-ZRZYJ-XK-003")
        .unwrap()
        .case_id;
    // The planning permit's departments work in the browser: A/B review, then three of the
    // four departments of the parallel review.
    let mut who = String::new();
    let mut steps = 0;
    loop {
        let tasks = app.store.case_tasks(planning).await.unwrap();
        let Some(t) = tasks.iter().find(|t| {
            matches!(t.state.as_str(), "open" | "proposed") && t.department != "360822-RFB"
        }) else {
            break;
        };
        let login_as = format!(
            "{}.{}",
            t.department.to_lowercase(),
            if t.state == "proposed" { "b" } else { "a" }
        );
        if login_as != who {
            if !who.is_empty() {
                logout(&c).await;
            }
            login(&c, &base, &login_as).await;
            who = login_as;
        }
        c.goto(&format!("{base}/cases/{planning}")).await.unwrap();
        if t.state == "proposed" {
            click(&c, &format!("#approve-{}", t.id)).await;
        } else {
            fill(&c, &format!("opinion-{}", t.id), "同意").await;
            click(&c, &format!("#consent-{}", t.id)).await;
        }
        steps += 1;
        assert!(steps < 20, "the planning permit's workflow did not settle");
    }
    // The civil air defence office stays silent; the worker's clock consents for it once its
    // limit has passed, and the case moves on to the decision.
    let later = app.store.today() + time::Duration::days(10);
    assert!(app.store.flow_tick(later).await.unwrap() >= 1);
    assert!(app
        .store
        .case_tasks(planning)
        .await
        .unwrap()
        .iter()
        .any(|t| t.department == "360822-RFB" && t.by_default));
    loop {
        let tasks = app.store.case_tasks(planning).await.unwrap();
        let Some(t) = tasks.iter().find(|t| t.state == "open") else {
            break;
        };
        let login_as = format!("{}.a", t.department.to_lowercase());
        if login_as != who {
            logout(&c).await;
            login(&c, &base, &login_as).await;
            who = login_as;
        }
        c.goto(&format!("{base}/cases/{planning}")).await.unwrap();
        fill(&c, &format!("opinion-{}", t.id), "准予许可").await;
        click(&c, &format!("#consent-{}", t.id)).await;
    }
    let flow = text(&c, "#flow").await;
    assert!(flow.contains("逾期未答复，默认同意"), "{flow}");
    logout(&c).await;

    // The other three permits' departments work through the API.
    let mut apis: std::collections::HashMap<String, support::Api> = Default::default();
    for _ in 0..40 {
        let mut next = None;
        for p in &parts {
            if let Some(t) = app
                .store
                .case_tasks(p.case_id)
                .await
                .unwrap()
                .into_iter()
                .find(|t| matches!(t.state.as_str(), "open" | "proposed"))
            {
                next = Some(t);
                break;
            }
        }
        let Some(t) = next else { break };
        let login_as = format!(
            "{}.{}",
            t.department.to_lowercase(),
            if t.state == "proposed" { "b" } else { "a" }
        );
        if !apis.contains_key(&login_as) {
            apis.insert(
                login_as.clone(),
                support::Api::login(&app, &login_as, PASSWORD).await,
            );
        }
        let (action, body) = if t.state == "proposed" {
            ("approve", serde_json::json!({}))
        } else {
            (
                "answer",
                serde_json::json!({"consent": true, "opinion": "同意"}),
            )
        };
        let (s, v) = apis[&login_as]
            .post(&format!("/api/v1/tasks/{}/{action}", t.id), body)
            .await;
        assert_eq!(s, 200, "{v}");
    }

    // The applicant sees one bundle, concluded, with its four parts.
    login(&c, &base, &firm).await;
    c.goto(&bundle_url).await.unwrap();
    assert_eq!(text(&c, "#bundle-status").await, "已全部办结");
    let rows = c
        .find_all(Locator::Css("#bundle-parts tr"))
        .await
        .unwrap()
        .len();
    assert_eq!(rows, 5, "four parts under the header");
    c.close().await.unwrap();
}
