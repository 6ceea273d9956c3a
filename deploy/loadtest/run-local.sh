#!/usr/bin/env bash
# Run the Locust test headless for a few seconds against a running chaoslab
# (e.g. `chaoslab up`) and fail if any request failed.
#   CHAOSLAB_URL   base URL, e.g. http://127.0.0.1:PORT (required)
#   LOCUST         locust executable (default: locust on PATH)
#   USERS, RUN_TIME  load shape (default: 10 users for 5s)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
url=${CHAOSLAB_URL:?set CHAOSLAB_URL to the app base URL, e.g. http://127.0.0.1:PORT}
locust=${LOCUST:-locust}
users=${USERS:-10}
run_time=${RUN_TIME:-5s}

command -v "$locust" >/dev/null || {
  echo "run-local.sh: '$locust' not found; pip install -r $here/requirements.txt" >&2
  exit 1
}

echo "locust: $users users for $run_time against $url" >&2
# --exit-code-on-error 1: any failed request (including a 503) fails the run.
exec "$locust" -f "$here/locustfile.py" --headless --users "$users" --spawn-rate "$users" \
  --run-time "$run_time" --host "${url%/}" --only-summary --exit-code-on-error 1 \
  --stop-timeout 2
