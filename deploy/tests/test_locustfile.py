"""The Locust file against a stand-in for the app contract (fake_chaoslab):
zero failures when healthy; every 503 counted as a failure when Redis is down."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fake_chaoslab
from bicep_model import DEPLOY_DIR

RUN_LOCAL = DEPLOY_DIR / "loadtest" / "run-local.sh"


def locust_executable():
    beside_python = Path(sys.executable).parent / "locust"
    found = str(beside_python) if beside_python.exists() else shutil.which("locust")
    if not found:
        pytest.fail("locust is not installed: pip install -r deploy/loadtest/requirements.txt")
    return found


@pytest.fixture(params=[False, True], ids=["healthy", "redis-down"])
def app(request):
    server = fake_chaoslab.serve(redis_down=request.param)
    yield request.param, "http://%s:%d" % server.server_address
    server.shutdown()


def test_locust_run_counts_503_as_failure(app):
    redis_down, url = app
    env = {**os.environ, "CHAOSLAB_URL": url, "LOCUST": locust_executable(), "USERS": "5", "RUN_TIME": "2s"}
    result = subprocess.run(["bash", str(RUN_LOCAL)], env=env, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    if redis_down:
        assert result.returncode != 0, output
        assert "HTTP 503" in output
    else:
        assert result.returncode == 0, output
        assert "Aggregated" in output and "0(0.00%)" in output
