"""Schemathesis hooks for fuzzing chaoslab (loaded by schemathesis.toml).

The fuzzer starts real chaos experiments: every valid POST /chaos/* answers
202. Left running they would poison later data-plane cases: a `hang` holds
GET / and GET /health until it ends, a `latency` delays them, a `load` burns
CPU, `errors` and `redis` turn them into 4xx/5xx. So faults are kept away
from fuzzed traffic:

- in the examples, coverage and fuzzing phases an experiment is stopped
  right after its 202;
- in the stateful phase it is left to the link `DELETE /chaos/{id}`;
- before any data-plane call and before any new start (and once at the
  beginning) whatever still runs is stopped (`DELETE /chaos`).

The data plane is then fuzzed with no fault active, so every server error
there is a real one. As a safety net, `filter_failure` drops a server-error
failure on GET / or GET /health only when chaos caused it on purpose (an
`Injected fault` problem naming its experiments, or a store failure naming
a chaos experiment); conformance checks are never filtered, and
schemathesis prints how many were dropped.

Needs CHAOSLAB_CHAOS_TOKEN and CHAOSLAB_URL (set by scripts/fuzz).
"""

import atexit
import json
import os
import sys
import threading

import requests

import schemathesis
from schemathesis.core.failures import ServerError
from schemathesis.openapi.checks import RejectedPositiveData

DATA_PLANE = {"/", "/health"}
TOKEN = os.environ["CHAOSLAB_CHAOS_TOKEN"]
BASE = os.environ["CHAOSLAB_URL"].rstrip("/")
_session = requests.Session()
_lock = threading.Lock()
_running: set[str] = set()
_started = False
STATS = {"stopped_after_start": 0, "stopped_before_call": 0, "dropped_injected": 0}


def _chaos(method: str, path: str) -> None:
    resp = _session.request(method, BASE + path, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    if resp.status_code not in (200, 404):
        raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.text}")


def _phase(case) -> str:
    meta = getattr(case, "meta", None)
    return "stateful" if meta is None else str(meta.phase.name)


def _body(response):
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        return None


@schemathesis.hook
def before_call(context, case, kwargs):
    """Stop leftovers before a data-plane call or a new start (and once at the beginning)."""
    global _started
    path = case.operation.path
    is_start = case.operation.method.upper() == "POST" and path.startswith("/chaos/")
    if path not in DATA_PLANE and not is_start:
        return
    with _lock:
        first, _started = not _started, True
        if not _running and not first:
            return
        _running.clear()
    _chaos("DELETE", "/chaos")
    STATS["stopped_before_call"] += 1


@schemathesis.hook
def after_call(context, case, response):
    path = case.operation.path
    method = case.operation.method.upper()
    if not path.startswith("/chaos"):
        return
    if method == "POST" and response.status_code == 202:
        exp_id = (_body(response) or {}).get("id")
        if not exp_id:
            return
        if _phase(case) != "stateful":
            _chaos("DELETE", f"/chaos/{exp_id}")
            STATS["stopped_after_start"] += 1
        else:
            with _lock:
                _running.add(exp_id)
    elif method == "DELETE" and response.status_code == 200:
        with _lock:
            if path == "/chaos":
                _running.clear()
            else:
                _running.discard((_body(response) or {}).get("id"))


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Keep (True) every failure but a data-plane server error chaos injected on purpose."""
    if not isinstance(failure, (ServerError, RejectedPositiveData)) or case.operation.path not in DATA_PLANE:
        return True
    body = _body(response)
    if isinstance(body, dict):
        injected = body.get("title") == "Injected fault" and body.get("experiments")
        store = "chaos experiment" in f"{body.get('detail', '')} {body.get('reason', '')}"
        if injected or store:
            STATS["dropped_injected"] += 1
            return False
    return True


@atexit.register
def _report():
    print("chaoslab hooks: " + ", ".join(f"{k}={v}" for k, v in STATS.items()), file=sys.stderr)
