"""Burst throughput: chunks per second one server process delivers with an unpaced provider.

OFFLINE_CHUNK_DELAY_MS=0: the offline provider yields its ~200 chunks without sleeping. M
sessions (session-cookie auth) each run generations back to back (send `message`, read to
`complete`, repeat) for --duration seconds after --warmup; the client counts `streaming` frames
that arrive inside the window. Every generation is a full turn (conversation, user and assistant
messages, quota reservation and settlement in the database), as in production. The bare
`websockets` baseline does the same wire work without Django. Reported per server: chunks/s,
generations/s, the server's CPU (cores) and chunks per server CPU-second, and the ratio to the
baseline.

With `--provider gemini` the chunks come from a fake Gemini server in its own process
(bench/upstream.py) with no pause between them: Lectern reads it with AI_PROVIDER=gemini, the
baseline with a bare asyncio + json reader.

Usage: python -m bench.burst [--servers baseline,daphne,uvicorn] [--sessions 20] [--duration 10]
       [--provider offline|gemini]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    CHUNK_SIZE,
    COURSE_CONTENT,
    COURSE_PATH,
    Database,
    Sampler,
    Server,
    Workdir,
    add_common_args,
    add_provider_args,
    print_table,
    raise_nofile,
    run_client,
    start_generation_server,
)


def start(name: str, workdir: Path, args: argparse.Namespace) -> tuple[Server, list[str]]:
    return start_generation_server(name, workdir, args, delay_ms=0)


def measure(name: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    server, cookies = start(name, workdir, args)
    try:
        params = {
            "port": server.port,
            "path": COURSE_PATH,
            "n": args.sessions,
            "cookies": cookies,
            "content": COURSE_CONTENT,
            "duration": args.duration,
            "warmup": args.warmup,
        }
        run_client("burst", {**params, "n": 2, "duration": 1, "warmup": 0.2}, timeout=120)
        with Sampler(server.pid) as sampler:
            result = run_client("burst", params, timeout=args.duration + args.warmup + 180)
        window = result["window"]
        result["server_cores"] = sampler.cores(*window)
        result["other_cores"] = (
            sampler.machine_cores(*window) - result["server_cores"] - result["client_cores"]
        )
        result["server_rss_mb"] = sampler.peak_rss_mb()
    finally:
        server.stop()
    result["server"] = name
    print(
        f"  {name:>8}: {result['chunks_per_second']:,.0f} chunks/s, "
        f"{result['generations_per_second']:.1f} generations/s, "
        f"server {result['server_cores']:.2f} cores, client {result['client_cores']:.2f}, "
        f"other {result['other_cores']:.2f}, failures {result['failures']}",
        flush=True,
    )
    return result


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    base = next((r["chunks_per_second"] for r in rows if r["server"] == "baseline"), None)
    return print_table(
        f"Burst throughput ({args.provider} provider, unpaced, {args.sessions} sessions, "
        f"{args.duration:.0f} s)",
        [
            "server",
            "chunks/s",
            "generations/s",
            "server cores",
            "chunks per server CPU-s",
            "client cores",
            "other cores",
            "ratio to baseline",
        ],
        [
            [
                r["server"],
                r["chunks_per_second"],
                r["generations_per_second"],
                r["server_cores"],
                r["chunks_per_second"] / r["server_cores"],
                r["client_cores"],
                r["other_cores"],
                r["chunks_per_second"] / base if base else "-",
            ]
            for r in rows
        ],
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default="baseline,daphne,uvicorn")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE)
    add_common_args(parser)
    add_provider_args(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    raise_nofile()
    rows = []
    with (
        Workdir(args.keep, on_disk=args.on_disk) as workdir,
        Database(args.database, workdir) as url,
    ):
        args.database_url = url
        for name in args.servers.split(","):
            rows.append(measure(name, workdir, args))
    return {"rows": rows, "table": report(rows, args)}


if __name__ == "__main__":
    main()
