"""Load test for chaoslab: weighted GET / and GET /health.

Runs against a local `chaoslab up` or the Azure deployment:

    locust -f deploy/loadtest/locustfile.py --headless -u 10 -r 10 -t 30s \
        --host http://127.0.0.1:PORT

Every response is checked (`catch_response`): anything but HTTP 200 with the
documented JSON body counts as a failure, so a 503 from a Redis outage is a
failure, not a success with an odd status. Locust exits non-zero when any
request failed.

Env CHAOSLAB_WAIT_MIN / CHAOSLAB_WAIT_MAX: think time per user in seconds
(default 0.1-0.5).
"""

import json
import os

from locust import HttpUser, between, task


def _seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _json_object(response):
    """The response body as a JSON object, or None after marking a failure."""
    if response.status_code != 200:
        response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
        return None
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        response.failure(f"body is not JSON: {response.text[:200]}")
        return None
    if not isinstance(body, dict):
        response.failure("body is not a JSON object")
        return None
    return body


class ChaoslabUser(HttpUser):
    """One visitor: mostly page views, now and then a health check."""

    wait_time = between(_seconds("CHAOSLAB_WAIT_MIN", 0.1), _seconds("CHAOSLAB_WAIT_MAX", 0.5))

    @task(5)
    def index(self):
        with self.client.get("/", catch_response=True) as response:
            body = _json_object(response)
            if body is None:
                return
            missing = [key for key in ("message", "visits", "replica") if key not in body]
            if missing:
                response.failure(f"missing keys {missing}")
            elif not isinstance(body["visits"], int) or body["visits"] < 1:
                response.failure(f"visits is not a positive integer: {body['visits']!r}")
            else:
                response.success()

    @task(1)
    def health(self):
        with self.client.get("/health", catch_response=True) as response:
            body = _json_object(response)
            if body is None:
                return
            if body.get("status") != "healthy":
                response.failure(f"status is {body.get('status')!r}")
            else:
                response.success()
