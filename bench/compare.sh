#!/usr/bin/env bash
# The fan-out comparison of boardcast and nchan in one run, side by side, plus
# boardcast's write throughput. Server pinned to core 0, generator to core 1; every
# scenario starts its server fresh (a new database, a new nchan channel).
#
#   bench/compare.sh [subscribers] [events]        (defaults: 10000 200)
#
# Needs: nginx-light and libnginx-mod-nchan (apt), a Rust toolchain.
set -euo pipefail
N=${1:-10000}
M=${2:-200}
cd "$(dirname "$0")/.."
# Progress on stderr (stdout is the results): a line per phase with the time so far;
# loadgen draws its own bars (or, off a terminal, plain lines) inside each phase.
START=$SECONDS LAST=$SECONDS
phase() {
  printf '== phase: %s (%ds in, last phase %ds)\n' "$*" "$((SECONDS - START))" "$((SECONDS - LAST))" >&2
  LAST=$SECONDS
}
phase "build (release)"
cargo build --release --quiet -p boardcast -p loadgen
BIN=target/release
WORK=$(mktemp -d)
RESULTS="$WORK/results.jsonl"
SOURCES=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5
PORT=3100
trap 'pkill -f "boardcast serve --listen 127.0.0.1:$PORT" || true; pkill -f "nginx -p $WORK/nginx" || true' EXIT

# The demo database every scenario starts from, and a personal API token of alice's in
# it, made once: signing in runs argon2, whose ~19 MiB a measured server would keep and
# hand to its first connections, hiding their memory. A token is checked by its hash.
prepare_template() {
  phase "template database and alice's API token"
  mkdir -p "$WORK/template"
  "$BIN/boardcast" serve --listen "127.0.0.1:$PORT" --database-url "$WORK/template/bench.db" --demo \
    >"$WORK/template.log" 2>&1 &
  local pid=$!
  for _ in $(seq 50); do grep -q "accounts: " "$WORK/template.log" 2>/dev/null && break; sleep 0.1; done
  local session
  session=$(curl -s -X POST "http://127.0.0.1:$PORT/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"alice","password":"alice-demo-pw"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  TOKEN=$(curl -s -X POST "http://127.0.0.1:$PORT/me/tokens" -H "Authorization: Bearer $session" \
    -H 'Content-Type: application/json' -d '{"name":"bench"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$TOKEN" ] || { echo "could not make alice's API token" >&2; exit 1; }
}

# A benchmark is thousands of connections and writes a second from one address
# (127.0.0.1): every connection cap and rate limit off (README, "Limits").
NO_LIMITS=(--max-connections 0 --max-connections-per-ip 0 --rate-mutations-per-user 0 --rate-mutations-per-ip 0
  --rate-streams-per-user 0 --rate-streams-per-ip 0)

start_boardcast() { # [keep]: reopen the existing database
  [ "${1:-}" = keep ] || { rm -rf "$WORK/db" && cp -r "$WORK/template" "$WORK/db"; }
  : >"$WORK/server.log"
  taskset -c 0 "$BIN/boardcast" serve --listen "127.0.0.1:$PORT" --database-url "$WORK/db/bench.db" \
    --demo --max-streams-per-user 1000000 "${NO_LIMITS[@]}" >"$WORK/server.log" 2>&1 &
  for _ in $(seq 50); do grep -q "accounts: " "$WORK/server.log" 2>/dev/null && break; sleep 0.1; done
  SERVER_PID=$(pgrep -f "boardcast serve --listen 127.0.0.1:$PORT")
}

stop_boardcast() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }

start_nchan() {
  rm -rf "$WORK/nginx" && mkdir -p "$WORK/nginx/tmp"
  taskset -c 0 nginx -p "$WORK/nginx/" -c "$PWD/bench/nchan.conf" >"$WORK/nginx/out.log" 2>&1 &
  for _ in $(seq 50); do SERVER_PID=$(pgrep -f "nginx: worker process" | head -1) && [ -n "$SERVER_PID" ] && break; sleep 0.1; done
}

stop_nchan() { kill "$(cat "$WORK/nginx/nginx.pid")"; sleep 0.5; }

fanout() { # target transport [events rate results]
  local target=$1 transport=$2 events=${3:-$M} rate=${4:-0} results=${5:-$RESULTS} addr extra=()
  phase "fanout: $target over $transport, $N subscribers, $events events at rate $rate"
  if [ "$target" = boardcast ]; then start_boardcast; addr=127.0.0.1:$PORT; extra=(--token "$TOKEN");
  else start_nchan; addr=127.0.0.1:8090; fi
  sleep 0.5
  taskset -c 1 "$BIN/loadgen" fanout --target "$target" --addr "$addr" --transport "$transport" \
    --subscribers "$N" --events "$events" --rate "$rate" --size 200 --server-pid "$SERVER_PID" \
    --sources "$SOURCES" "${extra[@]}" --json | tee -a "$results"
  if [ "$target" = boardcast ]; then stop_boardcast; else stop_nchan; fi
}

writes() { # via rate count [kill]
  phase "writes: $3 over $1 at rate $2${4:+, then kill -9 and restart}"
  start_boardcast
  taskset -c 1 "$BIN/loadgen" writes --addr "127.0.0.1:$PORT" --via "$1" --rate "$2" \
    --count "$3" --concurrency 64 --json | tee -a "$WORK/writes.jsonl"
  if [ "${4:-}" != kill ]; then stop_boardcast; return; fi
  # Durability: every acknowledged create (loadgen stops at the first failure) must
  # survive kill -9, with its event: 5 seeded tasks + count, and seq = count.
  kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  start_boardcast keep
  DURABLE=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/boards/board-1" |
    python3 -c 'import json,sys; b=json.load(sys.stdin); print(len(b["tasks"]), b["seq"])')
  echo "after kill -9 and restart: $1 acknowledged $3 creates; board-1 holds (tasks, seq) = ($DURABLE)" |
    tee "$WORK/durability.txt"
  stop_boardcast
}

prepare_template
for transport in sse ws; do
  fanout nchan "$transport"
  fanout boardcast "$transport"
done
fanout boardcast grpc
fanout boardcast mixed
# One event at a time (5/s): each fan-out on its own, no backlog from earlier events.
for transport in sse ws; do
  fanout nchan "$transport" 40 5 "$WORK/paced.jsonl"
  fanout boardcast "$transport" 40 5 "$WORK/paced.jsonl"
done
writes rest 0 20000 kill
writes grpc 0 20000
writes rest 2000 10000

phase "tables"
python3 - "$RESULTS" "$WORK/writes.jsonl" "$WORK/paced.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["target"], r["transport"]): r for r in rows}
print("\n| transport | server | connected | deliveries/s | p50 ms | p99 ms | max ms | lost | dup | RSS/idle conn |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (target, transport), r in by.items():
    rss = r["rss_idle_bytes_per_conn"]
    print(f"| {transport} | {target} | {r['connected']}/{r['subscribers']} | {r['deliveries_per_sec']:,.0f} | "
          f"{r['latency_ms']['p50']:.1f} | {r['latency_ms']['p99']:.1f} | {r['latency_ms']['max']:.1f} | "
          f"{r['lost']} | {r['duplicated']} | {rss/1024:.1f} KiB |" if rss is not None else "| n/a |")
print("\n| ratio (boardcast / nchan) | deliveries/s | p99 latency | memory/conn |")
print("|---|---|---|---|")
for transport in ("sse", "ws"):
    b, n = by.get(("boardcast", transport)), by.get(("nchan", transport))
    if b and n and n["deliveries_per_sec"] and n["latency_ms"]["p99"] and n["rss_idle_bytes_per_conn"]:
        print(f"| {transport} | {b['deliveries_per_sec']/n['deliveries_per_sec']:.2f}× | "
              f"{b['latency_ms']['p99']/n['latency_ms']['p99']:.2f}× | "
              f"{b['rss_idle_bytes_per_conn']/n['rss_idle_bytes_per_conn']:.2f}× |")
print("\n| paced, 5 events/s | server | p50 ms | p90 ms | p99 ms | max ms | lost | dup |")
print("|---|---|---|---|---|---|---|---|")
for l in open(sys.argv[3]):
    r = json.loads(l)
    lat = r["latency_ms"]
    print(f"| {r['transport']} | {r['target']} | {lat['p50']:.1f} | {lat['p90']:.1f} | {lat['p99']:.1f} | "
          f"{lat['max']:.1f} | {r['lost']} | {r['duplicated']} |")
print("\n| writes | via | rate | writes/s | p50 ms | p99 ms |")
print("|---|---|---|---|---|---|")
for l in open(sys.argv[2]):
    w = json.loads(l)
    rate = "back to back" if not w["rate"] else f"{w['rate']:.0f}/s"
    print(f"| {w['count']} | {w['via']} | {rate} | {w['writes_per_sec']:,.0f} | {w['latency_ms']['p50']:.2f} | {w['latency_ms']['p99']:.2f} |")
PY
cat "$WORK/durability.txt"
phase "done"
