//! Workflow: a department's tasks, the actions on a task, a case's flow, the applicant's one view.

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
