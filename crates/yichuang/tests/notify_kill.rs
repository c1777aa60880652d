//! The outbox survives a real kill: the `yichuang serve` binary is killed (SIGKILL) in the
//! middle of a burst of submissions while notices are being sent to a slow SMS gateway, then
//! started again on the same database. Every committed step's notice reaches the gateway; a
//! notice sent twice (claimed, sent, killed before recording) is absorbed by its key.

mod support;

use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::providers::Gateway;
use support::{pdf, Api, Db, PASSWORD};

const PHONE: &str = "13700001111";

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve(config: &std::path::Path, base: &str) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_yichuang"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start yichuang serve");
    let s = Server { child };
    let http = support::client();
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return s;
            }
        }
        assert!(Instant::now() < end, "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn kill_mid_burst(db: Db) {
    let url = match db {
        Db::Sqlite => None,
        Db::Postgres => {
            match yichuang_pgtemp::postgres_url() {
                Some(u) => Some(u),
                None => {
                    eprintln!("!!! PostgreSQL binaries not found: skipping the PostgreSQL run of this test");
                    return;
                }
            }
        }
    };
    let gw = Gateway::start().await;
    // Slow enough that notices pile up behind the burst and some are mid-send at the kill.
    gw.set_delay(Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let database_url =
        url.unwrap_or_else(|| format!("sqlite://{}/k.db?mode=rwc", dir.path().display()));
    let cfg = dir.path().join("yichuang.toml");
    std::fs::write(
        &cfg,
        format!(
            "database_url = \"{database_url}\"\ndata_dir = \"{}\"\nlisten = \"127.0.0.1:{port}\"\nsupervision_every_secs = 0\n\
             [notify]\nlease_secs = 2\n[notify.sms]\nurl = \"{}\"\napp_key = \"hall-360822\"\nsecret = \"{}\"\nsign_name = \"吉水县政务服务\"\ntimeout_secs = 2\n",
            dir.path().display(),
            gw.url,
            support::providers::SMS_SECRET
        ),
    )
    .unwrap();
    let server = serve(&cfg, &base).await;
    let id17 = "36082219950505123";
    let id = format!(
        "{id17}{}",
        yichuang_core::ResidentId::check_char(id17) as char
    );
    let (s, v) = Api::anon_at(&base)
        .post("/api/v1/accounts", json!({"kind": "person", "name": "孙八", "id_number": id, "phone": PHONE, "password": PASSWORD}))
        .await;
    assert_eq!(s, 201, "{v}");
    let a = Api::login_at(&base, &id, PASSWORD).await;
    // Drafts ready beforehand; the burst is the submissions.
    const N: usize = 60;
    let mut drafts = Vec::new();
    for i in 0..N {
        let (s, v) = a
            .post("/api/v1/cases", json!({"item_code": "360822-ZJJ-XK-002", "form": {"purpose": "施工临时用电线路敷设", "road_section": "文峰大道东段", "area": "120", "start_date": "2026-12-01", "end_date": "2026-12-20"}}))
            .await;
        assert_eq!(s, 201, "{v}");
        let cid = v["id"].as_i64().unwrap();
        for m in ["M01", "M03"] {
            let (s, _) = a
                .upload(
                    &format!("/api/v1/cases/{cid}/materials/{m}"),
                    "a.pdf",
                    pdf(&format!("k{i}{m}")),
                )
                .await;
            assert_eq!(s, 201);
        }
        drafts.push(cid);
    }
    // The burst runs on its own task; the kill comes in the middle of it.
    let (http, token) = (a.http.clone(), a.token.clone().unwrap());
    let b2 = base.clone();
    let burst = tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        let mut refused = 0;
        for cid in drafts {
            let r = http
                .post(format!("{b2}/api/v1/cases/{cid}/submit"))
                .bearer_auth(&token)
                .json(&json!({}))
                .send()
                .await;
            match r {
                Ok(r) if r.status() == 200 => {
                    let v: serde_json::Value = r.json().await.unwrap_or_default();
                    acknowledged.push(v["number"].as_str().unwrap_or("").to_string());
                }
                _ => refused += 1,
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        (acknowledged, refused)
    });
    // Kill once some notices have gone out and more steps are still to come.
    let end = Instant::now() + Duration::from_secs(30);
    while gw.to(PHONE).len() < 5 {
        assert!(Instant::now() < end, "no notice went out before the kill");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(server);
    let at_kill = gw.to(PHONE).len();
    let (acknowledged, refused) = burst.await.unwrap();
    assert!(
        refused > 0,
        "the burst ended before the kill; the test proves nothing"
    );
    assert!(
        at_kill < N,
        "everything was sent before the kill; the test proves nothing"
    );
    // Start again on the same database: the rest goes out.
    let _server = serve(&cfg, &base).await;
    let store = yichuang_store::Store::connect(&database_url).await.unwrap();
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let pending: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE channel = 'sms' AND address = $1 AND status <> 'sent'",
        )
        .bind(PHONE)
        .fetch_one(store.pool())
        .await
        .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            Instant::now() < end,
            "{pending} notices still pending after restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every submission that committed (acknowledged or not) has its notice at the gateway.
    let committed: Vec<String> = sqlx::query_scalar(
        "SELECT c.number FROM cases c JOIN accounts a ON a.id = c.applicant_id WHERE a.phone = $1 AND c.status = 'submitted'",
    )
    .bind(PHONE)
    .fetch_all(store.pool())
    .await
    .unwrap();
    let delivered = gw.to(PHONE);
    for n in &acknowledged {
        assert!(committed.contains(n), "acknowledged {n} is not committed");
    }
    for n in &committed {
        assert_eq!(
            delivered
                .iter()
                .filter(|m| m.text.contains(n.as_str()))
                .count(),
            1,
            "case {n}: its notice must reach the gateway exactly once"
        );
    }
    let rows: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE channel = 'sms' AND address = $1",
    )
    .bind(PHONE)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        rows as usize,
        committed.len(),
        "one SMS notice per committed step"
    );
    assert_eq!(delivered.len(), committed.len());
    eprintln!(
        "kill test: {} of {N} submissions acknowledged ({refused} refused by the dead server), {} committed, {at_kill} delivered before the kill, {} repeats absorbed by the key",
        acknowledged.len(),
        committed.len(),
        gw.duplicates()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_mid_burst() {
    kill_mid_burst(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kill_mid_burst() {
    kill_mid_burst(Db::Postgres).await;
}
