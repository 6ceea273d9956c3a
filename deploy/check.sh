#!/usr/bin/env bash
# Offline checks of deploy/, one entry point for CI and developers:
#   bash deploy/check.sh
# - Bicep templates parsed by a real Bicep grammar and checked for invariants;
# - scenario scripts: bash -n, shellcheck, --help, dry runs, clean-up on failure;
# - the Locust file against a stand-in of the app contract.
# Env:
#   CHAOSLAB_DEPLOY_VENV  virtualenv to create or reuse (default: deploy/.venv)
#   CHAOSLAB_URL          base URL of a running chaoslab (e.g. `chaoslab up`):
#                         also run loadtest/run-local.sh against it; any failed
#                         request fails the check
#   PYTHON                interpreter for the venv (default: python3, >= 3.10)
# Output ends with pytest's summary line; the exit code is non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv=${CHAOSLAB_DEPLOY_VENV:-$here/.venv}
requirements=("$here/tests/requirements.txt" "$here/loadtest/requirements.txt")

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "check.sh: FAILED: shellcheck is required (Debian: apt-get install -y shellcheck)" >&2
  exit 1
fi

# (Re)install only when the pinned requirements change.
stamp=$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || $(cat "$venv/.requirements.sha256" 2>/dev/null) != "$stamp" ]]; then
  echo "check.sh: installing pinned requirements into $venv" >&2
  "${PYTHON:-python3}" -m venv "$venv"
  pip_args=()
  for file in "${requirements[@]}"; do pip_args+=(-r "$file"); done
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_args[@]}"
  echo "$stamp" >"$venv/.requirements.sha256"
fi

status=0
if [[ -n ${CHAOSLAB_URL:-} ]]; then
  LOCUST=$venv/bin/locust bash "$here/loadtest/run-local.sh" || status=$?
  ((status == 0)) || echo "check.sh: FAILED: Locust against $CHAOSLAB_URL (exit $status)" >&2
fi

# pytest last, so that its summary line closes the output.
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests" || status=$?
exit "$status"
