#!/usr/bin/env python3
"""The markdown tables of bench/compare.sh, from loadgen's JSON lines.

    compare_tables.py RESULTS.jsonl WRITES.jsonl PACED.jsonl [DISTINCT.jsonl]

RESULTS holds the back-to-back fan-out runs (SSE in every publish mode, WebSocket,
gRPC, mixed), PACED the 5 events/s runs, WRITES the write-throughput runs, DISTINCT
the WebSocket runs whose subscribers are each a viewer of their own.
"""
import json
import sys


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def ratio(b, n):
    return f"{b / n:.2f}×" if b is not None and n else "n/a"


def cpu_us(r):
    c = r.get("server_cpu")
    return c["us_per_delivery"] if c else None


def by_p99(r):
    b = r.get("bystander")
    return b["latency_ms"]["p99"] if b and b["count"] > b["errors"] else None


def fmt(v, spec=".1f"):
    return "n/a" if v is None else format(v, spec)


def overview(rows):
    """Every transport, kept-alive publishing: the table the earlier runs printed."""
    by = {(r["target"], r["transport"]): r for r in rows if r.get("publish_mode", "keepalive") == "keepalive"}
    print("\n| transport | server | connected | deliveries/s | p50 ms | p99 ms | max ms | lost | dup | RSS/idle conn |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (target, transport), r in by.items():
        rss = r["rss_idle_bytes_per_conn"]
        lat = r["latency_ms"]
        print(f"| {transport} | {target} | {r['connected']}/{r['subscribers']} | {r['deliveries_per_sec']:,.0f} | "
              f"{lat['p50']:.1f} | {lat['p99']:.1f} | {lat['max']:.1f} | {r['lost']} | {r['duplicated']} | "
              + (f"{rss / 1024:.1f} KiB |" if rss is not None else "n/a |"))
    print("\n| ratio (boardcast / nchan) | deliveries/s | p99 latency | memory/conn |")
    print("|---|---|---|---|")
    for transport in ("sse", "ws"):
        b, n = by.get(("boardcast", transport)), by.get(("nchan", transport))
        if b and n:
            print(f"| {transport} | {ratio(b['deliveries_per_sec'], n['deliveries_per_sec'])} | "
                  f"{ratio(b['latency_ms']['p99'], n['latency_ms']['p99'])} | "
                  f"{ratio(b['rss_idle_bytes_per_conn'], n['rss_idle_bytes_per_conn'])} |")


MODES = {
    "keepalive": "one kept-alive publisher",
    "fresh": "a new connection per publish",
    "concurrent": "8 kept-alive publishers at once",
}


def publish_modes(rows):
    """SSE in each publish mode, both servers side by side, with the ratios."""
    sse = {(r["target"], r.get("publish_mode", "keepalive")): r for r in rows if r["transport"] == "sse"}
    for mode, what in MODES.items():
        b, n = sse.get(("boardcast", mode)), sse.get(("nchan", mode))
        if not (b or n):
            continue
        print(f"\nSSE, publish mode **{mode}** ({what}):\n")
        print("| server | deliveries/s | p50 ms | p99 ms | lost | dup | publish conns | publish answer p50 / p99 / max ms "
              "| bystander p50 / p99 / max ms (n) | CPU µs/delivery | server cores busy |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in (n, b):
            if not r:
                continue
            lat, pub = r["latency_ms"], r["publish_latency_ms"]
            bys, cpu = r.get("bystander"), r.get("server_cpu")
            bys_cell = (f"{bys['latency_ms']['p50']:.1f} / {bys['latency_ms']['p99']:.1f} / "
                        f"{bys['latency_ms']['max']:.1f} ({bys['count']}"
                        + (f", {bys['errors']} failed)" if bys["errors"] else ")")) if bys else "n/a"
            print(f"| {r['target']} | {r['deliveries_per_sec']:,.0f} | {lat['p50']:.1f} | {lat['p99']:.1f} | "
                  f"{r['lost']} | {r['duplicated']} | {r['publish_connections']} | "
                  f"{pub['p50']:.2f} / {pub['p99']:.2f} / {pub['max']:.2f} | {bys_cell} | "
                  f"{fmt(cpu_us(r), '.2f')} | {fmt(cpu and cpu['cores_busy'], '.2f')} |")
        if b and n:
            print(f"| **boardcast ÷ nchan** | {ratio(b['deliveries_per_sec'], n['deliveries_per_sec'])} | | "
                  f"{ratio(b['latency_ms']['p99'], n['latency_ms']['p99'])} | | | | "
                  f"p99 {ratio(b['publish_latency_ms']['p99'], n['publish_latency_ms']['p99'])} | "
                  f"p99 {ratio(by_p99(b), by_p99(n))} | {ratio(cpu_us(b), cpu_us(n))} | |")


def paced(rows):
    print("\n| paced, 5 events/s | server | p50 ms | p90 ms | p99 ms | max ms | lost | dup | CPU µs/delivery |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lat = r["latency_ms"]
        print(f"| {r['transport']} | {r['target']} | {lat['p50']:.1f} | {lat['p90']:.1f} | {lat['p99']:.1f} | "
              f"{lat['max']:.1f} | {r['lost']} | {r['duplicated']} | {fmt(cpu_us(r), '.2f')} |")
    by = {(r["target"], r["transport"]): r for r in rows}
    for transport in ("sse", "ws"):
        b, n = by.get(("boardcast", transport)), by.get(("nchan", transport))
        if b and n:
            print(f"| {transport} | **boardcast ÷ nchan** | | | {ratio(b['latency_ms']['p99'], n['latency_ms']['p99'])} "
                  f"| | | | {ratio(cpu_us(b), cpu_us(n))} |")


def distinct(rows):
    if not rows:
        return
    print("\n| WebSocket, distinct viewers | connected | deliveries/s | p99 ms | lost | dup | presence msgs | presence bytes | bytes/join |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        joins = r["subscribers"] or 1
        print(f"| {r['target']} | {r['connected']}/{r['subscribers']} | {r['deliveries_per_sec']:,.0f} | "
              f"{r['latency_ms']['p99']:.1f} | {r['lost']} | {r['duplicated']} | {r['presence_messages']:,} | "
              f"{r['presence_bytes']:,} | {r['presence_bytes'] / joins:,.0f} |")


def writes(rows):
    print("\n| writes | via | rate | writes/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for w in rows:
        rate = "back to back" if not w["rate"] else f"{w['rate']:.0f}/s"
        print(f"| {w['count']} | {w['via']} | {rate} | {w['writes_per_sec']:,.0f} | {w['latency_ms']['p50']:.2f} | "
              f"{w['latency_ms']['p99']:.2f} |")


def main():
    results, writes_path, paced_path = sys.argv[1:4]
    rows = lines(results)
    overview(rows)
    publish_modes(rows)
    if len(sys.argv) > 4:
        distinct(lines(sys.argv[4]))
    paced(lines(paced_path))
    writes(lines(writes_path))


if __name__ == "__main__":
    main()
