# shellcheck shell=bash
# Installs what chaoslab needs and a fresh machine may lack. Sourced by
# scripts/up and scripts/test; every function is idempotent.

# Runs a command as root: directly when root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

# Installs Debian packages that are missing (apt-get update once per run).
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "chaoslab: please install: ${missing[*]} (no apt-get on this machine)" >&2
    return 1
  fi
  echo "chaoslab: installing ${missing[*]}" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The Rust toolchain and the wasm32-wasip2 target, both from rust-toolchain.toml.
ensure_rust() {
  if ! command -v rustup >/dev/null; then
    echo "chaoslab: rustup is required (https://rustup.rs)" >&2
    return 1
  fi
  # Install the toolchain rust-toolchain.toml names only if it is missing, so
  # a run never upgrades the compiler (and invalidates every build) by itself.
  rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install --no-self-update
  local target
  target=$(sed -n 's/^targets *= *\["\([^"]*\)".*/\1/p' rust-toolchain.toml)
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
}

# Clippy's lints run inside every build of the workspace's own crates:
# clippy-driver (the clippy component of rust-toolchain.toml) wraps rustc for
# workspace members only (cargo's RUSTC_WORKSPACE_WRAPPER, as `cargo clippy`
# itself does), so dependencies are compiled once — not again in check mode —
# and one set of artifacts serves `chaoslab up`, the tests and the lints. With
# `warnings = "deny"` in Cargo.toml a lint fails the build.
lint_while_building() {
  local driver
  driver="$(dirname "$(rustup which rustc)")/clippy-driver"
  [ -x "$driver" ] || { echo "chaoslab: clippy-driver missing: rustup component add clippy" >&2; return 1; }
  export RUSTC_WORKSPACE_WRAPPER="$driver"
}

# What native crates link against: OpenSSL (native-tls for rediss://, and
# azure_identity's HTTP client for Entra ID tokens), found with pkg-config.
ensure_native_deps() {
  apt_install pkg-config libssl-dev
}

# Python 3 with venv, for the Python example's toolchain (componentize-py,
# installed from PyPI into a venv by examples/python/build.sh).
ensure_python_venv() {
  command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null && return 0
  apt_install python3 python3-venv
}

# The Spin CLI the end-to-end cases under `spin up` run: $SPIN_BIN, else
# `spin` on PATH. Not installed here (no package registry has it): says how.
ensure_spin() {
  if [ -n "${SPIN_BIN:-}" ]; then
    [ -x "$SPIN_BIN" ] && return 0
    echo "chaoslab: SPIN_BIN=$SPIN_BIN is not an executable" >&2
    return 1
  fi
  command -v spin >/dev/null && return 0
  echo "chaoslab: the tests run the real Spin CLI too: set SPIN_BIN=/path/to/spin or put spin on PATH" \
    "(Spin 4.0.2 is the tested version: https://spinframework.dev/install; beside a chaoslab clone in CI," \
    "../shared/tools/spin/install DIR unpacks it)" >&2
  return 1
}

# ensure_venv DIR REQUIREMENTS...: a Python venv holding the pinned
# requirements, (re)installed only when the files change.
ensure_venv() {
  local venv=$1 stamp file
  shift
  stamp=$(cat "$@" | sha256sum | cut -d' ' -f1)
  [[ -x $venv/bin/python && $(cat "$venv/.requirements.sha256" 2>/dev/null) == "$stamp" ]] && return 0
  echo "chaoslab: installing pinned requirements into $venv" >&2
  "${PYTHON:-python3}" -m venv "$venv"
  local args=()
  for file in "$@"; do args+=(-r "$file"); done
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}"
  echo "$stamp" >"$venv/.requirements.sha256"
}

# redis-server, for the embedded default and for the tests.
ensure_redis_server() {
  command -v redis-server >/dev/null && return 0
  apt_install redis-server && return 0
  if command -v brew >/dev/null; then brew install redis && return 0; fi
  echo "chaoslab: redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), or set CHAOSLAB_REDIS_URL" >&2
  return 1
}
