#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Scenario 2, high load: run the Locust test (deploy/loadtest/locustfile.py)
# headless for a bounded time against the app and report the active
# revision's replica count before, during and after. Expected: no failed
# request, latency rising, replicas added by the HTTP concurrency scale rule.
# Clean-up stops Locust if the script is interrupted.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

USERS=50
SPAWN_RATE=10
DURATION=3m
LOCUST=${LOCUST:-locust}
LOCUSTFILE=$DEPLOY_DIR/loadtest/locustfile.py

usage() {
  cat <<EOF
Usage: $(basename "$0") -g RG [--users N] [--spawn-rate N] [--duration 3m] [--dry-run]

Run Locust headless against the app for a bounded time; print the replica
count before, every ${POLL_SECONDS}s during and after; exit non-zero if any
request failed. Reports go to deploy/loadtest/reports/.
Locust: pip install -r deploy/loadtest/requirements.txt (or env LOCUST=path).

  --users N          concurrent users (default: $USERS)
  --spawn-rate N     users started per second (default: $SPAWN_RATE)
  --duration TIME    run time, Locust syntax: 90s, 3m, 1h (default: $DURATION)

$(usage_common)
EOF
}

while (($#)); do
  case $1 in
    --users) require_int "$1" "${2:-}"; USERS=$2; shift 2 ;;
    --spawn-rate) require_int "$1" "${2:-}"; SPAWN_RATE=$2; shift 2 ;;
    --duration)
      [[ ${2:-} =~ ^[0-9]+[smh]?$ ]] || die_usage "--duration takes e.g. 90s, 3m, 1h"
      DURATION=$2
      shift 2
      ;;
    *) parse_common "$@"; shift "$SHIFT" ;;
  esac
done
finish_setup
need_tool "$LOCUST" "pip install -r deploy/loadtest/requirements.txt"

LOCUST_PID=
# shellcheck disable=SC2317  # called by the exit trap
stop_locust() {
  [[ -n $LOCUST_PID ]] || return 0
  kill "$LOCUST_PID" 2>/dev/null && log "stopped Locust ($LOCUST_PID)"
  wait "$LOCUST_PID" 2>/dev/null
  LOCUST_PID=
}

step "1. resolve the deployment and count replicas"
resolve_app
REVISION=$(latest_revision)
BEFORE=$(replica_count "$REVISION")
log "replicas before: $BEFORE"

step "2. run Locust: $USERS users for $DURATION"
REPORT=$DEPLOY_DIR/loadtest/reports/$(date -u +%Y%m%dT%H%M%SZ)
dry || mkdir -p "$REPORT"
LOCUST_CMD=("$LOCUST" -f "$LOCUSTFILE" --headless --users "$USERS" --spawn-rate "$SPAWN_RATE"
  --run-time "$DURATION" --host "$APP_URL" --only-summary --exit-code-on-error 1
  --csv "$REPORT/load" --html "$REPORT/load.html")
RC=0
if dry; then
  run "${LOCUST_CMD[@]}"
  replica_count "$REVISION" >/dev/null
  note "(replicas counted every ${POLL_SECONDS}s while Locust runs)"
else
  at_exit stop_locust
  show "${LOCUST_CMD[@]}"
  "${LOCUST_CMD[@]}" &
  LOCUST_PID=$!
  while kill -0 "$LOCUST_PID" 2>/dev/null; do
    sleep "$POLL_SECONDS"
    log "replicas now: $(replica_count "$REVISION")"
    _QUIET=1
  done
  _QUIET=0
  wait "$LOCUST_PID" || RC=$?
  LOCUST_PID=
fi

step "3. replicas after"
AFTER=$(replica_count "$REVISION")
log "replicas before: $BEFORE, after: $AFTER; Locust exit code: $RC (report: $REPORT)"
exit "$RC"
