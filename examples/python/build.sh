#!/usr/bin/env bash
# Builds the Python handler into target/examples/python/app.wasm with
# componentize-py, against wit/ (world chaoslab:sidecar/http-handler).
# spin.toml's build command then wraps it in the chaos layer.
#
# Env:
#   CHAOSLAB_PYTHON_VENV  virtualenv to create or reuse (default: examples/python/.venv)
#   PYTHON                interpreter for the venv (default: python3, >= 3.9)
# The venv is (re)installed only when requirements.txt changes, and the
# component rebuilt only when app.py, wit/ or the toolchain changed:
# componentize-py snapshots an initialised CPython, which takes ~15 s.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${CHAOSLAB_PYTHON_VENV:-$here/.venv}
requirements=$here/requirements.txt
out=$root/target/examples/python/app.wasm

# shellcheck source=scripts/lib/prereqs.sh
source "$root/scripts/lib/prereqs.sh"
ensure_venv "$venv" "$requirements"

if [[ -f $out && -z $(find "$here/app.py" "$root/wit" "$venv/.requirements.sha256" -newer "$out" -print -quit) ]]; then
  echo "build.sh: $out is up to date" >&2
  exit 0
fi
mkdir -p "$(dirname "$out")"
echo "build.sh: componentize-py -> $out" >&2
# A set VIRTUAL_ENV would put that venv's site-packages into the component.
(cd "$here" && env -u VIRTUAL_ENV "$venv/bin/componentize-py" --quiet -d "$root/wit" -w http-handler \
  componentize --python-path "$here" app -o "$out.partial")
mv "$out.partial" "$out"
