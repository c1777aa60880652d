//! The channel adapters. Each turns a rendered notice into one provider call and says whether
//! a failure is worth retrying.

use crate::{Adapter, SendError};
use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::time::Duration;
use yichuang_core::notify::Channel;
use yichuang_store::notify::Outgoing;

/// The in-app inbox: the notice row itself is the delivery; once recorded as sent it shows in
/// the person's inbox.
pub struct Inapp;

impl Adapter for Inapp {
    fn channel(&self) -> Channel {
        Channel::Inapp
    }
    fn send<'a>(&'a self, _n: &'a Outgoing) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async { Ok("in inbox".to_string()) })
    }
}

/// Where e-mail goes: an SMTP relay (the hall's or the province's mail server).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// The sender, e.g. `一窗通知 <notice@hall.example.gov.cn>`.
    pub from: String,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_smtp_port() -> u16 {
    25
}
fn default_timeout_secs() -> u64 {
    10
}

/// E-mail over SMTP (lettre). The notice's key is the message's Message-ID, so a relay or
/// mailbox that sees the same message twice can tell.
pub struct Smtp {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl Smtp {
    /// Plain SMTP to a relay on the hall's own network; TLS to outside relays is not built yet.
    pub fn new(c: &SmtpConfig) -> Result<Smtp, String> {
        let from = c
            .from
            .parse()
            .map_err(|e| format!("smtp.from '{}': {e}", c.from))?;
        let transport =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(&c.host)
                .port(c.port)
                .timeout(Some(Duration::from_secs(c.timeout_secs)))
                .build();
        Ok(Smtp { transport, from })
    }
}

impl Adapter for Smtp {
    fn channel(&self) -> Channel {
        Channel::Email
    }
    fn send<'a>(&'a self, n: &'a Outgoing) -> BoxFuture<'a, Result<String, SendError>> {
        use lettre::AsyncTransport;
        Box::pin(async move {
            let to: lettre::message::Mailbox = n
                .address
                .parse()
                .map_err(|e| SendError::Permanent(format!("address: {e}")))?;
            let msg = lettre::Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(n.subject.clone())
                .message_id(Some(format!("<{}@yichuang>", n.idem_key)))
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(n.body.clone())
                .map_err(|e| SendError::Permanent(format!("message: {e}")))?;
            match self.transport.send(msg).await {
                Ok(r) => Ok(format!(
                    "{} {}",
                    r.code(),
                    r.message().collect::<Vec<_>>().join(" ")
                )),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                Err(e) => Err(SendError::Temporary(e.to_string())),
            }
        })
    }
}

/// An SMS gateway reached over HTTP with a signed request, the common shape of Chinese SMS
/// gateways (an app key, a shared secret, an HMAC over the request).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// The gateway's send endpoint, e.g. `http://sms.gov.example/api/v1/send`.
    pub url: String,
    pub app_key: String,
    pub secret: String,
    /// The registered signature shown before the text, e.g. `吉水县政务服务`.
    pub sign_name: String,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

/// The signature the gateway checks: hex HMAC-SHA256, keyed with the shared secret, over
/// `POST\n{path}\n{timestamp}\n{nonce}\n{hex sha256 of the body}`.
pub fn sms_signature(
    secret: &[u8],
    path: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    let text = format!(
        "POST\n{path}\n{timestamp}\n{nonce}\n{}",
        hex::encode(Sha256::digest(body))
    );
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub struct HttpSms {
    client: reqwest::Client,
    url: reqwest::Url,
    app_key: String,
    secret: Vec<u8>,
    sign_name: String,
}

impl HttpSms {
    pub fn new(c: &SmsConfig) -> Result<HttpSms, String> {
        let url = reqwest::Url::parse(&c.url).map_err(|e| format!("sms.url '{}': {e}", c.url))?;
        if c.secret.len() < 16 {
            return Err("sms.secret must be at least 16 characters".into());
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(c.timeout_secs))
            .build()
            .map_err(|e| format!("sms client: {e}"))?;
        Ok(HttpSms {
            client,
            url,
            app_key: c.app_key.clone(),
            secret: c.secret.as_bytes().to_vec(),
            sign_name: c.sign_name.clone(),
        })
    }
}

impl Adapter for HttpSms {
    fn channel(&self) -> Channel {
        Channel::Sms
    }
    fn send<'a>(&'a self, n: &'a Outgoing) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(async move {
            let body = serde_json::json!({
                "phone": n.address,
                "sign_name": self.sign_name,
                "text": n.body,
                "key": n.idem_key,
            })
            .to_string();
            let ts = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
            let nonce = format!("{:016x}", rand::random::<u64>());
            let sig = sms_signature(&self.secret, self.url.path(), &ts, &nonce, body.as_bytes());
            let resp = self
                .client
                .post(self.url.clone())
                .header("content-type", "application/json")
                .header("x-app-key", &self.app_key)
                .header("x-timestamp", &ts)
                .header("x-nonce", &nonce)
                .header("x-signature", sig)
                .header("x-idempotency-key", &n.idem_key)
                .body(body)
                .send()
                .await
                .map_err(|e| SendError::Temporary(format!("gateway: {e}")))?;
            let status = resp.status();
            let text: String = resp
                .text()
                .await
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect();
            let answer = format!("{} {}", status.as_u16(), text.trim());
            if status.is_success() {
                Ok(answer)
            } else if status.is_server_error() || matches!(status.as_u16(), 401 | 403 | 408 | 429) {
                // 401/403 are the hall's credentials or clock, not this notice: retried, and
                // the breaker pauses the channel, instead of every notice being given up.
                Err(SendError::Temporary(answer))
            } else {
                Err(SendError::Permanent(answer))
            }
        })
    }
}
