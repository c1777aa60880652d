//! The OpenAPI document at `/api/openapi.json`: the service's own part here, each room's
//! paths from its `api::Doc`, merged once when the router is built.

use super::error::ErrorBody;
use super::Room;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Yichuang 一窗 API",
        description = "One-window government service platform. Errors are {\"code\", \"message\"}."
    ),
    paths(super::healthz),
    components(schemas(ErrorBody))
)]
struct ServiceDoc;

/// The whole document: the service's part and every room's.
pub fn document(rooms: &[Room]) -> utoipa::openapi::OpenApi {
    rooms.iter().fold(ServiceDoc::openapi(), |mut doc, room| {
        doc.merge((room.openapi)());
        doc
    })
}
