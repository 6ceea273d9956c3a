# shellcheck shell=bash disable=SC2034  # SHIFT, DEPLOY_DIR, ...: read by the scripts that source this file
# Shared helpers of the chaoslab scenario scripts (sourced, never run).
#
# Each scenario: parse options -> read the deployment's outputs -> act ->
# observe -> undo. Every az/curl/locust command is echoed as "+ cmd" on
# stdout before it runs; under --dry-run it is only echoed, so a dry run needs
# neither az nor a network. Undo steps registered with `at_exit` run in
# reverse order when the script ends: on success, on failure and on Ctrl-C.

DRY_RUN=0
RESOURCE_GROUP=${CHAOSLAB_RESOURCE_GROUP:-}
DEPLOYMENT=${CHAOSLAB_DEPLOYMENT:-chaoslab}
APP_NAME=${CHAOSLAB_APP_NAME:-}
APP_URL=${CHAOSLAB_APP_URL:-}
CHAOS_TOKEN=${CHAOSLAB_CHAOS_TOKEN:-}
# Seconds between two polls of a watch loop, and the limit of one request.
POLL_SECONDS=${CHAOSLAB_POLL_SECONDS:-5}
HTTP_TIMEOUT=${CHAOSLAB_HTTP_TIMEOUT:-5}
SCENARIOS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEPLOY_DIR=$(dirname "$SCENARIOS_DIR")

_AT_EXIT=()
_QUIET=0

# fd 3 = the transcript (the script's stdout), still reachable inside $(...).
exec 3>&1

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
die_usage() { log "error: $*"; log "see --help"; exit 2; }
step() { printf '\n# %s\n' "$*" >&3; }
note() { printf '#   %s\n' "$*" >&3; }
dry() { ((DRY_RUN)); }

# Quote one word for copy-paste: bare when safe, otherwise in single quotes.
_quote() {
  local safe='^[A-Za-z0-9_./:=,@%+-]+$'
  if [[ $1 =~ $safe ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# show CMD...: echo a command to the transcript, the chaos token masked.
show() {
  ((_QUIET)) && return 0
  local line='+' word
  for word in "$@"; do line+=" $(_quote "$word")"; done
  if [[ -n $CHAOS_TOKEN && $CHAOS_TOKEN != '<chaos-token>' ]]; then
    line=${line//"$CHAOS_TOKEN"/***}
  fi
  printf '%s\n' "$line" >&3
}

# run CMD...: echo, then run unless --dry-run.
run() {
  show "$@"
  dry && return 0
  "$@"
}

# query PLACEHOLDER CMD...: echo, then run and print its output; under
# --dry-run print PLACEHOLDER instead, so the script can go on.
query() {
  local placeholder=$1
  shift
  show "$@"
  if dry; then
    printf '%s\n' "$placeholder"
    return 0
  fi
  "$@"
}

# at_exit FUNCTION: run FUNCTION when the script ends (last registered first).
# Each function must be safe to call when there is nothing left to undo.
at_exit() { _AT_EXIT+=("$1"); }

_on_exit() {
  local rc=$? i
  set +e
  trap - EXIT
  _QUIET=0
  if ((${#_AT_EXIT[@]})); then
    step "clean-up (runs on success and on failure; exit code so far: $rc)"
  fi
  # Each step in a subshell: one that fails or exits cannot skip the others.
  for ((i = ${#_AT_EXIT[@]} - 1; i >= 0; i--)); do
    ("${_AT_EXIT[i]}") || log "clean-up step ${_AT_EXIT[i]} failed"
  done
  exit "$rc"
}
trap _on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_tool() {
  dry && return 0
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH${2:+ ($2)}"
}

usage_common() {
  cat <<'EOF'
Common options:
  -g, --resource-group RG  resource group of the deployment (env CHAOSLAB_RESOURCE_GROUP)
  -d, --deployment NAME    deployment whose outputs name the resources (default: chaoslab;
                           env CHAOSLAB_DEPLOYMENT)
      --app NAME           container app name (default: output appName; env CHAOSLAB_APP_NAME)
      --url URL            app URL (default: output appUrl; env CHAOSLAB_APP_URL)
      --poll SECONDS       seconds between two polls (default: 5; env CHAOSLAB_POLL_SECONDS)
      --dry-run            print the commands, run none (needs neither az nor a network)
  -h, --help               this help
Env CHAOSLAB_CHAOS_TOKEN: bearer token of /chaos/* (the deployment's chaosToken).
EOF
}

# parse_common "$@": consume one common option and set SHIFT to the number of
# words used. Scripts define usage() and call this for options they don't own.
parse_common() {
  case $1 in
    -g | --resource-group | -d | --deployment | --app | --url | --poll)
      (($# >= 2)) || die_usage "$1 needs a value"
      case $1 in
        -g | --resource-group) RESOURCE_GROUP=$2 ;;
        -d | --deployment) DEPLOYMENT=$2 ;;
        --app) APP_NAME=$2 ;;
        --url) APP_URL=$2 ;;
        --poll) POLL_SECONDS=$2 ;;
      esac
      SHIFT=2
      ;;
    --dry-run) DRY_RUN=1 SHIFT=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown option: $1" ;;
  esac
}

# Check the common settings once options are parsed.
finish_setup() {
  if dry; then
    RESOURCE_GROUP=${RESOURCE_GROUP:-<resource-group>}
    CHAOS_TOKEN=${CHAOS_TOKEN:-<chaos-token>}
    log "dry run: nothing is executed; the commands follow"
  fi
  [[ -n $RESOURCE_GROUP ]] || die_usage "--resource-group is required"
  [[ $POLL_SECONDS =~ ^[0-9]+$ ]] || die_usage "--poll needs whole seconds"
  need_tool az "install the Azure CLI and run 'az login'"
  need_tool curl
}

require_int() { [[ $2 =~ ^[0-9]+$ ]] || die_usage "$1 needs whole seconds, got '$2'"; }

# output NAME: one output of the deployment (see deploy/azure/main.bicep).
output() {
  query "<$1>" az deployment group show --resource-group "$RESOURCE_GROUP" \
    --name "$DEPLOYMENT" --query "properties.outputs.$1.value" --output tsv
}

resolve_app() {
  [[ -n $APP_NAME ]] || APP_NAME=$(output appName)
  [[ -n $APP_URL ]] || APP_URL=$(output appUrl)
  APP_URL=${APP_URL%/}
  [[ -n $APP_NAME && -n $APP_URL ]] || die "deployment '$DEPLOYMENT' has no app yet (phase 1 only?)"
  log "app $APP_NAME at $APP_URL"
}

latest_revision() {
  query "<revision>" az containerapp show --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
    --query properties.latestRevisionName --output tsv
}

# restart_count REVISION: container restarts summed over the revision's replicas.
restart_count() {
  query 0 az containerapp replica list --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
    --revision "$1" --query 'sum([].properties.containers[].restartCount)' --output tsv
}

replica_count() {
  query 1 az containerapp replica list --resource-group "$RESOURCE_GROUP" --name "$APP_NAME" \
    --revision "$1" --query 'length(@)' --output tsv
}

# probe PATH [CURL ARGS...]: one request; prints "CODE SECONDS" (000 when no
# answer) and logs the first bytes of the body.
probe() {
  local path=$1 out status
  shift
  out=$(query '200 0.001' curl -sS -m "$HTTP_TIMEOUT" -w '\n%{http_code} %{time_total}' "$@" \
    "$APP_URL$path" 2>/dev/null) || true
  status=${out##*$'\n'}
  [[ $status =~ ^[0-9]{3}\  ]] || status='000 -'
  if [[ $out == *$'\n'* ]]; then log "$path -> $status ${out%$'\n'*}"; else log "$path -> $status"; fi
  printf '%s\n' "$status"
}

require_token() {
  [[ -n $CHAOS_TOKEN ]] || die_usage "set CHAOSLAB_CHAOS_TOKEN to the deployment's chaosToken"
}

# chaos METHOD PATH [JSON]: a /chaos/* control request with the bearer token.
chaos() {
  local args=(-X "$1" -H "Authorization: Bearer $CHAOS_TOKEN")
  if [[ -n ${3:-} ]]; then args+=(-H 'Content-Type: application/json' --data "$3"); fi
  probe "$2" "${args[@]}"
}

# observe SECONDS PATH: poll PATH for SECONDS; sets OK_COUNT and BAD_COUNT.
observe() {
  local seconds=$1 path=$2 end status
  OK_COUNT=0 BAD_COUNT=0
  if dry; then
    probe "$path" >/dev/null
    note "(repeated every ${POLL_SECONDS}s for ${seconds}s)"
    return 0
  fi
  end=$((SECONDS + seconds))
  while ((SECONDS < end)); do
    status=$(probe "$path")
    _QUIET=1
    if [[ $status == 200\ * ]]; then OK_COUNT=$((OK_COUNT + 1)); else BAD_COUNT=$((BAD_COUNT + 1)); fi
    sleep "$POLL_SECONDS"
  done
  _QUIET=0
  log "$path: $OK_COUNT answered 200, $BAD_COUNT did not, in ${seconds}s"
}

# wait_for_ok SECONDS PATH: poll until PATH answers 200; fails after SECONDS.
wait_for_ok() {
  local seconds=$1 path=$2 start=$SECONDS
  if dry; then
    probe "$path" >/dev/null
    note "(repeated every ${POLL_SECONDS}s until HTTP 200, at most ${seconds}s)"
    return 0
  fi
  until [[ $(probe "$path") == 200\ * ]]; do
    _QUIET=1
    if ((SECONDS - start >= seconds)); then
      _QUIET=0
      log "$path did not answer 200 within ${seconds}s"
      return 1
    fi
    sleep "$POLL_SECONDS"
  done
  _QUIET=0
  log "$path answers 200 again after $((SECONDS - start))s"
}
