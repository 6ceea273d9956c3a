#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Scenario 3, failing deployment: update the app container to an image tag
# that does not exist. In single revision mode the platform keeps the old
# revision serving until a new one is ready, and this one never is: GET /
# must keep answering 200 while the new revision fails to pull its image.
# Roll-back (clean-up, also on failure): deactivate the failed revision and
# put the original image back.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OBSERVE_SECONDS=120
SUFFIX=bad$(date -u +%H%M%S)

usage() {
  cat <<EOF
Usage: $(basename "$0") -g RG [--observe SECONDS] [--dry-run]

Deploy a revision whose 'app' image tag does not exist, show it failing while
GET / keeps answering 200 from the old revision, then roll back.

  --observe SECONDS   how long to watch the failing revision (default: $OBSERVE_SECONDS)

$(usage_common)
EOF
}

while (($#)); do
  case $1 in
    --observe) require_int "$1" "${2:-}"; OBSERVE_SECONDS=$2; shift 2 ;;
    *) parse_common "$@"; shift "$SHIFT" ;;
  esac
done
finish_setup

# The image reference without its tag or digest.
image_repository() {
  local image=${1%@*}
  [[ ${image##*/} == *:* ]] && image=${image%:*}
  printf '%s\n' "$image"
}

revisions() {
  run az containerapp revision list --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" --all \
    --query '[].{name:name, active:properties.active, health:properties.healthState, provisioning:properties.provisioningState, running:properties.runningState, traffic:properties.trafficWeight}' \
    --output table || true
}

DEPLOYED=0
rollback() {
  ((DEPLOYED)) || return 0
  run az containerapp revision deactivate --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
    --revision "$APP_NAME--$SUFFIX" || log "could not deactivate $APP_NAME--$SUFFIX (maybe never created)"
  run az containerapp update --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
    --container-name app --image "$ORIGINAL_IMAGE" --revision-suffix "rollback${SUFFIX#bad}" ||
    log "roll-back failed: run 'az containerapp update --container-name app --image $ORIGINAL_IMAGE'"
  revisions
  DEPLOYED=0
}

step "1. resolve the deployment and the serving image"
resolve_app
ORIGINAL_IMAGE=$(query '<registry>/chaoslab-app:<tag>' az containerapp show \
  --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
  --query "properties.template.containers[?name=='app'].image | [0]" --output tsv)
[[ -n $ORIGINAL_IMAGE ]] || die "no container named 'app' in $APP_NAME"
BAD_IMAGE=$(image_repository "$ORIGINAL_IMAGE"):chaoslab-missing-$SUFFIX
log "serving image: $ORIGINAL_IMAGE; bad image: $BAD_IMAGE"
revisions

step "2. deploy revision $APP_NAME--$SUFFIX with the missing image"
at_exit rollback
DEPLOYED=1
run az containerapp update --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
  --container-name app --image "$BAD_IMAGE" --revision-suffix "$SUFFIX" --no-wait

step "3. GET / must keep answering 200 (old revision) while the new one fails"
observe "$OBSERVE_SECONDS" /
revisions
run az containerapp logs show --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
  --revision "$APP_NAME--$SUFFIX" --type system --tail 20 || true
dry || ((BAD_COUNT == 0)) || die "GET / failed $BAD_COUNT times while the bad revision was deployed"

step "4. roll back"
rollback
wait_for_ok "$OBSERVE_SECONDS" /
