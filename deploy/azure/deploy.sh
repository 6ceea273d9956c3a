#!/usr/bin/env bash
# Deploy chaoslab to Azure in one command:
#   1. resource group;
#   2. main.bicep without images (phase 1): monitoring, network, identity,
#      registry, Azure Managed Redis, Container Apps environment;
#   3. images built in the registry by `az acr build` (no local Docker needed)
#      from deploy/docker/Dockerfile.app and Dockerfile.sidecar, unless
#      --app-image and --sidecar-image name existing images;
#   4. main.bicep again with both images (phase 2): the container app.
# Re-running it is safe: deployments are incremental.
# shellcheck source-path=SCRIPTDIR/../scenarios
set -euo pipefail
# shellcheck source=../scenarios/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scenarios/lib.sh"

AZURE_DIR=$DEPLOY_DIR/azure
REPO_ROOT=$(dirname "$DEPLOY_DIR")
LOCATION=${CHAOSLAB_LOCATION:-}
PREFIX=chaoslab
APP_IMAGE=
SIDECAR_IMAGE=
TAG=

usage() {
  cat <<EOF
Usage: $(basename "$0") -g RG -l LOCATION [--prefix NAME] [--tag TAG]
                 [--app-image IMAGE --sidecar-image IMAGE] [--dry-run]

Create or update the whole chaoslab deployment in resource group RG.
Needs CHAOSLAB_CHAOS_TOKEN (the bearer token the /chaos/* routes will accept),
e.g. export CHAOSLAB_CHAOS_TOKEN=\$(openssl rand -hex 32).

  -l, --location LOCATION  Azure region, e.g. swedencentral (env CHAOSLAB_LOCATION)
      --prefix NAME        resource name prefix (default: $PREFIX)
      --tag TAG            image tag to build (default: git commit, else a timestamp)
      --app-image IMAGE    use this app image instead of building one
      --sidecar-image IMAGE
                           use this sidecar image instead of building one

$(usage_common)
EOF
}

while (($#)); do
  case $1 in
    -l | --location | --prefix | --tag | --app-image | --sidecar-image)
      (($# >= 2)) || die_usage "$1 needs a value"
      case $1 in
        -l | --location) LOCATION=$2 ;;
        --prefix) PREFIX=$2 ;;
        --tag) TAG=$2 ;;
        --app-image) APP_IMAGE=$2 ;;
        --sidecar-image) SIDECAR_IMAGE=$2 ;;
      esac
      shift 2
      ;;
    *) parse_common "$@"; shift "$SHIFT" ;;
  esac
done
finish_setup
dry && LOCATION=${LOCATION:-<location>}
[[ -n $LOCATION ]] || die_usage "--location is required"
[[ -n $CHAOS_TOKEN ]] || die_usage "set CHAOSLAB_CHAOS_TOKEN"
[[ -n $APP_IMAGE && -n $SIDECAR_IMAGE || -z $APP_IMAGE && -z $SIDECAR_IMAGE ]] ||
  die_usage "give both --app-image and --sidecar-image, or neither"
if [[ -z $TAG ]]; then
  TAG=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || date -u +%Y%m%d%H%M%S)
fi

deploy() {
  run az deployment group create --resource-group "$RESOURCE_GROUP" --name "$DEPLOYMENT" \
    --template-file "$AZURE_DIR/main.bicep" --parameters "@$AZURE_DIR/main.parameters.json" \
    --parameters prefix="$PREFIX" chaosToken="$CHAOS_TOKEN" "$@" --output none
}

step "1. resource group"
run az group create --name "$RESOURCE_GROUP" --location "$LOCATION" --output none

step "2. infrastructure (phase 1)"
deploy

if [[ -z $APP_IMAGE ]]; then
  step "3. build the images in the registry"
  REGISTRY=$(output registryName)
  LOGIN_SERVER=$(output registryLoginServer)
  for part in app sidecar; do
    run az acr build --registry "$REGISTRY" --image "chaoslab-$part:$TAG" \
      --file "$DEPLOY_DIR/docker/Dockerfile.$part" "$REPO_ROOT"
  done
  APP_IMAGE=$LOGIN_SERVER/chaoslab-app:$TAG
  SIDECAR_IMAGE=$LOGIN_SERVER/chaoslab-sidecar:$TAG
fi

step "4. container app (phase 2)"
deploy appImage="$APP_IMAGE" sidecarImage="$SIDECAR_IMAGE"
log "app URL: $(output appUrl)"
