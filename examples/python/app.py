"""chaoslab's data-plane handler, in Python: the same contract as the Rust api.

- GET /        increments `chaoslab:visits` through chaoslab:sidecar/store and
               answers {"message":"Hello from chaoslab","visits":N,"replica":R}
- GET /health  pings Redis through the store: 200 healthy / 503 unhealthy
- anything else: 404 problem+json; another method on / or /health: 405 + Allow

It targets the world chaoslab:sidecar/http-handler (wit/http.wit): it exports
wasi:http/incoming-handler and imports the sidecar's `store` and `telemetry`,
never `chaos`. spin.toml serves it wrapped in the chaos layer, which applies
hangs, latency and injected errors in front of it; Redis faults reach it as
failing store calls.
"""

import json

from componentize_py_types import Err, Ok
from wit_world import exports
from wit_world.imports import store, telemetry
from wit_world.imports.types import (
    Fields,
    Method_Get,
    Method_Other,
    OutgoingBody,
    OutgoingResponse,
    ResponseOutparam,
)

VISITS_KEY = "chaoslab:visits"
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
# blocking-write-and-flush takes at most 4096 bytes per call (wasi:io/streams).
WRITE_CHUNK = 4096

_STORE_ERRORS = {
    store.Error_Unavailable: ("unavailable", "unavailable"),
    store.Error_Timeout: ("timeout", "timeout"),
    store.Error_Denied: ("denied", "denied"),
    store.Error_Other: ("other", "error"),
}


def method_name(method) -> str:
    """The method as HTTP spells it (`Method_Get` -> "GET")."""
    if isinstance(method, Method_Other):
        return method.value
    return type(method).__name__.removeprefix("Method_").upper()


def replica() -> str:
    """The replica's name as the sidecar names it (a component sees no host environment under Spin)."""
    return telemetry.replica()


def describe(err) -> str:
    """A short, client-safe description of a store failure, as the Rust api words it."""
    return f"{_STORE_ERRORS.get(type(err), ('other', 'error'))[1]}: {err.value}"


def record_store_failure(call: str, err) -> None:
    """Tells telemetry why a store call failed: an event on the request's span and a count by kind."""
    kind = _STORE_ERRORS.get(type(err), ("other", "error"))[0]
    attrs = [telemetry.Attribute("store.call", call), telemetry.Attribute("store.error", kind),
             telemetry.Attribute("reason", describe(err))]
    telemetry.add_event("store call failed", attrs)
    telemetry.add_counter("store.failures", 1, [telemetry.Attribute("store.error", kind)])


def respond(response_out, status: int, content_type: str, body: dict, extra_headers=()) -> None:
    """Answers `status` with `body` as JSON, with a content-length (one write, not chunked)."""
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = [
        ("content-type", content_type.encode()),
        ("content-length", str(len(data)).encode()),
        ("cache-control", b"no-store"),
    ]
    headers.extend((name, value.encode()) for name, value in extra_headers)
    response = OutgoingResponse(Fields.from_list(headers))
    response.set_status_code(status)
    out_body = response.body()
    ResponseOutparam.set(response_out, Ok(response))
    with out_body.write() as stream:
        for start in range(0, len(data), WRITE_CHUNK):
            stream.blocking_write_and_flush(data[start : start + WRITE_CHUNK])
    OutgoingBody.finish(out_body, None)


def problem(response_out, status: int, title: str, detail: str, extra_headers=()) -> None:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    respond(response_out, status, PROBLEM_JSON, body, extra_headers)


def visit(response_out) -> None:
    """GET /: count the visit and say who served it."""
    try:
        visits = store.incr(VISITS_KEY, 1)
    except Err as e:
        record_store_failure("incr", e.value)
        problem(response_out, 503, "Redis unavailable", describe(e.value), [("retry-after", "1")])
        return
    respond(response_out, 200, JSON, {"message": "Hello from chaoslab", "visits": visits, "replica": replica()})


def health(response_out) -> None:
    """GET /health: healthy when Redis answers a PING within the sidecar's deadline."""
    try:
        micros = store.ping()
    except Err as e:
        record_store_failure("ping", e.value)
        body = {"status": "unhealthy", "replica": replica(), "reason": describe(e.value)}
        respond(response_out, 503, JSON, body)
        return
    body = {"status": "healthy", "replica": replica(), "redis": {"latency_ms": micros / 1000.0}}
    respond(response_out, 200, JSON, body)


class IncomingHandler(exports.IncomingHandler):
    """The exported wasi:http/incoming-handler."""

    def handle(self, request, response_out) -> None:
        path = (request.path_with_query() or "/").split("?", 1)[0]
        method = request.method()
        if path not in ("/", "/health"):
            problem(response_out, 404, "Not Found", f"no route for {path}")
        elif not isinstance(method, Method_Get):
            detail = f"{method_name(method)} is not allowed here; use GET"
            problem(response_out, 405, "Method Not Allowed", detail, [("allow", "GET")])
        elif path == "/":
            visit(response_out)
        else:
            health(response_out)
