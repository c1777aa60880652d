//! The public catalog of service items and their guides.

pub mod api;
pub mod pages;

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
