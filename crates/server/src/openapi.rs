//! The OpenAPI 3.1 document (generated from the handlers' annotations) and its browsable UI.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "DocDe",
        description = "Hospital real-time service: directory, booking, reception, ward monitoring.\n\n\
            Every error is `application/problem+json` (RFC 9457) with a stable `code`.",
    ),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    components(schemas(crate::problem::Problem, crate::problem::FieldError)),
)]
pub struct ApiDoc;
