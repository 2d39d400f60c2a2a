//! The OpenAPI 3.1 document (generated from the handlers' annotations) and its browsable UI.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "DocDe",
        description = "Hospital real-time service: directory, booking, reception, ward monitoring.\n\n\
            Every error is `application/problem+json` (RFC 9457) with a stable `code`.",
    ),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "auth", description = "Sign-up, sign-in, tokens, passwords"),
        (name = "users", description = "Accounts and profiles"),
        (name = "hospitals", description = "Hospitals and their staff"),
        (name = "directory", description = "Hospitals, doctors and departments as patients find them"),
        (name = "search", description = "Korean and Latin search over hospitals and doctors"),
        (name = "wards", description = "Wards and nurse assignments"),
        (name = "devices", description = "Bedside monitors, gateways and robots as principals"),
        (name = "audit", description = "Who read or changed whose data"),
        (name = "records", description = "Medical records of completed visits, encrypted at rest"),
        (name = "reviews", description = "Reviews of completed visits, ratings, replies and abuse reports"),
        (name = "reception", description = "Walk-in check-in, waiting numbers, the line, lobby boards and the waiting room"),
    ),
    components(schemas(crate::problem::Problem, crate::problem::FieldError)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

/// People send `Authorization: Bearer <access token>`; devices `Authorization: Basic
/// base64(<device id>:<secret>)`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "device",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}
