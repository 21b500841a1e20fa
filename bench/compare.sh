#!/usr/bin/env bash
# The fan-out comparison of boardcast and nchan in one run, side by side, plus
# boardcast's write throughput. Server pinned to core 0, generator to core 1; every
# scenario starts its server fresh (a new database, a new nchan channel).
#
#   bench/compare.sh [subscribers] [events]        (defaults: 10000 200)
#   SCENARIOS="modes paced" bench/compare.sh       (only some scenarios)
#
# Scenarios: modes (SSE with the publisher kept alive, a fresh connection per publish,
# 8 kept-alive publishers: each for both servers), ws, ws-distinct (boardcast's
# WebSocket room with as many distinct viewers as subscribers: presence at scale),
# grpc, mixed, paced (5 events/s, SSE and WebSocket), writes. Every fan-out also reports the server's CPU per delivery
# and a bystander's fresh-connection requests (20/s) during publish and delivery.
#
# Needs: nginx-light and libnginx-mod-nchan (apt), a Rust toolchain.
set -euo pipefail
N=${1:-10000}
M=${2:-200}
SCENARIOS=${SCENARIOS:-modes ws ws-distinct grpc mixed paced writes}
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
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
touch "$RESULTS" "$WORK/writes.jsonl" "$WORK/paced.jsonl" "$WORK/distinct.jsonl" "$WORK/durability.txt"
SOURCES=127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5
PORT=3100
# On exit, whatever this script still runs, by pid (never by name: others may run
# servers on this machine).
SERVER_PID="" NGINX_PID=""
cleanup() {
  [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
  [ -z "$NGINX_PID" ] || kill "$NGINX_PID" 2>/dev/null || true
}
trap cleanup EXIT

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
  SERVER_PID=$! # taskset execs the server: this is its pid
  for _ in $(seq 50); do grep -q "accounts: " "$WORK/server.log" 2>/dev/null && break; sleep 0.1; done
}

stop_boardcast() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }

start_nchan() {
  rm -rf "$WORK/nginx" && mkdir -p "$WORK/nginx/tmp"
  taskset -c 0 nginx -p "$WORK/nginx/" -c "$PWD/bench/nchan.conf" >"$WORK/nginx/out.log" 2>&1 &
  NGINX_PID=$! # the master (daemon off); the measured process is its one worker
  for _ in $(seq 50); do SERVER_PID=$(pgrep -P "$NGINX_PID" | head -1) && [ -n "$SERVER_PID" ] && break; sleep 0.1; done
}

stop_nchan() { kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; SERVER_PID="" NGINX_PID=""; }

fanout() { # target transport [events rate results publish-mode loadgen-flag]
  local target=$1 transport=$2 events=${3:-$M} rate=${4:-0} results=${5:-$RESULTS} mode=${6:-keepalive} addr extra=()
  [ -z "${7:-}" ] || extra+=("$7")
  phase "fanout: $target over $transport, $N subscribers, $events events at rate $rate, publish mode $mode"
  if [ "$target" = boardcast ]; then start_boardcast; addr=127.0.0.1:$PORT; extra=(--token "$TOKEN");
  else start_nchan; addr=127.0.0.1:8090; fi
  sleep 0.5
  taskset -c 1 "$BIN/loadgen" fanout --target "$target" --addr "$addr" --transport "$transport" \
    --subscribers "$N" --events "$events" --rate "$rate" --size 200 --server-pid "$SERVER_PID" \
    --publish-mode "$mode" --bystander-hz 20 \
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
  # GET /boards/:id answers a page of tasks (500 by default): count every page.
  DURABLE=$(python3 - "$PORT" "$TOKEN" <<'PY'
import json, sys, urllib.parse, urllib.request
port, token = sys.argv[1:3]
tasks, page = 0, ""
while True:
    url = f"http://127.0.0.1:{port}/boards/board-1?limit=1000&pageToken={urllib.parse.quote(page)}"
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    board = json.load(urllib.request.urlopen(req))
    tasks += len(board["tasks"])
    page = board.get("nextPageToken") or ""
    if not page:
        break
print(tasks, board["seq"])
PY
)
  echo "after kill -9 and restart: $1 acknowledged $3 creates; board-1 holds (tasks, seq) = ($DURABLE)" |
    tee "$WORK/durability.txt"
  stop_boardcast
}

prepare_template
# SSE in each publish mode; the kept-alive run is also the overview table's SSE row.
if want modes; then
  for mode in keepalive fresh concurrent; do
    fanout nchan sse "$M" 0 "$RESULTS" "$mode"
    fanout boardcast sse "$M" 0 "$RESULTS" "$mode"
  done
fi
if want ws; then
  fanout nchan ws
  fanout boardcast ws
fi
# Every WebSocket subscriber a viewer of its own (a loopback guest): N joins in one
# room. nchan has no presence, so this row has no reference.
if want ws-distinct; then fanout boardcast ws "$M" 0 "$WORK/distinct.jsonl" keepalive --distinct-viewers; fi
if want grpc; then fanout boardcast grpc; fi
if want mixed; then fanout boardcast mixed; fi
# One event at a time (5/s): each fan-out on its own, no backlog from earlier events.
if want paced; then
  for transport in sse ws; do
    fanout nchan "$transport" 40 5 "$WORK/paced.jsonl"
    fanout boardcast "$transport" 40 5 "$WORK/paced.jsonl"
  done
fi
if want writes; then
  writes rest 0 20000 kill
  writes grpc 0 20000
  writes rest 2000 10000
fi

phase "tables"
python3 bench/compare_tables.py "$RESULTS" "$WORK/writes.jsonl" "$WORK/paced.jsonl" "$WORK/distinct.jsonl"
cat "$WORK/durability.txt"
phase "done"
