//! Starts a real server on a real port against a fresh database, for the integration tests.
#![allow(dead_code)]

pub mod providers;

use std::sync::Arc;
use yichuang_server::{AppState, Config};
use yichuang_store::files::DirStore;
use yichuang_store::Store;

pub struct TestApp {
    pub base: String,
    pub dir: tempfile::TempDir,
    pub store: Store,
    /// The database URL, for a second process-like connection.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// None when PostgreSQL is not on this machine (and not required).
pub async fn start(db: Db) -> Option<TestApp> {
    start_with(db, Config::default()).await
}

pub async fn start_with(db: Db, mut config: Config) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match db {
        Db::Sqlite => format!("sqlite://{}/t.db?mode=rwc", dir.path().display()),
        Db::Postgres => {
            match yichuang_pgtemp::postgres_url() {
                Some(u) => u,
                None => {
                    eprintln!("!!! PostgreSQL binaries not found: skipping the PostgreSQL run of this test");
                    return None;
                }
            }
        }
    };
    let store = Store::connect(&url)
        .await
        .expect("connect")
        .with_utc_offset(config.utc_offset_hours);
    store.migrate().await.expect("migrate");
    let blobs = DirStore::new(dir.path().join("files")).expect("files dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    config.public_url = format!("http://{addr}");
    let state = AppState {
        store: store.clone(),
        blobs: Arc::new(blobs),
        config: Arc::new(config),
    };
    yichuang_server::demo::load(&state).await.expect("demo");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(yichuang_server::serve(state, listener, async {
        let _ = rx.await;
    }));
    // The listener is bound before we return, so the first request cannot be refused.
    Some(TestApp {
        base: format!("http://{addr}"),
        dir,
        store,
        url,
        stop: Some(tx),
    })
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
}

impl Api {
    pub fn anon(app: &TestApp) -> Api {
        Api::anon_at(&app.base)
    }
    /// A client of a server the test did not start in-process (a child process).
    pub fn anon_at(base: &str) -> Api {
        Api {
            base: base.to_string(),
            token: None,
            http: client(),
        }
    }
    pub async fn login(app: &TestApp, login: &str, password: &str) -> Api {
        Api::login_at(&app.base, login, password).await
    }
    pub async fn login_at(base: &str, login: &str, password: &str) -> Api {
        let mut a = Api::anon_at(base);
        let (s, v) = a
            .post(
                "/api/v1/sessions",
                serde_json::json!({"login": login, "password": password}),
            )
            .await;
        assert_eq!(s, 200, "login {login}: {v}");
        a.token = Some(v["token"].as_str().unwrap().to_string());
        a
    }
    fn auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .auth(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self
            .auth(self.http.post(format!("{}{path}", self.base)))
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }
    pub async fn post_keyed(
        &self,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = self
            .auth(self.http.post(format!("{}{path}", self.base)))
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }
    pub async fn put(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self
            .auth(self.http.put(format!("{}{path}", self.base)))
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }
    pub async fn upload(&self, path: &str, name: &str, bytes: Vec<u8>) -> (u16, serde_json::Value) {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        let r = self
            .auth(self.http.post(format!("{}{path}", self.base)))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }
}

pub const PASSWORD: &str = yichuang_server::demo::PASSWORD;

pub fn pdf(tag: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {tag}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n").into_bytes()
}

/// Files under the upload directory, to prove a refused upload left nothing behind.
pub fn stored_files(app: &TestApp) -> usize {
    fn count(p: &std::path::Path) -> usize {
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            count(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&app.dir.path().join("files"))
}
