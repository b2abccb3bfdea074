#!/usr/bin/env bash
# Side-by-side HTTP load benchmark: Node-RED against Capsmith on the same small flow
#   POST JSON invoice -> JavaScript (price it, upper-case the vendor) -> field mapping -> JSON response
# Node-RED runs flows.json (settings.js); Capsmith runs bench-invoice.yaml. Each server is started
# alone on a free loopback port, checked with one request (the body must equal expected.json),
# warmed up, measured with wrk, and stopped before the next one starts.
#
# Usage (from anywhere):
#   bench/nodered/run.sh                                   # Node-RED only
#   CAPSMITH_SETUP_CMD='target/release/capsmith --home $TMP import bench/nodered/bench-invoice.yaml' \
#   CAPSMITH_SERVE_CMD='target/release/capsmith --home $TMP workflow serve bench-invoice --listen 127.0.0.1:$PORT' \
#   CAPSMITH_SECRET_CMD='target/release/capsmith --home $TMP workflow secret bench-invoice' \
#     bench/nodered/run.sh                                 # both, side by side (needs a keyring)
#
# Environment (defaults in brackets):
#   CAPSMITH_SERVE_CMD  command starting the Capsmith server; run by bash from the workspace root
#                       with $PORT (the port to listen on) and $TMP / $CAPSMITH_HOME (a fresh temp
#                       dir for its home) set; `{port}` and `{home}` are substituted too. Put it in
#                       single quotes so your shell does not expand $PORT/$TMP. Unset: Node-RED only.
#   CAPSMITH_SETUP_CMD  optional command run the same way (same $TMP) before the server starts,
#                       e.g. importing bench-invoice.yaml into the home.
#   CAPSMITH_SECRET_CMD optional command (run the same way, after setup) printing the webhook's
#                       secret; Capsmith's requests then carry `Authorization: Bearer <secret>`.
#   CAPSMITH_URL_PATH   [/hooks/bench-invoice] path the invoice is POSTed to on Capsmith
#   BENCH_THREADS [2]  BENCH_CONNECTIONS [32]  BENCH_DURATION [15s]  BENCH_WARMUP [5s]
#   BENCH_WRK_TIMEOUT [2s]  (wrk's per-request timeout; a timed-out request counts as an error)
#   READY_TIMEOUT [30]  seconds to wait for a server to answer
#   REPORT              [<workspace>/target/bench-nodered.md] markdown report; wrk's raw output
#                       goes beside it (<report>.nodered.wrk.txt, <report>.capsmith.wrk.txt)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-15s}
WARMUP=${BENCH_WARMUP:-5s}
WRK_TIMEOUT=${BENCH_WRK_TIMEOUT:-2s}
READY_TIMEOUT=${READY_TIMEOUT:-30}
CAPSMITH_URL_PATH=${CAPSMITH_URL_PATH:-/hooks/bench-invoice}
REPORT=${REPORT:-$ROOT/target/bench-nodered.md}
BODY="$HERE/invoice.json"
EXPECTED="$HERE/expected.json"
NODERED_PATH=/invoice
mkdir -p "$(dirname "$REPORT")"

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

for tool in node curl wrk setsid; do
  command -v "$tool" >/dev/null || die "$tool is not installed (wrk: apt-get install -y wrk)"
done
if [[ ! -f "$HERE/node_modules/node-red/red.js" ]]; then
  log "installing Node-RED (npm ci in $HERE)"
  (cd "$HERE" && npm ci --no-audit --no-fund >&2)
fi
NODERED_VERSION=$(node -p "require('$HERE/node_modules/node-red/package.json').version")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/capsmith-bench.XXXXXX")
SERVER_PID=""
SERVER_LOG=""

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local pid=$SERVER_PID
  SERVER_PID=""
  # Each server is its own process group (setsid): stop the group, then make sure.
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop_server
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start_server NAME DIR CMD... : runs CMD in DIR as a new process group, output to a log.
start_server() {
  local name=$1 dir=$2
  shift 2
  SERVER_LOG="$WORK/$name.log"
  (cd "$dir" && exec setsid "$@" >"$SERVER_LOG" 2>&1 </dev/null) &
  SERVER_PID=$!
}

server_died() {
  echo "--- last lines of the $1 log ($SERVER_LOG):" >&2
  tail -n 30 "$SERVER_LOG" >&2 || true
  die "$1 $2"
}

post() { # post URL -> writes the body to $WORK/resp.json, prints the HTTP status
  local auth=()
  [[ -z "${BENCH_AUTH:-}" ]] || auth=(-H "Authorization: $BENCH_AUTH")
  curl -sS -o "$WORK/resp.json" -w '%{http_code}' --max-time 5 "${auth[@]}" \
    -H 'Content-Type: application/json' --data-binary "@$BODY" "$1" 2>/dev/null || echo 000
}

wait_ready() { # wait_ready NAME URL
  local name=$1 url=$2 deadline=$((SECONDS + READY_TIMEOUT)) code
  while :; do
    kill -0 "$SERVER_PID" 2>/dev/null || server_died "$name" "exited before answering"
    code=$(post "$url")
    [[ "$code" != 200 ]] || return 0
    ((SECONDS < deadline)) || server_died "$name" "did not answer $url with HTTP 200 within ${READY_TIMEOUT}s (last: HTTP $code)"
    sleep 0.2
  done
}

check_body() { # check_body NAME URL : one request; the answer must be 200 with expected.json
  local name=$1 url=$2 code
  code=$(post "$url")
  if [[ "$code" != 200 ]] || ! node -e '
      const fs = require("fs");
      const canon = v => Array.isArray(v) ? v.map(canon)
        : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map(k => [k, canon(v[k])])) : v;
      const got = canon(JSON.parse(fs.readFileSync(process.argv[1], "utf8")));
      const want = canon(JSON.parse(fs.readFileSync(process.argv[2], "utf8")));
      process.exit(JSON.stringify(got) === JSON.stringify(want) ? 0 : 1);
    ' "$WORK/resp.json" "$EXPECTED" 2>/dev/null; then
    echo "--- POST $url answered HTTP $code with:" >&2
    head -c 2000 "$WORK/resp.json" >&2 || true
    echo >&2
    echo "--- expected: $(cat "$EXPECTED")" >&2
    server_died "$name" "gave a wrong answer to the check request"
  fi
  log "$name answers correctly: $(tr -d '\n' <"$WORK/resp.json")"
}

rss_mib() { # resident memory of the server's process group, MiB
  ps -o rss= -g "$SERVER_PID" 2>/dev/null | awk '{s+=$1} END {printf "%.0f", s/1024}'
}

# measure NAME URL : warm-up run, measured run; sets R_<field>_<NAME> from wrk's BENCH line
measure() {
  local name=$1 url=$2 raw="${REPORT%.md}.$1.wrk.txt" line kv
  log "$name: warm-up $WARMUP"
  BENCH_BODY="$BODY" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --timeout "$WRK_TIMEOUT" \
    -s "$HERE/post-invoice.lua" "$url" >"$WORK/$name.warmup.txt" 2>&1 || die "wrk warm-up failed: $(cat "$WORK/$name.warmup.txt")"
  log "$name: measuring $DURATION, $THREADS threads, $CONNECTIONS connections"
  BENCH_BODY="$BODY" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency \
    -s "$HERE/post-invoice.lua" "$url" >"$raw" 2>&1 || die "wrk failed: $(cat "$raw")"
  cat "$raw" >&2
  line=$(grep '^BENCH ' "$raw") || die "no summary line in $raw"
  for kv in ${line#BENCH }; do
    printf -v "R_${kv%%=*}_$name" '%s' "${kv#*=}"
  done
  printf -v "R_rss_$name" '%s' "$(rss_mib)"
  # The server must still be right after the load.
  check_body "$name" "$url"
}

# --- Node-RED ------------------------------------------------------------------------------
PORT=$(free_port)
mkdir -p "$WORK/node-red"
cp "$HERE/flows.json" "$WORK/node-red/flows.json"
log "starting Node-RED $NODERED_VERSION on 127.0.0.1:$PORT"
NODERED_PORT=$PORT NODERED_USER_DIR="$WORK/node-red" \
  start_server nodered "$HERE" node "$HERE/node_modules/node-red/red.js" -s "$HERE/settings.js"
URL="http://127.0.0.1:$PORT$NODERED_PATH"
wait_ready nodered "$URL"
check_body nodered "$URL"
measure nodered "$URL"
stop_server

# --- Capsmith ------------------------------------------------------------------------------
SIDES=(nodered)
if [[ -n "${CAPSMITH_SERVE_CMD:-}" ]]; then
  PORT=$(free_port)
  CHOME="$WORK/capsmith-home"
  mkdir -p "$CHOME"
  subst() { local c=${1//\{port\}/$PORT}; echo "${c//\{home\}/$CHOME}"; }
  if [[ -n "${CAPSMITH_SETUP_CMD:-}" ]]; then
    log "Capsmith setup: $(subst "$CAPSMITH_SETUP_CMD")"
    (cd "$ROOT" && PORT=$PORT TMP=$CHOME CAPSMITH_HOME=$CHOME bash -c "$(subst "$CAPSMITH_SETUP_CMD")" >&2) \
      || die "CAPSMITH_SETUP_CMD failed"
  fi
  # Capsmith's webhooks need the workflow's secret (kept in the OS keyring).
  if [[ -n "${CAPSMITH_SECRET_CMD:-}" ]]; then
    secret=$(cd "$ROOT" && CAPSMITH_HOME=$CHOME bash -c "$(subst "$CAPSMITH_SECRET_CMD")") \
      || die "CAPSMITH_SECRET_CMD failed"
    export BENCH_AUTH="Bearer $secret"
  fi
  log "starting Capsmith on 127.0.0.1:$PORT: $(subst "$CAPSMITH_SERVE_CMD")"
  PORT=$PORT TMP=$CHOME CAPSMITH_HOME=$CHOME \
    start_server capsmith "$ROOT" bash -c "$(subst "$CAPSMITH_SERVE_CMD")"
  URL="http://127.0.0.1:$PORT$CAPSMITH_URL_PATH"
  wait_ready capsmith "$URL"
  check_body capsmith "$URL"
  measure capsmith "$URL"
  stop_server
  unset BENCH_AUTH
  SIDES+=(capsmith)
else
  log "CAPSMITH_SERVE_CMD is not set: Node-RED only"
fi

# --- Report --------------------------------------------------------------------------------
get() { local v="R_$1_$2"; echo "${!v}"; }
ms() { awk -v u="$1" 'BEGIN {printf "%.2f ms", u/1000}'; }
rps() { awk -v r="$1" 'BEGIN {printf "%.0f", r}'; }
row() { # row LABEL FORMATTER FIELD
  local out="| $1 |" s
  for s in "${SIDES[@]}"; do out+=" $($2 "$(get "$3" "$s")") |"; done
  if ((${#SIDES[@]} == 2)); then
    out+=" $(awk -v a="$(get "$3" nodered)" -v b="$(get "$3" capsmith)" 'BEGIN {if (a > 0) printf "%.2f×", b/a; else printf "–"}') |"
  fi
  echo "$out"
}
plain() { echo "$1"; }
mib() { echo "$1 MiB"; }

{
  echo "# Node-RED vs Capsmith: POST JSON → JS → field mapping → JSON response"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(uname -sr)."
  echo "Node $(node --version), Node-RED $NODERED_VERSION; $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)."
  echo "Workspace commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')."
  echo
  echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION after a $WARMUP warm-up, on the same"
  echo "machine as the server (loopback), one server at a time; body \`bench/nodered/invoice.json\`"
  echo "($(wc -c <"$BODY" | tr -d ' ') bytes). Errors = socket errors + HTTP statuses ≥ 400."
  if [[ -z "${CAPSMITH_SERVE_CMD:-}" ]]; then
    echo
    echo "CAPSMITH_SERVE_CMD was not set: Node-RED only."
  fi
  echo
  header="| | Node-RED $NODERED_VERSION |"; sep="|---|---:|"
  if ((${#SIDES[@]} == 2)); then header+=" Capsmith | Capsmith / Node-RED |"; sep+="---:|---:|"; fi
  echo "$header"
  echo "$sep"
  row "requests/s" rps rps
  row "p50 latency" ms p50_us
  row "p90 latency" ms p90_us
  row "p99 latency" ms p99_us
  row "max latency" ms max_us
  row "requests" plain requests
  row "errors" plain errors
  row "server RSS after the run" mib rss
} >"$WORK/report.md"

cp "$WORK/report.md" "$REPORT"
echo
cat "$REPORT"
echo
log "report written to $REPORT"
