#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Scenario 1, network block: an NSG rule on the Container Apps subnet denies
# TCP 10000 towards the private-endpoint subnet (Azure Managed Redis), /health
# is watched while it is in place, the rule is removed and recovery is watched.
#
# Azure NSGs keep flows that already exist: a new deny rule does not cut the
# sidecar's open, busy Redis connection, possibly for many minutes. So after
# adding the rule the script forces a reconnect (--reconnect):
#   restart  restart the active revision: its new replicas must open new
#            connections, which the rule blocks (the default);
#   chaos    also ask the app to black-hole Redis (POST /chaos/redis) for the
#            blocking time, which shows the same failure at once;
#   none     rely on the NSG alone.
# The deny rule is removed by the clean-up step, which runs even when the
# script fails or is interrupted.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RULE_NAME=chaoslab-deny-redis
RULE_PRIORITY=100
REDIS_PORT=10000
BLOCK_SECONDS=120
RECOVER_SECONDS=180
RECONNECT=restart

usage() {
  cat <<EOF
Usage: $(basename "$0") -g RG [--block SECONDS] [--recover SECONDS]
                        [--reconnect restart|chaos|none] [--dry-run]

Deny TCP $REDIS_PORT from the app's subnet to the Redis private endpoint with the
NSG rule '$RULE_NAME', watch GET /health (expect 503 or no answer: the app
must stay up, liveness does not depend on Redis), remove the rule, and wait
for /health to answer 200 again.

  --block SECONDS      how long the rule stays (default: $BLOCK_SECONDS)
  --recover SECONDS    how long to wait for recovery (default: $RECOVER_SECONDS)
  --reconnect MODE     how to drop the existing Redis connection (default: $RECONNECT)

$(usage_common)
EOF
}

while (($#)); do
  case $1 in
    --block) require_int "$1" "${2:-}"; BLOCK_SECONDS=$2; shift 2 ;;
    --recover) require_int "$1" "${2:-}"; RECOVER_SECONDS=$2; shift 2 ;;
    --reconnect)
      [[ ${2:-} =~ ^(restart|chaos|none)$ ]] || die_usage "--reconnect takes restart, chaos or none"
      RECONNECT=$2
      shift 2
      ;;
    *) parse_common "$@"; shift "$SHIFT" ;;
  esac
done
finish_setup
[[ $RECONNECT != chaos ]] || require_token

RULE_ADDED=0
CHAOS_STARTED=0

remove_rule() {
  ((RULE_ADDED)) || return 0
  run az network nsg rule delete --resource-group "$RESOURCE_GROUP" --nsg-name "$NSG" \
    --name "$RULE_NAME" || log "could not delete NSG rule $RULE_NAME: delete it by hand"
  RULE_ADDED=0
}

stop_chaos() {
  ((CHAOS_STARTED)) || return 0
  chaos DELETE /chaos >/dev/null || true
  CHAOS_STARTED=0
}

step "1. resolve the deployment"
resolve_app
NSG=$(output nsgName)
SOURCE_PREFIX=$(output acaSubnetPrefix)
REDIS_PREFIX=$(output privateEndpointSubnetPrefix)

step "2. baseline: /health should answer 200"
probe /health >/dev/null

step "3. deny TCP $REDIS_PORT from $SOURCE_PREFIX to $REDIS_PREFIX"
at_exit remove_rule
RULE_ADDED=1
run az network nsg rule create --resource-group "$RESOURCE_GROUP" --nsg-name "$NSG" \
  --name "$RULE_NAME" --priority "$RULE_PRIORITY" --direction Outbound --access Deny \
  --protocol Tcp --source-address-prefixes "$SOURCE_PREFIX" --source-port-ranges '*' \
  --destination-address-prefixes "$REDIS_PREFIX" --destination-port-ranges "$REDIS_PORT" \
  --description 'chaoslab network-block scenario; safe to delete'

step "4. force a reconnect ($RECONNECT): existing flows survive a new NSG rule"
case $RECONNECT in
  restart)
    REVISION=$(latest_revision)
    run az containerapp revision restart --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
      --revision "$REVISION"
    ;;
  chaos)
    at_exit stop_chaos
    CHAOS_STARTED=1
    chaos POST /chaos/redis "{\"mode\":\"blackhole\",\"duration_seconds\":$BLOCK_SECONDS}" >/dev/null
    ;;
  none) note "no reconnect: the open connection may keep working for a while" ;;
esac

step "5. watch /health while Redis is blocked (expect 503 within about 1s, or no ready replica)"
observe "$BLOCK_SECONDS" /health
dry || ((BAD_COUNT > 0)) || log "warning: /health never failed; the old connection probably survived (try --reconnect chaos)"

step "6. remove the rule and watch recovery"
stop_chaos
remove_rule
wait_for_ok "$RECOVER_SECONDS" /health
