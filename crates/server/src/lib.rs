//! The HTTP face of Yichuang: JSON API under `/api/v1/`, server-rendered pages for every role,
//! sessions and role checks. `build` is used by the binary and by the tests alike.
//!
//! One folder per capability (a room): its `api.rs`, `pages.rs` and whatever else it needs,
//! and a `ROOM` naming its routes and its part of the OpenAPI document. `http/` holds what the
//! rooms share and imports none of them.

pub mod accounts;
pub mod admin;
pub mod bundles;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod demo;
pub mod http;
pub mod notify;
pub mod supervision;
pub mod workflow;

pub use http::state::{AppState, Config, Delivery};
pub use supervision::worker::spawn_supervision;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use http::Room;
use std::sync::Arc;

/// Every room of the server; a new capability adds its line here.
const ROOMS: &[Room] = &[
    accounts::ROOM,
    admin::ROOM,
    bundles::ROOM,
    calendar::ROOM,
    cases::ROOM,
    catalog::ROOM,
    notify::ROOM,
    supervision::ROOM,
    workflow::ROOM,
];

pub fn router(state: AppState) -> Router {
    let limit = state.config.max_upload + 64 * 1024;
    let doc = Arc::new(http::openapi::document(ROOMS));
    ROOMS
        .iter()
        .fold(http::routes(doc), |r, room| r.merge((room.routes)()))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(http::error::localize))
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
