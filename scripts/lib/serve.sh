# shellcheck shell=bash
# Waiting for a binary started with `--listen 127.0.0.1:0` to print its
# readiness line. Sourced by scripts/fuzz and scripts/profile.

# listening_url LOG PID WHO: prints the `http://ADDR` of the first
# "chaoslab listening on http://ADDR/" line of LOG, waiting up to 30 s;
# exits with LOG shown if PID dies first or the line never comes.
listening_url() {
  local log=$1 pid=$2 who=$3 url=""
  for _ in $(seq 300); do
    url=$(sed -n 's|^chaoslab listening on \(http://[^/]*\)/$|\1|p' "$log")
    [[ -n $url ]] && { echo "$url"; return 0; }
    kill -0 "$pid" 2>/dev/null || { echo "$who: chaoslab up exited before it was ready" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "$who: chaoslab up did not become ready" >&2
  cat "$log" >&2
  exit 1
}
