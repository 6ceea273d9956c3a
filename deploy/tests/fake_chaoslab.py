"""A stand-in for chaoslab's HTTP contract, for testing the Locust file only.

GET /        200 {"message", "visits", "replica"}      (503 problem+json when down)
GET /health  200 {"status": "healthy", "redis": {...}}  (503 {"status": "unhealthy"} when down)

`serve(redis_down=...)` binds 127.0.0.1:0 and returns the running server; the
caller reads `server.server_address` and calls `shutdown()`.
"""

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server naming)
        down = self.server.redis_down
        if self.path == "/":
            if down:
                self._send(503, {"type": "about:blank", "title": "Redis unavailable", "status": 503},
                           "application/problem+json")
            else:
                visits = next(self.server.visits)
                self._send(200, {"message": "hello from chaoslab", "visits": visits, "replica": "fake"})
        elif self.path == "/health":
            if down:
                self._send(503, {"status": "unhealthy", "reason": "redis: connection refused"})
            else:
                self._send(200, {"status": "healthy", "redis": {"latency_ms": 1}})
        else:
            self._send(404, {"title": "not found", "status": 404}, "application/problem+json")

    def _send(self, status, body, content_type="application/json"):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve(redis_down=False):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.redis_down = redis_down
    server.visits = itertools.count(1)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
