//! `GET /openapi.json`: the OpenAPI 3.1 document of the whole service — the
//! data plane, the chaos API and the runtime's own answers — rendered for
//! this replica. Its numeric bounds come from the live configuration
//! (`chaos.limits`: `--chaos-max-duration`, `--chaos-max-workers`,
//! `--chaos-max-memory-mb`), so a client (or a fuzzer) reading it gets what
//! this replica accepts; with chaos switched off the `/chaos/*` operations
//! are left out (they answer 404).
//!
//! The request bodies are described from the parser's own definitions
//! ([`crate::body`]: its defaults, its fields — a host test checks that the
//! documented fields are exactly the ones it reads) and the routes from
//! [`crate::routes`]; the end-to-end test `tests/tests/openapi.rs` produces
//! every documented status from the real binary and checks that nothing
//! else comes out.
//!
//! - [`bodies`]: the start request bodies and their bounds.
//! - [`schemas`]: answers (experiments, status, problems) and headers.
//! - [`paths`]: the operations and their responses.

mod bodies;
mod paths;
mod schemas;

use chaoslab_guest_http::{JSON, json};
use chaoslab_world::wire::chaos::{self, ChaosLimits, Error as ChaosError};
use serde_json::{Value, json};
use spin_sdk::http::Response;

/// `application/problem+json`.
const PROBLEM: &str = chaoslab_guest_http::PROBLEM_JSON;

/// Serves the document for this replica's configuration.
pub fn serve() -> Response {
    match chaos::limits() {
        Ok(limits) => json(200, JSON, &document(Some(&limits))),
        Err(ChaosError::Disabled) => json(200, JSON, &document(None)),
        Err(err) => crate::chaos_error(&err),
    }
}

/// The document; `limits` is `None` when chaos is switched off.
pub fn document(limits: Option<&ChaosLimits>) -> Value {
    let mut paths = paths::data_plane();
    let mut schemas = schemas::answers();
    let mut description = String::from(
        "Every error is RFC 9457 `application/problem+json`. Any other path answers 404, a wrong method 405 \
         with `Allow`. The runtime may answer any route 503 + `Retry-After` beyond `--max-concurrent`, 413 \
         for a body over `--max-body-kb`, 408 for a chunked body not received within `--request-timeout`, \
         431 for headers over `--max-headers` / `--max-header-kb`, 500 when a component traps and 504 past \
         `--request-timeout`.",
    );
    match limits {
        Some(limits) => {
            paths.extend(paths::chaos(limits));
            schemas.extend(bodies::schemas(limits));
            description.push_str(&format!(
                "\n\n`/chaos/*` needs `Authorization: Bearer <chaos token>`. Bounds in force on this replica: \
                 duration_seconds 1..{}, workers 0..{}, memory_mb 0..{}, at most {} experiments at once.",
                limits.max_duration_seconds, limits.max_workers, limits.max_memory_mb, limits.max_experiments
            ));
        }
        None => description.push_str("\n\nChaos is switched off on this replica: `/chaos/*` answers 404."),
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "chaoslab",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "A chaos-engineering target service: a data plane to break and a chaos API to break it.",
            "description": description,
            "license": { "name": "MIT", "identifier": "MIT" },
        },
        "servers": [{ "url": "/", "description": "The replica serving this document." }],
        "tags": [{ "name": "data plane" }, { "name": "chaos" }, { "name": "meta" }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": paths::shared_responses(),
            "headers": schemas::headers(),
            "securitySchemes": { "chaosToken": { "type": "http", "scheme": "bearer" } },
        },
    })
}

/// `{"$ref": "#/components/{kind}/{name}"}`.
fn reference(kind: &str, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{kind}/{name}") })
}

/// A problem document whose `status` member is `status` (and `title`, when given).
fn problem_with(status: u16, title: Option<&str>, requires_errors: bool) -> Value {
    let mut own = json!({ "type": "object", "properties": { "status": { "const": status } } });
    if let Some(title) = title {
        own["properties"]["title"] = json!({ "const": title });
    }
    if requires_errors {
        own["required"] = json!(["errors"]);
    }
    json!({ "allOf": [reference("schemas", "Problem"), own] })
}

/// A response with a problem body, and `headers` (names → components.headers).
fn problem_response(description: &str, schema: Value, headers: &[(&str, &str)]) -> Value {
    let mut resp = json!({ "description": description, "content": { PROBLEM: { "schema": schema } } });
    if !headers.is_empty() {
        resp["headers"] = header_refs(headers);
    }
    resp
}

/// `{ "Header-Name": {"$ref": "#/components/headers/Key"}, … }`.
fn header_refs(headers: &[(&str, &str)]) -> Value {
    headers.iter().map(|(name, key)| ((*name).to_owned(), reference("headers", key))).collect()
}

#[cfg(test)]
mod tests;
