#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Scenario 4, hang: POST /chaos/hang makes the replica stop answering, its
# sidecar's /livez included; the liveness probe (GET /livez on 7070, every
# 10 s, 5 s timeout, 3 failures) makes the platform restart the sidecar
# container, and the hang, held by the sidecar, ends with it. The script
# compares the revision's container restart count before and after.
# Clean-up (DELETE /chaos) runs even on failure, in case no restart happened.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HANG_SECONDS=300
TIMEOUT_SECONDS=240
RECOVER_SECONDS=120

usage() {
  cat <<EOF
Usage: $(basename "$0") -g RG [--duration SECONDS] [--timeout SECONDS] [--dry-run]

Start a hang with POST /chaos/hang, wait until the liveness probe has
restarted a container of the active revision (restart count before/after),
then wait for /health to answer 200 again. Needs CHAOSLAB_CHAOS_TOKEN.

  --duration SECONDS   hang length asked for (default: $HANG_SECONDS)
  --timeout SECONDS    how long to wait for the restart (default: $TIMEOUT_SECONDS)

$(usage_common)
EOF
}

while (($#)); do
  case $1 in
    --duration) require_int "$1" "${2:-}"; HANG_SECONDS=$2; shift 2 ;;
    --timeout) require_int "$1" "${2:-}"; TIMEOUT_SECONDS=$2; shift 2 ;;
    *) parse_common "$@"; shift "$SHIFT" ;;
  esac
done
finish_setup
require_token

HANG_STARTED=0
stop_hang() {
  ((HANG_STARTED)) || return 0
  chaos DELETE /chaos >/dev/null || true
  HANG_STARTED=0
}

step "1. resolve the deployment and count restarts"
resolve_app
REVISION=$(latest_revision)
BEFORE=$(restart_count "$REVISION")
BEFORE=${BEFORE%.*}
log "restarts before: $BEFORE"

step "2. baseline: /health should answer 200"
probe /health >/dev/null

step "3. start the hang for ${HANG_SECONDS}s"
at_exit stop_hang
HANG_STARTED=1
chaos POST /chaos/hang "{\"duration_seconds\":$HANG_SECONDS}" >/dev/null

step "4. wait for the liveness probe to restart the replica's sidecar"
AFTER=$BEFORE
if dry; then
  probe /health >/dev/null
  restart_count "$REVISION" >/dev/null
  note "(repeated every ${POLL_SECONDS}s until the restart count grows, at most ${TIMEOUT_SECONDS}s)"
else
  start=$SECONDS
  while ((AFTER <= BEFORE)); do
    ((SECONDS - start < TIMEOUT_SECONDS)) || die "no restart within ${TIMEOUT_SECONDS}s (restarts: $AFTER)"
    sleep "$POLL_SECONDS"
    probe /health >/dev/null
    AFTER=$(restart_count "$REVISION")
    AFTER=${AFTER%.*}
    _QUIET=1
  done
  _QUIET=0
  log "restarted after about $((SECONDS - start))s"
fi
log "restarts before: $BEFORE, after: $AFTER"

step "5. watch recovery"
wait_for_ok "$RECOVER_SECONDS" /health
