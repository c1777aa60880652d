//! The HTTP face of Yichuang: JSON API under `/api/v1/`, server-rendered pages for every role,
//! sessions and role checks. `build` is used by the binary and by the tests alike.

pub mod api;
pub mod auth;
pub mod bundle_pages;
pub mod bundles;
pub mod calendar;
pub mod demo;
pub mod error;
pub mod i18n;
pub mod notify;
pub mod notify_pages;
pub mod pages;
pub mod qr;
pub mod supervision;
pub mod supervision_pages;
pub mod uploads;
pub mod workflow;
pub mod workflow_pages;

use axum::extract::DefaultBodyLimit;
use axum::Router;
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

pub fn router(state: AppState) -> Router {
    pages::set_hall_offset(state.config.utc_offset_hours);
    let limit = state.config.max_upload + 64 * 1024;
    Router::new()
        .merge(api::routes())
        .merge(calendar::routes())
        .merge(notify::routes())
        .merge(notify_pages::routes())
        .merge(supervision::routes())
        .merge(workflow::routes())
        .merge(bundles::routes())
        .merge(bundle_pages::routes())
        .merge(workflow_pages::routes())
        .merge(pages::routes())
        .merge(supervision_pages::routes())
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Serves until `shutdown` resolves, with the supervision worker when configured.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = state
        .config
        .supervision_every
        .map(|every| spawn_supervision(state.store.clone(), every));
    let delivery = match &state.config.delivery {
        Some(d) => {
            let w = d
                .deliverer(state.store.clone(), &state.config.public_url)
                .map_err(std::io::Error::other)?;
            Some(tokio::spawn(Arc::new(w).run()))
        }
        None => None,
    };
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    for w in [worker, delivery].into_iter().flatten() {
        w.abort();
    }
    served
}

/// The supervision worker: every `every`, sends the warnings and notices that have come due.
/// Safe to run in several processes against one database (each case is claimed once), and
/// safe to stop at any moment (a tick's claims commit with their notices or not at all).
pub fn spawn_supervision(store: Store, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let today = store.today();
            match store.flow_tick(today).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    consents = n,
                    "default consent recorded for silent departments"
                ),
                Err(e) => tracing::warn!(error = %e, "workflow clock failed; retrying next tick"),
            }
            match store.step_tick(today).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sent = n, "step supervision notices sent"),
                Err(e) => tracing::warn!(error = %e, "step supervision failed; retrying next tick"),
            }
            match store.supervise_tick(today).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sent = n, "supervision notices sent"),
                Err(e) => tracing::warn!(error = %e, "supervision tick failed; retrying next tick"),
            }
        }
    })
}
