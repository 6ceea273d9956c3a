//! The operations: the data plane (`GET /`, `GET /health`), this document,
//! the chaos API, and the responses they share — among them the runtime's
//! own answers, which any route can get.

use chaoslab_world::wire::chaos::ChaosLimits;
use serde_json::{Map, Value, json};

use super::schemas::ID_PATTERN;
use super::{bodies, header_refs, problem_response, problem_with, reference};
use crate::routes::{CHAOS, KINDS, OPENAPI, STATUS};
use crate::scope::SCOPES;

const JSON: &str = chaoslab_guest_http::JSON;
const CACHE: (&str, &str) = ("Cache-Control", "CacheControl");
const RETRY: (&str, &str) = ("Retry-After", "RetryAfter");

/// `{"$ref": "#/components/responses/{name}"}`.
fn shared(name: &str) -> Value {
    reference("responses", name)
}

/// The runtime's answers, which any operation can get, plus `extra`.
fn responses(extra: &[(&str, Value)]) -> Map<String, Value> {
    let mut out: Map<String, Value> = [
        ("408", shared("RequestTimeout")),
        ("413", shared("ContentTooLarge")),
        ("431", shared("HeadersTooLarge")),
        ("500", shared("ComponentFailed")),
        ("503", shared("Overloaded")),
        ("504", shared("ComponentTimeout")),
    ]
    .into_iter()
    .map(|(code, value)| (code.to_owned(), value))
    .collect();
    for (code, value) in extra {
        out.insert((*code).to_owned(), value.clone());
    }
    out
}

/// A `200` answer with a JSON body.
fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "headers": header_refs(&[CACHE]), "content": { JSON: { "schema": schema } } })
}

/// `GET /`, `GET /health` and `GET /openapi.json`.
pub fn data_plane() -> Map<String, Value> {
    let note = "Data plane: subject to chaos. A running `hang` holds it unanswered until the experiment ends or is \
        stopped; `latency` delays it; `errors` makes it answer the experiment's status (400..599) as an `Injected \
        fault` problem; `redis` makes its store calls fail (503).";
    let injected = [("4XX", shared("InjectedClientError")), ("5XX", shared("InjectedServerError"))];
    let unavailable = |what: &str| {
        problem_response(
            &format!("{what}, the runtime's `--max-concurrent` cap (`Retry-After`), or an injected 503."),
            problem_with(503, None, false),
            &[RETRY],
        )
    };
    let mut visit = responses(&injected);
    visit.insert("200".into(), ok("The visit was counted.", reference("schemas", "Visit")));
    visit.insert("503".into(), unavailable("Redis unusable (`Retry-After: 1`)"));
    let mut health = responses(&injected);
    health.insert("200".into(), ok("Redis answered a PING.", reference("schemas", "Healthy")));
    let mut unhealthy = unavailable("Redis did not answer (`application/json` unhealthy, with the reason)");
    unhealthy["content"][JSON] = json!({ "schema": reference("schemas", "Unhealthy") });
    health.insert("503".into(), unhealthy);
    let mut document = responses(&[("503", shared("ChaosUnavailable"))]);
    document.insert("200".into(), ok(
        "This document. Its bounds are this replica's chaos settings.",
        json!({ "type": "object", "required": ["openapi", "info", "paths"],
                "properties": { "openapi": { "const": "3.1.0" }, "info": { "type": "object" }, "paths": { "type": "object" } } }),
    ));
    let get = |id: &str, tag: &str, summary: &str, description: &str, responses: Map<String, Value>| {
        json!({ "get": { "operationId": id, "tags": [tag], "summary": summary, "description": description,
                         "security": [], "responses": responses } })
    };
    [
        ("/".to_owned(), get("visit", "data plane", "Count a visit in Redis.", note, visit)),
        (
            "/health".to_owned(),
            get(
                "health",
                "data plane",
                "Redis PING under the call deadline; answers within ~1 s even when Redis is black-holed.",
                note,
                health,
            ),
        ),
        (
            OPENAPI.to_owned(),
            get(
                "openapi",
                "meta",
                "This document; no token needed.",
                "Never affected by chaos. 503 when the chaos engine cannot be asked.",
                document,
            ),
        ),
    ]
    .into_iter()
    .collect()
}

/// A `/chaos/*` operation's responses: the runtime's, the token's and the engine's, plus `extra`.
fn control(extra: &[(&str, Value)]) -> Map<String, Value> {
    let own = [("401", shared("Unauthorized")), ("503", shared("ChaosUnavailable"))];
    responses(&[&own[..], extra].concat())
}

/// The chaos API's operations.
pub fn chaos(limits: &ChaosLimits) -> Map<String, Value> {
    let security = json!([{ "chaosToken": [] }]);
    let mut paths = Map::new();
    let started_links = json!({
        "GetStatus": { "operationId": "getChaosStatus", "description": "The started experiment is listed in `active`." },
        "StopExperiment": { "operationId": "stopExperiment", "parameters": { "id": "$response.body#/id" },
                            "description": "Stop the experiment just started." },
    });
    for kind in KINDS {
        let mut responses = control(&[
            ("400", shared("BadRequest")),
            ("409", shared("Conflict")),
            ("413", shared("ContentTooLarge")),
            ("415", shared("UnsupportedMediaType")),
            ("422", shared("UnprocessableContent")),
            ("429", shared("TooManyRequests")),
        ]);
        responses.insert(
            "202".into(),
            json!({
                "description": "Started; it ends by itself at `ends_at_ms`.",
                "headers": header_refs(&[("Location", "Location"), CACHE]),
                "content": { JSON: { "schema": reference("schemas", "RunningExperiment") } },
                "links": started_links,
            }),
        );
        let empty = if kind == "redis" { " `mode` is required." } else { " An empty body means every default." };
        paths.insert(
            format!("{CHAOS}/{kind}"),
            json!({ "post": {
            "operationId": format!("start{}", bodies::name(kind).trim_start_matches("Start")),
            "tags": ["chaos"],
            "summary": format!("Start a `{kind}` experiment."),
            "description": format!("One experiment per kind at a time (409).{empty}"),
            "security": security,
            "requestBody": { "required": kind == "redis", "content": { JSON: {
                "schema": reference("schemas", &bodies::name(kind)), "example": bodies::example(kind, limits),
            } } },
            "responses": responses,
        } }),
        );
    }
    let mut status = control(&[("400", shared("BadRequest"))]);
    status.insert(
        "200".into(),
        ok(
            "This replica's state (`ChaosStatus`), or with `scope=all` every replica's view (`ClusterStatus`).",
            json!({ "oneOf": [reference("schemas", "ChaosStatus"), reference("schemas", "ClusterStatus")] }),
        ),
    );
    paths.insert(
        format!("{CHAOS}/{STATUS}"),
        json!({ "get": {
        "operationId": "getChaosStatus", "tags": ["chaos"], "security": security,
        "summary": "Replica, seed, active experiments (with `remaining_ms`), the last 50 ended, the load running.",
        "description": "With `scope=all`: every replica's view from the heartbeats in Redis (this replica's \
            fresh), marking replicas that stopped answering; 503 when Redis cannot be reached.",
        "parameters": [{ "name": "scope", "in": "query", "required": false,
                         "description": "`replica` (default): this replica; `all`: every replica.",
                         "schema": { "type": "string", "enum": SCOPES, "default": "replica" } }],
        "responses": status,
    } }),
    );
    let back_to_status = json!({ "GetStatus": { "operationId": "getChaosStatus" } });
    let mut stop = control(&[("404", shared("NoSuchExperiment"))]);
    let mut stopped = ok("The stopped experiment (`end_reason: stopped`).", reference("schemas", "EndedExperiment"));
    stopped["links"] = back_to_status.clone();
    stop.insert("200".into(), stopped);
    paths.insert(
        format!("{CHAOS}/{{id}}"),
        json!({
            "parameters": [{ "name": "id", "in": "path", "required": true,
                             "description": "An experiment id as a start returned it (`exp-N`; `exp-cN` for one shared by replicas, stopped on every replica from any).",
                             "schema": { "type": "string", "pattern": ID_PATTERN, "maxLength": 24 } }],
            "delete": { "operationId": "stopExperiment", "tags": ["chaos"], "security": security,
                        "summary": "Stop one running experiment now; the requests it holds are released.",
                        "responses": stop },
        }),
    );
    let mut stop_all = control(&[]);
    let mut all = ok(
        "The experiments stopped (possibly none).",
        json!({
            "type": "object", "additionalProperties": false, "required": ["stopped"],
            "properties": { "stopped": { "type": "array", "items": reference("schemas", "EndedExperiment") } },
        }),
    );
    all["links"] = back_to_status;
    stop_all.insert("200".into(), all);
    paths.insert(
        CHAOS.to_owned(),
        json!({ "delete": {
        "operationId": "stopAllExperiments", "tags": ["chaos"], "security": security,
        "summary": "Stop every running experiment now; held requests are released.",
        "responses": stop_all,
    } }),
    );
    paths
}

/// The responses operations share (`#/components/responses/…`).
pub fn shared_responses() -> Value {
    let none: &[(&str, &str)] = &[];
    json!({
        "BadRequest": problem_response("Malformed JSON, not an object, a wrong type, an unknown or missing field \
            (named in `errors` when known).", problem_with(400, Some("Bad Request"), false), none),
        "Unauthorized": problem_response("No or wrong bearer token.", problem_with(401, Some("Unauthorized"), false),
            &[("WWW-Authenticate", "WWWAuthenticate")]),
        "NoSuchExperiment": problem_response("No running experiment with that id.",
            problem_with(404, Some("Not Found"), false), none),
        "Conflict": problem_response("An experiment of that kind is already running (one per kind); the detail \
            names it.", problem_with(409, Some("Conflict"), false), none),
        "UnsupportedMediaType": problem_response("A non-empty body that is not `application/json` (or \
            `application/*+json`).", problem_with(415, Some("Unsupported Media Type"), false), none),
        "UnprocessableContent": problem_response("A value out of bounds; every violation is listed in `errors` \
            with its bounds.", problem_with(422, Some("Unprocessable Content"), true), none),
        "TooManyRequests": problem_response("The experiment cap (`--chaos-max-experiments`) is reached.",
            problem_with(429, Some("Too Many Requests"), false), none),
        "ChaosUnavailable": problem_response("The chaos engine cannot be reached (loopback link: the sidecar is \
            down or refused the link); a call that needs the replicas' Redis (a scope beyond this replica, a stop \
            of a shared experiment, `status?scope=all`) cannot reach it, with the reason, nothing applied; or the \
            runtime's `--max-concurrent` cap (with `Retry-After`).",
            problem_with(503, None, false), &[RETRY]),
        "InjectedClientError": problem_response("Injected by a chaos `errors` experiment (400..499).",
            reference("schemas", "InjectedFault"), none),
        "InjectedServerError": problem_response("Injected by a chaos `errors` experiment (500..599).",
            reference("schemas", "InjectedFault"), none),
        // The runtime's own answers.
        "RequestTimeout": problem_response("Runtime: a chunked request body did not arrive within \
            `--request-timeout`.", problem_with(408, None, false), none),
        "ContentTooLarge": problem_response("A body over `--max-body-kb` (runtime, before any component runs; \
            chunked bodies too) or over 64 KiB (chaos API).", problem_with(413, None, false), none),
        "HeadersTooLarge": { "description": "Runtime: more than `--max-headers` headers or over `--max-header-kb` \
            of them; no body, and the connection is closed." },
        "ComponentFailed": problem_response("Runtime: the component trapped or sent no response.",
            problem_with(500, None, false), none),
        "Overloaded": problem_response("Runtime: the `--max-concurrent` cap (`Retry-After: 1`).",
            problem_with(503, None, false), &[RETRY]),
        "ComponentTimeout": problem_response("Runtime: the component ran past `--request-timeout` (chaos holds \
            not counted).", problem_with(504, None, false), none),
    })
}
