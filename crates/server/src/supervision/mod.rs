//! Electronic supervision: lights, supervision notices, statistics, 办件公示, and the worker
//! that sends what has come due.

pub mod api;
pub mod pages;
pub mod worker;

use crate::http::{AppState, Room};
use axum::Router;
use utoipa::OpenApi;

pub const ROOM: Room = Room {
    routes,
    openapi: || api::Doc::openapi(),
};

fn routes() -> Router<AppState> {
    Router::new().merge(api::routes()).merge(pages::routes())
}
