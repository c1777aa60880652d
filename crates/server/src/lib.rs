//! The HTTP face of Yichuang: JSON API under `/api/v1/`, server-rendered pages for every role,
//! sessions and role checks. `build` is used by the binary and by the tests alike.

pub mod api;
pub mod auth;
pub mod calendar;
pub mod demo;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod qr;
pub mod supervision;
pub mod uploads;

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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_upload: 20 * 1024 * 1024,
            utc_offset_hours: 8,
            staff_session_minutes: 10,
            applicant_session_minutes: 60,
            public_url: "http://127.0.0.1:8080".into(),
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
    let limit = state.config.max_upload + 64 * 1024;
    Router::new()
        .merge(api::routes())
        .merge(calendar::routes())
        .merge(supervision::routes())
        .merge(pages::routes())
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
