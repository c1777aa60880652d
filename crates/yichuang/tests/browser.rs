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
    let app = support::start(Db::Sqlite).await.expect("app");
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
    logout(&c).await;

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
