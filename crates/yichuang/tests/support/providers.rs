//! Stand-ins for the notice providers, started by the tests on real ports: an SMTP sink that
//! speaks enough SMTP for lettre, and an SMS gateway that checks the signed request, drops a
//! second send of the same key (as real gateways do) and can be made to fail or hang.
#![allow(dead_code)]

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

pub const SMS_SECRET: &str = "test-shared-secret-0123456789";

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub message_id: String,
    pub data: String,
}

/// An SMTP server that accepts everything and keeps what it got.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let keep = mails.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let keep = keep.clone();
                tokio::spawn(async move {
                    let (r, mut w) = sock.into_split();
                    let mut r = BufReader::new(r);
                    let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                    let mut to = Vec::new();
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let cmd = line.trim_end().to_ascii_uppercase();
                        let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                            b"250 sink\r\n"
                        } else if cmd.starts_with("RCPT TO:") {
                            to.push(
                                line.trim_end()[8..]
                                    .trim()
                                    .trim_matches(['<', '>'])
                                    .to_string(),
                            );
                            b"250 OK\r\n"
                        } else if cmd.starts_with("DATA") {
                            let _ = w.write_all(b"354 go ahead\r\n").await;
                            let mut data = String::new();
                            loop {
                                let mut l = String::new();
                                if r.read_line(&mut l).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if l == ".\r\n" {
                                    break;
                                }
                                data.push_str(&l);
                            }
                            let message_id = data
                                .lines()
                                .find_map(|l| {
                                    l.strip_prefix("Message-ID:")
                                        .or_else(|| l.strip_prefix("Message-Id:"))
                                })
                                .unwrap_or("")
                                .trim()
                                .to_string();
                            keep.lock().unwrap().push(Mail {
                                to: std::mem::take(&mut to),
                                message_id,
                                data,
                            });
                            b"250 queued\r\n"
                        } else if cmd.starts_with("QUIT") {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 OK\r\n"
                        };
                        if w.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpSink { port, mails }
    }

    pub fn count(&self) -> usize {
        self.mails.lock().unwrap().len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Up,
    /// Answers 503.
    Down,
    /// Answers 401, as a gateway does to a rotated secret or a skewed clock.
    Unauthorized,
    /// Never answers (the client's timeout ends it).
    Hang,
}

#[derive(Debug, Clone)]
pub struct Sms {
    pub phone: String,
    pub text: String,
    pub key: String,
}

#[derive(Default)]
struct GwState {
    mode: Mutex<Option<Mode>>,
    delay: Mutex<Duration>,
    accepted: Mutex<Vec<Sms>>,
    seen: Mutex<HashMap<String, usize>>,
    requests: AtomicUsize,
    duplicates: AtomicUsize,
    bad_signatures: AtomicUsize,
}

/// The SMS gateway stand-in.
#[derive(Clone)]
pub struct Gateway {
    pub url: String,
    state: Arc<GwState>,
}

impl Gateway {
    pub async fn start() -> Gateway {
        let state: Arc<GwState> = Arc::default();
        *state.mode.lock().unwrap() = Some(Mode::Up);
        let s2 = state.clone();
        let app = axum::Router::new().route(
            "/sms/send",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let s = s2.clone();
                    async move { handle(&s, &headers, &body).await }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Gateway {
            url: format!("http://{addr}/sms/send"),
            state,
        }
    }

    pub fn config(&self) -> yichuang_notify::channels::SmsConfig {
        yichuang_notify::channels::SmsConfig {
            url: self.url.clone(),
            app_key: "hall-360822".into(),
            secret: SMS_SECRET.into(),
            sign_name: "吉水县政务服务".into(),
            timeout_secs: 1,
        }
    }

    pub fn set_mode(&self, m: Mode) {
        *self.state.mode.lock().unwrap() = Some(m);
    }
    pub fn set_delay(&self, d: Duration) {
        *self.state.delay.lock().unwrap() = d;
    }
    pub fn accepted(&self) -> Vec<Sms> {
        self.state.accepted.lock().unwrap().clone()
    }
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
    pub fn duplicates(&self) -> usize {
        self.state.duplicates.load(Ordering::SeqCst)
    }
    pub fn bad_signatures(&self) -> usize {
        self.state.bad_signatures.load(Ordering::SeqCst)
    }
    pub fn to(&self, phone: &str) -> Vec<Sms> {
        self.accepted()
            .into_iter()
            .filter(|m| m.phone == phone)
            .collect()
    }
}

fn header<'a>(h: &'a axum::http::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn handle(
    s: &GwState,
    h: &axum::http::HeaderMap,
    body: &[u8],
) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    s.requests.fetch_add(1, Ordering::SeqCst);
    // The documented signature, computed here independently of the platform's code.
    let text = format!(
        "POST\n/sms/send\n{}\n{}\n{}",
        header(h, "x-timestamp"),
        header(h, "x-nonce"),
        hex::encode(Sha256::digest(body))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SMS_SECRET.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    let want = hex::encode(mac.finalize().into_bytes());
    if header(h, "x-signature") != want || header(h, "x-app-key") != "hall-360822" {
        s.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"code":"BadSignature"}"#.into(),
        );
    }
    let mode = s.mode.lock().unwrap().unwrap_or(Mode::Up);
    match mode {
        Mode::Down => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"code":"Unavailable"}"#.into(),
            )
        }
        Mode::Unauthorized => {
            return (
                StatusCode::UNAUTHORIZED,
                r#"{"code":"InvalidAccessKey"}"#.into(),
            )
        }
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return (StatusCode::GATEWAY_TIMEOUT, String::new());
        }
        Mode::Up => {}
    }
    let delay = *s.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let key = header(h, "x-idempotency-key").to_string();
    if key.is_empty() || v["key"].as_str() != Some(key.as_str()) {
        return (StatusCode::BAD_REQUEST, r#"{"code":"NoKey"}"#.into());
    }
    let first = {
        let mut seen = s.seen.lock().unwrap();
        let n = seen.entry(key.clone()).or_insert(0);
        *n += 1;
        *n == 1
    };
    if !first {
        s.duplicates.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::OK, r#"{"code":"OK","duplicate":true}"#.into());
    }
    let mut acc = s.accepted.lock().unwrap();
    acc.push(Sms {
        phone: v["phone"].as_str().unwrap_or("").into(),
        text: v["text"].as_str().unwrap_or("").into(),
        key,
    });
    (
        StatusCode::OK,
        format!(r#"{{"code":"OK","biz_id":"{}"}}"#, acc.len()),
    )
}
