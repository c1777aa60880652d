//! Cases: the application, the window's acceptance, special procedures, the decision, the
//! receipt, the window's queue and the public progress lookup.

pub mod api;
pub mod pages;
pub mod status;
pub mod uploads;
pub mod window;

use crate::http::{AppState, Room};
use axum::Router;
use utoipa::OpenApi;

pub const ROOM: Room = Room {
    routes,
    openapi: || api::Doc::openapi(),
};

fn routes() -> Router<AppState> {
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(status::routes())
        .merge(window::routes())
}
