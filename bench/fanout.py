"""Event fan-out of /ws/events/ across two daphne processes: latency, throughput, loss.

    .venv/bin/python -m bench.fanout --subscribers 1000 --layers pubsub,core

For each channel layer (CHANNEL_LAYER=pubsub: channels_redis.pubsub.RedisPubSubChannelLayer;
CHANNEL_LAYER=core: channels_redis.core.RedisChannelLayer), in turn:

1. flush Redis db --redis-db, migrate a fresh SQLite file, create one user and a course it
   owns, start two daphne processes (tests/e2e/server.py) on that file and that Redis db;
2. open --subscribers WebSocket connections (all the owner, one session cookie; the per-user
   connection limit is raised), half on each process, from --client-procs client processes
   (bench/wsclient.py's lean client), each subscribed to `course:<id>`;
3. latency: a publisher process (Django set up with the same DATABASE_URL / REDIS_URL /
   CHANNEL_LAYER, calling `realtime.publish.apublish_event`) sends --events events paced
   --interval-ms apart, each carrying its send time; every subscriber records receive time
   minus send time (p50 / p99 / max over all events x subscribers);
4. burst: --burst events published as fast as the publisher can; delivered frames per second
   across all subscribers (first publish to last arrival), events lost (expected minus
   delivered) and the seq gaps the subscribers saw (the per-room `seq` is what a real client
   uses to detect loss and re-sync).

Then one table, the layers side by side. Every process started here is stopped on exit
(normal end, exception, SIGINT or SIGTERM). Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_children: list[Any] = []  # LiveServers and multiprocessing.Process objects to stop on exit


# --- client processes --------------------------------------------------------------------------


class Sub:
    """One subscriber connection: counts, seq tracking and latencies of the event frames."""

    __slots__ = (
        "burst_start",
        "dupes",
        "gap_events",
        "gap_log",
        "last_arrival",
        "last_seq",
        "lat",
        "latencies",
        "missing",
        "n_burst",
        "n_lat",
        "offset",
        "others",
        "subscribed",
        "ws",
    )

    def __init__(self, lat: int, burst_start: int, offset: float, latencies: list[float]) -> None:
        self.lat, self.burst_start, self.offset = lat, burst_start, offset
        self.last_seq: int | None = None
        self.gap_events = self.missing = self.n_lat = self.n_burst = self.dupes = 0
        self.latencies = latencies
        self.last_arrival = 0.0
        self.ws: Any = None
        self.subscribed: asyncio.Future[dict[str, Any]] | None = None
        self.others: dict[str, int] = {}  # events other than ours, by event/action
        self.gap_log: list[tuple[int, int]] = []  # first few (last seq, seq) jumps

    def on_message(self, payload: bytes, now: float, compressed: bool) -> None:
        frame = json.loads(payload)
        kind = frame.get("type")
        if kind == "event":
            seq = frame["seq"]
            if self.last_seq is not None:
                if seq > self.last_seq + 1:
                    self.gap_events += 1
                    self.missing += seq - self.last_seq - 1
                    if len(self.gap_log) < 3:
                        self.gap_log.append((self.last_seq, seq))
                elif seq <= self.last_seq:
                    self.dupes += 1
            if self.last_seq is None or seq > self.last_seq:
                self.last_seq = seq
            body = frame.get("payload") or {}
            if frame.get("event") != "notification" or "n" not in body:
                key = f"{frame.get('event')}/{frame.get('action')}"
                self.others[key] = self.others.get(key, 0) + 1
            if frame.get("event") == "notification" and "n" in body:
                arrival = now + self.offset
                if body["n"] < 0:
                    return
                if body["n"] < self.burst_start:
                    self.n_lat += 1
                    self.latencies.append(arrival - body["t"])
                else:
                    self.n_burst += 1
                self.last_arrival = max(self.last_arrival, arrival)
        elif kind in ("subscribed", "error", "auth_success", "auth_error"):
            if kind == "subscribed" and self.last_seq is None:
                self.last_seq = frame["seq"]
            if (
                self.subscribed is not None
                and not self.subscribed.done()
                and kind != "auth_success"
            ):
                self.subscribed.set_result(frame)


def client_worker(conn: Any, targets: list[int], cookie: str, room: str, burst_start: int) -> None:
    """A client process: open one connection per entry of `targets` (a port), then serve the
    parent's commands ("stats", "close") over the pipe."""
    from bench.common import raise_nofile

    raise_nofile()
    asyncio.run(_client_main(conn, targets, cookie, room, burst_start))


async def _client_main(conn: Any, targets: list[int], cookie: str, room: str, burst_start: int):
    from bench.wsclient import connect

    offset = time.time() - time.monotonic()
    latencies: list[float] = []
    subs: list[Sub] = []
    errors: list[str] = []
    semaphore = asyncio.Semaphore(40)
    deadline = time.monotonic() + 180

    async def open_one(port: int) -> None:
        async with semaphore:
            if time.monotonic() > deadline:
                errors.append("deadline")
                return
            sub = Sub(0, burst_start, offset, latencies)
            sub.subscribed = asyncio.get_running_loop().create_future()
            try:
                sub.ws = await connect(
                    "127.0.0.1",
                    port,
                    "/ws/events/",
                    headers={"Cookie": cookie},
                    handler=sub.on_message,
                    timeout=60,
                )
                sub.ws.send_text(json.dumps({"type": "subscribe", "room": room}))
                answer = await asyncio.wait_for(sub.subscribed, 60)
                if answer.get("type") != "subscribed":
                    errors.append(json.dumps(answer)[:200])
                    sub.ws.abort()
                    return
                subs.append(sub)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    await asyncio.gather(*(open_one(port) for port in targets))
    conn.send({"ready": len(subs), "errors": errors[:5], "n_errors": len(errors)})
    for _ in range(100_000):  # bounded command loop
        command = await asyncio.to_thread(conn.recv)
        if command == "stats":
            conn.send(
                {
                    "subs": len(subs),
                    "n_lat": sum(s.n_lat for s in subs),
                    "n_burst": sum(s.n_burst for s in subs),
                    "gap_events": sum(s.gap_events for s in subs),
                    "missing": sum(s.missing for s in subs),
                    "dupes": sum(s.dupes for s in subs),
                    "subs_with_gaps": sum(1 for s in subs if s.gap_events),
                    "min_burst_per_sub": min((s.n_burst for s in subs), default=0),
                    "last_arrival": max((s.last_arrival for s in subs), default=0.0),
                    "closed": sum(1 for s in subs if not s.ws.is_open),
                    "other_events": sum(sum(s.others.values()) for s in subs),
                }
            )
        elif command == "debug":
            kinds: dict[str, int] = {}
            for s in subs:
                for k, v in s.others.items():
                    kinds[k] = kinds.get(k, 0) + v
            conn.send({"others": kinds, "gaps": [s.gap_log for s in subs if s.gap_log][:3]})
        elif command == "latencies":
            conn.send(latencies)
        elif command == "close":
            await asyncio.gather(*(s.ws.close(timeout=2) for s in subs), return_exceptions=True)
            conn.send("closed")
            return


# --- publisher process -------------------------------------------------------------------------


def publisher_worker(conn: Any, env: dict[str, str], room: str) -> None:
    """Django set up against the servers' database, Redis and layer; publishes on command."""
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    import logging

    logging.getLogger("channels_redis").setLevel(logging.WARNING)  # "over capacity" per send
    asyncio.run(_publisher_main(conn, room))


async def _publisher_main(conn: Any, room: str) -> None:
    from realtime.publish import apublish_event

    async def one(n: int) -> None:
        await apublish_event(
            room=room, event="notification", action="create", payload={"t": time.time(), "n": n}
        )

    await one(-1)  # warm the Redis connections and the layer (a seq the clients will see)
    conn.send("ready")
    for _ in range(1000):
        command = await asyncio.to_thread(conn.recv)
        if command[0] == "paced":
            _, start_n, count, interval = command
            began = time.monotonic()
            late = 0
            for i in range(count):
                delay = began + i * interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    late += 1
                await one(start_n + i)
            conn.send({"seconds": time.monotonic() - began, "late": late})
        elif command[0] == "burst":
            _, start_n, count = command
            began_wall, began = time.time(), time.monotonic()
            for i in range(count):
                await one(start_n + i)
            conn.send({"seconds": time.monotonic() - began, "began_wall": began_wall})
        elif command[0] == "stop":
            return


# --- orchestration -----------------------------------------------------------------------------


def _stop_all() -> None:
    for child in reversed(_children):
        try:
            if isinstance(child, mp.process.BaseProcess):
                if child.is_alive():
                    child.terminate()
                    child.join(5)
                    if child.is_alive():
                        child.kill()
                        child.join(2)
            else:
                child.stop()
        except Exception:
            pass
    _children.clear()


def _on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _cpu(pids: list[int]) -> float:
    from bench.common import proc_cpu_seconds

    total = 0.0
    for pid in pids:
        try:
            total += proc_cpu_seconds(pid)
        except OSError:
            pass
    return total


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * len(values) + 0.5) - 1))]


def _stats(pipes: list[Any]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for pipe in pipes:
        pipe.send("stats")
    for pipe in pipes:
        for key, value in pipe.recv().items():
            if key == "last_arrival":
                total[key] = max(total.get(key, 0.0), value)
            elif key == "min_burst_per_sub":
                total[key] = min(total.get(key, value), value)
            else:
                total[key] = total.get(key, 0) + value
    return total


def _settle(pipes: list[Any], key: str, expected: int, quiet: float, limit: float) -> dict:
    """Poll the clients until `key` reaches `expected`, stops growing for `quiet` s, or `limit`."""
    end = time.monotonic() + limit
    last, changed = -1, time.monotonic()
    while True:
        stats = _stats(pipes)
        now = time.monotonic()
        if stats[key] != last:
            last, changed = stats[key], now
        if stats[key] >= expected or now - changed > quiet or now > end:
            return stats
        time.sleep(0.25)


def run_layer(layer: str, args: argparse.Namespace) -> dict[str, Any]:
    import redis

    from bench.common import BENCH_LIMITS, BENCH_SECRET_KEY, machine_busy_seconds
    from tests.e2e.server import LiveServer, create_user, server_env, session_cookie

    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    redis.Redis.from_url(redis_url, socket_connect_timeout=2).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix=f"fanout-{layer}-"))
    env = server_env(
        tmp / "shared.sqlite3",
        REDIS_URL=redis_url,
        CHANNEL_LAYER=layer,
        SECRET_KEY=BENCH_SECRET_KEY,
        **{
            **BENCH_LIMITS,
            "MAX_CONNECTIONS_PER_USER": "100000",
            "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "1000000",
        },
    )
    a, b = LiveServer(env=env), LiveServer(env=env)
    a.manage("migrate", "--no-input", "-v0")
    create_user(a, "owner", "pw-owner-123")
    course = int(
        a.shell(
            "from courses.models import Course;from django.contrib.auth import get_user_model;"
            "u=get_user_model().objects.get(username='owner');"
            "print(Course.objects.create(owner=u, title='Fan-out').pk)"
        )
        .strip()
        .splitlines()[-1]
    )
    room = f"course:{course}"
    for server in (a, b):
        _children.append(server)
        server.start()
    cookie = session_cookie(a, "owner", "pw-owner-123")
    server_pids = [a.process.pid, b.process.pid]

    ctx = mp.get_context("spawn")
    publisher_pipe, child_end = ctx.Pipe()
    publisher = ctx.Process(target=publisher_worker, args=(child_end, env, room), daemon=True)
    _children.append(publisher)
    publisher.start()
    if not publisher_pipe.poll(60):
        raise RuntimeError("publisher did not start within 60 s")
    assert publisher_pipe.recv() == "ready"

    ports = [a.port if i % 2 == 0 else b.port for i in range(args.subscribers)]
    pipes, clients = [], []
    burst_start = 1_000_000
    t_open = time.monotonic()
    for k in range(args.client_procs):
        parent_end, child_end = ctx.Pipe()
        proc = ctx.Process(
            target=client_worker,
            daemon=True,
            args=(child_end, ports[k :: args.client_procs], cookie, room, burst_start),
        )
        _children.append(proc)
        proc.start()
        pipes.append(parent_end)
        clients.append(proc)
    ready, open_errors = 0, []
    for pipe in pipes:
        if not pipe.poll(240):
            raise RuntimeError("client processes did not open their connections within 240 s")
        answer = pipe.recv()
        ready += answer["ready"]
        open_errors += answer["errors"]
    open_seconds = time.monotonic() - t_open
    print(
        f"[{layer}] {ready}/{args.subscribers} subscribed in {open_seconds:.1f}s"
        + (f"; errors e.g. {open_errors[:2]}" if open_errors else ""),
        flush=True,
    )
    time.sleep(1.0)  # let the presence event and warm-up event drain
    client_pids = [p.pid for p in clients]

    # 1. latency, paced
    cpu0 = (_cpu(client_pids), _cpu(server_pids), machine_busy_seconds(), time.monotonic())
    publisher_pipe.send(("paced", 0, args.events, args.interval_ms / 1000))
    paced = publisher_pipe.recv()
    lat_stats = _settle(pipes, "n_lat", ready * args.events, quiet=3, limit=60)
    cpu1 = (_cpu(client_pids), _cpu(server_pids), machine_busy_seconds(), time.monotonic())
    latencies: list[float] = []
    for pipe in pipes:
        pipe.send("latencies")
        latencies += pipe.recv()
    print(
        f"[{layer}] latency phase: {lat_stats['n_lat']}/{ready * args.events} delivered", flush=True
    )

    # 2. burst, as fast as possible
    time.sleep(0.5)
    before = _stats(pipes)
    for pipe in pipes:
        pipe.send("debug")
    debug = [pipe.recv() for pipe in pipes]
    print(
        f"[{layer}] before burst: other events {[d['others'] for d in debug]}, "
        f"gaps e.g. {[d['gaps'] for d in debug]}",
        flush=True,
    )
    cpu2 = (_cpu(client_pids), _cpu(server_pids), machine_busy_seconds(), time.monotonic())
    publisher_pipe.send(("burst", burst_start, args.burst))
    burst = publisher_pipe.recv()
    burst_stats = _settle(pipes, "n_burst", ready * args.burst, quiet=3, limit=120)
    cpu3 = (_cpu(client_pids), _cpu(server_pids), machine_busy_seconds(), time.monotonic())
    delivered = burst_stats["n_burst"]
    span = max(burst_stats["last_arrival"] - burst["began_wall"], 1e-9)
    print(f"[{layer}] burst phase: {delivered}/{ready * args.burst} delivered", flush=True)

    publisher_pipe.send(("stop",))
    for pipe in pipes:
        pipe.send("close")
    for pipe in pipes:
        if pipe.poll(30):
            pipe.recv()
    _stop_all()

    def cores(x: tuple, y: tuple, i: int) -> float:
        return (y[i] - x[i]) / max(y[3] - x[3], 1e-9)

    lat_ms = [v * 1000 for v in latencies]
    return {
        "layer": layer,
        "subscribers": ready,
        "open_s": open_seconds,
        "lat_events": args.events,
        "lat_delivered": lat_stats["n_lat"],
        "lat_expected": ready * args.events,
        "lat_p50": _pct(lat_ms, 50),
        "lat_p99": _pct(lat_ms, 99),
        "lat_max": max(lat_ms) if lat_ms else float("nan"),
        "paced_late": paced["late"],
        "lat_client_cores": cores(cpu0, cpu1, 0),
        "lat_server_cores": cores(cpu0, cpu1, 1),
        "lat_machine_cores": cores(cpu0, cpu1, 2),
        "burst": args.burst,
        "publish_eps": args.burst / burst["seconds"],
        "delivered": delivered,
        "expected": ready * args.burst,
        "lost": ready * args.burst - delivered,
        "delivered_fps": delivered / span,
        "burst_span_s": span,
        "gap_events": burst_stats["gap_events"] - before["gap_events"],
        "seq_missing": burst_stats["missing"] - before["missing"],
        "subs_with_gaps": burst_stats["subs_with_gaps"],
        "subs_with_gaps_before": before["subs_with_gaps"],
        "lat_gap_events": before["gap_events"],
        "min_per_sub": burst_stats["min_burst_per_sub"],
        "dupes": burst_stats["dupes"],
        "burst_client_cores": cores(cpu2, cpu3, 0),
        "burst_server_cores": cores(cpu2, cpu3, 1),
        "burst_machine_cores": cores(cpu2, cpu3, 2),
    }


ROWS = [
    ("subscribers (subscribed)", "subscribers", "{:d}"),
    ("connect+subscribe time s", "open_s", "{:.1f}"),
    ("latency: events paced", "lat_events", "{:d}"),
    ("latency: paced sends behind schedule", "paced_late", "{:d}"),
    ("latency: delivered/expected", None, None),
    ("latency p50 ms", "lat_p50", "{:.1f}"),
    ("latency p99 ms", "lat_p99", "{:.1f}"),
    ("latency max ms", "lat_max", "{:.1f}"),
    ("latency: client CPU cores", "lat_client_cores", "{:.2f}"),
    ("latency: server CPU cores (2 procs)", "lat_server_cores", "{:.2f}"),
    ("latency: machine busy cores", "lat_machine_cores", "{:.2f}"),
    ("burst: events published", "burst", "{:d}"),
    ("burst: publish rate ev/s", "publish_eps", "{:.0f}"),
    ("burst: delivered/expected frames", None, None),
    ("burst: lost frames", "lost", "{:d}"),
    ("burst: delivered frames/s (all subs)", "delivered_fps", "{:.0f}"),
    ("burst: first publish -> last arrival s", "burst_span_s", "{:.2f}"),
    ("burst: seq gaps seen (gap events)", "gap_events", "{:d}"),
    ("burst: seq numbers missing", "seq_missing", "{:d}"),
    ("seq gaps seen before the burst", "lat_gap_events", "{:d}"),
    ("subscribers with a gap (cumulative)", "subs_with_gaps", "{:d}"),
    ("burst: fewest events one sub got", "min_per_sub", "{:d}"),
    ("burst: client CPU cores", "burst_client_cores", "{:.2f}"),
    ("burst: server CPU cores (2 procs)", "burst_server_cores", "{:.2f}"),
    ("burst: machine busy cores", "burst_machine_cores", "{:.2f}"),
]


def table(results: list[dict[str, Any]]) -> str:
    width = max(len(r[0]) for r in ROWS)
    lines = [
        "| " + "metric".ljust(width) + " | " + " | ".join(r["layer"] for r in results) + " |",
        "| " + "-" * width + " | " + " | ".join("-" * len(r["layer"]) for r in results) + " |",
    ]
    for label, key, fmt in ROWS:
        cells = []
        for r in results:
            if label.startswith("latency: delivered"):
                cells.append(f"{r['lat_delivered']}/{r['lat_expected']}")
            elif label.startswith("burst: delivered/"):
                cells.append(f"{r['delivered']}/{r['expected']}")
            else:
                cells.append(fmt.format(r[key]))
        lines.append("| " + label.ljust(width) + " | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description="Fan-out of /ws/events/ over two daphne processes: delivery latency, "
        "burst throughput and loss, per channel layer (pubsub vs core).",
    )
    parser.add_argument(
        "--subscribers",
        type=int,
        default=1000,
        help="WebSocket subscribers in course:<id>, split over 2 servers",
    )
    parser.add_argument("--events", type=int, default=200, help="paced events (latency)")
    parser.add_argument(
        "--interval-ms", type=float, default=20.0, help="pause between paced events"
    )
    parser.add_argument(
        "--burst", type=int, default=300, help="events published back to back (throughput, loss)"
    )
    parser.add_argument(
        "--layers", default="pubsub,core", help="comma-separated CHANNEL_LAYER values to compare"
    )
    parser.add_argument("--layer", dest="layers", help="one layer only (alias of --layers)")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes (1-4)")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=11,
        help="Redis db number on 127.0.0.1:6379, FLUSHED before each layer",
    )
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args(argv)
    layers = [x.strip() for x in args.layers.split(",") if x.strip()]
    if any(x not in ("pubsub", "core") for x in layers):
        parser.error("layers are pubsub and/or core")
    if not 1 <= args.client_procs <= 4 or not 1 <= args.subscribers <= 20_000:
        parser.error("--client-procs 1..4, --subscribers 1..20000")

    from bench.common import raise_nofile

    raise_nofile()
    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    results = []
    try:
        for layer in layers:
            results.append(run_layer(layer, args))
    finally:
        _stop_all()
    print()
    print(
        f"fan-out, {args.subscribers} subscribers over 2 daphne processes, "
        f"{args.client_procs} client processes, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
