#!/usr/bin/env bash
# The marketplace benchmarks, side by side with Verdaccio in one run:
#   1. server: with N (100,000) capabilities published, wrk on loopback against
#      - one capability's metadata   GET /v1/capabilities/<id>   vs  Verdaccio  GET /<package>
#      - full-text search            GET /v1/capabilities?q=…    (Verdaccio has no equivalent at
#                                                                 this scale; reported alone)
#   2. client (criterion, crates/market/benches/market.rs): a full sync of the N listings into an
#      empty cache, an unchanged re-sync, offline search in the cache.
# Each server runs alone while it is measured. Results: target/bench-market.md (+ wrk's raw output
# beside it) and criterion's in target/criterion/market/.
#
# Usage: bench/market/run.sh        Environment: BENCH_N [100000]  BENCH_CONNECTIONS [16]
#   BENCH_THREADS [2]  BENCH_DURATION [10s]  BENCH_WARMUP [3s]  BENCH_SKIP_CLIENT [unset]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
N=${BENCH_N:-100000}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
THREADS=${BENCH_THREADS:-2}
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
REPORT=$ROOT/target/bench-market.md
DATA=$ROOT/target/bench-market-data-$N

die() { echo "run.sh: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }
for tool in node curl wrk python3 setsid; do
  command -v "$tool" >/dev/null || die "$tool is not installed (wrk: apt-get install -y wrk)"
done
[ -f "$HERE/node_modules/verdaccio/package.json" ] || (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error >&2)
VERDACCIO_VERSION=$(node -p "require('$HERE/node_modules/verdaccio/package.json').version")

cd "$ROOT"
log "building (release)"
cargo build --release -p capsmith-market --bin capsmith-market --example bench_seed --quiet
if [ ! -f "$DATA/.seeded" ]; then
  log "publishing $N capabilities into $DATA (once; kept for later runs)"
  rm -rf "$DATA"
  target/release/examples/bench_seed "$DATA" "$N"
  touch "$DATA/.seeded"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/capsmith-bench-market.XXXXXX")
PID=""
stop() { [ -n "$PID" ] && { kill -TERM -- "-$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; }; }
trap 'stop; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ready() { for _ in $(seq 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; die "no answer from $1"; }

# wrk: warm up, measure; print "rps p50 p99 errors" and keep the raw output.
measure() { # name url
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$2" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2" > "$REPORT.$1.wrk.txt"
  python3 - "$REPORT.$1.wrk.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(s):
    v, u = float(re.match(r"([\d.]+)", s).group(1)), re.search(r"(us|ms|s)$", s).group(1)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1)); p99 = ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
errs = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", t)) + sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
print(f"{rps:.0f} {p50:.3f} {p99:.3f} {errs}")
PY
}

log "Verdaccio $VERDACCIO_VERSION: one package's metadata"
mkdir -p "$WORK/verdaccio/storage"
cp "$HERE/verdaccio.yaml" "$WORK/verdaccio/config.yaml"
python3 "$HERE/make_packument.py" "$WORK/verdaccio/storage" >/dev/null
VPORT=$(free_port)
setsid node "$HERE/node_modules/verdaccio/bin/verdaccio" --config "$WORK/verdaccio/config.yaml" --listen "127.0.0.1:$VPORT" > "$WORK/verdaccio.log" 2>&1 &
PID=$!
ready "http://127.0.0.1:$VPORT/weather-lookup"
VSIZE=$(curl -fs "http://127.0.0.1:$VPORT/weather-lookup" | wc -c)
read -r V_RPS V_P50 V_P99 V_ERR < <(measure verdaccio "http://127.0.0.1:$VPORT/weather-lookup")
stop

log "capsmith-market: one capability's metadata and search, $N capabilities"
CPORT=$(free_port)
setsid target/release/capsmith-market serve --data "$DATA" --listen "127.0.0.1:$CPORT" > "$WORK/market.log" 2>&1 &
PID=$!
ready "http://127.0.0.1:$CPORT/v1/health"
ID=$(curl -fs "http://127.0.0.1:$CPORT/v1/capabilities?q=weather&per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
CSIZE=$(curl -fs "http://127.0.0.1:$CPORT/v1/capabilities/$ID" | wc -c)
read -r C_RPS C_P50 C_P99 C_ERR < <(measure detail "http://127.0.0.1:$CPORT/v1/capabilities/$ID")
HITS=$(curl -fs "http://127.0.0.1:$CPORT/v1/capabilities?q=weather+invoice" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
read -r S_RPS S_P50 S_P99 S_ERR < <(measure search "http://127.0.0.1:$CPORT/v1/capabilities?q=weather+invoice")
read -r B_RPS B_P50 B_P99 B_ERR < <(measure browse "http://127.0.0.1:$CPORT/v1/capabilities?category=Finance&sort=rating")
stop

RATIO=$(python3 -c "print(f'{$C_RPS / $V_RPS:.1f}')")
{
  echo "# Marketplace benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, $N capabilities)"
  echo
  echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION after a $WARMUP warm-up; each server alone; loopback."
  echo
  echo "| what | server | req/s | p50 ms | p99 ms | errors | body bytes |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  echo "| one package's metadata | Verdaccio $VERDACCIO_VERSION \`GET /weather-lookup\` | $V_RPS | $V_P50 | $V_P99 | $V_ERR | $VSIZE |"
  echo "| one capability's metadata | capsmith-market \`GET /v1/capabilities/$ID\` | $C_RPS | $C_P50 | $C_P99 | $C_ERR | $CSIZE |"
  echo "| full-text search ($HITS hits, page of 24) | capsmith-market \`?q=weather+invoice\` | $S_RPS | $S_P50 | $S_P99 | $S_ERR | |"
  echo "| browse a category by rating | capsmith-market \`?category=Finance&sort=rating\` | $B_RPS | $B_P50 | $B_P99 | $B_ERR | |"
  echo
  echo "capsmith-market / Verdaccio (metadata): ${RATIO}x the requests per second."
} > "$REPORT"
cat "$REPORT"

if [ -z "${BENCH_SKIP_CLIENT:-}" ]; then
  log "client: full sync, unchanged re-sync, offline search (criterion)"
  CAPSMITH_BENCH_MARKET_DATA="$DATA" cargo bench -p capsmith-market --bench market 2>&1 | tee "$REPORT.client.txt" | grep -E "^market/|time:"
fi
