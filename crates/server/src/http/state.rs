//! What every handler is given: the store, the file store and the configuration.

use std::sync::Arc;
use yichuang_store::files::BlobStore;
use yichuang_store::Store;

#[derive(Clone)]
pub struct Config {
    /// Largest accepted upload, bytes.
    pub max_upload: usize,
    /// Hall time zone offset from UTC, hours (Asia/Shanghai: 8).
    pub utc_offset_hours: i8,
    /// Session idle lifetime, minutes (等保 common practice: 10 for staff; applicants get longer).
    pub staff_session_minutes: i64,
    pub applicant_session_minutes: i64,
    /// Base URL printed on receipts' QR codes, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
    /// How often the supervision worker looks for warnings and notices that are due; none:
    /// this process runs no worker (another one does, or a test drives it).
    pub supervision_every: Option<std::time::Duration>,
    /// The notice delivery worker; none: this process delivers nothing (another one does, or
    /// a test drives it).
    pub delivery: Option<Delivery>,
    /// Behind the hall's reverse proxy: client addresses come from the X-Forwarded-For entry
    /// the proxy adds. Off, the header is ignored (anyone could write it).
    pub behind_proxy: bool,
}

/// Which providers notices go to, and how hard to try. In-app delivery needs none.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub smtp: Option<yichuang_notify::channels::SmtpConfig>,
    pub sms: Option<yichuang_notify::channels::SmsConfig>,
    pub policy: yichuang_notify::Policy,
}

impl Delivery {
    /// The worker for this configuration; a bad provider setting is an error at start-up.
    pub fn deliverer(
        &self,
        store: Store,
        public_url: &str,
    ) -> Result<yichuang_notify::Deliverer, String> {
        use yichuang_notify::channels::{HttpSms, Inapp, Smtp};
        let mut adapters: Vec<Arc<dyn yichuang_notify::Adapter>> = vec![Arc::new(Inapp)];
        if let Some(c) = &self.smtp {
            adapters.push(Arc::new(Smtp::new(c)?));
        }
        if let Some(c) = &self.sms {
            adapters.push(Arc::new(HttpSms::new(c)?));
        }
        Ok(yichuang_notify::Deliverer::new(
            store,
            adapters,
            self.policy.clone(),
            public_url,
        ))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_upload: 20 * 1024 * 1024,
            utc_offset_hours: 8,
            staff_session_minutes: 10,
            applicant_session_minutes: 60,
            public_url: "http://127.0.0.1:8080".into(),
            supervision_every: None,
            delivery: None,
            behind_proxy: false,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub blobs: Arc<dyn BlobStore>,
    pub config: Arc<Config>,
}
