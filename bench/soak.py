"""Soak: N minutes of steady load on the recommended server; does anything grow or go wrong?

One server (`--server web1`: `python -m config.web`, uvicorn, one process, Redis for limits and
stream logs; or any name bench/common.py's `real_server` knows) streams paced generations (the
offline provider: 20 ms between chunks, a 201-chunk course) to `--users` simulated users, about
70% of one process's streaming capacity measured on this machine (bench/README.md). Each user
loops: connect with a session cookie, run one to three generations, close, pause. Of the
generations, `--cancel-pct` are cancelled after a few chunks and `--resume-pct` are left
mid-stream (the socket aborted) and resumed on a new socket from the last index seen; the rest
are read to `complete`.

Every `--sample-seconds` the server's RSS, open file descriptors and unfinished asyncio tasks
(written by the server itself: tests/e2e/serve.py, LECTERN_BENCH_TASKS_FILE) are sampled. At the
end: a table of samples, the growth of each after warm-up (`--warmup-minutes`) as max over the
value at the end of warm-up (target: within 10%), the server's error lines (target: none), and
every generation checked in the database: none left `streaming`, and as many `completed` and
`cancelled` messages as the clients saw `complete` and `cancelled` frames.

With `--provider gemini` the course comes from a fake Gemini server in its own process
(bench/upstream.py: the same 201 chunks, 20 ms apart, read by Lectern through AI_PROVIDER=gemini
and its real provider code), as in `bench.streaming --provider gemini`.

Usage: python -m bench.soak [--minutes 30] [--users 150] [--server web1] [--provider gemini]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CHUNK_SIZE,
    COURSE_PATH,
    Database,
    Workdir,
    add_common_args,
    add_provider_args,
    fmt,
    gemini_env,
    gemini_upstream,
    machine_busy_seconds,
    make_sessions,
    print_table,
    proc_cpu_seconds,
    proc_rss_kb,
    proc_tree,
    raise_nofile,
    real_server,
    server_overrides,
)
from bench.loadgen import frame_type, int_after
from bench.wsclient import LeanWebSocket, connect

FINAL = (b"complete", b"cancelled", b"error")


def open_files(pid: int) -> int:
    total = 0
    for member in proc_tree(pid):
        try:
            total += len(os.listdir(f"/proc/{member}/fd"))
        except (FileNotFoundError, PermissionError):
            continue
    return total


def server_tasks(path: Path) -> int:
    """Unfinished asyncio tasks of the server processes, from their latest lines."""
    latest: dict[str, int] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            pid, count = line.split()
            latest[pid] = int(count)
    return sum(latest.values())


class Tally:
    def __init__(self) -> None:
        self.frames: Counter[str] = Counter()  # final frames seen, by type
        self.started = 0
        self.resumed = 0
        self.cancel_sent = 0
        self.errors: Counter[str] = Counter()
        self.connections = 0


async def _next(ws: LeanWebSocket, timeout: float = 60) -> bytes:
    payload, _arrival, _compressed = await ws.recv(timeout)
    return payload


async def _open(port: int, cookie: str, tally: Tally) -> LeanWebSocket:
    ws = await connect("127.0.0.1", port, COURSE_PATH, headers={"Cookie": cookie})
    tally.connections += 1
    if frame_type(await _next(ws)) != b"auth_success":
        raise RuntimeError("no auth_success")
    return ws


async def _until_final(ws: LeanWebSocket) -> tuple[bytes, int]:
    last = -1
    while True:
        payload = await _next(ws)
        kind = frame_type(payload)
        if kind == b"streaming":
            last = int_after(payload, b'"index":')
        elif kind in FINAL:
            if kind == b"error":
                return kind + b":" + json.loads(payload).get("code", "").encode(), last
            return kind, last


async def one_generation(
    port: int, cookie: str, ws: LeanWebSocket, n: int, args: argparse.Namespace, tally: Tally
) -> LeanWebSocket:
    """Run one generation on `ws`; return the socket to go on with (a new one after a resume)."""
    ws.send_text(json.dumps({"type": "message", "content": f"Soak course {n}"}))
    conversation = ""
    while not conversation:
        payload = await _next(ws)
        if frame_type(payload) == b"started":
            conversation = json.loads(payload)["conversation_id"]
        elif frame_type(payload) in FINAL:
            tally.errors[payload[:80].decode(errors="replace")] += 1
            return ws
    tally.started += 1
    roll = random.uniform(0, 100)
    if roll < args.cancel_pct + args.resume_pct:
        seen = -1
        for _ in range(random.randint(3, 60)):
            payload = await _next(ws)
            if frame_type(payload) != b"streaming":
                break
            seen = int_after(payload, b'"index":')
        if roll < args.cancel_pct:
            tally.cancel_sent += 1
            ws.send_text(json.dumps({"type": "cancel", "conversation_id": conversation}))
        else:  # leave mid-stream, come back on a new socket, resume from what was seen
            ws.abort()
            ws = await _open(port, cookie, tally)
            tally.resumed += 1
            ws.send_text(
                json.dumps({"type": "resume", "conversation_id": conversation, "after_index": seen})
            )
    final, _last = await _until_final(ws)
    tally.frames[final.decode()] += 1
    return ws


async def user(i: int, port: int, cookie: str, deadline: float, args: Any, tally: Tally) -> None:
    await asyncio.sleep(random.uniform(0, 10))  # ramp up over 10 s
    n = 0
    while time.monotonic() < deadline:
        ws = None
        try:
            ws = await _open(port, cookie, tally)
            for _ in range(random.randint(1, 3)):
                n += 1
                ws = await one_generation(port, cookie, ws, i * 100000 + n, args, tally)
                if time.monotonic() >= deadline:
                    break
            await ws.close()
        except Exception as exc:  # noted, and the user goes on: a soak must not stop
            tally.errors[type(exc).__name__ + ": " + str(exc)[:60]] += 1
            if ws is not None:
                ws.abort()
        await asyncio.sleep(random.uniform(0.1, 1.0))


async def drive(port: int, cookies: list[str], args: Any, tally: Tally, sample: Any) -> None:
    deadline = time.monotonic() + args.minutes * 60
    users = [
        asyncio.ensure_future(user(i, port, cookies[i % len(cookies)], deadline, args, tally))
        for i in range(args.users)
    ]
    while time.monotonic() < deadline:
        await asyncio.sleep(args.sample_seconds)
        sample()
    await asyncio.wait(users, timeout=120)
    for task in users:
        task.cancel()


def stored(server: Any) -> dict[str, int]:
    code = (
        "import json\n"
        "from django.db.models import Count\n"
        "from ai_chat.models import AIMessage\n"
        "rows = AIMessage.objects.filter(role='assistant').values('status')"
        ".annotate(n=Count('pk'))\n"
        "print(json.dumps({r['status']: r['n'] for r in rows}))\n"
    )
    result: dict[str, int] = json.loads(server.manage("shell", "-c", code).strip().splitlines()[-1])
    return result


def growth(values: list[float], warm: int) -> float:
    """Largest value after warm-up over the value at the end of warm-up, minus one."""
    after = values[warm:]
    if not after or not after[0]:
        return float("nan")
    return max(after) / after[0] - 1


def drift(values: list[float], warm: int, span: int = 5) -> float:
    """Mean of the last `span` samples over the mean of the first `span` after warm-up, minus
    one: a trend, where `growth` also counts the spread of a value that moves with the load (the
    tasks of the streams running at the sample)."""
    after = values[warm:]
    if len(after) < 2 * span:
        return float("nan")
    first = sum(after[:span]) / span
    return (sum(after[-span:]) / span) / first - 1 if first else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--users", type=int, default=150)
    parser.add_argument("--server", default="web1")
    parser.add_argument("--cancel-pct", type=float, default=10)
    parser.add_argument("--resume-pct", type=float, default=10)
    parser.add_argument("--sample-seconds", type=float, default=30)
    parser.add_argument("--warmup-minutes", type=float, default=3)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    add_common_args(parser)
    add_provider_args(parser)
    args = parser.parse_args()
    raise_nofile()
    tally = Tally()
    with (
        Workdir(args.keep, on_disk=args.on_disk) as workdir,
        Database(args.database, workdir) as database_url,
    ):
        tasks_file = workdir / "tasks.txt"
        upstream = gemini_upstream(workdir, args, 20) if args.provider == "gemini" else None
        try:
            server = real_server(
                args.server,
                workdir,
                database_url=database_url,
                LECTERN_BENCH_TASKS_FILE=str(tasks_file),
                **(gemini_env(upstream, args.gemini_reader) if upstream else {}),
                **server_overrides(args),
            )
        except BaseException:
            if upstream is not None:
                upstream.stop()
            raise
        server.upstream = upstream  # stopped with the server
        cookies = make_sessions(server, args.sessions)
        server.start()
        samples: list[dict[str, Any]] = []
        t0 = time.monotonic()
        last = {"t": t0, "cpu": proc_cpu_seconds(server.pid), "busy": machine_busy_seconds()}

        def sample() -> None:
            now, cpu, busy = time.monotonic(), proc_cpu_seconds(server.pid), machine_busy_seconds()
            span = now - last["t"]
            samples.append(
                {
                    "minute": (now - t0) / 60,
                    "rss_mb": proc_rss_kb(server.pid) / 1024,
                    "open_files": open_files(server.pid),
                    "tasks": server_tasks(tasks_file),
                    "server_cores": (cpu - last["cpu"]) / span,
                    "other_cores": (busy - last["busy"]) / span - (cpu - last["cpu"]) / span,
                    "generations": tally.started,
                    "client_errors": sum(tally.errors.values()),
                }
            )
            last.update(t=now, cpu=cpu, busy=busy)
            row = samples[-1]
            print(
                f"  {row['minute']:5.1f} min rss={row['rss_mb']:.1f} MB fds={row['open_files']}"
                f" tasks={row['tasks']} server={row['server_cores']:.2f}"
                f" other={row['other_cores']:.2f} generations={row['generations']}"
                f" client errors={row['client_errors']}",
                flush=True,
            )

        try:
            asyncio.run(drive(server.port, cookies, args, tally, sample))
            time.sleep(3)  # the last generations record their ends
            in_db = stored(server)
            errors = server.errors()
        finally:
            server.stop()
    warm = sum(1 for s in samples if s["minute"] <= args.warmup_minutes)
    warm = min(max(warm - 1, 0), max(len(samples) - 1, 0))
    print_table(
        f"Soak: {args.server}, {args.provider} provider, {args.users} users, {args.minutes:g} min, "
        f"{args.database} (samples every {args.sample_seconds:g} s)",
        ["minute", "RSS MB", "open files", "asyncio tasks", "server cores", "other cores",
         "generations started", "client errors"],
        [
            [fmt(s["minute"]), fmt(s["rss_mb"]), s["open_files"], s["tasks"],
             fmt(s["server_cores"], 2), fmt(s["other_cores"], 2), s["generations"],
             s["client_errors"]]
            for s in samples
        ],
    )  # fmt: skip
    finals = dict(tally.frames)
    rows = [
        *(
            [
                f"{label} after warm-up: max / first; last 5 / first 5",
                f"{100 * growth(values, warm):.1f} %; {100 * drift(values, warm):.1f} %",
            ]
            for label, values in (
                ("RSS", [s["rss_mb"] for s in samples]),
                ("open files", [s["open_files"] for s in samples]),
                ("asyncio tasks", [s["tasks"] for s in samples]),
            )
        ),
        ["generations started / final frames seen", f"{tally.started} / {finals}"],
        ["cancels sent / resumes", f"{tally.cancel_sent} / {tally.resumed}"],
        ["connections opened", tally.connections],
        ["stored assistant messages by status", json.dumps(in_db, sort_keys=True)],
        ["client errors", dict(tally.errors.most_common(5)) or 0],
        ["server error lines", errors.strip() or "none"],
    ]
    print_table("Soak: summary", ["measure", "value"], rows)


if __name__ == "__main__":
    main()
