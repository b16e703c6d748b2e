"""Connections: memory per authenticated idle connection held by one server process.

For each server (a fresh process each time): open and close a few connections (warm-up: lazy
imports, the per-loop runtime), wait, read the server's VmRSS ("before"); open N connections
with session-cookie auth (spread over several users) and wait for every `auth_success`; wait
--settle seconds, read VmRSS again ("after"); memory per connection = (after - before) / N.
Then check how many are still open and close them. The client offers permessage-deflate or
not (--deflate no,yes); the table says what each server answered (Sec-WebSocket-Extensions):
a server that accepts deflate keeps a zlib context per connection.

The load generator raises its own open-file limit (resource.setrlimit) up to the hard limit;
the servers inherit this process's limit, raised the same way before they start.

Usage: python -m bench.connections [--servers baseline,daphne,uvicorn] [--n 10000]
       [--deflate no,yes]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    COURSE_PATH,
    PYTHON,
    ROOT,
    Database,
    Server,
    Workdir,
    add_common_args,
    baseline_server,
    make_sessions,
    print_table,
    proc_threads,
    raise_nofile,
    real_server,
    run_client,
    server_overrides,
)


def start(name: str, workdir: Path, args: argparse.Namespace) -> tuple[Server, list[str]]:
    if name == "baseline":
        return baseline_server(workdir).start(), ["sessionid=baseline"]
    server = real_server(name, workdir, database_url=args.database_url, **server_overrides(args))
    cookies = make_sessions(server, args.users)
    return server.start(), cookies


def read_json_line(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"load generator ended: {proc.stderr.read()[-2000:] if proc.stderr else ''}"
            )
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no answer from the load generator in time")


def measure(name: str, deflate: bool, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    server, cookies = start(name, workdir, args)
    try:
        base = {
            "port": server.port,
            "path": COURSE_PATH,
            "cookies": cookies,
            "offer_deflate": deflate,
        }
        run_client("handshake", {**base, "total": 50, "concurrency": 10}, timeout=120)
        time.sleep(args.settle)
        before_kb, threads_before = server.rss_kb(), proc_threads(server.pid)
        proc = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "bench.loadgen",
                "idle",
                json.dumps({**base, "n": args.n, "connect_concurrency": args.concurrency}),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            ready = read_json_line(proc, timeout=args.n / 20 + 120)
            time.sleep(args.settle)
            after_kb, threads_after = server.rss_kb(), proc_threads(server.pid)
            assert proc.stdin is not None
            proc.stdin.write("close\n")
            proc.stdin.flush()
            closed = read_json_line(proc, timeout=args.n / 50 + 120)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
    finally:
        server.stop()
    opened = ready["opened"]
    row = {
        "server": name,
        "deflate_offered": deflate,
        "n": args.n,
        "opened": opened,
        "alive": closed["alive_at_close"],
        "errors": ready["errors"],
        "open_per_second": opened / ready["open_seconds"] if ready["open_seconds"] else 0,
        "rss_before_mb": before_kb / 1024,
        "rss_after_mb": after_kb / 1024,
        "kb_per_connection": (after_kb - before_kb) / opened if opened else float("nan"),
        "threads": f"{threads_before}→{threads_after}",
        "extensions": ", ".join(sorted(ready["extensions"])),
        "compressed_first_frames": ready["compressed_first_frames"],
    }
    print(
        f"  {name:>8} deflate offered={deflate}: {opened}/{args.n} open, {row['alive']} alive, "
        f"{row['kb_per_connection']:.1f} KiB/connection, extension: {row['extensions']}, "
        f"errors {row['errors']}",
        flush=True,
    )
    return row


def report(rows: list[dict[str, Any]]) -> str:
    return print_table(
        "Idle authenticated connections: server memory per connection",
        [
            "server",
            "deflate offered",
            "opened",
            "alive at end",
            "opened/s",
            "RSS before MiB",
            "RSS after MiB",
            "KiB per connection",
            "threads",
            "server's extension answer",
        ],
        [
            [
                r["server"],
                "yes" if r["deflate_offered"] else "no",
                r["opened"],
                r["alive"],
                r["open_per_second"],
                r["rss_before_mb"],
                r["rss_after_mb"],
                r["kb_per_connection"],
                r["threads"],
                r["extensions"],
            ]
            for r in rows
        ],
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default="baseline,daphne,uvicorn")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--deflate", default="no,yes", help="offer permessage-deflate: no,yes")
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes in flight")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--settle", type=float, default=3.0)
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    limit = raise_nofile()
    if limit < args.n + 1000:
        print(f"open-file limit is {limit}; {args.n} connections may not fit")
    rows = []
    with (
        Workdir(args.keep, on_disk=args.on_disk) as workdir,
        Database(args.database, workdir) as url,
    ):
        args.database_url = url
        for deflate in [d == "yes" for d in args.deflate.split(",")]:
            for name in args.servers.split(","):
                rows.append(measure(name, deflate, workdir, args))
    return {"rows": rows, "table": report(rows)}


if __name__ == "__main__":
    main()
