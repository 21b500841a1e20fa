#!/usr/bin/env bash
# Several boardcast instances on one PostgreSQL (issue 12's targets), beside the same
# measures on one embedded-SQLite instance and nchan, in one run:
#   1. durable creates/s with 64 writers, on one board and over 20 boards, and over 20
#      boards the CPU a create costs the instances and PostgreSQL;
#   2. create latency at a fixed 500/s and 2,000/s;
#   3. write→deliver latency at 500 and 2,000 writes/s, written on instance A, delivered
#      by B (beside: one SQLite instance, and nchan publishing to its own subscribers);
#   4. commit latency at 500 writes/s with 1, 2 and 3 instances running;
#   5. the soak: 10^5 events over 20 boards, 1,000 SSE subscribers over two instances,
#      2,000 streams cut and resumed on the other instance: lost, duplicated, resets.
#
#   bench/cluster.sh [soak-events]      (default 100000)
#   SECTIONS="3 5" bench/cluster.sh     (only those sections)
#
# The reference for PostgreSQL is pgbench's simple-update run on the same server.
# Needs: a PostgreSQL server (BOARDCAST_BENCH_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432, a role that may create databases), psql, pgbench;
# for the nchan row, nginx-light and libnginx-mod-nchan (apt; skipped without them).
set -euo pipefail
SOAK_EVENTS=${1:-100000}
cd "$(dirname "$0")/.."
# Progress on stderr (stdout is the results): a line per phase with the time so far;
# loadgen draws its own bars (or, off a terminal, plain lines) inside each phase.
START=$SECONDS LAST=$SECONDS
phase() {
  printf '== phase: %s (%ds in, last phase %ds)\n' "$*" "$((SECONDS - START))" "$((SECONDS - LAST))" >&2
  LAST=$SECONDS
}
SERVER=${BOARDCAST_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
phase "build (release)"
cargo build --release --quiet -p boardcast -p loadgen
BIN=target/release
WORK=$(mktemp -d /tmp/boardcast-cluster.XXXXXX)
OUT="$WORK/results.txt"
PORTS=(7411 7412 7413)
DBNAME="boardcast_bench_$$"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  pkill -f "nginx -p $WORK/nginx" 2>/dev/null || true
  psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

want() { [[ " ${SECTIONS:-1 2 3 4 5} " == *" $1 "* ]]; }

say() { phase "$*"; printf '\n## %s\n' "$*" | tee -a "$OUT"; }

fresh_db() {
  psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" -c "CREATE DATABASE $DBNAME" >/dev/null
  DB="$SERVER/$DBNAME"
}

# A benchmark is thousands of connections and writes a second from one address
# (127.0.0.1): every connection cap and rate limit off (README, "Limits").
NO_LIMITS=(--max-connections 0 --max-connections-per-ip 0 --rate-mutations-per-user 0 --rate-mutations-per-ip 0
  --rate-streams-per-user 0 --rate-streams-per-ip 0)

start() { # index [database-url]
  local i=$1 url=${2:-$DB}
  "$BIN/boardcast" serve --listen "127.0.0.1:${PORTS[$i]}" --database-url "$url" --demo \
    --max-streams-per-user 1000000 "${NO_LIMITS[@]}" >"$WORK/instance$i.log" 2>&1 &
  PIDS[$i]=$!
  for _ in $(seq 100); do grep -q "accounts: " "$WORK/instance$i.log" 2>/dev/null && return; sleep 0.1; done
  echo "instance $i did not start:" >&2; cat "$WORK/instance$i.log" >&2; exit 1
}

stop_all() {
  for i in "${!PIDS[@]}"; do kill "${PIDS[$i]}" 2>/dev/null || true; wait "${PIDS[$i]}" 2>/dev/null || true; done
  PIDS=()
}

addr() { echo "127.0.0.1:${PORTS[$1]}"; }

make_token() { # alice's personal token, through instance 0
  local session
  session=$(curl -s -X POST "http://$(addr 0)/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"alice","password":"alice-demo-pw"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  TOKEN=$(curl -s -X POST "http://$(addr 0)/me/tokens" -H "Authorization: Bearer $session" \
    -H 'Content-Type: application/json' -d '{"name":"bench"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [ -n "$TOKEN" ] || { echo "could not make alice's token" >&2; exit 1; }
}

row() { # label json-line: one table row of a writes or fan-out report
  python3 - "$1" "$2" <<'PY' | tee -a "$OUT"
import json, sys
label, r = sys.argv[1], json.loads(sys.argv[2])
lat = r.get("latency_ms") or r.get("write_latency_ms")
rate = r.get("writes_per_sec") or r.get("deliveries_per_sec")
extra = ""
if "lost" in r:
    extra = f" · lost {r['lost']} · dup {r.get('duplicated', r.get('duplicated_or_out_of_order'))}"
print(f"| {label} | {rate:,.0f}/s | {lat['p50']:.2f} | {lat['p99']:.2f} | {lat['max']:.1f} |{extra}")
PY
}

# CPU seconds (utime + stime) so far of the instances and of every PostgreSQL process
# on this machine (the server under test is assumed local, as in every section here).
cpu_secs() { # prints "instances postgres"
  local hz inst=0 pg=0 pid t
  hz=$(getconf CLK_TCK)
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) && inst=$((inst + t))
  done
  for pid in $(pgrep -x postgres || true); do
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) && pg=$((pg + t))
  done
  echo "$((inst * 1000000 / hz)) $((pg * 1000000 / hz))"
}

# What a create cost in CPU, beside its row: µs of the instances' and of PostgreSQL's
# processes per write over the run that printed `line`.
cpu_per_write() { # label before-"inst pg" line
  local inst0 pg0 inst1 pg1 n
  read -r inst0 pg0 <<<"$2"
  read -r inst1 pg1 <<<"$(cpu_secs)"
  n=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r.get("events") or r.get("writes") or 0)' "$3")
  [ "$n" -gt 0 ] && printf '%s: CPU per create: instances %d µs, PostgreSQL %d µs\n' "$1" \
    $(((inst1 - inst0) / n)) $(((pg1 - pg0) / n)) >>"$WORK/cpu.txt"
}

writes() { # label addrs rate count [concurrency]
  local line
  phase "writes: $1"
  line=$("$BIN/loadgen" writes --addr "$2" --rate "$3" --count "$4" --concurrency "${5:-64}" --json)
  row "$1" "$line"
}

echo "# boardcast on PostgreSQL: $(date -u +%FT%TZ), $(nproc) cores, $(psql "$SERVER/postgres" -Atc 'select version()' | cut -d' ' -f1-2)" | tee "$OUT"

want 1 && {
say "1. durable creates, 64 writers (writes/s, latency ms p50 / p99 / max)"
echo "| setup | rate | p50 | p99 | max |" | tee -a "$OUT"; echo "|---|---|---|---|---|" | tee -a "$OUT"
rm -rf "$WORK/sqlite" && mkdir -p "$WORK/sqlite"
start 0 "$WORK/sqlite/bench.db"; writes "SQLite, 1 instance, one board" "$(addr 0)" 0 20000; stop_all
fresh_db; start 0; writes "PostgreSQL, 1 instance, one board" "$(addr 0)" 0 20000
make_token
phase "writes: PostgreSQL, 1 instance, 20 boards"
before=$(cpu_secs)
line=$("$BIN/loadgen" soak --addrs "$(addr 0)" --token "$TOKEN" --boards 20 --events 20000 --subscribers 0 --cycles 0 --json)
row "PostgreSQL, 1 instance, 20 boards" "$line"
cpu_per_write "PostgreSQL, 1 instance, 20 boards" "$before" "$line"
start 1
phase "writes: PostgreSQL, 2 instances, 20 boards"
before=$(cpu_secs)
line=$("$BIN/loadgen" soak --addrs "$(addr 0),$(addr 1)" --token "$TOKEN" --boards 20 --events 20000 --subscribers 0 --cycles 0 --json)
row "PostgreSQL, 2 instances, 20 boards" "$line"
cpu_per_write "PostgreSQL, 2 instances, 20 boards" "$before" "$line"
stop_all
# The reference: the same server running pgbench's simple-update transaction (BEGIN,
# UPDATE, SELECT, INSERT, END), 16 clients: what this machine's PostgreSQL commits
# per second durably, whoever the client is.
phase "reference: pgbench -N, 16 clients"
psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS ${DBNAME}_pgbench WITH (FORCE)" -c "CREATE DATABASE ${DBNAME}_pgbench" >/dev/null
pgbench -q -i -s 10 "$SERVER/${DBNAME}_pgbench" >/dev/null 2>&1
tps=$(pgbench -c 16 -j 2 -T 10 -N -M prepared "$SERVER/${DBNAME}_pgbench" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
lat=$(pgbench -c 16 -j 2 -T 5 -N -M prepared "$SERVER/${DBNAME}_pgbench" 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\).*/\1/p')
psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS ${DBNAME}_pgbench WITH (FORCE)" >/dev/null
printf '| reference: pgbench -N (simple update), 16 clients | %.0f/s | avg %s | | |\n' "$tps" "$lat" | tee -a "$OUT"
# Where a create's time goes on a machine where everything shares the cores: each
# round trip wakes two processes, so CPU per create tracks statements per create.
echo | tee -a "$OUT"; { cat "$WORK/cpu.txt" 2>/dev/null || true; } | tee -a "$OUT"
}

want 2 && {
say "2. create latency at a fixed rate (one board, 64 connections)"
echo "| setup | rate | p50 | p99 | max |" | tee -a "$OUT"; echo "|---|---|---|---|---|" | tee -a "$OUT"
fresh_db; start 0; writes "PostgreSQL, 1 instance, 500/s" "$(addr 0)" 500 10000
writes "PostgreSQL, 1 instance, 2,000/s" "$(addr 0)" 2000 20000; stop_all
}

want 3 && {
say "3. write→deliver (publish sent → event received), 100 SSE subscribers (deliveries/s, latency ms)"
echo "| setup | rate | p50 | p99 | max |" | tee -a "$OUT"; echo "|---|---|---|---|---|" | tee -a "$OUT"
fanout() { # label target sub-addr pub-addr [rate]
  local rate=${5:-2000}
  phase "fanout: $1"
  line=$("$BIN/loadgen" fanout --target "$2" --addr "$3" --publish-addr "$4" --transport sse --subscribers 100 \
    --events $((rate * 10)) --rate "$rate" --publishers 16 --size 200 --drain-secs 20 --bystander-hz 0 --json)
  row "$1" "$line"
}
rm -rf "$WORK/sqlite" && mkdir -p "$WORK/sqlite"
start 0 "$WORK/sqlite/bench.db"; fanout "SQLite, same instance, 2000/s" boardcast "$(addr 0)" "$(addr 0)"; stop_all
fresh_db; start 0; start 1
for rate in 500 2000; do
  fanout "PostgreSQL, same instance, $rate/s" boardcast "$(addr 0)" "$(addr 0)" "$rate"
  fanout "PostgreSQL, written on A, delivered by B, $rate/s" boardcast "$(addr 1)" "$(addr 0)" "$rate"
done
stop_all
if command -v nginx >/dev/null && [ -e /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
  mkdir -p "$WORK/nginx/tmp"
  nginx -p "$WORK/nginx/" -c "$PWD/bench/nchan.conf" >"$WORK/nginx/out.log" 2>&1 &
  sleep 0.5
  fanout "nchan (reference), one process, 2000/s" nchan 127.0.0.1:8090 127.0.0.1:8090
  kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
else
  echo "| nchan (reference) | not installed: apt-get install nginx-light libnginx-mod-nchan | | | |" | tee -a "$OUT"
fi
}

want 4 && {
say "4. commit latency at 500 writes/s, spread over the running instances"
echo "| instances | rate | p50 | p99 | max |" | tee -a "$OUT"; echo "|---|---|---|---|---|" | tee -a "$OUT"
for n in 1 2 3; do
  fresh_db
  addrs=""
  for i in $(seq 0 $((n - 1))); do start "$i"; addrs="$addrs${addrs:+,}$(addr "$i")"; done
  writes "$n" "$addrs" 500 10000 32
  stop_all
done
}

want 5 && {
say "5. soak: $SOAK_EVENTS events, 20 boards, 1,000 SSE subscribers on two instances, 2,000 cuts"
fresh_db; start 0; start 1; make_token
"$BIN/loadgen" soak --addrs "$(addr 0),$(addr 1)" --token "$TOKEN" --boards 20 --events "$SOAK_EVENTS" \
  --subscribers 1000 --cycles 2000 --cycle-ms 10 --json >"$WORK/soak.json"
python3 - "$WORK/soak.json" <<'PY' | tee -a "$OUT"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"writes {r['writes_per_sec']:,.0f}/s over {r['write_secs']:.1f} s; reconnects {r['reconnects']}; "
      f"deliveries expected {r['deliveries_expected']:,}; subscribers complete {r['deliveries_complete']}/{r['subscribers']}; "
      f"lost {r['lost']}, duplicated or out of order {r['duplicated_or_out_of_order']}, resets {r['resets']}")
PY
stop_all
}
phase "done"
echo; echo "results: $OUT"
